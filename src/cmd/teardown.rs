//! `teardown-plan`: reads one domain and what it left behind, prints the plan to delete it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::collect::{AwsClients, ClientSettings};
use crate::config::{AccountsConfig, Config, Regions, is_region_name};
use crate::pipeline;
use crate::snapshot::Snapshot;
use crate::teardown;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFormat {
    /// Numbered steps with their `aws` commands.
    Text,
    /// The same, for programs.
    Json,
}

#[derive(Debug, Clone)]
pub struct TeardownOptions {
    /// The domain id (d-...).
    pub domain: String,
    /// Its region; default: the config's first region, else AWS_REGION (offline: wherever
    /// the snapshot has it).
    pub region: Option<String>,
    /// Offline: the account of the snapshot to look in, when it holds several.
    pub account: Option<String>,
    /// Plan from this saved snapshot instead of reading the account.
    pub from_snapshot: Option<PathBuf>,
    /// Its endpoint_url, max_attempts, call_timeout_seconds and regions apply.
    pub config: Option<PathBuf>,
    pub format: PlanFormat,
}

pub async fn run(args: TeardownOptions) -> Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if !teardown::is_domain_id(&args.domain) {
        return Err(Error::Usage(format!(
            "--domain {:?} is not a SageMaker domain id (like d-abc123def456)",
            args.domain
        )));
    }
    if let Some(r) = args.region.as_deref().filter(|r| !is_region_name(r)) {
        return Err(Error::Usage(format!(
            "--region {r:?} is not an AWS region name"
        )));
    }
    let (snapshot, region) = match &args.from_snapshot {
        Some(path) => (Snapshot::load(path)?, args.region.clone()),
        None => {
            let region = live_region(&args, &config).await?;
            (read_region(config, &region).await?, Some(region))
        }
    };
    let plan = teardown::plan(
        &snapshot,
        &args.domain,
        region.as_deref(),
        args.account.as_deref(),
    )
    .map_err(|e| match e {
        teardown::PlanError::Incomplete { .. } => Error::ScanFailed(e.to_string()),
        teardown::PlanError::Ambiguous(_) => Error::Usage(e.to_string()),
    })?;
    let rendered = match args.format {
        PlanFormat::Text => plan.to_text(),
        PlanFormat::Json => plan.to_json(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(rendered.as_bytes())
        .and_then(|()| out.flush());
    Ok(ExitCode::SUCCESS)
}

/// The region to read: `--region`, else the config's first, else the default chain's.
async fn live_region(args: &TeardownOptions, config: &Config) -> Result<String> {
    if let Some(r) = args
        .region
        .clone()
        .or_else(|| config.regions.names().first().cloned())
    {
        return Ok(r);
    }
    let settings = ClientSettings {
        endpoint_url: config.endpoint_url.clone(),
        max_attempts: config.max_attempts,
        call_timeout: config.call_timeout,
    };
    match AwsClients::from_env(&settings).await.default_region() {
        Some(r) if is_region_name(&r) => Ok(r),
        Some(r) => Err(Error::Usage(format!(
            "region {r:?} is not an AWS region name"
        ))),
        None => Err(Error::Usage(
            "no region: pass --region, set `regions` in the config, or set AWS_REGION".into(),
        )),
    }
}

/// A snapshot of the credentials' own account in `region` (read-only, no CloudTrail): the
/// scan's own collectors, so the plan sees exactly what the checks see.
async fn read_region(mut config: Config, region: &str) -> Result<Snapshot> {
    config.accounts = AccountsConfig::default();
    let regions = Regions::Named(vec![region.to_string()]);
    let snapshot = pipeline::collect(&config, Some(&regions), None).await?;
    if let Some(reason) = pipeline::nothing_read(&snapshot) {
        return Err(Error::ScanFailed(reason));
    }
    Ok(snapshot)
}
