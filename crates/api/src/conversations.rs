//! Conversations under a tenant: an incident's comments as the caller may
//! see them, its chat (`…/incidents/{id}/messages`), and inquiries
//! (`…/inquiries`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::message::{Inquiry, InquiryId, Message};
use vigil_service::{InquiryFilter, InquiryView};

use crate::error::ApiError;
use crate::paging::bad;
use crate::{AppState, Caller};

/// A message on the wire.
pub(crate) fn message_json(tenant: &str, m: &Message) -> Value {
    json!({
        "id": m.id,
        "tenant": tenant,
        "thread": m.thread,
        "author": m.author,
        "side": m.side,
        "body": m.body,
        "created_at": m.created_at,
    })
}

fn inquiry_json(tenant: &str, i: &Inquiry) -> Value {
    json!({
        "id": i.id,
        "tenant": tenant,
        "subject": i.subject,
        "status": i.status,
        "created_by": i.created_by,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "closed_by": i.closed_by,
    })
}

fn view_json(tenant: &str, v: &InquiryView) -> Value {
    let mut out = inquiry_json(tenant, &v.inquiry);
    out["messages"] = v.messages.iter().map(|m| message_json(tenant, m)).collect();
    out
}

fn incident_id(id: &str) -> Result<vigil_core::incident::IncidentId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id:?} not found"),
        )
    })
}

fn inquiry_id(id: &str) -> Result<InquiryId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("inquiry {id:?} not found"),
        )
    })
}

/// The incident's comments: customer roles never get the experts'
/// internal ones.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/comments", tag = "incidents", operation_id = "list_incident_comments",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[comment…]}`, oldest first; `internal` marks the experts' notes", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn list_comments(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let items = s.service.incident_comments(&p, &tenant, id).await?;
    Ok(Json(json!({ "items": items })))
}

/// The body of a new message.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 10,000 characters.
    pub body: String,
}

/// The incident's chat between the customer and the experts, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/messages", tag = "messages", operation_id = "list_incident_messages",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[message…]}`", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "No response is published yet: the chat opens with it")))]
pub async fn list_incident_messages(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let items = s.service.incident_messages(&p, &tenant, id).await?;
    Ok(Json(json!({
        "items": items.iter().map(|m| message_json(&tenant, m)).collect::<Vec<_>>(),
    })))
}

/// Write in the incident's chat (the customer's admins and responders, and
/// the experts); the other side is notified.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/messages", tag = "messages", operation_id = "post_incident_message",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = NewMessage,
    responses((status = 201, description = "The message", body = serde_json::Value),
               (status = 400, description = "Empty or over 10,000 characters"),
               (status = 403, description = "Your role may not write in the chat"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "No response is published yet: the chat opens with it")))]
pub async fn post_incident_message(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let m = s
        .service
        .post_incident_message(&p, &tenant, id, &b.body)
        .await?;
    Ok((StatusCode::CREATED, Json(message_json(&tenant, &m))))
}

/// The body of `POST …/inquiries`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInquiry {
    /// One line, up to 200 characters.
    pub subject: String,
    /// The question: 1 to 10,000 characters.
    pub body: String,
}

/// Ask the experts a question outside any incident (the customer's admins
/// and responders); the experts are notified.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/inquiries", tag = "messages", operation_id = "create_inquiry",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = NewInquiry,
    responses((status = 201, description = "The inquiry with its first message", body = serde_json::Value),
               (status = 400, description = "A blank or over-long subject or body (named)"),
               (status = 403, description = "Only the customer's admins and responders ask"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn create_inquiry(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<NewInquiry>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = body?;
    let v = s
        .service
        .create_inquiry(&p, &tenant, &b.subject, &b.body)
        .await?;
    Ok((StatusCode::CREATED, Json(view_json(&tenant, &v))))
}

/// Filters of the inquiry list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InquiryQuery {
    /// `open`, `answered` or `closed`.
    pub status: Option<String>,
    /// Asked by this user (email).
    pub submitter: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// The tenant's inquiries, most recently active first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/inquiries", tag = "messages", operation_id = "list_inquiries",
    params(("tenant" = String, Path, description = "The tenant's slug"), InquiryQuery),
    responses((status = 200, description = "`{\"items\":[inquiry…]}`", body = serde_json::Value),
               (status = 400, description = "A filter is invalid (named)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list_inquiries(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<InquiryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let filter = InquiryFilter {
        status: q
            .status
            .as_deref()
            .map(|s| s.parse().map_err(|e| bad("status", e)))
            .transpose()?,
        created_by: q.submitter,
        limit: q.limit.unwrap_or(100),
    };
    let items = s.service.inquiries(&p, &tenant, filter).await?;
    Ok(Json(json!({
        "items": items.iter().map(|i| inquiry_json(&tenant, i)).collect::<Vec<_>>(),
    })))
}

/// One inquiry with its messages, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/inquiries/{id}", tag = "messages", operation_id = "get_inquiry",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The inquiry's id")),
    responses((status = 200, description = "The inquiry and its `messages`", body = serde_json::Value),
               (status = 404, description = "No such inquiry or tenant, or not yours")))]
pub async fn show_inquiry(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = inquiry_id(&id)?;
    let v = s.service.inquiry(&p, &tenant, id).await?;
    Ok(Json(view_json(&tenant, &v)))
}

/// Write in an inquiry: an expert's reply marks it `answered`, the
/// customer's next message `open` again; the other side is notified.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/inquiries/{id}/messages", tag = "messages", operation_id = "post_inquiry_message",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The inquiry's id")),
    request_body = NewMessage,
    responses((status = 201, description = "The message", body = serde_json::Value),
               (status = 400, description = "Empty or over 10,000 characters"),
               (status = 403, description = "Your role may not write in it"),
               (status = 404, description = "No such inquiry or tenant, or not yours"),
               (status = 409, description = "The inquiry is closed")))]
pub async fn post_inquiry_message(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = body?;
    let id = inquiry_id(&id)?;
    let m = s
        .service
        .post_inquiry_message(&p, &tenant, id, &b.body)
        .await?;
    Ok((StatusCode::CREATED, Json(message_json(&tenant, &m))))
}

/// Close an inquiry (either side; audited).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/inquiries/{id}/close", tag = "messages", operation_id = "close_inquiry",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The inquiry's id")),
    responses((status = 200, description = "The inquiry, closed", body = serde_json::Value),
               (status = 403, description = "Your role may not close it"),
               (status = 404, description = "No such inquiry or tenant, or not yours"),
               (status = 409, description = "It is already closed")))]
pub async fn close_inquiry(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = inquiry_id(&id)?;
    let i = s.service.close_inquiry(&p, &tenant, id).await?;
    Ok(Json(inquiry_json(&tenant, &i)))
}
