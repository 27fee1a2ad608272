//! Hand-made findings and reports for the unit tests of what consumes a report (the history,
//! the metrics): account 123456789012, region us-east-1, severity high.

use chrono::{DateTime, Duration, Utc};

use crate::report::findings::{ScanInfo, Summary, finding_id};
use crate::report::{Finding, Report, Status};
use crate::vocab::Severity;

pub const ACCOUNT: &str = "123456789012";

pub fn finding(check_id: &str, resource_type: &str, arn: &str, status: Status) -> Finding {
    let at: DateTime<Utc> = DateTime::UNIX_EPOCH;
    Finding {
        id: finding_id(check_id, arn),
        check_id: check_id.into(),
        title: Default::default(),
        severity: Severity::High,
        status,
        resource_type: resource_type.into(),
        resource_arn: arn.into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        domain_id: None,
        message: "".into(),
        evidence: crate::vocab::Evidence::empty(),
        remediation: Default::default(),
        compliance: Default::default(),
        waiver: None,
        first_seen: at,
        last_seen: at,
        attribution: None,
    }
}

/// A report of a scan of ACCOUNT in us-east-1 that finished at `at`.
pub fn report(at: DateTime<Utc>, findings: Vec<Finding>) -> Report {
    Report {
        schema_version: "1".into(),
        scan: ScanInfo {
            id: format!("scan-{}", at.timestamp()),
            started_at: at - Duration::seconds(5),
            finished_at: at,
            scanner_version: "test".into(),
            accounts: vec![ACCOUNT.into()],
            regions: vec!["us-east-1".into()],
            scanned: [(ACCOUNT.to_string(), vec!["us-east-1".to_string()])].into(),
            collection_errors: vec![],
            cloudtrail_unread: vec![],
        },
        summary: Summary::default(),
        findings_filter: None,
        findings,
        waivers: vec![],
        evaluation_errors: vec![],
        history: None,
        changes: None,
        tally: Default::default(),
    }
}
