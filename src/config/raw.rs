//! The config file exactly as written. Every struct denies unknown keys, so a typo is an
//! error with its line, not a silently ignored setting. Values that need validation keep
//! their span to point at it.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<i64>>,
    pub max_attempts: Option<Spanned<i64>>,
    pub call_timeout_seconds: Option<Spanned<i64>>,
    pub schedule: Option<Spanned<String>>,
    pub jitter_seconds: Option<Spanned<i64>>,
    pub output: Option<RawOutput>,
    pub checks: Option<RawChecks>,
    pub policy_dirs: Option<Spanned<Vec<Spanned<String>>>>,
    pub waivers: Option<Vec<Spanned<RawWaiver>>>,
    pub serve: Option<RawServe>,
    pub account_concurrency: Option<Spanned<i64>>,
    pub shard: Option<Spanned<String>>,
    pub accounts: Option<Vec<Spanned<RawAccount>>>,
    pub organization: Option<Spanned<RawOrganization>>,
    pub cloudtrail: Option<RawCloudTrail>,
}

/// `[[accounts]]`: a member account reached by assuming a role in it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: Spanned<String>,
    pub role_name: Spanned<String>,
    pub external_id: Option<Spanned<String>>,
}

/// `[organization]`: every active account of the organisation, listed with Organizations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    pub role_name: Spanned<String>,
    pub external_id: Option<Spanned<String>>,
    pub exclude: Option<Vec<Spanned<String>>>,
}

/// `[cloudtrail]`: attribution of findings and the report's `changes`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudTrail {
    pub enabled: Option<bool>,
    pub lookback_days: Option<Spanned<i64>>,
}

/// `[serve]`: the daemon's own settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServe {
    pub listen: Option<Spanned<String>>,
    pub state_file: Option<Spanned<String>>,
    pub log_level: Option<Spanned<String>>,
    pub scan_timeout_seconds: Option<Spanned<i64>>,
    pub shutdown_timeout_seconds: Option<Spanned<i64>>,
    pub web_config_file: Option<Spanned<String>>,
}

/// `[[waivers]]`: every field is required, so a waiver always says why and until when.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaiver {
    pub check: Spanned<String>,
    pub resource: Spanned<String>,
    pub reason: Spanned<String>,
    pub expires: Spanned<toml::value::Datetime>,
}

/// Second reading of `[checks]`: every table by id with its span, so the thresholds of
/// users' own checks reach `data.config` and an unknown id is reported on its line.
#[derive(Debug, Default, Deserialize)]
pub struct RawCheckTables {
    pub checks: Option<std::collections::BTreeMap<String, Spanned<toml::Value>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub directory: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub retention_days: Option<Spanned<i64>>,
}

/// `[checks.<id>]` of the built-in checks that take thresholds. Tables of other ids (users'
/// checks) are read by [`RawCheckTables`].
#[derive(Debug, Default, Deserialize)]
pub struct RawChecks {
    pub app_idle: Option<RawAppIdle>,
    pub execution_role_shared_by_users: Option<RawRoleShared>,
    pub domain_vpconly_missing_endpoints: Option<RawMissingEndpoints>,
    pub efs_orphaned_home: Option<RawOrphanedEfs>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAppIdle {
    pub idle_hours: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoleShared {
    pub max_user_profiles: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMissingEndpoints {
    pub required_services: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrphanedEfs {
    pub price_per_gb_month: Option<Spanned<f64>>,
}
