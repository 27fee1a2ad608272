//! sagemaker-auditor: snapshots SageMaker domains with everything around them and judges them.
//!
//! The layers, top to bottom (each imports only those below it):
//! - [`cli`] parses the command line into the plain options of [`cmd`], the commands;
//! - [`pipeline`]: the one path from AWS to a report that `scan` and `serve` share;
//! - its stages: [`collect`] (the only code that talks to AWS), [`policy`] (Rego checks),
//!   [`report`] (findings and their formats), [`state`] (the finding history), [`exporter`]
//!   (metrics and HTTP), and [`teardown`] (the deletion plan);
//! - the vocabulary they share: [`snapshot`] (our own serde model of what was collected),
//!   [`config`], [`vocab`] (ARNs, resource types, services, severities) and [`fsutil`].

pub mod cli;
pub(crate) mod cmd;
pub mod collect;
pub mod config;
pub mod export;
pub mod exporter;
pub(crate) mod fsutil;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod snapshot;
pub mod state;
pub(crate) mod teardown;
pub(crate) mod telemetry;
pub mod vocab;

#[cfg(test)]
mod bad_input_tests;

/// Errors that end a command, each mapped to the documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error(transparent)]
    State(#[from] state::StateError),
    /// The daemon cannot start or keep running (exit 1).
    #[error("serve: {0}")]
    Serve(String),
    /// The command line or environment cannot work (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The scan could not run at all (exit 1).
    #[error("scan failed: {0}")]
    ScanFailed(String),
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit codes README documents: 2 bad usage, config, policy or input; 1 the scan could not run. (3,
    /// failing findings, is not an error: `scan` returns it.)
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Usage(_) | Self::Policy(_) => 2,
            Self::Snapshot(snapshot::SnapshotError::Write { .. }) => 1,
            Self::Snapshot(_) => 2,
            Self::ScanFailed(_) | Self::Write { .. } | Self::State(_) | Self::Serve(_) => 1,
        }
    }
}
