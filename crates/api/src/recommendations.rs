//! `/api/v1/tenants/{tenant}/recommendations` and `…/posture-score`:
//! posture recommendations (PRODUCT.md §10), each with the incidents that
//! motivated it, the affected assets and its automatic verification.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::recommendation::{
    PostureScore, Recommendation, RecommendationCategory, RecommendationId, RecommendationStatus,
};
use vigil_service::{RecommendationUpdate, RecommendationView};

use crate::error::ApiError;
use crate::paging::bad;
use crate::{AppState, Caller};

/// One recommendation as the list and the detail show it.
pub fn recommendation_json(r: &Recommendation) -> Value {
    json!({
        "id": r.id,
        "kb_id": r.kb_id,
        "title": r.title,
        "category": r.category,
        "status": r.status,
        "completed_by": r.completed_by,
        "reason": r.reason,
        "expires_at": r.expires_at,
        "points": r.points,
        "incidents": r.incidents.iter().map(|l| json!({
            "id": l.incident_id,
            "title": l.title,
            "linked_at": l.linked_at,
            "reason": l.reason,
        })).collect::<Vec<_>>(),
        "assets": r.assets.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "checks": r.checks,
        "verification": r.verification,
        "notes": r.notes,
        "raised_at": r.raised_at,
        "updated_at": r.updated_at,
    })
}

fn view_json(v: &RecommendationView) -> Value {
    let mut out = recommendation_json(&v.recommendation);
    if let (Some(e), Some(obj)) = (v.entry, out.as_object_mut()) {
        let kb = vigil_service::knowledge().ok();
        let name = |id: &str| {
            kb.and_then(|k| k.attack.mitigation(id))
                .map(|m| m.name.clone())
        };
        obj.insert("why".into(), json!(e.why));
        obj.insert("how".into(), json!(e.how));
        obj.insert("impact".into(), json!(e.impact));
        obj.insert("effort".into(), json!(e.effort));
        obj.insert(
            "mitigations".into(),
            json!(
                e.mitigations
                    .iter()
                    .map(|m| json!({"id": m, "name": name(m)}))
                    .collect::<Vec<_>>()
            ),
        );
        obj.insert(
            "triggers".into(),
            json!({
                "techniques": e.triggers.techniques,
                "rules": e.triggers.rules,
                "checks": e.triggers.checks,
                "posture": e.triggers.posture,
            }),
        );
    }
    if let Some(obj) = out.as_object_mut() {
        obj.insert("history".into(), json!(v.history));
    }
    out
}

fn score_json(s: &PostureScore) -> Value {
    json!({ "at": s.at, "achieved": s.achieved, "possible": s.possible, "percent": s.percent })
}

fn rec_id(id: &str) -> Result<RecommendationId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("recommendation {id:?} not found"),
        )
    })
}

fn bad_body(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("{field}: {e}"))
}

/// Filters of the recommendation list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecommendationQuery {
    /// Comma-separated statuses (default: all).
    pub status: Option<String>,
    /// One category: identity, device, email, cloud or data.
    pub category: Option<String>,
}

/// The tenant's recommendations, highest points first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/recommendations", tag = "recommendations", operation_id = "list_recommendations",
    params(("tenant" = String, Path, description = "The tenant's slug"), RecommendationQuery),
    responses((status = 200, description = "`{\"items\":[{id, kb_id, title, category, status, points, incidents, assets, verification, …}]}`", body = serde_json::Value),
               (status = 400, description = "A filter is invalid (named)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<RecommendationQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| bad("query", e.body_text()))?;
    let statuses = q
        .status
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(|x| {
                    x.parse::<RecommendationStatus>()
                        .map_err(|e| bad("status", e))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let category = q
        .category
        .as_deref()
        .map(|c| {
            c.parse::<RecommendationCategory>()
                .map_err(|e| bad("category", e))
        })
        .transpose()?;
    let items: Vec<Value> = s
        .service
        .list_recommendations(&p, &tenant)
        .await?
        .iter()
        .filter(|r| statuses.as_ref().is_none_or(|v| v.contains(&r.status)))
        .filter(|r| category.is_none_or(|c| c == r.category))
        .map(recommendation_json)
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// One recommendation with why, how to fix, its ATT&CK mitigations,
/// triggers and history.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/recommendations/{id}", tag = "recommendations", operation_id = "get_recommendation",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The recommendation's id")),
    responses((status = 200, description = "The recommendation with `why`, `how`, `mitigations`, `triggers` and `history`", body = serde_json::Value),
               (status = 404, description = "No such recommendation or tenant, or not yours")))]
pub async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = rec_id(&id)?;
    Ok(Json(view_json(
        &s.service.recommendation(&p, &tenant, id).await?,
    )))
}

/// The body of `PATCH /api/v1/tenants/{tenant}/recommendations/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationPatch {
    /// `open`, `planned`, `completed` (by hand), `risk_accepted`,
    /// `alternate_mitigation` or `dismissed`.
    pub status: Option<String>,
    /// Required for risk_accepted, alternate_mitigation and dismissed.
    pub reason: Option<String>,
    /// RFC 3339; required for risk_accepted: it reopens then.
    pub expires_at: Option<String>,
    /// A note to add.
    pub note: Option<String>,
}

/// Move a recommendation through its lifecycle, or add a note (provider
/// admins, delivery managers, the customer's admins and responders).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/recommendations/{id}", tag = "recommendations", operation_id = "update_recommendation",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The recommendation's id")),
    request_body = RecommendationPatch,
    responses((status = 200, description = "The recommendation after the change, with its history", body = serde_json::Value),
               (status = 400, description = "Unknown status, a risk acceptance without reason or future expiry, a dismissal without reason (named)"),
               (status = 403, description = "Your role may not update recommendations"),
               (status = 404, description = "No such recommendation or tenant, or not yours"),
               (status = 409, description = "It already has that status, or it changed meanwhile")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<RecommendationPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = rec_id(&id)?;
    let status = b
        .status
        .as_deref()
        .map(|t| {
            t.parse::<RecommendationStatus>()
                .map_err(|e| bad_body("status", e))
        })
        .transpose()?;
    let expires_at = b
        .expires_at
        .as_deref()
        .map(|t| {
            t.parse::<vigil_core::Timestamp>()
                .map_err(|e| bad_body("expires_at", e))
        })
        .transpose()?;
    let view = s
        .service
        .update_recommendation(
            &p,
            &tenant,
            id,
            RecommendationUpdate {
                status,
                reason: b.reason,
                expires_at,
                note: b.note,
            },
        )
        .await?;
    Ok(Json(view_json(&view)))
}

/// The posture score (points achieved ÷ points possible over the raised
/// recommendations; dismissed ones left out) and its trend, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/posture-score", tag = "recommendations", operation_id = "posture_score",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "`{\"current\":{at, achieved, possible, percent},\"trend\":[…]}`", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn posture_score(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = s.service.posture_score(&p, &tenant).await?;
    Ok(Json(json!({
        "current": score_json(&v.current),
        "trend": v.trend.iter().map(score_json).collect::<Vec<_>>(),
    })))
}
