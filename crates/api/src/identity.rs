//! `/api/v1/tenants/{tenant}/users`, `/api/v1/tenants/{tenant}/ingest-keys`
//! and `/api/v1/tokens`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::identity::{ApiToken, IngestKey, Principal, Role, User};
use vigil_core::tenant::parse_duration;

use crate::error::ApiError;
use crate::{AppState, Caller};

fn user_json(u: &User) -> Value {
    serde_json::to_value(u).unwrap_or_default()
}

fn token_json(t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
    })
}

fn key_json(k: &IngestKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    })
}

/// An id from the path; one that cannot be an id names nothing (404).
fn path_id<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} {text:?} not found"),
        )
    })
}

fn invalid(field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{field}: {reason}"),
    )
}

/// The tenant's users.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users", tag = "users",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "Users", body = serde_json::Value),
               (status = 403, description = "Your role may not manage users"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list_users(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let users = s.service.list_users(&p, Some(&tenant)).await?;
    Ok(Json(Value::Array(users.iter().map(user_json).collect())))
}

/// The body of `POST /api/v1/tenants/{tenant}/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub role: String,
    pub password: String,
}

/// Create a user of the tenant.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users", tag = "users",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = CreateUser,
    responses((status = 201, description = "Created", body = serde_json::Value),
               (status = 400, description = "Invalid email, role or password"),
               (status = 403, description = "Your role may not manage users"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn create_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<CreateUser>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let role: Role = body.role.parse().map_err(|e| invalid("role", e))?;
    let u = s
        .service
        .create_user(&p, &body.email, role, Some(&tenant), &body.password)
        .await?;
    Ok((StatusCode::CREATED, Json(user_json(&u))))
}

/// The body of `POST /api/v1/tenants/{tenant}/ingest-keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIngestKey {
    pub name: String,
}

/// Create an ingest key for the tenant; the key is in this answer only.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/ingest-keys", tag = "ingest keys",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = CreateIngestKey,
    responses((status = 201, description = "Created; `key` is shown once", body = serde_json::Value),
               (status = 403, description = "Your role may not manage ingest keys"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn create_ingest_key(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<CreateIngestKey>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let (secret, key) = s.service.create_ingest_key(&p, &tenant, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": key.id, "name": key.name, "key": secret.expose()})),
    ))
}

/// The body of `POST /api/v1/tokens`: a token for the caller.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// e.g. `90d`; absent: until revoked.
    pub expires_in: Option<String>,
}

/// Create an API token for the caller; the token is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, description = "Created; `token` is shown once", body = serde_json::Value),
               (status = 400, description = "Invalid lifetime")))]
pub async fn create_token(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<CreateToken>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let Principal::User { email, .. } = &p else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "only users have tokens",
        ));
    };
    let ttl = body
        .expires_in
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|e| invalid("expires_in", e))?;
    let (secret, token) = s.service.create_token(&p, email, &body.name, ttl).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": token.id,
            "name": token.name,
            "expires_at": token.expires_at,
            "token": secret.expose(),
        })),
    ))
}

/// The caller's own API tokens (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, description = "Tokens, newest first", body = serde_json::Value)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Value>, ApiError> {
    let Principal::User { email, .. } = &p else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "only users have tokens",
        ));
    };
    let tokens = s.service.list_tokens(&p, email).await?;
    Ok(Json(Value::Array(tokens.iter().map(token_json).collect())))
}

/// Revoke a token: the caller's own, or one of a user the caller manages.
/// Requests made with it answer 401 from now on.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 200, description = "The revoked token", body = serde_json::Value),
               (status = 404, description = "No such live token, or not yours")))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id("token", &id)?;
    let token = s.service.revoke_token_by_id(&p, id).await?;
    Ok(Json(token_json(&token)))
}

/// The tenant's ingest keys (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/ingest-keys", tag = "ingest keys",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "Keys, newest first", body = serde_json::Value),
               (status = 403, description = "Your role may not manage ingest keys"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list_ingest_keys(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let keys = s.service.list_ingest_keys(&p, &tenant).await?;
    Ok(Json(Value::Array(keys.iter().map(key_json).collect())))
}

/// Revoke one of the tenant's ingest keys: shippers using it get 401.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/ingest-keys/{id}", tag = "ingest keys",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"),
               (status = 403, description = "Your role may not manage ingest keys"),
               (status = 404, description = "No such tenant or live key, or not yours")))]
pub async fn revoke_ingest_key(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = path_id("ingest key", &id)?;
    s.service.revoke_ingest_key(&p, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
