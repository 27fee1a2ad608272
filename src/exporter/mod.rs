//! What `serve` publishes: Prometheus metrics and the latest report, over HTTP.

pub mod http;
pub mod metrics;
pub mod server;
pub mod web;

use std::sync::{Arc, PoisonError, RwLock};

use crate::report::Report;

pub use metrics::Metrics;

/// The latest completed scan's report, with its JSON rendered once for unfiltered reads.
pub struct Latest {
    pub report: Report,
    pub json: String,
}

/// State shared by the scan worker (writer) and the HTTP handlers (readers).
#[derive(Default)]
pub struct Exporter {
    pub metrics: Metrics,
    latest: RwLock<Option<Arc<Latest>>>,
}

impl Exporter {
    pub fn publish(&self, report: Report) {
        let json = report.to_json();
        let latest = Arc::new(Latest { report, json });
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
