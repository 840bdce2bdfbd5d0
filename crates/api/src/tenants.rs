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

/// The tenants the caller may see.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, description = "Tenants, secrets redacted", body = serde_json::Value),
               (status = 401, description = "No valid credential")))]
pub async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<Value>, ApiError> {
    let tenants = s.service.list_tenants(&p).await?;
    Ok(Json(Value::Array(
        tenants.iter().map(|t| t.redacted_json()).collect(),
    )))
}

/// One tenant with its settings.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "The tenant, secrets redacted", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(s.service.tenant(&p, &tenant).await?.redacted_json()))
}

/// The body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub slug: String,
    pub name: String,
}

/// Create a tenant in `onboarding` (provider admins).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, description = "Created", body = serde_json::Value),
               (status = 400, description = "Invalid slug, name or body"),
               (status = 403, description = "Your role may not create tenants"),
               (status = 409, description = "The slug is taken")))]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// `monitoring`, `live`, `offboarding` or `deleted`.
    pub to: String,
    /// Lifts the learning or grace period; recorded in the audit log.
    pub override_reason: Option<String>,
}

/// Move the tenant through its lifecycle.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/lifecycle", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = Transition,
    responses((status = 200, description = "The tenant after the move", body = serde_json::Value),
               (status = 403, description = "Your role may not make this move"),
               (status = 404, description = "No such tenant, or not yours"),
               (status = 409, description = "The lifecycle refuses the move")))]
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
