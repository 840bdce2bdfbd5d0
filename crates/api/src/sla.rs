//! SLA timers and breaches: `…/incidents/{id}/sla`,
//! `…/incidents/{id}/response/acknowledge`, `…/sla/breaches`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::Timestamp;
use vigil_core::sla::SlaTimer;

use crate::error::ApiError;
use crate::incidents::incident_id;
use crate::paging::bad;
use crate::{AppState, Caller};

/// The period breaches are listed for, when not given: the last 30 days.
const DEFAULT_PERIOD: SignedDuration = SignedDuration::from_hours(24 * 30);

fn friendly(d: SignedDuration) -> String {
    format!("{d:#}")
}

fn timer_json(t: &SlaTimer) -> Value {
    json!({
        "id": t.id,
        "kind": t.kind,
        "state": if t.is_running() { "running" } else { "stopped" },
        "target": friendly(t.target),
        "target_seconds": t.target.as_secs(),
        "started_at": t.started_at,
        "due_at": t.due_at,
        "stopped_at": t.stopped_at,
        "stop_reason": t.stop_reason,
        "reminded_half_at": t.reminded_half_at,
        "half_passed_over": t.half_skipped,
        "reminded_due_at": t.reminded_due_at,
        "breached_at": t.breached_at,
        "escalation_level": t.escalation_level,
        "escalated_at": t.escalated_at,
        "overdue": t.overdue.map(friendly),
        "overdue_seconds": t.overdue.map(|d| d.as_secs()),
    })
}

/// The incident's SLA timers (acknowledge, complete), oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/sla", tag = "sla", operation_id = "incident_sla",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[timer…]}`: kind, state, target, started_at, due_at, stopped_at and stop_reason, the reminders sent, breached_at, escalation_level, overdue", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn incident_sla(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let timers = s.service.incident_sla(&p, &tenant, id).await?;
    Ok(Json(
        json!({ "items": timers.iter().map(timer_json).collect::<Vec<_>>() }),
    ))
}

/// The customer acknowledges the published response: the SLA's acknowledge
/// timer stops. Idempotent: acknowledging again answers the same.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/response/acknowledge", tag = "sla", operation_id = "acknowledge_response",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[timer…]}`: the incident's timers after acknowledging", body = serde_json::Value),
               (status = 403, description = "Only the customer's admins and responders acknowledge"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "No response was published for the incident")))]
pub async fn acknowledge(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let timers = s.service.acknowledge_response(&p, &tenant, id).await?;
    Ok(Json(
        json!({ "items": timers.iter().map(timer_json).collect::<Vec<_>>() }),
    ))
}

/// The period of the breach list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BreachQuery {
    /// Breaches that began at or after this time (RFC 3339; default: 30
    /// days before `to`).
    pub from: Option<String>,
    /// Breaches that began before this time (RFC 3339; default: now).
    pub to: Option<String>,
}

/// The tenant's SLA breaches that began in the period, earliest first:
/// timers stopped at or past their due time, and those still running
/// past it, with how long over the target.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sla/breaches", tag = "sla", operation_id = "sla_breaches",
    params(("tenant" = String, Path, description = "The tenant's slug"), BreachQuery),
    responses((status = 200, description = "`{\"from\",\"to\",\"items\":[{incident, incident_title, kind, target, due_at, stopped_at, stop_reason, open, over, over_seconds}…]}`", body = serde_json::Value),
               (status = 400, description = "A time is invalid, or from is not before to (named)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn breaches(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<BreachQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let time = |field: &str, v: &Option<String>| -> Result<Option<Timestamp>, ApiError> {
        v.as_deref()
            .map(|t| t.parse::<Timestamp>().map_err(|e| bad(field, e)))
            .transpose()
    };
    let to = time("to", &q.to)?.unwrap_or_else(|| s.service.now());
    let from = match time("from", &q.from)? {
        Some(from) => from,
        None => to.checked_sub(DEFAULT_PERIOD).unwrap_or(Timestamp::MIN),
    };
    if from >= to {
        return Err(bad("from", format!("{from} is not before to ({to})")));
    }
    let items: Vec<Value> = s
        .service
        .sla_breaches(&p, &tenant, from, to)
        .await?
        .iter()
        .map(|b| {
            let t = &b.timer;
            json!({
                "incident": t.incident_id,
                "incident_title": b.incident_title,
                "kind": t.kind,
                "target": friendly(t.target),
                "due_at": t.due_at,
                "stopped_at": t.stopped_at,
                "stop_reason": t.stop_reason,
                "open": b.open,
                "over": friendly(b.over),
                "over_seconds": b.over.as_secs(),
            })
        })
        .collect();
    Ok(Json(json!({ "from": from, "to": to, "items": items })))
}
