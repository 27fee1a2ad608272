//! AWS Security Finding Format: `{"Findings": [...]}`, each finding accepted by Security Hub
//! `BatchImportFindings` (which takes them in batches of 100).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::report::findings::{Finding, Report, Status};
use crate::report::history::ResolvedFinding;
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
fn resource_type(resource_type: &str) -> &'static str {
    match resource_type {
        "iam_role" => "AwsIamRole",
        "security_group" => "AwsEc2SecurityGroup",
        "notebook_instance" => "AwsSageMakerNotebookInstance",
        _ => "Other",
    }
}

/// The partition of a finding: its resource ARN's, or, for the account-wide ARN of an account
/// that could not be read (`arn:*:…`), its region's.
fn arn_partition<'a>(resource_arn: &'a str, region: &str) -> &'a str {
    match crate::vocab::Arn::parse(resource_arn).map(|a| a.partition) {
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

/// One ASFF finding: what `--format asff` prints and what the Security Hub export imports
/// (`BatchImportFindings`), field for field.
/// <https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub product_name: String,
    pub company_name: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub first_observed_at: String,
    pub last_observed_at: String,
    pub severity: SeverityLabel,
    /// Severity and Types as the provider states them: BatchImportFindings updates of an
    /// existing finding change these, not the top-level ones (customers own those through
    /// BatchUpdateFindings).
    /// <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_FindingProviderFields.html>
    pub finding_provider_fields: ProviderFields,
    pub title: String,
    pub description: String,
    pub remediation: Remediation,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    /// Only taken when the finding is created: the workflow is the customer's afterwards.
    pub workflow: Workflow,
    /// `ACTIVE`, or `ARCHIVED` for a finding the scan saw fixed (the export's lifecycle).
    pub record_state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SeverityLabel {
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderFields {
    pub severity: SeverityLabel,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    pub r#type: String,
    pub id: String,
    pub partition: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ResourceDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceDetails {
    /// `Details.Other`: up to 50 string fields, for the resource types ASFF does not model.
    pub other: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    pub status: String,
    pub related_requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Workflow {
    pub status: String,
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// The id Security Hub knows a finding by: stable across scans (the finding id is).
pub fn finding_id(check_id: &str, id: &str) -> String {
    format!("sagemaker-auditor/{check_id}/{id}")
}

/// The default product of the account's own custom integration in `region`: the only product
/// an account may import findings into without being an AWS partner, for itself only.
/// <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html>
pub fn product_arn(partition: &str, region: &str, account_id: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default")
}

/// What is common to a finding of a report and one the history resolved.
struct Common<'a> {
    check_id: &'a str,
    id: &'a str,
    severity: Severity,
    resource_type: &'a str,
    resource_arn: &'a str,
    account_id: &'a str,
    region: &'a str,
    domain_id: Option<&'a str>,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
}

fn skeleton(c: &Common<'_>, title: &str, description: &str) -> AsffFinding {
    let partition = arn_partition(c.resource_arn, c.region);
    let severity = severity_label(c.severity);
    let types: Vec<String> = TYPES.iter().map(|t| t.to_string()).collect();
    let asff_type = resource_type(c.resource_type);
    let details = (asff_type == "Other").then(|| {
        let mut other = BTreeMap::new();
        other.insert("ResourceType".to_string(), c.resource_type.to_string());
        if let Some(domain) = c.domain_id {
            other.insert("DomainId".to_string(), domain.to_string());
        }
        ResourceDetails { other }
    });
    AsffFinding {
        schema_version: "2018-10-08".into(),
        id: finding_id(c.check_id, c.id),
        product_arn: product_arn(partition, c.region, c.account_id),
        product_name: "sagemaker-auditor".into(),
        company_name: "sagemaker-auditor".into(),
        generator_id: format!("sagemaker-auditor/{}", c.check_id),
        aws_account_id: c.account_id.to_string(),
        region: c.region.to_string(),
        types: types.clone(),
        created_at: timestamp(c.first_seen),
        updated_at: timestamp(c.last_seen),
        first_observed_at: timestamp(c.first_seen),
        last_observed_at: timestamp(c.last_seen),
        severity: SeverityLabel {
            label: severity.into(),
        },
        finding_provider_fields: ProviderFields {
            severity: SeverityLabel {
                label: severity.into(),
            },
            types,
        },
        title: truncate(title, TITLE_MAX),
        description: truncate(description, DESCRIPTION_MAX),
        remediation: Remediation {
            recommendation: Recommendation {
                text: String::new(),
            },
        },
        product_fields: BTreeMap::new(),
        resources: vec![AsffResource {
            r#type: asff_type.into(),
            id: c.resource_arn.to_string(),
            partition: hub_partition(partition).into(),
            region: c.region.to_string(),
            details,
        }],
        compliance: AsffCompliance {
            status: String::new(),
            related_requirements: Vec::new(),
        },
        workflow: Workflow {
            status: String::new(),
        },
        record_state: "ACTIVE".into(),
    }
}

/// A finding of the report in ASFF.
pub fn finding(report: &Report, f: &Finding) -> AsffFinding {
    let region = crate::report::home_region(report, f);
    let mut out = skeleton(
        &Common {
            check_id: &f.check_id,
            id: &f.id,
            severity: f.severity,
            resource_type: &f.resource_type,
            resource_arn: &f.resource_arn,
            account_id: &f.account_id,
            region,
            domain_id: f.domain_id.as_deref(),
            first_seen: f.first_seen,
            last_seen: f.last_seen,
        },
        &f.title,
        &f.message,
    );
    let (compliance, workflow) = match f.status {
        Status::Pass => ("PASSED", "RESOLVED"),
        Status::Fail => ("FAILED", "NEW"),
        Status::Muted => ("FAILED", "SUPPRESSED"),
        Status::Error => ("NOT_AVAILABLE", "NEW"),
    };
    out.compliance = AsffCompliance {
        status: compliance.into(),
        related_requirements: f
            .compliance
            .iter()
            .map(|c| format!("{} {}", c.framework, c.control))
            .collect(),
    };
    out.workflow.status = workflow.into();
    out.remediation.recommendation.text = truncate(&f.remediation, RECOMMENDATION_MAX);
    let fields = &mut out.product_fields;
    let mut put = |key: &str, value: &str| {
        fields.insert(
            format!("sagemaker-auditor/{key}"),
            truncate(value, PRODUCT_FIELD_MAX),
        );
    };
    put("CheckId", &f.check_id);
    put("Status", f.status.as_str());
    put("ScanId", &report.scan.id);
    if let Some(a) = &f.attribution {
        // Who last changed the resource (CloudTrail); ProductFields are strings.
        for (key, field) in [
            ("LastChangedBy", "actor_arn"),
            ("LastChangedByUser", "user"),
            ("LastChangeEvent", "event_name"),
            ("LastChangeTime", "event_time"),
        ] {
            if let Some(value) = a[field].as_str() {
                put(key, value);
            }
        }
    }
    if let Some(w) = &f.waiver {
        put("WaiverReason", &w.reason);
        put("WaiverExpires", &w.expires.to_string());
    }
    out
}

/// A finding the finding history resolved (fixed, or its resource gone) as Security Hub must
/// end it: compliance `PASSED`, record `ARCHIVED`. `title` is its check's (the history keeps
/// no titles); `scan_id` the scan that resolved it; `home_region` the region global (IAM)
/// findings are reported in.
pub fn resolved(r: &ResolvedFinding, title: &str, scan_id: &str, home_region: &str) -> AsffFinding {
    let region = if r.region == crate::vocab::GLOBAL {
        home_region
    } else {
        &r.region
    };
    let description = format!(
        "Resolved by scan {scan_id} at {}: the resource passes the check or no longer exists.",
        timestamp(r.resolved_at)
    );
    let mut out = skeleton(
        &Common {
            check_id: &r.check_id,
            id: &r.id,
            severity: r.severity,
            resource_type: &r.resource_type,
            resource_arn: &r.resource_arn,
            account_id: &r.account_id,
            region,
            domain_id: None,
            first_seen: r.first_seen,
            last_seen: r.resolved_at,
        },
        title,
        &description,
    );
    out.compliance.status = "PASSED".into();
    out.workflow.status = "RESOLVED".into();
    out.record_state = "ARCHIVED".into();
    out.remediation.recommendation.text = "None: resolved.".into();
    for (key, value) in [
        ("CheckId", r.check_id.as_str()),
        ("Status", "PASS"),
        ("ScanId", scan_id),
    ] {
        out.product_fields
            .insert(format!("sagemaker-auditor/{key}"), value.to_string());
    }
    out
}

pub fn render(report: &Report) -> String {
    let findings: Vec<AsffFinding> = report.findings.iter().map(|f| finding(report, f)).collect();
    let mut out = serde_json::to_string_pretty(&serde_json::json!({ "Findings": findings }))
        .unwrap_or_default();
    out.push('\n');
    out
}
