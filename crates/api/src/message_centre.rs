//! `/api/v1/messages`: the message centre (incident chats and inquiries the
//! caller may see, with the caller's read state), its CSV export, and
//! marking messages read.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::Timestamp;
use vigil_core::message::{InquiryStatus, MessageId, Thread};
use vigil_service::{MessageEntry, MessageQuery};

use crate::error::ApiError;
use crate::paging::{bad, cursor, parse_cursor};
use crate::{AppState, Caller};

/// The CSV export stops after this many messages (narrow the filters for
/// more).
const MAX_EXPORT_ROWS: usize = 50_000;

/// Filters of the message centre.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageCentreQuery {
    /// `read` or `unread` (for you), or an inquiry status: `open`,
    /// `answered`, `closed` (messages of such inquiries).
    pub status: Option<String>,
    /// Written by this user (email).
    pub submitter: Option<String>,
    /// Only this incident's chat (its id).
    pub incident: Option<String>,
    /// Only this inquiry (its id).
    pub inquiry: Option<String>,
    /// Written at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Written before this time (RFC 3339).
    pub to: Option<String>,
    /// One tenant's slug (provider roles; customers see their own anyway).
    pub tenant: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// At most this many (default 100, at most 1000; the CSV export takes
    /// every match).
    pub limit: Option<u32>,
    /// `next` from the previous page.
    pub cursor: Option<String>,
}

fn time(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    text.parse().map_err(|e| bad(field, e))
}

impl MessageCentreQuery {
    fn to_service(&self) -> Result<MessageQuery, ApiError> {
        let (read, inquiry_status) = match self.status.as_deref().map(str::trim) {
            None => (None, None),
            Some("read") => (Some(true), None),
            Some("unread") => (Some(false), None),
            Some(other) => (
                None,
                Some(other.parse::<InquiryStatus>().map_err(|_| {
                    bad(
                        "status",
                        format!("{other:?}: expected read, unread, open, answered or closed"),
                    )
                })?),
            ),
        };
        let thread = match (&self.incident, &self.inquiry) {
            (Some(_), Some(_)) => {
                return Err(bad("incident", "give incident or inquiry, not both"));
            }
            (Some(i), None) => Some(Thread::Incident(
                i.parse()
                    .map_err(|_| bad("incident", "not an incident id"))?,
            )),
            (None, Some(i)) => Some(Thread::Inquiry(
                i.parse().map_err(|_| bad("inquiry", "not an inquiry id"))?,
            )),
            (None, None) => None,
        };
        Ok(MessageQuery {
            tenant: self.tenant.clone(),
            read,
            inquiry_status,
            submitter: self.submitter.clone(),
            thread,
            from: self.from.as_deref().map(|t| time("from", t)).transpose()?,
            to: self.to.as_deref().map(|t| time("to", t)).transpose()?,
            after: self.cursor.as_deref().map(parse_cursor).transpose()?,
            limit: self.limit.unwrap_or(100),
        })
    }
}

fn entry_json(e: &MessageEntry) -> Value {
    let mut v = crate::conversations::message_json(&e.tenant_slug, &e.message);
    v["thread_title"] = json!(e.thread_title);
    v["inquiry_status"] = json!(e.inquiry_status);
    v["read"] = json!(e.read);
    v
}

/// The message centre: messages of incident chats and inquiries you may
/// see (provider roles: every tenant; customer roles: their own), newest
/// first, with your read state. `format=csv` exports every match as CSV.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", operation_id = "list_messages",
    params(MessageCentreQuery),
    responses((status = 200, description = "`{\"items\":[message…],\"next\":cursor|null}`, each with `read`, `thread_title`, `inquiry_status`; or `text/csv` with `format=csv`", body = serde_json::Value),
               (status = 400, description = "A filter is invalid (named)"),
               (status = 404, description = "The named tenant does not exist or is not yours")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    query: Result<Query<MessageCentreQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    match q.format.as_deref() {
        None | Some("json") => {}
        Some("csv") => return export(&s, &p, &q).await,
        Some(other) => return Err(bad("format", format!("{other:?}: expected json or csv"))),
    }
    let mq = q.to_service()?;
    let limit = mq.limit.clamp(1, vigil_service::MAX_MESSAGE_PAGE) as usize;
    let items = s.service.message_centre(&p, mq).await?;
    let next = (items.len() == limit)
        .then(|| {
            items
                .last()
                .map(|e| cursor(e.message.created_at, e.message.id))
        })
        .flatten();
    Ok(Json(json!({
        "items": items.iter().map(entry_json).collect::<Vec<_>>(),
        "next": next,
    }))
    .into_response())
}

/// The message centre as CSV: every match, newest first.
#[utoipa::path(get, path = "/api/v1/messages.csv", tag = "messages", operation_id = "export_messages",
    params(MessageCentreQuery),
    responses((status = 200, description = "`text/csv` with a header row: id, tenant, thread_kind, thread_id, thread_title, inquiry_status, author, side, created_at, read, body. Cells that a spreadsheet would take for a formula start with a single quote", content_type = "text/csv", body = String),
               (status = 400, description = "A filter is invalid (named)"),
               (status = 404, description = "The named tenant does not exist or is not yours")))]
pub async fn list_csv(
    State(s): State<AppState>,
    Caller(p): Caller,
    query: Result<Query<MessageCentreQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    export(&s, &p, &q).await
}

async fn export(
    s: &AppState,
    p: &vigil_core::identity::Principal,
    q: &MessageCentreQuery,
) -> Result<Response, ApiError> {
    let mut mq = q.to_service()?;
    mq.limit = vigil_service::MAX_MESSAGE_PAGE;
    let mut rows: Vec<MessageEntry> = Vec::new();
    loop {
        let page = s.service.message_centre(p, mq.clone()).await?;
        let full = page.len() == mq.limit as usize;
        mq.after = page.last().map(|e| (e.message.created_at, e.message.id));
        rows.extend(page);
        if !full || rows.len() >= MAX_EXPORT_ROWS {
            break;
        }
    }
    rows.truncate(MAX_EXPORT_ROWS);
    let body = to_csv(&rows).map_err(|e| {
        tracing::error!(error = %e, "csv export failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"messages.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return before one) gets a leading single quote, so it
/// is shown as text.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

fn to_csv(rows: &[MessageEntry]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "tenant",
        "thread_kind",
        "thread_id",
        "thread_title",
        "inquiry_status",
        "author",
        "side",
        "created_at",
        "read",
        "body",
    ])?;
    for e in rows {
        let m = &e.message;
        let cells = [
            m.id.to_string(),
            e.tenant_slug.clone(),
            m.thread.kind().to_string(),
            m.thread.id_text(),
            e.thread_title.clone(),
            e.inquiry_status.map(|s| s.to_string()).unwrap_or_default(),
            m.author.clone(),
            m.side.to_string(),
            m.created_at.to_string(),
            e.read.to_string(),
            m.body.clone(),
        ];
        w.write_record(cells.iter().map(|c| defuse(c).into_owned()))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The body of `POST /api/v1/messages/read`: messages by id, or a whole
/// thread, or both.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    #[serde(default)]
    pub ids: Vec<String>,
    /// `incident:<id>` or `inquiry:<id>`: every message of that thread.
    pub thread: Option<String>,
    /// Mark them unread again (default: read).
    #[serde(default)]
    pub unread: bool,
}

/// Mark messages read (or unread) for you.
#[utoipa::path(post, path = "/api/v1/messages/read", tag = "messages", operation_id = "mark_messages_read",
    request_body = MarkRead,
    responses((status = 200, description = "`{\"marked\":n}`", body = serde_json::Value),
               (status = 400, description = "No ids and no thread, or an invalid one (named)"),
               (status = 404, description = "A message that does not exist or is not yours (named)")))]
pub async fn mark_read(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<MarkRead>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let invalid = |field: &str, e: String| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("{field}: {e}"))
    };
    if b.ids.is_empty() && b.thread.is_none() {
        return Err(invalid("ids", "give message ids or a thread".into()));
    }
    let ids = b
        .ids
        .iter()
        .map(|i| {
            i.parse::<MessageId>().map_err(|_| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("message {i:?} not found"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let thread = b
        .thread
        .as_deref()
        .map(|t| t.parse::<Thread>().map_err(|e| invalid("thread", e)))
        .transpose()?;
    let marked = s.service.mark_messages(&p, &ids, thread, !b.unread).await?;
    Ok(Json(json!({ "marked": marked })))
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_quoted_as_text() {
        assert_eq!(defuse("=1+1"), "'=1+1");
        assert_eq!(defuse("+cmd"), "'+cmd");
        assert_eq!(defuse("-2"), "'-2");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("plain = fine"), "plain = fine");
    }
}
