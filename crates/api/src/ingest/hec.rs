//! Splunk's HTTP Event Collector: `POST /services/collector/event` (a
//! stream of `{"event":…,"time":…}` objects) and `/raw` (one event per
//! line), with `Authorization: Splunk <ingest key>`. Answers as Splunk
//! does: `{"text":"Success","code":0}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use vigil_core::telemetry::NewDeadLetter;
use vigil_formats::bodies::{HecItem, hec_items};
use vigil_service::Record;

use super::body::{open, record, records, store};
use crate::AppState;
use crate::error::ApiError;

/// Errors in Splunk's shape (shippers read `code`), with the right status.
fn hec_error(e: ApiError) -> Response {
    let code = match e.status {
        StatusCode::UNAUTHORIZED => 3,
        StatusCode::FORBIDDEN => 4,
        StatusCode::BAD_REQUEST => 6,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => 9,
        _ => 8,
    };
    let retry = e.retry_after;
    let mut r = (e.status, Json(json!({"text": e.message, "code": code}))).into_response();
    if let Some(secs) = retry
        && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    r
}

/// The events of an HEC body (`vigil_formats::bodies::hec_items`): records,
/// and the broken ones as dead letters.
fn events(body: &[u8]) -> (Vec<Record>, Vec<NewDeadLetter>) {
    let mut records = Vec::new();
    let mut broken = Vec::new();
    for item in hec_items(body) {
        match item {
            HecItem::Record(r) => records.push(record(r)),
            HecItem::Broken { reason, bytes } => {
                broken.push(NewDeadLetter::new("api:hec", reason, &bytes));
            }
        }
    }
    (records, broken)
}

async fn ingest(
    s: AppState,
    headers: HeaderMap,
    body: Bytes,
    raw: bool,
) -> Result<Value, ApiError> {
    let (p, key, body) = open(&s, &headers, body).await?;
    let (records, broken) = if raw {
        (records(&body)?, Vec::new())
    } else {
        events(&body)
    };
    let outcome = store(&s, &p, "api:hec", records, broken, key).await?;
    let c = outcome.counts;
    Ok(json!({
        "text": "Success",
        "code": 0,
        "accepted": c.accepted,
        "rejected": c.rejected,
        "dead_lettered": c.dead_lettered,
    }))
}

/// `POST /services/collector/event`
#[utoipa::path(post, path = "/services/collector/event", tag = "intake", operation_id = "ingest_hec_event",
    request_body(content = String, description = "Splunk HEC events: `{\"event\":{…},\"time\":…}` objects, concatenated; gzip accepted", content_type = "application/json"),
    responses((status = 200, description = "`{\"text\":\"Success\",\"code\":0,…}`", body = serde_json::Value),
               (status = 401, description = "No valid ingest key (`Authorization: Splunk <key>`)"),
               (status = 429, description = "Detection is behind; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
               (status = 503, description = "The event bus (NATS, when scaled out) cannot be reached; the events were stored, and a retry of the same records is deduplicated; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))),
    security(("bearer" = [])))]
pub async fn event(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match ingest(s, headers, body, false).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => hec_error(e),
    }
}

/// `POST /services/collector/raw`: one JSON event per line.
#[utoipa::path(post, path = "/services/collector/raw", tag = "intake", operation_id = "ingest_hec_raw",
    request_body(content = String, description = "One JSON event per line; gzip accepted", content_type = "text/plain"),
    responses((status = 200, description = "`{\"text\":\"Success\",\"code\":0,…}`", body = serde_json::Value),
               (status = 401, description = "No valid ingest key"),
               (status = 429, description = "Detection is behind; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
               (status = 503, description = "The event bus (NATS, when scaled out) cannot be reached; the events were stored, and a retry of the same records is deduplicated; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))),
    security(("bearer" = [])))]
pub async fn raw(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match ingest(s, headers, body, true).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => hec_error(e),
    }
}

/// `GET /services/collector/health`
pub async fn health() -> Json<Value> {
    Json(json!({"text": "HEC is healthy", "code": 17}))
}
