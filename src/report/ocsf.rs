//! OCSF 1.1.0 Compliance Finding events (class 2003) with the `cloud` profile, one per
//! finding, as a JSON array: valid against the OCSF 1.1.0 schema (the tests check every event
//! with tests/tools/ocsf-validate against the vendored schema source). A JSON array is not
//! what Amazon Security Lake ingests: a custom source takes OCSF in Parquet, one class per
//! source, under `ext/<source>/region=…/accountId=…/eventDay=…` (see `parquet` and the S3
//! export's `parquet` format).

use serde_json::{Value, json};

use crate::report::findings::{Report, Status};
use crate::vocab::Severity;

pub const OCSF_VERSION: &str = "1.1.0";

pub fn render(report: &Report) -> String {
    let events: Vec<Value> = report.findings.iter().map(|f| event(report, f)).collect();
    let mut out = serde_json::to_string_pretty(&events).unwrap_or_default();
    out.push('\n');
    out
}

/// One finding of the report as an OCSF event.
pub fn event(report: &Report, f: &crate::report::Finding) -> Value {
    let (severity_id, severity) = match f.severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    };
    // Compliance status (1.1.0 has 1 Pass, 2 Warning: "did not yield a result due to
    // missing information", 3 Fail). A muted FAIL still fails the control; the
    // finding itself is Suppressed. An ERROR could not be judged: Warning.
    let (compliance_status_id, compliance_status) = match f.status {
        Status::Pass => (1, "Pass"),
        Status::Fail | Status::Muted => (3, "Fail"),
        Status::Error => (2, "Warning"),
    };
    // IAM is global: the event's cloud region is the scan's first region, as in
    // ASFF, and the resource has none.
    let global = f.region == crate::vocab::GLOBAL;
    let region = crate::report::home_region(report, f);
    let mut resource = json!({
        "uid": f.resource_arn,
        "type": f.resource_type,
        "data": f.evidence,
    });
    if !global {
        resource["region"] = json!(f.region);
    }
    let (status_id, status) = match f.status {
        Status::Muted => (3, "Suppressed"),
        _ => (1, "New"),
    };
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    json!({
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "time": ms(f.last_seen),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "uid": f.id,
            "event_code": f.check_id,
            "product": {
                "name": "sagemaker-auditor",
                "vendor_name": "sagemaker-auditor",
                "version": report.scan.scanner_version,
            },
        },
        "finding_info": {
            "uid": f.id,
            "title": f.title,
            "desc": f.message,
            "types": ["Software and Configuration Checks"],
            "first_seen_time": ms(f.first_seen),
            "last_seen_time": ms(f.last_seen),
        },
        "compliance": {
            "control": f.check_id,
            "status_id": compliance_status_id,
            "status": compliance_status,
            "status_detail": f.status.as_str(),
            "standards": f.compliance.iter().map(|c| c.framework.clone()).collect::<std::collections::BTreeSet<_>>(),
            "requirements": f.compliance.iter().map(|c| format!("{} {}", c.framework, c.control)).collect::<Vec<_>>(),
        },
        "cloud": {
            "provider": "AWS",
            "region": region,
            "account": {"uid": f.account_id, "type": "AWS Account", "type_id": 10},
        },
        // 1.1.0's Compliance Finding has one `resource` (`resources` came in 1.3.0).
        "resource": resource,
        "remediation": {"desc": f.remediation},
        "unmapped": {
            "domain_id": f.domain_id,
            "waiver": f.waiver,
            // Who last changed the resource (CloudTrail): actor_arn, user, event.
            "attribution": f.attribution,
            "scan_id": report.scan.id,
        },
    })
}
