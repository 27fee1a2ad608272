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
}

impl Default for CloudTrailConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lookback: Duration::from_secs(7 * 86_400),
        }
    }
}

/// `[cloudtrail]`: attribution of findings and the report's `changes`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCloudTrail {
    pub(super) enabled: Option<bool>,
    pub(super) lookback_days: Option<Spanned<i64>>,
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
        }
        Ok(cloudtrail)
    }
}
