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

fn parse_list<T>(
    name: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<Vec<T>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    value
        .split(',')
        .map(|v| {
            parse(&v.trim().to_ascii_lowercase()).ok_or_else(|| {
                format!("{name}={v:?}: expected one or more of {allowed}, comma-separated")
            })
        })
        .collect::<Result<Vec<T>, String>>()
        .map(Some)
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
        |s| match s {
            "pass" => Some(Status::Pass),
            "fail" => Some(Status::Fail),
            "muted" => Some(Status::Muted),
            "error" => Some(Status::Error),
            _ => None,
        },
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
    let check_ids: Option<Vec<&str>> = query
        .check_id
        .as_deref()
        .map(|c| c.split(',').map(str::trim).collect());
    let body = if statuses.is_none() && severities.is_none() && check_ids.is_none() {
        latest.json.clone()
    } else {
        let mut report = latest.report.clone();
        report.findings.retain(|f| {
            statuses.as_ref().is_none_or(|s| s.contains(&f.status))
                && severities.as_ref().is_none_or(|s| s.contains(&f.severity))
                && check_ids
                    .as_ref()
                    .is_none_or(|c| c.contains(&f.check_id.as_str()))
        });
        report.to_json()
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
