//! Who is calling: `Authorization: Bearer <secret>` with a user's API token
//! (`vgt_…`) or a tenant's ingest key (`vgk_…`), or the portal's session
//! cookie. A request made with the cookie that could change state must
//! carry the session's CSRF token (`X-CSRF-Token`), so another site cannot
//! make the browser act for its user.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use vigil_core::identity::Principal;
use vigil_core::session::Session;
use vigil_service::{csrf_token, tokens_equal};

use crate::AppState;
use crate::cookies::{SESSION_COOKIE, cookie};
use crate::error::ApiError;

/// The header that carries the CSRF token on cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The portal session behind a request, when it came with the cookie.
#[derive(Debug, Clone)]
pub struct CallerSession(pub Option<Session>);

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "send `Authorization: Bearer <API token>` or sign in",
    )
}

/// Whether a request with this method may change state.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolve the caller from the headers (bearer first, then the cookie),
/// checking the CSRF token for cookie-authenticated unsafe requests.
async fn resolve(
    method: &Method,
    headers: &HeaderMap,
    state: &AppState,
) -> Result<(Principal, Option<Session>), ApiError> {
    if let Some(header) = headers.get(AUTHORIZATION) {
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(unauthenticated)?;
        let principal = if secret.starts_with("vgk_") {
            state.service.authenticate_ingest_key(secret).await
        } else {
            state.service.authenticate_token(secret).await
        };
        return Ok((principal?, None));
    }
    let secret = cookie(headers, SESSION_COOKIE).ok_or_else(unauthenticated)?;
    let (principal, session) = state.service.authenticate_session(secret).await?;
    if is_unsafe(method) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !tokens_equal(sent, &csrf_token(secret)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "a request signed in by cookie must send the session's CSRF token in X-CSRF-Token",
            ));
        }
    }
    Ok((principal, Some(session)))
}

/// Whether the credential in these headers still names `principal`: not
/// revoked, expired, signed out or disabled since the request began (long
/// answers such as the live stream check before each event they send).
pub(crate) async fn still_valid(
    headers: &HeaderMap,
    state: &AppState,
    principal: &Principal,
) -> bool {
    matches!(resolve(&Method::GET, headers, state).await, Ok((p, _)) if p == *principal)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let (principal, session) = resolve(&parts.method, &parts.headers, state).await?;
        parts.extensions.insert(CallerSession(session));
        parts.extensions.insert(Caller(principal.clone()));
        Ok(Caller(principal))
    }
}

impl FromRequestParts<AppState> for CallerSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Caller::from_request_parts(parts, state).await?;
        Ok(parts
            .extensions
            .get::<CallerSession>()
            .cloned()
            .unwrap_or(CallerSession(None)))
    }
}
