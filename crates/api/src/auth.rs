//! Who is calling: `Authorization: Bearer <token>` with a user's API token
//! (`vgt_…`) or a tenant's ingest key (`vgk_…`).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use vigil_core::identity::Principal;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthenticated = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send `Authorization: Bearer <API token>`",
            )
        };
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthenticated)?;
        let secret = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(unauthenticated)?;
        let principal = if secret.starts_with("vgk_") {
            state.service.authenticate_ingest_key(secret).await
        } else {
            state.service.authenticate_token(secret).await
        };
        principal.map(Caller).map_err(ApiError::from)
    }
}
