//! The Elasticsearch bulk API: `POST /api/v1/ingest/_bulk` (and
//! `/{index}/_bulk`), NDJSON pairs of an action line and a document, answered
//! as Elasticsearch answers, so shippers configured for Elasticsearch (base
//! URL `…/api/v1/ingest`) ship to Vigil unchanged. `GET` on the base URL
//! answers the version probe shippers make first.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use vigil_core::telemetry::NewDeadLetter;
use vigil_formats::bodies::bulk_items;

use super::body::{open, record, store};
use crate::AppState;
use crate::error::ApiError;

/// What Elasticsearch answers on `GET /`: shippers check the version.
pub async fn info() -> Json<Value> {
    Json(json!({
        "name": "vigil",
        "cluster_name": "vigil",
        "cluster_uuid": "vigil",
        "version": {
            "number": "8.11.0",
            "build_flavor": "default",
            "build_type": "vigil",
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "You Know, for Search"
    }))
}

pub async fn info_head() -> StatusCode {
    StatusCode::OK
}

async fn bulk(
    s: AppState,
    headers: HeaderMap,
    body: Bytes,
    default_index: &str,
) -> Result<Json<Value>, ApiError> {
    let started = Instant::now();
    let (p, key, body) = open(&s, &headers, body).await?;
    let actions = bulk_items(&body, default_index);
    // Records go to the service in order; transport failures are
    // dead-lettered alongside and answered in their place.
    let mut records = Vec::new();
    let mut broken = Vec::new();
    let mut slot = Vec::with_capacity(actions.len());
    for a in &actions {
        match a.doc.clone() {
            Ok(r) => {
                slot.push(Ok(records.len()));
                records.push(record(r));
            }
            Err(reason) => {
                broken.push(NewDeadLetter::new("api:bulk", reason.clone(), b""));
                slot.push(Err(reason));
            }
        }
    }
    let outcome = store(&s, &p, "api:bulk", records, broken, key).await?;
    let mut errors = false;
    let items: Vec<Value> = actions
        .iter()
        .zip(slot)
        .map(|(a, slot)| {
            let failure = match slot {
                Ok(i) => outcome.records.get(i).cloned().flatten(),
                Err(reason) => Some(reason),
            };
            let id = a.id.clone().unwrap_or_default();
            let body = match failure {
                None => json!({
                    "_index": a.index, "_id": id, "_version": 1, "result": "created",
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "status": 201,
                }),
                Some(reason) => {
                    errors = true;
                    json!({
                        "_index": a.index, "_id": id, "status": 400,
                        "error": {"type": "mapper_parsing_exception", "reason": reason},
                    })
                }
            };
            json!({ a.op.clone(): body })
        })
        .collect();
    Ok(Json(json!({
        "took": started.elapsed().as_millis() as u64,
        "errors": errors,
        "items": items,
    })))
}

/// `POST /api/v1/ingest/_bulk`
#[utoipa::path(post, path = "/api/v1/ingest/_bulk", tag = "intake", operation_id = "ingest_bulk",
    request_body(content = String, description = "Elasticsearch bulk NDJSON (action line, document line, …); gzip accepted", content_type = "application/x-ndjson"),
    responses((status = 200, description = "Elasticsearch's bulk answer; undecodable documents are items with status 400 (dead-lettered)", body = serde_json::Value),
               (status = 401, description = "No valid ingest key"),
               (status = 429, description = "Detection is behind; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
               (status = 503, description = "The event bus (NATS, when scaled out) cannot be reached; the events were stored, and a retry of the same records is deduplicated; retry after `Retry-After` seconds", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))),
    security(("bearer" = [])))]
pub async fn ingest(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    bulk(s, headers, body, "vigil").await
}

/// `POST /api/v1/ingest/{index}/_bulk`
pub async fn ingest_index(
    State(s): State<AppState>,
    Path(index): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    bulk(s, headers, body, &index).await
}
