//! `[[waivers]]`: a FAIL of a check on matching resources becomes MUTED until a date.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{ConfigError, Validator, line_col};

/// A `[[waivers]]` entry: turns a FAIL of `check_id` on a matching resource into MUTED until
/// `expires` (inclusive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiver {
    pub check_id: String,
    /// An ARN, with IAM-style `*` and `?` wildcards.
    pub resource: String,
    pub reason: String,
    pub expires: chrono::NaiveDate,
    /// Line of the `[[waivers]]` entry in the config file.
    pub line: usize,
}

/// `[[waivers]]`: every field is required, so a waiver always says why and until when.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWaiver {
    pub(super) check: Spanned<String>,
    pub(super) resource: Spanned<String>,
    pub(super) reason: Spanned<String>,
    pub(super) expires: Spanned<toml::value::Datetime>,
}

impl Validator<'_> {
    pub(super) fn waivers(
        &self,
        raw: Option<&Vec<Spanned<RawWaiver>>>,
    ) -> Result<Vec<Waiver>, ConfigError> {
        let (v, text) = (self, self.text);
        let mut waivers = Vec::new();
        for waiver in raw.into_iter().flatten() {
            let line = line_col(text, waiver.span().start).0;
            let w = waiver.get_ref();
            for (key, value) in [
                ("check", &w.check),
                ("resource", &w.resource),
                ("reason", &w.reason),
            ] {
                if value.get_ref().trim().is_empty() {
                    return v.invalid(
                        &format!("waivers.{key}"),
                        value.span(),
                        "must not be empty".into(),
                    );
                }
            }
            let expires = match &w.expires.get_ref() {
                toml::value::Datetime {
                    date: Some(d),
                    time: None,
                    offset: None,
                } => chrono::NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
                _ => None,
            };
            let Some(expires) = expires else {
                return v.invalid(
                    "waivers.expires",
                    w.expires.span(),
                    format!(
                        "must be a date like 2027-03-31, got {}",
                        w.expires.get_ref()
                    ),
                );
            };
            waivers.push(Waiver {
                check_id: w.check.get_ref().clone(),
                resource: w.resource.get_ref().clone(),
                reason: w.reason.get_ref().clone(),
                expires,
                line,
            });
        }

        Ok(waivers)
    }
}
