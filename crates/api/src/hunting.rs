//! Threat hunting over REST (PRODUCT.md §12; docs/hunting.md): run KQL over
//! a tenant (`POST /api/v1/tenants/{tenant}/hunt`) or every tenant
//! (`POST /api/v1/hunt`), the schema, saved and scheduled hunts, hunting
//! summaries. Query errors are 400 `query_error` with the position in the
//! message.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::hunting::{HuntDetermination, HuntSchedule, SavedHuntId};
use vigil_service::{HuntDraft, HuntLimits, HuntResult, SummaryDraft};

use crate::error::ApiError;
use crate::{AppState, Caller};

/// The body of a hunt.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HuntRequest {
    /// The KQL query (docs/hunting.md lists the subset and the tables).
    pub query: String,
    /// Rows returned at most (default 10,000; at most 100,000).
    pub max_rows: Option<usize>,
}

/// `format=csv` answers `text/csv`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HuntFormat {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn limits(max_rows: Option<usize>) -> HuntLimits {
    let mut l = HuntLimits::default();
    if let Some(n) = max_rows {
        l.max_rows = n;
    }
    l
}

fn answer(result: HuntResult, format: Option<&str>) -> Result<Response, ApiError> {
    match format {
        None | Some("json") => Ok(Json(result).into_response()),
        Some("csv") => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            vigil_service::hunt_csv(&result),
        )
            .into_response()),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("format: expected json or csv, got {other:?}"),
        )),
    }
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    Ok(b?.0)
}

fn format_of(q: Result<Query<HuntFormat>, QueryRejection>) -> Result<Option<String>, ApiError> {
    Ok(q?.0.format)
}

/// Hunt over one tenant's events.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/hunt", tag = "hunting", operation_id = "hunt",
    params(("tenant" = String, Path, description = "The tenant's slug"), HuntFormat),
    request_body = HuntRequest,
    responses((status = 200, description = "`{\"columns\":[{name,type}],\"rows\":[[…]],\"stats\":{rows,truncated,max_rows,elapsed_ms,lookback,tenants,messages}}`, or `text/csv` with `format=csv`", body = serde_json::Value),
               (status = 400, description = "The query does not compile (`query_error`, the message names line:column and what was expected or unknown), or a limit was hit"),
               (status = 403, description = "Your role may not hunt (provider admins and analysts do)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn hunt(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    format: Result<Query<HuntFormat>, QueryRejection>,
    req: Result<Json<HuntRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let format = format_of(format)?;
    let req = body(req)?;
    let result = s
        .service
        .hunt(&p, &tenant, &req.query, limits(req.max_rows))
        .await?;
    answer(result, format.as_deref())
}

/// Hunt across every tenant (provider roles). Each row starts with a
/// `Tenant` column (the slug); `TenantId` is kept through every operator.
#[utoipa::path(post, path = "/api/v1/hunt", tag = "hunting", operation_id = "hunt_all",
    params(HuntFormat),
    request_body = HuntRequest,
    responses((status = 200, description = "As for one tenant, with `Tenant` first", body = serde_json::Value),
               (status = 400, description = "The query does not compile (`query_error`), or a limit was hit"),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "Customer roles: there is nothing across tenants for you")))]
pub async fn hunt_all(
    State(s): State<AppState>,
    Caller(p): Caller,
    format: Result<Query<HuntFormat>, QueryRejection>,
    req: Result<Json<HuntRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let format = format_of(format)?;
    let req = body(req)?;
    let result = s
        .service
        .hunt_all(&p, &req.query, limits(req.max_rows))
        .await?;
    answer(result, format.as_deref())
}

/// The hunting tables and their columns.
#[utoipa::path(get, path = "/api/v1/hunt/schema", tag = "hunting", operation_id = "hunt_schema",
    responses((status = 200, description = "`{\"tables\":[{name,description,columns:[{name,type,description}]}]}`", body = serde_json::Value),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "Customer roles")))]
pub async fn schema(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<Value>, ApiError> {
    s.service.check_hunt(&p).await?;
    Ok(Json(json!({ "tables": vigil_service::hunt_schema() })))
}

/// A saved hunt: name, query, description, optional schedule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedHuntBody {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub description: String,
    /// `{"interval_secs": ≥300, "lookback_secs": ≤2592000, "severity": "high"}`:
    /// the hunt runs by itself and each new row raises an alert.
    #[schema(value_type = Option<Object>)]
    pub schedule: Option<HuntSchedule>,
}

impl SavedHuntBody {
    fn draft(self) -> HuntDraft {
        HuntDraft {
            name: self.name,
            query: self.query,
            description: self.description,
            schedule: self.schedule,
        }
    }
}

fn hunt_id(id: &str) -> Result<SavedHuntId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("saved hunt {id:?} not found"),
        )
    })
}

/// The tenant's saved hunts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/hunts", tag = "hunting", operation_id = "list_saved_hunts",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "`{\"items\":[{id,name,query,description,schedule,created_by,created_at,updated_at,last_run}]}`", body = serde_json::Value),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list_saved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let items = s.service.saved_hunts(&p, &tenant).await?;
    Ok(Json(json!({ "items": items })))
}

/// Save a hunt (the query must compile).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/hunts", tag = "hunting", operation_id = "create_saved_hunt",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = SavedHuntBody,
    responses((status = 201, description = "The saved hunt", body = serde_json::Value),
               (status = 400, description = "The query does not compile, or a field or the schedule is invalid (named)"),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such tenant, or not yours"),
               (status = 409, description = "A saved hunt of that name exists")))]
pub async fn create_saved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    req: Result<Json<SavedHuntBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let draft = body(req)?.draft();
    let h = s.service.create_saved_hunt(&p, &tenant, &draft).await?;
    Ok((StatusCode::CREATED, Json(json!(h))))
}

/// One saved hunt.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/hunts/{id}", tag = "hunting", operation_id = "get_saved_hunt",
    params(("tenant" = String, Path, description = "The tenant's slug"), ("id" = String, Path, description = "The saved hunt's id")),
    responses((status = 200, description = "The saved hunt", body = serde_json::Value),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such hunt or tenant, or not yours")))]
pub async fn show_saved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let h = s.service.saved_hunt(&p, &tenant, hunt_id(&id)?).await?;
    Ok(Json(json!(h)))
}

/// Replace a saved hunt's name, query, description and schedule.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/hunts/{id}", tag = "hunting", operation_id = "update_saved_hunt",
    params(("tenant" = String, Path, description = "The tenant's slug"), ("id" = String, Path, description = "The saved hunt's id")),
    request_body = SavedHuntBody,
    responses((status = 200, description = "The saved hunt after the change", body = serde_json::Value),
               (status = 400, description = "The query does not compile, or a field is invalid"),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such hunt or tenant, or not yours"),
               (status = 409, description = "Another saved hunt has that name, or it changed meanwhile")))]
pub async fn update_saved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    req: Result<Json<SavedHuntBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = hunt_id(&id)?;
    let draft = body(req)?.draft();
    let h = s.service.update_saved_hunt(&p, &tenant, id, &draft).await?;
    Ok(Json(json!(h)))
}

/// Delete a saved hunt (and its schedule).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/hunts/{id}", tag = "hunting", operation_id = "delete_saved_hunt",
    params(("tenant" = String, Path, description = "The tenant's slug"), ("id" = String, Path, description = "The saved hunt's id")),
    responses((status = 200, description = "`{\"deleted\":id}`", body = serde_json::Value),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such hunt or tenant, or not yours")))]
pub async fn delete_saved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = hunt_id(&id)?;
    s.service.delete_saved_hunt(&p, &tenant, id).await?;
    Ok(Json(json!({ "deleted": id })))
}

/// Run a saved hunt now.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/hunts/{id}/run", tag = "hunting", operation_id = "run_saved_hunt",
    params(("tenant" = String, Path, description = "The tenant's slug"), ("id" = String, Path, description = "The saved hunt's id"), HuntFormat),
    responses((status = 200, description = "As `POST …/hunt`", body = serde_json::Value),
               (status = 400, description = "A limit was hit"),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such hunt or tenant, or not yours")))]
pub async fn run_saved(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    format: Result<Query<HuntFormat>, QueryRejection>,
) -> Result<Response, ApiError> {
    let format = format_of(format)?;
    let id = hunt_id(&id)?;
    let result = s
        .service
        .run_saved_hunt(&p, &tenant, id, HuntLimits::default())
        .await?;
    answer(result, format.as_deref())
}

/// A hunting summary.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryBody {
    /// The saved hunt it is about (its query is kept when `query` is empty).
    pub hunt_id: Option<String>,
    pub what: String,
    pub why: String,
    pub result: String,
    /// `threat_found`, `suspicious`, `nothing_found` or `benign`.
    pub determination: String,
    #[serde(default)]
    pub query: String,
}

/// The tenant's hunting summaries, newest first (customers read them too).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/hunt-summaries", tag = "hunting", operation_id = "list_hunt_summaries",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "`{\"items\":[{id,hunt_id,what,why,result,determination,query,author,created_at}]}`", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list_summaries(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let items = s.service.hunt_summaries(&p, &tenant, None).await?;
    Ok(Json(json!({ "items": items })))
}

/// Write a hunting summary: what, why, result, determination.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/hunt-summaries", tag = "hunting", operation_id = "create_hunt_summary",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = SummaryBody,
    responses((status = 201, description = "The summary", body = serde_json::Value),
               (status = 400, description = "A field is empty or too long, or the determination is unknown (named)"),
               (status = 403, description = "Your role may not hunt"),
               (status = 404, description = "No such tenant or saved hunt, or not yours")))]
pub async fn create_summary(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    req: Result<Json<SummaryBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = body(req)?;
    let determination = HuntDetermination::parse(&b.determination).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!(
                "determination: expected threat_found, suspicious, nothing_found or benign, got {:?}",
                b.determination
            ),
        )
    })?;
    let hunt_id = b.hunt_id.as_deref().map(hunt_id).transpose()?;
    let draft = SummaryDraft {
        hunt_id,
        what: b.what,
        why: b.why,
        result: b.result,
        determination,
        query: b.query,
    };
    let summary = s.service.add_hunt_summary(&p, &tenant, &draft).await?;
    Ok((StatusCode::CREATED, Json(json!(summary))))
}
