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
use vigil_service::Record;

use super::body::{open, records, store};
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

/// The events of an HEC body: concatenated JSON objects, whitespace or
/// not between them. Each `event` (an object, or a string holding one)
/// is a record; anything else is a broken record.
fn events(body: &[u8]) -> (Vec<Record>, Vec<NewDeadLetter>) {
    let mut records = Vec::new();
    let mut broken = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    let mut n = 0;
    loop {
        let offset = stream.byte_offset();
        let Some(next) = stream.next() else { break };
        n += 1;
        let at = vigil_service::At::Event(n);
        match next {
            Ok(Value::Object(mut o)) => match o.remove("event") {
                Some(Value::String(text)) => records.push(Record {
                    at,
                    bytes: text.into_bytes(),
                }),
                Some(v @ Value::Object(_)) => records.push(Record {
                    at,
                    bytes: serde_json::to_vec(&v).unwrap_or_default(),
                }),
                _ => broken.push(NewDeadLetter::new(
                    "api:hec",
                    format!("{at}: no `event` object or string"),
                    &serde_json::to_vec(&o).unwrap_or_default(),
                )),
            },
            Ok(other) => broken.push(NewDeadLetter::new(
                "api:hec",
                format!("{at}: not a JSON object"),
                other.to_string().as_bytes(),
            )),
            Err(e) => {
                // The rest of the stream cannot be framed: keep it whole.
                broken.push(NewDeadLetter::new(
                    "api:hec",
                    format!("{at}: malformed JSON: {e}"),
                    &body[offset.min(body.len())..],
                ));
                break;
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
               (status = 401, description = "No valid ingest key (`Authorization: Splunk <key>`)")),
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
               (status = 401, description = "No valid ingest key")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hec_events_are_taken_from_concatenated_objects() {
        let body = br#"{"event":{"a":1},"time":1}{"event":"{\"b\":2}"} {"time":3}
[1]{"event":{"c":3}}"#;
        let (records, broken) = events(body);
        let bytes: Vec<&[u8]> = records.iter().map(|r| r.bytes.as_slice()).collect();
        assert_eq!(bytes, [&b"{\"a\":1}"[..], b"{\"b\":2}", b"{\"c\":3}"]);
        assert_eq!(broken.len(), 2);
        assert!(broken[0].reason.starts_with("event 3: no `event`"));
        assert!(broken[1].reason.starts_with("event 4: not a JSON object"));
    }
}
