//! Committed artefacts that must agree with the code: the snapshot schema, the least-privilege
//! policy, the bundled example snapshot.

use std::collections::BTreeSet;

use sagemaker_auditor::collect::permissions;
use sagemaker_auditor::snapshot::Snapshot;

use crate::util::repo_root;

#[test]
fn committed_snapshot_schema_is_current() {
    let path = repo_root().join("policies/schema/snapshot.json");
    let generated = Snapshot::json_schema();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "policies/schema/snapshot.json is stale: regenerate it with `UPDATE_GOLDEN=1 cargo test --test e2e committed_snapshot_schema` (or `sagemaker-auditor schema`)"
    );
}

/// The actions a committed IAM policy grants, each once, none by wildcard.
fn granted_actions(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join(file)).expect("policy file");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("policy is JSON");
    let mut granted = BTreeSet::new();
    for statement in doc["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow");
        assert!(
            statement.get("NotAction").is_none(),
            "NotAction grants more than listed"
        );
        for action in statement["Action"].as_array().expect("action list") {
            let action = action.as_str().expect("action string");
            assert!(
                !action.contains('*'),
                "{action}: no wildcards in the scanner's policy"
            );
            assert!(granted.insert(action.to_string()), "{action} granted twice");
        }
    }
    granted
}

fn assert_grants_exactly(file: &str, declared: BTreeSet<&str>) {
    let granted = granted_actions(file);
    let declared: BTreeSet<String> = declared.into_iter().map(String::from).collect();
    let missing: Vec<_> = declared.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{file} lacks {missing:?}; grants unused {extra:?}"
    );
}

#[test]
fn readonly_policy_grants_exactly_what_the_collectors_call() {
    // In every scanned account.
    assert_grants_exactly(
        "deploy/iam/scanner-readonly.json",
        permissions::required_actions(),
    );
    // The scanner's own identity, to reach the member accounts.
    assert_grants_exactly("deploy/iam/scanner-hub.json", permissions::hub_actions());
    // [export.security_hub]: in every scanned account (Security Hub takes an account's
    // findings only from that account).
    assert_grants_exactly(
        "deploy/iam/scanner-security-hub.json",
        permissions::security_hub_export_actions(),
    );
    // [export.s3]: the scanner's own identity, on the bucket and the key.
    assert_grants_exactly(
        "deploy/iam/scanner-s3-export.json",
        permissions::s3_export_actions(),
    );
}

#[test]
fn bundled_example_snapshot_loads() {
    let s = Snapshot::load(&repo_root().join("examples/snapshot.json"))
        .expect("examples/snapshot.json loads");
    let counts = s.resource_counts();
    assert!(
        counts.domains >= 3 && counts.user_profiles >= 5 && counts.apps >= 6,
        "{counts:?}"
    );
    assert!(s.collection_errors.is_empty());
}
