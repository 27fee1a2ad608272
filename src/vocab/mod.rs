//! The words every layer shares: ARNs, resource types, services, the `global` region,
//! severities and IAM's wildcard matching. The bottom of the module graph: it imports no other
//! module of the crate, and collectors, policies, reports, the history and the exporter all
//! speak it.

mod arn;
mod evidence;
mod glob;
mod shared;

pub use arn::{Arn, global_region_of, partition_of_region};
pub use evidence::Evidence;
pub use glob::glob_match;
pub use shared::{Interner, Shared};

use serde::{Deserialize, Serialize};

/// Region label of the global services (IAM, STS, Organizations) in `collection_errors`,
/// results and metrics.
pub const GLOBAL: &str = "global";

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The AWS services a scan calls, by the name `collection_errors`, `api_calls` and the
/// metrics give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Sagemaker,
    Iam,
    Ec2,
    Efs,
    Sts,
    Organizations,
    Cloudtrail,
}

impl Service {
    pub const ALL: [Self; 7] = [
        Self::Sagemaker,
        Self::Iam,
        Self::Ec2,
        Self::Efs,
        Self::Sts,
        Self::Organizations,
        Self::Cloudtrail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sagemaker => "sagemaker",
            Self::Iam => "iam",
            Self::Ec2 => "ec2",
            Self::Efs => "efs",
            Self::Sts => "sts",
            Self::Organizations => "organizations",
            Self::Cloudtrail => "cloudtrail",
        }
    }
}

/// The resource types of the built-in checks, as findings (`resource_type`), metrics and the
/// history name them. Users' checks may name others: those stay plain strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Domain,
    UserProfile,
    Space,
    App,
    IamRole,
    SecurityGroup,
    EfsFileSystem,
    NotebookInstance,
    StudioLifecycleConfig,
    NotebookInstanceLifecycleConfig,
}

impl ResourceType {
    pub const ALL: [ResourceType; 10] = [
        Self::Domain,
        Self::UserProfile,
        Self::Space,
        Self::App,
        Self::IamRole,
        Self::SecurityGroup,
        Self::EfsFileSystem,
        Self::NotebookInstance,
        Self::StudioLifecycleConfig,
        Self::NotebookInstanceLifecycleConfig,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::UserProfile => "user_profile",
            Self::Space => "space",
            Self::App => "app",
            Self::IamRole => "iam_role",
            Self::SecurityGroup => "security_group",
            Self::EfsFileSystem => "efs_file_system",
            Self::NotebookInstance => "notebook_instance",
            Self::StudioLifecycleConfig => "studio_lifecycle_config",
            Self::NotebookInstanceLifecycleConfig => "notebook_instance_lifecycle_config",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The service whose list calls find resources of this type: a failure of that service
    /// in a resource's scope means its absence proves nothing.
    pub fn service(self) -> Service {
        match self {
            Self::Domain
            | Self::UserProfile
            | Self::Space
            | Self::App
            | Self::NotebookInstance
            | Self::StudioLifecycleConfig
            | Self::NotebookInstanceLifecycleConfig => Service::Sagemaker,
            Self::IamRole => Service::Iam,
            Self::SecurityGroup => Service::Ec2,
            Self::EfsFileSystem => Service::Efs,
        }
    }

    /// SageMaker resources (CloudTrail names them directly).
    pub fn in_domain_graph(self) -> bool {
        self.service() == Service::Sagemaker
    }
}

/// A built-in check that a catalogue version retired, with what replaced it.
pub struct RetiredCheck {
    pub id: &'static str,
    pub replaced_by: &'static str,
    pub why: &'static str,
}

/// Checks retired from the catalogue (CHECKS.md): a config or waiver naming one gets an error
/// that says what to use instead.
pub const RETIRED_CHECKS: &[RetiredCheck] = &[RetiredCheck {
    id: "app_idle",
    replaced_by: "app_long_running",
    why: "DescribeApp's LastUserActivityTimestamp is refreshed by SageMaker's health checks, so it never showed idleness; app_long_running reports the age of a running billed app (threshold max_hours)",
}];

/// What to tell a config that names a check id no loaded policy has.
pub fn unknown_check_problem(id: &str) -> String {
    match RETIRED_CHECKS.iter().find(|r| r.id == id) {
        Some(r) => format!(
            "check {id:?} was retired in catalogue v2: use {:?} instead ({})",
            r.replaced_by, r.why
        ),
        None => format!("no loaded check has the id {id:?}"),
    }
}

/// The formats a findings report is written in (`scan --format`, `[output] format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The findings report (`schema_version` 1).
    Json,
    /// OCSF Compliance Findings (Amazon Security Lake).
    Ocsf,
    /// AWS Security Finding Format (Security Hub BatchImportFindings).
    Asff,
    /// A readable summary of the findings.
    Table,
    /// One self-contained HTML page: summary, charts, the findings table, the domains.
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 5] =
        [Self::Json, Self::Ocsf, Self::Asff, Self::Table, Self::Html];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ocsf => "ocsf",
            Self::Asff => "asff",
            Self::Table => "table",
            Self::Html => "html",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The extension of report files in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ocsf => "ocsf.json",
            Self::Asff => "asff.json",
            Self::Table => "txt",
            Self::Html => "html",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for t in ResourceType::ALL {
            assert_eq!(ResourceType::parse(t.as_str()), Some(t));
        }
        for f in ReportFormat::ALL {
            assert_eq!(ReportFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(ResourceType::parse("notebook"), None);
        assert_eq!(ResourceType::App.service(), Service::Sagemaker);
        assert_eq!(ResourceType::EfsFileSystem.service(), Service::Efs);
    }
}
