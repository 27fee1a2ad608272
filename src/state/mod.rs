//! The finding history of `serve`: an embedded SQLite database (WAL) with one row per scan
//! and one per finding that has ever failed, holding when it was first and last seen failing
//! and when it was resolved.
//!
//! Resolving is the dangerous direction: a finding that disappears because a list call was
//! denied must not look fixed. A finding failing at the previous scan is resolved only when
//! this scan reports it PASS, or when it is absent and this scan read its whole scope: its
//! account and region were scanned, no call of its service failed there, its check ran, and
//! no ERROR result of its check covers it (a failed list reports ERROR on `.../app/*`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::collect::GLOBAL;
use crate::policy::{Severity, glob_match};
use crate::report::history::{History, KeptOpen, ResolvedFinding};
use crate::report::{Report, Status};
use crate::snapshot::ControlPlaneEvent;

/// Bumped with every schema change; `open` migrates older files forward.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    pass INTEGER NOT NULL,
    fail INTEGER NOT NULL,
    muted INTEGER NOT NULL,
    error INTEGER NOT NULL,
    collection_errors INTEGER NOT NULL,
    new_findings INTEGER NOT NULL,
    resolved_findings INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    id TEXT PRIMARY KEY,
    check_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_arn TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS findings_open ON findings (resolved_at);
CREATE INDEX IF NOT EXISTS scans_finished ON scans (finished_at);
-- Version 2: the CloudTrail events of the look-back window, each once (scans overlap their
-- windows, CloudTrail delivers late).
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    event_time TEXT NOT NULL,
    -- 1 for a call that changed something (attribution reads only these); sign-ins and reads
    -- are kept by id only, so that an overlapping window does not count them again.
    change INTEGER NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (event_time);
-- When the last scan that read CloudTrail completely (every account, every region) started:
-- the next one needs events from about then on. One row at most.
CREATE TABLE IF NOT EXISTS event_window (started_at TEXT NOT NULL);
";

/// The CloudTrail side of a scan, for [`Store::record_scan`].
pub struct ScanEvents<'a> {
    /// What the scan's LookupEvents returned (its window overlaps the previous one).
    pub fetched: &'a [ControlPlaneEvent],
    /// Older events are forgotten: the look-back.
    pub keep_after: DateTime<Utc>,
    /// CloudTrail was read in every account and region of the scan: the next scan may start
    /// its window here. Otherwise the window stays where it was, so nothing is skipped.
    pub complete: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: cannot create its directory: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: finding history: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "{path}: finding history has schema version {found}, newer than this program's {SCHEMA_VERSION}"
    )]
    NewerSchema { path: String, found: i64 },
}

/// One finding's history row.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingHistory {
    pub id: String,
    pub check_id: String,
    pub resource_arn: String,
    /// The last status it was seen with: `FAIL` or `MUTED`.
    pub status: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// How a scan ended, as `sagemaker_audit_scans_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was collected and every check ran.
    Success,
    /// A report was made, but some calls failed or some checks errored.
    Partial,
    /// No report: nothing could be read, or the scan timed out.
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Partial => "partial",
            Self::Failure => "failure",
        }
    }

    pub fn of(report: &Report) -> Self {
        if report.scan.collection_errors.is_empty() && report.evaluation_errors.is_empty() {
            Self::Success
        } else {
            Self::Partial
        }
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn time_text(t: DateTime<Utc>) -> String {
    // Fixed width, so text order is time order (retention compares the text).
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The service whose list calls a resource type comes from: a failure of that service in the
/// resource's scope means its absence proves nothing.
fn service_of(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "domain" | "user_profile" | "space" | "app" => Some("sagemaker"),
        "iam_role" => Some("iam"),
        "security_group" => Some("ec2"),
        "efs_file_system" => Some("efs"),
        _ => None,
    }
}

impl Store {
    /// Opens (creating it and its directory if need be) the history database.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let display = path.display().to_string();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Directory {
                path: display.clone(),
                source,
            })?;
        }
        let sql = |source| StateError::Sqlite {
            path: display.clone(),
            source,
        };
        #[cfg(unix)]
        {
            // The history names every weak spot of the accounts: owner only. Created before
            // SQLite opens it, whose -wal and -shm files then take the same mode.
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path);
        }
        let conn = Connection::open(path).map_err(sql)?;
        // WAL: readers never block the writer and a crash mid-write leaves the last committed
        // state. NORMAL is durable against a process crash, the case that matters here.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        if found > SCHEMA_VERSION {
            return Err(StateError::NewerSchema {
                path: display,
                found,
            });
        }
        conn.execute_batch(SCHEMA).map_err(sql)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        |source| StateError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Records a completed scan in one transaction: failing findings are opened or kept
    /// open, fixed ones resolved. Sets the report's `first_seen`/`last_seen` from the history
    /// and its `history` section.
    pub fn record(&mut self, report: &mut Report) -> Result<(), StateError> {
        self.record_scan(report, None).map(|_| ())
    }

    /// [`Store::record`], and in the same transaction the scan's CloudTrail events: those
    /// not seen before are the report's `changes` (and are returned), every stored one of the
    /// look-back is a source of its findings' `attribution`.
    pub fn record_scan(
        &mut self,
        report: &mut Report,
        events: Option<ScanEvents<'_>>,
    ) -> Result<Vec<ControlPlaneEvent>, StateError> {
        let err = |source| StateError::Sqlite {
            path: self.path.display().to_string(),
            source,
        };
        let now = report.scan.finished_at;
        let now_text = time_text(now);
        let tx = self.conn.transaction().map_err(err)?;

        let mut new_events = Vec::new();
        if let Some(events) = events {
            let known;
            (new_events, known) = store_events(&tx, &events).map_err(err)?;
            crate::report::changes::apply(report, &known, &new_events);
            if events.complete {
                tx.execute("DELETE FROM event_window", []).map_err(err)?;
                tx.execute(
                    "INSERT INTO event_window (started_at) VALUES (?1)",
                    [time_text(report.scan.started_at)],
                )
                .map_err(err)?;
            }
        }

        let mut open: HashMap<String, OpenRow> = HashMap::new();
        {
            let mut stmt = tx
                .prepare(
                    "SELECT id, check_id, severity, resource_type, resource_arn, account_id, region, first_seen, last_seen
                     FROM findings WHERE resolved_at IS NULL",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(OpenRow {
                        id: r.get(0)?,
                        check_id: r.get(1)?,
                        severity: r.get(2)?,
                        resource_type: r.get(3)?,
                        resource_arn: r.get(4)?,
                        account_id: r.get(5)?,
                        region: r.get(6)?,
                        first_seen: r.get(7)?,
                        last_seen: r.get(8)?,
                    })
                })
                .map_err(err)?;
            for row in rows {
                let row = row.map_err(err)?;
                open.insert(row.id.clone(), row);
            }
        }

        let mut history = History::default();
        {
            let mut upsert = tx
                .prepare(
                    "INSERT INTO findings (id, check_id, severity, resource_type, resource_arn, account_id, region, status, first_seen, last_seen, resolved_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, NULL)
                     ON CONFLICT (id) DO UPDATE SET
                         severity = excluded.severity, status = excluded.status,
                         first_seen = CASE WHEN findings.resolved_at IS NULL THEN findings.first_seen ELSE excluded.first_seen END,
                         last_seen = excluded.last_seen, resolved_at = NULL",
                )
                .map_err(err)?;
            for f in &mut report.findings {
                match f.status {
                    Status::Fail | Status::Muted => {
                        upsert
                            .execute(params![
                                f.id,
                                f.check_id,
                                f.severity.as_str(),
                                f.resource_type,
                                f.resource_arn,
                                f.account_id,
                                f.region,
                                f.status.as_str(),
                                now_text,
                            ])
                            .map_err(err)?;
                        match open.get(&f.id) {
                            Some(row) => f.first_seen = parse_time(&row.first_seen),
                            None => {
                                f.first_seen = now;
                                history.new.push(f.id.clone());
                            }
                        }
                        f.last_seen = now;
                    }
                    // Neither fixed nor failing: the open finding keeps its dates.
                    Status::Error => {
                        if let Some(row) = open.get(&f.id) {
                            f.first_seen = parse_time(&row.first_seen);
                            f.last_seen = parse_time(&row.last_seen);
                        }
                    }
                    Status::Pass => {}
                }
            }

            let scope = Scope::of(report);
            let status: HashMap<&str, Status> = report
                .findings
                .iter()
                .map(|f| (f.id.as_str(), f.status))
                .collect();
            let mut resolve = tx
                .prepare("UPDATE findings SET resolved_at = ?2 WHERE id = ?1")
                .map_err(err)?;
            for (id, row) in &open {
                let verdict = match status.get(id.as_str()) {
                    Some(Status::Fail | Status::Muted) => continue,
                    Some(Status::Error) => Err(("error_result", None)),
                    Some(Status::Pass) => Ok(()),
                    None => scope.absence_proves_fixed(row),
                };
                match verdict {
                    Ok(()) => {
                        resolve.execute(params![id, now_text]).map_err(err)?;
                        history.resolved.push(ResolvedFinding {
                            id: id.clone(),
                            check_id: row.check_id.clone(),
                            severity: Severity::parse(&row.severity).unwrap_or(Severity::Info),
                            resource_type: row.resource_type.clone(),
                            resource_arn: row.resource_arn.clone(),
                            account_id: row.account_id.clone(),
                            region: row.region.clone(),
                            first_seen: parse_time(&row.first_seen),
                            last_seen: parse_time(&row.last_seen),
                            resolved_at: now,
                        });
                    }
                    Err((reason, service)) => history.kept_open.push(KeptOpen {
                        id: id.clone(),
                        check_id: row.check_id.clone(),
                        resource_arn: row.resource_arn.clone(),
                        reason: reason.into(),
                        service: service.map(String::from),
                    }),
                }
            }
        }
        history.new.sort();
        history
            .resolved
            .sort_by(|a, b| (&a.check_id, &a.resource_arn).cmp(&(&b.check_id, &b.resource_arn)));
        history
            .kept_open
            .sort_by(|a, b| (&a.check_id, &a.resource_arn).cmp(&(&b.check_id, &b.resource_arn)));

        let s = &report.summary;
        tx.execute(
            "INSERT OR REPLACE INTO scans (id, started_at, finished_at, outcome, pass, fail, muted, error, collection_errors, new_findings, resolved_findings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                report.scan.id,
                time_text(report.scan.started_at),
                now_text,
                Outcome::of(report).as_str(),
                s.pass as i64,
                s.fail as i64,
                s.muted as i64,
                s.error as i64,
                report.scan.collection_errors.len() as i64,
                history.new.len() as i64,
                history.resolved.len() as i64,
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        report.history = Some(history);
        Ok(new_events)
    }

    /// When the last scan that read CloudTrail completely started (see
    /// [`ScanEvents::complete`]); `None` before the first.
    pub fn events_read_since(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        self.conn
            .query_row("SELECT MAX(started_at) FROM event_window", [], |r| {
                r.get::<_, Option<String>>(0)
            })
            .map(|t| t.map(|t| parse_time(&t)))
            .map_err(self.err())
    }

    /// Deletes scans, and findings resolved, before `cutoff`. Open findings are kept
    /// whatever their age. Returns (scans, findings) deleted.
    pub fn prune(&mut self, cutoff: DateTime<Utc>) -> Result<(usize, usize), StateError> {
        let cutoff = time_text(cutoff);
        let scans = self
            .conn
            .execute("DELETE FROM scans WHERE finished_at < ?1", [&cutoff])
            .map_err(self.err())?;
        let findings = self
            .conn
            .execute(
                "DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
                [&cutoff],
            )
            .map_err(self.err())?;
        Ok((scans, findings))
    }

    /// One finding's history, by finding id.
    pub fn finding(&self, id: &str) -> Result<Option<FindingHistory>, StateError> {
        self.conn
            .query_row(
                "SELECT id, check_id, resource_arn, status, first_seen, last_seen, resolved_at FROM findings WHERE id = ?1",
                [id],
                |r| {
                    Ok(FindingHistory {
                        id: r.get(0)?,
                        check_id: r.get(1)?,
                        resource_arn: r.get(2)?,
                        status: r.get(3)?,
                        first_seen: parse_time(&r.get::<_, String>(4)?),
                        last_seen: parse_time(&r.get::<_, String>(5)?),
                        resolved_at: r.get::<_, Option<String>>(6)?.map(|t| parse_time(&t)),
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    /// Number of scans recorded.
    pub fn scan_count(&self) -> Result<u64, StateError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM scans", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.err())
    }
}

/// Stores the events not seen before and forgets those past the look-back. Returns (the new
/// events, every stored change of the look-back).
fn store_events(
    tx: &rusqlite::Transaction<'_>,
    events: &ScanEvents<'_>,
) -> rusqlite::Result<(Vec<ControlPlaneEvent>, Vec<ControlPlaneEvent>)> {
    let mut new = Vec::new();
    let mut insert = tx.prepare(
        "INSERT OR IGNORE INTO events (event_id, event_time, change, event) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for event in events.fetched {
        // Sign-ins and reads are kept by id only (never read back whole).
        let json = if event.is_change() {
            serde_json::to_string(event).unwrap_or_default()
        } else {
            String::new()
        };
        let row = params![
            event.event_id,
            time_text(event.event_time),
            event.is_change(),
            json
        ];
        if insert.execute(row)? > 0 {
            new.push(event.clone());
        }
    }
    tx.execute(
        "DELETE FROM events WHERE event_time < ?1",
        [time_text(events.keep_after)],
    )?;
    let mut select = tx.prepare("SELECT event FROM events WHERE change = 1")?;
    let rows = select.query_map([], |r| r.get::<_, String>(0))?;
    let mut known = Vec::new();
    for row in rows {
        // A row this program wrote; one it cannot read is skipped, not fatal.
        if let Ok(event) = serde_json::from_str(&row?) {
            known.push(event);
        }
    }
    Ok((new, known))
}

struct OpenRow {
    id: String,
    check_id: String,
    severity: String,
    resource_type: String,
    resource_arn: String,
    account_id: String,
    region: String,
    first_seen: String,
    last_seen: String,
}

/// What a scan read and failed to read, to tell a fixed finding from an unseen one.
struct Scope<'a> {
    /// Regions read per account that was read.
    scanned: &'a BTreeMap<String, Vec<String>>,
    /// (account, region, service) of every failed call.
    failed: BTreeSet<(&'a str, &'a str, &'a str)>,
    /// Checks that did not run.
    errored_checks: BTreeSet<&'a str>,
    /// ERROR results by check: (resource ARN or pattern).
    error_results: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Scope<'a> {
    fn of(report: &'a Report) -> Self {
        let mut error_results: HashMap<&str, Vec<&str>> = HashMap::new();
        for f in &report.findings {
            if f.status == Status::Error {
                error_results
                    .entry(f.check_id.as_str())
                    .or_default()
                    .push(f.resource_arn.as_str());
            }
        }
        Self {
            scanned: &report.scan.scanned,
            failed: report
                .scan
                .collection_errors
                .iter()
                .map(|e| (e.account_id.as_str(), e.region.as_str(), e.service.as_str()))
                .collect(),
            errored_checks: report
                .evaluation_errors
                .iter()
                .map(|e| e.check_id.as_str())
                .collect(),
            error_results,
        }
    }

    /// Ok when an absent open finding is fixed; otherwise why it stays open.
    fn absence_proves_fixed(
        &self,
        row: &OpenRow,
    ) -> Result<(), (&'static str, Option<&'static str>)> {
        let region = row.region.as_str();
        // An account whose role could not be assumed is absent here: nothing of it was read.
        let read = self
            .scanned
            .get(row.account_id.as_str())
            .is_some_and(|regions| region == GLOBAL || regions.iter().any(|r| r == region));
        if !read {
            return Err(("not_scanned", None));
        }
        if self.errored_checks.contains(row.check_id.as_str()) {
            return Err(("evaluation_error", None));
        }
        let failed_here = |service: &str| {
            self.failed
                .contains(&(row.account_id.as_str(), region, service))
        };
        match service_of(&row.resource_type) {
            Some(service) if failed_here(service) => {
                return Err(("collection_error", Some(service)));
            }
            Some(_) => {}
            // A resource type of a user's check: any failure in its scope keeps it open.
            None => {
                if let Some(service) = ["sagemaker", "iam", "ec2", "efs", "sts"]
                    .into_iter()
                    .find(|s| failed_here(s))
                {
                    return Err(("collection_error", Some(service)));
                }
            }
        }
        if self
            .error_results
            .get(row.check_id.as_str())
            .is_some_and(|patterns| {
                patterns
                    .iter()
                    .any(|p| glob_match(p, &row.resource_arn, false))
            })
        {
            return Err(("error_result", None));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
