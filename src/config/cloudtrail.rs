//! `[cloudtrail]`: attribution of findings and the report's `changes` from LookupEvents.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Validator};

#[derive(Debug, Clone, PartialEq)]
pub struct CloudTrailConfig {
    /// Ask CloudTrail `LookupEvents` who changed what (needs `cloudtrail:LookupEvents`).
    pub enabled: bool,
    /// How far back a finding's attribution and a first scan's `changes` look.
    pub lookback: Duration,
    /// LookupEvents calls per account and region in one scan (AWS answers 2 a second per
    /// account and region, 50 events each): what is left unread, the daemon reads next time.
    pub max_pages: u32,
}

/// Default page budget: 200 calls, 100 s of LookupEvents and up to 10,000 events per
/// account and region.
pub const DEFAULT_MAX_PAGES: u32 = 200;

/// The least budget that makes progress in a busy window: the listing's pages and a round of
/// one lookup per event name (`collect::cloudtrail`), 44, and some room.
const MIN_PAGES: i64 = 50;

impl Default for CloudTrailConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lookback: Duration::from_secs(7 * 86_400),
            max_pages: DEFAULT_MAX_PAGES,
        }
    }
}

/// `[cloudtrail]`: attribution of findings and the report's `changes`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCloudTrail {
    pub(super) enabled: Option<bool>,
    pub(super) lookback_days: Option<Spanned<i64>>,
    pub(super) max_pages_per_scan: Option<Spanned<i64>>,
}

impl Validator<'_> {
    pub(super) fn cloudtrail(
        &self,
        raw: Option<&RawCloudTrail>,
    ) -> Result<CloudTrailConfig, ConfigError> {
        let mut cloudtrail = CloudTrailConfig::default();
        if let Some(raw) = raw {
            cloudtrail.enabled = raw.enabled.unwrap_or(true);
            // CloudTrail event history keeps 90 days.
            let days: u64 = self.int_in(
                "cloudtrail.lookback_days",
                raw.lookback_days.as_ref(),
                1..=90,
                7,
            )?;
            cloudtrail.lookback = Duration::from_secs(days * 86_400);
            cloudtrail.max_pages = self.int_in(
                "cloudtrail.max_pages_per_scan",
                raw.max_pages_per_scan.as_ref(),
                MIN_PAGES..=100_000,
                DEFAULT_MAX_PAGES,
            )?;
        }
        Ok(cloudtrail)
    }
}
