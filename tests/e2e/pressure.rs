//! The scanner under pressure on the wire: the real binary, through a fault-injecting proxy
//! (proxy.rs) in front of the emulator. Throttling, 500s, connection resets and latency at
//! 20% must still give the full snapshot; an operation denied must error only the checks that
//! need it and resolve nothing; a call that hangs must give partial coverage, never a clean
//! account; a scan that outlives its deadline must publish nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use aws_sdk_sagemaker::types::{AppInstanceType, AppType};
use serde_json::Value;

use crate::fixtures::{self, DomainSpec, Fixture, Owner};
use crate::proxy::{FaultProxy, Plan};
use crate::util::{self, Account};

const REGION: &str = "us-east-1";

fn write_config(dir: &Path, name: &str, endpoint: &str, extra: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("regions = [\"{REGION}\"]\nendpoint_url = \"{endpoint}\"\n{extra}"),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// `scan` with `config`: (exit code, report, snapshot, stderr).
fn scan(account: &Account, dir: &Path, config: &str, name: &str) -> (i32, Value, Value, String) {
    let report = dir.join(format!("{name}.json"));
    let snapshot = dir.join(format!("{name}-snapshot.json"));
    let (code, _, stderr) = util::run_bin(
        &[
            "scan",
            "--config",
            config,
            "--format",
            "json",
            "--output",
            report.to_str().unwrap(),
            "--save-snapshot",
            snapshot.to_str().unwrap(),
        ],
        &account.env(),
    );
    let read = |p: &Path| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("{}: {e}; exit {code}; stderr: {stderr}", p.display())),
        )
        .unwrap()
    };
    (code, read(&report), read(&snapshot), stderr)
}

/// (check id, resource ARN, status) of every result: what the scan concluded.
fn results(report: &Value) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check_id"].as_str().unwrap().to_string(),
                f["resource_arn"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn error_checks(report: &Value) -> BTreeSet<String> {
    results(report)
        .into_iter()
        .filter(|(_, _, status)| status == "ERROR")
        .map(|(check, _, _)| check)
        .collect()
}

/// The snapshot's inventory, without what differs between two reads of the same account:
/// when it ran, call counts, and the time EFS measured a size.
fn inventory(snapshot: &Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.remove("api_calls");
                o.remove("size_timestamp");
                o.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut s = snapshot.clone();
    strip(&mut s);
    let o = s.as_object_mut().unwrap();
    o.remove("started_at");
    o.remove("finished_at");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_faults_on_the_wire_still_give_the_full_snapshot() {
    let (account, _) = fixtures::small_account("000000000042").await;
    let f = Fixture::new(&account);
    let (vpc, subnets) = f.default_vpc().await;
    let second = f
        .domain(DomainSpec {
            name: "second",
            vpc_id: &vpc,
            subnet_ids: subnets,
            default_role: Some(f.role_arn("service-role/default-role")),
            ..Default::default()
        })
        .await;
    for user in ["a", "b", "c"] {
        f.profile(&second, user, None, &[], vec![]).await;
        f.app(
            &second,
            Owner::Profile(user),
            AppType::JupyterServer,
            "default",
            AppInstanceType::System,
            vec![],
        )
        .await;
    }
    let dir = util::temp_dir("pressure-faults");
    let direct = write_config(&dir, "direct.toml", &util::emulator().url, "");
    let (code, baseline, baseline_snapshot, stderr) = scan(&account, &dir, &direct, "baseline");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(baseline["scan"]["collection_errors"], Value::Array(vec![]));
    assert!(
        results(&baseline).iter().any(|(_, _, s)| s == "FAIL"),
        "the account has problems to find"
    );

    // The default config: its retries are what a user gets.
    let proxy = FaultProxy::start(
        &util::emulator().url,
        Plan::faults(0.2, Duration::from_millis(300)),
        20261129,
    );
    let faulty = write_config(&dir, "faulty.toml", &proxy.url, "");
    let mut retried = 0;
    for run in 0..5 {
        let (code, report, snapshot, stderr) = scan(&account, &dir, &faulty, &format!("run-{run}"));
        assert_eq!(code, 0, "run {run}: {stderr}");
        assert_eq!(
            snapshot["collection_errors"],
            Value::Array(vec![]),
            "run {run}: every fault was retried away"
        );
        assert!(
            inventory(&snapshot) == inventory(&baseline_snapshot),
            "run {run}: the inventory differs from the one read without faults; compare {} with {}",
            dir.join(format!("run-{run}-snapshot.json")).display(),
            dir.join("baseline-snapshot.json").display()
        );
        assert_eq!(results(&report), results(&baseline), "run {run}");
        retried += snapshot["api_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["attempts"].as_u64().unwrap() - c["calls"].as_u64().unwrap())
            .sum::<u64>();
    }
    let stats = proxy.stats();
    let faults: u64 = stats.faults.values().sum();
    eprintln!("proxy: {stats:?}, retried attempts counted by the scanner: {retried}");
    for kind in ["throttle", "servererror", "reset", "latency"] {
        assert!(
            stats.faults.get(kind).copied().unwrap_or(0) > 0,
            "{kind} was injected: {stats:?}"
        );
    }
    // ~20% of the requests met a fault (bounds wide enough for a seeded draw).
    assert!(
        faults * 100 >= stats.requests * 12 && faults * 100 <= stats.requests * 30,
        "{faults} faults in {} requests",
        stats.requests
    );
    // Every fault but latency costs one more attempt, and the scanner counted them.
    let failing = faults - stats.faults.get("latency").copied().unwrap_or(0);
    assert_eq!(retried, failing, "{stats:?}");
}

/// The daemon's history through the proxy: an operation denied after a clean scan errors only
/// the checks that need it, resolves nothing and keeps the findings open; a scan past its
/// deadline publishes nothing and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_operation_or_a_scan_past_its_deadline_resolves_nothing() {
    let (account, domain) = fixtures::small_account("000000000043").await;
    let f = Fixture::new(&account);
    f.app(
        &domain,
        Owner::Profile("user"),
        AppType::KernelGateway,
        "broken",
        AppInstanceType::MlT3Medium,
        vec![fixtures::tag("emulator:status", "Failed")],
    )
    .await;
    let proxy = FaultProxy::start(&util::emulator().url, Plan::clean(), 43);
    let dir = util::temp_dir("pressure-daemon");
    let port = util::free_port();
    let config = write_config(
        &dir,
        "config.toml",
        &proxy.url,
        &format!(
            "max_attempts = 2\nschedule = \"*/2 * * * * *\"\n[output]\ndirectory = \"reports\"\n\
             [serve]\nlisten = \"127.0.0.1:{port}\"\nstate_file = \"history.db\"\nscan_timeout_seconds = 10\n"
        ),
    );
    let mut daemon = util::serve(
        Path::new(&config),
        &account,
        "sagemaker_auditor=info,warn",
        dir.join("daemon.log"),
    );
    let latest = dir.join("reports/latest.json");
    let read_latest =
        || -> Option<Value> { serde_json::from_str(&std::fs::read_to_string(&latest).ok()?).ok() };
    let clean = util::wait_for("a clean scan", Duration::from_secs(60), || {
        read_latest().filter(|r| r["scan"]["collection_errors"] == Value::Array(vec![]))
    });
    let open_before: BTreeSet<(String, String, String)> = results(&clean)
        .into_iter()
        .filter(|(_, _, s)| s == "FAIL")
        .collect();
    let failed_app = open_before
        .iter()
        .find(|(check, _, _)| check == "app_failed")
        .expect("the failed app is a finding")
        .1
        .clone();

    proxy.set_plan(Plan {
        deny: Some("ListApps".into()),
        ..Plan::clean()
    });
    let denied = util::wait_for(
        "a scan with ListApps denied",
        Duration::from_secs(60),
        || read_latest().filter(|r| r["scan"]["collection_errors"] != Value::Array(vec![])),
    );
    let errors = denied["scan"]["collection_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (
            &errors[0]["operation"],
            &errors[0]["error"],
            &errors[0]["error_code"]
        ),
        (
            &Value::from("ListApps"),
            &Value::from("access_denied"),
            &Value::from("AccessDeniedException")
        )
    );
    assert_eq!(
        error_checks(&denied),
        ["app_failed", "app_long_running"].map(String::from).into(),
        "only the checks that read apps"
    );
    // Every other check concluded as before.
    let others = |r: &Value| -> BTreeSet<_> {
        results(r)
            .into_iter()
            .filter(|(check, _, _)| !check.starts_with("app_"))
            .collect()
    };
    assert_eq!(others(&denied), others(&clean));
    assert_eq!(
        denied["history"]["resolved"],
        Value::Array(vec![]),
        "nothing is resolved by a scan that could not read apps"
    );
    let kept: Vec<&Value> = denied["history"]["kept_open"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert!(
        kept.iter().any(
            |k| k["resource_arn"] == failed_app.as_str() || k.to_string().contains(&failed_app)
        ),
        "the failed app's finding is kept open: {kept:?}"
    );

    // A scan that cannot finish in scan_timeout_seconds: published nothing, resolved nothing.
    // (A scan already past ListDomains when the stall begins may still finish and publish:
    // only the scans that start after it are judged.)
    let stalled_from = chrono::Utc::now();
    proxy.set_plan(Plan {
        stall: Some("ListDomains".into()),
        stall_for: Duration::from_secs(40),
        ..Plan::clean()
    });
    util::wait_for("a scan to time out", Duration::from_secs(60), || {
        daemon
            .log_text()
            .lines()
            .find(|l| l.contains("scan failed") && l.contains("scan_timeout_seconds"))
            .map(str::to_string)
    });
    let reports = || util::report_files(&dir.join("reports"));
    let started = |r: &Value| -> chrono::DateTime<chrono::Utc> {
        r["scan"]["started_at"].as_str().unwrap().parse().unwrap()
    };
    let published = reports();
    assert!(
        published.iter().all(|r| started(r) < stalled_from),
        "no report of a scan that started during the stall"
    );
    let latest_now = read_latest().unwrap();
    assert!(started(&latest_now) < stalled_from);
    assert_eq!(
        latest_now["scan"]["collection_errors"][0]["operation"], "ListApps",
        "the latest is still a report of the denied phase"
    );
    // The scan after the one that timed out stalls too: still nothing new.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(reports().len(), published.len());
    let (status, body) = util::http_get(port, "/api/findings?status=FAIL").unwrap();
    assert_eq!(status, 200);
    let served: Value = serde_json::from_str(&body).unwrap();
    assert!(body.contains(&failed_app), "still served as open: {served}");

    // Recovery: the next full scan sees the same findings open, first seen at the first scan.
    proxy.set_plan(Plan::clean());
    let recovered = util::wait_for("a clean scan again", Duration::from_secs(90), || {
        read_latest().filter(|r| {
            r["scan"]["collection_errors"] == Value::Array(vec![])
                && r["scan"]["started_at"] != clean["scan"]["started_at"]
        })
    });
    assert_eq!(recovered["history"]["resolved"], Value::Array(vec![]));
    let first_seen = |r: &Value| -> Vec<(String, String)> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "FAIL")
            .map(|f| {
                (
                    f["id"].as_str().unwrap_or_default().to_string(),
                    f["first_seen"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(first_seen(&recovered), first_seen(&clean));
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(60)), Some(0));
}

/// A call that hangs past `call_timeout_seconds` is a timeout: the checks that needed it
/// report ERROR on a partial scan, and nothing of it reads as PASS. An EC2 denial (its own
/// XML and code) errors only the endpoint check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_call_is_partial_coverage_never_a_clean_account() {
    let account = util::account("000000000044").await;
    let f = Fixture::new(&account);
    let (vpc, subnets) = f.default_vpc().await;
    f.role("default-role", fixtures::sagemaker_trust(), &[], &[])
        .await;
    let domain = f
        .domain(DomainSpec {
            name: "private",
            vpc_id: &vpc,
            subnet_ids: subnets,
            vpc_only: true,
            default_role: Some(f.role_arn("service-role/default-role")),
            ..Default::default()
        })
        .await;
    f.profile(&domain, "user", None, &[], vec![]).await;
    let proxy = FaultProxy::start(&util::emulator().url, Plan::clean(), 44);
    let dir = util::temp_dir("pressure-timeout");
    let config = write_config(
        &dir,
        "config.toml",
        &proxy.url,
        "call_timeout_seconds = 2\nmax_attempts = 2\n",
    );
    let (code, clean, _, stderr) = scan(&account, &dir, &config, "clean");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(clean["scan"]["collection_errors"], Value::Array(vec![]));

    proxy.set_plan(Plan {
        stall: Some("ListUserProfiles".into()),
        stall_for: Duration::from_secs(30),
        ..Plan::clean()
    });
    let (code, hung, _, stderr) = scan(&account, &dir, &config, "hung");
    assert_eq!(code, 0, "a partial scan is still a report: {stderr}");
    let errors = hung["scan"]["collection_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (&errors[0]["operation"], &errors[0]["error"]),
        (&Value::from("ListUserProfiles"), &Value::from("timeout"))
    );
    assert!(
        proxy.stats().stalled >= 1,
        "the call did reach the proxy and hang there"
    );
    // The profile-level checks cannot conclude: ERROR, never PASS for a profile.
    let profile_results: Vec<_> = results(&hung)
        .into_iter()
        .filter(|(_, arn, _)| arn.contains(":user-profile/"))
        .collect();
    assert!(
        profile_results.iter().all(|(_, _, s)| s == "ERROR") && !profile_results.is_empty(),
        "{profile_results:?}"
    );
    assert!(error_checks(&hung).contains("user_profile_unhealthy"));
    assert_ne!(
        results(&hung),
        results(&clean),
        "a hung call never reads as the clean account"
    );

    proxy.set_plan(Plan {
        deny: Some("DescribeVpcEndpoints".into()),
        ..Plan::clean()
    });
    let (code, denied, _, stderr) = scan(&account, &dir, &config, "denied");
    assert_eq!(code, 0, "{stderr}");
    let errors = denied["scan"]["collection_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (
            &errors[0]["service"],
            &errors[0]["error"],
            &errors[0]["error_code"]
        ),
        (
            &Value::from("ec2"),
            &Value::from("access_denied"),
            &Value::from("UnauthorizedOperation")
        )
    );
    assert_eq!(
        error_checks(&denied),
        ["domain_vpconly_missing_endpoints".to_string()].into()
    );
}
