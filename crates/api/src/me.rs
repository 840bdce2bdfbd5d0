//! `/api/v1/me`: the caller, and changing their own password.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::identity::Principal;
use vigil_service::csrf_token;

use crate::auth::CallerSession;
use crate::cookies::{SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::{AppState, Caller};

/// Who the credential belongs to. Signed in by cookie, the answer also
/// carries the CSRF token that state-changing requests must send.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "get_me", tag = "me",
    responses((status = 200, description = "The caller", body = serde_json::Value),
               (status = 401, description = "No valid credential")))]
pub async fn show(
    State(_): State<AppState>,
    Caller(p): Caller,
    CallerSession(session): CallerSession,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let csrf = session
        .as_ref()
        .and(cookie(&headers, SESSION_COOKIE))
        .map(csrf_token);
    match &p {
        Principal::User {
            id,
            email,
            role,
            tenant_id,
        } => Ok(Json(json!({
            "kind": "user",
            "id": id,
            "email": email,
            "role": role,
            "tenant_id": tenant_id,
            "session_expires_at": session.map(|s| s.expires_at),
            "csrf_token": csrf,
        }))),
        // An ingest key reads nothing, not even itself.
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such user",
        )),
    }
}

/// The body of `POST /api/v1/me/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current: String,
    pub new: String,
}

/// Change the caller's password. The caller's other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", operation_id = "change_my_password", tag = "me", request_body = ChangePassword,
    responses((status = 204, description = "Changed"),
               (status = 400, description = "The current password is wrong, or the new one too weak")))]
pub async fn change_password(
    State(s): State<AppState>,
    Caller(p): Caller,
    CallerSession(session): CallerSession,
    body: Result<Json<ChangePassword>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body?;
    if !matches!(p, Principal::User { .. }) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such user",
        ));
    }
    s.service
        .change_password(&p, &body.current, &body.new, session.map(|s| s.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
