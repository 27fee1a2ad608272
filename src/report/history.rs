//! The `history` section of a report written by `serve`: what this scan found new, what it
//! found fixed, and which open findings it could not confirm either way.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::Severity;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Ids of the findings failing now that were not failing at the previous scan.
    pub new: Vec<String>,
    /// Findings failing at the previous scan that this scan saw fixed (PASS, or the resource
    /// gone while its scope was read completely).
    pub resolved: Vec<ResolvedFinding>,
    /// Open findings this scan could not confirm or clear: their scope's collection failed,
    /// their check errored, or their account or region was not scanned. They stay open.
    pub kept_open: Vec<KeptOpen>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolvedFinding {
    pub id: String,
    pub check_id: String,
    pub severity: Severity,
    pub resource_type: String,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub resolved_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeptOpen {
    pub id: String,
    pub check_id: String,
    pub resource_arn: String,
    /// `error_result` (the check reported ERROR for it), `evaluation_error` (the check
    /// failed to run), `collection_error` (a call of `service` failed in its scope),
    /// `not_scanned` (its account or region was not part of this scan).
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}
