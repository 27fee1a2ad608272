//! The commands: each takes plain options (the command line's parsing stays in `cli`),
//! runs the [`crate::pipeline`] or a part of it, and prints or serves the result.

pub mod diff;
pub mod scan;
pub mod serve;
pub mod teardown;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Result;
use crate::config::Config;
use crate::pipeline::Judge;
use crate::policy::PolicySet;
use crate::snapshot::Snapshot;

/// `validate`: the config, the policies it loads and its web config, without calling AWS.
pub fn validate(config: &std::path::Path, policy_dirs: &[PathBuf]) -> Result<ExitCode> {
    let config = Config::load(config)?;
    let judge = Judge::load(&config, policy_dirs)?;
    if let Some(web) = &config.serve.web_config_file {
        crate::exporter::web::WebConfig::load(web)?;
    }
    let mut exports = Vec::new();
    if let Some(hub) = &config.export.security_hub {
        exports.push(match &hub.region {
            Some(region) => format!("security_hub into {region}"),
            None => "security_hub".to_string(),
        });
    }
    if let Some(s3) = &config.export.s3 {
        exports.push(format!("s3://{}/{}", s3.bucket, s3.prefix));
    }
    let exports = if exports.is_empty() {
        "none".to_string()
    } else {
        exports.join(", ")
    };
    println!(
        "{}: valid ({}, schedule {:?}, {} checks, {} waiver(s), exports: {exports})",
        config
            .source
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        match &config.regions {
            crate::config::Regions::All => "every enabled region".to_string(),
            named => format!("{} region(s)", named.names().len()),
        },
        config.schedule,
        judge.policies.checks().len(),
        config.waivers.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `policy list`: every loaded check with its severity, title and source.
pub fn policy_list(config: Option<&std::path::Path>, policy_dirs: &[PathBuf]) -> Result<ExitCode> {
    let config = match config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let judge = Judge::load(&config, policy_dirs)?;
    let checks = judge.policies.checks();
    let width = checks
        .iter()
        .map(|c| c.metadata.id.len())
        .max()
        .unwrap_or(2);
    println!(
        "{:<width$}  {:<8}  {:<60}  SOURCE",
        "ID", "SEVERITY", "TITLE"
    );
    for c in checks {
        println!(
            "{:<width$}  {:<8}  {:<60}  {}:{}",
            c.metadata.id,
            c.metadata.severity.as_str(),
            c.metadata.title,
            c.source,
            c.line
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `policy test`: the `test_*` rules of the built-in policies, or of `dirs` (with the
/// built-in `lib/`). Exit 1 when one fails or none exists.
pub fn policy_test(dirs: &[PathBuf]) -> Result<ExitCode> {
    let policies = if dirs.is_empty() {
        PolicySet::load_with_tests(&[])?
    } else {
        PolicySet::load_dirs_only(dirs)?
    };
    let outcomes = policies.run_tests(&policies.default_thresholds());
    let failed: Vec<_> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    for o in &failed {
        println!(
            "FAIL {} ({}:{}): {}",
            o.name,
            o.source,
            o.line,
            o.error.as_deref().unwrap_or_default()
        );
    }
    println!(
        "{} passed, {} failed",
        outcomes.len() - failed.len(),
        failed.len()
    );
    Ok(if failed.is_empty() && !outcomes.is_empty() {
        ExitCode::SUCCESS
    } else {
        if outcomes.is_empty() {
            eprintln!("error: no test_* rule found");
        }
        ExitCode::from(1)
    })
}

/// `schema`: the snapshot's JSON Schema.
pub fn schema() -> Result<ExitCode> {
    print!("{}", Snapshot::json_schema());
    Ok(ExitCode::SUCCESS)
}
