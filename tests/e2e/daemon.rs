//! `serve` with real parts: the daemon on a two-second schedule against the emulator, scraped
//! by a real Prometheus (Debian's package) evaluating the shipped alert rules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_sagemaker::types::AppNetworkAccessType;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use sagemaker_auditor::report::findings::finding_id;
use sagemaker_auditor::state::Store;

use crate::fixtures;
use crate::util::{self, Account, Running};

const REGION: &str = "us-east-1";

struct Daemon {
    process: Running,
    port: u16,
    dir: PathBuf,
}

fn config_text(port: u16, schedule: &str) -> String {
    format!(
        r#"regions = ["{REGION}"]
endpoint_url = "{}"
max_attempts = 2
schedule = "{schedule}"

[output]
directory = "reports"
retention_days = 7

[serve]
listen = "127.0.0.1:{port}"
state_file = "state/history.db"
shutdown_timeout_seconds = 20
"#,
        util::emulator().url
    )
}

/// Starts `serve` for `account` in a fresh directory and waits until it is ready (a first
/// scan completed).
fn start_daemon(name: &str, account: &Account, schedule: &str) -> Daemon {
    start_daemon_with(name, account, schedule, "")
}

/// [`start_daemon`] with more config tables after the usual ones.
fn start_daemon_with(name: &str, account: &Account, schedule: &str, extra: &str) -> Daemon {
    let dir = util::temp_dir(name);
    let port = util::free_port();
    let text = config_text(port, schedule) + extra;
    std::fs::write(dir.join("config.toml"), text).unwrap();
    let process = spawn_serve(&dir, account, "daemon.log");
    let daemon = Daemon { process, port, dir };
    util::wait_ready(port);
    daemon
}

/// `serve --config DIR/config.toml` for `account`, logging to `DIR/log`.
fn spawn_serve(dir: &Path, account: &Account, log: &str) -> Running {
    let config = dir.join("config.toml");
    util::spawn(
        util::bin(),
        &[
            "--log-format",
            "json",
            "serve",
            "--config",
            config.to_str().unwrap(),
        ],
        &account
            .env()
            .into_iter()
            .chain([("RUST_LOG", "sagemaker_auditor=info,warn".to_string())])
            .collect::<Vec<_>>(),
        dir.join(log),
    )
}

impl Daemon {
    fn get(&self, path: &str) -> (u16, String) {
        util::http_get(self.port, path).unwrap()
    }

    fn findings(&self, query: &str) -> Value {
        let (status, body) = self.get(&format!("/api/findings{query}"));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The value of one sample line of /metrics, e.g. `sagemaker_audit_scans_total{outcome="success"}`.
    fn metric(&self, series: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }
}

struct Prometheus {
    _process: Running,
    port: u16,
}

fn start_prometheus(dir: &Path, target_port: u16) -> Prometheus {
    let port = util::free_port();
    let rules = util::repo_root().join("deploy/prometheus/alerts.yaml");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: sagemaker-auditor\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n",
            rules.display()
        ),
    )
    .unwrap();
    let process = util::spawn(
        &util::system_tool("prometheus"),
        &[
            &format!("--config.file={}", config.display()),
            &format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            &format!("--web.listen-address=127.0.0.1:{port}"),
        ],
        &[],
        dir.join("prometheus.log"),
    );
    util::wait_for(
        "Prometheus to be ready",
        Duration::from_secs(60),
        || match util::http_get(port, "/-/ready") {
            Ok((200, _)) => Some(()),
            _ => None,
        },
    );
    Prometheus {
        _process: process,
        port,
    }
}

impl Prometheus {
    fn api(&self, path: &str) -> Value {
        let (status, body) = util::http_get(self.port, path).unwrap();
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Alerts named `name` for `account` in `state` (`firing`, `pending`).
    fn alerts(&self, name: &str, account: &str) -> Vec<Value> {
        let alerts = self.api("/api/v1/alerts");
        alerts["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["labels"]["alertname"] == name && a["labels"]["account_id"] == account)
            .cloned()
            .collect()
    }

    fn query(&self, promql: &str) -> Vec<Value> {
        let q = utf8_percent_encode(promql, NON_ALPHANUMERIC).to_string();
        self.api(&format!("/api/v1/query?query={q}"))["data"]["result"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// The alerting path end to end: a public domain raises the alert in a real Prometheus;
/// the domain is fixed in the emulator; the history resolves the finding, the gauge drops
/// and the alert clears.
#[tokio::test(flavor = "multi_thread")]
async fn a_public_domain_alerts_in_prometheus_and_clears_once_fixed() {
    let (account, domain) = fixtures::small_account("000000000012").await;
    let id = account.id.clone();
    let daemon = start_daemon("daemon-prometheus", &account, "*/2 * * * * *");

    // Our exposition passes promtool's own linter.
    let (_, exposition) = daemon.get("/metrics");
    let mut promtool = std::process::Command::new(util::system_tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let domain_arn = format!("arn:aws:sagemaker:{REGION}:{id}:domain/{domain}");
    let public_id = finding_id("domain_public_internet_access", &domain_arn);
    let report = daemon.findings("?check_id=domain_public_internet_access");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["status"], "FAIL");
    assert_eq!(findings[0]["id"], public_id.as_str());
    // Who made it public (CloudTrail): the fixture's user created it so.
    assert_eq!(findings[0]["attribution"]["event_name"], "CreateDomain");

    // Two Studio sign-ins, counted once each however many scans' windows overlap them.
    for _ in 0..2 {
        account
            .sagemaker()
            .create_presigned_domain_url()
            .domain_id(&domain)
            .user_profile_name("user")
            .send()
            .await
            .unwrap();
    }
    let logins = format!(
        r#"sagemaker_audit_studio_logins_total{{account_id="{id}",domain_id="{domain}",region="{REGION}"}}"#
    );
    util::wait_for(
        "the sign-ins to be counted",
        Duration::from_secs(60),
        || (daemon.metric(&logins) == Some(2.0)).then_some(()),
    );

    let prometheus = start_prometheus(&daemon.dir, daemon.port);
    let alert = util::wait_for(
        "SageMakerDomainPublicInternetAccess to fire",
        Duration::from_secs(90),
        || {
            prometheus
                .alerts("SageMakerDomainPublicInternetAccess", &id)
                .into_iter()
                .find(|a| a["state"] == "firing")
        },
    );
    assert_eq!(alert["labels"]["region"], REGION);
    assert_eq!(alert["labels"]["severity"], "warning");
    let fail_series = format!(
        r#"sagemaker_audit_findings{{check_id="domain_public_internet_access",status="fail",account_id="{id}"}}"#
    );
    assert_eq!(prometheus.query(&fail_series).len(), 1);

    // Fix the domain.
    account
        .sagemaker()
        .update_domain()
        .domain_id(&domain)
        .app_network_access_type(AppNetworkAccessType::VpcOnly)
        .send()
        .await
        .unwrap();

    // The history resolves it...
    let history_file = daemon.dir.join("state/history.db");
    let resolved = util::wait_for(
        "the history to resolve the finding",
        Duration::from_secs(60),
        || {
            let store = Store::open(&history_file).ok()?;
            let row = store.finding(&public_id).ok()??;
            row.resolved_at.map(|at| (row, at))
        },
    );
    assert_eq!(resolved.0.check_id, "domain_public_internet_access");
    assert!(resolved.1 > resolved.0.first_seen);
    // ...and the report of the scan that saw it fixed says so (its file is written just
    // after the history commits).
    let reports: Vec<Value> = util::wait_for(
        "a report listing the finding as resolved",
        Duration::from_secs(10),
        || {
            let reports = util::report_files(&daemon.dir.join("reports"));
            reports
                .iter()
                .any(|r| {
                    r["history"]["resolved"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f["id"] == public_id.as_str())
                })
                .then_some(reports)
        },
    );
    let now = daemon.findings("?check_id=domain_public_internet_access");
    assert_eq!(now["findings"][0]["status"], "PASS");
    // The fix is in the `changes` of exactly one report, with its actor, although every
    // scan's CloudTrail window overlaps the previous one. That report is the resolving one
    // or the next: a scan reads CloudTrail while it describes the resources, so an update
    // made between its LookupEvents and its DescribeDomain is seen fixed by this scan and
    // read from CloudTrail by the next one (whose window starts 15 minutes before this
    // scan did). Under load that happens; the change is late by one scan, never lost.
    drop(reports);
    let updates_in = |reports: &[Value]| -> Vec<Value> {
        reports
            .iter()
            .flat_map(|r| r["changes"].as_array().unwrap())
            .filter(|c| c["event_name"] == "UpdateDomain")
            .cloned()
            .collect()
    };
    let scans = |d: &Daemon| {
        d.metric(r#"sagemaker_audit_scans_total{outcome="success"}"#)
            .unwrap_or(0.0)
    };
    util::wait_for(
        "the update in a report's changes",
        Duration::from_secs(30),
        || (!updates_in(&util::report_files(&daemon.dir.join("reports"))).is_empty()).then_some(()),
    );
    // Two more scans, whose windows overlap it, do not report it again.
    let seen = scans(&daemon);
    util::wait_for("two more scans", Duration::from_secs(30), || {
        (scans(&daemon) >= seen + 2.0).then_some(())
    });
    let updates = updates_in(&util::report_files(&daemon.dir.join("reports")));
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert!(
        updates[0]["actor_arn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("arn:aws:iam::{id}:user/auditor-"))
    );

    // The gauge drops in Prometheus and the alert clears.
    util::wait_for(
        "the FAIL series to disappear",
        Duration::from_secs(60),
        || prometheus.query(&fail_series).is_empty().then_some(()),
    );
    let pass_series = fail_series.replace("\"fail\"", "\"pass\"");
    assert_eq!(prometheus.query(&pass_series)[0]["value"][1], "1");
    util::wait_for("the alert to clear", Duration::from_secs(60), || {
        prometheus
            .alerts("SageMakerDomainPublicInternetAccess", &id)
            .is_empty()
            .then_some(())
    });
    assert!(
        daemon
            .metric(r#"sagemaker_audit_findings_resolved_total{check_id="domain_public_internet_access",severity="high"}"#)
            .unwrap()
            >= 1.0
    );

    // Many scans later, the sign-ins are still counted once.
    assert_eq!(daemon.metric(&logins), Some(2.0));

    let mut daemon = daemon;
    daemon.process.signal("TERM");
    let code = daemon.process.wait_exit(Duration::from_secs(40));
    assert_eq!(code, Some(0), "{}", daemon.process.log_text());
}

/// SIGHUP: an invalid config is refused and counted while scans go on; a valid one applies.
/// /api/findings filters; SIGTERM ends cleanly with every report file whole.
#[tokio::test(flavor = "multi_thread")]
async fn reload_filters_and_graceful_stop() {
    let (account, _domain) = fixtures::small_account("000000000013").await;
    let mut daemon = start_daemon("daemon-reload", &account, "*/2 * * * * *");
    let config = daemon.dir.join("config.toml");
    let good = std::fs::read_to_string(&config).unwrap();

    // Filters.
    let fails = daemon.findings("?status=fail&severity=high,CRITICAL");
    let list = fails["findings"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(
        list.iter()
            .all(|f| f["status"] == "FAIL"
                && (f["severity"] == "high" || f["severity"] == "critical"))
    );
    let all = daemon.findings("");
    assert!(all["findings"].as_array().unwrap().len() > list.len());
    assert_eq!(all["summary"], fails["summary"]);
    let (status, body) = daemon.get("/api/findings?status=broken");
    assert_eq!(status, 400);
    assert!(body.contains("pass, fail, muted, error"), "{body}");
    let (status, _) = daemon.get("/api/findings?colour=red");
    assert_eq!(status, 400);
    assert_eq!(daemon.get("/healthz").0, 200);

    // A broken config: refused, counted, scans continue.
    std::fs::write(
        &config,
        good.replace("max_attempts = 2", "max_attempts = 0"),
    )
    .unwrap();
    daemon.process.signal("HUP");
    util::wait_for(
        "the refused reload to be counted",
        Duration::from_secs(30),
        || {
            (daemon.metric(r#"sagemaker_audit_config_reloads_total{outcome="failure"}"#)? == 1.0)
                .then_some(())
        },
    );
    // Still 0 while the refused config waits: the alert fires on this, not on the counter.
    assert_eq!(
        daemon.metric("sagemaker_audit_config_last_reload_successful"),
        Some(0.0)
    );
    let scans = |d: &Daemon| {
        d.metric(r#"sagemaker_audit_scans_total{outcome="success"}"#)
            .unwrap_or(0.0)
    };
    let before = scans(&daemon);
    util::wait_for(
        "scans to go on with the old config",
        Duration::from_secs(30),
        || (scans(&daemon) >= before + 2.0).then_some(()),
    );
    let log = daemon.process.log_text();
    assert!(
        log.contains("reload refused") && log.contains("max_attempts"),
        "{log}"
    );

    // A valid one with a new schedule: applied.
    std::fs::write(&config, good.replace("*/2 * * * * *", "*/3 * * * * *")).unwrap();
    daemon.process.signal("HUP");
    util::wait_for("the reload to be applied", Duration::from_secs(30), || {
        (daemon.metric(r#"sagemaker_audit_config_reloads_total{outcome="success"}"#)? == 1.0)
            .then_some(())
    });
    assert_eq!(
        daemon.metric("sagemaker_audit_config_last_reload_successful"),
        Some(1.0)
    );
    let before = scans(&daemon);
    util::wait_for("scans on the new schedule", Duration::from_secs(30), || {
        (scans(&daemon) >= before + 1.0).then_some(())
    });

    // A second daemon on the same directories is refused before it touches anything.
    let (code, _, err) = util::run_bin(
        &["serve", "--config", config.to_str().unwrap()],
        &account.env(),
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(".sagemaker-auditor-serve.lock")
            && err.contains("one daemon per directory")
            && err.contains(&format!("pid {}", daemon.process.pid())),
        "{err}"
    );

    daemon.process.signal("TERM");
    assert_eq!(
        daemon.process.wait_exit(Duration::from_secs(40)),
        Some(0),
        "{}",
        daemon.process.log_text()
    );
    let log = daemon.process.log_text();
    assert!(log.contains("\"stopped\""), "{log}");
    // Every report left behind is whole, and no temporary file remains.
    for entry in std::fs::read_dir(daemon.dir.join("reports")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == ".sagemaker-auditor-serve.lock" {
            continue;
        }
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report["schema_version"], "1");
    }
    let store = Store::open(&daemon.dir.join("state/history.db")).unwrap();
    assert!(store.scan_count().unwrap() >= 4);
    drop(store);
    a_restart_exports_the_last_scans_gauges(&daemon, &account);
}

/// Restarted where AWS cannot be reached: until a scan completes, /metrics shows the gauges
/// of the last scan the history recorded (the one in `latest.json`), so alerts neither
/// resolve nor fire again; the failed scan leaves them as they are.
fn a_restart_exports_the_last_scans_gauges(daemon: &Daemon, account: &Account) {
    let latest: Value = serde_json::from_str(
        &std::fs::read_to_string(daemon.dir.join("reports/latest.json")).unwrap(),
    )
    .unwrap();
    let mut expected = std::collections::BTreeMap::<String, u64>::new();
    for f in latest["findings"].as_array().unwrap() {
        let series = format!(
            r#"sagemaker_audit_findings{{account_id="{}",check_id="{}",region="{}",severity="{}",status="{}"}}"#,
            f["account_id"].as_str().unwrap(),
            f["check_id"].as_str().unwrap(),
            f["region"].as_str().unwrap(),
            f["severity"].as_str().unwrap(),
            f["status"].as_str().unwrap().to_ascii_lowercase()
        );
        *expected.entry(series).or_default() += 1;
    }
    assert!(expected.keys().any(|k| k.ends_with(r#"status="fail"}"#)));
    let config = daemon.dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let unreachable = text
        .replace(&util::emulator().url, "http://127.0.0.1:9")
        .replace("*/3 * * * * *", "0 0 0 1 1 *");
    std::fs::write(&config, unreachable).unwrap();
    let mut restarted = spawn_serve(&daemon.dir, account, "restarted.log");
    let port = daemon.port;
    let metric = |series: &str| {
        let (_, text) = util::http_get(port, "/metrics").ok()?;
        text.lines().find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .parse::<f64>()
                .ok()
        })
    };
    // The start-up scan fails (nothing answers on port 9) and publishes nothing.
    util::wait_for("the start-up scan to fail", Duration::from_secs(60), || {
        (metric(r#"sagemaker_audit_scans_total{outcome="failure"}"#)? >= 1.0).then_some(())
    });
    let (_, text) = util::http_get(port, "/metrics").unwrap();
    let mut shown = std::collections::BTreeMap::<String, u64>::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("sagemaker_audit_findings{"))
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        shown.insert(series.to_string(), value.parse().unwrap());
    }
    assert_eq!(shown, expected, "{}", restarted.log_text());
    let finished: chrono::DateTime<chrono::Utc> = latest["scan"]["finished_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let last_success = metric("sagemaker_audit_last_success_timestamp_seconds").unwrap();
    assert!(
        (last_success - finished.timestamp_millis() as f64 / 1000.0).abs() < 0.002,
        "{last_success} vs {finished}"
    );
    assert!(
        restarted
            .log_text()
            .contains("gauges of the last recorded scan restored")
    );
    // No report yet in this run: /readyz says so.
    assert_eq!(util::http_get(port, "/readyz").unwrap().0, 503);
    restarted.signal("TERM");
    assert_eq!(
        restarted.wait_exit(Duration::from_secs(40)),
        Some(0),
        "{}",
        restarted.log_text()
    );
}

/// CPU ticks (user + system) the process has used, from /proc/<pid>/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix(" kB")?
                .parse()
                .ok()
        })
        .unwrap()
}

/// The seeded reference account under the daemon: every scan reports what the one-shot scan
/// reports (the golden file's counts). Prints the daemon's memory and CPU per scan; with
/// `SMA_MEASURE_LOAD=1` also loads /metrics with `hey` (200 requests/s for 30 s).
#[tokio::test(flavor = "multi_thread")]
async fn the_reference_account_under_the_daemon() {
    let account = util::account("000000000014").await;
    crate::reference::seed(&account).await;
    let daemon = start_daemon("daemon-reference", &account, "*/5 * * * * *");
    let golden =
        std::fs::read_to_string(util::repo_root().join("tests/golden/reference-findings.txt"))
            .unwrap();
    let count = |status: &str| golden.lines().filter(|l| l.starts_with(status)).count() as u64;
    let summary = daemon.findings("")["summary"].clone();
    assert_eq!(summary["fail"], count("FAIL"), "{summary}");
    assert_eq!(summary["pass"], count("PASS"), "{summary}");
    assert_eq!(summary["error"], count("ERROR"), "{summary}");
    assert_eq!(
        daemon.findings("")["history"]["new"]
            .as_array()
            .unwrap()
            .len() as u64,
        count("FAIL")
    );

    let pid = daemon.process.pid();
    let scans = || {
        daemon
            .metric(r#"sagemaker_audit_scans_total{outcome="success"}"#)
            .unwrap_or(0.0) as u64
    };
    let (first, ticks0) = (scans(), cpu_ticks(pid));
    let target = first + 4;
    util::wait_for("four more scans", Duration::from_secs(120), || {
        (scans() >= target).then_some(())
    });
    let (last, ticks1) = (scans(), cpu_ticks(pid));
    // The second scan onwards: nothing new, nothing resolved.
    let report = daemon.findings("");
    assert!(report["history"]["new"].as_array().unwrap().is_empty());
    assert!(report["history"]["resolved"].as_array().unwrap().is_empty());
    let clk_tck = 100.0; // Linux's USER_HZ
    eprintln!(
        "daemon on the reference account: {:.3} CPU s per scan over {} scans; RSS {} KiB, peak {} KiB",
        (ticks1 - ticks0) as f64 / clk_tck / (last - first) as f64,
        last - first,
        status_kib(pid, "VmRSS:"),
        status_kib(pid, "VmHWM:"),
    );
    if std::env::var_os("SMA_MEASURE_LOAD").is_some() {
        let out = std::process::Command::new("hey")
            .args(["-z", "30s", "-q", "100", "-c", "2"])
            .arg(format!("http://127.0.0.1:{}/metrics", daemon.port))
            .output()
            .expect("hey (apt-get install hey)");
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
        eprintln!(
            "after the load: RSS {} KiB, peak {} KiB",
            status_kib(pid, "VmRSS:"),
            status_kib(pid, "VmHWM:")
        );
    }
}

/// `[output] statuses`: the report files and `/api/findings` list only those statuses (and
/// say how many they left out); the summary and the metrics count every finding.
#[tokio::test(flavor = "multi_thread")]
async fn output_statuses_filter_the_files_and_the_api_but_not_the_metrics() {
    let (account, _domain) = fixtures::small_account("000000000021").await;
    let dir = util::temp_dir("daemon-statuses");
    let port = util::free_port();
    let text = config_text(port, "0 0 0 1 1 *").replace(
        "retention_days = 7\n",
        "retention_days = 7\nstatuses = [\"ERROR\", \"fail\"]\n",
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
    let process = spawn_serve(&dir, &account, "daemon.log");
    let daemon = Daemon { process, port, dir };
    util::wait_ready(port);

    let report = daemon.findings("");
    let listed = report["findings"].as_array().unwrap();
    let summary = &report["summary"];
    assert!(summary["pass"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(
        listed.len() as u64,
        summary["fail"].as_u64().unwrap() + summary["error"].as_u64().unwrap()
    );
    assert!(
        listed
            .iter()
            .all(|f| f["status"] == "FAIL" || f["status"] == "ERROR")
    );
    assert_eq!(
        report["findings_filter"],
        serde_json::json!({
            "statuses": ["FAIL", "ERROR"],
            "omitted": summary["pass"].as_u64().unwrap() + summary["muted"].as_u64().unwrap()
        })
    );
    // The file on disk is what the API serves.
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(daemon.dir.join("reports/latest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["findings"], report["findings"]);
    assert_eq!(file["findings_filter"], report["findings_filter"]);
    assert!(
        daemon.findings("?status=pass")["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The metrics count the PASS findings the report left out.
    let (_, metrics) = daemon.get("/metrics");
    let passes: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("sagemaker_audit_findings{") && l.contains(r#"status="pass""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(
        passes as u64,
        summary["pass"].as_u64().unwrap(),
        "{metrics}"
    );
}

/// A broken config stops `serve` before it binds or scans: exit 2 naming file and line.
#[test]
fn serve_refuses_to_start_on_a_broken_config() {
    let dir = util::temp_dir("daemon-broken");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "schedule = \"0 */5 * * * *\"\n\n[serve]\nlisten = \"localhost\"\n",
    )
    .unwrap();
    let (code, _, err) = util::run_bin(&["serve", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("config.toml:4") && err.contains("serve.listen"),
        "{err}"
    );
    assert!(!dir.join("state.db").exists());
}

/// A window too busy for one scan's page budget is finished by the next scans: the first
/// report lists the span it did not read (and the metric counts its seconds) and has no
/// attribution for the domain created beneath it; a later scan reads that span, after its
/// own new events, and the domain's finding names its creation; nothing is unread then.
#[tokio::test(flavor = "multi_thread")]
async fn a_budget_cut_window_is_read_by_the_next_scans() {
    let account = util::account("000000000087").await;
    // 1,200 reads (24 listing pages), beneath them 600 denied CreateDomain calls (13 pages
    // of CreateDomain with the creation), beneath those the creation.
    let noise = fixtures::Noise {
        reads: 1200,
        denied_creates: 600,
        amplify_apps: 0,
    };
    let (domain, _) = fixtures::busy_domain(&account, "resumed", noise).await;
    let domain_arn = format!("arn:aws:sagemaker:{REGION}:{}:domain/{domain}", account.id);
    let daemon = start_daemon_with(
        "daemon-resume",
        &account,
        "*/2 * * * * *",
        "\n[cloudtrail]\nmax_pages_per_scan = 50\n",
    );
    let latest = daemon.dir.join("reports/latest.json");
    let report = |scan_id: Option<&str>| -> Option<Value> {
        let r: Value = serde_json::from_str(&std::fs::read_to_string(&latest).ok()?).ok()?;
        (Some(r["scan"]["id"].as_str()?) != scan_id).then_some(r)
    };
    let attribution = |r: &Value| -> Value {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["status"] == "FAIL" && f["resource_arn"] == domain_arn.as_str())
            .expect("a failing finding on the domain")["attribution"]
            .clone()
    };
    let first = util::wait_for("the first report", Duration::from_secs(120), || {
        report(None)
    });
    let unread = first["scan"]["cloudtrail_unread"]
        .as_array()
        .expect("unread");
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert_eq!(unread[0]["account_id"], account.id.as_str());
    assert!(attribution(&first).is_null(), "{}", attribution(&first));
    let series = format!(
        r#"sagemaker_audit_cloudtrail_unread_seconds{{account_id="{}",region="{REGION}"}}"#,
        account.id
    );
    let seconds = daemon.metric(&series).expect("the unread seconds");
    assert!(
        seconds > 6.0 * 86_400.0,
        "the look-back below the cut: {seconds}"
    );

    // The next scans: each a budget of 50, the backlog after the new events.
    let mut last = first["scan"]["id"].as_str().unwrap().to_string();
    let mut scans = 1;
    let done = loop {
        let r = util::wait_for("the next report", Duration::from_secs(120), || {
            report(Some(&last))
        });
        scans += 1;
        last = r["scan"]["id"].as_str().unwrap().to_string();
        if r["scan"].get("cloudtrail_unread").is_none() {
            break r;
        }
        assert!(scans < 5, "still unread after {scans} scans: {}", r["scan"]);
    };
    let who = attribution(&done);
    assert_eq!(who["event_name"], "CreateDomain", "{who}");
    assert_eq!(daemon.metric(&series), None, "nothing unread: no series");
    let store = Store::open(&daemon.dir.join("state/history.db")).unwrap();
    let windows = store.event_windows().unwrap();
    assert_eq!(
        windows[&(account.id.clone(), REGION.to_string())].unread,
        None
    );
    eprintln!("the budget-cut window was read completely by scan {scans}");
}

/// A check that takes minutes (a user's policy can): SIGTERM during its evaluation gives the
/// scan `shutdown_timeout_seconds`, then abandons it for real: the daemon exits in time, and
/// the evaluation's thread, which runs on, writes nothing: no history row, no report.
#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_scan_writes_nothing_and_the_exit_is_bounded() {
    let (account, _domain) = fixtures::small_account("000000000016").await;
    let dir = util::temp_dir("daemon-abandoned");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("slow_check.rego"),
        r#"package sma.checks.slow_check

metadata := {
	"id": "slow_check",
	"title": "A check that takes minutes",
	"severity": "low",
	"resource_type": "domain",
	"remediation": "None: it only takes long.",
}

spin := count({i | some i in numbers.range(1, 6000); some j in numbers.range(1, 6000); i == j})

results[domain.arn] := {"resource_arn": domain.arn, "status": "PASS", "message": sprintf("%d", [spin])} if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}
"#,
    )
    .unwrap();
    let port = util::free_port();
    let config = format!(
        "policy_dirs = [\"policies\"]\n{}",
        config_text(port, "0 0 0 1 1 *")
    )
    .replace(
        "shutdown_timeout_seconds = 20",
        "shutdown_timeout_seconds = 1",
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let config = dir.join("config.toml");
    let mut process = util::spawn(
        util::bin(),
        &[
            "--log-format",
            "json",
            "serve",
            "--config",
            config.to_str().unwrap(),
        ],
        &account
            .env()
            .into_iter()
            .chain([("RUST_LOG", "sagemaker_auditor=debug,warn".to_string())])
            .collect::<Vec<_>>(),
        dir.join("daemon.log"),
    );
    util::wait_for(
        "the start-up scan to reach its evaluation",
        Duration::from_secs(120),
        || {
            process
                .log_text()
                .contains("collected; judging and recording")
                .then_some(())
        },
    );
    let stopping = std::time::Instant::now();
    process.signal("TERM");
    let code = process.wait_exit(Duration::from_secs(30));
    let took = stopping.elapsed();
    let log = process.log_text();
    assert_eq!(code, Some(0), "{log}");
    // shutdown_timeout_seconds + 5 s, as the daemon promises (not a timing benchmark: the
    // evaluation alone runs for minutes).
    assert!(took < Duration::from_secs(6), "exit took {took:?}: {log}");
    assert!(log.contains("scan abandoned at shutdown"), "{log}");
    assert!(!log.contains("scan completed"), "{log}");
    let store = Store::open(&dir.join("state/history.db")).unwrap();
    assert_eq!(store.scan_count().unwrap(), 0);
    let reports: Vec<String> = std::fs::read_dir(dir.join("reports"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".sagemaker-auditor-serve.lock")
                .collect()
        })
        .unwrap_or_default();
    assert!(reports.is_empty(), "{reports:?}");
}

/// Open file descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// 300 clients that send half a request and wait, against a daemon limited to 256 file
/// descriptors: its connections stay capped (`serve.max_connections`), the half-sent heads
/// are cut off (HEADER_READ_TIMEOUT), `/metrics` answers again while the clients still hold
/// their sockets, scans go on, and SIGTERM exits within shutdown_timeout_seconds + 5 s.
#[tokio::test(flavor = "multi_thread")]
async fn half_sent_requests_exhaust_nothing() {
    use std::io::Write;
    let (account, _domain) = fixtures::small_account("000000000017").await;
    let dir = util::temp_dir("daemon-slowloris");
    let port = util::free_port();
    std::fs::write(
        dir.join("config.toml"),
        config_text(port, "*/2 * * * * *") + "max_connections = 64\n",
    )
    .unwrap();
    let config = dir.join("config.toml");
    let bin = util::bin().to_str().unwrap().to_string();
    let mut process = util::spawn(
        std::path::Path::new("/bin/sh"),
        &[
            "-c",
            "ulimit -n 256 && exec \"$0\" \"$@\"",
            &bin,
            "--log-format",
            "json",
            "serve",
            "--config",
            config.to_str().unwrap(),
        ],
        &account
            .env()
            .into_iter()
            .chain([("RUST_LOG", "sagemaker_auditor=info,warn".to_string())])
            .collect::<Vec<_>>(),
        dir.join("daemon.log"),
    );
    util::wait_ready(port);
    let pid = process.pid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(" 256 ")),
        "{limits}"
    );
    let metric = |series: &str| {
        let (_, text) = util::http_get(port, "/metrics").ok()?;
        text.lines().find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .parse::<f64>()
                .ok()
        })
    };
    let success = r#"sagemaker_audit_scans_total{outcome="success"}"#;
    let mut held = Vec::new();
    for _ in 0..300 {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        // A request head without its final blank line.
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: auditor\r\n");
        held.push(s);
    }
    assert!(held.len() >= 250, "only {} connections", held.len());
    let fds = open_fds(pid);
    assert!(fds < 200, "{fds} descriptors open under the flood");
    let before = metric(success);
    util::wait_for(
        "/metrics to answer while the clients hold their sockets",
        Duration::from_secs(30),
        || metric(success),
    );
    let before = before.or(metric(success)).unwrap();
    util::wait_for("scans to go on", Duration::from_secs(60), || {
        (metric(success)? >= before + 2.0).then_some(())
    });
    let log = process.log_text();
    assert!(!log.contains("accepting a connection failed"), "{log}");
    assert!(
        log.contains("connection refused: serve.max_connections are open"),
        "{log}"
    );
    let stopping = std::time::Instant::now();
    process.signal("TERM");
    assert_eq!(
        process.wait_exit(Duration::from_secs(40)),
        Some(0),
        "{}",
        process.log_text()
    );
    assert!(stopping.elapsed() < Duration::from_secs(25));
    drop(held);
}
