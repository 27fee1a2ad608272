//! The emulator harness: one moto server (with `tests/emulator/server.py`'s additions) per test
//! binary on a free loopback port, and SDK configs for isolated emulated accounts on it.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use sagemaker_auditor::snapshot::Snapshot;

pub const REGION: &str = "us-east-1";

/// One scan of `regions` with these clients.
pub async fn scan(clients: &sagemaker_auditor::collect::AwsClients, regions: &[&str]) -> Snapshot {
    let options = sagemaker_auditor::collect::CollectOptions {
        regions: regions.iter().map(|r| r.to_string()).collect(),
        concurrency: 8,
        ..Default::default()
    };
    sagemaker_auditor::collect::collect(clients, &options).await
}

/// Calls of `operation` in a saved snapshot (JSON), whatever the outcome.
pub fn calls_in(snapshot: &serde_json::Value, operation: &str) -> u64 {
    snapshot["api_calls"]
        .as_array()
        .expect("api_calls")
        .iter()
        .filter(|c| c["operation"] == operation)
        .map(|c| c["calls"].as_u64().unwrap_or(0))
        .sum()
}

/// (calls, attempts) per `service:Operation`, whatever the outcome.
pub fn call_counts(s: &Snapshot) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for c in &s.api_calls {
        let entry: &mut (u64, u64) = out
            .entry(format!("{}:{}", c.service, c.operation))
            .or_default();
        entry.0 += c.calls;
        entry.1 += c.attempts;
    }
    out
}

pub struct Emulator {
    pub url: String,
    _child: Child,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv python that `scripts/test` prepares, or `SMA_EMULATOR_PYTHON`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SMA_EMULATOR_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "the emulator's virtualenv is missing: run `scripts/test` (it creates .venv with the pinned moto), or set SMA_EMULATOR_PYTHON"
    );
    venv
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn start() -> Emulator {
    let port = free_port();
    let log_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let log =
        std::fs::File::create(log_dir.join(format!("emulator-{port}.log"))).expect("emulator log");
    let child = Command::new(python())
        .arg(repo_root().join("tests/emulator/server.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        .env_remove("MOTO_ACCOUNT_ID")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start the emulator");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the emulator did not listen on port {port} within 60 s; see {}",
            log_dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Emulator {
        url: format!("http://127.0.0.1:{port}"),
        _child: child,
    }
}

/// The emulator of this test binary, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(start)
}

/// Sends moto's account-selection header, to bootstrap a principal in a fresh account.
#[derive(Debug)]
struct AccountHeader(String);

impl Intercept for AccountHeader {
    fn name(&self) -> &'static str {
        "AccountHeader"
    }
    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

fn sdk_config(url: &str, key: &str, secret: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
            Credentials::new(key, secret, None, None, "emulator"),
        ))
        // An operation the emulator lacks answers 500; do not retry it for long.
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .build()
}

pub struct Account {
    pub id: String,
    pub sdk: SdkConfig,
    pub access_key: String,
    pub secret_key: String,
}

impl Account {
    /// The same account, its clients pointed at another region.
    pub fn in_region(&self, region: &str) -> Account {
        Account {
            id: self.id.clone(),
            sdk: self
                .sdk
                .to_builder()
                .region(Region::new(region.to_string()))
                .build(),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
        }
    }
    /// Another IAM user of the same account, with its own access key: a second actor whose
    /// calls CloudTrail attributes to it.
    pub async fn another_user(&self, name: &str) -> Account {
        let (access_key, secret_key) = user_with_key(&self.iam(), name).await;
        let region = self
            .sdk
            .region()
            .map_or(REGION.to_string(), |r| r.to_string());
        let sdk = sdk_config(&emulator().url, &access_key, &secret_key)
            .to_builder()
            .region(Region::new(region))
            .build();
        Account {
            id: self.id.clone(),
            sdk,
            access_key,
            secret_key,
        }
    }

    pub fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.sdk)
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk)
    }
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk)
    }
    /// Environment for running the binary against this account.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL", emulator().url.clone()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

/// An IAM user and its access key: (key id, secret).
async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("create the user");
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("create an access key")
        .access_key
        .expect("access key");
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

/// A fresh emulated account: an IAM user with an access key, created through moto's
/// account header; every call made with the key then lands in that account, as on AWS.
/// Each test uses its own account id so tests can share the emulator and run in parallel.
pub async fn account(id: &str) -> Account {
    let url = &emulator().url;
    let bootstrap = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&sdk_config(url, "bootstrap", "bootstrap"))
            .interceptor(AccountHeader(id.to_string()))
            .build(),
    );
    let user = format!("auditor-{}", std::process::id());
    let (access_key, secret_key) = user_with_key(&bootstrap, &user).await;
    Account {
        id: id.to_string(),
        sdk: sdk_config(url, &access_key, &secret_key),
        access_key,
        secret_key,
    }
}

/// The binary under test; `SMA_BIN` points the tests at another build (a release binary
/// for measurements).
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var_os("SMA_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sagemaker-auditor")))
    })
}

/// Runs the binary with `env`, returning (exit code, stdout, stderr).
pub fn run_bin(args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sagemaker-auditor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A plain HTTP/1.0 GET on loopback: (status code, body). HTTP/1.0 keeps the answer
/// unchunked, so no client library is needed.
pub fn http_get(port: u16, path_and_query: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(http_response(&raw))
}

/// An HTTP/1.0 answer as (status code, body); 0 when there is no status line.
pub fn http_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// Polls `probe` every 250 ms until it returns `Some`, or panics with `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A child process killed when the test ends, passed or not.
pub struct Running {
    pub child: Child,
    pub log: PathBuf,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit on its own; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program` with `args` and `env`, stdout and stderr into `log`.
pub fn spawn(program: &Path, args: &[&str], env: &[(&str, String)], log: PathBuf) -> Running {
    let file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    Running { child, log }
}

/// `serve --config <config>` of the binary under test, logging JSON at `rust_log` into
/// `log`, with `account`'s credentials.
pub fn serve(config: &Path, account: &Account, rust_log: &str, log: PathBuf) -> Running {
    let env: Vec<(&str, String)> = account
        .env()
        .into_iter()
        .chain([("RUST_LOG", rust_log.to_string())])
        .collect();
    let config = config.to_str().expect("a UTF-8 path");
    spawn(
        bin(),
        &["--log-format", "json", "serve", "--config", config],
        &env,
        log,
    )
}

/// Waits until the daemon on `port` is ready: its first scan completed (/readyz is 200).
pub fn wait_ready(port: u16) {
    wait_for(
        "the daemon's first scan (/readyz)",
        Duration::from_secs(120),
        || match http_get(port, "/readyz") {
            Ok((200, _)) => Some(()),
            _ => None,
        },
    );
}

/// Every timestamped report file (`report-*`) the daemon wrote in `dir`, parsed.
pub fn report_files(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_dir(dir)
        .expect("the report directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("report-"))
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a report file");
            serde_json::from_str(&text).expect("a report that parses")
        })
        .collect()
}

/// A program the tests need from the system (Debian's `prometheus` package, which `.ci/run`
/// installs); a missing one fails the test with how to get it, never skips it.
pub fn system_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: apt-get install prometheus (.ci/run does this)")
        })
}

/// Checks a file of OCSF events (a JSON array) against the vendored OCSF 1.1.0 schema source
/// (tests/ocsf-schema-1.1.0) with tests/tools/ocsf-validate; panics with its findings.
pub fn assert_valid_ocsf(events_file: &Path) {
    let check = Command::new(python())
        .arg(repo_root().join("tests/tools/ocsf-validate"))
        .arg(repo_root().join("tests/ocsf-schema-1.1.0"))
        .arg(events_file)
        .output()
        .expect("run tests/tools/ocsf-validate");
    assert!(
        check.status.success(),
        "OCSF events invalid for 1.1.0:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
