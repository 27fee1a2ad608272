//! The whole pipeline against the emulator: the reference account seeds a problem for every
//! built-in check and a clean twin beside each; the report must name exactly those.

use std::collections::{BTreeMap, BTreeSet};

use sagemaker_auditor::collect::AwsClients;
use sagemaker_auditor::config::Config;
use sagemaker_auditor::pipeline::Judge;
use sagemaker_auditor::report::{Report, Status};
use sagemaker_auditor::snapshot::Snapshot;

use crate::reference::{self, Seeded};
use crate::util;

const ACCOUNT: &str = "000000000011";
const REGION: &str = "us-east-1";
const GOLDEN: &str = "tests/golden/reference-findings.txt";

/// Emulator-made ids (domains, groups, file systems) replaced by the names the fixture gave,
/// so the golden file is the same from run to run.
fn stable_names(snapshot: &Snapshot, seeded: &Seeded) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    names.insert(seeded.gone_domain.clone(), "{domain:deleted}".to_string());
    for region in &snapshot.accounts[0].regions {
        for d in &region.domains {
            names.insert(d.domain_id.clone(), format!("{{domain:{}}}", d.name));
        }
    }
    let rename = |s: &str, names: &BTreeMap<String, String>| {
        names
            .iter()
            .fold(s.to_string(), |s, (id, name)| s.replace(id, name))
    };
    let mut more = Vec::new();
    for region in &snapshot.accounts[0].regions {
        for g in &region.network.security_groups {
            more.push((
                g.group_id.clone(),
                format!("{{sg:{}}}", rename(&g.group_name, &names)),
            ));
        }
        for fs in &region.efs_file_systems {
            let owner = fs
                .tags
                .get("ManagedByAmazonSageMakerResource")
                .map_or("untagged".to_string(), |t| {
                    rename(t.rsplit('/').next().unwrap_or(t), &names)
                });
            more.push((fs.file_system_id.clone(), format!("{{efs:{owner}}}")));
        }
    }
    names.extend(more);
    names
}

fn lines(report: &Report, names: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            let resource = names
                .iter()
                .fold(f.resource_arn.to_string(), |s, (id, name)| {
                    s.replace(id, name)
                });
            format!("{:<5} {:<34} {resource}", f.status.as_str(), f.check_id)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_account_reports_exactly_the_seeded_problems() {
    let account = util::account(ACCOUNT).await;
    let seeded = reference::seed(&account).await;
    let clients = AwsClients::new(account.sdk.clone());
    let snapshot = util::scan(&clients, &[REGION]).await;
    assert_eq!(snapshot.collection_errors, vec![]);

    let config = Config::default();
    let judge = Judge::load(&config, &[]).unwrap();
    let report = judge.report(&snapshot, &config, chrono::Utc::now().date_naive());
    assert_eq!(report.evaluation_errors, vec![]);

    // Every check of the catalogue sees a problem and a clean twin.
    for check in judge.policies.checks() {
        let statuses: BTreeSet<Status> = report
            .findings
            .iter()
            .filter(|f| f.check_id == check.metadata.id)
            .map(|f| f.status)
            .collect();
        assert!(
            statuses.contains(&Status::Fail) && statuses.contains(&Status::Pass),
            "{}: {statuses:?}",
            check.metadata.id
        );
    }
    // The only ERRORs are about the RStudio role of an account this scan does not read.
    for f in report.findings.iter().filter(|f| f.status == Status::Error) {
        assert!(
            f.resource_arn.contains(reference::OTHER_ACCOUNT)
                || f.evidence.to_string().contains(reference::OTHER_ACCOUNT),
            "{f:?}"
        );
    }

    v2_evidence(&report, &seeded);

    let got = lines(&report, &stable_names(&snapshot, &seeded)).join("\n") + "\n";
    let golden = util::repo_root().join(GOLDEN);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        got == want,
        "findings differ from {GOLDEN} (UPDATE_GOLDEN=1 rewrites it):\n--- golden\n{want}\n--- got\n{got}"
    );
}

/// The golden lines as they read in another account, region and partition.
fn golden_in(account: &str, region: &str, partition: &str) -> String {
    let want = std::fs::read_to_string(util::repo_root().join(GOLDEN)).unwrap();
    want.replace(
        &format!(":{REGION}:{ACCOUNT}:"),
        &format!(":{region}:{account}:"),
    )
    .replace(&format!("::{ACCOUNT}:"), &format!("::{account}:"))
    .replace("arn:aws:", &format!("arn:{partition}:"))
}

/// CHECKS.md v2: the same account reads the same wherever it is. In `us-east-2` IAM is still
/// called in `us-east-1`; in `cn-north-1` (partition aws-cn) ARNs and AWS managed policies
/// are `arn:aws-cn:`, IAM signs in `cn-north-1`, and most endpoints are named
/// `cn.com.amazonaws.cn-north-1.<svc>`; in GovCloud (aws-us-gov) everything is
/// `arn:aws-us-gov:`: no false FAIL, no missed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_account_reads_the_same_in_another_region_china_and_govcloud() {
    for (id, region, partition) in [
        ("000000000081", "us-east-2", "aws"),
        ("000000000082", "cn-north-1", "aws-cn"),
        ("000000000085", "us-gov-west-1", "aws-us-gov"),
    ] {
        let account = util::account(id).await.in_region(region);
        let seeded = reference::seed(&account).await;
        let clients = AwsClients::new(account.sdk.clone());
        let snapshot = util::scan(&clients, &[region]).await;
        assert_eq!(snapshot.collection_errors, vec![], "{region}");
        assert_eq!(snapshot.accounts[0].partition, partition);
        let iam_calls: u64 = snapshot
            .api_calls
            .iter()
            .filter(|c| c.service == "iam" && c.outcome == "success")
            .map(|c| c.calls)
            .sum();
        assert!(iam_calls > 0, "{region}: IAM was read");
        if partition != "aws" {
            let prefix = format!("arn:{partition}:iam::");
            assert!(
                snapshot
                    .managed_policies
                    .keys()
                    .all(|arn| arn.starts_with(&prefix)),
                "{:?}",
                snapshot.managed_policies.keys()
            );
        }
        if partition == "aws-cn" {
            let endpoints = &snapshot.accounts[0].regions[0].network.vpc_endpoints;
            assert!(
                endpoints
                    .iter()
                    .any(|e| e.service_name.starts_with("cn.com.amazonaws.cn-north-1.")),
                "{endpoints:?}"
            );
            assert!(
                snapshot
                    .managed_policies
                    .keys()
                    .all(|arn| arn.starts_with("arn:aws-cn:iam::")),
                "{:?}",
                snapshot.managed_policies.keys()
            );
        }

        let config = Config::default();
        let judge = Judge::load(&config, &[]).unwrap();
        let report = judge.report(&snapshot, &config, chrono::Utc::now().date_naive());
        assert_eq!(report.evaluation_errors, vec![]);
        let got = lines(&report, &stable_names(&snapshot, &seeded)).join("\n") + "\n";
        let want = golden_in(id, region, partition);
        let (got_lines, want_lines): (BTreeSet<&str>, BTreeSet<&str>) =
            (got.lines().collect(), want.lines().collect());
        assert!(
            got == want,
            "{region}: findings differ from {GOLDEN} moved there:\n--- only wanted\n{}\n--- only got\n{}",
            want_lines
                .difference(&got_lines)
                .copied()
                .collect::<Vec<_>>()
                .join("\n"),
            got_lines
                .difference(&want_lines)
                .copied()
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}

/// The finding of `check` on the resource whose ARN ends with `suffix`.
fn finding<'r>(
    report: &'r Report,
    check: &str,
    suffix: &str,
) -> &'r sagemaker_auditor::report::Finding {
    report
        .findings
        .iter()
        .find(|f| f.check_id == check && f.resource_arn.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {check} finding on *{suffix}"))
}

/// What the v2 cases of the reference account show a reader, beyond their status.
fn v2_evidence(report: &Report, seeded: &Seeded) {
    // The leaky domain's endpoints are there but cannot work, each for its reason.
    let leaky = finding(
        report,
        "domain_vpconly_missing_endpoints",
        &format!("domain/{}", seeded.leaky_domain),
    );
    let reasons: BTreeSet<(String, String)> = leaky.evidence.value()["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["missing"].as_array().unwrap().iter())
        .flat_map(|m| {
            let service = m["service"].as_str().unwrap().to_string();
            m["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |e| (service.clone(), e["reason"].as_str().unwrap().to_string()))
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("s3", "not_associated_with_route_table"),
        ("sagemaker.api", "no_private_dns"),
        ("sagemaker.runtime", "security_group_blocks_443"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .into();
    assert_eq!(reasons, want, "{}", leaky.evidence);
    assert!(
        leaky
            .evidence
            .to_string()
            .contains(&seeded.leaky_runtime_endpoint)
            && leaky
                .evidence
                .to_string()
                .contains(&seeded.leaky_s3_gateway)
    );
    // The NAT domain passes through its NAT gateway and is told it reaches the internet.
    let nat = format!("domain/{}", seeded.nat_domain);
    let endpoints = finding(report, "domain_vpconly_missing_endpoints", &nat);
    assert_eq!(endpoints.status, Status::Pass);
    let egress = finding(report, "domain_vpconly_internet_egress", &nat);
    assert_eq!(egress.status, Status::Fail);
    assert_eq!(
        egress.evidence.value()["internet_egress"][0]["target"],
        seeded.nat_gateway.as_str()
    );
    // The bounded administrator passes and says why; the denied PassRole too.
    let bounded = finding(
        report,
        "execution_role_admin_privileges",
        "role/service-role/sm-admin-bounded",
    );
    assert_eq!(bounded.status, Status::Pass);
    assert_eq!(
        bounded.evidence.value()["limited_by"],
        serde_json::json!({"reason": "outside_permissions_boundary", "permissions_boundary": seeded.boundary_policy})
    );
    let denied = finding(
        report,
        "execution_role_passrole_wildcard",
        "role/service-role/sm-passrole-denied",
    );
    assert_eq!(denied.status, Status::Pass);
    assert_eq!(
        denied.evidence.value()["limited_by"]["reason"],
        "explicit_deny"
    );
    // A role reachable only through Canvas is judged, with the setting that binds it.
    let canvas = finding(
        report,
        "execution_role_passrole_wildcard",
        "role/service-role/sm-canvas",
    );
    assert_eq!(canvas.status, Status::Fail);
    assert_eq!(
        canvas.evidence.value()["bindings"][0]["setting"],
        "CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn"
    );
    // The leaked key: kind and line, never the key.
    let secret = finding(
        report,
        "lifecycle_config_secret",
        "studio-lifecycle-config/install-tools",
    );
    assert_eq!(
        secret.evidence.value()["secrets"],
        serde_json::json!([{"script": "content", "line": 3, "kind": "aws_access_key_id"}])
    );
    assert!(
        !serde_json::to_string(report)
            .unwrap()
            .contains(reference::LEAKED_KEY_ID)
    );
    // Open ingress on a VpcOnly domain is not "the internet".
    let open = finding(
        report,
        "domain_security_group_open_ingress",
        &format!("domain/{}", seeded.leaky_domain),
    );
    assert_eq!(
        open.evidence.value()["reach"],
        "anything_routed_into_the_vpc"
    );
    assert!(
        open.message.contains("anything routed into its VPC")
            && !open.message.contains("open to the internet"),
        "{}",
        open.message
    );
}
