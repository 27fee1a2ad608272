//! `/metrics`, `/healthz`, `/readyz` and `/api/findings`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::exporter::Exporter;
use crate::report::Status;
use crate::vocab::Severity;

pub fn router(exporter: Arc<Exporter>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/findings", get(findings))
        .with_state(exporter)
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
                    && check_ids.as_ref().is_none_or(|c| c.contains(&f.check_id))
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
            axum::serve(listener, router(exporter)).await.unwrap();
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
