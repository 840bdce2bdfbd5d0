//! Telemetry intake over HTTP, in the shapes shippers already speak:
//! Vigil's own (`/api/v1/ingest/events`), Elasticsearch's bulk API
//! (`/api/v1/ingest/_bulk`, so Winlogbeat, Elastic Agent, Vector and Fluent
//! Bit ship as to Elasticsearch) and Splunk's HTTP Event Collector
//! (`/services/collector/event` and `/raw`). Every route takes a tenant's
//! ingest key and nothing else.

mod body;
pub(crate) mod bulk;
pub(crate) mod events;
pub(crate) mod hec;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::AppState;

pub use body::MAX_INGEST_BODY_BYTES;

/// The intake routes, with their own (larger) body limit.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ingest/events", post(events::ingest))
        .route("/api/v1/ingest", get(bulk::info).head(bulk::info_head))
        .route("/api/v1/ingest/", get(bulk::info).head(bulk::info_head))
        .route("/api/v1/ingest/_bulk", post(bulk::ingest))
        .route("/api/v1/ingest/{index}/_bulk", post(bulk::ingest_index))
        .route("/services/collector/event", post(hec::event))
        .route("/services/collector/event/1.0", post(hec::event))
        .route("/services/collector", post(hec::event))
        .route("/services/collector/raw", post(hec::raw))
        .route("/services/collector/raw/1.0", post(hec::raw))
        .route("/services/collector/health", get(hec::health))
        .layer(DefaultBodyLimit::max(MAX_INGEST_BODY_BYTES))
}
