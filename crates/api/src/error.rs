//! Errors as HTTP: `{"error":{"code","message"}}` with the right status.
//! The only place in Vigil that maps an error to a status.

use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use vigil_service::ServiceError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: `not_found`, `forbidden`, ...
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut r = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        r
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let message = e.to_string();
        let (status, code) = match &e {
            ServiceError::InvalidSlug(_)
            | ServiceError::InvalidName(_)
            | ServiceError::InvalidSetting(_)
            | ServiceError::InvalidUser(_)
            | ServiceError::WeakPassword(_) => (StatusCode::BAD_REQUEST, "invalid"),
            ServiceError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            ServiceError::AlreadyExists { .. } => (StatusCode::CONFLICT, "already_exists"),
            ServiceError::TransitionRefused { .. } | ServiceError::Conflict(_) => {
                (StatusCode::CONFLICT, "conflict")
            }
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ServiceError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ServiceError::BadSignature(_) => (StatusCode::UNAUTHORIZED, "bad_signature"),
            ServiceError::LockedOut { .. } => (StatusCode::TOO_MANY_REQUESTS, "locked_out"),
            ServiceError::WrongPassword => (StatusCode::BAD_REQUEST, "wrong_password"),
            ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            ServiceError::Query(_) => (StatusCode::BAD_REQUEST, "query_error"),
            ServiceError::Refused(_) => (StatusCode::CONFLICT, "conflict"),
            ServiceError::Busy {
                retry_after_secs, ..
            } => {
                let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "busy", message);
                e.retry_after = Some(*retry_after_secs);
                return e;
            }
            ServiceError::Pdf(vigil_service::PdfError::BrowserMissing(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            ServiceError::Unavailable {
                retry_after_secs, ..
            } => {
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
                e.retry_after = Some(*retry_after_secs);
                return e;
            }
            ServiceError::AuditBroken(_)
            | ServiceError::Storage(_)
            | ServiceError::Random
            | ServiceError::Pdf(_) => {
                // Details go to the log, not to the caller.
                tracing::error!(error = %e, "request failed");
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                );
            }
        };
        ApiError::new(status, code, message)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let (status, code) = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            JsonRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            _ => (StatusCode::BAD_REQUEST, "invalid_json"),
        };
        // serde's message names the field path and position.
        ApiError::new(status, code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        let (status, code) = match &r {
            FormRejection::InvalidFormContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            FormRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            _ => (StatusCode::BAD_REQUEST, "invalid_form"),
        };
        ApiError::new(status, code, r.body_text())
    }
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}
