//! `scan`: take or load a snapshot, optionally save it, judge it and print the findings.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;

use crate::collect::EventsSince;
use crate::config::{Config, Regions, Shard};
use crate::pipeline::{self, Judge};
use crate::report::Status;
use crate::report::inventory;
use crate::snapshot::Snapshot;
use crate::vocab::{ReportFormat, Severity};
use crate::{Error, Result};

/// What `scan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The findings report in this format.
    Report(ReportFormat),
    /// What the snapshot holds, without judging it.
    Inventory,
}

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub config: Option<PathBuf>,
    /// Regions (or `all`) overriding the config's.
    pub regions: Vec<String>,
    /// Read this saved snapshot instead of calling AWS.
    pub from_snapshot: Option<PathBuf>,
    /// Also save the snapshot taken (atomically).
    pub save_snapshot: Option<PathBuf>,
    /// `None`: the table on a terminal, the JSON report otherwise.
    pub output: Option<Output>,
    pub policy_dirs: Vec<PathBuf>,
    /// Exit 3 when a FAIL (not muted) at or above this severity exists.
    pub fail_on: Option<Severity>,
    /// Write to this file (atomically) instead of stdout.
    pub output_file: Option<PathBuf>,
    /// Overrides the config's shard.
    pub shard: Option<Shard>,
    /// The statuses the report lists; empty: the config's `[output] statuses`.
    pub statuses: Vec<Status>,
}

pub async fn run(args: ScanOptions) -> Result<ExitCode> {
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
    let live = args.from_snapshot.is_none();
    let snapshot = match &args.from_snapshot {
        Some(path) => Snapshot::load(path)?,
        None => {
            let since = config.cloudtrail.enabled.then(|| {
                EventsSince::all(
                    Utc::now() - config.cloudtrail.lookback,
                    config.cloudtrail.max_pages,
                )
            });
            let regions = match args.regions.as_slice() {
                [] => None,
                names => Some(
                    Regions::parse(names)
                        .map_err(|(_, problem)| Error::Usage(format!("--region: {problem}")))?,
                ),
            };
            pipeline::collect(&config, regions.as_ref(), since).await?
        }
    };
    if let Some(path) = &args.save_snapshot {
        snapshot.save(path)?;
    }
    if live && let Some(reason) = pipeline::nothing_read(&snapshot) {
        return Err(Error::ScanFailed(reason));
    }

    let mut report = judge.report(&snapshot, &config, Utc::now().date_naive());
    // A live scan with CloudTrail on (or a saved snapshot that has events): everything in
    // the window is both the attribution source and this report's changes.
    if (live && config.cloudtrail.enabled) || !snapshot.events.is_empty() {
        pipeline::attribute(&mut report, &snapshot, &snapshot.events, &snapshot.events);
    }
    pipeline::log_completed(&snapshot, &report, started.elapsed().as_secs_f64());
    // Security Hub takes the complete report (PASS findings end what was fixed); a failed
    // export is logged and changes neither the report nor the exit code.
    if let Some(hub) = &config.export.security_hub {
        crate::export::security_hub::export(&config, hub, &judge.policies, &report, Vec::new())
            .await;
    }
    let to_terminal = std::io::stdout().is_terminal() && args.output_file.is_none();
    let output = args.output.unwrap_or(Output::Report(if to_terminal {
        ReportFormat::Table
    } else {
        ReportFormat::Json
    }));
    // The inventory is the snapshot's; every other output is the report's alone, so the
    // snapshot goes before the report is rendered (peak memory of a large account).
    let inventory = (output == Output::Inventory).then(|| inventory::json(&snapshot));
    // The HTML page's domain view: names and states of the graph, not the snapshot.
    let graph = (output == Output::Report(ReportFormat::Html))
        .then(|| crate::report::graph::Graph::of(&snapshot));
    drop(snapshot);
    // Judged on every finding, before the report lists only some of them.
    let fails = args
        .fail_on
        .is_some_and(|threshold| report.fails_at_or_above(threshold));
    report.keep_statuses(if args.statuses.is_empty() {
        &config.output.statuses
    } else {
        &args.statuses
    });
    let fill = |w: &mut dyn Write| match (&inventory, output) {
        (Some(text), _) => w.write_all(text.as_bytes()),
        (None, Output::Report(format)) => {
            crate::report::write(&report, format, to_terminal, graph.as_ref(), w)
        }
        (None, Output::Inventory) => Ok(()),
    };
    match &args.output_file {
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

    // Written after the local output, which never depends on it; a failure is logged.
    if let Some(s3) = &config.export.s3 {
        crate::export::s3::export(&config, s3, &report, Vec::new()).await;
    }

    Ok(if fails {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
