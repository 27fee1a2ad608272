//! Configuration, read in two phases: [`raw`] mirrors the TOML file exactly (unknown keys are
//! errors), then [`Config::from_raw`] validates it into the typed settings the program uses.
//! Every error names the file, the line and the key.

mod accounts;
mod raw;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use toml::Spanned;

pub use crate::vocab::ReportFormat;
pub use accounts::{
    AccountTarget, AccountsConfig, CloudTrailConfig, OrganizationConfig, Shard, is_account_id,
};
pub use raw::RawConfig;

use std::collections::BTreeMap;

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    /// Regions to scan; empty means the default chain's region.
    pub regions: Vec<String>,
    /// `regions = ["all"]`: every region enabled in each account (EC2 `DescribeRegions`).
    pub all_regions: bool,
    /// Which accounts, reached how.
    pub accounts: AccountsConfig,
    pub cloudtrail: CloudTrailConfig,
    pub endpoint_url: Option<String>,
    /// AWS calls in flight at once.
    pub concurrency: usize,
    pub max_attempts: u32,
    pub call_timeout: Duration,
    /// Cron expression with a seconds field (`sec min hour day month weekday`) for `serve`.
    pub schedule: String,
    pub jitter: Duration,
    pub output: OutputConfig,
    pub checks: ChecksConfig,
    /// Directories of users' own policies, besides the built-in ones.
    pub policy_dirs: Vec<PathBuf>,
    pub waivers: Vec<Waiver>,
    pub serve: ServeConfig,
    /// Line of each `[checks.<id>]` table, to report an id no loaded check has.
    check_table_lines: BTreeMap<String, usize>,
}

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

/// `[serve]`: settings of the daemon only.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Address of /metrics, /healthz, /readyz and /api/findings.
    pub listen: std::net::SocketAddr,
    /// The SQLite finding history.
    pub state_file: PathBuf,
    /// A `tracing` filter (`info`, `sagemaker_auditor=debug,warn`); `RUST_LOG` wins when set.
    pub log_level: String,
    /// A scan running longer is abandoned and counted as failed.
    pub scan_timeout: Duration,
    /// On SIGTERM, how long the scan in flight may still take before it is abandoned.
    pub shutdown_timeout: Duration,
    /// TLS and basic auth of the endpoints: a Prometheus exporter-toolkit web config file.
    pub web_config_file: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 9464)),
            state_file: PathBuf::from("state.db"),
            log_level: "info".into(),
            scan_timeout: Duration::from_secs(3600),
            shutdown_timeout: Duration::from_secs(30),
            web_config_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    /// Where `serve` writes reports.
    pub directory: PathBuf,
    pub format: ReportFormat,
    /// How long reports and history are kept.
    pub retention_days: u32,
}

/// Thresholds of the built-in checks, handed to the policies as `data.config`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChecksConfig {
    pub app_idle: AppIdle,
    pub execution_role_shared_by_users: RoleSharedByUsers,
    pub domain_vpconly_missing_endpoints: MissingEndpoints,
    pub efs_orphaned_home: OrphanedEfs,
    /// `[checks.<id>]` tables of users' own checks, passed through as they are written.
    #[serde(flatten)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppIdle {
    pub idle_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleSharedByUsers {
    pub max_user_profiles: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingEndpoints {
    pub required_services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrphanedEfs {
    pub price_per_gb_month: f64,
}

/// Built-in checks whose `[checks.<id>]` tables are typed and validated here.
const BUILTIN_THRESHOLDS: [&str; 4] = [
    "app_idle",
    "execution_role_shared_by_users",
    "domain_vpconly_missing_endpoints",
    "efs_orphaned_home",
];

pub const DEFAULT_REQUIRED_SERVICES: [&str; 5] = [
    "sagemaker.api",
    "sagemaker.runtime",
    "s3",
    "servicecatalog",
    "sts",
];

impl Default for ChecksConfig {
    fn default() -> Self {
        Self {
            app_idle: AppIdle { idle_hours: 24.0 },
            execution_role_shared_by_users: RoleSharedByUsers {
                max_user_profiles: 1,
            },
            domain_vpconly_missing_endpoints: MissingEndpoints {
                required_services: DEFAULT_REQUIRED_SERVICES.map(String::from).to_vec(),
            },
            efs_orphaned_home: OrphanedEfs {
                price_per_gb_month: 0.30,
            },
            custom: BTreeMap::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            source: None,
            regions: Vec::new(),
            all_regions: false,
            accounts: AccountsConfig::default(),
            cloudtrail: CloudTrailConfig::default(),
            endpoint_url: None,
            concurrency: 8,
            max_attempts: 10,
            call_timeout: Duration::from_secs(120),
            schedule: "0 0 * * * *".into(),
            jitter: Duration::ZERO,
            output: OutputConfig {
                directory: PathBuf::from("reports"),
                format: ReportFormat::Json,
                retention_days: 30,
            },
            checks: ChecksConfig::default(),
            policy_dirs: Vec::new(),
            waivers: Vec::new(),
            serve: ServeConfig::default(),
            check_table_lines: BTreeMap::new(),
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

    fn positive_f64(
        &self,
        key: &str,
        value: Option<&Spanned<f64>>,
        default: f64,
    ) -> Result<f64, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => Ok(*v.get_ref()),
            Some(v) => self.invalid(
                key,
                v.span(),
                format!("must be a positive number, got {}", v.get_ref()),
            ),
        }
    }
}

impl Validator<'_> {
    fn serve(&self, raw: Option<&raw::RawServe>) -> Result<ServeConfig, ConfigError> {
        let mut serve = ServeConfig::default();
        let Some(raw) = raw else {
            return Ok(serve);
        };
        if let Some(listen) = &raw.listen {
            serve.listen = match listen.get_ref().parse() {
                Ok(addr) => addr,
                Err(_) => {
                    return self.invalid(
                        "serve.listen",
                        listen.span(),
                        format!(
                            "{:?} is not an IP address and port (like \"127.0.0.1:9464\" or \"[::]:9464\")",
                            listen.get_ref()
                        ),
                    );
                }
            };
        }
        if let Some(file) = &raw.web_config_file {
            if file.get_ref().trim().is_empty() {
                return self.invalid(
                    "serve.web_config_file",
                    file.span(),
                    "must not be empty".into(),
                );
            }
            serve.web_config_file = Some(PathBuf::from(file.get_ref()));
        }
        if let Some(file) = &raw.state_file {
            if file.get_ref().trim().is_empty() {
                return self.invalid("serve.state_file", file.span(), "must not be empty".into());
            }
            serve.state_file = PathBuf::from(file.get_ref());
        }
        if let Some(level) = &raw.log_level {
            if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(level.get_ref()) {
                return self.invalid(
                    "serve.log_level",
                    level.span(),
                    format!(
                        "{:?} is not a log filter (like \"info\" or \"sagemaker_auditor=debug,warn\"): {e}",
                        level.get_ref()
                    ),
                );
            }
            serve.log_level = level.get_ref().clone();
        }
        serve.scan_timeout = Duration::from_secs(self.int_in(
            "serve.scan_timeout_seconds",
            raw.scan_timeout_seconds.as_ref(),
            10..=86_400,
            serve.scan_timeout.as_secs(),
        )?);
        serve.shutdown_timeout = Duration::from_secs(self.int_in(
            "serve.shutdown_timeout_seconds",
            raw.shutdown_timeout_seconds.as_ref(),
            0..=3600,
            serve.shutdown_timeout.as_secs(),
        )?);
        Ok(serve)
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
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
        // Cannot fail where the first reading succeeded: same document, laxer shape.
        let tables: raw::RawCheckTables = toml::from_str(text).unwrap_or_default();
        let mut config = Self::from_raw(origin, text, raw)?;
        config.source = Some(PathBuf::from(origin));
        for (id, table) in tables.checks.unwrap_or_default() {
            config
                .check_table_lines
                .insert(id.clone(), line_col(text, table.span().start).0);
            if !table.get_ref().is_table() {
                return Err(ConfigError::Invalid {
                    path: origin.to_string(),
                    line: line_col(text, table.span().start).0,
                    key: format!("checks.{id}"),
                    problem: "must be a table of the check's thresholds".into(),
                });
            }
            if !BUILTIN_THRESHOLDS.contains(&id.as_str()) {
                let value =
                    serde_json::to_value(table.get_ref()).map_err(|e| ConfigError::Invalid {
                        path: origin.to_string(),
                        line: line_col(text, table.span().start).0,
                        key: format!("checks.{id}"),
                        problem: e.to_string(),
                    })?;
                config.checks.custom.insert(id, value);
            }
        }
        Ok(config)
    }

    /// Checks what only the loaded policies can tell: every `[checks.<id>]` table and every
    /// waiver names a check that exists.
    pub fn validate_check_ids(&self, known: &dyn Fn(&str) -> bool) -> Result<(), ConfigError> {
        let path = self
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for (id, line) in &self.check_table_lines {
            if !known(id) {
                return Err(ConfigError::Invalid {
                    path,
                    line: *line,
                    key: format!("checks.{id}"),
                    problem: format!("no loaded check has the id {id:?}"),
                });
            }
        }
        for waiver in &self.waivers {
            if !known(&waiver.check_id) {
                return Err(ConfigError::Invalid {
                    path,
                    line: waiver.line,
                    key: "waivers.check".into(),
                    problem: format!("no loaded check has the id {:?}", waiver.check_id),
                });
            }
        }
        Ok(())
    }

    fn from_raw(origin: &str, text: &str, raw: RawConfig) -> Result<Self, ConfigError> {
        let v = Validator { path: origin, text };
        let defaults = Self::default();

        let mut regions = Vec::new();
        let mut all_regions = false;
        if let Some(list) = &raw.regions {
            for region in list.get_ref() {
                let name = region.get_ref();
                if name == "all" {
                    if list.get_ref().len() > 1 {
                        return v.invalid(
                            "regions",
                            region.span(),
                            "\"all\" stands alone: it means every region enabled in each account"
                                .into(),
                        );
                    }
                    all_regions = true;
                    continue;
                }
                if !is_region_name(name) {
                    return v.invalid(
                        "regions",
                        region.span(),
                        format!("{name:?} is not an AWS region name (like \"us-east-1\")"),
                    );
                }
                if !regions.contains(name) {
                    regions.push(name.clone());
                }
            }
        }

        let endpoint_url = match &raw.endpoint_url {
            None => None,
            Some(url) => {
                let u = url.get_ref();
                if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
                    return v.invalid(
                        "endpoint_url",
                        url.span(),
                        format!("{u:?} is not an http(s) URL"),
                    );
                }
                Some(u.clone())
            }
        };

        let concurrency = v.int_in(
            "concurrency",
            raw.concurrency.as_ref(),
            1..=256,
            defaults.concurrency,
        )?;
        let max_attempts = v.int_in(
            "max_attempts",
            raw.max_attempts.as_ref(),
            1..=20,
            defaults.max_attempts,
        )?;
        let call_timeout = Duration::from_secs(v.int_in(
            "call_timeout_seconds",
            raw.call_timeout_seconds.as_ref(),
            1..=3600,
            defaults.call_timeout.as_secs(),
        )?);
        let jitter = Duration::from_secs(v.int_in(
            "jitter_seconds",
            raw.jitter_seconds.as_ref(),
            0..=3600,
            0u64,
        )?);

        let schedule = match &raw.schedule {
            None => defaults.schedule,
            Some(s) => {
                let expr = s.get_ref();
                // The parser and settings tokio-cron-scheduler itself uses for `serve`.
                let parser = croner::parser::CronParser::builder()
                    .seconds(croner::parser::Seconds::Required)
                    .build();
                if let Err(e) = parser.parse(expr) {
                    return v.invalid(
                        "schedule",
                        s.span(),
                        format!("{expr:?} is not a cron expression with a seconds field (like \"0 */15 * * * *\"): {e}"),
                    );
                }
                expr.clone()
            }
        };

        let mut output = defaults.output;
        if let Some(o) = &raw.output {
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
                            format!("{name:?} is not one of json, ocsf, asff, table"),
                        );
                    }
                };
            }
            output.retention_days = v.int_in(
                "output.retention_days",
                o.retention_days.as_ref(),
                1..=3650,
                output.retention_days,
            )?;
        }

        let mut checks = defaults.checks;
        if let Some(c) = &raw.checks {
            if let Some(t) = &c.app_idle {
                checks.app_idle.idle_hours = v.positive_f64(
                    "checks.app_idle.idle_hours",
                    t.idle_hours.as_ref(),
                    checks.app_idle.idle_hours,
                )?;
            }
            if let Some(t) = &c.execution_role_shared_by_users {
                checks.execution_role_shared_by_users.max_user_profiles = v.int_in(
                    "checks.execution_role_shared_by_users.max_user_profiles",
                    t.max_user_profiles.as_ref(),
                    1..=100_000,
                    checks.execution_role_shared_by_users.max_user_profiles,
                )?;
            }
            if let Some(t) = &c.domain_vpconly_missing_endpoints
                && let Some(list) = &t.required_services
            {
                let key = "checks.domain_vpconly_missing_endpoints.required_services";
                if list.get_ref().is_empty() {
                    return v.invalid(key, list.span(), "must name at least one service".into());
                }
                let mut services = Vec::new();
                for s in list.get_ref() {
                    let name = s.get_ref();
                    if name.is_empty()
                        || name.starts_with("com.amazonaws.")
                        || !name.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
                        })
                    {
                        return v.invalid(key, s.span(), format!("{name:?} is not a short service name (like \"sagemaker.api\"; the com.amazonaws.<region>. prefix is added)"));
                    }
                    services.push(name.clone());
                }
                checks.domain_vpconly_missing_endpoints.required_services = services;
            }
            if let Some(t) = &c.efs_orphaned_home {
                checks.efs_orphaned_home.price_per_gb_month = v.positive_f64(
                    "checks.efs_orphaned_home.price_per_gb_month",
                    t.price_per_gb_month.as_ref(),
                    checks.efs_orphaned_home.price_per_gb_month,
                )?;
            }
        }

        let policy_dirs = raw
            .policy_dirs
            .as_ref()
            .map(|dirs| {
                dirs.get_ref()
                    .iter()
                    .map(|d| {
                        if d.get_ref().trim().is_empty() {
                            v.invalid("policy_dirs", d.span(), "must not be empty".into())
                        } else {
                            Ok(PathBuf::from(d.get_ref()))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();

        let mut waivers = Vec::new();
        for waiver in raw.waivers.iter().flatten() {
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

        let serve = v.serve(raw.serve.as_ref())?;
        let accounts = v.accounts(&raw)?;
        let cloudtrail = v.cloudtrail(raw.cloudtrail.as_ref())?;

        Ok(Self {
            source: None,
            serve,
            policy_dirs,
            waivers,
            check_table_lines: BTreeMap::new(),
            regions,
            all_regions,
            accounts,
            cloudtrail,
            endpoint_url,
            concurrency,
            max_attempts,
            call_timeout,
            schedule,
            jitter,
            output,
            checks,
        })
    }
}

#[cfg(test)]
mod tests;
