//! The report directory of `serve`: `latest.<ext>` and one timestamped file per scan
//! (`report-20261128T093000.123Z.<ext>`), every file written atomically, old ones pruned.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::report::Report;
use crate::vocab::ReportFormat;

const PREFIX: &str = "report-";
/// Milliseconds: two scans can finish within one second (a queued scan runs as soon as the
/// one before ends), and each keeps its own file.
const STAMP: &str = "%Y%m%dT%H%M%S%.3fZ";

/// Writes the timestamped report, then `latest` (so `latest` never names a scan whose own
/// file is missing). Returns the timestamped file's path.
/// `abandoned`, set by a shutdown that gave up on the scan, is checked before each file: a
/// scan abandoned between them leaves its own file, never a `latest` naming it.
pub fn write(
    dir: &Path,
    format: ReportFormat,
    report: &Report,
    graph: Option<&crate::report::graph::Graph>,
    abandoned: &std::sync::atomic::AtomicBool,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let ext = format.extension();
    let mut at = report.scan.finished_at;
    let mut stamped = dir.join(format!("{PREFIX}{}.{ext}", at.format(STAMP)));
    while stamped.exists() {
        at += chrono::Duration::milliseconds(1);
        stamped = dir.join(format!("{PREFIX}{}.{ext}", at.format(STAMP)));
    }
    let latest = dir.join(format!("latest.{ext}"));
    // Written to the file, then copied: never held twice.
    crate::fsutil::write_atomic_with(&stamped, |w| {
        crate::report::write(report, format, false, graph, w)
    })?;
    if abandoned.load(std::sync::atomic::Ordering::Acquire) {
        return Err(std::io::Error::other("abandoned at shutdown before latest"));
    }
    crate::fsutil::write_atomic_with(&latest, |w| {
        std::io::copy(&mut std::fs::File::open(&stamped)?, w).map(drop)
    })?;
    Ok(stamped)
}

/// The scan time a report file name carries, if it is exactly one of ours:
/// `report-20261128T093000.123Z.<ext>`, or `report-20261128T093000Z.<ext>` as versions
/// before 0.2 named them (to the second), `<ext>` one of the formats' extensions. Anything
/// else (`report-20200101T000000Z-notes.pdf`, `….json.bak`) is not.
fn stamp_of(name: &str) -> Option<DateTime<Utc>> {
    let rest = name.strip_prefix(PREFIX)?;
    let seconds = NaiveDateTime::parse_from_str(rest.get(..15)?, "%Y%m%dT%H%M%S").ok()?;
    let tail = rest.get(15..)?;
    let (millis, ext) = match tail.strip_prefix("Z.") {
        Some(ext) => (0, ext),
        None => {
            let digits = tail.strip_prefix('.')?.get(..3)?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (
                digits.parse::<i64>().ok()?,
                tail.get(4..)?.strip_prefix("Z.")?,
            )
        }
    };
    ReportFormat::ALL
        .iter()
        .any(|f| f.extension() == ext)
        .then(|| seconds.and_utc() + chrono::Duration::milliseconds(millis))
}

/// A report file belongs to the scan that finished at most this long before its stamp (its
/// name is the scan's finish time, moved by a millisecond when that name was taken).
const SAME_SCAN: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// Deletes our timestamped reports of the scans the history pruned (`pruned.expired`),
/// judged by the time in their names (not mtime, which a backup restore changes), never
/// those of the scans it kept; so the clock is trusted no more than the history trusts it
/// (see [`crate::state::Store::prune`]). A report whose scan is in neither list is deleted
/// only when it is older than every kept scan and than `cutoff` (the retention by the
/// clock): a new or replaced history does not empty the directory. Other files are never
/// touched. Returns how many were deleted.
pub fn prune(
    dir: &Path,
    pruned: &crate::state::Pruned,
    cutoff: DateTime<Utc>,
) -> std::io::Result<usize> {
    let mut scans: Vec<(DateTime<Utc>, bool)> = pruned
        .kept
        .iter()
        .map(|t| (*t, true))
        .chain(pruned.expired.iter().map(|t| (*t, false)))
        .collect();
    scans.sort();
    let oldest_kept = pruned.kept.iter().min();
    let mut deleted = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(stamp) = name.to_str().and_then(stamp_of) else {
            continue;
        };
        // The latest scan finished at or before the stamp, if it is this file's.
        let own = scans
            .iter()
            .rev()
            .find(|(t, _)| *t <= stamp + chrono::TimeDelta::milliseconds(1))
            .filter(|(t, _)| stamp - *t < SAME_SCAN);
        let expired = match own {
            Some((_, kept)) => !kept,
            None => oldest_kept.is_some_and(|t| stamp < *t) && stamp < cutoff,
        };
        if expired && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        left
    }

    #[test]
    fn only_our_exact_names_of_pruned_scans_are_deleted() {
        let dir = std::env::temp_dir().join(format!("sma-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "report-20260101T000000Z.json",
            "report-20260301T000000.250Z.json",
            "report-20260301T000000.251Z.ocsf.json",
            "report-20261128T120000Z.ocsf.json",
            "report-20261128T120000.999Z.json",
            "report-20261128T120000.9Z.json",
            "report-20200101T000000Z-notes.pdf",
            "report-20200101T000000Z.json.bak",
            "report-20200101T000000.abcZ.json",
            "latest.json",
            "report-notes.txt",
            "state.db",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let pruned = crate::state::Pruned {
            kept: vec![t("2026-11-28T12:00:00.999Z"), t("2026-11-28T12:00:00Z")],
            expired: vec![t("2026-03-01T00:00:00.250Z")],
            ..Default::default()
        };
        // The scan of March (and its second file, a millisecond on) and January's, older
        // than everything kept and than the cutoff; never the other names.
        let cutoff = t("2026-06-01T00:00:00Z");
        assert_eq!(prune(&dir, &pruned, cutoff).unwrap(), 3);
        assert_eq!(
            names_in(&dir),
            [
                "latest.json",
                "report-20200101T000000.abcZ.json",
                "report-20200101T000000Z-notes.pdf",
                "report-20200101T000000Z.json.bak",
                "report-20261128T120000.999Z.json",
                "report-20261128T120000.9Z.json",
                "report-20261128T120000Z.ocsf.json",
                "report-notes.txt",
                "state.db"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The clock jumps a year forward: the history counts that as a day, keeps its scans, and
    /// their files stay; a fresh history (no scan of the old files) deletes nothing newer
    /// than the clock's cutoff.
    #[test]
    fn a_clock_jump_or_a_new_history_does_not_empty_the_directory() {
        let dir = std::env::temp_dir().join(format!("sma-files-jump-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let history = dir.join("h.db");
        let mut store = crate::state::Store::open(&history).unwrap();
        let start = t("2026-11-01T00:00:00Z");
        let mut report = crate::report::test_fixtures::report(start, Vec::new());
        for hour in 0..48 {
            let at = start + chrono::TimeDelta::hours(hour);
            report.scan.id = format!("scan-{hour}");
            report.scan.finished_at = at;
            store.record(&mut report).unwrap();
            write(&dir, ReportFormat::Json, &report, None, &Default::default()).unwrap();
        }
        let jumped = start + chrono::TimeDelta::days(365);
        report.scan.id = "after-the-jump".into();
        report.scan.finished_at = jumped;
        store.record(&mut report).unwrap();
        write(&dir, ReportFormat::Json, &report, None, &Default::default()).unwrap();
        let retention = chrono::TimeDelta::days(7);
        let pruned = store.prune(jumped, retention).unwrap();
        assert_eq!(pruned.scans, 0);
        assert_eq!(
            pruned.clock_moved.map(|d| d.num_hours()),
            Some(365 * 24 - 47)
        );
        let reports = |dir: &Path| {
            names_in(dir)
                .into_iter()
                .filter(|n| n.starts_with("report-"))
                .count()
        };
        assert_eq!(prune(&dir, &pruned, jumped - retention).unwrap(), 0);
        assert_eq!(reports(&dir), 49);
        // Five days of hourly scans later, the history has seen 5 days pass, plus one for the
        // jump: the scans of the first 23 hours are older than 7 days (hour 22: 25 hours
        // before the jump), the rest not yet.
        for hour in 1..=(5 * 24) {
            let at = jumped + chrono::TimeDelta::hours(hour);
            report.scan.id = format!("later-{hour}");
            report.scan.finished_at = at;
            store.record(&mut report).unwrap();
        }
        let now = jumped + chrono::TimeDelta::hours(5 * 24);
        let pruned = store.prune(now, retention).unwrap();
        assert_eq!(pruned.clock_moved, None);
        assert_eq!(pruned.scans, 23, "{:?}", pruned.expired.iter().max());
        assert_eq!(
            pruned.expired.iter().max(),
            Some(&(start + chrono::TimeDelta::hours(22)))
        );
        assert_eq!(prune(&dir, &pruned, now - retention).unwrap(), 23);
        assert_eq!(reports(&dir), 26);
        // A new history knows none of the old files: it deletes none newer than the cutoff
        // (hours 23 to 29 go).
        let mut fresh = crate::state::Store::open(&dir.join("new.db")).unwrap();
        report.scan.id = "fresh".into();
        report.scan.finished_at = now;
        fresh.record(&mut report).unwrap();
        let pruned = fresh.prune(now, retention).unwrap();
        let cutoff = start + chrono::TimeDelta::hours(30);
        assert_eq!(prune(&dir, &pruned, cutoff).unwrap(), 7);
        assert_eq!(reports(&dir), 19);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn two_scans_finishing_in_the_same_second_keep_two_files() {
        let dir = std::env::temp_dir().join(format!("sma-files-same-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let at = "2026-11-28T12:00:00.5Z".parse().unwrap();
        let mut report = crate::report::test_fixtures::report(at, Vec::new());
        report.scan.finished_at = at;
        let first = write(&dir, ReportFormat::Json, &report, None, &Default::default()).unwrap();
        report.scan.id = "second".into();
        let second = write(&dir, ReportFormat::Json, &report, None, &Default::default()).unwrap();
        assert_ne!(first, second);
        assert_eq!(
            second.file_name().unwrap(),
            "report-20261128T120000.501Z.json"
        );
        let latest = std::fs::read_to_string(dir.join("latest.json")).unwrap();
        assert_eq!(latest, std::fs::read_to_string(&second).unwrap());
        assert!(latest.contains("\"second\""));
        assert_eq!(
            stamp_of("report-20261128T120000.501Z.json"),
            Some("2026-11-28T12:00:00.501Z".parse().unwrap())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
