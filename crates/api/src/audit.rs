//! `/api/v1/audit` and `/api/v1/tenants/{tenant}/audit`: the audit log,
//! oldest first, paged by sequence number.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::audit::AuditRecord;

use crate::error::ApiError;
use crate::{AppState, Caller};

/// Paging: records after `after` (a sequence number), at most `limit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Return records with a greater sequence number (default 0).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

fn record_json(r: &AuditRecord) -> Value {
    json!({
        "seq": r.seq,
        "at": r.at,
        "actor": r.actor,
        "action": r.action,
        "tenant_id": r.tenant_id,
        "target": r.target,
        "details": serde_json::from_str::<Value>(&r.details).unwrap_or(Value::String(r.details.clone())),
        "hash": r.hash,
    })
}

fn answer(records: &[AuditRecord], limit: u32) -> Json<Value> {
    let next = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Json(json!({
        "items": records.iter().map(record_json).collect::<Vec<_>>(),
        "next": next,
    }))
}

async fn read(
    s: &AppState,
    p: &vigil_core::identity::Principal,
    tenant: Option<&str>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(page) = page?;
    let limit = page
        .limit
        .unwrap_or(100)
        .clamp(1, vigil_service::MAX_AUDIT_PAGE);
    let records = s
        .service
        .audit_log(p, tenant, page.after.unwrap_or(0), limit)
        .await?;
    Ok(answer(&records, limit))
}

/// The whole audit log (provider admins).
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "list_audit", tag = "audit", params(Page),
    responses((status = 200, description = "`{\"items\":[…],\"next\":seq|null}`", body = serde_json::Value),
               (status = 403, description = "Your role may not read the audit log")))]
pub async fn all(
    State(s): State<AppState>,
    Caller(p): Caller,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    read(&s, &p, None, page).await
}

/// One tenant's audit records (its customer admins and provider admins).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/audit", operation_id = "list_tenant_audit", tag = "audit",
    params(("tenant" = String, Path, description = "The tenant's slug"), Page),
    responses((status = 200, description = "`{\"items\":[…],\"next\":seq|null}`", body = serde_json::Value),
               (status = 403, description = "Your role may not read the audit log"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn of_tenant(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    read(&s, &p, Some(&tenant), page).await
}
