//! The report directory of `serve`: `latest.<ext>` and one timestamped file per scan
//! (`report-20261128T093000Z.<ext>`), every file written atomically, old ones pruned.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::config::ReportFormat;
use crate::report::Report;

const PREFIX: &str = "report-";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

fn extension(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::Json => "json",
        ReportFormat::Ocsf => "ocsf.json",
        ReportFormat::Asff => "asff.json",
        ReportFormat::Table => "txt",
    }
}

pub fn render(report: &Report, format: ReportFormat) -> String {
    match format {
        ReportFormat::Json => report.to_json(),
        ReportFormat::Ocsf => crate::report::ocsf::render(report),
        ReportFormat::Asff => crate::report::asff::render(report),
        ReportFormat::Table => crate::report::table::render(report, false),
    }
}

/// Writes the timestamped report, then `latest` (so `latest` never names a scan whose own
/// file is missing). Returns the timestamped file's path.
pub fn write(dir: &Path, format: ReportFormat, report: &Report) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let ext = extension(format);
    let text = render(report, format);
    let stamped = dir.join(format!(
        "{PREFIX}{}.{ext}",
        report.scan.finished_at.format(STAMP)
    ));
    crate::fsutil::write_atomic(&stamped, text.as_bytes())?;
    crate::fsutil::write_atomic(&dir.join(format!("latest.{ext}")), text.as_bytes())?;
    Ok(stamped)
}

/// The scan time a report file name carries, if it is one of ours.
fn stamp_of(name: &str) -> Option<DateTime<Utc>> {
    let rest = name.strip_prefix(PREFIX)?;
    let stamp = rest.get(..16)?;
    NaiveDateTime::parse_from_str(stamp, STAMP)
        .ok()
        .map(|t| t.and_utc())
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
            "latest.json",
            "report-notes.txt",
            "state.db",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let cutoff = "2026-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(prune(&dir, cutoff).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "latest.json",
                "report-20261128T120000Z.ocsf.json",
                "report-notes.txt",
                "state.db"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
