//! `/api/v1/tenants/{tenant}/alerts` and `/dead-letters`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::alert::{Alert, AlertFilter};
use vigil_core::{Entity, Severity, Timestamp};

use crate::error::ApiError;
use crate::{AppState, Caller};

use crate::paging::{bad, cursor, parse_cursor};

/// Filters of the alert list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Comma-separated severities, e.g. `high,critical`.
    pub severity: Option<String>,
    /// Activity at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Activity before this time (RFC 3339).
    pub until: Option<String>,
    /// A rule id.
    pub rule: Option<String>,
    /// `kind:value`, e.g. `user:alice@acme.example`.
    pub entity: Option<String>,
    /// At most this many (default 50, at most 500).
    pub limit: Option<u32>,
    /// `next` from the previous page.
    pub cursor: Option<String>,
}

fn alert_json(a: &Alert) -> Value {
    json!({
        "id": a.id,
        "rule_id": a.rule_id,
        "rule_title": a.rule_title,
        "source": a.source,
        "severity": a.severity,
        "tactics": a.tactics,
        "techniques": a.techniques,
        "entities": a.entities,
        "first_activity": a.first_activity,
        "last_activity": a.last_activity,
        "count": a.count,
        "incident_id": a.incident_id,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    })
}

fn time(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    text.parse().map_err(|e| bad(field, e))
}

/// The cursor is the last alert's activity time and id.
fn cursor_of(a: &Alert) -> String {
    cursor(a.last_activity, a.id)
}

/// The tenant's alerts, newest activity first: `{"items":[…],"next":…}`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/alerts", tag = "alerts", operation_id = "list_alerts",
    params(("tenant" = String, Path, description = "The tenant's slug"), AlertQuery),
    responses((status = 200, description = "`{\"items\":[alert…],\"next\":cursor|null}`", body = serde_json::Value),
               (status = 400, description = "A filter is invalid (named)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn alerts(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let severities = match &q.severity {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| s.trim().parse::<Severity>().map_err(|e| bad("severity", e)))
            .collect::<Result<_, _>>()?,
    };
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, vigil_service::MAX_ALERT_PAGE);
    let filter = AlertFilter {
        severities,
        since: q.since.as_deref().map(|t| time("since", t)).transpose()?,
        until: q.until.as_deref().map(|t| time("until", t)).transpose()?,
        rule_id: q.rule.clone(),
        entity: q
            .entity
            .as_deref()
            .map(|e| e.parse::<Entity>().map_err(|err| bad("entity", err)))
            .transpose()?,
        after: q.cursor.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let items = s.service.list_alerts(&p, &tenant, filter).await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(cursor_of))
        .flatten();
    Ok(Json(json!({
        "items": items.iter().map(alert_json).collect::<Vec<_>>(),
        "next": next,
    })))
}

/// One alert with its evidence: the matching events as received.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/alerts/{id}", tag = "alerts", operation_id = "get_alert",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The alert's id")),
    responses((status = 200, description = "The alert and `events` (the first 100 matching events, as received)", body = serde_json::Value),
               (status = 404, description = "No such alert or tenant, or not yours")))]
pub async fn alert(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("alert {id:?} not found"),
        )
    })?;
    let (a, events) = s.service.alert(&p, &tenant, id).await?;
    let mut v = alert_json(&a);
    v["events"] = Value::Array(
        events
            .iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "time": e.event.time,
                    "received_at": e.received_at,
                    "shape": e.event.shape,
                    "logsource": {"product": e.event.product, "service": e.event.service, "category": e.event.category},
                    "entities": e.event.entities,
                    "raw": serde_json::from_str::<Value>(&e.event.raw).unwrap_or(Value::String(e.event.raw.clone())),
                })
            })
            .collect(),
    );
    Ok(Json(v))
}

/// Paging of dead letters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// Dead letters with a greater id (default 0).
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Records that could not be decoded, with the reason, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/dead-letters", tag = "intake", operation_id = "list_dead_letters",
    params(("tenant" = String, Path, description = "The tenant's slug"), DeadLetterQuery),
    responses((status = 200, description = "`{\"items\":[…],\"next\":id|null}`", body = serde_json::Value),
               (status = 403, description = "Your role may not manage telemetry"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn dead_letters(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<DeadLetterQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = s
        .service
        .dead_letters(&p, &tenant, q.after.unwrap_or(0), limit)
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|d| d.id))
        .flatten();
    Ok(Json(json!({ "items": items, "next": next })))
}

/// Events stored, waiting for detection, and dead letters.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/telemetry", tag = "intake", operation_id = "get_telemetry_stats",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    responses((status = 200, description = "`{\"events\",\"pending_detection\",\"dead_letters\"}`", body = serde_json::Value),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn stats(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stats = s.service.telemetry_stats(&p, &tenant).await?;
    Ok(Json(json!(stats)))
}
