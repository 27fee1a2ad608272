//! `scan`: take or load a snapshot, optionally save it, judge it with the policies and
//! report the findings.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};

use crate::cli::{OutputFormat, ScanArgs};
use crate::collect::{AwsClients, ClientSettings, CollectOptions, collect};
use crate::config::{Config, is_region_name};
use crate::policy::{PolicyError, PolicySet};
use crate::report::Report;
use crate::report::compliance::Compliance;
use crate::report::findings::{self, ReportInput};
use crate::report::inventory;
use crate::snapshot::Snapshot;
use crate::{Error, Result};

pub async fn run(args: ScanArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if args.shard.is_some() {
        config.accounts.shard = args.shard;
    }
    // Policies are checked before any AWS call: a broken policy fails fast with exit 2.
    let judge = Judge::load(&config, &args.policy_dirs)?;
    let snapshot = match &args.from_snapshot {
        Some(path) => Snapshot::load(path)?,
        None => {
            let since = config
                .cloudtrail
                .enabled
                .then(|| Utc::now() - config.cloudtrail.lookback);
            take_snapshot(&config, &args.regions, since).await?
        }
    };
    if let Some(path) = &args.save_snapshot {
        snapshot.save(path)?;
    }
    if args.from_snapshot.is_none()
        && let Some(reason) = nothing_read(&snapshot)
    {
        return Err(Error::ScanFailed(reason));
    }

    let mut report = judge.report(&snapshot, &config, Utc::now().date_naive());
    // A live scan with CloudTrail on (or a saved snapshot that has events): everything in
    // the window is both the attribution source and this report's changes.
    if (args.from_snapshot.is_none() && config.cloudtrail.enabled) || !snapshot.events.is_empty() {
        crate::report::changes::apply(&mut report, &snapshot.events, &snapshot.events);
    }
    log_completed(&snapshot, &report, started.elapsed().as_secs_f64());
    let to_terminal = std::io::stdout().is_terminal() && args.output.is_none();
    let format = args.format.unwrap_or(if to_terminal {
        OutputFormat::Table
    } else {
        OutputFormat::Json
    });
    // The inventory is the snapshot's; every other format is the report's alone, so the
    // snapshot goes before the report is rendered (peak memory of a large account).
    let rendered = match format {
        OutputFormat::Json => None,
        OutputFormat::Ocsf => Some(crate::report::ocsf::render(&report)),
        OutputFormat::Asff => Some(crate::report::asff::render(&report)),
        OutputFormat::Table => Some(crate::report::table::render(&report, to_terminal)),
        OutputFormat::Inventory => Some(inventory::json(&snapshot)),
    };
    drop(snapshot);
    // JSON, the largest, is serialised straight to its destination.
    let fill = |w: &mut dyn Write| match &rendered {
        Some(text) => w.write_all(text.as_bytes()),
        None => report.write_json(w),
    };
    match &args.output {
        Some(path) => {
            crate::fsutil::write_atomic_with(path, fill).map_err(|source| Error::Write {
                path: path.display().to_string(),
                source,
            })?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            let _ = fill(&mut out).and_then(|()| out.flush());
        }
    }

    match args.fail_on {
        Some(threshold) if report.fails_at_or_above(threshold.into()) => Ok(ExitCode::from(3)),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The loaded policies and compliance mappings: built once, used for every scan.
#[derive(Clone)]
pub struct Judge {
    pub policies: PolicySet,
    pub compliance: Compliance,
}

impl Judge {
    /// Built-in policies plus the config's `policy_dirs` and `extra_dirs`; the config's
    /// `[checks.<id>]` tables and waivers must name loaded checks.
    pub fn load(config: &Config, extra_dirs: &[PathBuf]) -> Result<Self> {
        let dirs: Vec<PathBuf> = config
            .policy_dirs
            .iter()
            .chain(extra_dirs)
            .cloned()
            .collect();
        let policies = PolicySet::load(&dirs)?;
        config.validate_check_ids(&|id| policies.check(id).is_some())?;
        let compliance = Compliance::builtin().map_err(PolicyError::Parse)?;
        Ok(Self {
            policies,
            compliance,
        })
    }

    /// Evaluates a snapshot into a findings report; `today` decides which waivers apply.
    pub fn report(&self, snapshot: &Snapshot, config: &Config, today: NaiveDate) -> Report {
        let thresholds = serde_json::to_value(&config.checks).unwrap_or_default();
        let input = snapshot.policy_input(self.policies.reads_events());
        let evaluation = self.policies.evaluate(&input, &thresholds);
        let duration_ms = evaluation.duration.as_millis() as u64;
        let report = findings::build(ReportInput {
            snapshot,
            policies: &self.policies,
            evaluation,
            waivers: &config.waivers,
            compliance: &self.compliance,
            today,
        });
        tracing::debug!(
            checks = self.policies.checks().len(),
            findings = report.findings.len(),
            fail = report.summary.fail,
            muted = report.summary.muted,
            error = report.summary.error,
            evaluation_errors = report.evaluation_errors.len(),
            duration_ms,
            "evaluation finished"
        );
        report
    }
}

/// Collects a snapshot with the configured (or command-line) regions, and the CloudTrail
/// events since `events_since` when it is given.
pub async fn take_snapshot(
    config: &Config,
    cli_regions: &[String],
    events_since: Option<DateTime<Utc>>,
) -> Result<Snapshot> {
    let all_regions = if cli_regions.is_empty() {
        config.all_regions
    } else {
        cli_regions.iter().any(|r| r == "all")
    };
    if all_regions && cli_regions.len() > 1 {
        return Err(Error::Usage(
            "--region all stands alone: it means every region enabled in each account".into(),
        ));
    }
    for region in cli_regions.iter().filter(|r| *r != "all") {
        if !is_region_name(region) {
            return Err(Error::Usage(format!(
                "--region {region:?} is not an AWS region name"
            )));
        }
    }
    let settings = ClientSettings {
        endpoint_url: config.endpoint_url.clone(),
        max_attempts: config.max_attempts,
        call_timeout: config.call_timeout,
    };
    let clients = AwsClients::from_env(&settings).await;
    let requested = if cli_regions.is_empty() {
        &config.regions[..]
    } else {
        cli_regions
    };
    let mut regions: Vec<String> = Vec::new();
    for region in requested.iter().filter(|r| *r != "all") {
        // A region named twice is scanned once.
        if !regions.contains(region) {
            regions.push(region.clone());
        }
    }
    if regions.is_empty() && !all_regions {
        match clients.default_region() {
            Some(r) => regions.push(r),
            None => {
                return Err(Error::Usage(
                    "no region to scan: pass --region, set `regions` in the config, or set AWS_REGION".into(),
                ));
            }
        }
    }
    let started = std::time::Instant::now();
    let snapshot = collect(
        &clients,
        &CollectOptions {
            regions,
            all_regions,
            concurrency: config.concurrency,
            accounts: config.accounts.clone(),
            events_since,
        },
    )
    .await;
    let counts = snapshot.resource_counts();
    let calls: u64 = snapshot.api_calls.iter().map(|c| c.calls).sum();
    tracing::debug!(
        accounts = snapshot.accounts.len(),
        domains = counts.domains,
        user_profiles = counts.user_profiles,
        spaces = counts.spaces,
        apps = counts.apps,
        execution_roles = counts.execution_roles,
        api_calls = calls,
        collection_errors = snapshot.collection_errors.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "scan finished"
    );
    Ok(snapshot)
}

/// Why a live scan produced nothing worth reporting (no account read, no unreachable account
/// to report, and errors: no credentials, no endpoint), or `None`. Unreachable accounts make
/// a report of their ERROR findings; an empty shard is an empty report.
pub fn nothing_read(snapshot: &Snapshot) -> Option<String> {
    if !snapshot.accounts.is_empty()
        || !snapshot.unreachable_accounts().is_empty()
        || snapshot.collection_errors.is_empty()
    {
        return None;
    }
    let reasons: Vec<String> = snapshot
        .collection_errors
        .iter()
        .map(|e| format!("{} {}: {}", e.service, e.operation, e.message))
        .collect();
    Some(format!("no account could be read ({})", reasons.join("; ")))
}

/// The one line a scan logs: what it read, what it found, how long it took.
pub fn log_completed(snapshot: &Snapshot, report: &Report, seconds: f64) {
    let counts = snapshot.resource_counts();
    let history = report.history.as_ref();
    tracing::info!(
        scan_id = %report.scan.id,
        outcome = crate::state::Outcome::of(report).as_str(),
        accounts = snapshot.accounts.len(),
        regions = report.scan.regions.len(),
        domains = counts.domains,
        user_profiles = counts.user_profiles,
        spaces = counts.spaces,
        apps = counts.apps,
        execution_roles = counts.execution_roles,
        api_calls = snapshot.api_calls.iter().map(|c| c.calls).sum::<u64>(),
        collection_errors = snapshot.collection_errors.len(),
        evaluation_errors = report.evaluation_errors.len(),
        pass = report.summary.pass,
        fail = report.summary.fail,
        muted = report.summary.muted,
        error = report.summary.error,
        new = history.map_or(0, |h| h.new.len()),
        resolved = history.map_or(0, |h| h.resolved.len()),
        kept_open = history.map_or(0, |h| h.kept_open.len()),
        duration_ms = (seconds * 1000.0) as u64,
        "scan completed"
    );
}
