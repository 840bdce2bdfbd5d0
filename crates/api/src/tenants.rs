//! `/api/v1/tenants`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use vigil_core::tenant::Lifecycle;

use crate::error::ApiError;
use crate::{AppState, Caller};

pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<Value>, ApiError> {
    let tenants = s.service.list_tenants(&p).await?;
    Ok(Json(Value::Array(
        tenants.iter().map(|t| t.redacted_json()).collect(),
    )))
}

pub async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(s.service.tenant(&p, &tenant).await?.redacted_json()))
}

/// The body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub slug: String,
    pub name: String,
}

pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<CreateTenant>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let t = s.service.create_tenant(&p, &body.slug, &body.name).await?;
    Ok((StatusCode::CREATED, Json(t.redacted_json())))
}

/// The body of `POST /api/v1/tenants/{tenant}/lifecycle`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// `monitoring`, `live`, `offboarding` or `deleted`.
    pub to: String,
    /// Lifts the learning or grace period; recorded in the audit log.
    pub override_reason: Option<String>,
}

pub async fn transition(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<Transition>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let to: Lifecycle = body
        .to
        .parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("to: {e}")))?;
    let t = s
        .service
        .transition_tenant(&p, &tenant, to, body.override_reason.as_deref())
        .await?;
    Ok(Json(t.redacted_json()))
}
