//! Logs on stderr with `tracing-subscriber`: human-readable on a terminal, JSON lines
//! otherwise (or as `--log-format` says). The level comes from `RUST_LOG` when set, else from
//! the config (`[serve] log_level`), and follows a config reload.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

/// Where logs go as what: `Auto` is human on a terminal and JSON lines otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

/// Changes the log filter of the running process.
pub struct LogControl {
    handle: Option<reload::Handle<EnvFilter, Registry>>,
    /// `RUST_LOG` was set: it wins over the config.
    from_env: bool,
}

/// `level` is a filter such as `info`; our crate logs at that level, others at `warn` unless
/// the filter names them.
fn filter_for(level: &str) -> EnvFilter {
    let directives = if level.contains('=') {
        level.to_string()
    } else {
        format!("sagemaker_auditor={level},warn")
    };
    EnvFilter::builder()
        .parse(&directives)
        .unwrap_or_else(|_| EnvFilter::new("sagemaker_auditor=info,warn"))
}

pub fn init(format: LogFormat, level: &str) -> LogControl {
    let (filter, from_env) = match EnvFilter::try_from_default_env() {
        Ok(f) => (f, true),
        Err(_) => (filter_for(level), false),
    };
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let output = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    // A second initialisation (tests) keeps the first subscriber.
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init()
        .is_ok();
    LogControl {
        handle: installed.then_some(handle),
        from_env,
    }
}

impl LogControl {
    /// Applies a reloaded config's level, unless `RUST_LOG` decides.
    pub fn set_level(&self, level: &str) {
        if self.from_env {
            return;
        }
        if let Some(handle) = &self.handle
            && let Err(e) = handle.reload(filter_for(level))
        {
            tracing::warn!(error = %e, "cannot change the log level");
        }
    }
}
