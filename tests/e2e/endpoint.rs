//! Endpoint security with real parts: `serve` with a Prometheus exporter-toolkit web config
//! (TLS with client certificates, bcrypt basic auth), scraped by a real Prometheus whose
//! jobs present the right credentials, a wrong password, no client certificate, or plain
//! HTTP. Only the first gets metrics; the secrets never reach the log; the report files and
//! the history are private to the owner.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::fixtures;
use crate::util;

const PASSWORD: &str = "s3cret-pass-for-prometheus";

fn fixture(name: &str) -> String {
    util::repo_root()
        .join("tests/fixtures/tls")
        .join(name)
        .display()
        .to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_certificates_and_basic_auth_guard_every_endpoint() {
    let (account, _) = fixtures::small_account("000000000046").await;
    let dir = util::temp_dir("endpoint");
    let port = util::free_port();
    // Cost 6 keeps the debug build quick; the format is what htpasswd -B writes.
    let hash = bcrypt::hash(PASSWORD, 6).unwrap();
    std::fs::write(
        dir.join("web.yml"),
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n  min_version: TLS12\nbasic_auth_users:\n  prometheus: {hash}\n",
            fixture("server.crt"),
            fixture("server.key"),
            fixture("ca.crt"),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "regions = [\"us-east-1\"]\nendpoint_url = \"{}\"\nmax_attempts = 2\nschedule = \"*/2 * * * * *\"\n\
             [output]\ndirectory = \"reports\"\n[serve]\nlisten = \"127.0.0.1:{port}\"\nstate_file = \"history.db\"\nweb_config_file = \"web.yml\"\n",
            util::emulator().url
        ),
    )
    .unwrap();
    let config = dir.join("config.toml");
    let (code, stdout, stderr) =
        util::run_bin(&["validate", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mut daemon = util::serve(&config, &account, "debug", dir.join("daemon.log"));

    let job = |name: &str, scheme: &str, tls: &str, auth: &str| {
        format!(
            "  - job_name: {name}\n    scheme: {scheme}\n{tls}{auth}    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        )
    };
    let ca_only = format!("    tls_config:\n      ca_file: {}\n", fixture("ca.crt"));
    let with_client = format!(
        "    tls_config:\n      ca_file: {}\n      cert_file: {}\n      key_file: {}\n",
        fixture("ca.crt"),
        fixture("client.crt"),
        fixture("client.key")
    );
    let right =
        format!("    basic_auth:\n      username: prometheus\n      password: {PASSWORD}\n");
    let wrong = "    basic_auth:\n      username: prometheus\n      password: guess\n".to_string();
    let prometheus_port = util::free_port();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n{}{}{}{}{}",
            job("authorised", "https", &with_client, &right),
            job("wrong-password", "https", &with_client, &wrong),
            job("no-password", "https", &with_client, ""),
            job("no-client-certificate", "https", &ca_only, &right),
            job("plain-http", "http", "", &right),
        ),
    )
    .unwrap();
    let _prometheus = util::spawn(
        &util::system_tool("prometheus"),
        &[
            &format!("--config.file={}", dir.join("prometheus.yml").display()),
            &format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            &format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
        ],
        &[],
        dir.join("prometheus.log"),
    );
    // Every job scraped at least once after the daemon's first scan: its health and error.
    let targets = util::wait_for(
        "Prometheus to scrape every job",
        Duration::from_secs(90),
        || {
            let (status, body) = util::http_get(prometheus_port, "/api/v1/targets").ok()?;
            if status != 200 {
                return None;
            }
            let v: Value = serde_json::from_str(&body).ok()?;
            let targets: Vec<(String, String, String)> = v["data"]["activeTargets"]
                .as_array()?
                .iter()
                .map(|t| {
                    (
                        t["labels"]["job"].as_str().unwrap_or_default().to_string(),
                        t["health"].as_str().unwrap_or_default().to_string(),
                        t["lastError"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let settled = targets.len() == 5 && targets.iter().all(|(_, h, _)| h != "unknown");
            let authorised_up = targets
                .iter()
                .any(|(j, h, _)| j == "authorised" && h == "up");
            (settled && authorised_up).then_some(targets)
        },
    );
    eprintln!("targets: {targets:#?}");
    for (job, health, error) in &targets {
        match job.as_str() {
            "authorised" => assert_eq!(health, "up", "{error}"),
            "wrong-password" | "no-password" => {
                assert_eq!(health, "down");
                assert!(error.contains("401"), "{job}: {error}");
            }
            "no-client-certificate" | "plain-http" => {
                assert_eq!(health, "down", "{job}");
                assert!(!error.contains("401"), "{job} never reaches HTTP: {error}");
            }
            other => panic!("unexpected job {other}"),
        }
    }
    // The authorised job gets our metrics, not just a 200.
    let q = "/api/v1/query?query=sagemaker_audit_scans_total%7Bjob%3D%22authorised%22%2Coutcome%3D%22success%22%7D";
    let value = util::wait_for(
        "a sagemaker metric through TLS",
        Duration::from_secs(30),
        || {
            let (_, body) = util::http_get(prometheus_port, q).ok()?;
            let v: Value = serde_json::from_str(&body).ok()?;
            v["data"]["result"][0]["value"][1]
                .as_str()
                .map(str::to_string)
        },
    );
    assert!(value.parse::<f64>().unwrap() >= 1.0, "{value}");

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)), Some(0));
    let log = daemon.log_text();
    assert!(
        log.contains("\"tls\":true") && log.contains("\"basic_auth_users\":1"),
        "{log}"
    );
    for secret in [PASSWORD, hash.as_str(), "guess"] {
        assert!(!log.contains(secret), "the log shows a secret: {secret}");
    }
    let key = std::fs::read_to_string(fixture("server.key")).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!log.contains(key_body), "the log shows the private key");

    // Reports and the history: owner only.
    let reports: Vec<_> = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(reports.len() >= 2, "{reports:?}");
    for path in reports.iter().chain([&dir.join("history.db")]) {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }
}

/// Authentication fails closed: a SIGHUP that finds web.yml emptied or half-written (no
/// users) is refused and the endpoints stay locked; a reload with users applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_never_turns_authentication_off() {
    let (account, _) = fixtures::small_account("000000000047").await;
    let dir = util::temp_dir("endpoint-reload");
    let port = util::free_port();
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let web = dir.join("web.yml");
    std::fs::write(&web, format!("basic_auth_users:\n  prometheus: {hash}\n")).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "regions = [\"us-east-1\"]\nendpoint_url = \"{}\"\nmax_attempts = 2\nschedule = \"0 0 0 1 1 *\"\n\
             [output]\ndirectory = \"reports\"\n[serve]\nlisten = \"127.0.0.1:{port}\"\nstate_file = \"history.db\"\nweb_config_file = \"web.yml\"\n",
            util::emulator().url
        ),
    )
    .unwrap();
    let mut daemon = util::serve(
        &dir.join("config.toml"),
        &account,
        "info",
        dir.join("daemon.log"),
    );
    let locked = || matches!(util::http_get(port, "/healthz"), Ok((401, _)));
    util::wait_for("the daemon to listen", Duration::from_secs(60), || {
        locked().then_some(())
    });
    let reloads = |outcome: &str| daemon.log_text().matches(outcome).count();

    for off in ["", "basic_auth_users: {}\n", "basic_auth_users:\n"] {
        std::fs::write(&web, off).unwrap();
        let before = reloads("reload refused");
        daemon.signal("HUP");
        util::wait_for("the refused reload", Duration::from_secs(30), || {
            (reloads("reload refused") > before).then_some(())
        });
        assert!(locked(), "{off:?} opened the endpoints");
    }
    // Users may still change on reload.
    let other = bcrypt::hash("another", 4).unwrap();
    std::fs::write(
        &web,
        format!("basic_auth_users:\n  prometheus: {hash}\n  ops: {other}\n"),
    )
    .unwrap();
    daemon.signal("HUP");
    util::wait_for("the accepted reload", Duration::from_secs(30), || {
        (reloads("config reloaded") > 0).then_some(())
    });
    assert!(locked());

    // Without a signal (Kubernetes sends none when a Secret changes): a changed file is
    // picked up, by the same rules. An emptied one is refused and the endpoints stay locked...
    let as_user = |user: &str, password: &str| {
        use base64::Engine as _;
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        write!(
            s,
            "GET /healthz HTTP/1.0\r\nAuthorization: Basic {token}\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.get(9..12)?.parse::<u16>().ok()
    };
    let refused = reloads("reload refused");
    std::fs::write(&web, "").unwrap();
    util::wait_for(
        "the emptied file to be refused",
        Duration::from_secs(30),
        || (reloads("reload refused") > refused).then_some(()),
    );
    assert!(locked());
    assert_eq!(as_user("ops", "another"), Some(200));
    // ...and a new user works without a signal, an old one no longer.
    let third = bcrypt::hash("third-pass", 4).unwrap();
    std::fs::write(&web, format!("basic_auth_users:\n  ci: {third}\n")).unwrap();
    util::wait_for(
        "the changed file to be loaded",
        Duration::from_secs(30),
        || (as_user("ci", "third-pass")? == 200).then_some(()),
    );
    assert_eq!(as_user("ops", "another"), Some(401));
    assert!(
        daemon
            .log_text()
            .contains("web config or certificate changed on disk: reloaded")
    );
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)), Some(0));
}

/// One GET with basic auth over a fresh connection: the status, or None when the connection
/// failed.
fn get_as(port: u16, path: &str, user: &str, password: &str) -> Option<u16> {
    use base64::Engine as _;
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .ok()?;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: auditor\r\nAuthorization: Basic {token}\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    out.get(9..12)?.parse().ok()
}

/// 200 clients with as many wrong passwords (each a bcrypt check the cache cannot answer):
/// the checks queue behind a small semaphore on the blocking pool, so the authorised scrape,
/// whose credentials were checked once and are cached, answers while they are still being
/// refused, and so do scans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_cannot_starve_an_authorised_scrape() {
    let (account, _) = fixtures::small_account("000000000048").await;
    let dir = util::temp_dir("endpoint-bcrypt");
    let port = util::free_port();
    // Cost 8: 2^8 rounds a check, slow enough in a debug build to queue 200 of them.
    let hash = bcrypt::hash(PASSWORD, 8).unwrap();
    std::fs::write(
        dir.join("web.yml"),
        format!("basic_auth_users:\n  prometheus: {hash}\n"),
    )
    .unwrap();
    // Connections are not what this test limits: room for all 200 and the scrape.
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "regions = [\"us-east-1\"]\nendpoint_url = \"{}\"\nmax_attempts = 2\nschedule = \"*/2 * * * * *\"\n\
             [output]\ndirectory = \"reports\"\n[serve]\nlisten = \"127.0.0.1:{port}\"\nstate_file = \"history.db\"\nweb_config_file = \"web.yml\"\nmax_connections = 1000\n",
            util::emulator().url
        ),
    )
    .unwrap();
    let mut daemon = util::serve(
        &dir.join("config.toml"),
        &account,
        "info",
        dir.join("daemon.log"),
    );
    util::wait_for("the first scan", Duration::from_secs(120), || {
        (get_as(port, "/readyz", "prometheus", PASSWORD)? == 200).then_some(())
    });
    let flood: Vec<_> = (0..200)
        .map(|i| {
            std::thread::spawn(move || {
                get_as(port, "/metrics", "prometheus", &format!("guess-{i}"))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = std::time::Instant::now();
    assert_eq!(get_as(port, "/metrics", "prometheus", PASSWORD), Some(200));
    let scrape = started.elapsed();
    let refused_meanwhile = flood.iter().filter(|t| t.is_finished()).count();
    let statuses: Vec<Option<u16>> = flood.into_iter().map(|t| t.join().unwrap()).collect();
    let flood_took = started.elapsed();
    assert!(statuses.iter().all(|s| *s == Some(401)), "{statuses:?}");
    // The scrape did not wait for the flood: most of it was still being checked.
    assert!(
        refused_meanwhile < 150,
        "{refused_meanwhile} of 200 wrong passwords were refused before the scrape answered"
    );
    println!(
        "authorised scrape under 200 wrong passwords: {scrape:?} (the 200 refusals took {flood_took:?})"
    );
    assert!(daemon.log_text().contains("scan completed"));
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(30)), Some(0));
}
