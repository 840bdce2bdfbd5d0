//! Vigil's persistence layer.
//!
//! One trait per aggregate ([`TenantStore`], [`AuditStore`]), gathered in
//! [`Store`]. Each backend lives in its own module with its own migrations
//! (`migrations/<backend>/NNNN_name.sql`) and must pass the one
//! [`conformance`] suite: the embedded SQLite backend and the PostgreSQL
//! one (`postgres/`) for several processes sharing a database.
//!
//! Invariant: every method that changes state takes the [`AuditEntry`] that
//! describes the change and writes it in the same transaction, so no change
//! can reach the database without its audit record.

pub mod conformance;
mod error;
mod hunting;
mod messages;
mod migrate;
pub mod postgres;
mod recommendations;
mod reports;
pub mod sqlite;

use async_trait::async_trait;
use vigil_core::TenantId;
use vigil_core::alert::{Alert, AlertFilter, AlertId, Observation};
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::identity::{ApiToken, IngestKey, IngestKeyId, TokenId, User, UserId};
use vigil_core::notification::{Delivery, DeliveryId, Notification, NotificationId};
use vigil_core::session::{LoginFailures, Session, SessionId};
use vigil_core::sla::SlaTimer;
use vigil_core::telemetry::{DeadLetter, IntakeBatch, IntakeCounts, StoredEvent};
use vigil_core::tenant::{Tenant, TenantSlug};

pub use error::StoreError;
pub use hunting::HuntStore;
pub use messages::{InquiryFilter, MessageEntry, MessageFilter, MessageStore};
pub use migrate::{Migration, MigrationReport};
pub use postgres::PgStore;
pub use recommendations::{RecommendationChange, RecommendationStore};
pub use reports::{ReportIncident, ReportStore};
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Tenants and their settings.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Insert a new tenant. Fails with [`StoreError::Duplicate`] if the slug
    /// or id is taken.
    async fn insert_tenant(&self, tenant: &Tenant, audit: AuditEntry) -> Result<AuditRecord>;

    /// Replace a tenant whose stored version is `expected_version`. Fails with
    /// [`StoreError::Conflict`] if someone else changed it meanwhile.
    async fn update_tenant(
        &self,
        tenant: &Tenant,
        expected_version: i64,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>>;

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>>;

    /// All tenants, ordered by slug.
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;
}

/// The hash-chained audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append a record that accompanies no other state change.
    async fn append_audit(&self, entry: AuditEntry) -> Result<AuditRecord>;

    /// Up to `limit` records with `seq > after_seq`, in order.
    async fn audit_page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>>;

    /// Like [`AuditStore::audit_page`], only the records about one tenant.
    async fn tenant_audit_page(
        &self,
        tenant: TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;
}

/// Users, API tokens and ingest keys. Secrets arrive already hashed.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Insert a user; [`StoreError::Duplicate`] if the email is taken.
    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A user and their password hash, by (lowercase) email.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>>;

    /// Users of one tenant, or all users when `tenant` is `None`; by email.
    async fn list_users(&self, tenant: Option<TenantId>) -> Result<Vec<User>>;

    async fn insert_token(
        &self,
        token: &ApiToken,
        hash: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// The token with this hash and its user.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User)>>;

    /// Mark a token revoked at `at` ([`StoreError::NotFound`] if unknown).
    async fn revoke_token(
        &self,
        id: TokenId,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    async fn insert_ingest_key(
        &self,
        key: &IngestKey,
        hash: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// The live or revoked key with this hash.
    async fn ingest_key_by_hash(&self, hash: &str) -> Result<Option<IngestKey>>;

    /// A token and its user, by id.
    async fn token_by_id(&self, id: TokenId) -> Result<Option<(ApiToken, User)>>;

    /// A user's tokens, newest first (revoked and expired ones included).
    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>>;

    /// A tenant's ingest keys, newest first (revoked ones included).
    async fn list_ingest_keys(&self, tenant: TenantId) -> Result<Vec<IngestKey>>;

    /// Mark a tenant's key revoked ([`StoreError::NotFound`] if the tenant
    /// has no such live key).
    async fn revoke_ingest_key(
        &self,
        tenant: TenantId,
        id: IngestKeyId,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Replace a user's password hash and end their sessions, except
    /// `keep` (the session that made the change).
    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<SessionId>,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;
}

/// Portal sessions and the wrong-password counter.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Insert a session and forget the wrong passwords counted against
    /// `email`.
    async fn insert_session(
        &self,
        session: &Session,
        hash: &str,
        email: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// The session with this hash and its user.
    async fn session_by_hash(&self, hash: &str) -> Result<Option<(Session, User)>>;

    /// Mark a session ended ([`StoreError::NotFound`] if unknown or ended).
    async fn revoke_session(
        &self,
        id: SessionId,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Wrong passwords counted against `email` (lowercase).
    async fn login_failures(&self, email: &str) -> Result<Option<LoginFailures>>;

    /// Store the counter after a wrong password, with its audit record.
    async fn record_login_failure(
        &self,
        email: &str,
        state: &LoginFailures,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;
}

/// Telemetry: events, the detection queue, dead letters and alerts.
#[async_trait]
pub trait TelemetryStore: Send + Sync {
    /// Commit one intake batch in one transaction: each event once
    /// (identical records are duplicates), its entities, its place in the
    /// detection queue; the dead letters; with an idempotency key, the
    /// answer. A key seen before commits nothing and returns the first
    /// answer with `replayed`.
    /// Also returns, per event of the batch, the `seq` it was stored under
    /// (`None`: a duplicate, or the whole batch was a replay).
    async fn commit_intake(
        &self,
        tenant: TenantId,
        received_at: vigil_core::Timestamp,
        batch: &IntakeBatch,
    ) -> Result<(IntakeCounts, Vec<Option<i64>>)>;

    /// Up to `limit` events waiting for detection, oldest first; without
    /// their records (`raw` empty) unless `with_raw`.
    async fn detection_backlog(&self, limit: u32, with_raw: bool) -> Result<Vec<StoredEvent>>;

    /// The `seq` of up to `limit` events waiting for detection, oldest
    /// first (detection takes the rest from intake's hand-off when it can).
    async fn queued_seqs(&self, limit: u32) -> Result<Vec<i64>>;

    /// The records of stored events, by `seq` (any tenant: for detection).
    async fn raw_by_seq(&self, seqs: &[i64]) -> Result<Vec<(i64, String)>>;

    /// How many events wait for detection.
    async fn detection_queue_len(&self) -> Result<u64>;

    /// In one transaction: fold `observations` into alerts (a rule's
    /// matches on the same key entities within the dedup window are one
    /// alert) and take events `first..=last` off the detection queue.
    /// Returns the alerts created or updated.
    async fn commit_detections(
        &self,
        first: i64,
        last: i64,
        observations: &[(TenantId, Observation)],
        now: vigil_core::Timestamp,
    ) -> Result<Vec<AlertId>>;

    /// The events among `seqs` still waiting for detection, with their
    /// records, oldest first (a bus worker's batch; the rest were done).
    async fn queued_events(&self, seqs: &[i64]) -> Result<Vec<StoredEvent>>;

    /// In one transaction: take those of `seqs` still queued off the
    /// detection queue, then fold into alerts only the observations of the
    /// events it took. A batch delivered twice (a bus redelivery, two
    /// workers racing) is therefore folded once: the queue row is the
    /// proof that an event's detection is not yet committed. Returns the
    /// alerts created or updated and the seqs taken.
    async fn commit_detections_of(
        &self,
        seqs: &[i64],
        observations: &[(TenantId, Observation)],
        now: vigil_core::Timestamp,
    ) -> Result<(Vec<AlertId>, Vec<i64>)>;

    /// A tenant's dead letters with `id > after`, oldest first.
    async fn dead_letters(
        &self,
        tenant: TenantId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeadLetter>>;

    /// A tenant's alerts, newest activity first.
    async fn list_alerts(&self, tenant: TenantId, filter: &AlertFilter) -> Result<Vec<Alert>>;

    /// One of a tenant's alerts and the `seq` of its sample events.
    async fn alert(&self, tenant: TenantId, id: AlertId) -> Result<Option<(Alert, Vec<i64>)>>;

    /// The stored events of one tenant, by `seq`.
    async fn events_by_seq(&self, tenant: TenantId, seqs: &[i64]) -> Result<Vec<StoredEvent>>;

    /// How many events a tenant has.
    async fn count_events(&self, tenant: TenantId) -> Result<u64>;

    /// The `seq`s of a tenant's events naming any of `entities` between
    /// `from` and `to`, in time order, at most `limit`.
    async fn seqs_with_entities(
        &self,
        tenant: TenantId,
        entities: &[vigil_core::Entity],
        from: vigil_core::Timestamp,
        to: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<i64>>;

    /// A tenant's events naming any of `entities` between `from` and `to`,
    /// in time order, at most `limit`.
    async fn events_with_entities(
        &self,
        tenant: TenantId,
        entities: &[vigil_core::Entity],
        from: vigil_core::Timestamp,
        to: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        let seqs = self
            .seqs_with_entities(tenant, entities, from, to, limit)
            .await?;
        let mut events = self.events_by_seq(tenant, &seqs).await?;
        events.sort_by_key(|e| (e.event.time, e.seq));
        Ok(events)
    }

    /// How many of a tenant's events wait for detection, and how many
    /// dead letters it has.
    async fn telemetry_counts(&self, tenant: TenantId) -> Result<(u64, u64)>;

    /// Delete a tenant's events older than `before` (their entity rows
    /// too). Returns how many went.
    async fn purge_events(&self, tenant: TenantId, before: vigil_core::Timestamp) -> Result<u64>;

    /// Fold the write-ahead log back into the database and restart it, so
    /// it does not grow without bound under constant intake (a no-op where
    /// the backend has no such log).
    async fn checkpoint(&self) -> Result<()>;

    /// The right to run detection over the queue, held by one process at a
    /// time until dropped (released by the OS if the process dies).
    fn try_detection_lease(&self) -> Result<Option<DetectionLease>>;

    /// The right to run the timed jobs (SLA, deliveries, readiness,
    /// recommendations, purge), held by one `scheduler` process at a time
    /// (the others wait as standbys); released if the process dies.
    fn try_scheduler_lease(&self) -> Result<Option<DetectionLease>>;
}

/// Detection rule packs and per-tenant tuning.
#[async_trait]
pub trait RuleStore: Send + Sync {
    /// Add a pack, or replace the pack of that name (files and rules).
    async fn put_rule_pack(
        &self,
        name: &str,
        source: &str,
        files: &[vigil_core::rules::RuleFile],
        rules: &[vigil_core::rules::RuleSummary],
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Every rule file of every pack, by pack and path.
    async fn rule_files(&self) -> Result<Vec<vigil_core::rules::RuleFile>>;

    /// Every rule, by pack and path.
    async fn list_rules(&self) -> Result<Vec<vigil_core::rules::RuleSummary>>;

    /// Turn a rule on or off for a tenant.
    async fn set_rule_enabled(
        &self,
        tenant: TenantId,
        rule_id: &str,
        enabled: bool,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Add an exclusion; returns its id.
    async fn add_exclusion(
        &self,
        exclusion: &vigil_core::rules::Exclusion,
        audit: AuditEntry,
    ) -> Result<i64>;

    /// Remove a tenant's exclusion ([`StoreError::NotFound`] if it has
    /// none with that id).
    async fn remove_exclusion(
        &self,
        tenant: TenantId,
        id: i64,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A tenant's disabled rules and exclusions.
    async fn tuning(&self, tenant: TenantId) -> Result<vigil_core::rules::Tuning>;

    /// Changes whenever a pack is added or replaced: (packs, rules, last
    /// addition in microseconds).
    async fn rules_version(&self) -> Result<(i64, i64, i64)>;
}

/// An incident with the fields analysts set beside its correlation summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    pub incident: vigil_core::incident::Incident,
    pub assigned_to: Option<String>,
    pub classification: Option<String>,
    pub determination: Option<String>,
    pub tags: Vec<String>,
    pub created_at: vigil_core::Timestamp,
    pub updated_at: vigil_core::Timestamp,
    pub version: i64,
    /// Whether it is major and why (`None`: never evaluated as major).
    pub major: Option<vigil_core::major::MajorState>,
    /// The IR engagement opened for it, if any.
    pub ir_engagement: Option<vigil_core::major::IrEngagement>,
}

/// One entry of an incident's activity log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IncidentActivity {
    pub incident: vigil_core::incident::IncidentId,
    pub at: vigil_core::Timestamp,
    pub actor: String,
    /// `opened`, `alert_added`, `merged`, `merged_into`, …
    pub action: String,
    /// Why, in words (the correlation's reason names the linking entity).
    pub details: String,
}

/// A comment on an incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IncidentComment {
    pub id: i64,
    pub incident: vigil_core::incident::IncidentId,
    pub at: vigil_core::Timestamp,
    pub author: String,
    pub body: String,
    /// The experts' own note: never shown to customer roles.
    pub internal: bool,
}

/// Which incidents to list, newest activity first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only these statuses (none: every status but `redirected`).
    pub statuses: Vec<String>,
    pub include_redirected: bool,
    pub severities: Vec<vigil_core::Severity>,
    pub since: Option<vigil_core::Timestamp>,
    /// Words in the title.
    pub text: Option<String>,
    /// Assigned to this (`analyst:EMAIL`, `experts`, `customer`, or
    /// `none` for unassigned).
    pub assigned_to: Option<String>,
    /// Classified so (`none` for unclassified).
    pub classification: Option<String>,
    /// Order: newest activity first (default), or by severity (highest
    /// first, then newest activity). Paging with `after` follows activity
    /// order only.
    pub by_severity: bool,
    pub after: Option<(vigil_core::Timestamp, vigil_core::incident::IncidentId)>,
    pub limit: u32,
}

/// Incidents: what correlation reads and writes, and what people list.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Alerts no incident holds yet, oldest activity first.
    async fn alerts_without_incident(&self, limit: u32) -> Result<Vec<Alert>>;

    /// Alerts by id (any tenant: for the correlation after detection).
    async fn alerts_by_id(&self, ids: &[AlertId]) -> Result<Vec<Alert>>;

    /// A tenant's incidents alerts may still join.
    async fn open_incidents(&self, tenant: TenantId)
    -> Result<Vec<vigil_core::incident::Incident>>;

    /// In one transaction: store incidents new or changed (a redirected one
    /// hands its alerts to the incident it went into), place alerts, and
    /// append to the activity log.
    /// `audit`: the record of a person's change (a manual merge); the
    /// correlation's own placements are data and carry none.
    async fn save_correlation(
        &self,
        incidents: &[vigil_core::incident::Incident],
        placed: &[(AlertId, vigil_core::incident::IncidentId)],
        activity: &[IncidentActivity],
        now: vigil_core::Timestamp,
        audit: Option<AuditEntry>,
    ) -> Result<()>;

    async fn list_incidents(
        &self,
        tenant: TenantId,
        filter: &IncidentFilter,
    ) -> Result<Vec<IncidentRecord>>;

    /// Store an analyst's change to an incident whose stored version is
    /// `expected_version` ([`StoreError::Conflict`] if it moved on), with its
    /// activity entries and audit record; `resolve_alerts` marks its alerts
    /// resolved.
    async fn update_incident(
        &self,
        record: &IncidentRecord,
        expected_version: i64,
        activity: &[IncidentActivity],
        resolve_alerts: bool,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Add a comment (and its activity entry and audit record).
    async fn add_comment(
        &self,
        comment: &IncidentComment,
        activity: &IncidentActivity,
        audit: AuditEntry,
    ) -> Result<i64>;

    /// Set an analyst's verdict on one of a tenant's entities.
    async fn set_verdict(
        &self,
        tenant: TenantId,
        entity: &vigil_core::Entity,
        verdict: vigil_core::Verdict,
        by: &str,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// The verdicts set on any of `entities` of a tenant.
    async fn verdicts(
        &self,
        tenant: TenantId,
        entities: &[vigil_core::Entity],
    ) -> Result<Vec<(vigil_core::Entity, vigil_core::Verdict)>>;

    /// Save a new version of an incident's summary (the next number), with
    /// its audit record. Returns the version.
    async fn save_summary(
        &self,
        incident: vigil_core::incident::IncidentId,
        summary: &vigil_core::summary::Summary,
        published: bool,
        author: &str,
        at: vigil_core::Timestamp,
        audit: AuditEntry,
    ) -> Result<i64>;

    /// Every version of an incident's summary, oldest first.
    async fn summaries(
        &self,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<vigil_core::summary::SummaryVersion>>;

    /// Insert or update a task (the whole task as stored), appending a line
    /// to its history and the audit record, in one transaction.
    async fn put_task(
        &self,
        task: &vigil_core::task::Task,
        history: &str,
        actor: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// An incident's tasks, oldest first.
    async fn tasks(
        &self,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<vigil_core::task::Task>>;

    /// One of a tenant's tasks and its history (time, actor, change).
    async fn task(
        &self,
        tenant: TenantId,
        id: vigil_core::task::TaskId,
    ) -> Result<
        Option<(
            vigil_core::task::Task,
            Vec<(vigil_core::Timestamp, String, String)>,
        )>,
    >;

    /// Write lines of a task's execution record (`id` 0: a new line;
    /// otherwise the line to replace), and, when given, the task with a
    /// line of its history (task, change, actor), with the audit record, in
    /// one transaction.
    async fn save_execution(
        &self,
        task: Option<(&vigil_core::task::Task, &str, &str)>,
        lines: &[vigil_core::task::Execution],
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A task's execution record, oldest first.
    async fn executions(
        &self,
        task: vigil_core::task::TaskId,
    ) -> Result<Vec<vigil_core::task::Execution>>;

    /// Pending attempts (of any tenant) due at `now`, the earliest first.
    async fn due_executions(
        &self,
        now: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<vigil_core::task::Execution>>;

    /// An incident's comments, oldest first.
    async fn comments(
        &self,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<IncidentComment>>;

    /// One of a tenant's incidents, its alerts and its activity log.
    async fn incident(
        &self,
        tenant: TenantId,
        id: vigil_core::incident::IncidentId,
    ) -> Result<Option<(IncidentRecord, Vec<AlertId>, Vec<IncidentActivity>)>>;

    /// Store an incident's major-incident state and its IR engagement
    /// (`None` leaves the stored one), with activity log entries and the
    /// audit record, in one transaction. [`StoreError::NotFound`] when the
    /// tenant has no such incident.
    async fn save_major(
        &self,
        tenant: TenantId,
        incident: vigil_core::incident::IncidentId,
        state: &vigil_core::major::MajorState,
        engagement: Option<&vigil_core::major::IrEngagement>,
        activity: &[IncidentActivity],
        audit: AuditEntry,
    ) -> Result<AuditRecord>;
}

/// Notifications and their deliveries: the outbox the delivery worker
/// drains, and the delivery log people read.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Queue a notification with its deliveries, in one transaction.
    async fn queue_notification(
        &self,
        notification: &Notification,
        deliveries: &[Delivery],
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    async fn notification(&self, id: NotificationId) -> Result<Option<Notification>>;

    /// A tenant's notifications (all tenants when `None`), newest first,
    /// each with its deliveries; at most `limit`, before `before` if given.
    async fn notifications(
        &self,
        tenant: Option<TenantId>,
        before: Option<NotificationId>,
        limit: u32,
    ) -> Result<Vec<(Notification, Vec<Delivery>)>>;

    /// One delivery, by id (any tenant: callers check the tenant).
    async fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>>;

    /// Pending and retrying deliveries due at `now`, oldest due first.
    async fn due_deliveries(&self, now: vigil_core::Timestamp, limit: u32)
    -> Result<Vec<Delivery>>;

    /// Save a delivery after an attempt (its new status, attempts, next
    /// due time, error) and log the attempt, with an audit record if given.
    async fn record_attempt(
        &self,
        delivery: &Delivery,
        outcome: &str,
        detail: &str,
        audit: Option<AuditEntry>,
    ) -> Result<()>;

    /// A delivery's attempts, oldest first: (when, outcome, detail).
    async fn delivery_attempts(
        &self,
        delivery: DeliveryId,
    ) -> Result<Vec<(vigil_core::Timestamp, String, String)>>;
}

/// The time bounds of what a readiness assessment reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactWindows {
    /// Activity (streams, devices, clock skew) from this time on.
    pub activity_since: vigil_core::Timestamp,
    /// "The last day" starts here.
    pub day_start: vigil_core::Timestamp,
    /// Identities seen in telemetry from this time on.
    pub identity_since: vigil_core::Timestamp,
    /// Inventory and posture snapshots from this time on.
    pub snapshot_since: vigil_core::Timestamp,
}

/// What the store knows that the readiness assessment reads (the
/// inventory shapes are left out of activity: a snapshot is not telemetry
/// from the device).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadinessFacts {
    /// Per shape and logsource, and per endpoint entity kind (`process`,
    /// `ip`, `file`).
    pub streams: Vec<vigil_core::readiness::StreamActivity>,
    /// Device entity → newest event naming it.
    pub devices: Vec<(String, vigil_core::Timestamp)>,
    /// User entity → newest event naming it.
    pub users: Vec<(String, vigil_core::Timestamp)>,
    /// Device → most seconds its events were dated ahead of their receipt
    /// (only devices ahead at all).
    pub clock_ahead: Vec<(String, i64)>,
    pub events_last_day: u64,
    pub dead_letters_last_day: u64,
    /// The newest `device_inventory` record of each device, as received.
    pub device_snapshots: Vec<String>,
    /// The newest `identity_inventory` record of each identity, as received.
    pub identity_snapshots: Vec<String>,
}

/// Readiness assessments, their schedule and the regressions notified.
#[async_trait]
pub trait ReadinessStore: Send + Sync {
    /// Everything the assessment reads from telemetry, for one tenant.
    async fn readiness_facts(
        &self,
        tenant: TenantId,
        windows: FactWindows,
    ) -> Result<ReadinessFacts>;

    /// Keep an assessment, set the tenant's next due time and (if given)
    /// the failing checks notified so far, with the audit record, in one
    /// transaction.
    async fn save_assessment(
        &self,
        assessment: &vigil_core::readiness::Assessment,
        next_due: vigil_core::Timestamp,
        notified: Option<&[String]>,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A tenant's assessments, newest first, at most `limit`, older than
    /// `before` if given.
    async fn assessments(
        &self,
        tenant: TenantId,
        before: Option<vigil_core::readiness::AssessmentId>,
        limit: u32,
    ) -> Result<Vec<vigil_core::readiness::Assessment>>;

    /// A tenant's schedule and notified regressions (default: never run).
    async fn readiness_state(
        &self,
        tenant: TenantId,
    ) -> Result<vigil_core::readiness::ReadinessState>;

    /// Tenants in onboarding, monitoring or live whose scheduled
    /// assessment is due at `now` (never run counts as due).
    async fn due_assessments(&self, now: vigil_core::Timestamp) -> Result<Vec<TenantId>>;
}

/// SLA timers (see `vigil_core::sla`): started when a response is
/// published, stepped by the engine, stopped by the customer's actions.
#[async_trait]
pub trait SlaStore: Send + Sync {
    /// Start timers, skipping any whose incident already has a running
    /// timer of the same kind; returns those started, with the audit
    /// record, in one transaction.
    async fn start_sla_timers(
        &self,
        timers: &[SlaTimer],
        audit: AuditEntry,
    ) -> Result<Vec<SlaTimer>>;

    /// Save a timer whose stored version is `expected_version`
    /// ([`StoreError::Conflict`] if it moved on, and nothing is written),
    /// queueing `notifications` with their deliveries and writing the
    /// audit record, all in one transaction.
    async fn save_sla_timer(
        &self,
        timer: &SlaTimer,
        expected_version: i64,
        notifications: &[(Notification, Vec<Delivery>)],
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Running timers of every tenant in id order (oldest first), after
    /// `after` when given, at most `limit`: a page of them.
    async fn running_sla_timers(
        &self,
        after: Option<vigil_core::sla::SlaTimerId>,
        limit: u32,
    ) -> Result<Vec<SlaTimer>>;

    /// An incident's timers, oldest first (acknowledge before complete).
    async fn incident_sla_timers(
        &self,
        tenant: TenantId,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<SlaTimer>>;

    /// A tenant's timers due in `[from, to)`, earliest due first.
    async fn sla_timers_due(
        &self,
        tenant: TenantId,
        from: vigil_core::Timestamp,
        to: vigil_core::Timestamp,
    ) -> Result<Vec<SlaTimer>>;
}

/// Held while this process runs detection.
pub struct DetectionLease(#[allow(dead_code)] Box<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for DetectionLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DetectionLease")
    }
}

/// Everything a backend provides.
#[async_trait]
pub trait Store:
    TenantStore
    + AuditStore
    + IdentityStore
    + SessionStore
    + TelemetryStore
    + RuleStore
    + IncidentStore
    + MessageStore
    + NotificationStore
    + ReadinessStore
    + SlaStore
    + RecommendationStore
    + ReportStore
    + HuntStore
    + std::fmt::Debug
{
    /// Apply pending migrations; refuse a database from a newer Vigil.
    async fn migrate(&self) -> Result<MigrationReport>;

    /// A short description for logs: backend and location (no secrets).
    fn describe(&self) -> String;
}

/// Where each content hash first stands in `chunk`: identical events are
/// one, and the first of them is the one an insert keeps.
pub(crate) fn first_by_hash(
    chunk: &[vigil_core::telemetry::NewEvent],
) -> std::collections::HashMap<&str, usize> {
    let mut at = std::collections::HashMap::with_capacity(chunk.len());
    for (i, e) in chunk.iter().enumerate() {
        at.entry(e.content_hash.as_str()).or_insert(i);
    }
    at
}

/// The `limit` earliest distinct events naming any of `entities` (the
/// first 200), from `scan`: one primary-key range scan per entity (kind,
/// value) giving (seq, time) rows, each already cut at `limit`. One query
/// ORing the entities could use only the tenant prefix of the entity index
/// and scanned every entity row of the tenant, which grew with the store
/// and slowed every detection round that touched an incident. Returns
/// their seqs in (time, seq) order.
pub(crate) async fn earliest_seqs<F, Fut, E>(
    entities: &[vigil_core::Entity],
    limit: u32,
    mut scan: F,
) -> Result<Vec<i64>>
where
    F: FnMut(&'static str, String) -> Fut,
    Fut: Future<Output = std::result::Result<Vec<(i64, i64)>, E>>,
    StoreError: From<E>,
{
    let mut rows = Vec::new();
    for e in entities.iter().take(200) {
        rows.extend(scan(e.kind.as_str(), e.value.clone()).await?);
    }
    Ok(earliest(rows, limit))
}

/// The `seq`s of the first `limit` distinct `(seq, time)` rows by time.
pub(crate) fn earliest(rows: Vec<(i64, i64)>, limit: u32) -> Vec<i64> {
    let mut by_time: Vec<(i64, i64)> = rows.into_iter().map(|(seq, time)| (time, seq)).collect();
    by_time.sort_unstable();
    by_time.dedup();
    by_time.truncate(limit as usize);
    by_time.into_iter().map(|(_, seq)| seq).collect()
}
