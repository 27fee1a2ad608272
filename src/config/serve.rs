//! `[serve]`: the daemon's own settings.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Validator};

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
    /// HTTP connections open at once (TLS handshakes included); more are closed on accept.
    pub max_connections: usize,
    /// The path of `external_url` (the URL users reach the daemon at, behind a proxy),
    /// without a trailing slash; empty when none. The endpoints are served under it as well
    /// as at the root, and the web page's links resolve under it.
    pub route_prefix: String,
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
            max_connections: 64,
            route_prefix: String::new(),
        }
    }
}

/// `[serve]`: the daemon's own settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServe {
    pub(super) listen: Option<Spanned<String>>,
    pub(super) state_file: Option<Spanned<String>>,
    pub(super) log_level: Option<Spanned<String>>,
    pub(super) scan_timeout_seconds: Option<Spanned<i64>>,
    pub(super) shutdown_timeout_seconds: Option<Spanned<i64>>,
    pub(super) web_config_file: Option<Spanned<String>>,
    pub(super) max_connections: Option<Spanned<i64>>,
    pub(super) external_url: Option<Spanned<String>>,
}

impl Validator<'_> {
    pub(super) fn serve(&self, raw: Option<&RawServe>) -> Result<ServeConfig, ConfigError> {
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
        serve.max_connections = self.int_in(
            "serve.max_connections",
            raw.max_connections.as_ref(),
            4..=10_000,
            serve.max_connections,
        )?;
        if let Some(url) = &raw.external_url {
            serve.route_prefix = match crate::exporter::http::external_prefix(url.get_ref()) {
                Ok(prefix) => prefix,
                Err(problem) => return self.invalid("serve.external_url", url.span(), problem),
            };
        }
        Ok(serve)
    }
}
