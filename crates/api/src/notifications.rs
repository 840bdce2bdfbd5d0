//! `/api/v1/tenants/{tenant}/notifications`: the delivery log. Webhook
//! destinations appear by channel name only; URLs and secrets stay in the
//! tenant's settings.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::notification::{Delivery, DeliveryId, Notification, NotificationId};

use crate::error::ApiError;
use crate::{AppState, Caller};

/// Paging of the delivery log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// At most this many notifications (default 50, at most 200).
    pub limit: Option<u32>,
    /// `next` from the previous page.
    pub cursor: Option<String>,
}

pub(crate) fn delivery_json(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "notification_id": d.notification,
        "destination": d.destination,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_error": d.last_error,
        "updated_at": d.updated_at,
    })
}

fn notification_json(n: &Notification) -> Value {
    json!({
        "id": n.id,
        "kind": n.kind,
        "audience": n.audience,
        "subject": n.subject,
        "body": n.body,
        "link": n.link,
        "incident": n.incident,
        "created_at": n.created_at,
    })
}

fn delivery_id(id: &str) -> Result<DeliveryId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("delivery {id:?} not found"),
        )
    })
}

/// The tenant's notifications, newest first, each with its deliveries:
/// `{"items":[…],"next":…}`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/notifications", tag = "notifications", operation_id = "list_notifications",
    params(("tenant" = String, Path, description = "The tenant's slug"), NotificationQuery),
    responses((status = 200, description = "`{\"items\":[notification with `deliveries`…],\"next\":cursor|null}`; each delivery has `destination` (`{\"kind\":\"email\",\"to\"}` or `{\"kind\":\"webhook\",\"channel\"}`), `status` (pending, held, sent, retrying, dead), `attempts`, `next_attempt_at`, `last_error`", body = serde_json::Value),
               (status = 400, description = "The cursor or limit is invalid"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<NotificationQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let before = crate::paging::parse_id_cursor::<NotificationId>(q.cursor.as_deref())?;
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, vigil_service::MAX_NOTIFICATION_PAGE);
    let page = s.service.notifications(&p, &tenant, before, limit).await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|(n, _)| n.id.to_string()))
        .flatten();
    let items: Vec<Value> = page
        .iter()
        .map(|(n, ds)| {
            let mut v = notification_json(n);
            v["deliveries"] = Value::Array(ds.iter().map(delivery_json).collect());
            v
        })
        .collect();
    Ok(Json(json!({"items": items, "next": next})))
}

/// One delivery with its notification and every attempt.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/notifications/deliveries/{id}", tag = "notifications", operation_id = "show_delivery",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The delivery's id")),
    responses((status = 200, description = "The delivery, its `notification` and `attempts` (`at`, `outcome`: sent, failed, dead or requeued, `detail`)", body = serde_json::Value),
               (status = 404, description = "No such delivery or tenant, or not yours")))]
pub async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let view = s.service.delivery(&p, &tenant, delivery_id(&id)?).await?;
    let mut v = delivery_json(&view.delivery);
    v["notification"] = notification_json(&view.notification);
    v["attempts"] = json!(view.attempts);
    Ok(Json(v))
}

/// Requeue a dead delivery: due now, with the whole retry schedule again.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/notifications/deliveries/{id}/retry", tag = "notifications", operation_id = "retry_delivery",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The delivery's id")),
    responses((status = 200, description = "The delivery, pending again", body = serde_json::Value),
               (status = 403, description = "Only provider and customer admins retry deliveries"),
               (status = 404, description = "No such delivery or tenant, or not yours"),
               (status = 409, description = "The delivery is not dead")))]
pub async fn retry(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let d = s
        .service
        .retry_delivery(&p, &tenant, delivery_id(&id)?)
        .await?;
    Ok(Json(delivery_json(&d)))
}
