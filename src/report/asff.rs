//! AWS Security Finding Format: `{"Findings": [...]}`, each finding accepted by Security Hub
//! `BatchImportFindings` (which takes them in batches of 100).

use serde_json::{Value, json};

use crate::report::findings::{Finding, Report, Status};
use crate::vocab::Severity;

/// Security Hub's limits on free text.
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const RECOMMENDATION_MAX: usize = 512;
/// ProductFields values: up to 2,048 characters each (a waiver's reason can be longer).
/// <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html>
const PRODUCT_FIELD_MAX: usize = 2048;
/// Every finding is a best-practice configuration check.
const TYPES: &[&str] = &["Software and Configuration Checks/AWS Security Best Practices"];

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// ASFF resource types: the AWS ones where ASFF has them, `Other` for the rest of SageMaker
/// and EFS.
fn resource_type(finding: &Finding) -> &'static str {
    match finding.resource_type.as_str() {
        "iam_role" => "AwsIamRole",
        "security_group" => "AwsEc2SecurityGroup",
        "notebook_instance" => "AwsSageMakerNotebookInstance",
        _ => "Other",
    }
}

/// The partition of a finding: its resource ARN's, or, for the account-wide ARN of an account
/// that could not be read (`arn:*:…`), its region's.
fn arn_partition<'a>(finding: &'a Finding, region: &str) -> &'a str {
    match crate::vocab::Arn::parse(&finding.resource_arn).map(|a| a.partition) {
        Some(p) if !p.is_empty() && p != "*" => p,
        _ => crate::vocab::partition_of_region(region),
    }
}

/// `Resources[].Partition` takes Security Hub's names, which spell the ISO partitions
/// differently from ARNs (`aws-us-iso`, not `aws-iso`): the `Partition` enum of the
/// Security Hub model (botocore `securityhub/2018-10-26`).
fn hub_partition(arn_partition: &str) -> &'static str {
    match arn_partition {
        "aws-cn" => "aws-cn",
        "aws-us-gov" => "aws-us-gov",
        "aws-iso" => "aws-us-iso",
        "aws-iso-b" => "aws-us-iso-b",
        _ => "aws",
    }
}

pub fn render(report: &Report) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let region = crate::report::home_region(report, f);
            let partition = arn_partition(f, region);
            let severity = match f.severity {
                Severity::Info => "INFORMATIONAL",
                Severity::Low => "LOW",
                Severity::Medium => "MEDIUM",
                Severity::High => "HIGH",
                Severity::Critical => "CRITICAL",
            };
            let (compliance, workflow) = match f.status {
                Status::Pass => ("PASSED", "RESOLVED"),
                Status::Fail => ("FAILED", "NEW"),
                Status::Muted => ("FAILED", "SUPPRESSED"),
                Status::Error => ("NOT_AVAILABLE", "NEW"),
            };
            let mut resource = json!({
                "Type": resource_type(f),
                "Id": f.resource_arn,
                "Partition": hub_partition(partition),
                "Region": region,
            });
            if resource_type(f) == "Other" {
                let mut other = serde_json::Map::new();
                other.insert("ResourceType".into(), json!(f.resource_type));
                if let Some(domain) = &f.domain_id {
                    other.insert("DomainId".into(), json!(domain));
                }
                resource["Details"] = json!({ "Other": other });
            }
            let mut product_fields = serde_json::Map::new();
            product_fields.insert("sagemaker-auditor/CheckId".into(), json!(f.check_id));
            product_fields.insert("sagemaker-auditor/Status".into(), json!(f.status.as_str()));
            product_fields.insert("sagemaker-auditor/ScanId".into(), json!(report.scan.id));
            if let Some(a) = &f.attribution {
                // Who last changed the resource (CloudTrail); ProductFields are strings.
                for (key, field) in [
                    ("LastChangedBy", "actor_arn"),
                    ("LastChangedByUser", "user"),
                    ("LastChangeEvent", "event_name"),
                    ("LastChangeTime", "event_time"),
                ] {
                    if let Some(value) = a[field].as_str() {
                        product_fields.insert(format!("sagemaker-auditor/{key}"), json!(value));
                    }
                }
            }
            if let Some(w) = &f.waiver {
                product_fields.insert("sagemaker-auditor/WaiverReason".into(), json!(w.reason));
                product_fields.insert(
                    "sagemaker-auditor/WaiverExpires".into(),
                    json!(w.expires.to_string()),
                );
            }
            for value in product_fields.values_mut() {
                if let Some(text) = value.as_str()
                    && text.chars().count() > PRODUCT_FIELD_MAX
                {
                    *value = json!(truncate(text, PRODUCT_FIELD_MAX));
                }
            }
            json!({
                "SchemaVersion": "2018-10-08",
                "Id": format!("sagemaker-auditor/{}/{}", f.check_id, f.id),
                "ProductArn": format!(
                    "arn:{partition}:securityhub:{region}:{}:product/{}/default",
                    f.account_id, f.account_id
                ),
                "ProductName": "sagemaker-auditor",
                "CompanyName": "sagemaker-auditor",
                "GeneratorId": format!("sagemaker-auditor/{}", f.check_id),
                "AwsAccountId": f.account_id,
                "Region": region,
                "Types": TYPES,
                "CreatedAt": f.first_seen.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "UpdatedAt": f.last_seen.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "Severity": {"Label": severity},
                // Severity and Types as the provider states them: BatchImportFindings updates
                // of an existing finding change these, not the top-level ones (customers own
                // those through BatchUpdateFindings).
                // https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_FindingProviderFields.html
                "FindingProviderFields": {"Severity": {"Label": severity}, "Types": TYPES},
                "Title": truncate(&f.title, TITLE_MAX),
                "Description": truncate(&f.message, DESCRIPTION_MAX),
                "Remediation": {"Recommendation": {"Text": truncate(&f.remediation, RECOMMENDATION_MAX)}},
                "ProductFields": product_fields,
                "Resources": [resource],
                "Compliance": {
                    "Status": compliance,
                    "RelatedRequirements": f.compliance.iter().map(|c| format!("{} {}", c.framework, c.control)).collect::<Vec<_>>(),
                },
                "Workflow": {"Status": workflow},
                "RecordState": "ACTIVE",
            })
        })
        .collect();
    let mut out =
        serde_json::to_string_pretty(&json!({ "Findings": findings })).unwrap_or_default();
    out.push('\n');
    out
}
