//! The config file's top level exactly as written (each section's raw struct lives beside
//! its validation). Every struct denies unknown keys, so a typo is an error with its line,
//! not a silently ignored setting. Values that need validation keep their span to point at
//! it.

use serde::Deserialize;
use toml::Spanned;

use super::accounts::{RawAccount, RawOrganization};
use super::cloudtrail::RawCloudTrail;
use super::export::RawExport;
use super::output::RawOutput;
use super::serve::RawServe;
use super::waivers::RawWaiver;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<i64>>,
    pub max_attempts: Option<Spanned<i64>>,
    pub call_timeout_seconds: Option<Spanned<i64>>,
    pub schedule: Option<Spanned<String>>,
    pub jitter_seconds: Option<Spanned<i64>>,
    pub output: Option<RawOutput>,
    /// `[checks.<id>]` tables: here only so `checks` must be a table; `checks::read_tables`
    /// reads them with their lines.
    #[serde(rename = "checks")]
    pub _checks: Option<toml::Table>,
    pub policy_dirs: Option<Spanned<Vec<Spanned<String>>>>,
    pub waivers: Option<Vec<Spanned<RawWaiver>>>,
    pub serve: Option<RawServe>,
    pub account_concurrency: Option<Spanned<i64>>,
    pub shard: Option<Spanned<String>>,
    pub accounts: Option<Vec<Spanned<RawAccount>>>,
    pub organization: Option<Spanned<RawOrganization>>,
    pub cloudtrail: Option<RawCloudTrail>,
    pub export: Option<RawExport>,
}
