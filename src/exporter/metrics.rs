//! Every metric `serve` exports, named in this one place (README's metrics table; prefix
//! `sagemaker_audit_`). Labels are bounded: check ids, severities, statuses, account ids,
//! regions, resource types, services and operations; never an ARN or an error message.
//!
//! The gauges describe the last completed scan. They are replaced label set by label set,
//! never reset first, so a scrape during an update never sees an empty set (which would
//! resolve and re-fire every alert).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use prometheus::{
    Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::report::Outcome;
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::vocab::Severity;

const PREFIX: &str = "sagemaker_audit";

/// Findings of the last completed scan; pass and error results are counted too, so
/// coverage can be graphed.
pub const FINDINGS: &str = "findings";
pub const RESOURCES: &str = "resources";
pub const SCAN_DURATION_SECONDS: &str = "scan_duration_seconds";
pub const SCANS_TOTAL: &str = "scans_total";
pub const LAST_SUCCESS_TIMESTAMP_SECONDS: &str = "last_success_timestamp_seconds";
pub const API_CALLS_TOTAL: &str = "api_calls_total";
pub const COLLECTION_ERRORS_TOTAL: &str = "collection_errors_total";
pub const ORPHANED_EFS_BYTES: &str = "orphaned_efs_bytes";
pub const BUILD_INFO: &str = "build_info";
pub const SCANS_SKIPPED_TOTAL: &str = "scans_skipped_total";
pub const SCAN_IN_PROGRESS: &str = "scan_in_progress";
pub const CONFIG_RELOADS_TOTAL: &str = "config_reloads_total";
pub const FINDINGS_OPENED_TOTAL: &str = "findings_opened_total";
pub const FINDINGS_RESOLVED_TOTAL: &str = "findings_resolved_total";
/// Findings sent to an export (`destination` `security_hub`) by `result`: `imported`
/// (archived ones included), `archived`, `failed`.
pub const EXPORTED_FINDINGS_TOTAL: &str = "exported_findings_total";
/// Findings the last export of a destination failed to deliver (0 when all went through).
pub const EXPORT_FAILED_FINDINGS: &str = "export_failed_findings";
/// Security Hub archives (resolved findings) not yet delivered, retried at every scan.
pub const EXPORT_PENDING_ARCHIVES: &str = "export_pending_archives";
/// Objects written to an export (`destination` `s3`) by `result`: `written`, `failed`.
/// The shard this replica scans (`shard="K/N"`, always 1); absent when unsharded.
pub const SHARD_INFO: &str = "shard_info";
/// How many shards the accounts are split into (N of `K/N`); absent when unsharded. With
/// `shard_info`, the alert rules see a shard that reports no more.
pub const SHARDS: &str = "shards";
pub const EXPORTED_OBJECTS_TOTAL: &str = "exported_objects_total";
/// Objects not yet written (the daemon's spool), retried at every scan.
pub const EXPORT_PENDING_OBJECTS: &str = "export_pending_objects";
pub const EVALUATION_ERRORS: &str = "evaluation_errors";
pub const STUDIO_LOGINS_TOTAL: &str = "studio_logins_total";
pub const CLOUDTRAIL_UNREAD_SECONDS: &str = "cloudtrail_unread_seconds";
pub const CONFIG_LAST_RELOAD_SUCCESSFUL: &str = "config_last_reload_successful";
pub const CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS: &str =
    "config_last_reload_success_timestamp_seconds";

/// Every metric name, prefixed, for the tests that hold the alert rules and the dashboard to
/// names that exist.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = [
        FINDINGS,
        RESOURCES,
        LAST_SUCCESS_TIMESTAMP_SECONDS,
        ORPHANED_EFS_BYTES,
        BUILD_INFO,
        SCAN_IN_PROGRESS,
        EVALUATION_ERRORS,
        CLOUDTRAIL_UNREAD_SECONDS,
        CONFIG_LAST_RELOAD_SUCCESSFUL,
        CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
        SCANS_TOTAL,
        API_CALLS_TOTAL,
        COLLECTION_ERRORS_TOTAL,
        SCANS_SKIPPED_TOTAL,
        CONFIG_RELOADS_TOTAL,
        FINDINGS_OPENED_TOTAL,
        FINDINGS_RESOLVED_TOTAL,
        STUDIO_LOGINS_TOTAL,
        EXPORTED_FINDINGS_TOTAL,
        EXPORT_FAILED_FINDINGS,
        EXPORT_PENDING_ARCHIVES,
        EXPORTED_OBJECTS_TOTAL,
        EXPORT_PENDING_OBJECTS,
        SHARD_INFO,
        SHARDS,
    ]
    .iter()
    .map(|n| format!("{PREFIX}_{n}"))
    .collect();
    for suffix in ["bucket", "sum", "count"] {
        names.push(format!("{PREFIX}_{SCAN_DURATION_SECONDS}_{suffix}"));
    }
    names
}

pub struct Metrics {
    registry: Registry,
    findings: IntGaugeVec,
    resources: IntGaugeVec,
    orphaned_efs_bytes: IntGaugeVec,
    evaluation_errors: IntGaugeVec,
    cloudtrail_unread: IntGaugeVec,
    scan_duration: Histogram,
    scans: IntCounterVec,
    last_success: Gauge,
    api_calls: IntCounterVec,
    collection_errors: IntCounterVec,
    scans_skipped: IntCounter,
    scan_in_progress: IntGauge,
    config_reloads: IntCounterVec,
    config_last_reload_successful: IntGauge,
    config_last_reload_success: Gauge,
    findings_opened: IntCounterVec,
    findings_resolved: IntCounterVec,
    studio_logins: IntCounterVec,
    exported: IntCounterVec,
    export_failed: IntGaugeVec,
    export_pending: IntGaugeVec,
    exported_objects: IntCounterVec,
    export_pending_objects: IntGaugeVec,
    shard_info: IntGaugeVec,
    shards: IntGaugeVec,
    /// Label sets of the gauges as last published, to remove the ones that disappear.
    published: Mutex<Published>,
}

#[derive(Default)]
struct Published {
    findings: BTreeSet<Vec<String>>,
    resources: BTreeSet<Vec<String>>,
    orphaned_efs_bytes: BTreeSet<Vec<String>>,
    evaluation_errors: BTreeSet<Vec<String>>,
    cloudtrail_unread: BTreeSet<Vec<String>>,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace(PREFIX)
}

/// Registers a collector; only a programming error (a duplicate name) can make it fail.
fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    if let Err(e) = registry.register(Box::new(c.clone())) {
        tracing::error!(error = %e, "metric registration failed");
    }
    c
}

impl Metrics {
    #[allow(clippy::expect_used)] // Metric definitions are constants: an error is a bug.
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                r,
                IntGaugeVec::new(opts(name, help), labels).expect("valid metric"),
            )
        };
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                r,
                IntCounterVec::new(opts(name, help), labels).expect("valid metric"),
            )
        };
        let build_info = gauge_vec(
            BUILD_INFO,
            "The running sagemaker-auditor version (always 1).",
            &["version"],
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let scans = counter_vec(
            SCANS_TOTAL,
            "Scans by outcome: success, partial (some calls failed or some checks errored) or failure (no report).",
            &["outcome"],
        );
        for outcome in ["success", "partial", "failure"] {
            scans.with_label_values(&[outcome]);
        }
        let config_reloads = counter_vec(
            CONFIG_RELOADS_TOTAL,
            "Config and policy reloads (SIGHUP) by outcome; a failed reload keeps the running config.",
            &["outcome"],
        );
        for outcome in ["success", "failure"] {
            config_reloads.with_label_values(&[outcome]);
        }
        let [
            findings,
            resources,
            orphaned_efs_bytes,
            evaluation_errors,
            cloudtrail_unread,
        ] = scan_gauges(&gauge_vec);
        Self {
            findings,
            resources,
            orphaned_efs_bytes,
            evaluation_errors,
            cloudtrail_unread,
            scan_duration: duration_histogram(r),
            scans,
            last_success: register(
                r,
                Gauge::with_opts(opts(
                    LAST_SUCCESS_TIMESTAMP_SECONDS,
                    "Unix time of the last scan that produced a report (outcome success or partial).",
                ))
                .expect("valid metric"),
            ),
            api_calls: counter_vec(
                API_CALLS_TOTAL,
                "AWS API operations invoked (one per page), by outcome: success or the error kind.",
                &["service", "operation", "outcome"],
            ),
            collection_errors: {
                let c = counter_vec(
                    COLLECTION_ERRORS_TOTAL,
                    "AWS calls that failed after retries, leaving part of a scan uncollected.",
                    &["service"],
                );
                // Known in advance: exported at 0 so that increase() sees the first error.
                for service in crate::vocab::Service::ALL {
                    c.with_label_values(&[service.as_str()]);
                }
                c
            },
            scans_skipped: register(
                r,
                IntCounter::with_opts(opts(
                    SCANS_SKIPPED_TOTAL,
                    "Scheduled scans skipped because the previous one was still running.",
                ))
                .expect("valid metric"),
            ),
            scan_in_progress: register(
                r,
                IntGauge::with_opts(opts(SCAN_IN_PROGRESS, "1 while a scan runs."))
                    .expect("valid metric"),
            ),
            config_reloads,
            config_last_reload_successful: register(
                r,
                IntGauge::with_opts(opts(
                    CONFIG_LAST_RELOAD_SUCCESSFUL,
                    "Whether the last config load (start-up or reload) succeeded: 0 while a refused config waits to be fixed.",
                ))
                .expect("valid metric"),
            ),
            config_last_reload_success: register(
                r,
                Gauge::with_opts(opts(
                    CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
                    "Unix time of the last successful config load (start-up or reload).",
                ))
                .expect("valid metric"),
            ),
            findings_opened: counter_vec(
                FINDINGS_OPENED_TOTAL,
                "Findings that started failing (new in the history).",
                &["check_id", "severity"],
            ),
            findings_resolved: counter_vec(
                FINDINGS_RESOLVED_TOTAL,
                "Findings the history marked resolved.",
                &["check_id", "severity"],
            ),
            studio_logins: counter_vec(
                STUDIO_LOGINS_TOTAL,
                "Studio sign-ins (CloudTrail CreatePresignedDomainUrl) by domain, counted once each as the daemon first sees them.",
                &["account_id", "region", "domain_id"],
            ),
            exported: counter_vec(
                EXPORTED_FINDINGS_TOTAL,
                "Findings sent to an export destination (security_hub), by result: imported (archived ones included), archived, failed.",
                &["destination", "result"],
            ),
            export_failed: gauge_vec(
                EXPORT_FAILED_FINDINGS,
                "Findings the last export to a destination failed to deliver (0: all delivered).",
                &["destination"],
            ),
            export_pending: gauge_vec(
                EXPORT_PENDING_ARCHIVES,
                "Resolved findings whose archiving in Security Hub is not yet delivered; retried at every scan.",
                &["destination"],
            ),
            exported_objects: counter_vec(
                EXPORTED_OBJECTS_TOTAL,
                "Objects written to an export destination (s3), by result: written, failed.",
                &["destination", "result"],
            ),
            export_pending_objects: gauge_vec(
                EXPORT_PENDING_OBJECTS,
                "Objects not yet written to an export destination (s3); retried at every scan.",
                &["destination"],
            ),
            shard_info: gauge_vec(
                SHARD_INFO,
                "The shard of the accounts this replica scans (shard=\"K/N\", always 1); absent when it scans them all.",
                &["shard"],
            ),
            shards: gauge_vec(
                SHARDS,
                "How many shards the accounts are split into (N of --shard K/N); absent when unsharded.",
                &[],
            ),
            published: Mutex::new(Published::default()),
            registry,
        }
    }

    /// Counts the Studio sign-ins among the CloudTrail events a scan saw first, of the
    /// domains the scan found (`tally.domains`).
    pub fn studio_logins(
        &self,
        new_events: &[crate::snapshot::ControlPlaneEvent],
        tally: &crate::report::tally::Tally,
    ) {
        for ((account, region, domain), n) in
            crate::report::changes::logins(new_events, &tally.domains)
        {
            self.studio_logins
                .with_label_values(&[account, region, domain])
                .inc_by(n);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }

    /// An export destination is configured: its series exist from the start, at 0, so that
    /// `increase()` sees the first failure.
    pub fn export_enabled(&self, destination: &str) {
        for result in ["imported", "archived", "failed"] {
            self.exported.with_label_values(&[destination, result]);
        }
        self.export_failed.with_label_values(&[destination]);
        self.export_pending.with_label_values(&[destination]);
    }

    /// The shard the config (or `--shard`) gives this replica.
    pub fn shard(&self, shard: Option<crate::config::Shard>) {
        self.shard_info.reset();
        self.shards.reset();
        if let Some(shard) = shard {
            self.shard_info
                .with_label_values(&[&shard.to_string()])
                .set(1);
            self.shards
                .with_label_values::<&str>(&[])
                .set(i64::from(shard.count));
        }
    }

    /// The S3 export is configured: its series exist from the start, at 0.
    pub fn s3_export_enabled(&self) {
        for result in ["written", "failed"] {
            self.exported_objects.with_label_values(&["s3", result]);
        }
        self.export_pending_objects.with_label_values(&["s3"]);
    }

    /// What one S3 export did; `pending` objects remain in the spool.
    pub fn s3_export_completed(&self, written: usize, failed: usize, pending: usize) {
        self.exported_objects
            .with_label_values(&["s3", "written"])
            .inc_by(written as u64);
        self.exported_objects
            .with_label_values(&["s3", "failed"])
            .inc_by(failed as u64);
        self.export_pending_objects
            .with_label_values(&["s3"])
            .set(pending as i64);
    }

    /// What one export to `destination` did; `pending` archives remain undelivered.
    pub fn export_completed(
        &self,
        destination: &str,
        outcome: &crate::export::security_hub::Outcome,
        pending: usize,
    ) {
        let count = |result: &str, n: usize| {
            self.exported
                .with_label_values(&[destination, result])
                .inc_by(n as u64)
        };
        count("imported", outcome.imported);
        count("archived", outcome.archived);
        count("failed", outcome.failed.len());
        self.export_failed
            .with_label_values(&[destination])
            .set(outcome.failed.len() as i64);
        self.export_pending
            .with_label_values(&[destination])
            .set(pending as i64);
    }

    pub fn scan_started(&self) {
        self.scan_in_progress.set(1);
    }

    pub fn scan_skipped(&self) {
        self.scans_skipped.inc();
    }

    /// A reload (SIGHUP) succeeded or was refused.
    pub fn config_reloaded(&self, ok: bool) {
        self.config_reloads
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
        self.config_loaded(ok);
    }

    /// The config was loaded (at start-up, or by a reload): the reload gauges follow.
    pub fn config_loaded(&self, ok: bool) {
        self.config_last_reload_successful.set(i64::from(ok));
        if ok {
            self.config_last_reload_success
                .set(chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
        }
    }

    /// The checks the loaded config runs, exported at 0 in the finding counters from start-up
    /// and after a reload, so that `increase()` counts their first opening and resolution.
    /// Series of checks no longer loaded stay: counters never go back.
    pub fn known_checks<'a>(&self, checks: impl IntoIterator<Item = (&'a str, Severity)>) {
        for (id, severity) in checks {
            self.findings_opened
                .with_label_values(&[id, severity.as_str()]);
            self.findings_resolved
                .with_label_values(&[id, severity.as_str()]);
        }
    }

    /// A scan that produced no report: only the counters move; the gauges keep describing
    /// the last completed scan.
    pub fn scan_failed(&self, seconds: f64, snapshot: Option<&Snapshot>) {
        self.scan_in_progress.set(0);
        self.scan_duration.observe(seconds);
        self.scans
            .with_label_values(&[Outcome::Failure.as_str()])
            .inc();
        if let Some(s) = snapshot {
            self.count_calls(s);
        }
    }

    fn count_calls(&self, snapshot: &Snapshot) {
        for c in &snapshot.api_calls {
            self.api_calls
                .with_label_values(&[&c.service, &c.operation, &c.outcome])
                .inc_by(c.calls);
        }
        for e in &snapshot.collection_errors {
            self.collection_errors
                .with_label_values(&[&e.service])
                .inc();
        }
    }

    /// Publishes a completed scan: its report (with history) and the snapshot it judged.
    pub fn scan_completed(&self, seconds: f64, snapshot: &Snapshot, report: &Report) {
        self.count_calls(snapshot);
        let outcome = Outcome::of(report);
        self.scans.with_label_values(&[outcome.as_str()]).inc();
        self.scan_duration.observe(seconds);
        if let Some(history) = &report.history {
            let by_id: BTreeMap<&str, &crate::report::Finding> =
                report.findings.iter().map(|f| (f.id.as_str(), f)).collect();
            for f in history.new.iter().filter_map(|id| by_id.get(id.as_str())) {
                self.findings_opened
                    .with_label_values(&[&f.check_id, f.severity.as_str()])
                    .inc();
            }
            for r in &history.resolved {
                self.findings_resolved
                    .with_label_values(&[&r.check_id, r.severity.as_str()])
                    .inc();
            }
        }

        self.publish(Gauges::of(report));
        self.scan_in_progress.set(0);
    }

    /// Sets the gauges of the last completed scan, those of a scan just completed or, at
    /// start-up, those the history kept (so a restart neither resolves nor re-fires alerts).
    pub fn publish(&self, gauges: Gauges) {
        self.last_success.set(gauges.last_success);
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        replace(&self.findings, &mut published.findings, gauges.findings);
        replace(&self.resources, &mut published.resources, gauges.resources);
        replace(
            &self.orphaned_efs_bytes,
            &mut published.orphaned_efs_bytes,
            gauges.orphaned_efs_bytes,
        );
        replace(
            &self.evaluation_errors,
            &mut published.evaluation_errors,
            gauges.evaluation_errors,
        );
        replace(
            &self.cloudtrail_unread,
            &mut published.cloudtrail_unread,
            gauges.cloudtrail_unread,
        );
    }
}

/// Series of one gauge: label values (in the gauge's label order) to value.
type Series = BTreeMap<Vec<String>, i64>;

/// The values of the gauges that describe one completed scan: what `serve` publishes after
/// it and what the history keeps of it for the next start-up.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gauges {
    /// Unix time the scan finished (`last_success_timestamp_seconds`).
    pub last_success: f64,
    #[serde(with = "series")]
    findings: Series,
    #[serde(with = "series")]
    resources: Series,
    #[serde(with = "series")]
    orphaned_efs_bytes: Series,
    #[serde(with = "series")]
    evaluation_errors: Series,
    #[serde(with = "series")]
    cloudtrail_unread: Series,
}

impl Gauges {
    pub fn of(report: &Report) -> Self {
        let mut findings = Series::new();
        for f in &report.findings {
            let key = vec![
                f.check_id.to_string(),
                f.severity.as_str().to_string(),
                f.status.as_str().to_ascii_lowercase(),
                f.account_id.to_string(),
                f.region.to_string(),
            ];
            *findings.entry(key).or_default() += 1;
        }
        let tally = &report.tally;
        let orphaned_efs_bytes = tally
            .orphaned_efs_bytes
            .iter()
            .map(|((account, region), bytes)| (vec![account.clone(), region.clone()], *bytes))
            .collect();
        let resources = tally
            .resources
            .iter()
            .map(|((kind, account, region), n)| {
                let labels = vec![kind.as_str().to_string(), account.clone(), region.clone()];
                (labels, *n as i64)
            })
            .collect();
        let evaluation_errors = report
            .evaluation_errors
            .iter()
            .map(|e| (vec![e.check_id.clone()], 1))
            .collect();
        let cloudtrail_unread = report
            .scan
            .cloudtrail_unread
            .iter()
            .map(|u| {
                let seconds = (u.span.until - u.span.from).num_seconds().max(0);
                (vec![u.account_id.clone(), u.region.clone()], seconds)
            })
            .collect();
        Self {
            last_success: report.scan.finished_at.timestamp_millis() as f64 / 1000.0,
            findings,
            resources,
            orphaned_efs_bytes,
            evaluation_errors,
            cloudtrail_unread,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A gauge's series as a JSON list of `[labels, value]` (JSON object keys are strings only).
mod series {
    use super::Series;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(series: &Series, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<(&Vec<String>, &i64)> = series.iter().collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Series, D::Error> {
        let list = Vec::<(Vec<String>, i64)>::deserialize(d)?;
        Ok(list.into_iter().collect())
    }
}

/// The gauges that describe the last completed scan.
fn scan_gauges(gauge_vec: &dyn Fn(&str, &str, &[&str]) -> IntGaugeVec) -> [IntGaugeVec; 5] {
    [
        gauge_vec(
            FINDINGS,
            "Check results of the last completed scan (status: pass, fail, muted, error).",
            &["check_id", "severity", "status", "account_id", "region"],
        ),
        gauge_vec(
            RESOURCES,
            "Resources in the last completed scan.",
            &["resource_type", "account_id", "region"],
        ),
        gauge_vec(
            ORPHANED_EFS_BYTES,
            "Metered bytes of home EFS file systems whose domain no longer exists.",
            &["account_id", "region"],
        ),
        gauge_vec(
            EVALUATION_ERRORS,
            "Checks that could not be evaluated in the last completed scan (1 per check).",
            &["check_id"],
        ),
        gauge_vec(
            CLOUDTRAIL_UNREAD_SECONDS,
            "Seconds of CloudTrail time the last completed scan left unread in an account and region (cloudtrail.max_pages_per_scan ran out); absent when all was read.",
            &["account_id", "region"],
        ),
    ]
}

#[allow(clippy::expect_used)] // A constant definition: an error is a bug.
fn duration_histogram(r: &Registry) -> Histogram {
    register(
        r,
        Histogram::with_opts(
            HistogramOpts::new(
                SCAN_DURATION_SECONDS,
                "Wall time of scans, collection and evaluation.",
            )
            .namespace(PREFIX)
            .buckets(vec![
                1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
            ]),
        )
        .expect("valid metric"),
    )
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Sets every value, then removes the label sets that are gone.
fn replace(
    gauge: &IntGaugeVec,
    previous: &mut BTreeSet<Vec<String>>,
    values: BTreeMap<Vec<String>, i64>,
) {
    for (labels, value) in &values {
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        gauge.with_label_values(&labels).set(*value);
    }
    for gone in previous.iter().filter(|l| !values.contains_key(*l)) {
        let labels: Vec<&str> = gone.iter().map(String::as_str).collect();
        let _ = gauge.remove_label_values(&labels);
    }
    *previous = values.into_keys().collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{finding as make, report as make_report};
    use crate::report::{Finding, Report, Status};
    use crate::vocab::GLOBAL;

    fn finding(check_id: &str, arn: &str, region: &str, status: Status) -> Finding {
        let mut f = make(check_id, "domain", arn, status);
        f.region = region.into();
        f
    }

    fn report(findings: Vec<Finding>) -> Report {
        make_report(chrono::Utc::now(), findings)
    }

    fn sample(text: &str, prefix: &str) -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(String::from)
            .collect()
    }

    #[test]
    fn gauges_describe_the_last_scan_only() {
        let snapshot = Snapshot::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/snapshot.json"
        )))
        .unwrap();
        let m = Metrics::new();
        let public = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1";
        let role = "arn:aws:iam::123456789012:role/r";
        m.scan_completed(
            1.0,
            &snapshot,
            &report(vec![
                finding(
                    "domain_public_internet_access",
                    public,
                    "us-east-1",
                    Status::Fail,
                ),
                finding(
                    "execution_role_full_access_policy",
                    role,
                    GLOBAL,
                    Status::Muted,
                ),
            ]),
        );
        let text = m.render();
        assert_eq!(
            sample(&text, "sagemaker_audit_findings{"),
            [
                r#"sagemaker_audit_findings{account_id="123456789012",check_id="domain_public_internet_access",region="us-east-1",severity="high",status="fail"} 1"#,
                r#"sagemaker_audit_findings{account_id="123456789012",check_id="execution_role_full_access_policy",region="global",severity="high",status="muted"} 1"#,
            ]
        );
        assert!(text.contains(r#"sagemaker_audit_scans_total{outcome="success"} 1"#));

        // Fixed: the FAIL series disappears instead of staying at its last value.
        m.scan_completed(
            1.0,
            &snapshot,
            &report(vec![finding(
                "domain_public_internet_access",
                public,
                "us-east-1",
                Status::Pass,
            )]),
        );
        let text = m.render();
        assert_eq!(
            sample(&text, "sagemaker_audit_findings{"),
            [
                r#"sagemaker_audit_findings{account_id="123456789012",check_id="domain_public_internet_access",region="us-east-1",severity="high",status="pass"} 1"#
            ]
        );
        assert!(text.contains(r#"sagemaker_audit_scans_total{outcome="success"} 2"#));
        assert!(text.contains("sagemaker_audit_scan_duration_seconds_count 2"));
        // A failed scan moves the counters and leaves the gauges alone.
        m.scan_failed(3.0, None);
        let after = m.render();
        assert!(after.contains(r#"sagemaker_audit_scans_total{outcome="failure"} 1"#));
        assert_eq!(
            sample(&after, "sagemaker_audit_findings{"),
            sample(&text, "sagemaker_audit_findings{")
        );
    }

    #[test]
    fn counters_of_known_label_sets_start_at_zero() {
        let m = Metrics::new();
        let text = m.render();
        for service in crate::vocab::Service::ALL {
            let series = format!(
                r#"sagemaker_audit_collection_errors_total{{service="{}"}} 0"#,
                service.as_str()
            );
            assert!(text.contains(&series), "{series} missing");
        }
        assert!(sample(&text, "sagemaker_audit_findings_opened_total{").is_empty());
        m.known_checks([("domain_public_internet_access", Severity::High)]);
        let text = m.render();
        assert_eq!(
            sample(&text, "sagemaker_audit_findings_opened_total{"),
            [
                r#"sagemaker_audit_findings_opened_total{check_id="domain_public_internet_access",severity="high"} 0"#
            ]
        );
        assert_eq!(
            sample(&text, "sagemaker_audit_findings_resolved_total{"),
            [
                r#"sagemaker_audit_findings_resolved_total{check_id="domain_public_internet_access",severity="high"} 0"#
            ]
        );
    }

    #[test]
    fn a_refused_reload_stays_visible_until_one_succeeds() {
        let m = Metrics::new();
        m.config_loaded(true);
        let loaded_at = |m: &Metrics| {
            m.render()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("sagemaker_audit_config_last_reload_success_timestamp_seconds ")?
                        .parse::<f64>()
                        .ok()
                })
                .unwrap()
        };
        let at = loaded_at(&m);
        assert!(at > 1.7e9, "{at}");
        assert!(
            m.render()
                .contains("sagemaker_audit_config_last_reload_successful 1")
        );
        m.config_reloaded(false);
        let text = m.render();
        assert!(text.contains("sagemaker_audit_config_last_reload_successful 0"));
        assert!(text.contains(r#"sagemaker_audit_config_reloads_total{outcome="failure"} 1"#));
        assert_eq!(loaded_at(&m), at, "a refusal is not a load");
        m.config_reloaded(true);
        assert!(
            m.render()
                .contains("sagemaker_audit_config_last_reload_successful 1")
        );
    }

    #[test]
    fn gauges_survive_their_json_and_are_published_as_they_were() {
        let snapshot = Snapshot::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/snapshot.json"
        )))
        .unwrap();
        let public = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1";
        let scanned = report(vec![
            finding(
                "domain_public_internet_access",
                public,
                "us-east-1",
                Status::Fail,
            ),
            finding(
                "domain_public_internet_access",
                "arn:x",
                "us-east-1",
                Status::Pass,
            ),
        ]);
        let first = Metrics::new();
        first.scan_completed(1.0, &snapshot, &scanned);
        let gauges = Gauges::of(&scanned);
        let back: Gauges = serde_json::from_str(&gauges.to_json()).unwrap();
        assert_eq!(back, gauges);
        let restarted = Metrics::new();
        restarted.publish(back);
        let gauge_lines = |text: &str| {
            let mut lines: Vec<String> = text
                .lines()
                .filter(|l| {
                    ["findings{", "resources{", "last_success_timestamp_seconds "]
                        .iter()
                        .any(|p| l.starts_with(&format!("sagemaker_audit_{p}")))
                })
                .map(String::from)
                .collect();
            lines.sort();
            lines
        };
        let before = gauge_lines(&first.render());
        assert!(
            before.iter().any(|l| l.contains(r#"status="fail"} 1"#)),
            "{before:?}"
        );
        assert_eq!(gauge_lines(&restarted.render()), before);
    }

    #[test]
    fn every_metric_name_is_listed() {
        let text = Metrics::new().render();
        let names = names();
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let name = line.split(' ').nth(2).unwrap();
            assert!(
                names.iter().any(|n| n.starts_with(name)),
                "{name} is missing from names()"
            );
        }
    }

    #[test]
    fn the_shard_is_exported_and_follows_a_reload() {
        let m = Metrics::new();
        let shard = |k, n| Some(crate::config::Shard { index: k, count: n });
        m.shard(shard(2, 3));
        let text = m.render();
        assert!(
            text.contains("sagemaker_audit_shard_info{shard=\"2/3\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("sagemaker_audit_shards 3\n"), "{text}");
        m.shard(shard(1, 2));
        let text = m.render();
        assert!(!text.contains("shard=\"2/3\""), "{text}");
        assert!(text.contains("sagemaker_audit_shard_info{shard=\"1/2\"} 1\n"));
        assert!(text.contains("sagemaker_audit_shards 2\n"));
        m.shard(None);
        let text = m.render();
        assert!(!text.contains("sagemaker_audit_shard_info{"), "{text}");
        assert!(!text.contains("sagemaker_audit_shards "), "{text}");
    }
}
