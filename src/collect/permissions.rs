//! Least privilege: the IAM actions every collector calls, declared beside the calls.
//! `deploy/iam/scanner-readonly.json` must grant exactly these (a test compares them), and
//! the end-to-end test checks that a scan calls nothing undeclared.

use std::collections::BTreeSet;

/// Every action a scan may call, e.g. `sagemaker:ListApps`.
pub fn required_actions() -> BTreeSet<&'static str> {
    [
        super::STS_ACTIONS,
        super::sagemaker::ACTIONS,
        super::notebooks::ACTIONS,
        super::iam::ACTIONS,
        super::ec2::ACTIONS,
        super::efs::ACTIONS,
        super::cloudtrail::ACTIONS,
        super::accounts::MEMBER_ACTIONS,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect()
}

/// What the scanner's own identity needs on top, to reach member accounts
/// (`deploy/iam/scanner-hub.json`): assume their role, list the organisation.
pub fn hub_actions() -> BTreeSet<&'static str> {
    super::accounts::HUB_ACTIONS.iter().copied().collect()
}

/// What `[export.security_hub]` calls in each scanned account, with the account's own
/// credentials (`deploy/iam/scanner-security-hub.json`).
pub fn security_hub_export_actions() -> BTreeSet<&'static str> {
    crate::export::security_hub::ACTIONS
        .iter()
        .copied()
        .collect()
}

/// What `[export.s3]` calls with the scanner's own credentials
/// (`deploy/iam/scanner-s3-export.json`; `kms:GenerateDataKey` only with `kms_key_id`).
pub fn s3_export_actions() -> BTreeSet<&'static str> {
    crate::export::s3::ACTIONS.iter().copied().collect()
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
