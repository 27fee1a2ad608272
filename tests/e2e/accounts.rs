//! Several accounts in one scan: roles assumed from a scanner account, one account that
//! denies it, shards that split the accounts, and an organisation's member list.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::fixtures::small_account;
use crate::util::{self, Account, run_bin, temp_dir};

const ROLE: &str = "SageMakerAuditor";

/// The scanner role in `member`, trusting `trusted_account` (the scanner's, or another one to
/// make the assume-role fail as AWS does).
async fn scanner_role(member: &Account, trusted_account: &str) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{trusted_account}:root")},
        "Action": "sts:AssumeRole"}]});
    member
        .iam()
        .create_role()
        .role_name(ROLE)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("scanner role");
}

fn write_config(dir: &std::path::Path, body: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

fn scan_json(scanner: &Account, config: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["scan", "--config", config, "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run_bin(&args, &scanner.env());
    let report = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, report, err)
}

fn accounts_of(report: &Value) -> Vec<String> {
    report["scan"]["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("no scan.accounts in {report}"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn findings_of<'r>(report: &'r Value, account: &str) -> Vec<&'r Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account_id"] == account)
        .collect()
}

/// Three members: two trust the scanner, the third trusts someone else. The two are scanned
/// in full; the third reports ERROR for every check and nothing else about it.
#[tokio::test(flavor = "multi_thread")]
async fn one_denied_account_is_isolated_and_reported_as_error() {
    let scanner = util::account("000000000031").await;
    let ids = ["000000000032", "000000000033", "000000000034"];
    let mut domains = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (member, domain) = small_account(id).await;
        let trusted = if i == 2 { "000000000099" } else { &scanner.id };
        scanner_role(&member, trusted).await;
        domains.push(domain);
    }
    let dir = temp_dir("accounts-denied");
    let members: String = ids
        .iter()
        .map(|id| format!("[[accounts]]\nid = \"{id}\"\nrole_name = \"{ROLE}\"\n"))
        .collect();
    let config = write_config(
        &dir,
        &format!(
            "regions = [\"us-east-1\"]\nmax_attempts = 2\n[cloudtrail]\nenabled = false\n{members}"
        ),
    );
    let snapshot_path = dir.join("snapshot.json");
    let (code, report, err) = scan_json(
        &scanner,
        &config,
        &["--save-snapshot", snapshot_path.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(accounts_of(&report), ids);

    // The reachable accounts: their own domain, its public internet access found.
    for (id, domain) in ids.iter().zip(&domains).take(2) {
        let public: Vec<_> = findings_of(&report, id)
            .into_iter()
            .filter(|f| f["check_id"] == "domain_public_internet_access")
            .collect();
        assert_eq!(public.len(), 1, "{id}");
        assert_eq!(public[0]["status"], "FAIL");
        assert_eq!(public[0]["domain_id"], domain.as_str());
    }

    // The denied account: its AssumeRole error, and one ERROR per check covering all of it.
    let errors = report["scan"]["collection_errors"].as_array().unwrap();
    let denied: Vec<_> = errors
        .iter()
        .filter(|e| e["account_id"] == ids[2])
        .collect();
    assert_eq!(denied.len(), 1, "{errors:?}");
    assert_eq!(denied[0]["operation"], "AssumeRole");
    assert_eq!(denied[0]["error"], "access_denied");
    let third = findings_of(&report, ids[2]);
    let all_checks: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    let third_checks: BTreeSet<&str> = third
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    assert_eq!(third_checks, all_checks);
    assert_eq!(third.len(), all_checks.len());
    for f in &third {
        assert_eq!(f["status"], "ERROR", "{f}");
        assert_eq!(f["resource_type"], "account");
        assert_eq!(f["resource_arn"], format!("arn:*:*:*:{}:*", ids[2]));
        assert!(f["message"].as_str().unwrap().contains("AssumeRole"));
    }
    // Nothing of the other accounts is an account-wide ERROR.
    assert!(
        findings_of(&report, ids[0])
            .iter()
            .all(|f| f["resource_type"] != "account")
    );

    // Each role assumed once; the scanner's own account is not scanned.
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    assert_eq!(util::calls_in(&snapshot, "AssumeRole"), 3);
    let scanned: Vec<&str> = snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(scanned, &ids[..2]);

    // N replicas with --shard K/N cover every account exactly once, the denied one included.
    for n in [2u32, 3] {
        let mut seen: Vec<String> = Vec::new();
        for k in 1..=n {
            let shard = format!("{k}/{n}");
            let (code, report, err) = scan_json(&scanner, &config, &["--shard", &shard]);
            // A shard that holds none of the three is an empty report, not a failure.
            assert_eq!(code, 0, "{shard}: {err}");
            seen.extend(accounts_of(&report));
        }
        seen.sort();
        assert_eq!(seen, ids, "shards of {n}");
    }
}

/// `[organization]`: the member accounts come from Organizations, the management account is
/// excluded, and `regions = ["all"]` reads each account's enabled regions.
#[tokio::test(flavor = "multi_thread")]
async fn organization_members_in_all_their_regions() {
    let management = util::account("000000000035").await;
    let org = aws_sdk_organizations::Client::new(&management.sdk);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("organization");
    let mut members = Vec::new();
    for name in ["data-science", "research"] {
        let status = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("member account")
            .create_account_status
            .expect("status");
        let id = status.account_id().expect("account id").to_string();
        let (member, _) = small_account(&id).await;
        scanner_role(&member, &management.id).await;
        members.push(id);
    }
    members.sort();

    let dir = temp_dir("accounts-org");
    let config = write_config(
        &dir,
        &format!(
            "regions = [\"all\"]\nmax_attempts = 2\nconcurrency = 16\n[cloudtrail]\nenabled = false\n\
             [organization]\nrole_name = \"{ROLE}\"\nexclude = [\"{}\"]\n",
            management.id
        ),
    );
    let snapshot_path = dir.join("snapshot.json");
    let (code, report, err) = scan_json(
        &management,
        &config,
        &["--save-snapshot", snapshot_path.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(accounts_of(&report), members);
    assert!(
        report["scan"]["collection_errors"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        report["scan"]
    );
    let regions: Vec<&str> = report["scan"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(regions.len() > 10, "{regions:?}");
    assert!(regions.contains(&"us-east-1") && regions.contains(&"eu-west-1"));
    for id in &members {
        assert!(
            findings_of(&report, id)
                .iter()
                .any(|f| f["check_id"] == "domain_public_internet_access" && f["status"] == "FAIL"),
            "{id}"
        );
    }
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    let calls = |op: &str| util::calls_in(&snapshot, op);
    // Every call is declared: in the member policy, or the scanner's own (hub) policy.
    let declared: BTreeSet<&str> = sagemaker_auditor::collect::permissions::required_actions()
        .union(&sagemaker_auditor::collect::permissions::hub_actions())
        .copied()
        .collect();
    for c in snapshot["api_calls"].as_array().unwrap() {
        let action = sagemaker_auditor::collect::permissions::action_of(
            c["service"].as_str().unwrap(),
            c["operation"].as_str().unwrap(),
        );
        assert!(
            declared.contains(action.as_str()),
            "{action} called, not declared"
        );
    }
    assert_eq!(calls("ListAccounts"), 1);
    assert_eq!(calls("AssumeRole"), 2);
    assert_eq!(calls("DescribeRegions"), 2);
    assert_eq!(calls("ListDomains"), 2 * regions.len() as u64);
}

/// AWS throttling one account's AssumeRole for good: that account is reported unreachable
/// (throttling, after the retries) and the other is scanned as if nothing happened.
#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_account_does_not_hold_up_the_others() {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, mock};
    use aws_smithy_types::error::ErrorMetadata;
    use sagemaker_auditor::collect::{AwsClients, CollectOptions, collect};
    use sagemaker_auditor::config::{AccountTarget, AccountsConfig};
    use sagemaker_auditor::snapshot::ErrorKind;

    let scanner = util::account("000000000038").await;
    let ids = ["000000000039", "000000000040"];
    for id in ids {
        let (member, _) = small_account(id).await;
        scanner_role(&member, &scanner.id).await;
    }
    let throttled = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| {
            r.role_arn()
                .is_some_and(|arn| arn.contains(":000000000040:"))
        })
        .sequence()
        .error(|| {
            AssumeRoleError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let clients = AwsClients::new(scanner.sdk.clone()).with_interceptor(
        MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .allow_passthrough()
            .with_rule(&throttled),
    );
    let options = CollectOptions {
        regions: vec![util::REGION.into()],
        concurrency: 8,
        accounts: AccountsConfig {
            members: ids
                .iter()
                .map(|id| AccountTarget {
                    id: id.to_string(),
                    role_name: ROLE.into(),
                    external_id: None,
                })
                .collect(),
            ..AccountsConfig::default()
        },
        ..CollectOptions::default()
    };
    let s = collect(&clients, &options).await;

    assert_eq!(s.accounts.len(), 1);
    assert_eq!(s.accounts[0].account_id, ids[0]);
    assert_eq!(s.accounts[0].regions[0].domains.len(), 1);
    let unreachable = s.unreachable_accounts();
    assert_eq!(unreachable.keys().copied().collect::<Vec<_>>(), [ids[1]]);
    assert_eq!(unreachable[ids[1]][0].error, ErrorKind::Throttling);
    assert_eq!(s.collection_errors.len(), 1, "{:?}", s.collection_errors);
    // Retried up to the SDK's max attempts (2 in these tests), then given up.
    assert_eq!(throttled.num_calls(), 2);
}
