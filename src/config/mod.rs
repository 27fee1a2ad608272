//! Configuration, read in two phases: [`raw`] mirrors the TOML file exactly (unknown keys are
//! errors), then [`Config::from_raw`] validates it into the typed settings the program uses.
//! Every error names the file, the line and the key.

mod accounts;
pub mod checks;
mod cloudtrail;
mod export;
mod output;
mod raw;
mod regions;
mod serve;
mod waivers;

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

pub use crate::vocab::ReportFormat;
pub use accounts::{AccountTarget, AccountsConfig, OrganizationConfig, Shard, is_account_id};
pub use cloudtrail::CloudTrailConfig;
pub use export::{ExportConfig, S3Export, S3Format, SecurityHubExport};
pub use output::OutputConfig;
use raw::RawConfig;
pub use regions::{Regions, is_region_name};
pub use serve::ServeConfig;
pub use waivers::Waiver;

use std::collections::BTreeMap;

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    /// Regions to scan (none named: the default chain's region), or `all`.
    pub regions: Regions,
    /// Which accounts, reached how.
    pub accounts: AccountsConfig,
    pub cloudtrail: CloudTrailConfig,
    /// `[export.*]`: Security Hub, S3.
    pub export: ExportConfig,
    pub endpoint_url: Option<String>,
    /// AWS calls in flight at once.
    pub concurrency: usize,
    pub max_attempts: u32,
    pub call_timeout: Duration,
    /// Cron expression with a seconds field (`sec min hour day month weekday`) for `serve`.
    pub schedule: String,
    pub jitter: Duration,
    pub output: OutputConfig,
    /// Directories of users' own policies, besides the built-in ones.
    pub policy_dirs: Vec<PathBuf>,
    pub waivers: Vec<Waiver>,
    pub serve: ServeConfig,
    /// The `[checks.<id>]` tables as written, validated against the thresholds the loaded
    /// checks declare by [`Config::thresholds`].
    pub check_tables: BTreeMap<String, checks::CheckTable>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            source: None,
            regions: Regions::default(),
            accounts: AccountsConfig::default(),
            cloudtrail: CloudTrailConfig::default(),
            export: ExportConfig::default(),
            endpoint_url: None,
            concurrency: 8,
            max_attempts: 10,
            call_timeout: Duration::from_secs(120),
            schedule: "0 0 * * * *".into(),
            jitter: Duration::ZERO,
            output: OutputConfig::default(),
            policy_dirs: Vec::new(),
            waivers: Vec::new(),
            serve: ServeConfig::default(),
            check_tables: BTreeMap::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}:{line}: `{key}`: {problem}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        problem: String,
    },
}

impl ConfigError {
    /// A config-like file (the config, the web config) that could not be read as text.
    pub fn unreadable(path: &str, error: crate::fsutil::ReadTextError) -> Self {
        match error {
            crate::fsutil::ReadTextError::Io(source) => Self::Read {
                path: path.to_string(),
                source,
            },
            crate::fsutil::ReadTextError::NotUtf8 { line, column } => Self::Parse {
                path: path.to_string(),
                line,
                column,
                message: "not UTF-8 text".into(),
            },
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// Validation of one file: remembers where it came from to point at the offending line.
struct Validator<'a> {
    path: &'a str,
    text: &'a str,
}

impl Validator<'_> {
    fn invalid<T>(
        &self,
        key: &str,
        span: std::ops::Range<usize>,
        problem: String,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::Invalid {
            path: self.path.to_string(),
            line: line_col(self.text, span.start).0,
            key: key.to_string(),
            problem,
        })
    }

    fn int_in<T: TryFrom<i64> + Copy>(
        &self,
        key: &str,
        value: Option<&Spanned<i64>>,
        range: std::ops::RangeInclusive<i64>,
        default: T,
    ) -> Result<T, ConfigError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let n = *value.get_ref();
        match T::try_from(n) {
            Ok(v) if range.contains(&n) => Ok(v),
            _ => self.invalid(
                key,
                value.span(),
                format!(
                    "must be between {} and {}, got {n}",
                    range.start(),
                    range.end()
                ),
            ),
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let display = path.display().to_string();
        let text =
            crate::fsutil::read_text(path).map_err(|e| ConfigError::unreadable(&display, e))?;
        let mut config = Self::parse(&display, &text)?;
        config.source = Some(path.to_path_buf());
        // Paths in the file are relative to the file, wherever the program runs from.
        let base = path.parent().unwrap_or(Path::new(""));
        for dir in config
            .policy_dirs
            .iter_mut()
            .chain([&mut config.output.directory, &mut config.serve.state_file])
            .chain(config.serve.web_config_file.as_mut())
        {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        Ok(config)
    }

    /// Parses and validates config text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            ConfigError::Parse {
                path: origin.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        let tables = checks::read_tables(origin, text)?;
        let mut config = Self::from_raw(origin, text, raw)?;
        config.source = Some(PathBuf::from(origin));
        config.check_tables = tables;
        Ok(config)
    }

    /// `data.config` for the policies: the thresholds the loaded checks declare
    /// (`declared`, by check id), at the values of the `[checks.<id>]` tables or their
    /// defaults. A table naming no loaded check, an undeclared threshold or an invalid value
    /// is an error naming the file, line and key.
    pub fn thresholds(
        &self,
        declared: &BTreeMap<String, BTreeMap<String, checks::ThresholdSpec>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Result<serde_json::Value, ConfigError> {
        let path = self
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        checks::resolve(&path, &self.check_tables, declared, known)
    }

    /// Checks what only the loaded policies can tell: every `[checks.<id>]` table and every
    /// waiver names a check that exists.
    pub fn validate_check_ids(&self, known: &dyn Fn(&str) -> bool) -> Result<(), ConfigError> {
        let path = self
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for (id, table) in &self.check_tables {
            if !known(id) {
                return Err(ConfigError::Invalid {
                    path,
                    line: table.line,
                    key: format!("checks.{id}"),
                    problem: crate::vocab::unknown_check_problem(id),
                });
            }
        }
        for waiver in &self.waivers {
            if !known(&waiver.check_id) {
                return Err(ConfigError::Invalid {
                    path,
                    line: waiver.line,
                    key: "waivers.check".into(),
                    problem: crate::vocab::unknown_check_problem(&waiver.check_id),
                });
            }
        }
        Ok(())
    }

    fn from_raw(origin: &str, text: &str, raw: RawConfig) -> Result<Self, ConfigError> {
        let v = Validator { path: origin, text };
        let defaults = Self::default();
        let regions = v.regions(raw.regions.as_ref())?;
        Ok(Self {
            source: None,
            export: v.export(raw.export.as_ref(), &regions)?,
            regions,
            endpoint_url: v.endpoint_url(raw.endpoint_url.as_ref())?,
            concurrency: v.int_in(
                "concurrency",
                raw.concurrency.as_ref(),
                1..=256,
                defaults.concurrency,
            )?,
            max_attempts: v.int_in(
                "max_attempts",
                raw.max_attempts.as_ref(),
                1..=20,
                defaults.max_attempts,
            )?,
            call_timeout: Duration::from_secs(v.int_in(
                "call_timeout_seconds",
                raw.call_timeout_seconds.as_ref(),
                1..=3600,
                defaults.call_timeout.as_secs(),
            )?),
            jitter: Duration::from_secs(v.int_in(
                "jitter_seconds",
                raw.jitter_seconds.as_ref(),
                0..=3600,
                0u64,
            )?),
            schedule: v
                .schedule(raw.schedule.as_ref())?
                .unwrap_or(defaults.schedule),
            output: v.output(raw.output.as_ref())?,
            policy_dirs: v.policy_dirs(raw.policy_dirs.as_ref())?,
            waivers: v.waivers(raw.waivers.as_ref())?,
            serve: v.serve(raw.serve.as_ref())?,
            accounts: v.accounts(&raw)?,
            cloudtrail: v.cloudtrail(raw.cloudtrail.as_ref())?,
            check_tables: BTreeMap::new(),
        })
    }
}

/// The top-level keys.
impl Validator<'_> {
    fn regions(&self, raw: Option<&Spanned<Vec<Spanned<String>>>>) -> Result<Regions, ConfigError> {
        let Some(list) = raw else {
            return Ok(Regions::default());
        };
        let names: Vec<&str> = list
            .get_ref()
            .iter()
            .map(|r| r.get_ref().as_str())
            .collect();
        Regions::parse(&names)
            .or_else(|(i, problem)| self.invalid("regions", list.get_ref()[i].span(), problem))
    }

    fn endpoint_url(&self, raw: Option<&Spanned<String>>) -> Result<Option<String>, ConfigError> {
        let Some(url) = raw else {
            return Ok(None);
        };
        let u = url.get_ref();
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
            return self.invalid(
                "endpoint_url",
                url.span(),
                format!("{u:?} is not an http(s) URL"),
            );
        }
        Ok(Some(u.clone()))
    }

    /// `schedule`, parsed by the parser (and with the settings) tokio-cron-scheduler uses.
    fn schedule(&self, raw: Option<&Spanned<String>>) -> Result<Option<String>, ConfigError> {
        let Some(s) = raw else {
            return Ok(None);
        };
        let expr = s.get_ref();
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .build();
        if let Err(e) = parser.parse(expr) {
            return self.invalid(
                "schedule",
                s.span(),
                format!("{expr:?} is not a cron expression with a seconds field (like \"0 */15 * * * *\"): {e}"),
            );
        }
        Ok(Some(expr.clone()))
    }

    fn policy_dirs(
        &self,
        raw: Option<&Spanned<Vec<Spanned<String>>>>,
    ) -> Result<Vec<PathBuf>, ConfigError> {
        raw.map_or(&[][..], |dirs| dirs.get_ref())
            .iter()
            .map(|d| {
                if d.get_ref().trim().is_empty() {
                    self.invalid("policy_dirs", d.span(), "must not be empty".into())
                } else {
                    Ok(PathBuf::from(d.get_ref()))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
