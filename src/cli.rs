//! The command line: parsed with clap, turned into the plain options of [`crate::cmd`] and
//! dispatched. The clap types live here and nowhere else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;
use crate::cmd::scan::{Output, ScanOptions};
use crate::cmd::teardown::TeardownOptions;
use crate::config::Shard;
use crate::report::Status;
use crate::telemetry;
use crate::vocab::{ReportFormat, Severity};

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

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    /// The domain id (d-...).
    #[arg(long, value_name = "ID")]
    pub domain: String,
    /// Its region; default: the config's first region, else AWS_REGION (with
    /// --from-snapshot: wherever the snapshot has the domain).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// With --from-snapshot: the account to look in, when the snapshot holds several.
    #[arg(long, value_name = "ID", requires = "from_snapshot")]
    pub account: Option<String>,
    /// Plan offline from a saved snapshot (`scan --save-snapshot`) instead of reading AWS.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub from_snapshot: Option<PathBuf>,
    /// A config file: its endpoint_url, max_attempts, call_timeout_seconds and regions apply.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `text`: numbered steps with their `aws` commands; `json`: the same, for programs.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot (or load one), judge it with the policies, report the findings.
    Scan(ScanArgs),
    /// The daemon: scans on the config's schedule, keeps the finding history, serves
    /// /metrics, /healthz, /readyz and /api/findings. SIGHUP reloads the config.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Another directory of policies (repeatable), besides the config's `policy_dirs`.
        #[arg(long = "policy-dir", value_name = "DIR")]
        policy_dirs: Vec<PathBuf>,
        /// Scan only the accounts of shard K of N (like 2/3), or of a 0-based index I of N
        /// (`index=I/N`: a StatefulSet's pod index); overrides `shard` of the config.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
        /// TLS and basic auth of the endpoints: a web config file as Prometheus exporters
        /// take it (tls_server_config, basic_auth_users); overrides `serve.web_config_file`.
        #[arg(long = "web.config.file", value_name = "FILE")]
        web_config: Option<PathBuf>,
    },
    /// Check a config file and the policies it loads, without calling AWS.
    Validate {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Another directory of policies (repeatable), besides the config's `policy_dirs`.
        #[arg(long = "policy-dir", value_name = "DIR")]
        policy_dirs: Vec<PathBuf>,
    },
    /// List or test the policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print the ordered, read-only plan to delete a domain completely (apps, spaces, user
    /// profiles, the domain, its home EFS and NFS security groups), also for a domain already
    /// deleted whose storage was left behind. Executes nothing.
    TeardownPlan(TeardownArgs),
    /// Print the JSON Schema of the snapshot (the input policies are written against).
    Schema,
    /// What changed between two findings reports (`scan --format json`), or between two
    /// snapshots (`scan --save-snapshot`: their resources, and the findings the policies
    /// give each): new, resolved and changed findings.
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier report or snapshot.
    pub old: PathBuf,
    /// The later one (of the same kind).
    pub new: PathBuf,
    /// `markdown` suits a CI job summary or a pull-request comment.
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Table)]
    pub format: DiffFormatArg,
    /// Exit with 3 when a new FAIL at or above this severity appears.
    #[arg(long, value_name = "SEVERITY", value_parser = severity_parser())]
    pub fail_on: Option<Severity>,
    /// Snapshots only: the config whose thresholds, waivers and policy_dirs judge them.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Snapshots only: another directory of policies (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    pub policy_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Every loaded check: id, severity, title, source file.
    List {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long = "policy-dir", value_name = "DIR")]
        policy_dirs: Vec<PathBuf>,
    },
    /// Run the `test_*` rules of the built-in policies, or of the given directories.
    Test {
        /// Policy directories to test (their checks and tests, with the built-in `lib/`);
        /// none: the built-in policies.
        dirs: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Region to scan (repeatable), or `all` (every region enabled in each account); overrides
    /// `regions` of the config.
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
    /// Output format: a report format (table, json, ocsf, asff) or `inventory` (what the
    /// snapshot holds, unjudged); default: table on a terminal, the JSON report otherwise.
    #[arg(long, value_name = "FORMAT", value_parser = output_parser())]
    pub format: Option<Output>,
    /// Another directory of policies (repeatable), besides the config's `policy_dirs`.
    #[arg(long = "policy-dir", value_name = "DIR")]
    pub policy_dirs: Vec<PathBuf>,
    /// Exit with 3 when a FAIL finding (not muted) at or above this severity exists.
    #[arg(long, value_name = "SEVERITY", value_parser = severity_parser())]
    pub fail_on: Option<Severity>,
    /// Write the output to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List only the findings of these statuses (comma-separated or repeated: `fail,error`);
    /// the summary still counts every finding, and `--fail-on` judges every FAIL. Default:
    /// the config's `[output] statuses`, else all.
    #[arg(
        long = "status",
        value_name = "STATUS",
        value_delimiter = ',',
        ignore_case = true,
        value_parser = status_parser()
    )]
    pub statuses: Vec<Status>,
    /// Scan only the accounts of shard K of N (like 2/3): N replicas with K = 1..N split the
    /// accounts between them; `index=I/N` takes a 0-based I (a StatefulSet's pod index).
    /// Overrides `shard` of the config.
    #[arg(long, value_name = "K/N", conflicts_with = "from_snapshot")]
    pub shard: Option<Shard>,
}

/// `--format`: the names of [`ReportFormat`], and `inventory`.
fn output_parser() -> impl TypedValueParser<Value = Output> {
    let mut names: Vec<&'static str> = ReportFormat::ALL.iter().map(|f| f.as_str()).collect();
    names.insert(0, "inventory");
    clap::builder::PossibleValuesParser::new(names)
        .map(|name: String| ReportFormat::parse(&name).map_or(Output::Inventory, Output::Report))
}

/// `--status`: a finding [`Status`] by name, case-insensitive.
fn status_parser() -> impl TypedValueParser<Value = Status> {
    clap::builder::PossibleValuesParser::new(["fail", "error", "muted", "pass"])
        .map(|name: String| Status::parse(&name).unwrap_or(Status::Fail))
}

/// `--fail-on`: a [`Severity`] by name.
fn severity_parser() -> impl TypedValueParser<Value = Severity> {
    let names: Vec<&'static str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    clap::builder::PossibleValuesParser::new(names)
        .map(|name: String| Severity::parse(&name).unwrap_or(Severity::Info))
}

impl From<LogFormat> for telemetry::LogFormat {
    fn from(f: LogFormat) -> Self {
        match f {
            LogFormat::Auto => Self::Auto,
            LogFormat::Text => Self::Text,
            LogFormat::Json => Self::Json,
        }
    }
}

impl From<ScanArgs> for ScanOptions {
    fn from(a: ScanArgs) -> Self {
        Self {
            config: a.config,
            regions: a.regions,
            from_snapshot: a.from_snapshot,
            save_snapshot: a.save_snapshot,
            output: a.format,
            policy_dirs: a.policy_dirs,
            fail_on: a.fail_on,
            output_file: a.output,
            shard: a.shard,
            statuses: a.statuses,
        }
    }
}

impl From<TeardownArgs> for TeardownOptions {
    fn from(a: TeardownArgs) -> Self {
        Self {
            domain: a.domain,
            region: a.region,
            account: a.account,
            from_snapshot: a.from_snapshot,
            config: a.config,
            format: match a.format {
                PlanFormat::Text => cmd::teardown::PlanFormat::Text,
                PlanFormat::Json => cmd::teardown::PlanFormat::Json,
            },
        }
    }
}

pub async fn run(cli: Cli) -> crate::Result<ExitCode> {
    let logs = telemetry::init(cli.log_format.into(), "info");
    match cli.command {
        Command::Serve {
            config,
            policy_dirs,
            shard,
            web_config,
        } => {
            let sources = cmd::serve::Sources {
                config,
                policy_dirs,
                shard,
                web_config,
            };
            let loaded = cmd::serve::Loaded::load(&sources)?;
            logs.set_level(&loaded.config.serve.log_level);
            cmd::serve::run(sources, loaded, logs).await
        }
        Command::Scan(args) => cmd::scan::run(args.into()).await,
        Command::TeardownPlan(args) => cmd::teardown::run(args.into()).await,
        Command::Validate {
            config,
            policy_dirs,
        } => cmd::validate(&config, &policy_dirs),
        Command::Policy(PolicyCommand::List {
            config,
            policy_dirs,
        }) => cmd::policy_list(config.as_deref(), &policy_dirs),
        Command::Policy(PolicyCommand::Test { dirs }) => cmd::policy_test(&dirs),
        Command::Schema => cmd::schema(),
        Command::Diff(a) => cmd::diff::run(cmd::diff::DiffOptions {
            old: a.old,
            new: a.new,
            format: match a.format {
                DiffFormatArg::Table => cmd::diff::DiffFormat::Table,
                DiffFormatArg::Json => cmd::diff::DiffFormat::Json,
                DiffFormatArg::Markdown => cmd::diff::DiffFormat::Markdown,
            },
            fail_on: a.fail_on,
            config: a.config,
            policy_dirs: a.policy_dirs,
        }),
    }
}
