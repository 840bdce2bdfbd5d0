//! Executing managed tasks through the tenant's response connector, and
//! the connector's signed callback.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use vigil_core::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};

use crate::error::ApiError;
use crate::incidents::task_id;
use crate::{AppState, Caller};

/// Execute a managed, open task through the tenant's connector: manual
/// (an expert takes it up by hand) or signed webhook (posted to the
/// customer's SOAR, retried with backoff). The answer is the task with its
/// history and execution record.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tasks/{task}/execute", tag = "tasks", operation_id = "execute_task",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("task" = String, Path, description = "The task's id")),
    responses((status = 200, description = "`{\"task\":…,\"history\":[…],\"executions\":[…]}`", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such task or tenant, or not yours"),
               (status = 409, description = "The task is guided, or not open (the reason is named)")))]
pub async fn execute(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, task)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let task = task_id(&task)?;
    Ok(Json(json!(
        s.service.execute_task(&p, &tenant, task).await?
    )))
}

/// The body a connector calls back with (signed; see `X-Vigil-Signature`).
/// Here for the OpenAPI document: the service reads the signed bytes.
#[derive(Debug, utoipa::ToSchema)]
#[expect(dead_code, reason = "documents the body; the service parses it")]
pub struct Callback {
    /// `completed` or `failed`.
    pub status: String,
    /// What was done, or why it failed.
    pub detail: Option<String>,
}

/// The customer's system reports a task's outcome. No bearer token: the
/// request is authenticated only by `X-Vigil-Timestamp` (Unix seconds,
/// within 5 minutes of the server's clock) and `X-Vigil-Signature:
/// v1=<hex HMAC-SHA256 of "{timestamp}.{body}" with the tenant's connector
/// secret>`.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/tasks/{task}/callback", tag = "tasks", operation_id = "task_callback",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("task" = String, Path, description = "The task's id"),
           ("X-Vigil-Timestamp" = String, Header, description = "Unix seconds the body was signed at"),
           ("X-Vigil-Signature" = String, Header, description = "`v1=<hex HMAC-SHA256>` over `{timestamp}.{body}`")),
    request_body = Callback,
    security(()),
    responses((status = 200, description = "`{\"task\":…,\"executions\":[…]}`", body = serde_json::Value),
               (status = 400, description = "The body is not `{status, detail}`"),
               (status = 401, description = "Missing, stale or wrong signature (named)"),
               (status = 404, description = "No such task for this tenant"),
               (status = 409, description = "The task is guided or already closed")))]
pub async fn callback(
    State(s): State<AppState>,
    Path((tenant, task)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let report = s
        .service
        .task_callback(
            &tenant,
            &task,
            header(TIMESTAMP_HEADER),
            header(SIGNATURE_HEADER),
            &body,
        )
        .await?;
    Ok(Json(json!(report)))
}
