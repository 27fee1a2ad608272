//! OCSF 1.1 Compliance Finding (class 2003), the shape Amazon Security Lake ingests: one
//! event per finding, as a JSON array.

use serde_json::{Value, json};

use crate::report::findings::{Report, Status};
use crate::vocab::Severity;

pub const OCSF_VERSION: &str = "1.1.0";

pub fn render(report: &Report) -> String {
    let events: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (severity_id, severity) = match f.severity {
                Severity::Info => (1, "Informational"),
                Severity::Low => (2, "Low"),
                Severity::Medium => (3, "Medium"),
                Severity::High => (4, "High"),
                Severity::Critical => (5, "Critical"),
            };
            // Compliance status: 0 Unknown, 1 Pass, 3 Fail. A muted FAIL still fails the
            // control; the finding itself is Suppressed.
            let (compliance_status_id, compliance_status) = match f.status {
                Status::Pass => (1, "Pass"),
                Status::Fail | Status::Muted => (3, "Fail"),
                Status::Error => (0, "Unknown"),
            };
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
                    "region": f.region,
                    "account": {"uid": f.account_id, "type": "AWS Account", "type_id": 10},
                },
                "resources": [{
                    "uid": f.resource_arn,
                    "type": f.resource_type,
                    "region": f.region,
                    "data": f.evidence,
                }],
                "remediation": {"desc": f.remediation},
                "unmapped": {
                    "domain_id": f.domain_id,
                    "waiver": f.waiver,
                    // Who last changed the resource (CloudTrail): actor_arn, user, event.
                    "attribution": f.attribution,
                    "scan_id": report.scan.id,
                },
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&events).unwrap_or_default();
    out.push('\n');
    out
}
