//! The command line: parsed with clap, dispatched to the pipeline.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::snapshot::Snapshot;

#[derive(Debug, Parser)]
#[command(
    name = "sagemaker-auditor",
    version,
    about = "Audits AWS SageMaker domains: profiles, spaces, apps, execution roles, VpcOnly readiness and orphaned domain storage"
)]
pub struct Cli {
    /// Log format on stderr: `auto` is human on a terminal and JSON otherwise.
    #[arg(long, value_enum, default_value_t = LogFormat::Auto, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot (or load one) and print what it holds.
    Scan(ScanArgs),
    /// Check a config file without calling AWS.
    Validate {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Print the JSON Schema of the snapshot (the input policies are written against).
    Schema,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Region to scan (repeatable); overrides `regions` of the config.
    #[arg(
        long = "region",
        value_name = "REGION",
        conflicts_with = "from_snapshot"
    )]
    pub regions: Vec<String>,
    /// Read this saved snapshot instead of calling AWS.
    #[arg(long, value_name = "FILE")]
    pub from_snapshot: Option<PathBuf>,
    /// Also save the snapshot taken (written atomically).
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
    /// Output format; default: table on a terminal, JSON otherwise.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write the output to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

pub fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("sagemaker_auditor=info,warn"));
    let json = match cli.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: keep the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn run(cli: Cli) -> crate::Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => crate::scan::run(args).await,
        Command::Validate { config } => {
            let config = Config::load(&config)?;
            println!(
                "{}: valid ({} region(s), schedule {:?})",
                config
                    .source
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                config.regions.len(),
                config.schedule
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", Snapshot::json_schema());
            Ok(ExitCode::SUCCESS)
        }
    }
}
