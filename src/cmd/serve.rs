//! `serve`: the daemon. A cron schedule (tokio-cron-scheduler) asks for scans; one worker
//! runs them, never two at once; each completed scan is recorded in the finding history,
//! written to the report directory and published as metrics and `/api/findings`.
//!
//! Signals: SIGTERM and SIGINT stop it (the scan in flight gets `shutdown_timeout` to
//! finish, then is abandoned; every write is atomic, so nothing is left half-written);
//! SIGHUP reloads the config and policies, and an invalid new config is refused while the
//! old one keeps running.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::collect::EventsSince;
use crate::collect::cloudtrail::Window;
use crate::config::Config;
use crate::config::Shard;
use crate::exporter::Exporter;
use crate::exporter::web::{Refused, WebConfig, WebState};
use crate::pipeline::{self, Judge, log_completed, nothing_read};
use crate::report::Outcome;
use crate::report::Report;
use crate::snapshot::ControlPlaneEvent;
use crate::snapshot::EventSpan;
use crate::snapshot::Snapshot;
use crate::state::ScanEvents;
use crate::state::Store;
use crate::telemetry::LogControl;
use crate::{Error, Result};

/// How late CloudTrail may deliver an event to LookupEvents: each scan's window reaches back
/// this far before the previous scan started.
const CLOUDTRAIL_DELAY: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// How long open HTTP connections may take to finish at shutdown.
const HTTP_DRAIN: Duration = Duration::from_secs(3);

/// The config and the policies it loads, replaced as a whole by a reload.
pub struct Loaded {
    pub config: Config,
    pub judge: Judge,
    pub web: WebConfig,
}

/// Where the daemon's settings come from: read at start and again on every SIGHUP.
#[derive(Debug, Clone)]
pub struct Sources {
    pub config: PathBuf,
    /// `--policy-dir`, besides the config's `policy_dirs`.
    pub policy_dirs: Vec<PathBuf>,
    /// `--shard`, which wins over the config's `shard`.
    pub shard: Option<Shard>,
    /// `--web.config.file`, which wins over the config's `serve.web_config_file`.
    pub web_config: Option<PathBuf>,
}

impl Loaded {
    pub fn load(sources: &Sources) -> Result<Self> {
        let mut config = Config::load(&sources.config)?;
        if sources.shard.is_some() {
            config.accounts.shard = sources.shard;
        }
        if sources.web_config.is_some() {
            config.serve.web_config_file = sources.web_config.clone();
        }
        let judge = Judge::load(&config, &sources.policy_dirs)?;
        let web = match &config.serve.web_config_file {
            Some(path) => WebConfig::load(path)?,
            None => WebConfig::default(),
        };
        Ok(Self { config, judge, web })
    }
}

/// What the worker, the scheduler and the signal loop share.
struct Daemon {
    loaded: Mutex<Arc<Loaded>>,
    exporter: Arc<Exporter>,
    store: Arc<Mutex<Store>>,
    /// A scan is queued or running: a tick arriving now is skipped.
    busy: AtomicBool,
    ticks: mpsc::Sender<()>,
    web: Arc<WebState>,
    /// Set when shutdown gives up on the scan in flight: its blocking work (evaluation, the
    /// history, report files) checks it before every write and stops.
    abandoned: Arc<AtomicBool>,
    /// The files of the web config in force (itself, certificate, key, CA), watched.
    web_files: Mutex<Vec<PathBuf>>,
}

impl Daemon {
    fn web_files(&self) -> Vec<PathBuf> {
        self.web_files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Asks for a scan unless one is queued or running; returns whether it was queued.
    fn request_scan(&self, why: &str) -> bool {
        if self.busy.swap(true, Ordering::AcqRel) {
            self.exporter.metrics.scan_skipped();
            tracing::warn!(
                trigger = why,
                "scan skipped: the previous scan is still running"
            );
            return false;
        }
        if self.ticks.try_send(()).is_err() {
            self.busy.store(false, Ordering::Release);
            return false;
        }
        true
    }
}

pub async fn run(sources: Sources, loaded: Loaded, logs: LogControl) -> Result<ExitCode> {
    let serve = loaded.config.serve.clone();
    // One daemon per state and report directory: held until the process ends.
    let _locks = lock_directories(&[
        state_directory(&serve.state_file),
        loaded.config.output.directory.clone(),
    ])?;
    let mut store = Store::open(&serve.state_file)?;
    let abandoned = Arc::new(AtomicBool::new(false));
    store.abandon_when(abandoned.clone());
    // A previous run killed mid-write (SIGKILL, OOM, power) leaves at most a temporary file,
    // which nobody holds any more.
    match crate::fsutil::remove_stale_temporaries(&loaded.config.output.directory) {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "temporary files of an interrupted run removed"),
        Err(e) => tracing::warn!(error = %e, "cannot clean temporary files of an earlier run"),
    }
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .map_err(|e| Error::Serve(format!("cannot listen on {}: {e}", serve.listen)))?;
    let exporter = Arc::new(Exporter::default());
    restore_gauges(&store, &exporter);
    exporter.metrics.config_loaded(true);
    exporter.metrics.known_checks(known_checks(&loaded));
    exporter.metrics.shard(loaded.config.accounts.shard);
    if loaded.config.export.security_hub.is_some() {
        exporter.metrics.export_enabled("security_hub");
    }
    if loaded.config.export.s3.is_some() {
        exporter.metrics.s3_export_enabled();
    }
    let web = WebState::new(&loaded.web);
    let (tls, users) = (
        loaded.web.tls.is_some(),
        loaded.web.auth.as_ref().map_or(0, |a| a.len()),
    );
    let (tick_tx, tick_rx) = mpsc::channel(1);
    let web_files = Mutex::new(loaded.web.files.clone());
    let daemon = Arc::new(Daemon {
        loaded: Mutex::new(Arc::new(loaded)),
        exporter: exporter.clone(),
        store: Arc::new(Mutex::new(store)),
        busy: AtomicBool::new(false),
        ticks: tick_tx,
        web: web.clone(),
        abandoned,
        web_files,
    });
    let (stop_tx, stop_rx) = watch::channel(false);

    let http = {
        let mut stop = stop_rx.clone();
        let app = crate::exporter::http::router(exporter.clone(), &serve.route_prefix).layer(
            axum::middleware::from_fn_with_state(web.clone(), crate::exporter::web::require_user),
        );
        let shutdown = async move { stopped(&mut stop).await };
        tokio::spawn(crate::exporter::server::serve(
            listener,
            app,
            web.clone(),
            tls,
            serve.max_connections,
            shutdown,
            HTTP_DRAIN,
        ))
    };
    tracing::info!(
        listen = %serve.listen,
        tls,
        basic_auth_users = users,
        state_file = %serve.state_file.display(),
        schedule = %daemon.loaded().config.schedule,
        version = env!("CARGO_PKG_VERSION"),
        "serving"
    );

    let mut scheduler = Schedule::start(daemon.clone()).await?;
    let worker = tokio::spawn(worker(daemon.clone(), tick_rx, stop_rx.clone()));
    tokio::spawn(watch_web_files(daemon.clone(), stop_rx.clone()));
    daemon.request_scan("start-up");

    let signal_err = |e: std::io::Error| Error::Serve(format!("cannot handle signals: {e}"));
    let mut sigterm = signal(SignalKind::terminate()).map_err(signal_err)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(signal_err)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(signal_err)?;
    let reason = loop {
        tokio::select! {
            _ = sigterm.recv() => break "SIGTERM",
            _ = sigint.recv() => break "SIGINT",
            _ = sighup.recv() => reload(&daemon, &sources, &logs, &mut scheduler).await,
        }
    };

    let grace = daemon.loaded().config.serve.shutdown_timeout;
    tracing::info!(signal = reason, grace_seconds = grace.as_secs(), "stopping");
    scheduler.stop().await;
    let _ = stop_tx.send(true);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "the scan worker ended abnormally");
    }
    // The server gives open connections HTTP_DRAIN to finish, no more: a client that holds
    // one open must not hold the exit.
    if let Err(e) = http.await {
        tracing::error!(error = %e, "the HTTP server ended abnormally");
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn reload(daemon: &Daemon, sources: &Sources, logs: &LogControl, scheduler: &mut Schedule) {
    let sources = sources.clone();
    // Policy compilation is CPU work: keep it off the async threads.
    let loaded = tokio::task::spawn_blocking(move || Loaded::load(&sources)).await;
    let loaded = match loaded {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => {
            daemon.exporter.metrics.config_reloaded(false);
            tracing::error!(error = %e, "reload refused: the new config or policies are invalid; the running config stays");
            return;
        }
        Err(e) => {
            daemon.exporter.metrics.config_reloaded(false);
            tracing::error!(error = %e, "reload failed; the running config stays");
            return;
        }
    };
    let old = daemon.loaded();
    if loaded.config.serve.listen != old.config.serve.listen
        || loaded.config.serve.state_file != old.config.serve.state_file
    {
        tracing::warn!(
            "serve.listen and serve.state_file take effect at the next restart, not on reload"
        );
    }
    match daemon.web.replace(&loaded.web) {
        Ok(()) => {
            *daemon
                .web_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = loaded.web.files.clone();
        }
        Err(Refused::TlsOnOff) => tracing::warn!(
            "turning TLS on or off takes effect at the next restart; the running TLS settings and users stay"
        ),
        // Fails closed: a half-written or emptied web config must not open the endpoints.
        Err(Refused::AuthOff) => {
            daemon.exporter.metrics.config_reloaded(false);
            tracing::error!(
                "reload refused: the new web config has no basic_auth_users; authentication is turned off only by a restart; the running config stays"
            );
            return;
        }
    }
    let schedule_changed = loaded.config.schedule != old.config.schedule;
    logs.set_level(&loaded.config.serve.log_level);
    let checks = loaded.judge.policies.checks().len();
    daemon.exporter.metrics.known_checks(known_checks(&loaded));
    daemon.exporter.metrics.shard(loaded.config.accounts.shard);
    if loaded.config.export.security_hub.is_some() {
        daemon.exporter.metrics.export_enabled("security_hub");
    }
    if loaded.config.export.s3.is_some() {
        daemon.exporter.metrics.s3_export_enabled();
    }
    *daemon.loaded.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
    if schedule_changed && let Err(e) = scheduler.restart().await {
        tracing::error!(error = %e, "cannot apply the new schedule; the old one stays");
    }
    daemon.exporter.metrics.config_reloaded(true);
    tracing::info!(
        checks,
        schedule = %daemon.loaded().config.schedule,
        "config reloaded; it applies from the next scan"
    );
}

/// The directory of the history file (`.` for a bare file name).
fn state_directory(state_file: &std::path::Path) -> PathBuf {
    match state_file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Locks each directory once (the state and report directories may be one).
fn lock_directories(dirs: &[PathBuf]) -> Result<Vec<crate::fsutil::DirectoryLock>> {
    let mut locks = Vec::new();
    let mut seen = Vec::new();
    for dir in dirs {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Serve(format!("{}: cannot create: {e}", dir.display())))?;
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        if seen.contains(&canonical) {
            continue;
        }
        seen.push(canonical);
        let lock = crate::fsutil::lock_directory(dir).map_err(|e| Error::Serve(e.to_string()))?;
        tracing::debug!(lock = %lock.path.display(), "directory locked");
        locks.push(lock);
    }
    Ok(locks)
}

/// The check ids and severities the loaded policies run.
fn known_checks(loaded: &Loaded) -> impl Iterator<Item = (&str, crate::vocab::Severity)> {
    loaded
        .judge
        .policies
        .checks()
        .iter()
        .map(|c| (c.metadata.id.as_str(), c.metadata.severity))
}

/// Exports the gauges of the last scan the history recorded, until this run's first scan
/// completes: a restart neither resolves the alerts on them nor fires them again.
fn restore_gauges(store: &Store, exporter: &Exporter) {
    let json = match store.published_gauges() {
        Ok(Some(json)) => json,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the last scan's gauges; they are absent until the first scan");
            return;
        }
    };
    match serde_json::from_str::<crate::exporter::metrics::Gauges>(&json) {
        Ok(gauges) => {
            tracing::info!(
                last_success = gauges.last_success,
                "gauges of the last recorded scan restored; the first scan replaces them"
            );
            exporter.metrics.publish(gauges);
        }
        Err(e) => {
            tracing::warn!(error = %e, "the history's gauges are unreadable; they are absent until the first scan")
        }
    }
}

/// How often the web config's files are looked at.
const WEB_WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// What tells a file changed: size, modification time and inode, following symbolic links
/// (a Kubernetes Secret volume swaps a `..data` link), or `None` while it is missing.
type Fingerprint = Vec<Option<(u64, Option<std::time::SystemTime>, u64)>>;

fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    use std::os::unix::fs::MetadataExt;
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .map(|m| (m.len(), m.modified().ok(), m.ino()))
        })
        .collect()
}

/// Reloads the web config (users, certificate, key, CA) when one of its files changes, as
/// SIGHUP does: Kubernetes updates a mounted Secret and sends no signal. The same rules
/// hold: an invalid file or one that turns authentication off is refused and counted.
async fn watch_web_files(daemon: Arc<Daemon>, mut stop: watch::Receiver<bool>) {
    let mut seen = fingerprint(&daemon.web_files());
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => return,
            _ = tokio::time::sleep(WEB_WATCH_INTERVAL) => {}
        }
        let now = fingerprint(&daemon.web_files());
        if now == seen {
            continue;
        }
        if let Some(path) = daemon.loaded().config.serve.web_config_file.clone() {
            reload_web(&daemon, path).await;
        }
        // Handled once, accepted or refused; the next change is looked for from here.
        seen = fingerprint(&daemon.web_files());
    }
}

async fn reload_web(daemon: &Daemon, path: PathBuf) {
    let metrics = &daemon.exporter.metrics;
    let web = match tokio::task::spawn_blocking(move || WebConfig::load(&path)).await {
        Ok(Ok(web)) => web,
        Ok(Err(e)) => {
            metrics.config_reloaded(false);
            tracing::error!(error = %e, "reload refused: the changed web config is invalid; the running one stays");
            return;
        }
        Err(e) => {
            metrics.config_reloaded(false);
            tracing::error!(error = %e, "web config reload failed; the running one stays");
            return;
        }
    };
    match daemon.web.replace(&web) {
        Ok(()) => {
            *daemon
                .web_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = web.files.clone();
            metrics.config_reloaded(true);
            tracing::info!(
                users = web.auth.as_ref().map_or(0, |a| a.len()),
                "web config or certificate changed on disk: reloaded"
            );
        }
        Err(Refused::TlsOnOff) => tracing::warn!(
            "the changed web config turns TLS on or off, which takes effect at the next restart; the running TLS settings and users stay"
        ),
        Err(Refused::AuthOff) => {
            metrics.config_reloaded(false);
            tracing::error!(
                "reload refused: the changed web config has no basic_auth_users; authentication is turned off only by a restart; the running config stays"
            );
        }
    }
}

/// The cron job that asks the worker for scans.
struct Schedule {
    scheduler: JobScheduler,
    daemon: Arc<Daemon>,
}

fn scheduler_error(e: tokio_cron_scheduler::JobSchedulerError) -> Error {
    Error::Serve(format!("scheduler: {e}"))
}

impl Schedule {
    async fn start(daemon: Arc<Daemon>) -> Result<Self> {
        let schedule = daemon.loaded().config.schedule.clone();
        let d = daemon.clone();
        let job = Job::new(schedule.as_str(), move |_, _| {
            d.request_scan("schedule");
        })
        .map_err(scheduler_error)?;
        let scheduler = JobScheduler::new().await.map_err(scheduler_error)?;
        scheduler.add(job).await.map_err(scheduler_error)?;
        scheduler.start().await.map_err(scheduler_error)?;
        Ok(Self { scheduler, daemon })
    }

    /// Starts a scheduler with the current schedule, then stops the old one.
    async fn restart(&mut self) -> Result<()> {
        let new = Self::start(self.daemon.clone()).await?;
        let mut old = std::mem::replace(self, new);
        old.stop().await;
        Ok(())
    }

    async fn stop(&mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = %e, "scheduler shutdown");
        }
    }
}

/// Resolves once the stop flag is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Runs the requested scans one at a time until told to stop.
async fn worker(
    daemon: Arc<Daemon>,
    mut ticks: mpsc::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => return,
            tick = ticks.recv() => if tick.is_none() { return },
        }
        let loaded = daemon.loaded();
        let jitter = loaded.config.jitter;
        if !jitter.is_zero() {
            let delay = Duration::from_millis(fastrand::u64(0..=jitter.as_millis() as u64));
            tracing::debug!(
                delay_ms = delay.as_millis() as u64,
                "jitter before the scan"
            );
            tokio::select! {
                _ = stopped(&mut stop) => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        // Its own task, so a panic in a scan fails that scan, not the daemon.
        let mut scan = tokio::spawn(scan_once(daemon.clone(), loaded.clone()));
        tokio::select! {
            ended = &mut scan => {
                if let Err(e) = ended {
                    daemon.exporter.metrics.scan_failed(0.0, None);
                    tracing::error!(error = %e, outcome = Outcome::Failure.as_str(), "scan failed: the scan task ended abnormally");
                }
            }
            _ = stopped(&mut stop) => {
                let grace = loaded.config.serve.shutdown_timeout;
                tracing::info!(grace_seconds = grace.as_secs(), "waiting for the scan in flight");
                if tokio::time::timeout(grace, &mut scan).await.is_err() {
                    // Evaluation and writes run on a blocking thread, which abort() cannot
                    // stop: they see the flag before their next write and give up.
                    daemon.abandoned.store(true, Ordering::Release);
                    scan.abort();
                    tracing::warn!("scan abandoned at shutdown: nothing of it is recorded, written or published");
                }
                return;
            }
        }
        daemon.busy.store(false, Ordering::Release);
    }
}

/// One scan: collect, judge, record in the history, write the report files, publish.
async fn scan_once(daemon: Arc<Daemon>, loaded: Arc<Loaded>) {
    let metrics = &daemon.exporter.metrics;
    metrics.scan_started();
    let started = Instant::now();
    let config = &loaded.config;
    let events_since = config.cloudtrail.enabled.then(|| {
        let floor = Utc::now() - config.cloudtrail.lookback;
        let windows = daemon
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .event_windows();
        let windows = windows.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the CloudTrail windows; reading the whole look-back");
            Default::default()
        });
        // Overlapping windows: CloudTrail may deliver an event after the scan that should
        // have seen it; the history stores each event once. What is older than the look-back
        // is no longer worth reading, unread or not.
        let scopes = windows
            .into_iter()
            .map(|(scope, stored)| {
                let unread = stored
                    .unread
                    .filter(|u| u.until > floor)
                    .map(|u| EventSpan {
                        from: u.from.max(floor),
                        until: u.until,
                    });
                let since = floor.max(stored.started_at - CLOUDTRAIL_DELAY);
                (scope, Window { since, unread })
            })
            .collect();
        EventsSince {
            floor,
            scopes,
            max_pages: config.cloudtrail.max_pages,
        }
    });
    let collect = pipeline::collect(config, None, events_since);
    let snapshot = match tokio::time::timeout(config.serve.scan_timeout, collect).await {
        Err(_) => {
            return failed(
                &daemon,
                started,
                None,
                format!(
                    "timed out after {} s (serve.scan_timeout_seconds)",
                    config.serve.scan_timeout.as_secs()
                ),
            );
        }
        Ok(Err(e)) => return failed(&daemon, started, None, e.to_string()),
        Ok(Ok(s)) => s,
    };
    if let Some(reason) = nothing_read(&snapshot) {
        return failed(&daemon, started, Some(&snapshot), reason);
    }

    let snapshot = Arc::new(snapshot);
    tracing::debug!("collected; judging and recording");
    let work = {
        let (snapshot, loaded, store) = (snapshot.clone(), loaded.clone(), daemon.store.clone());
        // Evaluation and SQLite are blocking work: off the async threads, so /metrics stays
        // responsive during a scan.
        let abandoned = daemon.abandoned.clone();
        tokio::task::spawn_blocking(move || {
            judge_and_record(&snapshot, &loaded, &store, &abandoned)
        })
    };
    let (mut report, new_events, view) = match work.await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return failed(&daemon, started, Some(&snapshot), e),
        Err(e) => return failed(&daemon, started, Some(&snapshot), e.to_string()),
    };
    let seconds = started.elapsed().as_secs_f64();
    metrics.scan_completed(seconds, &snapshot, &report);
    metrics.studio_logins(&new_events, &report.tally);
    log_completed(&snapshot, &report, seconds);
    if let Some(hub) = &loaded.config.export.security_hub {
        export_to_security_hub(&daemon, &loaded, hub, &report).await;
    }
    // `/api/findings` serves (and the daemon keeps) what the report files list.
    let _ = report.keep_statuses(&loaded.config.output.statuses);
    if let Some(s3) = &loaded.config.export.s3 {
        export_to_s3(&daemon, &loaded, s3, &report).await;
    }
    daemon.exporter.publish_with(report, Some(view));
}

/// The scan's findings into Security Hub, with the archives earlier exports failed to
/// deliver; what is still undelivered is kept in the history for the next scan.
async fn export_to_security_hub(
    daemon: &Daemon,
    loaded: &Loaded,
    hub: &crate::config::SecurityHubExport,
    report: &Report,
) {
    use crate::export::security_hub;
    let pending = {
        let store = daemon.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.hub_pending().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the undelivered Security Hub archives; sending this scan's only");
            Vec::new()
        })
    };
    let outcome =
        security_hub::export(&loaded.config, hub, &loaded.judge.policies, report, pending).await;
    let undelivered = security_hub::undelivered_archives(&outcome);
    let kept = {
        let mut store = daemon.store.lock().unwrap_or_else(PoisonError::into_inner);
        match store.set_hub_pending(&undelivered, report.scan.finished_at) {
            Ok(given_up) => {
                if given_up > 0 {
                    tracing::warn!(
                        given_up,
                        "Security Hub archives undelivered for 90 days are given up (Security Hub has deleted those findings)"
                    );
                }
                undelivered.len() - given_up
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot keep the undelivered Security Hub archives; they are not retried");
                0
            }
        }
    };
    daemon
        .exporter
        .metrics
        .export_completed("security_hub", &outcome, kept);
}

/// The report's objects into S3, after those earlier scans could not write (the spool
/// beside the history); what is still not written is spooled for the next scan.
async fn export_to_s3(
    daemon: &Daemon,
    loaded: &Loaded,
    s3: &crate::config::S3Export,
    report: &Report,
) {
    use crate::export::s3::{self as s3_export, Spool};
    let spool = Spool::new(&state_directory(&loaded.config.serve.state_file).join("s3-pending"));
    let outcome = s3_export::export(&loaded.config, s3, report, spool.load()).await;
    let left: Vec<_> = outcome.failed.iter().map(|f| f.object.clone()).collect();
    let pending = match spool.replace(&left) {
        Ok(()) => left.len(),
        Err(e) => {
            tracing::error!(error = %e, "cannot spool the S3 objects not written; they are not retried");
            0
        }
    };
    daemon
        .exporter
        .metrics
        .s3_export_completed(outcome.written, outcome.failed.len(), pending);
}

fn judge_and_record(
    snapshot: &Snapshot,
    loaded: &Loaded,
    store: &Mutex<Store>,
    abandoned: &AtomicBool,
) -> Result<(Report, Vec<ControlPlaneEvent>, crate::exporter::View), String> {
    let config = &loaded.config;
    let mut report = loaded
        .judge
        .report(snapshot, config, Utc::now().date_naive());
    let check = |what: &str| {
        if abandoned.load(Ordering::Acquire) {
            Err(format!("abandoned at shutdown before {what}"))
        } else {
            Ok(())
        }
    };
    check("recording it in the history")?;
    let retention = chrono::Duration::days(config.output.retention_days.into());
    let cutoff = report.scan.finished_at - retention;
    let new_events;
    let pruned;
    let timeline;
    {
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        // Findings of accounts and regions out of the scan for longer than the retention
        // (left the organisation, excluded, another shard's) are closed as out_of_scope.
        store.close_out_of_scope_after(retention);
        let events = config.cloudtrail.enabled.then(|| ScanEvents {
            fetched: &snapshot.events,
            keep_after: report.scan.finished_at - config.cloudtrail.lookback,
            read: pipeline::cloudtrail_read(snapshot),
        });
        new_events = pipeline::record(&mut store, &mut report, snapshot, events)
            .map_err(|e| e.to_string())?;
        pruned = match store.prune(report.scan.finished_at, retention) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "history pruning failed; no report file is pruned either");
                Default::default()
            }
        };
        timeline = store
            .timeline(TIMELINE_SCANS, TIMELINE_ROWS)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the history for the web page; its history panel is empty");
                Default::default()
            });
    }
    if let Some(moved) = pruned.clock_moved {
        tracing::warn!(
            moved_seconds = moved.num_seconds(),
            "the clock moved by more than a day since the previous scan (a clock jump, or the daemon was stopped); retention counts the gap as one day"
        );
    }
    if pruned.scans + pruned.findings > 0 {
        tracing::info!(
            scans = pruned.scans,
            findings = pruned.findings,
            "history pruned"
        );
    }
    let dir = &config.output.directory;
    check("writing its report")?;
    // The file lists the configured statuses; the metrics (after this) count every finding.
    let left_out = report.keep_statuses(&config.output.statuses);
    let graph = crate::report::graph::Graph::of(snapshot);
    let written =
        crate::report::files::write(dir, config.output.format, &report, Some(&graph), abandoned);
    report.restore(left_out);
    let path = written.map_err(|e| format!("{}: cannot write the report: {e}", dir.display()))?;
    tracing::debug!(path = %path.display(), "report written");
    check("pruning old reports")?;
    match crate::report::files::prune(dir, &pruned, cutoff) {
        Ok(n) if n > 0 => tracing::info!(deleted = n, "old reports pruned"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, dir = %dir.display(), "report pruning failed"),
    }
    Ok((
        report,
        new_events,
        crate::exporter::View { graph, timeline },
    ))
}

/// The scans the web page's history chart shows, and the most findings it lists as opened
/// and as closed by them.
const TIMELINE_SCANS: usize = 60;
const TIMELINE_ROWS: usize = 200;

fn failed(daemon: &Daemon, started: Instant, snapshot: Option<&Snapshot>, reason: String) {
    let seconds = started.elapsed().as_secs_f64();
    daemon.exporter.metrics.scan_failed(seconds, snapshot);
    tracing::error!(
        outcome = Outcome::Failure.as_str(),
        duration_ms = (seconds * 1000.0) as u64,
        reason = %reason,
        "scan failed; metrics and reports still describe the last completed scan"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_while_a_scan_is_queued_or_running_is_skipped_and_counted() {
        let dir = std::env::temp_dir().join(format!("sma-serve-{}", std::process::id()));
        let config = Config::default();
        let judge = Judge::load(&config, &[]).unwrap();
        let (ticks, mut queued) = mpsc::channel(1);
        let daemon = Daemon {
            loaded: Mutex::new(Arc::new(Loaded {
                config,
                judge,
                web: WebConfig::default(),
            })),
            exporter: Arc::new(Exporter::default()),
            store: Arc::new(Mutex::new(Store::open(&dir.join("h.db")).unwrap())),
            busy: AtomicBool::new(false),
            ticks,
            web: WebState::new(&WebConfig::default()),
            abandoned: Arc::new(AtomicBool::new(false)),
            web_files: Mutex::new(Vec::new()),
        };
        let skipped = |d: &Daemon| {
            d.exporter
                .metrics
                .render()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("sagemaker_audit_scans_skipped_total ")?
                        .parse::<u64>()
                        .ok()
                })
                .unwrap()
        };
        assert!(daemon.request_scan("start-up"));
        assert!(!daemon.request_scan("schedule"), "queued: skip");
        assert!(queued.try_recv().is_ok());
        assert!(!daemon.request_scan("schedule"), "running: skip");
        assert_eq!(skipped(&daemon), 2);
        // The worker clears the flag when the scan ends; the next tick runs.
        daemon.busy.store(false, Ordering::Release);
        assert!(daemon.request_scan("schedule"));
        assert_eq!(skipped(&daemon), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
