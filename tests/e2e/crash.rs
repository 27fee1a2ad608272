//! Crash safety: `serve` killed with SIGKILL at random points of its scans and writes, over
//! and over. After every kill the history opens and passes SQLite's integrity check, every
//! report file parses, and what the next run serves is whole.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use std::os::unix::process::ExitStatusExt;

use serde_json::Value;

use sagemaker_auditor::state::Store;

use crate::fixtures;
use crate::util;

const KILLS: usize = 100;
const REGION: &str = "us-east-1";

/// Every file of the report directory: our reports parse whole, anything else is a
/// temporary of a write that was cut short (never named like a report). Returns the scan
/// ids of the reports and the number of temporaries.
fn check_reports(dir: &Path, round: usize) -> (BTreeSet<String>, usize) {
    let mut ids = BTreeSet::new();
    let mut temporaries = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (ids, 0);
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp.") {
            temporaries += 1;
            continue;
        }
        // The daemon's directory lock (one daemon per directory), released at its death.
        if name == ".sagemaker-auditor-serve.lock" {
            continue;
        }
        assert!(
            name.starts_with("report-") || name == "latest.json",
            "round {round}: unexpected file {name}"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let report: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("round {round}: {name} does not parse: {e}"));
        let id = report["scan"]["id"].as_str().unwrap().to_string();
        assert!(report["findings"].is_array(), "round {round}: {name}");
        if name == "latest.json" {
            continue;
        }
        ids.insert(id);
    }
    (ids, temporaries)
}

fn check_history(path: &Path, round: usize) -> usize {
    if !path.exists() {
        return 0;
    }
    let conn = rusqlite::Connection::open(path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "round {round}: integrity_check");
    let scans: i64 = conn
        .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))
        .unwrap_or(0);
    drop(conn);
    // And our own code opens it (schema check, migrations).
    Store::open(path).unwrap_or_else(|e| panic!("round {round}: the history does not open: {e}"));
    scans as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_leaves_a_whole_history_and_whole_reports() {
    let (account, _) = fixtures::small_account("000000000045").await;
    // CloudTrail off: the kills are about the history and the report files. With it on, a
    // scan a second makes the window hold the daemon's own reads (CloudTrail records them,
    // and so does the emulator), so every scan spends 22 s or more in paced LookupEvents and
    // few would finish between kills. CloudTrail's part of the history write is covered by
    // the daemon and attribution tests.
    let dir = util::temp_dir("crash");
    let port = util::free_port();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "regions = [\"{REGION}\"]\nendpoint_url = \"{}\"\nmax_attempts = 2\nschedule = \"* * * * * *\"\n\
             [cloudtrail]\nenabled = false\n\
             [output]\ndirectory = \"reports\"\n[serve]\nlisten = \"127.0.0.1:{port}\"\nstate_file = \"history.db\"\n",
            util::emulator().url
        ),
    )
    .unwrap();
    let config = dir.join("config.toml");
    const LOG: &str = "sagemaker_auditor=info,warn";
    let reports = dir.join("reports");
    let history = dir.join("history.db");
    let mut rng = fastrand::Rng::with_seed(20261129);
    let mut scans_before = 0;
    let mut known_reports = BTreeSet::new();
    let (mut rounds_with_progress, mut rounds_without, mut most_temporaries) = (0, 0, 0);
    for round in 0..KILLS {
        let mut daemon = util::serve(
            &config,
            &account,
            LOG,
            dir.join(format!("daemon-{}.log", round % 2)),
        );
        // Half the kills within the start-up scan, the others anywhere up to the third.
        let after = if rng.bool() {
            rng.u64(0..600)
        } else {
            rng.u64(0..2500)
        };
        std::thread::sleep(Duration::from_millis(after));
        daemon.child.kill().unwrap();
        let status = daemon.child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: the daemon was running until killed ({status}); log: {}",
            daemon.log_text()
        );

        let scans = check_history(&history, round);
        let (ids, temporaries) = check_reports(&reports, round);
        assert!(
            scans >= scans_before,
            "round {round}: the history lost scans"
        );
        assert!(
            ids.is_superset(&known_reports),
            "round {round}: a report file disappeared"
        );
        most_temporaries = most_temporaries.max(temporaries);
        if scans > scans_before {
            rounds_with_progress += 1;
        } else {
            rounds_without += 1;
        }
        scans_before = scans;
        known_reports = ids;
    }
    eprintln!(
        "{KILLS} kills: {scans_before} scans recorded, {} report files, {rounds_with_progress} rounds recorded a scan, \
         {rounds_without} were killed before recording one, at most {most_temporaries} temporaries left at once",
        known_reports.len()
    );
    // The kills landed at different points: some runs recorded scans, some did not.
    assert!(rounds_with_progress >= 10, "{rounds_with_progress}");
    assert!(rounds_without >= 10, "{rounds_without}");
    // Every recorded scan whose report was written has its file; a scan recorded in the
    // history but killed before its report file is allowed (the file is not the record).
    assert!(known_reports.len() <= scans_before);

    // The next run cleans what the kills left, and serves whole answers.
    let mut daemon = util::serve(&config, &account, LOG, dir.join("daemon-final.log"));
    util::wait_ready(port);
    let (status, body) = util::http_get(port, "/api/findings").unwrap();
    assert_eq!(status, 200);
    let served: Value = serde_json::from_str(&body).unwrap();
    assert!(!served["findings"].as_array().unwrap().is_empty());
    let (_, temporaries) = check_reports(&reports, KILLS);
    assert_eq!(
        temporaries, 0,
        "temporaries of killed runs are removed at start-up"
    );
    assert!(check_history(&history, KILLS) > scans_before);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)), Some(0));
}
