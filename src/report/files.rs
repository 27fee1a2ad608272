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
pub fn write(dir: &Path, format: ReportFormat, report: &Report) -> std::io::Result<PathBuf> {
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
    crate::fsutil::write_atomic_with(&stamped, |w| crate::report::write(report, format, false, w))?;
    crate::fsutil::write_atomic_with(&latest, |w| {
        std::io::copy(&mut std::fs::File::open(&stamped)?, w).map(drop)
    })?;
    Ok(stamped)
}

/// The scan time a report file name carries, if it is one of ours: `20261128T093000.123Z`,
/// or `20261128T093000Z` as versions before 0.2 named them (to the second).
fn stamp_of(name: &str) -> Option<DateTime<Utc>> {
    let rest = name.strip_prefix(PREFIX)?;
    let seconds = NaiveDateTime::parse_from_str(rest.get(..15)?, "%Y%m%dT%H%M%S").ok()?;
    let tail = rest.get(15..)?;
    let millis = match tail.strip_prefix('Z') {
        Some(_) => 0,
        None => {
            let digits = tail.strip_prefix('.')?.get(..3)?;
            tail.get(4..)?.starts_with('Z').then_some(())?;
            digits.parse::<i64>().ok()?
        }
    };
    Some(seconds.and_utc() + chrono::Duration::milliseconds(millis))
}

/// Deletes our timestamped reports older than `cutoff`, judged by the time in their name
/// (not mtime, which a backup restore changes). Other files are never touched. Returns how
/// many were deleted.
pub fn prune(dir: &Path, cutoff: DateTime<Utc>) -> std::io::Result<usize> {
    let mut deleted = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(stamp) = name.to_str().and_then(stamp_of)
            && stamp < cutoff
            && entry.file_type()?.is_file()
        {
            std::fs::remove_file(entry.path())?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_stamped_files_are_pruned() {
        let dir = std::env::temp_dir().join(format!("sma-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "report-20260101T000000Z.json",
            "report-20261128T120000Z.ocsf.json",
            "report-20260301T000000.250Z.json",
            "report-20261128T120000.999Z.json",
            "report-20261128T120000.9Z.json",
            "latest.json",
            "report-notes.txt",
            "state.db",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let cutoff = "2026-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(prune(&dir, cutoff).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "latest.json",
                "report-20261128T120000.999Z.json",
                "report-20261128T120000.9Z.json",
                "report-20261128T120000Z.ocsf.json",
                "report-notes.txt",
                "state.db"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn two_scans_finishing_in_the_same_second_keep_two_files() {
        let dir = std::env::temp_dir().join(format!("sma-files-same-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let at = "2026-11-28T12:00:00.5Z".parse().unwrap();
        let mut report = crate::report::test_fixtures::report(at, Vec::new());
        report.scan.finished_at = at;
        let first = write(&dir, ReportFormat::Json, &report).unwrap();
        report.scan.id = "second".into();
        let second = write(&dir, ReportFormat::Json, &report).unwrap();
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
