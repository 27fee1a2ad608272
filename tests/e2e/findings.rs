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
                .fold(f.resource_arn.clone(), |s, (id, name)| s.replace(id, name));
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
