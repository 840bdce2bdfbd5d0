//! What every intake route shares: the ingest key in any header a shipper
//! can send, gzip bodies with a decompressed-size limit, the
//! `Idempotency-Key` header.

use std::io::Read;

use axum::http::header::{AUTHORIZATION, CONTENT_ENCODING};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use vigil_core::identity::Principal;

use crate::AppState;
use crate::error::ApiError;

/// Request bodies (as sent, compressed or not) larger than this are
/// refused with 413.
pub const MAX_INGEST_BODY_BYTES: usize = 32 * 1024 * 1024;
/// A gzip body that inflates beyond this is refused with 413 (a gzip bomb
/// never gets further than this).
pub const MAX_DECOMPRESSED_BYTES: usize = 256 * 1024 * 1024;

/// The longest idempotency key kept.
const MAX_KEY_CHARS: usize = 200;

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "send the tenant's ingest key: `Authorization: Bearer <key>`, `ApiKey base64(id:<key>)`, `Basic base64(user:<key>)` or `Splunk <key>`",
    )
}

/// The ingest key from `Authorization`: `Bearer`, `Splunk`, `ApiKey`
/// (Elasticsearch's base64 `id:key`) or `Basic` (the password).
pub fn ingest_secret(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "splunk" => Some(rest.to_owned()),
        "apikey" | "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            // `id:key` or `user:password`: the secret is after the colon,
            // or the whole text when there is none.
            Some(match text.split_once(':') {
                Some((_, secret)) => secret.to_owned(),
                None => text,
            })
        }
        _ => None,
    }
}

/// The principal of an intake request: an ingest key, never a user.
pub async fn ingest_principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let secret = ingest_secret(headers).ok_or_else(unauthenticated)?;
    if !secret.starts_with("vgk_") {
        return Err(unauthenticated());
    }
    Ok(state.service.authenticate_ingest_key(&secret).await?)
}

/// What every intake request starts with: the key's principal, the batch's
/// idempotency key, and the body, inflated.
pub async fn open(
    state: &AppState,
    headers: &HeaderMap,
    body: axum::body::Bytes,
) -> Result<(Principal, Option<String>, axum::body::Bytes), ApiError> {
    let p = ingest_principal(state, headers).await?;
    let key = idempotency_key(headers)?;
    Ok((p, key, body_bytes(headers, body)?))
}

/// Store records for the key's tenant.
pub async fn store(
    state: &AppState,
    p: &Principal,
    source: &str,
    records: Vec<vigil_service::Record>,
    broken: Vec<vigil_core::telemetry::NewDeadLetter>,
    idempotency_key: Option<String>,
) -> Result<vigil_service::IngestOutcome, ApiError> {
    let intake = vigil_service::Intake {
        source: source.to_owned(),
        records,
        broken,
        idempotency_key,
    };
    Ok(state.service.ingest(p, None, intake).await?)
}

/// The body as sent (not copied), inflated when `Content-Encoding: gzip`.
pub fn body_bytes(
    headers: &HeaderMap,
    body: axum::body::Bytes,
) -> Result<axum::body::Bytes, ApiError> {
    let encoding = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(body),
        Some("gzip" | "x-gzip") => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4));
            let limit = MAX_DECOMPRESSED_BYTES as u64 + 1;
            flate2::read::MultiGzDecoder::new(&body[..])
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_gzip",
                        format!("the gzip body cannot be inflated: {e}"),
                    )
                })?;
            if out.len() > MAX_DECOMPRESSED_BYTES {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!(
                        "the gzip body inflates beyond {MAX_DECOMPRESSED_BYTES} bytes; send smaller batches"
                    ),
                ));
            }
            Ok(out.into())
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding {other:?} is not supported: send gzip or nothing"),
        )),
    }
}

/// The client's batch id, if it sent one.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v.to_str().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "Idempotency-Key: not visible ASCII",
        )
    })?;
    let key = key.trim();
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("Idempotency-Key: give 1 to {MAX_KEY_CHARS} characters"),
        ));
    }
    Ok(Some(key.to_owned()))
}

/// Split a body into JSON records: a JSON array's elements, or one record
/// per non-empty line (`vigil_formats::bodies::json_records`). Each record
/// remembers where it was.
pub fn records(body: &[u8]) -> Result<Vec<vigil_service::Record>, ApiError> {
    let records = vigil_formats::bodies::json_records(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))?;
    Ok(records.into_iter().map(record).collect())
}

/// A framed record as the service takes it.
pub fn record(r: vigil_formats::bodies::BodyRecord) -> vigil_service::Record {
    use vigil_formats::bodies::BodyAt;
    vigil_service::Record {
        at: match r.at {
            BodyAt::Line(n) => vigil_service::At::Line(n),
            BodyAt::Item(n) => vigil_service::At::Item(n),
            BodyAt::Event(n) => vigil_service::At::Event(n),
        },
        bytes: r.bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn the_ingest_key_is_found_in_every_header_shape_shippers_send() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for header in [
            "Bearer vgk_abc".to_owned(),
            "Splunk vgk_abc".to_owned(),
            format!("ApiKey {}", b64("winlogbeat:vgk_abc")),
            format!("Basic {}", b64("elastic:vgk_abc")),
        ] {
            assert_eq!(
                ingest_secret(&auth(&header)).as_deref(),
                Some("vgk_abc"),
                "{header}"
            );
        }
        assert_eq!(ingest_secret(&auth("Digest x")), None);
        assert_eq!(ingest_secret(&HeaderMap::new()), None);
    }

    #[test]
    fn a_gzip_bomb_is_refused_past_the_inflated_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..(MAX_DECOMPRESSED_BYTES / zeros.len() + 1) {
            enc.write_all(&zeros).expect("write");
        }
        let bomb = enc.finish().expect("gzip");
        assert!(bomb.len() < MAX_INGEST_BODY_BYTES / 10, "small on the wire");
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let err = body_bytes(&h, bomb.into()).expect_err("refused");
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
