//! Major incidents and the IR boundary (PRODUCT.md §11): raising or
//! clearing the flag by hand, running the criteria on demand, moving the
//! IR engagement on, and the IR handoff bundle.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::incidents::{incident_id, view_json};
use crate::{AppState, Caller};

/// The body of `POST /api/v1/tenants/{tenant}/incidents/{id}/major`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MajorChange {
    /// `true` raises the flag (opening an IR engagement and notifying the
    /// incident contacts and the IR provider at once); `false` clears it.
    pub major: bool,
    /// Why (required, up to 2,000 characters).
    pub reason: String,
}

/// Raise or clear the major-incident flag by hand, with a reason.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/major", tag = "incidents", operation_id = "set_major",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = MajorChange,
    responses((status = 200, description = "The incident after the change", body = serde_json::Value),
               (status = 400, description = "No reason, or one too long"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "The incident is already major (or already not)")))]
pub async fn set_major(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<MajorChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let view = s
        .service
        .set_major(&p, &tenant, id, b.major, &b.reason)
        .await?;
    Ok(Json(view_json(&view)))
}

/// Run the major-incident criteria over the incident now.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/major/evaluate", tag = "incidents", operation_id = "evaluate_major",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "The incident with `major_criteria`", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn evaluate(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let view = s.service.evaluate_major_now(&p, &tenant, id).await?;
    Ok(Json(view_json(&view)))
}

/// The body of `POST /api/v1/tenants/{tenant}/incidents/{id}/ir-engagement`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementChange {
    /// `engaged` or `closed` (from `requested`: either; from `engaged`:
    /// `closed`).
    pub status: Option<String>,
    /// A note kept with the engagement (up to 2,000 characters).
    pub note: Option<String>,
}

/// Move the IR engagement on and/or add a note.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/ir-engagement", tag = "incidents", operation_id = "update_ir_engagement",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = EngagementChange,
    responses((status = 200, description = "The incident with its `ir_engagement`", body = serde_json::Value),
               (status = 400, description = "Unknown status, or neither status nor note"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "No engagement yet, or the move is not allowed (named)")))]
pub async fn update_engagement(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<EngagementChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let to = b
        .status
        .as_deref()
        .map(|st| {
            st.parse::<vigil_core::major::IrStatus>().map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("status: {e}"))
            })
        })
        .transpose()?;
    let view = s
        .service
        .update_ir_engagement(&p, &tenant, id, to, b.note.as_deref())
        .await?;
    Ok(Json(view_json(&view)))
}

/// The IR handoff bundle: a zip with the summary (JSON, HTML), timeline
/// (CSV), indicators (STIX 2.1, CSV), assets, evidence events (JSON lines),
/// actions and tasks, the incident's audit trail and `MANIFEST.sha256`.
/// Generating it is audited.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/ir-bundle", tag = "incidents", operation_id = "get_ir_bundle",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "The bundle", content_type = "application/zip", body = Vec<u8>),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn bundle(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = incident_id(&id)?;
    let b = s.service.ir_bundle(&p, &tenant, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", b.file_name),
            ),
        ],
        b.bytes,
    )
        .into_response())
}
