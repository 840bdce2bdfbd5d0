//! Conversations: incident chat and inquiries, and per-reader read state.

use async_trait::async_trait;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::message::{Inquiry, InquiryId, InquiryStatus, Message, MessageId, Thread};
use vigil_core::{TenantId, Timestamp};

use crate::Result;

/// Which messages the message centre lists, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    /// Only these tenants. Empty: nothing (callers name the scope; there
    /// is no "every tenant" default to fall into).
    pub tenants: Vec<TenantId>,
    /// Whose read state to report (and filter on): the audit log's name of
    /// the reader. A reader's own messages count as read.
    pub reader: String,
    /// Only read (`Some(true)`) or unread (`Some(false)`) messages.
    pub read: Option<bool>,
    /// Only messages of inquiries in this status.
    pub inquiry_status: Option<InquiryStatus>,
    /// Only messages by this author (the audit log's name).
    pub author: Option<String>,
    /// Only this thread.
    pub thread: Option<Thread>,
    /// Written at or after.
    pub from: Option<Timestamp>,
    /// Written before.
    pub to: Option<Timestamp>,
    /// The page after this (created_at, id).
    pub after: Option<(Timestamp, MessageId)>,
    pub limit: u32,
}

/// A message as the message centre shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    pub message: Message,
    pub tenant_slug: String,
    /// The inquiry's subject or the incident's title.
    pub thread_title: String,
    /// The inquiry's status (incident threads have none).
    pub inquiry_status: Option<InquiryStatus>,
    pub read: bool,
}

/// Which inquiries to list, most recently active first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InquiryFilter {
    pub status: Option<InquiryStatus>,
    /// Asked by (the audit log's name).
    pub created_by: Option<String>,
    pub limit: u32,
}

/// Conversations between the customer and the experts.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Open an inquiry with its first message, in one transaction.
    async fn insert_inquiry(
        &self,
        inquiry: &Inquiry,
        first: &Message,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Add a message; with `inquiry`, move that inquiry from status
    /// `expected` to the one given ([`crate::StoreError::Conflict`] if it
    /// moved on meanwhile), in the same transaction.
    async fn insert_message(
        &self,
        message: &Message,
        inquiry: Option<(&Inquiry, InquiryStatus)>,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Store an inquiry whose stored status is `expected` (closing it).
    async fn update_inquiry(
        &self,
        inquiry: &Inquiry,
        expected: InquiryStatus,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// One of a tenant's inquiries.
    async fn inquiry(&self, tenant: TenantId, id: InquiryId) -> Result<Option<Inquiry>>;

    /// A tenant's inquiries, most recently active first.
    async fn list_inquiries(
        &self,
        tenant: TenantId,
        filter: &InquiryFilter,
    ) -> Result<Vec<Inquiry>>;

    /// The messages of one of a tenant's threads, oldest first.
    async fn thread_messages(&self, tenant: TenantId, thread: Thread) -> Result<Vec<Message>>;

    /// The message centre: messages of the filter's tenants, newest first.
    async fn list_messages(&self, filter: &MessageFilter) -> Result<Vec<MessageEntry>>;

    /// Messages by id (any tenant: the caller checks scope).
    async fn messages_by_id(&self, ids: &[MessageId]) -> Result<Vec<Message>>;

    /// Mark messages read (or unread again) for `reader`.
    async fn set_read(
        &self,
        reader: &str,
        ids: &[MessageId],
        read: bool,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;
}

/// The conformance check for conversations (run by [`crate::conformance`]):
/// an inquiry and its messages round-trip, a stale status move is a
/// conflict, read state is per reader and a reader's own messages count as
/// read, and the message centre lists only the tenants it is given.
pub(crate) async fn conformance_check(store: &dyn crate::Store) {
    use serde_json::json;
    use vigil_core::audit::Actor;
    use vigil_core::message::{Side, ThreadKind};
    use vigil_core::tenant::{Tenant, TenantName, TenantSlug};

    let now: Timestamp = "2026-11-27T10:00:00Z".parse().expect("time");
    let audit = |action: &str, t: TenantId| {
        AuditEntry::new(
            now,
            &Actor::Cli("tester".into()),
            action,
            Some(t),
            "x",
            json!({}),
        )
    };
    let mut tenants = Vec::new();
    for slug in ["talk-a", "talk-b"] {
        let t = Tenant::new(
            TenantSlug::parse(slug).expect("slug"),
            TenantName::parse("Talk").expect("name"),
            now,
        );
        store
            .insert_tenant(&t, audit("tenant.create", t.id))
            .await
            .expect("tenant");
        tenants.push(t.id);
    }
    let (a, b) = (tenants[0], tenants[1]);
    let mut inquiry = Inquiry {
        id: InquiryId::new_at(now),
        tenant_id: a,
        subject: "VPN logins from abroad".into(),
        status: InquiryStatus::Open,
        created_by: "user:soc@a.example".into(),
        created_at: now,
        updated_at: now,
        closed_by: None,
    };
    let message = |tenant, side: Side, author: &str, body: &str| Message {
        id: MessageId::new_at(now),
        tenant_id: tenant,
        thread: Thread::Inquiry(inquiry.id),
        author: author.into(),
        side,
        body: body.into(),
        created_at: now,
    };
    let first = message(a, Side::Customer, "user:soc@a.example", "Is this expected?");
    store
        .insert_inquiry(&inquiry, &first, audit("inquiry.create", a))
        .await
        .expect("inquiry");
    let reply = message(
        a,
        Side::Provider,
        "user:analyst@mdr.example",
        "Yes: travel.",
    );
    inquiry.status = InquiryStatus::Answered;
    store
        .insert_message(
            &reply,
            Some((&inquiry, InquiryStatus::Open)),
            audit("message.post", a),
        )
        .await
        .expect("reply");
    let stale = store
        .insert_message(
            &message(a, Side::Provider, "user:analyst@mdr.example", "Again"),
            Some((&inquiry, InquiryStatus::Open)),
            audit("message.post", a),
        )
        .await;
    assert!(
        matches!(stale, Err(crate::StoreError::Conflict { .. })),
        "{stale:?}"
    );
    assert_eq!(
        store.inquiry(a, inquiry.id).await.expect("read"),
        Some(inquiry.clone())
    );
    assert_eq!(store.inquiry(b, inquiry.id).await.expect("read"), None);
    let thread = store
        .thread_messages(a, Thread::Inquiry(inquiry.id))
        .await
        .expect("thread");
    assert_eq!(thread.len(), 2, "the stale message was not kept");
    assert_eq!(thread[0].thread.kind(), ThreadKind::Inquiry);
    let listed = store
        .list_inquiries(
            a,
            &InquiryFilter {
                status: Some(InquiryStatus::Answered),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);

    let centre = |reader: &str, read: Option<bool>, tenants: Vec<TenantId>| MessageFilter {
        tenants,
        reader: reader.into(),
        read,
        limit: 50,
        ..Default::default()
    };
    let soc = "user:soc@a.example";
    let unread = store
        .list_messages(&centre(soc, Some(false), vec![a]))
        .await
        .expect("centre");
    assert_eq!(unread.len(), 1, "own messages count as read");
    assert_eq!(unread[0].message.id, reply.id);
    assert_eq!(unread[0].thread_title, "VPN logins from abroad");
    assert_eq!(unread[0].inquiry_status, Some(InquiryStatus::Answered));
    store
        .set_read(soc, &[reply.id], true, now, audit("message.read", a))
        .await
        .expect("read");
    assert!(
        store
            .list_messages(&centre(soc, Some(false), vec![a]))
            .await
            .expect("centre")
            .is_empty()
    );
    let other = store
        .list_messages(&centre("user:other@a.example", Some(false), vec![a]))
        .await
        .expect("centre");
    assert_eq!(other.len(), 2, "read state is per reader");
    assert!(
        store
            .list_messages(&centre(soc, None, vec![b]))
            .await
            .expect("centre")
            .is_empty()
    );
    assert!(
        store
            .list_messages(&centre(soc, None, Vec::new()))
            .await
            .expect("centre")
            .is_empty(),
        "no tenants named, nothing listed"
    );
    store
        .set_read(soc, &[reply.id], false, now, audit("message.unread", a))
        .await
        .expect("unread");
    assert_eq!(
        store
            .list_messages(&centre(soc, Some(false), vec![a]))
            .await
            .expect("centre")
            .len(),
        1
    );
    let found = store
        .messages_by_id(&[first.id, reply.id])
        .await
        .expect("by id");
    assert_eq!(found.len(), 2);
}
