//! TLS and basic authentication of the HTTP endpoints, configured the way Prometheus
//! exporters are: a web config file in the exporter toolkit's format
//! (<https://prometheus.io/docs/prometheus/latest/configuration/https/>), so the file a
//! team already has for node_exporter works here.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert   # optional, with client_ca_file
//!   client_ca_file: ca.crt
//!   min_version: TLS12                              # or TLS13
//! basic_auth_users:
//!   prometheus: $2y$10$...                          # bcrypt hash (htpasswd -nBC 10 "")
//! ```
//!
//! Keys the toolkit has and we do not (cipher_suites, curve_preferences, http2, headers, ...)
//! are refused by name rather than ignored: a security setting that silently does nothing is
//! worse than an error. Passwords and their hashes are never logged or printed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

use crate::config::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebConfig {
    tls_server_config: Option<RawTls>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
    max_version: Option<String>,
}

/// A loaded web config: TLS (cert, key, client CA already parsed) and the users.
#[derive(Clone, Default)]
pub struct WebConfig {
    pub tls: Option<Arc<ServerConfig>>,
    pub auth: Option<Arc<BasicAuth>>,
    /// The files it was read from: the web config itself, its certificate, key and CA
    /// (watched by `serve`, which reloads when one changes).
    pub files: Vec<PathBuf>,
}

impl std::fmt::Debug for WebConfig {
    // Never the hashes: only what is on.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.auth.as_ref().map_or(0, |a| a.users.len()))
            .finish()
    }
}

/// 1-based line of the first line of `text` containing `needle` (the key an error is
/// about), else 1.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(1, |i| i + 1)
}

impl WebConfig {
    /// Reads and checks a web config file; relative paths in it are relative to the file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let display = path.display().to_string();
        let text =
            crate::fsutil::read_text(path).map_err(|e| ConfigError::unreadable(&display, e))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut web = Self::parse(&display, &text, base)?;
        web.files.insert(0, path.to_path_buf());
        Ok(web)
    }

    pub fn parse(origin: &str, text: &str, base: &Path) -> Result<Self, ConfigError> {
        let invalid = |key: &str, needle: &str, problem: String| ConfigError::Invalid {
            path: origin.to_string(),
            line: line_of(text, needle),
            key: key.to_string(),
            problem,
        };
        let raw: RawWebConfig = if text.trim().is_empty() {
            RawWebConfig {
                tls_server_config: None,
                basic_auth_users: None,
            }
        } else {
            yaml_serde::from_str(text).map_err(|e| {
                let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                ConfigError::Parse {
                    path: origin.to_string(),
                    line,
                    column,
                    message: e.to_string(),
                }
            })?
        };
        let mut files = Vec::new();
        if let Some(t) = &raw.tls_server_config {
            files.extend(
                [&t.cert_file, &t.key_file, &t.client_ca_file]
                    .into_iter()
                    .flatten()
                    .map(|p| base.join(p)),
            );
        }
        let tls = match raw.tls_server_config {
            None => None,
            Some(t) => Some(Arc::new(tls_config(t, base, &invalid)?)),
        };
        let auth = match raw.basic_auth_users {
            None => None,
            Some(users) if users.is_empty() => None,
            Some(users) => {
                for (user, hash) in &users {
                    if user.is_empty() || user.contains(':') {
                        return Err(invalid(
                            "basic_auth_users",
                            &format!("{user}:"),
                            format!("{user:?} is not a user name (empty, or has a colon)"),
                        ));
                    }
                    let Ok(parts) = hash.parse::<bcrypt::HashParts>() else {
                        return Err(invalid(
                            "basic_auth_users",
                            &format!("{user}:"),
                            format!(
                                "the password of {user:?} is not a bcrypt hash ($2y$...; make one with `htpasswd -nBC 10 {user}`)"
                            ),
                        ));
                    };
                    // Each check costs 2^cost rounds: $2y$31$ would hold a core for days
                    // (at start-up too: unknown users are checked against that cost).
                    if !(MIN_COST..=MAX_COST).contains(&parts.get_cost()) {
                        return Err(invalid(
                            "basic_auth_users",
                            &format!("{user}:"),
                            format!(
                                "the bcrypt cost of {user:?}'s hash is {}: it must be between {MIN_COST} and {MAX_COST} (10 to 12 is usual; `htpasswd -nBC 10 {user}`)",
                                parts.get_cost()
                            ),
                        ));
                    }
                }
                Some(Arc::new(BasicAuth::new(users)))
            }
        };
        Ok(Self { tls, auth, files })
    }
}

fn tls_config(
    raw: RawTls,
    base: &Path,
    invalid: &dyn Fn(&str, &str, String) -> ConfigError,
) -> Result<ServerConfig, ConfigError> {
    let path = |p: &Path| base.join(p);
    let (Some(cert_file), Some(key_file)) = (&raw.cert_file, &raw.key_file) else {
        return Err(invalid(
            "tls_server_config",
            "tls_server_config",
            "needs both cert_file and key_file".into(),
        ));
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path(cert_file))
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| {
            invalid(
                "tls_server_config.cert_file",
                "cert_file",
                format!("{}: {e}", cert_file.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(invalid(
            "tls_server_config.cert_file",
            "cert_file",
            format!("{}: no PEM certificate in it", cert_file.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(path(key_file)).map_err(|e| {
        // The key's content is never part of a message.
        invalid(
            "tls_server_config.key_file",
            "key_file",
            format!(
                "{}: no PEM private key could be read: {e}",
                key_file.display()
            ),
        )
    })?;
    let versions = protocol_versions(&raw, invalid)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| invalid("tls_server_config", "tls_server_config", e.to_string()))?;
    let builder = client_auth(&raw, provider, &path, invalid, builder)?;
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        invalid(
            "tls_server_config.key_file",
            "key_file",
            format!("the key does not go with the certificate: {e}"),
        )
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// `min_version`/`max_version`: TLS 1.2 and 1.3, older ones never offered.
fn protocol_versions(
    raw: &RawTls,
    invalid: &dyn Fn(&str, &str, String) -> ConfigError,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, ConfigError> {
    let version = |key: &str, v: Option<&str>| -> Result<Option<u8>, ConfigError> {
        match v {
            None => Ok(None),
            Some("TLS12") => Ok(Some(12)),
            Some("TLS13") => Ok(Some(13)),
            Some(other) => Err(invalid(
                &format!("tls_server_config.{key}"),
                key,
                format!("{other:?}: TLS12 or TLS13 (older versions are not offered)"),
            )),
        }
    };
    let min = version("min_version", raw.min_version.as_deref())?.unwrap_or(12);
    let max = version("max_version", raw.max_version.as_deref())?.unwrap_or(13);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)]
            .into_iter()
            .filter(|(v, _)| (min..=max).contains(v))
            .map(|(_, p)| p)
            .collect();
    if versions.is_empty() {
        return Err(invalid(
            "tls_server_config.min_version",
            "min_version",
            "min_version is above max_version".into(),
        ));
    }
    Ok(versions)
}

/// `client_auth_type` and `client_ca_file`: no client certificate, or one verified against
/// the CA file (required, or only when given).
fn client_auth(
    raw: &RawTls,
    provider: Arc<rustls::crypto::CryptoProvider>,
    path: &dyn Fn(&Path) -> PathBuf,
    invalid: &dyn Fn(&str, &str, String) -> ConfigError,
    builder: rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>,
) -> Result<rustls::ConfigBuilder<ServerConfig, rustls::server::WantsServerCert>, ConfigError> {
    let client_auth = raw.client_auth_type.as_deref().unwrap_or("NoClientCert");
    let builder = match client_auth {
        "NoClientCert" => builder.with_no_client_auth(),
        "RequireAndVerifyClientCert" | "VerifyClientCertIfGiven" => {
            let Some(ca_file) = &raw.client_ca_file else {
                return Err(invalid(
                    "tls_server_config.client_ca_file",
                    "client_auth_type",
                    format!("client_auth_type {client_auth} needs client_ca_file"),
                ));
            };
            let mut roots = RootCertStore::empty();
            let cas = CertificateDer::pem_file_iter(path(ca_file))
                .and_then(|c| c.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    invalid(
                        "tls_server_config.client_ca_file",
                        "client_ca_file",
                        format!("{}: {e}", ca_file.display()),
                    )
                })?;
            let (added, _) = roots.add_parsable_certificates(cas);
            if added == 0 {
                return Err(invalid(
                    "tls_server_config.client_ca_file",
                    "client_ca_file",
                    format!("{}: no CA certificate in it", ca_file.display()),
                ));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if client_auth == "VerifyClientCertIfGiven" {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier.build().map_err(|e| {
                invalid(
                    "tls_server_config.client_ca_file",
                    "client_ca_file",
                    e.to_string(),
                )
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        other => {
            return Err(invalid(
                "tls_server_config.client_auth_type",
                "client_auth_type",
                format!(
                    "{other:?} is not supported: NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
                ),
            ));
        }
    };
    Ok(builder)
}

/// The bcrypt costs a hash may have: bcrypt's least, and the most a check may cost
/// (2^14 rounds: about a second of one core; every cost above doubles it).
const MIN_COST: u32 = 4;
const MAX_COST: u32 = 14;

/// Why a reloaded web config was not applied: it needs a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// TLS turned on or off: the listener changes.
    TlsOnOff,
    /// Basic auth turned off (an empty or half-written file, `basic_auth_users: {}`):
    /// authentication fails closed and is removed only by a restart.
    AuthOff,
}

/// What the running server uses: replaced on SIGHUP, read per request (users) and per
/// connection (certificate), so a rotated certificate or a new user needs no restart.
#[derive(Default)]
pub struct WebState {
    tls: Mutex<Option<Arc<ServerConfig>>>,
    auth: Mutex<Option<Arc<BasicAuth>>>,
}

impl WebState {
    pub fn new(web: &WebConfig) -> Arc<Self> {
        Arc::new(Self {
            tls: Mutex::new(web.tls.clone()),
            auth: Mutex::new(web.auth.clone()),
        })
    }

    pub fn tls(&self) -> Option<Arc<ServerConfig>> {
        self.tls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn auth(&self) -> Option<Arc<BasicAuth>> {
        self.auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes a reloaded web config. Users, certificate, key and client CA apply at once;
    /// turning TLS on or off, or basic auth off, waits for a restart: then nothing is
    /// replaced and this says why.
    pub fn replace(&self, web: &WebConfig) -> Result<(), Refused> {
        let mut tls = self.tls.lock().unwrap_or_else(PoisonError::into_inner);
        let mut auth = self.auth.lock().unwrap_or_else(PoisonError::into_inner);
        if tls.is_some() != web.tls.is_some() {
            return Err(Refused::TlsOnOff);
        }
        if auth.is_some() && web.auth.is_none() {
            return Err(Refused::AuthOff);
        }
        *tls = web.tls.clone();
        *auth = web.auth.clone();
        Ok(())
    }
}

/// Users and their bcrypt hashes. A bcrypt check costs ~50 ms of CPU by design; a
/// successful (user, password) pair is remembered (by its SHA-256, never in clear) so
/// Prometheus' scrape every 15 s does not cost a core, as the exporter toolkit does.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    /// Checked when the user is unknown, so a wrong user name costs as long as a wrong
    /// password (no user enumeration by timing): a hash of the users' highest cost.
    dummy: String,
    /// Decisions remembered by (user, password, hash) digest, verified and rejected apart,
    /// so a flood of wrong guesses never evicts the right password. Remembering failures,
    /// as the exporter toolkit does, makes a client that repeats a wrong password cost one
    /// bcrypt check, not one per request.
    verified: Mutex<HashMap<[u8; 32], ()>>,
    rejected: Mutex<HashMap<[u8; 32], ()>>,
    /// bcrypt checks performed (cache misses).
    verifications: std::sync::atomic::AtomicU64,
}

const MAX_REMEMBERED: usize = 1024;

impl BasicAuth {
    fn new(users: BTreeMap<String, String>) -> Self {
        let cost = users
            .values()
            .filter_map(|h| h.parse::<bcrypt::HashParts>().ok())
            .map(|p| p.get_cost())
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST);
        let dummy = bcrypt::hash("no such user", cost)
            .or_else(|_| bcrypt::hash("no such user", bcrypt::DEFAULT_COST))
            .unwrap_or_default();
        Self {
            users,
            dummy,
            verified: Mutex::new(HashMap::new()),
            rejected: Mutex::new(HashMap::new()),
            verifications: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn key(user: &str, password: &str, hash: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        for part in [user, password, hash] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    /// How many users may sign in.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user and password of a `Basic` `Authorization` header.
    fn credentials(authorization: Option<&HeaderValue>) -> Option<(String, String)> {
        authorization
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b64| {
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .ok()
            })
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
    }

    /// The hash a user's password is checked against (the dummy for unknown users, so they
    /// cost as long), whether the user exists, and the decision cache key.
    fn lookup(&self, user: &str, password: &str) -> (&str, bool, [u8; 32]) {
        let (hash, known) = match self.users.get(user) {
            Some(h) => (h.as_str(), true),
            None => (self.dummy.as_str(), false),
        };
        (hash, known, Self::key(user, password, hash))
    }

    /// The decision for this header when it needs no bcrypt check: no credentials at all,
    /// or a (user, password) already verified or rejected.
    pub fn cached(&self, authorization: Option<&HeaderValue>) -> Option<bool> {
        let Some((user, password)) = Self::credentials(authorization) else {
            return Some(false);
        };
        let (_, _, key) = self.lookup(&user, &password);
        let remembered = |map: &Mutex<HashMap<[u8; 32], ()>>| {
            map.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains_key(&key)
        };
        if remembered(&self.verified) {
            Some(true)
        } else if remembered(&self.rejected) {
            Some(false)
        } else {
            None
        }
    }

    /// Whether the `Authorization` header names a user with the right password.
    pub fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        if let Some(decision) = self.cached(authorization) {
            return decision;
        }
        let Some((user, password)) = Self::credentials(authorization) else {
            return false;
        };
        let (hash, known, key) = self.lookup(&user, &password);
        self.verifications
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ok = bcrypt::verify(&password, hash).unwrap_or(false) && known;
        let map = if ok { &self.verified } else { &self.rejected };
        let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_REMEMBERED {
            map.clear();
        }
        map.insert(key, ());
        ok
    }

    /// bcrypt checks performed so far.
    pub fn verifications(&self) -> u64 {
        self.verifications
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// bcrypt checks running at once, across every connection: a flood of new credentials
/// queues here instead of taking every core (and the blocking pool) from the scans.
const CONCURRENT_VERIFICATIONS: usize = 2;

fn verifications() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(CONCURRENT_VERIFICATIONS))
}

/// Middleware: every endpoint needs a user of the web config (when it has users).
pub async fn require_user(
    State(web): State<Arc<WebState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(auth) = web.auth() else {
        return next.run(request).await;
    };
    let header = request.headers().get(header::AUTHORIZATION).cloned();
    let allowed = match auth.cached(header.as_ref()) {
        Some(decision) => decision,
        None => {
            // bcrypt is CPU work: a few at a time, off the async threads.
            let Ok(_permit) = verifications().acquire().await else {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            tokio::task::spawn_blocking(move || auth.allows(header.as_ref()))
                .await
                .unwrap_or(false)
        }
    };
    if allowed {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"sagemaker-auditor\", charset=\"UTF-8\"",
            )],
            "unauthorized\n",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, ConfigError> {
        WebConfig::parse("web.yml", text, Path::new("."))
    }

    #[test]
    fn users_need_bcrypt_hashes_and_errors_name_the_line_not_the_secret() {
        let err = parse("basic_auth_users:\n  alice: hunter2\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("web.yml:2: `basic_auth_users`"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = parse("basic_auth_user:\n  alice: x\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("web.yml:1:"), "{err}");
        let err = parse("tls_server_config:\n  cert_file: a.crt\n  cipher_suites: [X]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cipher_suites"), "{err}");
        let err = parse("tls_server_config:\n  cert_file: a.crt\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs both cert_file and key_file"), "{err}");
        let web = parse("").unwrap();
        assert!(web.tls.is_none() && web.auth.is_none());
    }

    /// A hash whose cost would hold a core for days is refused when the file is read (it
    /// is never checked, not even against the dummy hash of unknown users).
    #[test]
    fn bcrypt_costs_outside_the_usable_range_are_refused() {
        let err = parse("basic_auth_users:\n  prom: $2y$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("web.yml:2: `basic_auth_users`"), "{err}");
        assert!(err.contains("cost") && err.contains("31"), "{err}");
        let ok = bcrypt::hash("s3cret", 4).unwrap();
        assert!(parse(&format!("basic_auth_users:\n  prom: {ok}\n")).is_ok());
    }

    /// A client repeating wrong credentials costs one bcrypt check, not one per request
    /// (200 requests with the same wrong password, 200 with an unknown user: 2 checks); the
    /// right password still verifies; new wrong passwords each cost one.
    #[test]
    fn wrong_credentials_are_remembered_too() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let auth = BasicAuth::new([("prom".to_string(), hash)].into());
        let header = |user: &str, password: &str| {
            let value =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            HeaderValue::from_str(&format!("Basic {value}")).unwrap()
        };
        for _ in 0..200 {
            assert!(!auth.allows(Some(&header("prom", "guess"))));
            assert!(!auth.allows(Some(&header("mallory", "guess"))));
        }
        assert_eq!(auth.verifications(), 2);
        assert_eq!(auth.cached(Some(&header("prom", "guess"))), Some(false));
        assert_eq!(auth.cached(Some(&header("prom", "s3cret"))), None);
        assert!(auth.allows(Some(&header("prom", "s3cret"))));
        assert_eq!(auth.cached(Some(&header("prom", "s3cret"))), Some(true));
        assert!(!auth.allows(Some(&header("prom", "other"))));
        assert_eq!(auth.verifications(), 4);
        assert_eq!(
            auth.cached(None),
            Some(false),
            "no credentials: no check at all"
        );
        // A flood of distinct wrong guesses never evicts the right password.
        for i in 0..2 * MAX_REMEMBERED {
            auth.rejected
                .lock()
                .unwrap()
                .insert(BasicAuth::key("prom", &i.to_string(), "x"), ());
        }
        assert!(!auth.allows(Some(&header("prom", "yet another"))));
        assert_eq!(auth.cached(Some(&header("prom", "s3cret"))), Some(true));
    }

    /// A reload never turns authentication off (an empty or half-written web.yml, no
    /// users): the running users stay until a restart; new users do apply.
    #[test]
    fn a_reload_that_turns_auth_off_is_refused() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let with = parse(&format!("basic_auth_users:\n  prom: {hash}\n")).unwrap();
        let state = WebState::new(&with);
        for off in ["", "basic_auth_users: {}\n", "basic_auth_users:\n"] {
            assert_eq!(
                state.replace(&parse(off).unwrap()),
                Err(Refused::AuthOff),
                "{off:?}"
            );
            assert!(state.auth().is_some(), "{off:?}");
        }
        let other = bcrypt::hash("other", 4).unwrap();
        let more = parse(&format!(
            "basic_auth_users:\n  prom: {hash}\n  ops: {other}\n"
        ))
        .unwrap();
        assert_eq!(state.replace(&more), Ok(()));
        assert_eq!(state.auth().unwrap().users.len(), 2);
        // Turning auth on needs no restart.
        let open = WebState::new(&parse("").unwrap());
        assert_eq!(open.replace(&with), Ok(()));
        assert!(open.auth().is_some());
    }

    #[test]
    fn basic_auth_accepts_the_right_password_only() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let auth = BasicAuth::new([("prom".to_string(), hash.clone())].into());
        let header = |user: &str, password: &str| {
            let value =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            HeaderValue::from_str(&format!("Basic {value}")).unwrap()
        };
        assert!(auth.allows(Some(&header("prom", "s3cret"))));
        assert!(auth.allows(Some(&header("prom", "s3cret"))), "remembered");
        assert_eq!(auth.verifications(), 1);
        assert!(!auth.allows(Some(&header("prom", "wrong"))));
        assert!(!auth.allows(Some(&header("other", "s3cret"))));
        assert!(!auth.allows(Some(&HeaderValue::from_static("Bearer x"))));
        assert!(!auth.allows(Some(&HeaderValue::from_static("Basic !!!"))));
        assert!(!auth.allows(None));
        // The Debug form of a config with users says how many, never the hashes.
        let web = WebConfig {
            tls: None,
            auth: Some(Arc::new(auth)),
            files: Vec::new(),
        };
        let shown = format!("{web:?}");
        assert!(
            shown.contains("users: 1") && !shown.contains(&hash),
            "{shown}"
        );
        // Unknown users are checked against a real hash of the users' cost (same time).
        let auth = BasicAuth::new([("prom".to_string(), hash)].into());
        assert_eq!(
            auth.dummy.parse::<bcrypt::HashParts>().unwrap().get_cost(),
            4
        );
    }
}
