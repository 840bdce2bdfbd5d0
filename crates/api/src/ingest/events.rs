//! `POST /api/v1/ingest/events`: a JSON array or JSON lines, any shape
//! Vigil decodes (docs/formats).

use super::body::{open, records, store};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

/// Store a batch of events for the key's tenant. Answers after the commit:
/// `{"accepted":N,"rejected":N,"dead_lettered":N,…}`; each record that
/// cannot be decoded is dead-lettered with the reason, and listed in
/// `errors` (at most 100).
#[utoipa::path(post, path = "/api/v1/ingest/events", tag = "intake", operation_id = "ingest_events",
    request_body(content = String, description = "JSON array or NDJSON; `Content-Encoding: gzip` accepted", content_type = "application/x-ndjson"),
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key stores nothing again")),
    responses((status = 200, description = "Committed", body = serde_json::Value),
               (status = 401, description = "No valid ingest key"),
               (status = 413, description = "Body too large, or inflates too large"),
               (status = 429, description = "Detection is behind; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
               (status = 503, description = "The event bus (NATS, when scaled out) cannot be reached; the events were stored, and a retry of the same records is deduplicated; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))),
    security(("bearer" = [])))]
pub async fn ingest(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (p, key, body) = open(&s, &headers, body).await?;
    let records = records(&body)?;
    let outcome = store(&s, &p, "api:events", records, Vec::new(), key).await?;
    let c = outcome.counts;
    let errors: Vec<&String> = outcome.records.iter().flatten().take(100).collect();
    Ok(Json(json!({
        "accepted": c.accepted,
        "rejected": c.rejected,
        "dead_lettered": c.dead_lettered,
        "duplicates": c.duplicates,
        "flagged_future": c.flagged,
        "replayed": c.replayed,
        "errors": errors,
    })))
}
