//! What `serve` publishes: Prometheus metrics and the latest report, over HTTP.

pub mod http;
pub mod metrics;
pub mod server;
pub mod web;

use std::ops::Range;
use std::sync::{Arc, PoisonError, RwLock};

use axum::body::Bytes;

use crate::report::Report;

pub use metrics::Metrics;

/// The latest completed scan's report, rendered once when it is published: every read of
/// `/api/findings` shares that text (`Bytes`), and a filtered read is the text around the
/// findings array plus the slices of the findings it keeps, never a copy of the report
/// serialised again.
pub struct Latest {
    pub report: Report,
    /// [`Report::to_json`] of the report.
    pub json: Bytes,
    /// Where each finding's text is in `json` (in `report.findings` order) and where the
    /// findings array is; `None` when the text could not be cut so (then filtered reads
    /// serialise a filtered copy).
    layout: Option<Layout>,
    /// What the daemon's page shows beside the report: the domain graph and the history.
    view: Option<View>,
    /// The page, rendered at its first request and shared by the later ones.
    page: std::sync::OnceLock<RenderedPage>,
}

/// What `GET /` shows beyond the report.
pub struct View {
    pub graph: crate::report::graph::Graph,
    pub timeline: crate::report::history::Timeline,
}

/// The daemon's page of one report: the HTML, and where in it the `<base>` of a path prefix
/// goes (see [`crate::report::html::BASE_SLOT`]).
pub struct RenderedPage {
    pub html: Bytes,
    pub base_at: usize,
}

struct Layout {
    findings: Vec<Range<usize>>,
    array: Range<usize>,
}

/// The top-level key of the findings in [`Report::to_json`] (two spaces: nested keys have
/// more), with the array empty.
const EMPTY_FINDINGS: &str = "\n  \"findings\": []";

impl Latest {
    pub fn new(mut report: Report) -> Self {
        let findings = std::mem::take(&mut report.findings);
        let frame = report.to_json();
        report.findings = findings;
        let mut at = frame.match_indices(EMPTY_FINDINGS).map(|(i, _)| i);
        let (Some(i), None) = (at.next(), at.next()) else {
            return Self {
                json: Bytes::from(report.to_json()),
                report,
                layout: None,
                view: None,
                page: Default::default(),
            };
        };
        let open = i + EMPTY_FINDINGS.len() - 2;
        let mut out = String::with_capacity(frame.len() + report.findings.len() * 1024);
        out.push_str(&frame[..open]);
        let array_start = out.len();
        let mut ranges = Vec::with_capacity(report.findings.len());
        if report.findings.is_empty() {
            out.push_str("[]");
        } else {
            out.push_str("[\n");
            for (n, f) in report.findings.iter().enumerate() {
                if n > 0 {
                    out.push_str(",\n");
                }
                let start = out.len();
                let text = serde_json::to_string_pretty(f).unwrap_or_default();
                // Two levels deeper than on its own; strings never hold a raw newline.
                for (l, line) in text.split('\n').enumerate() {
                    if l > 0 {
                        out.push('\n');
                    }
                    out.push_str("    ");
                    out.push_str(line);
                }
                ranges.push(start..out.len());
            }
            out.push_str("\n  ]");
        }
        let array = array_start..out.len();
        out.push_str(&frame[open + 2..]);
        Self {
            json: Bytes::from(out),
            report,
            layout: Some(Layout {
                findings: ranges,
                array,
            }),
            view: None,
            page: Default::default(),
        }
    }

    /// The daemon's page of this report, rendered once (a blocking call: it may take a
    /// while for a large account).
    pub fn page(&self) -> &RenderedPage {
        self.page.get_or_init(|| {
            let text = crate::report::html::render(
                &self.report,
                crate::report::html::Page {
                    graph: self.view.as_ref().map(|v| &v.graph),
                    timeline: self.view.as_ref().map(|v| &v.timeline),
                    daemon: true,
                },
            );
            let slot = crate::report::html::BASE_SLOT;
            let mut text = text;
            // The slot is in every daemon page's head; the text is cut around it.
            let base_at = match text.find(slot) {
                Some(at) => {
                    text.replace_range(at..at + slot.len(), "");
                    at
                }
                None => 0,
            };
            RenderedPage {
                html: Bytes::from(text),
                base_at,
            }
        })
    }

    /// The report's JSON with only the findings `keep` accepts (the summary and everything
    /// else unchanged): the same text as `to_json` of a report with only those findings.
    pub fn filtered(&self, keep: impl Fn(&crate::report::Finding) -> bool) -> Bytes {
        let Some(layout) = &self.layout else {
            let mut report = self.report.clone();
            report.findings.retain(|f| keep(f));
            return Bytes::from(report.to_json());
        };
        let json = &self.json[..];
        let kept: Vec<&Range<usize>> = self
            .report
            .findings
            .iter()
            .zip(&layout.findings)
            .filter(|(f, _)| keep(f))
            .map(|(_, r)| r)
            .collect();
        if kept.len() == layout.findings.len() {
            return self.json.clone();
        }
        let size =
            kept.iter().map(|r| r.len() + 2).sum::<usize>() + json.len() - layout.array.len() + 8;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&json[..layout.array.start]);
        if kept.is_empty() {
            out.extend_from_slice(b"[]");
        } else {
            out.extend_from_slice(b"[\n");
            for (n, r) in kept.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b",\n");
                }
                out.extend_from_slice(&json[(*r).clone()]);
            }
            out.extend_from_slice(b"\n  ]");
        }
        out.extend_from_slice(&json[layout.array.end..]);
        Bytes::from(out)
    }
}

/// State shared by the scan worker (writer) and the HTTP handlers (readers).
#[derive(Default)]
pub struct Exporter {
    pub metrics: Metrics,
    latest: RwLock<Option<Arc<Latest>>>,
}

impl Exporter {
    pub fn publish(&self, report: Report) {
        self.publish_with(report, None);
    }

    /// Publishes a report with what the daemon's page shows beside it.
    pub fn publish_with(&self, report: Report, view: Option<View>) {
        let mut latest = Latest::new(report);
        latest.view = view;
        let latest = Arc::new(latest);
        *self.latest.write().unwrap_or_else(PoisonError::into_inner) = Some(latest);
    }

    /// The latest report; `None` until a first scan completed.
    pub fn latest(&self) -> Option<Arc<Latest>> {
        self.latest
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use crate::report::test_fixtures::{finding, report};

    /// The cut text is exactly what serialising a filtered copy gives, whatever is kept.
    #[test]
    fn filtered_reads_are_the_filtered_reports_json() {
        let mut findings = Vec::new();
        for (i, status) in [Status::Fail, Status::Pass, Status::Muted, Status::Fail]
            .into_iter()
            .enumerate()
        {
            let mut f = finding(
                "domain_public_internet_access",
                "domain",
                &format!("arn:aws:sagemaker:us-east-1:123456789012:domain/d-{i}"),
                status,
            );
            // Text that looks like the layout's markers, inside strings.
            f.message = "line one\nline two \n  \"findings\": [] {\"x\": 1}".into();
            findings.push(f);
        }
        let full = report("2026-11-28T12:00:00Z".parse().unwrap(), findings);
        let latest = Latest::new(full.clone());
        assert!(latest.layout.is_some());
        assert_eq!(&latest.json[..], full.to_json().as_bytes());
        type Keep = fn(&crate::report::Finding) -> bool;
        let cases: [(&str, Keep); 4] = [
            ("fail", |f| f.status == Status::Fail),
            ("none", |_| false),
            ("all", |_| true),
            ("last", |f| f.resource_arn.ends_with("d-3")),
        ];
        for (name, keep) in cases {
            let mut copy = full.clone();
            copy.findings.retain(keep);
            let got = latest.filtered(keep);
            assert_eq!(std::str::from_utf8(&got).unwrap(), copy.to_json(), "{name}");
        }
        let empty = Latest::new(report("2026-11-28T12:00:00Z".parse().unwrap(), vec![]));
        assert_eq!(
            &empty.json[..],
            report("2026-11-28T12:00:00Z".parse().unwrap(), vec![])
                .to_json()
                .as_bytes()
        );
    }
}
