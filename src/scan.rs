//! `scan`: take or load a snapshot, optionally save it, print what it holds.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{OutputFormat, ScanArgs};
use crate::collect::{AwsClients, ClientSettings, CollectOptions, collect};
use crate::config::{Config, is_region_name};
use crate::report::inventory;
use crate::snapshot::Snapshot;
use crate::{Error, Result};

pub async fn run(args: ScanArgs) -> Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let snapshot = match &args.from_snapshot {
        Some(path) => Snapshot::load(path)?,
        None => take_snapshot(&config, &args.regions).await?,
    };
    if let Some(path) = &args.save_snapshot {
        snapshot.save(path)?;
    }

    let format = args.format.unwrap_or(
        if std::io::stdout().is_terminal() && args.output.is_none() {
            OutputFormat::Table
        } else {
            OutputFormat::Json
        },
    );
    let rendered = match format {
        OutputFormat::Json => inventory::json(&snapshot),
        OutputFormat::Table => inventory::table(&snapshot),
    };
    match &args.output {
        Some(path) => crate::fsutil::write_atomic(path, rendered.as_bytes()).map_err(|source| {
            Error::Write {
                path: path.display().to_string(),
                source,
            }
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            let _ = out
                .write_all(rendered.as_bytes())
                .and_then(|()| out.flush());
        }
    }

    if args.from_snapshot.is_none() && snapshot.accounts.is_empty() {
        let reasons: Vec<String> = snapshot
            .collection_errors
            .iter()
            .map(|e| format!("{} {}: {}", e.service, e.operation, e.message))
            .collect();
        return Err(Error::ScanFailed(format!(
            "no account could be read ({})",
            reasons.join("; ")
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// Collects a snapshot with the configured (or command-line) regions.
pub async fn take_snapshot(config: &Config, cli_regions: &[String]) -> Result<Snapshot> {
    for region in cli_regions {
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
    for region in requested {
        // A region named twice is scanned once.
        if !regions.contains(region) {
            regions.push(region.clone());
        }
    }
    if regions.is_empty() {
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
            concurrency: config.concurrency,
        },
    )
    .await;
    let counts = snapshot.resource_counts();
    let calls: u64 = snapshot.api_calls.iter().map(|c| c.calls).sum();
    tracing::info!(
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
