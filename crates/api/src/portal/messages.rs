//! The message centre (`/messages`: every chat and inquiry message the
//! viewer may see, with read state) and "ask the experts" (the inquiries
//! of a tenant, one inquiry's thread, replies and closing).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use minijinja::{Value, context};
use serde::Deserialize;
use vigil_core::message::{InquiryId, MessageId, Thread};
use vigil_service::{InquiryFilter, MessageEntry, MessageQuery};

use super::incident::tenant_header;
use super::page::{PageResult, PortalError, Viewer, redirect};
use super::views::when;
use crate::AppState;

/// Messages listed at once.
const PAGE: u32 = 200;

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, PortalError> {
    f.map(|Form(v)| v)
        .map_err(|e| PortalError::bad_request(e.body_text()))
}

/// A message centre line, with a link to its thread.
pub fn entry(e: &MessageEntry) -> Value {
    let m = &e.message;
    let link = match m.thread {
        Thread::Incident(id) => format!("/t/{}/incidents/{id}#chat", e.tenant_slug),
        Thread::Inquiry(id) => format!("/t/{}/inquiries/{id}", e.tenant_slug),
    };
    context! {
        id => m.id.to_string(),
        tenant => e.tenant_slug,
        thread_title => e.thread_title,
        kind => m.thread.kind().to_string(),
        author => m.author,
        side => m.side.to_string(),
        body => m.body,
        at => when(m.created_at),
        read => e.read,
        link,
    }
}

#[derive(Debug, Deserialize)]
pub struct CentreQuery {
    #[serde(default)]
    unread: Option<String>,
}

/// `GET /messages`
pub async fn centre(
    State(s): State<AppState>,
    v: Viewer,
    Query(q): Query<CentreQuery>,
) -> PageResult {
    let unread_only = q.unread.is_some();
    let entries = s
        .service
        .message_centre(
            &v.principal,
            MessageQuery {
                read: unread_only.then_some(false),
                limit: PAGE,
                ..Default::default()
            },
        )
        .await?;
    let unread: Vec<String> = entries
        .iter()
        .filter(|e| !e.read)
        .map(|e| e.message.id.to_string())
        .collect();
    v.render(
        "messages.html",
        "messages",
        context! {
            title => "Messages",
            messages => entries.iter().map(entry).collect::<Vec<_>>(),
            unread_ids => unread.join(","),
            unread => unread.len(),
            unread_only,
            live => true,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct MarkForm {
    csrf: String,
    /// Comma-separated message ids.
    ids: String,
}

/// `POST /messages/read`: mark the listed messages read.
pub async fn mark_read(
    State(s): State<AppState>,
    v: Viewer,
    f: Result<Form<MarkForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let ids = f
        .ids
        .split(',')
        .filter(|i| !i.trim().is_empty())
        .map(|i| {
            i.trim()
                .parse::<MessageId>()
                .map_err(|_| PortalError::not_found("message"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !ids.is_empty() {
        s.service
            .mark_messages(&v.principal, &ids, None, true)
            .await?;
    }
    Ok(redirect("/messages"))
}

/// `GET /t/{tenant}/inquiries`
pub async fn inquiries(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
) -> PageResult {
    let tenant = tenant_header(&s, &v, &slug).await?;
    let list = s
        .service
        .inquiries(
            &v.principal,
            &slug,
            InquiryFilter {
                limit: 200,
                ..Default::default()
            },
        )
        .await?;
    v.render(
        "inquiries.html",
        "inquiries",
        context! {
            title => "Ask the experts",
            tenant,
            inquiries => list.iter().map(|i| context! {
                id => i.id.to_string(),
                subject => i.subject,
                status => i.status.to_string(),
                by => i.created_by,
                updated => when(i.updated_at),
            }).collect::<Vec<_>>(),
            live => true,
            live_tenant => slug,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct AskForm {
    csrf: String,
    subject: String,
    body: String,
}

/// `POST /t/{tenant}/inquiries`: the customer asks a question.
pub async fn ask(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    f: Result<Form<AskForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let made = s
        .service
        .create_inquiry(&v.principal, &slug, &f.subject, &f.body)
        .await?;
    Ok(redirect(&format!(
        "/t/{slug}/inquiries/{}",
        made.inquiry.id
    )))
}

fn inquiry_id(id: &str) -> Result<InquiryId, PortalError> {
    id.parse().map_err(|_| PortalError::not_found("inquiry"))
}

/// `GET /t/{tenant}/inquiries/{id}`
pub async fn inquiry(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
) -> PageResult {
    let id = inquiry_id(&id)?;
    let view = s.service.inquiry(&v.principal, &slug, id).await?;
    let tenant = tenant_header(&s, &v, &slug).await?;
    let i = &view.inquiry;
    v.render(
        "inquiry.html",
        "inquiries",
        context! {
            title => i.subject,
            tenant,
            inquiry => context! {
                id => i.id.to_string(),
                subject => i.subject,
                status => i.status.to_string(),
                by => i.created_by,
                closed => i.status == vigil_core::message::InquiryStatus::Closed,
            },
            chat => context! {
                open => true,
                messages => view.messages.iter().map(|m| context! {
                    id => m.id.to_string(),
                    author => m.author,
                    side => m.side.to_string(),
                    body => m.body,
                    at => when(m.created_at),
                }).collect::<Vec<_>>(),
            },
            live => true,
            live_tenant => slug,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    csrf: String,
    body: String,
}

/// `POST /t/{tenant}/inquiries/{id}/messages`
pub async fn reply(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<ReplyForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id = inquiry_id(&id)?;
    s.service
        .post_inquiry_message(&v.principal, &slug, id, &f.body)
        .await?;
    Ok(redirect(&format!("/t/{slug}/inquiries/{id}")))
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    csrf: String,
}

/// `POST /t/{tenant}/inquiries/{id}/close`
pub async fn close(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<CloseForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id = inquiry_id(&id)?;
    s.service.close_inquiry(&v.principal, &slug, id).await?;
    Ok(redirect(&format!("/t/{slug}/inquiries/{id}")))
}
