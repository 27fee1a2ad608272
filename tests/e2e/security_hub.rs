//! `[export.security_hub]` against the emulator's Security Hub, which judges
//! BatchImportFindings as AWS does (tests/emulator/server.py): each account's findings in
//! its own hub, a hub not enabled refused, one rejected finding in a batch, and the lifecycle
//! under the daemon (a fixed finding archived, its history's CreatedAt kept).

use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures::{Fixture, small_account};
use crate::util::{self, Account, REGION, run_bin, temp_dir};

const ROLE: &str = "SageMakerAuditor";
/// Findings of resources whose id contains this are rejected by the emulator's hub.
const REJECTED: &str = "emulator-reject-import";

fn hub(account: &Account) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::new(&account.sdk)
}

async fn enable_hub(account: &Account) {
    hub(account)
        .enable_security_hub()
        .send()
        .await
        .expect("enable Security Hub");
}

/// Every finding in the account's hub (GetFindings, all pages). Read on a thread with a
/// large stack: the SDK's AwsSecurityFinding (hundreds of nested optional shapes) overflows
/// a test thread's 2 MiB while it is deserialised in a debug build.
async fn hub_findings(account: &Account) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    let client = hub(account);
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut out = Vec::new();
                let mut token = None;
                loop {
                    let page = client
                        .get_findings()
                        .max_results(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .expect("GetFindings");
                    out.extend(page.findings().iter().cloned());
                    token = page
                        .next_token()
                        .filter(|t| !t.is_empty())
                        .map(String::from);
                    if token.is_none() {
                        return out;
                    }
                }
            })
        })
        .unwrap()
        .join()
        .unwrap()
}

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

/// A profile whose execution role does not exist (execution_role_missing FAILs on it),
/// named so that the emulator's hub rejects its findings.
async fn rejected_profile(account: &Account, domain: &str) {
    let f = Fixture::new(account);
    let missing = f.role_arn("service-role/no-such-role");
    f.profile(domain, REJECTED, Some(&missing), &[], vec![])
        .await;
}

fn state(f: &aws_sdk_securityhub::types::AwsSecurityFinding) -> (String, String) {
    (
        f.record_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        f.compliance()
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    )
}

/// Two members reached by role: one with Security Hub on (one of its findings is rejected),
/// one without. `scan` imports the first's findings into its own hub with its own account
/// id — FAIL, MUTED and ERROR active, PASS archived — reports the rest, and its report and
/// exit code are those of a scan without the export.
#[tokio::test(flavor = "multi_thread")]
async fn scan_imports_each_accounts_findings_into_its_own_hub() {
    let scanner = util::account("000000000051").await;
    let (on, on_domain) = small_account("000000000052").await;
    let (off, _) = small_account("000000000053").await;
    for member in [&on, &off] {
        scanner_role(member, &scanner.id).await;
    }
    enable_hub(&on).await;
    rejected_profile(&on, &on_domain).await;

    let dir = temp_dir("security-hub-scan");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "regions = [\"{REGION}\"]\nmax_attempts = 2\n[cloudtrail]\nenabled = false\n\
             [[accounts]]\nid = \"{}\"\nrole_name = \"{ROLE}\"\n\
             [[accounts]]\nid = \"{}\"\nrole_name = \"{ROLE}\"\n\
             [export.security_hub]\nenabled = true\n",
            on.id, off.id
        ),
    )
    .unwrap();
    let env: Vec<(&str, String)> = scanner
        .env()
        .into_iter()
        .chain([("RUST_LOG", "sagemaker_auditor=info".to_string())])
        .collect();
    let (code, out, err) = run_bin(
        &[
            "--log-format",
            "json",
            "scan",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let of_on: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account_id"] == on.id.as_str())
        .collect();
    let rejected: Vec<&&Value> = of_on
        .iter()
        .filter(|f| f["resource_arn"].as_str().unwrap().contains(REJECTED))
        .collect();
    assert!(
        rejected
            .iter()
            .any(|f| f["check_id"] == "execution_role_missing" && f["status"] == "FAIL"),
        "{rejected:#?}"
    );

    let imported = hub_findings(&on).await;
    assert_eq!(imported.len(), of_on.len() - rejected.len());
    let product = format!(
        "arn:aws:securityhub:{REGION}:{0}:product/{0}/default",
        on.id
    );
    for finding in &imported {
        assert_eq!(finding.aws_account_id(), Some(on.id.as_str()));
        assert_eq!(finding.product_arn(), Some(product.as_str()));
        assert!(!finding.resources()[0].id().unwrap().contains(REJECTED));
    }
    // Every finding of the report is there, in the state its status says.
    for f in of_on.iter().filter(|f| !rejected.contains(f)) {
        let id = format!(
            "sagemaker-auditor/{}/{}",
            f["check_id"].as_str().unwrap(),
            f["id"].as_str().unwrap()
        );
        let hub_finding = imported
            .iter()
            .find(|h| h.id() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not imported"));
        let expected = match f["status"].as_str().unwrap() {
            "PASS" => ("ARCHIVED", "PASSED"),
            "FAIL" | "MUTED" => ("ACTIVE", "FAILED"),
            _ => ("ACTIVE", "NOT_AVAILABLE"),
        };
        let (record, compliance) = state(hub_finding);
        assert_eq!((record.as_str(), compliance.as_str()), expected, "{id}");
    }

    // What did not go through is logged: the member without a hub, the rejected findings.
    assert!(
        err.contains(&format!(
            "Account {} is not subscribed to AWS Security Hub",
            off.id
        )),
        "{err}"
    );
    assert!(
        err.contains("rejected by the emulator's test knob"),
        "{err}"
    );
    let summary: Value = err
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("findings exported to Security Hub"))
        })
        .unwrap_or_else(|| panic!("no export summary in {err}"));
    let of_off = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account_id"] == off.id.as_str())
        .count();
    assert_eq!(summary["fields"]["imported"], imported.len());
    assert_eq!(summary["fields"]["failed"], rejected.len() + of_off);
    // Nothing was imported into the other account's hub once it is on either.
    enable_hub(&off).await;
    assert!(hub_findings(&off).await.is_empty());
}

/// The daemon keeps Security Hub in step with the history: a finding fixed is archived
/// (PASSED, ARCHIVED) with the CreatedAt of when it opened and the customer's workflow
/// untouched; a PASS that was never open is never sent; an archive Security Hub rejects is
/// kept and sent again at every scan (`export_pending_archives`).
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_archives_what_the_history_resolves() {
    let (account, domain) = small_account("000000000061").await;
    enable_hub(&account).await;
    rejected_profile(&account, &domain).await;
    let dir = temp_dir("security-hub-daemon");
    let port = util::free_port();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"regions = ["{REGION}"]
endpoint_url = "{}"
max_attempts = 2
schedule = "*/2 * * * * *"

[cloudtrail]
enabled = false

[output]
directory = "reports"

[serve]
listen = "127.0.0.1:{port}"
state_file = "state/history.db"

[export.security_hub]
"#,
            util::emulator().url
        ),
    )
    .unwrap();
    let daemon = util::serve(
        &config,
        &account,
        "sagemaker_auditor=info,warn",
        dir.join("daemon.log"),
    );
    util::wait_ready(port);
    let metric = |series: &str| -> Option<f64> {
        let (_, text) = util::http_get(port, "/metrics").ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };

    let public_id = |findings: &[aws_sdk_securityhub::types::AwsSecurityFinding]| {
        findings
            .iter()
            .find(|f| f.generator_id() == Some("sagemaker-auditor/domain_public_internet_access"))
            .cloned()
    };
    let mut opened = None;
    for _ in 0..60 {
        if let Some(f) = public_id(&hub_findings(&account).await) {
            opened = Some(f);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let opened = opened.expect("the public domain finding imported");
    assert_eq!(state(&opened), ("ACTIVE".into(), "FAILED".into()));
    // The daemon sends no PASS that was never open.
    let all = hub_findings(&account).await;
    assert!(
        all.iter().all(|f| state(f).0 == "ACTIVE"),
        "{:?}",
        all.iter().map(state).collect::<Vec<_>>()
    );
    let failed = r#"sagemaker_audit_export_failed_findings{destination="security_hub"}"#;
    assert!(
        metric(failed).is_some_and(|n| n >= 1.0),
        "the rejected profile's findings"
    );

    // Fix the domain; delete the rejected profile (its finding resolves by absence).
    account
        .sagemaker()
        .update_domain()
        .domain_id(&domain)
        .app_network_access_type(aws_sdk_sagemaker::types::AppNetworkAccessType::VpcOnly)
        .send()
        .await
        .unwrap();
    account
        .sagemaker()
        .delete_user_profile()
        .domain_id(&domain)
        .user_profile_name(REJECTED)
        .send()
        .await
        .unwrap();
    let mut archived = None;
    for _ in 0..60 {
        if let Some(f) = public_id(&hub_findings(&account).await)
            && state(&f).0 == "ARCHIVED"
        {
            archived = Some(f);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let archived = archived.expect("the fixed finding archived");
    assert_eq!(state(&archived), ("ARCHIVED".into(), "PASSED".into()));
    assert_eq!(archived.id(), opened.id());
    assert_eq!(archived.created_at(), opened.created_at());
    assert_eq!(archived.first_observed_at(), opened.first_observed_at());
    assert!(archived.updated_at() > opened.updated_at());
    assert_eq!(
        archived
            .workflow()
            .and_then(|w| w.status())
            .map(|s| s.as_str()),
        Some("NEW"),
        "the workflow is the customer's after creation"
    );
    // The rejected profile's archive is kept and retried: pending at two scans in a row.
    let pending = r#"sagemaker_audit_export_pending_archives{destination="security_hub"}"#;
    let scans = r#"sagemaker_audit_scans_total{outcome="success"}"#;
    util::wait_for("a pending archive", Duration::from_secs(30), || {
        metric(pending).filter(|n| *n >= 1.0)
    });
    let before = metric(scans).unwrap();
    util::wait_for("two more scans", Duration::from_secs(30), || {
        (metric(scans)? >= before + 2.0).then_some(())
    });
    assert!(metric(pending).is_some_and(|n| n >= 1.0));
    let log = daemon.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("Security Hub did not take a finding")
                && l.contains("ARCHIVED")
                && l.contains("execution_role_missing")),
        "{log}"
    );
    let imported =
        r#"sagemaker_audit_exported_findings_total{destination="security_hub",result="archived"}"#;
    assert!(metric(imported).is_some_and(|n| n >= 1.0));
}
