//! `[output]`: where and how `serve` writes its reports, how long they are kept, and which
//! statuses reports list (also `scan`'s default for `--status`).

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, ReportFormat, Validator};
use crate::report::Status;

#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    /// Where `serve` writes reports.
    pub directory: PathBuf,
    pub format: ReportFormat,
    /// How long reports and history are kept.
    pub retention_days: u32,
    /// The statuses of the findings reports list (files and `/api/findings`); every status
    /// by default. Summaries, metrics and the history always count every finding.
    pub statuses: Vec<Status>,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            directory: PathBuf::from("reports"),
            format: ReportFormat::Json,
            retention_days: 30,
            statuses: Status::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub(super) directory: Option<Spanned<String>>,
    pub(super) format: Option<Spanned<String>>,
    pub(super) retention_days: Option<Spanned<i64>>,
    pub(super) statuses: Option<Spanned<Vec<Spanned<String>>>>,
}

impl Validator<'_> {
    pub(super) fn output(&self, raw: Option<&RawOutput>) -> Result<OutputConfig, ConfigError> {
        let v = self;
        let mut output = OutputConfig::default();
        if let Some(o) = raw {
            if let Some(dir) = &o.directory {
                if dir.get_ref().trim().is_empty() {
                    return v.invalid("output.directory", dir.span(), "must not be empty".into());
                }
                output.directory = PathBuf::from(dir.get_ref());
            }
            if let Some(format) = &o.format {
                let name = format.get_ref();
                output.format = match ReportFormat::parse(name) {
                    Some(f) => f,
                    None => {
                        return v.invalid(
                            "output.format",
                            format.span(),
                            format!("{name:?} is not one of json, ocsf, asff, table, html"),
                        );
                    }
                };
            }
            if let Some(statuses) = &o.statuses {
                if statuses.get_ref().is_empty() {
                    return v.invalid(
                        "output.statuses",
                        statuses.span(),
                        "must list at least one of PASS, FAIL, MUTED, ERROR".into(),
                    );
                }
                let mut keep = Vec::new();
                for name in statuses.get_ref() {
                    match Status::parse(name.get_ref()) {
                        Some(s) if !keep.contains(&s) => keep.push(s),
                        Some(_) => {}
                        None => {
                            return v.invalid(
                                "output.statuses",
                                name.span(),
                                format!(
                                    "{:?} is not one of PASS, FAIL, MUTED, ERROR",
                                    name.get_ref()
                                ),
                            );
                        }
                    }
                }
                output.statuses = keep;
            }
            output.retention_days = v.int_in(
                "output.retention_days",
                o.retention_days.as_ref(),
                1..=3650,
                output.retention_days,
            )?;
        }

        Ok(output)
    }
}
