//! The one path from AWS to a findings report, which `scan` and `serve` both take:
//! [`collect`] a snapshot (or load one), [`Judge::report`] it with the policies, attribute
//! its findings to the CloudTrail events that changed them ([`attribute`]), and, in the
//! daemon, [`record`] it in the finding history. The commands only add their
//! input and output around it.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::collect::{AwsClients, ClientSettings, CollectOptions};
use crate::config::{Config, Regions};
use crate::policy::{PolicyError, PolicySet};
use crate::report::Report;
use crate::report::compliance::Compliance;
use crate::report::findings::{self, ReportInput};
use crate::snapshot::Snapshot;
use crate::{Error, Result};

/// The loaded policies and compliance mappings: built once, used for every scan.
#[derive(Clone)]
pub struct Judge {
    pub policies: PolicySet,
    pub compliance: Compliance,
    /// `data.config`: the thresholds the checks declare, at the config's values.
    pub thresholds: serde_json::Value,
}

impl Judge {
    /// Built-in policies plus the config's `policy_dirs` and `extra_dirs`; the config's
    /// `[checks.<id>]` tables and waivers must name loaded checks, and the tables hold only
    /// the thresholds those checks declare, with valid values.
    pub fn load(config: &Config, extra_dirs: &[PathBuf]) -> Result<Self> {
        let dirs: Vec<PathBuf> = config
            .policy_dirs
            .iter()
            .chain(extra_dirs)
            .cloned()
            .collect();
        let policies = PolicySet::load(&dirs)?;
        let known = |id: &str| policies.check(id).is_some();
        config.validate_check_ids(&known)?;
        let thresholds = config.thresholds(&policies.declared_thresholds(), &known)?;
        let compliance = Compliance::builtin().map_err(PolicyError::Parse)?;
        Ok(Self {
            policies,
            compliance,
            thresholds,
        })
    }

    /// Evaluates a snapshot into a findings report; `today` decides which waivers apply.
    pub fn report(&self, snapshot: &Snapshot, config: &Config, today: NaiveDate) -> Report {
        let evaluation = self.policies.evaluate_snapshot(snapshot, &self.thresholds);
        let duration_ms = evaluation.duration.as_millis() as u64;
        for (check_id, took) in &evaluation.check_durations {
            tracing::trace!(
                check_id,
                duration_ms = took.as_millis() as u64,
                "check evaluated"
            );
        }
        tracing::trace!(
            duration_ms = evaluation.input_duration.as_millis() as u64,
            "input converted"
        );
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

/// Collects a snapshot of `regions` (`None`: the config's), and the CloudTrail events since
/// `events_since` when it is given.
pub async fn collect(
    config: &Config,
    regions: Option<&Regions>,
    events_since: Option<crate::collect::EventsSince>,
) -> Result<Snapshot> {
    let requested = regions.unwrap_or(&config.regions);
    let settings = ClientSettings {
        endpoint_url: config.endpoint_url.clone(),
        max_attempts: config.max_attempts,
        call_timeout: config.call_timeout,
    };
    let clients = AwsClients::from_env(&settings).await;
    let all_regions = requested.is_all();
    let mut regions = requested.names().to_vec();
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
    let snapshot = crate::collect::collect(
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

/// Attributes the report's findings to the last change among `known` events of their
/// resources, and lists the `new` ones (those no earlier report listed) as its `changes`.
pub fn attribute(
    report: &mut Report,
    snapshot: &Snapshot,
    known: &[crate::snapshot::ControlPlaneEvent],
    new: &[crate::snapshot::ControlPlaneEvent],
) {
    let sessions = crate::report::changes::Sessions::of(snapshot);
    crate::report::changes::apply(report, known, new, &sessions);
}

/// Records a completed scan in the finding history (the daemon's path): opens, resolves
/// and keeps findings, stores the scan's CloudTrail events once, and attributes the report's
/// findings to every stored change of the look-back. Returns the events new to the history.
pub fn record(
    store: &mut crate::state::Store,
    report: &mut Report,
    snapshot: &Snapshot,
    events: Option<crate::state::ScanEvents<'_>>,
) -> Result<Vec<crate::snapshot::ControlPlaneEvent>, crate::state::StateError> {
    let attributed = events.is_some();
    let gauges = crate::exporter::metrics::Gauges::of(report).to_json();
    let recorded = store.record_scan(report, events, Some(&gauges))?;
    if attributed {
        attribute(report, snapshot, &recorded.known, &recorded.new);
    }
    Ok(recorded.new)
}

/// The account-regions whose CloudTrail events this snapshot read: every region of every
/// account read, but those where a CloudTrail call failed, each with what its page budget
/// left unread. Accounts that could not be reached are not among them, so their windows stay
/// where they were and the others move.
pub fn cloudtrail_read(snapshot: &Snapshot) -> Vec<crate::state::ReadScope> {
    let failed: std::collections::HashSet<(&str, &str)> = snapshot
        .collection_errors
        .iter()
        .filter(|e| e.service == crate::vocab::Service::Cloudtrail.as_str())
        .map(|e| (e.account_id.as_str(), e.region.as_str()))
        .collect();
    let unread: std::collections::HashMap<(&str, &str), crate::snapshot::EventSpan> = snapshot
        .events_unread
        .iter()
        .map(|u| ((u.account_id.as_str(), u.region.as_str()), u.span))
        .collect();
    snapshot
        .accounts
        .iter()
        .flat_map(|a| {
            a.regions
                .iter()
                .map(move |r| (a.account_id.as_str(), r.region.as_str()))
        })
        .filter(|scope| !failed.contains(scope))
        .map(|scope| crate::state::ReadScope {
            account_id: scope.0.to_string(),
            region: scope.1.to_string(),
            unread: unread.get(&scope).copied(),
        })
        .collect()
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
        outcome = crate::report::Outcome::of(report).as_str(),
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
    for u in &snapshot.events_unread {
        tracing::warn!(
            account_id = %u.account_id,
            region = %u.region,
            from = %u.span.from,
            until = %u.span.until,
            "CloudTrail events left unread: cloudtrail.max_pages_per_scan ran out (the daemon reads them at its next scans)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An account that could not be read is in the report as ERROR for every check, never
    /// as an account without findings; an account that was read is untouched.
    #[test]
    fn unreachable_accounts_are_error_for_every_check() {
        use crate::snapshot::{CollectionError, ErrorKind};
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshot.json");
        let mut snapshot = Snapshot::load(&path).unwrap();
        let read = snapshot.accounts[0].account_id.clone();
        let error = |account: &str, service: &str, operation: &str| CollectionError {
            account_id: account.into(),
            region: "global".into(),
            service: service.into(),
            operation: operation.into(),
            error: ErrorKind::AccessDenied,
            error_code: Some("AccessDenied".into()),
            message: "not authorized".into(),
            resource: None,
        };
        snapshot.collection_errors = vec![
            error("222222222222", "sts", "AssumeRole"),
            error("333333333333", "ec2", "DescribeRegions"),
        ];
        let config = crate::config::Config::default();
        let judge = Judge::load(&config, &[]).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let report = judge.report(&snapshot, &config, today);
        assert_eq!(
            report.scan.accounts,
            [read.clone(), "222222222222".into(), "333333333333".into()]
        );
        assert_eq!(report.scan.scanned.keys().collect::<Vec<_>>(), [&read]);
        let checks = judge.policies.checks().len();
        for account in ["222222222222", "333333333333"] {
            let of: Vec<&crate::report::Finding> = report
                .findings
                .iter()
                .filter(|f| f.account_id == account)
                .collect();
            assert_eq!(of.len(), checks, "{account}");
            assert!(of.iter().all(|f| f.status == crate::report::Status::Error
                && f.resource_arn == format!("arn:*:*:*:{account}:*")
                && f.resource_type == "account"));
        }
        assert!(
            report
                .findings
                .iter()
                .filter(|f| f.account_id == read)
                .all(|f| f.resource_type != "account")
        );
    }

    /// A check whose evaluation panics is an evaluation error in the report, and the history
    /// keeps its open findings open (it never resolves what it could not judge), while the
    /// findings of the checks that ran are resolved as usual.
    #[test]
    fn a_panicking_check_leaves_its_findings_open() {
        use std::collections::HashMap;

        use crate::report::history::{OpenFinding, diff};
        use crate::vocab::Severity;

        let dir = std::env::temp_dir().join(format!(
            "sma-panic-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let check = |id: &str, call: &str| {
            format!(
                "package user.{id}\nmetadata := {{\"id\": \"{id}\", \"title\": \"t\", \"severity\": \"high\", \"resource_type\": \"domain\", \"remediation\": \"r\"}}\nresults contains r if {{\n  some region in input.accounts[_].regions\n  some d in region.domains\n  {call}\n  r := {{\"resource_arn\": d.arn, \"status\": \"PASS\", \"message\": \"m\"}}\n}}\n"
            )
        };
        std::fs::write(dir.join("boom.rego"), check("boom", "test.boom(d)")).unwrap();
        std::fs::write(dir.join("fine.rego"), check("fine", "true")).unwrap();
        let policies = PolicySet::load_dirs_with(std::slice::from_ref(&dir), |engine| {
            engine.add_extension(
                "test.boom".into(),
                1,
                Box::new(|_| -> anyhow::Result<regorus::Value> { panic!("extension exploded") }),
            )
        })
        .unwrap();
        let judge = Judge {
            thresholds: policies.default_thresholds(),
            policies,
            compliance: Compliance::builtin().unwrap(),
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshot.json");
        let snapshot = Snapshot::load(&path).unwrap();
        let report = judge.report(&snapshot, &Config::default(), chrono::NaiveDate::MIN);
        assert_eq!(
            report
                .evaluation_errors
                .iter()
                .map(|e| e.check_id.as_str())
                .collect::<Vec<_>>(),
            ["boom"]
        );
        let passed = report
            .findings
            .iter()
            .find(|f| f.check_id == "fine")
            .unwrap();

        // Both checks had failed on that domain at the scan before.
        let open_on = |check_id: &str| OpenFinding {
            id: crate::report::findings::finding_id(check_id, &passed.resource_arn),
            check_id: check_id.into(),
            severity: Severity::High,
            resource_type: "domain".into(),
            resource_arn: passed.resource_arn.to_string(),
            account_id: passed.account_id.to_string(),
            region: passed.region.to_string(),
            first_seen: chrono::DateTime::UNIX_EPOCH,
            last_seen: chrono::DateTime::UNIX_EPOCH,
        };
        let open: HashMap<String, OpenFinding> = [open_on("boom"), open_on("fine")]
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        let history = diff(&open, &report, None);
        assert_eq!(history.kept_open.len(), 1);
        assert_eq!(history.kept_open[0].check_id, "boom");
        assert_eq!(history.kept_open[0].reason, "evaluation_error");
        assert_eq!(history.resolved.len(), 1);
        assert_eq!(history.resolved[0].check_id, "fine");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The built-in checks declare their thresholds with CHECKS.md v2's defaults, so
    /// `data.config` of a config without `[checks]` is the catalogue's.
    #[test]
    fn builtin_thresholds_are_declared_by_their_checks() {
        let judge = Judge::load(&Config::default(), &[]).unwrap();
        assert_eq!(
            judge.thresholds,
            serde_json::json!({
                "app_long_running": {"max_hours": 72},
                "execution_role_shared_by_users": {"max_user_profiles": 1},
                "domain_vpconly_missing_endpoints": {"required_services":
                    ["sagemaker.api", "sagemaker.runtime", "s3"]},
                "efs_orphaned_home": {"price_per_gb_month": 0.30,
                    "ia_price_per_gb_month": 0.025, "archive_price_per_gb_month": 0.008},
            })
        );
        let config = Config::parse(
            "test.toml",
            "[checks.app_long_running]\nmax_hours = 6\n\n[checks.efs_orphaned_home]\nprice_per_gb_month = 0.16\n",
        )
        .unwrap();
        let judge = Judge::load(&config, &[]).unwrap();
        assert_eq!(judge.thresholds["app_long_running"]["max_hours"], 6);
        assert_eq!(
            judge.thresholds["efs_orphaned_home"]["price_per_gb_month"],
            0.16
        );
        assert_eq!(
            judge.thresholds["execution_role_shared_by_users"]["max_user_profiles"],
            1
        );

        let refused = |text: &str| {
            let config = Config::parse("test.toml", text).unwrap();
            Judge::load(&config, &[]).err().unwrap().to_string()
        };
        assert_eq!(
            refused("[checks.execution_role_shared_by_users]\nmax_user_profiles = 0\n"),
            "test.toml:2: `checks.execution_role_shared_by_users.max_user_profiles`: must be between 1 and 100000, got 0"
        );
        assert!(
            refused("[checks.domain_vpconly_missing_endpoints]\nrequired_services = [\"com.amazonaws.us-east-1.s3\"]\n")
                .starts_with("test.toml:2: `checks.domain_vpconly_missing_endpoints.required_services`: \"com.amazonaws.us-east-1.s3\" is not a short service name")
        );
        assert!(refused("[checks.app_long_running]\nidle_hours = 1\n").starts_with("test.toml:2:"));
        // The retired app_idle says what replaced it, in a table or a waiver.
        let retired = refused("[checks.app_idle]\nidle_hours = 24\n");
        assert!(
            retired.starts_with("test.toml:1: `checks.app_idle`: check \"app_idle\" was retired in catalogue v2: use \"app_long_running\" instead"),
            "{retired}"
        );
        let retired = refused(
            "[[waivers]]\ncheck = \"app_idle\"\nresource = \"*\"\nreason = \"GPU box\"\nexpires = 2099-01-01\n",
        );
        assert!(
            retired.contains("`waivers.check`") && retired.contains("use \"app_long_running\""),
            "{retired}"
        );
    }

    /// The account-regions whose CloudTrail a scan read completely: not an account that
    /// could not be reached, not a region whose LookupEvents failed.
    #[test]
    fn cloudtrail_windows_move_only_where_cloudtrail_was_read() {
        use crate::snapshot::{AccountSnapshot, CollectionError, ErrorKind, RegionSnapshot};
        let region = |name: &str| RegionSnapshot {
            region: name.into(),
            ..Default::default()
        };
        let mut snapshot = Snapshot::default();
        snapshot.accounts.push(AccountSnapshot {
            account_id: "111111111111".into(),
            regions: vec![region("us-east-1"), region("eu-west-1")],
            ..Default::default()
        });
        let error = |account: &str, region: &str, service: &str, operation: &str| CollectionError {
            account_id: account.into(),
            region: region.into(),
            service: service.into(),
            operation: operation.into(),
            error: ErrorKind::Throttling,
            error_code: None,
            message: "x".into(),
            resource: None,
        };
        snapshot.collection_errors = vec![
            error("111111111111", "eu-west-1", "cloudtrail", "LookupEvents"),
            error("222222222222", "global", "sts", "AssumeRole"),
        ];
        let span = crate::snapshot::EventSpan {
            from: chrono::DateTime::UNIX_EPOCH,
            until: chrono::DateTime::UNIX_EPOCH + chrono::Duration::hours(1),
        };
        snapshot.events_unread.push(crate::snapshot::UnreadEvents {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            span,
        });
        assert_eq!(
            cloudtrail_read(&snapshot),
            [crate::state::ReadScope {
                account_id: "111111111111".into(),
                region: "us-east-1".into(),
                unread: Some(span),
            }]
        );
    }
}
