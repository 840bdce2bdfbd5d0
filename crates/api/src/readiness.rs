//! `/api/v1/tenants/{tenant}/readiness` and `/onboarding`: the readiness
//! assessment (PRODUCT.md §4) and the onboarding checklist (§3).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::readiness::{Assessment, AssessmentId};

use crate::error::ApiError;
use crate::{AppState, Caller};

/// An assessment as the API shows it: `score`, `ready`, `checks[]` with
/// `id`, `category`, `status`, `blocking`, `evidence`, `remediation`.
pub fn assessment_json(a: &Assessment) -> Value {
    json!({
        "id": a.id,
        "run_at": a.run_at,
        "trigger": a.trigger,
        "score": a.score,
        "ready": a.ready,
        "blocking_failures": a.blocking_failures(),
        "checks": a.checks,
    })
}

/// What a tenant's overview shows of its latest assessment.
pub fn overview_json(a: &Assessment) -> Value {
    let failing: Vec<Value> = a
        .checks
        .iter()
        .filter(|c| c.status == vigil_core::readiness::CheckStatus::Fail)
        .map(|c| json!({"id": c.id, "title": c.title, "blocking": c.blocking, "summary": c.evidence.summary}))
        .collect();
    json!({
        "id": a.id,
        "run_at": a.run_at,
        "score": a.score,
        "ready": a.ready,
        "failing": failing,
    })
}

/// The latest readiness assessment.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/readiness", tag = "readiness", operation_id = "get_readiness",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "`{id, run_at, trigger, score, ready, blocking_failures[], checks[{id, category, title, status, blocking, weight, evidence{summary, measured, assets, more_assets}, remediation}]}`", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours; or no assessment has run yet (code `not_assessed`)")))]
pub async fn latest(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match s.service.readiness(&p, &tenant).await? {
        Some(a) => Ok(Json(assessment_json(&a))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_assessed",
            format!(
                "no readiness assessment has run for {tenant} yet: POST /api/v1/tenants/{tenant}/readiness/run"
            ),
        )),
    }
}

/// Run the assessment now (provider admins, delivery managers, customer admins).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/readiness/run", tag = "readiness", operation_id = "run_readiness",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "The assessment, as `GET …/readiness` shows it", body = serde_json::Value),
               (status = 403, description = "Your role may not run the assessment"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn run(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let a = s.service.run_readiness(&p, &tenant).await?;
    Ok(Json(assessment_json(&a)))
}

/// Query of `GET …/readiness/history`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// At most this many (default 30, at most 200).
    pub limit: Option<u32>,
    /// The `next` of the previous page: assessments older than this one.
    pub cursor: Option<String>,
}

/// Earlier assessments, newest first, so progress shows over time.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/readiness/history", tag = "readiness", operation_id = "readiness_history",
    params(("tenant" = String, Path, description = "The tenant's slug"), HistoryQuery),
    responses((status = 200, description = "`{\"items\":[{id, run_at, trigger, score, ready, failing[], blocking_failures[]}],\"next\":cursor|null}`", body = serde_json::Value),
               (status = 400, description = "A query parameter is invalid (named)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn history(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let before = crate::paging::parse_id_cursor::<AssessmentId>(q.cursor.as_deref())?;
    let limit = q
        .limit
        .unwrap_or(30)
        .clamp(1, vigil_service::MAX_READINESS_PAGE);
    let items = s
        .service
        .readiness_history(&p, &tenant, before, limit)
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    let items: Vec<Value> = items
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "run_at": a.run_at,
                "trigger": a.trigger,
                "score": a.score,
                "ready": a.ready,
                "failing": a.failing(),
                "blocking_failures": a.blocking_failures(),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next": next})))
}

/// The onboarding checklist: each step, whether it is done, what is set
/// and how to complete it. Steps are filled in with
/// `PATCH …/settings`; monitoring starts with `POST …/lifecycle`
/// `{"to":"monitoring"}`, which re-runs the assessment and refuses on a
/// blocking failure unless a provider admin gives an override reason.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/onboarding", tag = "readiness", operation_id = "get_onboarding",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "`{tenant, lifecycle, steps[{step, title, done, required, detail, how}], readiness_score, blocking_failures[], complete}`", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn onboarding(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(s.service.onboarding(&p, &tenant).await?)))
}
