//! Least privilege: the IAM actions every collector calls, declared beside the calls.
//! `deploy/iam/scanner-readonly.json` must grant exactly these (a test compares them), and
//! the end-to-end test checks that a scan calls nothing undeclared.

use std::collections::BTreeSet;

/// Every action a scan may call, e.g. `sagemaker:ListApps`.
pub fn required_actions() -> BTreeSet<&'static str> {
    [
        super::STS_ACTIONS,
        super::sagemaker::ACTIONS,
        super::iam::ACTIONS,
        super::ec2::ACTIONS,
        super::efs::ACTIONS,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect()
}

/// The IAM action of an operation as the call counter names it (`efs`/`DescribeFileSystems`
/// → `elasticfilesystem:DescribeFileSystems`).
pub fn action_of(service: &str, operation: &str) -> String {
    let prefix = match service {
        "efs" => "elasticfilesystem",
        other => other,
    };
    format!("{prefix}:{operation}")
}
