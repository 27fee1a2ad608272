//! The finding history of `serve`: an embedded SQLite database (WAL) with one row per scan
//! and one per finding that has ever failed, holding when it was first and last seen failing
//! and when it was resolved; and the CloudTrail events of the look-back window.
//!
//! The store does the I/O only: it loads the open findings, hands them with the report to
//! [`crate::report::history::diff`] (which decides what opens, resolves or stays open) and
//! saves the outcome, all in one transaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::report::history::{self, FindingChange, History, OpenFinding, ScanPoint, Timeline};
use crate::report::{Outcome, Report, Status};
use crate::snapshot::{ControlPlaneEvent, EventSpan};
use crate::vocab::Severity;

/// Bumped with every schema change; `open` migrates older files forward.
const SCHEMA_VERSION: i64 = 7;

const SCHEMA: &str = "
-- Version 7 added scans.fail_by_severity: FAIL findings per severity (a JSON object with
-- every severity); NULL for scans recorded before (`open` adds the column).
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
    resolved_findings INTEGER NOT NULL,
    fail_by_severity TEXT
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
    resolved_at TEXT,
    -- Version 5: how a closed finding was closed: `resolved` (seen fixed) or `out_of_scope`
    -- (its account or region not scanned for longer than the retention); NULL while open.
    resolution TEXT
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
-- Version 3: when the last scan that read CloudTrail completely in an account and region
-- started, per account and region: the next one needs its events from about then on. (The
-- version 2 table held one time for all of them: one unreachable account held back all.)
DROP TABLE IF EXISTS event_window;
CREATE TABLE IF NOT EXISTS event_windows (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    started_at TEXT NOT NULL,
    -- Version 4: what a scan's page budget left unread of this account-region's earlier
    -- windows (events after unread_from, at or before unread_until); NULL when nothing.
    unread_from TEXT,
    unread_until TEXT,
    PRIMARY KEY (account_id, region)
);
-- Version 5: the gauges of the last recorded scan (metrics::Gauges as JSON), one row, so that
-- a restarted daemon exports them until its first scan completes.
CREATE TABLE IF NOT EXISTS published_gauges (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    scan_id TEXT NOT NULL,
    gauges TEXT NOT NULL
);
-- Version 6: the Security Hub archives (ASFF JSON) an export could not deliver: sent again
-- at the next scan, so that a resolved finding never stays active in Security Hub.
CREATE TABLE IF NOT EXISTS hub_pending (
    id TEXT PRIMARY KEY,
    finding TEXT NOT NULL,
    since TEXT NOT NULL
);
";

/// How long an undelivered Security Hub archive is retried: Security Hub itself deletes an
/// active finding 90 days after its last update.
pub const HUB_PENDING_DAYS: i64 = 90;

/// The most a gap between two scans counts for retention (see [`Store::prune`]).
pub const MAX_GAP: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// What [`Store::prune`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pruned {
    pub scans: usize,
    pub findings: usize,
    /// When the scans kept and the scans deleted finished (by their clock), for the report
    /// files of the same scans.
    pub kept: Vec<DateTime<Utc>>,
    pub expired: Vec<DateTime<Utc>>,
    /// How far the clock moved from the scan before the newest to the newest, when that is
    /// more than [`MAX_GAP`] either way (a clock jump, or a daemon stopped for long).
    pub clock_moved: Option<chrono::TimeDelta>,
}

/// Version 3 → 4: the unread span of each CloudTrail window (added by `open` when missing).
const UNREAD_COLUMNS: &str = "
ALTER TABLE event_windows ADD COLUMN unread_from TEXT;
ALTER TABLE event_windows ADD COLUMN unread_until TEXT;
";

/// The events [`Store::record_scan`] stored and read back.
#[derive(Debug, Default)]
pub struct RecordedEvents {
    /// Fetched by this scan and not stored before: the report's `changes`.
    pub new: Vec<ControlPlaneEvent>,
    /// Every stored change of the look-back: the sources of attribution.
    pub known: Vec<ControlPlaneEvent>,
}

/// The CloudTrail side of a scan, for [`Store::record_scan`].
pub struct ScanEvents<'a> {
    /// What the scan's LookupEvents returned (its window overlaps the previous one).
    pub fetched: &'a [ControlPlaneEvent],
    /// Older events are forgotten: the look-back.
    pub keep_after: DateTime<Utc>,
    /// The account-regions whose CloudTrail the scan read without error: their next window
    /// starts at this scan, with what its page budget left unread. The others' stay where
    /// they were, so nothing is skipped.
    pub read: Vec<ReadScope>,
}

/// One account-region whose CloudTrail a scan read (see [`ScanEvents::read`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadScope {
    pub account_id: String,
    pub region: String,
    /// What is still to be read of its earlier windows (the budget ran out), if anything.
    pub unread: Option<EventSpan>,
}

/// An account-region's CloudTrail window as the history keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredWindow {
    /// When the last scan that read it started.
    pub started_at: DateTime<Utc>,
    pub unread: Option<EventSpan>,
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
    #[error("{path}: the scan was abandoned; nothing of it was recorded")]
    Abandoned { path: String },
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
    /// `resolved` or `out_of_scope` once closed.
    pub resolution: Option<String>,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Set when the scan being recorded has been abandoned (`serve`'s shutdown): a record
    /// not yet committed is rolled back instead.
    abandoned: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Close findings out of scope for longer than this (see [`history::diff`]).
    out_of_scope_after: Option<chrono::TimeDelta>,
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
            // An existing file keeps its mode on open: one readable by others (an older
            // version's, a restored backup) is made private, with its -wal and -shm.
            tighten_mode(path);
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
        let has_unread: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('event_windows') WHERE name = 'unread_from'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(sql)?
            > 0;
        if !has_unread {
            conn.execute_batch(UNREAD_COLUMNS).map_err(sql)?;
        }
        let has_resolution: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('findings') WHERE name = 'resolution'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(sql)?
            > 0;
        if !has_resolution {
            // Findings closed before version 5 were all seen fixed.
            conn.execute_batch(
                "ALTER TABLE findings ADD COLUMN resolution TEXT;
                 UPDATE findings SET resolution = 'resolved' WHERE resolved_at IS NOT NULL;",
            )
            .map_err(sql)?;
        }
        let has_severities: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('scans') WHERE name = 'fail_by_severity'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(sql)?
            > 0;
        if !has_severities {
            conn.execute_batch("ALTER TABLE scans ADD COLUMN fail_by_severity TEXT;")
                .map_err(sql)?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            abandoned: None,
            out_of_scope_after: None,
        })
    }

    /// Makes every later record check `flag` just before it commits: once set, the
    /// transaction is rolled back and [`StateError::Abandoned`] returned.
    pub fn abandon_when(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.abandoned = Some(flag);
    }

    /// Makes later records close the open findings whose account or region has not been
    /// scanned for longer than `after` (the retention) as `out_of_scope`.
    pub fn close_out_of_scope_after(&mut self, after: chrono::TimeDelta) {
        self.out_of_scope_after = Some(after);
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
        self.record_scan(report, None, None).map(drop)
    }

    /// [`Store::record`], and in the same transaction the scan's CloudTrail events and the
    /// gauges it publishes (`gauges`, JSON, read back by [`Store::published_gauges`]). Returns
    /// them: those not seen before (the report's `changes`) and every stored change of the
    /// look-back (the sources of its findings' `attribution`), which the caller applies.
    pub fn record_scan(
        &mut self,
        report: &mut Report,
        events: Option<ScanEvents<'_>>,
        gauges: Option<&str>,
    ) -> Result<RecordedEvents, StateError> {
        let path = self.path.display().to_string();
        let err = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let mut recorded = RecordedEvents::default();
        if let Some(events) = events {
            (recorded.new, recorded.known) = store_events(&tx, &events).map_err(err)?;
            let started = time_text(report.scan.started_at);
            for scope in &events.read {
                let unread = scope
                    .unread
                    .map(|u| (time_text(u.from), time_text(u.until)));
                tx.execute(
                    "INSERT INTO event_windows (account_id, region, started_at, unread_from, unread_until)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (account_id, region) DO UPDATE SET started_at = excluded.started_at,
                         unread_from = excluded.unread_from, unread_until = excluded.unread_until",
                    params![
                        scope.account_id,
                        scope.region,
                        started,
                        unread.as_ref().map(|u| &u.0),
                        unread.as_ref().map(|u| &u.1)
                    ],
                )
                .map_err(err)?;
            }
        }
        let open = open_findings(&tx).map_err(err)?;
        let history = history::diff(&open, report, self.out_of_scope_after);
        history::stamp(&open, report);
        save_findings(&tx, report, &history).map_err(err)?;
        save_scan(&tx, report, &history).map_err(err)?;
        if let Some(gauges) = gauges {
            tx.execute(
                "INSERT INTO published_gauges (id, scan_id, gauges) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET scan_id = excluded.scan_id, gauges = excluded.gauges",
                params![report.scan.id, gauges],
            )
            .map_err(err)?;
        }
        if self
            .abandoned
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Acquire))
        {
            // Dropping the transaction rolls it back.
            return Err(StateError::Abandoned { path });
        }
        tx.commit().map_err(err)?;
        report.history = Some(history);
        Ok(recorded)
    }

    /// The Security Hub archives earlier exports failed to deliver. A row that no longer
    /// parses (written by another version) is dropped with a warning.
    pub fn hub_pending(&self) -> Result<Vec<crate::report::asff::AsffFinding>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, finding FROM hub_pending ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(self.err())?;
            match serde_json::from_str(&text) {
                Ok(finding) => out.push(finding),
                Err(e) => {
                    tracing::warn!(id, error = %e, "an undelivered Security Hub archive is unreadable; dropped")
                }
            }
        }
        Ok(out)
    }

    /// Replaces the undelivered archives with `pending` (what this export failed to
    /// deliver), keeping when each first failed; those failing for longer than
    /// [`HUB_PENDING_DAYS`] are given up (Security Hub has deleted the finding by then).
    pub fn set_hub_pending(
        &mut self,
        pending: &[crate::report::asff::AsffFinding],
        now: DateTime<Utc>,
    ) -> Result<usize, StateError> {
        let path = self.path.display().to_string();
        let err = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let since: HashMap<String, String> = {
            let mut stmt = tx
                .prepare("SELECT id, since FROM hub_pending")
                .map_err(err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)?
        };
        tx.execute("DELETE FROM hub_pending", []).map_err(err)?;
        let cutoff = now - chrono::TimeDelta::days(HUB_PENDING_DAYS);
        let mut given_up = 0;
        for finding in pending {
            let first = since
                .get(&finding.id)
                .cloned()
                .unwrap_or_else(|| now.to_rfc3339_opts(SecondsFormat::Millis, true));
            if parse_time(&first) < cutoff {
                given_up += 1;
                continue;
            }
            let text = serde_json::to_string(finding).unwrap_or_default();
            tx.execute(
                "INSERT INTO hub_pending (id, finding, since) VALUES (?1, ?2, ?3)",
                params![finding.id, text, first],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(given_up)
    }

    /// The gauges of the last scan recorded with them (see [`Store::record_scan`]), as JSON.
    pub fn published_gauges(&self) -> Result<Option<String>, StateError> {
        self.conn
            .query_row(
                "SELECT gauges FROM published_gauges WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// When the last scan that read CloudTrail in each account and region started, and
    /// what it left unread (see [`ScanEvents::read`]); an account-region never read is absent.
    pub fn event_windows(&self) -> Result<HashMap<(String, String), StoredWindow>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT account_id, region, started_at, unread_from, unread_until FROM event_windows",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let from = r.get::<_, Option<String>>(3)?;
                let until = r.get::<_, Option<String>>(4)?;
                let unread = from.zip(until).map(|(from, until)| EventSpan {
                    from: parse_time(&from),
                    until: parse_time(&until),
                });
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    StoredWindow {
                        started_at: parse_time(&r.get::<_, String>(2)?),
                        unread,
                    },
                ))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Deletes the scans older than `retention` and the findings they resolved, by the
    /// time the history itself has seen pass: the scans in the order they were recorded
    /// (not by their clock times), each gap between two scans, and from the last one to
    /// `now`, counted as at most [`MAX_GAP`] and never below zero. A clock that jumps a year
    /// forward ages the history by a day, and one that jumps back ages it by nothing; the
    /// price is that a daemon stopped for a week keeps a week's scans longer. Open findings
    /// are kept whatever their age.
    pub fn prune(
        &mut self,
        now: DateTime<Utc>,
        retention: chrono::TimeDelta,
    ) -> Result<Pruned, StateError> {
        let path = self.path.display().to_string();
        let err = |source| StateError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT id, finished_at FROM scans ORDER BY rowid DESC")
            .map_err(&err)?;
        let scans: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?
            .collect::<Result<_, _>>()
            .map_err(&err)?;
        drop(stmt);
        let mut pruned = Pruned::default();
        let mut age = chrono::TimeDelta::zero();
        let mut later = now;
        let mut expired_ids = Vec::new();
        for (i, (id, finished)) in scans.iter().enumerate() {
            let at = parse_time(finished);
            let gap = later - at;
            // The step from the scan before the newest: how far the clock moved between them.
            if i == 1 && (gap > MAX_GAP || gap < -MAX_GAP) {
                pruned.clock_moved = Some(gap);
            }
            age += gap.clamp(chrono::TimeDelta::zero(), MAX_GAP);
            later = at;
            if age > retention {
                expired_ids.push(id.clone());
                pruned.expired.push(at);
            } else {
                pruned.kept.push(at);
            }
        }
        let tx = self.conn.transaction().map_err(&err)?;
        {
            let mut delete = tx
                .prepare("DELETE FROM scans WHERE id = ?1")
                .map_err(&err)?;
            for id in &expired_ids {
                pruned.scans += delete.execute([id]).map_err(&err)?;
            }
            // Findings resolved by an expired scan (resolved_at is its finished_at), and
            // those resolved before every scan kept (their scan was pruned earlier).
            let mut delete = tx
                .prepare("DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at = ?1")
                .map_err(&err)?;
            for at in &pruned.expired {
                pruned.findings += delete.execute([time_text(*at)]).map_err(&err)?;
            }
            if let Some(oldest) = pruned.kept.iter().min() {
                pruned.findings += tx
                    .execute(
                        "DELETE FROM findings WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
                        [time_text(*oldest)],
                    )
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        Ok(pruned)
    }
    /// One finding's history, by finding id.
    pub fn finding(&self, id: &str) -> Result<Option<FindingHistory>, StateError> {
        self.conn
            .query_row(
                "SELECT id, check_id, resource_arn, status, first_seen, last_seen, resolved_at, resolution FROM findings WHERE id = ?1",
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
                        resolution: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    /// The daemon page's history panel: the last `scans` scans, oldest first, and the
    /// findings they opened and closed (at most `rows` of each, newest first).
    pub fn timeline(&self, scans: usize, rows: usize) -> Result<Timeline, StateError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT finished_at, outcome, fail, fail_by_severity, new_findings, resolved_findings
                 FROM scans ORDER BY rowid DESC LIMIT ?1",
            )
            .map_err(&err)?;
        let mut points: Vec<ScanPoint> = stmt
            .query_map([scans as i64], |r| {
                Ok(ScanPoint {
                    finished_at: parse_time(&r.get::<_, String>(0)?),
                    outcome: r.get(1)?,
                    fail: r.get::<_, i64>(2)?.max(0) as usize,
                    fail_by_severity: r
                        .get::<_, Option<String>>(3)?
                        .and_then(|t| serde_json::from_str(&t).ok()),
                    new_findings: r.get::<_, i64>(4)?.max(0) as usize,
                    resolved_findings: r.get::<_, i64>(5)?.max(0) as usize,
                })
            })
            .map_err(&err)?
            .collect::<Result<_, _>>()
            .map_err(&err)?;
        points.reverse();
        let Some(since) = points.first().map(|p| time_text(p.finished_at)) else {
            return Ok(Timeline::default());
        };
        let changes = |time_column: &str| -> Result<Vec<FindingChange>, StateError> {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {time_column}, severity, check_id, resource_arn, account_id, region, resolution
                     FROM findings WHERE {time_column} >= ?1 ORDER BY {time_column} DESC, id LIMIT ?2"
                ))
                .map_err(&err)?;
            stmt.query_map(params![since, rows as i64], |r| {
                Ok(FindingChange {
                    at: parse_time(&r.get::<_, String>(0)?),
                    severity: Severity::parse(&r.get::<_, String>(1)?).unwrap_or(Severity::Info),
                    check_id: r.get(2)?,
                    resource_arn: r.get(3)?,
                    account_id: r.get(4)?,
                    region: r.get(5)?,
                    resolution: r.get(6)?,
                })
            })
            .map_err(&err)?
            .collect::<Result<_, _>>()
            .map_err(&err)
        };
        let opened = changes("first_seen")?;
        let closed = changes("resolved_at")?;
        Ok(Timeline {
            scans: points,
            opened,
            closed,
        })
    }

    /// Number of scans recorded.
    pub fn scan_count(&self) -> Result<u64, StateError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM scans", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.err())
    }
}

/// Stores the changes and sign-ins not seen before and forgets those past the look-back.
/// Returns (the new ones, every stored change of the look-back).
fn store_events(
    tx: &rusqlite::Transaction<'_>,
    events: &ScanEvents<'_>,
) -> rusqlite::Result<(Vec<ControlPlaneEvent>, Vec<ControlPlaneEvent>)> {
    let mut new = Vec::new();
    let mut insert = tx.prepare(
        "INSERT OR IGNORE INTO events (event_id, event_time, change, event) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // Only what is used: changes (attribution, `changes`) whole, and sign-ins by id (counted
    // once). Reads and failed calls are never used, so never stored: a busy Studio's polling
    // does not grow the history.
    for event in events
        .fetched
        .iter()
        .filter(|e| e.is_change() || e.is_login())
    {
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

/// Takes group and other permissions away from the history file and SQLite's files beside
/// it, saying so.
#[cfg(unix)]
fn tighten_mode(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for file in files {
        // symlink_metadata: a link is not followed to a file elsewhere.
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_file() && mode & 0o077 != 0 {
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700)) {
                Ok(()) => tracing::warn!(
                    file = %file.display(),
                    was = format!("{mode:o}"),
                    "the finding history was readable by others; made private"
                ),
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "the finding history is readable by others and cannot be made private")
                }
            }
        }
    }
}

/// Every finding open before this scan, by id.
fn open_findings(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<HashMap<String, OpenFinding>> {
    let mut stmt = tx.prepare(
        "SELECT id, check_id, severity, resource_type, resource_arn, account_id, region, first_seen, last_seen
         FROM findings WHERE resolved_at IS NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(OpenFinding {
            id: r.get(0)?,
            check_id: r.get(1)?,
            severity: Severity::parse(&r.get::<_, String>(2)?).unwrap_or(Severity::Info),
            resource_type: r.get(3)?,
            resource_arn: r.get(4)?,
            account_id: r.get(5)?,
            region: r.get(6)?,
            first_seen: parse_time(&r.get::<_, String>(7)?),
            last_seen: parse_time(&r.get::<_, String>(8)?),
        })
    })?;
    let mut open = HashMap::new();
    for row in rows {
        let row = row?;
        open.insert(row.id.clone(), row);
    }
    Ok(open)
}

/// Opens or refreshes every failing finding (a resolved one that fails again reopens with a
/// new `first_seen`) and resolves those the diff resolved.
fn save_findings(
    tx: &rusqlite::Transaction<'_>,
    report: &Report,
    history: &History,
) -> rusqlite::Result<()> {
    let now_text = time_text(report.scan.finished_at);
    let mut upsert = tx.prepare(
        "INSERT INTO findings (id, check_id, severity, resource_type, resource_arn, account_id, region, status, first_seen, last_seen, resolved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, NULL)
         ON CONFLICT (id) DO UPDATE SET
             severity = excluded.severity, status = excluded.status,
             first_seen = CASE WHEN findings.resolved_at IS NULL THEN findings.first_seen ELSE excluded.first_seen END,
             last_seen = excluded.last_seen, resolved_at = NULL, resolution = NULL",
    )?;
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Muted))
    {
        upsert.execute(params![
            f.id,
            f.check_id.as_str(),
            f.severity.as_str(),
            f.resource_type.as_str(),
            f.resource_arn.as_str(),
            f.account_id.as_str(),
            f.region.as_str(),
            f.status.as_str(),
            now_text,
        ])?;
    }
    let mut resolve =
        tx.prepare("UPDATE findings SET resolved_at = ?2, resolution = ?3 WHERE id = ?1")?;
    for r in &history.resolved {
        resolve.execute(params![r.id, now_text, "resolved"])?;
    }
    for r in &history.out_of_scope {
        resolve.execute(params![r.id, now_text, "out_of_scope"])?;
    }
    Ok(())
}

/// The scan's own row: its outcome and counts.
fn save_scan(
    tx: &rusqlite::Transaction<'_>,
    report: &Report,
    history: &History,
) -> rusqlite::Result<()> {
    let s = &report.summary;
    tx.execute(
        "INSERT OR REPLACE INTO scans (id, started_at, finished_at, outcome, pass, fail, muted, error, collection_errors, new_findings, resolved_findings, fail_by_severity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            report.scan.id,
            time_text(report.scan.started_at),
            time_text(report.scan.finished_at),
            Outcome::of(report).as_str(),
            s.pass as i64,
            s.fail as i64,
            s.muted as i64,
            s.error as i64,
            report.scan.collection_errors.len() as i64,
            history.new.len() as i64,
            history.resolved.len() as i64,
            serde_json::to_string(&s.fail_by_severity).ok(),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
