//! Conversations between the customer and the experts (PRODUCT.md §9): a
//! chat thread per incident once its response is published, questions
//! asked outside incidents (inquiries), and the message centre that lists
//! both with each reader's read state. Each new message notifies the other
//! side and goes on the live bus.

use serde_json::json;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Permission, Principal, Role};
use vigil_core::incident::IncidentId;
use vigil_core::message::{
    Inquiry, InquiryId, InquiryStatus, Message, MessageBody, MessageId, Side, Subject, Thread,
    check_close, status_after_message,
};
use vigil_core::notification::{Audience, NewNotification, NotificationKind};
use vigil_core::tenant::Tenant;
use vigil_core::{TenantId, Timestamp};
use vigil_store::{InquiryFilter, MessageEntry, MessageFilter};

use crate::authz::is_provider_side;
use crate::{LiveEvent, LiveKind, Result, Service, ServiceError};

/// The most messages one page of the message centre holds.
pub const MAX_MESSAGE_PAGE: u32 = 1000;
/// The most inquiries one list holds.
pub const MAX_INQUIRY_PAGE: u32 = 500;
/// A notification quotes at most this many characters of a message.
const QUOTE_CHARS: usize = 500;

/// An inquiry with its messages, oldest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InquiryView {
    pub inquiry: Inquiry,
    pub messages: Vec<Message>,
}

/// What the message centre lists (all optional; see [`MessageFilter`]).
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    /// One tenant's slug (provider roles; customers have only theirs).
    pub tenant: Option<String>,
    pub read: Option<bool>,
    pub inquiry_status: Option<InquiryStatus>,
    /// The writer: an email, or the audit log's name (`user:EMAIL`).
    pub submitter: Option<String>,
    pub thread: Option<Thread>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub after: Option<(Timestamp, MessageId)>,
    pub limit: u32,
}

/// The side a principal writes for (ingest keys never get this far).
fn side_of(p: &Principal) -> Side {
    if is_provider_side(p) {
        Side::Provider
    } else {
        Side::Customer
    }
}

fn invalid(e: impl ToString) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

/// `user:EMAIL` for a bare email; the audit log's names pass as they are.
fn author_name(submitter: &str) -> String {
    let s = submitter.trim();
    if s.contains(':') {
        s.to_owned()
    } else {
        format!("user:{}", s.to_ascii_lowercase())
    }
}

fn quote(body: &str) -> String {
    let mut q: String = body.chars().take(QUOTE_CHARS).collect();
    if body.chars().count() > QUOTE_CHARS {
        q.push('…');
    }
    q
}

impl Service {
    /// The chat of an incident: open once the experts published a response
    /// (a published summary version); before that, refused naming why.
    async fn open_chat(&self, p: &Principal, tenant: &str, id: IncidentId) -> Result<Tenant> {
        // Reading the incident checks (and audits) the caller's access.
        self.incident(p, tenant, id).await?;
        let published = self.store.summaries(id).await?.iter().any(|v| v.published);
        if !published {
            return Err(ServiceError::Refused(format!(
                "incident {id} has no published response yet: its chat opens when the experts publish one"
            )));
        }
        self.load_tenant(tenant).await
    }

    /// The messages of an incident's chat, oldest first.
    pub async fn incident_messages(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<Vec<Message>> {
        let t = self.open_chat(p, tenant, id).await?;
        Ok(self
            .store
            .thread_messages(t.id, Thread::Incident(id))
            .await?)
    }

    /// Write in an incident's chat: the customer's admins and responders,
    /// and the experts.
    pub async fn post_incident_message(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        body: &str,
    ) -> Result<Message> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::CommentIncidents, Some(&t), false)
            .await?;
        let body = MessageBody::parse(body).map_err(invalid)?;
        let t = self.open_chat(p, tenant, id).await?;
        let message = self.message(p, &t, Thread::Incident(id), body);
        let audit = self.message_audit(p, &t, &message);
        self.store.insert_message(&message, None, audit).await?;
        // The customer answering in the chat acknowledges the response.
        self.acknowledged_by_action(p, &t, id, vigil_core::sla::StopReason::Comment)
            .await?;
        self.after_message(&t, &message, &format!("incident {id}"), Some(id))
            .await;
        Ok(message)
    }

    /// Ask the experts a question outside any incident (the customer's
    /// admins and responders).
    pub async fn create_inquiry(
        &self,
        p: &Principal,
        tenant: &str,
        subject: &str,
        body: &str,
    ) -> Result<InquiryView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::CommentIncidents, Some(&t), false)
            .await?;
        if side_of(p) != Side::Customer {
            return Err(ServiceError::Forbidden(
                "open an inquiry (the customer asks; the experts answer)",
            ));
        }
        let subject = Subject::parse(subject).map_err(invalid)?;
        let body = MessageBody::parse(body).map_err(invalid)?;
        let now = self.clock.now();
        let inquiry = Inquiry {
            id: InquiryId::new_at(now),
            tenant_id: t.id,
            subject: subject.as_str().to_owned(),
            status: InquiryStatus::Open,
            created_by: p.actor().to_text(),
            created_at: now,
            updated_at: now,
            closed_by: None,
        };
        let first = self.message(p, &t, Thread::Inquiry(inquiry.id), body);
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "inquiry.create",
            Some(t.id),
            format!("inquiry:{}", inquiry.id),
            json!({"subject": inquiry.subject}),
        );
        self.store.insert_inquiry(&inquiry, &first, audit).await?;
        self.publish(LiveEvent::new(t.id, LiveKind::Inquiry, inquiry.id, None));
        self.after_message(&t, &first, &inquiry.subject, None).await;
        Ok(InquiryView {
            inquiry,
            messages: vec![first],
        })
    }

    /// A tenant's inquiries, most recently active first.
    pub async fn inquiries(
        &self,
        p: &Principal,
        tenant: &str,
        mut filter: InquiryFilter,
    ) -> Result<Vec<Inquiry>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        filter.limit = filter.limit.clamp(1, MAX_INQUIRY_PAGE);
        filter.created_by = filter.created_by.as_deref().map(author_name);
        Ok(self.store.list_inquiries(t.id, &filter).await?)
    }

    /// One inquiry with its messages.
    pub async fn inquiry(&self, p: &Principal, tenant: &str, id: InquiryId) -> Result<InquiryView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        let inquiry = self.load_inquiry(&t, id).await?;
        let messages = self
            .store
            .thread_messages(t.id, Thread::Inquiry(id))
            .await?;
        Ok(InquiryView { inquiry, messages })
    }

    async fn load_inquiry(&self, t: &Tenant, id: InquiryId) -> Result<Inquiry> {
        self.store
            .inquiry(t.id, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "inquiry",
                key: id.to_string(),
            })
    }

    /// Write in an inquiry: an expert's reply marks it answered, the
    /// customer's next message opens it again; a closed one takes none.
    pub async fn post_inquiry_message(
        &self,
        p: &Principal,
        tenant: &str,
        id: InquiryId,
        body: &str,
    ) -> Result<Message> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::CommentIncidents, Some(&t), false)
            .await?;
        let body = MessageBody::parse(body).map_err(invalid)?;
        let mut inquiry = self.load_inquiry(&t, id).await?;
        let from = inquiry.status;
        let side = side_of(p);
        inquiry.status = status_after_message(from, side).map_err(ServiceError::Refused)?;
        let message = self.message(p, &t, Thread::Inquiry(id), body);
        inquiry.updated_at = message.created_at;
        let audit = self.message_audit(p, &t, &message);
        self.store
            .insert_message(&message, Some((&inquiry, from)), audit)
            .await?;
        if inquiry.status != from {
            self.publish(LiveEvent::new(t.id, LiveKind::Inquiry, id, None));
        }
        self.after_message(&t, &message, &inquiry.subject, None)
            .await;
        Ok(message)
    }

    /// Close an inquiry (either side; audited).
    pub async fn close_inquiry(
        &self,
        p: &Principal,
        tenant: &str,
        id: InquiryId,
    ) -> Result<Inquiry> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::CommentIncidents, Some(&t), false)
            .await?;
        let mut inquiry = self.load_inquiry(&t, id).await?;
        let from = inquiry.status;
        check_close(from).map_err(ServiceError::Refused)?;
        let now = self.clock.now();
        inquiry.status = InquiryStatus::Closed;
        inquiry.updated_at = now;
        inquiry.closed_by = Some(p.actor().to_text());
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "inquiry.close",
            Some(t.id),
            format!("inquiry:{id}"),
            json!({"from": from}),
        );
        self.store.update_inquiry(&inquiry, from, audit).await?;
        self.publish(LiveEvent::new(t.id, LiveKind::Inquiry, id, None));
        Ok(inquiry)
    }

    fn message(&self, p: &Principal, t: &Tenant, thread: Thread, body: MessageBody) -> Message {
        let now = self.clock.now();
        Message {
            id: MessageId::new_at(now),
            tenant_id: t.id,
            thread,
            author: p.actor().to_text(),
            side: side_of(p),
            body: body.into_string(),
            created_at: now,
        }
    }

    fn message_audit(&self, p: &Principal, t: &Tenant, m: &Message) -> AuditEntry {
        AuditEntry::new(
            m.created_at,
            &p.actor(),
            "message.post",
            Some(t.id),
            format!("{}", m.thread),
            json!({"message": m.id, "characters": m.body.chars().count()}),
        )
    }

    /// A stored message goes on the live bus and to the other side: the
    /// experts (analysts) hear of the customer's, the customer's admins and
    /// responders of the experts'. A failed notification is logged; the
    /// message stands.
    async fn after_message(
        &self,
        t: &Tenant,
        m: &Message,
        title: &str,
        incident: Option<IncidentId>,
    ) {
        self.publish(LiveEvent::new(t.id, LiveKind::Message, m.id, incident));
        let audience = match m.side {
            Side::Customer => Audience::Roles(vec![Role::Analyst]),
            Side::Provider => Audience::Roles(vec![Role::CustomerAdmin, Role::CustomerResponder]),
        };
        let (kind, link) = match m.thread {
            Thread::Incident(i) => (
                NotificationKind::Message,
                format!("/tenants/{}/incidents/{i}", t.slug),
            ),
            Thread::Inquiry(i) => (
                NotificationKind::Inquiry,
                format!("/tenants/{}/inquiries/{i}", t.slug),
            ),
        };
        let from = match m.side {
            Side::Customer => format!("{} ({})", m.author, t.name),
            Side::Provider => "the experts".to_owned(),
        };
        let n = NewNotification {
            kind,
            audience,
            subject: format!("New message from {from}: {title}"),
            body: quote(&m.body),
            link: Some(link),
            incident,
        };
        if let Err(e) = self.notify(t, n).await {
            tracing::error!(error = %e, message = %m.id, "could not queue the notification of a new message");
        }
    }

    /// The tenants whose messages the caller may list: one named tenant, or
    /// every tenant the one authorisation rule lets them read (a customer's
    /// own; every tenant for provider roles).
    async fn message_scope(&self, p: &Principal, tenant: Option<&str>) -> Result<Vec<Tenant>> {
        if matches!(p, Principal::IngestKey { .. }) {
            return Err(ServiceError::NotFound {
                what: "route",
                key: "messages".into(),
            });
        }
        if let Some(slug) = tenant {
            let t = self.load_tenant(slug).await?;
            self.authorize(p, Permission::ReadTenant, Some(&t), false)
                .await?;
            return Ok(vec![t]);
        }
        let mut scope = Vec::new();
        for t in self.store.list_tenants().await? {
            match self
                .authorize(p, Permission::ReadTenant, Some(&t), false)
                .await
            {
                Ok(()) => scope.push(t),
                Err(ServiceError::NotFound { .. } | ServiceError::Forbidden(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(scope)
    }

    /// The message centre: messages of incident chats and inquiries the
    /// caller may see, newest first, with the caller's read state. A
    /// provider role's read is audited for each tenant whose messages it
    /// got.
    pub async fn message_centre(
        &self,
        p: &Principal,
        q: MessageQuery,
    ) -> Result<Vec<MessageEntry>> {
        let scope = self.message_scope(p, q.tenant.as_deref()).await?;
        let filter = MessageFilter {
            tenants: scope.iter().map(|t| t.id).collect(),
            reader: p.actor().to_text(),
            read: q.read,
            inquiry_status: q.inquiry_status,
            author: q.submitter.as_deref().map(author_name),
            thread: q.thread,
            from: q.from,
            to: q.to,
            after: q.after,
            limit: q.limit.clamp(1, MAX_MESSAGE_PAGE),
        };
        let entries = self.store.list_messages(&filter).await?;
        let mut seen: Vec<TenantId> = entries.iter().map(|e| e.message.tenant_id).collect();
        seen.sort();
        seen.dedup();
        for t in scope.iter().filter(|t| seen.binary_search(&t.id).is_ok()) {
            self.authorize(p, Permission::ReadTenant, Some(t), true)
                .await?;
        }
        Ok(entries)
    }

    /// Mark messages read (or unread) for the caller: by id, or every
    /// message of one thread. An id the caller may not see is "not found".
    /// Returns how many messages were marked.
    pub async fn mark_messages(
        &self,
        p: &Principal,
        ids: &[MessageId],
        thread: Option<Thread>,
        read: bool,
    ) -> Result<usize> {
        let scope = self.message_scope(p, None).await?;
        let found = self.store.messages_by_id(ids).await?;
        // (message, tenant) of every message to mark.
        let mut marked: Vec<(MessageId, TenantId)> = Vec::new();
        for id in ids {
            let m = found
                .iter()
                .find(|m| m.id == *id)
                .filter(|m| scope.iter().any(|t| t.id == m.tenant_id))
                .ok_or_else(|| ServiceError::NotFound {
                    what: "message",
                    key: id.to_string(),
                })?;
            marked.push((m.id, m.tenant_id));
        }
        if let Some(thread) = thread {
            let filter = MessageFilter {
                tenants: scope.iter().map(|t| t.id).collect(),
                reader: p.actor().to_text(),
                thread: Some(thread),
                limit: MAX_MESSAGE_PAGE,
                ..Default::default()
            };
            let entries = self.store.list_messages(&filter).await?;
            marked.extend(entries.iter().map(|e| (e.message.id, e.message.tenant_id)));
        }
        marked.sort();
        marked.dedup();
        let Some(&(_, first)) = marked.first() else {
            return Ok(0);
        };
        let one_tenant = marked.iter().all(|(_, t)| *t == first).then_some(first);
        let marked: Vec<MessageId> = marked.into_iter().map(|(m, _)| m).collect();
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            if read {
                "message.read"
            } else {
                "message.unread"
            },
            one_tenant,
            "messages",
            json!({"messages": marked.len()}),
        );
        self.store
            .set_read(&p.actor().to_text(), &marked, read, now, audit)
            .await?;
        Ok(marked.len())
    }
}
