//! `/` (the HTML page of the latest report), `/metrics`, `/healthz`, `/readyz` and
//! `/api/findings`; each also under `[serve] external_url`'s path, when it has one.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::exporter::Exporter;
use crate::report::Status;
use crate::vocab::Severity;

/// The endpoints, at the root and, when `prefix` (the path of `[serve] external_url`, without
/// a trailing slash) is not empty, under it too: a proxy may pass the prefix on or strip it.
pub fn router(exporter: Arc<Exporter>, prefix: &str) -> Router {
    let prefix: Arc<str> = prefix.into();
    let mut router = Router::new();
    let mut at_paths = vec![""];
    if !prefix.is_empty() {
        at_paths.push(&*prefix);
    }
    for at in at_paths {
        router = router
            .route(&format!("{at}/"), get(page))
            .route(&format!("{at}/metrics"), get(metrics))
            .route(&format!("{at}/healthz"), get(healthz))
            .route(&format!("{at}/readyz"), get(readyz))
            .route(&format!("{at}/api/findings"), get(findings));
    }
    if !prefix.is_empty() {
        // The bare prefix leads to the page under it, so that its relative links resolve.
        // (Not `/`: a proxy that strips the prefix sends `/`, and a redirect would loop.)
        let to = format!("{prefix}/");
        router = router.route(&prefix, get(move || async move { Redirect::to(&to) }));
    }
    router.with_state(Routes { exporter, prefix })
}

#[derive(Clone)]
struct Routes {
    exporter: Arc<Exporter>,
    /// `[serve] external_url`'s path; empty when none.
    prefix: Arc<str>,
}

impl axum::extract::FromRef<Routes> for Arc<Exporter> {
    fn from_ref(routes: &Routes) -> Self {
        routes.exporter.clone()
    }
}

/// The path of an external URL (`https://example.com/auditor/` → `/auditor`, `/` → ``), or
/// why it is none: an absolute http(s) URL or a path, whose path is plain (letters, digits,
/// `-._~` and `/`: it goes into the page's `<base>`).
pub fn external_prefix(url: &str) -> Result<String, String> {
    let path = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    {
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() || host.contains(['?', '#']) {
            return Err(format!("{url:?} has no host, or a query or fragment"));
        }
        if path.is_empty() {
            return Ok(String::new());
        }
        path
    } else if url.starts_with('/') {
        url
    } else {
        return Err(format!(
            "{url:?} is neither an http(s) URL nor a path starting with /"
        ));
    };
    clean_prefix(path).ok_or_else(|| {
        format!(
            "the path of {url:?} may hold only letters, digits, '-', '.', '_', '~' and '/' (no query, fragment or '..')"
        )
    })
}

/// A path prefix without its trailing slashes, if it is plain: absolute, made of letters,
/// digits and `-._~/`, no `..` and no `//` (which a browser reads as another host).
fn clean_prefix(path: &str) -> Option<String> {
    let plain = path.starts_with('/')
        && path.len() <= 256
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
        && !path.contains("//")
        && !path.split('/').any(|seg| seg == "..");
    plain.then(|| path.trim_end_matches('/').to_string())
}

/// The page of the latest report, with the history panel. Same authentication as every
/// endpoint; a Content-Security-Policy that allows only the page's own inline style and
/// script; no caching (it lists every weak spot of the accounts).
async fn page(State(routes): State<Routes>, headers: axum::http::HeaderMap) -> Response {
    // The page's own policy, and no framing (which a `<meta>` policy cannot say).
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let csp: &'static str = CSP.get_or_init(|| {
        format!(
            "{}; frame-ancestors 'none'",
            crate::report::html::content_security_policy()
        )
    });
    let base = if !routes.prefix.is_empty() {
        Some(routes.prefix.to_string())
    } else {
        headers
            .get("x-forwarded-prefix")
            .and_then(|v| v.to_str().ok())
            .and_then(clean_prefix)
    };
    let headers = || {
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (header::VARY, "x-forwarded-prefix"),
        ]
    };
    let Some(latest) = routes.exporter.latest() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            headers(),
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>SageMaker audit</title></head><body><h1>SageMaker audit</h1><p>No scan has completed yet; this page shows the latest report once one has.</p></body></html>\n",
        )
            .into_response();
    };
    // Rendered once per report, off the async threads (a large account's page takes a while).
    let rendered = tokio::task::spawn_blocking(move || {
        let page = latest.page();
        (page.html.clone(), page.base_at)
    })
    .await;
    let Ok((html, at)) = rendered else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response();
    };
    let base = base
        .map(|p| format!("<base href=\"{}/\">\n", crate::report::html::esc(&p)))
        .unwrap_or_default();
    let parts = [html.slice(..at), Bytes::from(base), html.slice(at..)];
    let length = parts.iter().map(Bytes::len).sum::<usize>();
    let stream = futures::stream::iter(parts.map(Ok::<_, std::convert::Infallible>));
    let mut response = (StatusCode::OK, headers(), Body::from_stream(stream)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, length.into());
    response
}

async fn metrics(State(exporter): State<Arc<Exporter>>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        exporter.metrics.render(),
    )
        .into_response()
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once a first scan has completed: before that there is no report and the gauges
/// are empty.
async fn readyz(State(exporter): State<Arc<Exporter>>) -> Response {
    if exporter.latest().is_some() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no scan has completed yet\n",
        )
            .into_response()
    }
}

/// Filters of `/api/findings`: each a comma-separated list, case-insensitive.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingsQuery {
    status: Option<String>,
    severity: Option<String>,
    check_id: Option<String>,
}

fn json_error(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": message }).to_string(),
    )
        .into_response()
}

/// The most distinct values one filter takes; more is a 400 (a filter is a choice among the
/// catalogue's checks, severities and statuses, not a list of thousands).
pub const MAX_FILTER_VALUES: usize = 100;

fn parse_list<T: PartialEq>(
    name: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<Vec<T>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for v in value.split(',') {
        let parsed = parse(&v.trim().to_ascii_lowercase()).ok_or_else(|| {
            format!("{name}={v:?}: expected one or more of {allowed}, comma-separated")
        })?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(Some(out))
}

/// `?check_id=`: distinct ids, at most [`MAX_FILTER_VALUES`].
fn check_id_list(value: Option<&str>) -> Result<Option<std::collections::HashSet<String>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut ids = std::collections::HashSet::new();
    for id in value.split(',').map(str::trim) {
        ids.insert(id.to_string());
        if ids.len() > MAX_FILTER_VALUES {
            return Err(format!(
                "check_id: at most {MAX_FILTER_VALUES} distinct values, comma-separated"
            ));
        }
    }
    Ok(Some(ids))
}

/// The latest report (with `history`), its `findings` filtered by
/// `?status=`, `?severity=` and `?check_id=`; the summary stays the whole scan's.
async fn findings(
    State(exporter): State<Arc<Exporter>>,
    query: Result<Query<FindingsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("{e} (known parameters: status, severity, check_id)"),
            );
        }
    };
    let Some(latest) = exporter.latest() else {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no scan has completed yet".into(),
        );
    };
    let statuses = match parse_list(
        "status",
        query.status.as_deref(),
        Status::parse,
        "pass, fail, muted, error",
    ) {
        Ok(s) => s,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, message),
    };
    let severities = match parse_list(
        "severity",
        query.severity.as_deref(),
        Severity::parse,
        "critical, high, medium, low, info",
    ) {
        Ok(s) => s,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, message),
    };
    let check_ids = match check_id_list(query.check_id.as_deref()) {
        Ok(c) => c,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, message),
    };
    let body = if statuses.is_none() && severities.is_none() && check_ids.is_none() {
        // Shared: no copy of the report per request.
        latest.json.clone()
    } else {
        // A pass over every finding and a copy of the kept ones' text: off the async
        // threads, so /metrics and /healthz answer while large reports are filtered.
        let filtered = tokio::task::spawn_blocking(move || {
            latest.filtered(|f| {
                statuses.as_ref().is_none_or(|s| s.contains(&f.status))
                    && severities.as_ref().is_none_or(|s| s.contains(&f.severity))
                    && check_ids
                        .as_ref()
                        .is_none_or(|c| c.contains(f.check_id.as_str()))
            })
        })
        .await;
        match filtered {
            Ok(body) => body,
            Err(e) => {
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("filtering failed: {e}"),
                );
            }
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{finding, report};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One HTTP/1.0 GET over a fresh connection: (status, body).
    async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<u8>) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: t\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let status = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
        (status, out[head_end + 4..].to_vec())
    }

    /// One raw HTTP/1.0 exchange: the whole answer, head and body.
    async fn exchange(addr: std::net::SocketAddr, head: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("{head}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    async fn start(exporter: Arc<Exporter>, prefix: &str) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(exporter, prefix);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    #[test]
    fn external_urls_give_plain_prefixes_or_a_reason() {
        for (url, prefix) in [
            ("https://audit.example.com/auditor/", "/auditor"),
            ("http://10.0.0.1:9464", ""),
            ("/", ""),
            ("/a/b-c_d.e~f", "/a/b-c_d.e~f"),
        ] {
            assert_eq!(external_prefix(url).as_deref(), Ok(prefix), "{url}");
        }
        for url in [
            "ftp://example.com/x",
            "auditor",
            "https://",
            "https://h/a?b=1",
            "https://h/a#x",
            "https://h?x=1",
            "https://h/../x",
            "https://h//evil.example",
            "/a\"><script>",
        ] {
            assert!(external_prefix(url).is_err(), "{url}");
        }
    }

    /// `/`: 503 before a scan, then the page with its security headers; a `<base>` from
    /// `X-Forwarded-Prefix` only when it is a plain path; under a configured prefix the
    /// endpoints answer at both places and the bare prefix redirects.
    #[tokio::test]
    async fn the_page_is_served_with_its_policy_and_prefix() {
        let exporter = Arc::new(Exporter::default());
        let addr = start(exporter.clone(), "").await;
        let answer = exchange(addr, "GET / HTTP/1.0").await;
        assert!(answer.starts_with("HTTP/1.0 503"), "{answer}");
        assert!(answer.contains("content-security-policy: default-src 'none'"));
        exporter.publish(report("2026-11-28T12:00:00Z".parse().unwrap(), vec![]));
        let answer = exchange(addr, "GET / HTTP/1.0").await;
        assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        for header in [
            "content-type: text/html; charset=utf-8",
            "cache-control: no-store",
            "x-content-type-options: nosniff",
            "referrer-policy: no-referrer",
        ] {
            assert!(head.contains(header), "{header}: {head}");
        }
        let csp = head
            .lines()
            .find_map(|l| l.strip_prefix("content-security-policy: "))
            .unwrap();
        assert_eq!(
            csp,
            format!(
                "{}; frame-ancestors 'none'",
                crate::report::html::content_security_policy()
            )
        );
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(body.starts_with("<!DOCTYPE html>") && !body.contains("<base"));
        assert!(!body.contains(crate::report::html::BASE_SLOT));

        let answer = exchange(addr, "GET / HTTP/1.0\r\nX-Forwarded-Prefix: /team/audit/").await;
        assert!(answer.contains("<base href=\"/team/audit/\">"), "{answer}");
        let base_at = answer.find("<base").unwrap();
        assert!(base_at < answer.find("<title>").unwrap());
        for hostile in [
            "//evil.example",
            "/x\"><script>alert(1)</script>",
            "https://evil.example/",
        ] {
            let answer = exchange(
                addr,
                &format!("GET / HTTP/1.0\r\nX-Forwarded-Prefix: {hostile}"),
            )
            .await;
            assert!(answer.starts_with("HTTP/1.0 200"));
            assert!(!answer.contains("<base"), "{hostile}");
        }

        let prefixed = start(exporter.clone(), "/auditor").await;
        let answer = exchange(
            prefixed,
            "GET /auditor/ HTTP/1.0\r\nX-Forwarded-Prefix: /other",
        )
        .await;
        assert!(
            answer.contains("<base href=\"/auditor/\">"),
            "the configured prefix wins"
        );
        let answer = exchange(prefixed, "GET / HTTP/1.0").await;
        assert!(
            answer.contains("<base href=\"/auditor/\">"),
            "a proxy that strips it"
        );
        let answer = exchange(prefixed, "GET /auditor HTTP/1.0").await;
        assert!(answer.starts_with("HTTP/1.0 303"), "{answer}");
        assert!(answer.contains("location: /auditor/"), "{answer}");
        for path in [
            "/auditor/healthz",
            "/healthz",
            "/auditor/api/findings",
            "/auditor/metrics",
        ] {
            let answer = exchange(prefixed, &format!("GET {path} HTTP/1.0")).await;
            assert!(answer.starts_with("HTTP/1.0 200"), "{path}: {answer}");
        }
    }

    /// An 80,000-finding report: four filtered reads and four with thousands of check ids at
    /// once; the first get the same text as a filtered copy, the others a 400 naming the cap,
    /// and /healthz answers among them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_report_is_filtered_from_shared_text_and_floods_are_refused() {
        let findings: Vec<_> = (0..80_000)
            .map(|i| {
                let status = if i % 4 == 0 {
                    Status::Fail
                } else {
                    Status::Pass
                };
                let arn = format!(
                    "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/u{i}/jupyterserver/default"
                );
                let mut f = finding("app_long_running", "app", &arn, status);
                if i % 3 == 0 {
                    f.check_id = "space_unhealthy".into();
                }
                f
            })
            .collect();
        let full = report("2026-11-28T12:00:00Z".parse().unwrap(), findings);
        let mut fails = full.clone();
        fails.findings.retain(|f| f.status == Status::Fail);
        let expected = fails.to_json();
        let exporter = Arc::new(Exporter::default());
        exporter.publish(full);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router(exporter, "")).await.unwrap();
        });
        let many: String = (0..5000)
            .map(|i| format!("check_{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let flood = format!("/api/findings?check_id={many}");
        let mut tasks = Vec::new();
        for _ in 0..4 {
            tasks.push(tokio::spawn(get(addr, "/api/findings?status=fail")));
            let flood = flood.clone();
            tasks.push(tokio::spawn(async move { get(addr, &flood).await }));
        }
        let (status, body) = get(addr, "/healthz").await;
        assert_eq!((status, &body[..]), (200, &b"ok\n"[..]));
        for (n, task) in tasks.into_iter().enumerate() {
            let (status, body) = task.await.unwrap();
            let body = String::from_utf8(body).unwrap();
            if n % 2 == 0 {
                assert_eq!(status, 200);
                assert!(body == expected, "filtered read {n} differs");
            } else {
                assert_eq!(status, 400, "{body}");
                assert!(body.contains("at most 100 distinct values"), "{body}");
            }
        }
        // Repeated values count once.
        let repeated = format!(
            "/api/findings?check_id={}",
            vec!["space_unhealthy"; 500].join(",")
        );
        let (status, body) = get(addr, &repeated).await;
        assert_eq!(status, 200);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let n = parsed["findings"].as_array().unwrap().len();
        assert_eq!(n, (0..80_000).filter(|i| i % 3 == 0).count());
    }
}
