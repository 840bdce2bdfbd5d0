//! The scale-out backend: PostgreSQL through sqlx, the same behaviour as
//! the SQLite backend (the conformance suite runs against both).
//!
//! SQLite serialises writers; PostgreSQL does not. Where the SQLite code
//! relies on its single writer (the audit chain's head, sequence numbers
//! read then written, read-modify-write of alerts and incidents), the
//! transaction takes one advisory lock first ([`PgStore::write_tx`]), so
//! several Vigil processes sharing one database still append one chain.
//! Telemetry intake, the hot path, does not take it: it relies on unique
//! keys and a per-batch lock on its idempotency key instead.

mod alerts;
mod audit;
mod executions;
mod hunting;
mod identity;
mod incidents;
mod messages;
mod migrations;
mod notifications;
mod partitions;
mod readiness;
mod recommendations;
mod reports;
mod rules;
mod session;
mod sla;
mod tasks;
mod telemetry;
mod tenant;

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use crate::{MigrationReport, Result, Store, StoreError};

/// The advisory lock key every audited write transaction holds ("vigil"
/// in ASCII): the chain head is read then extended, one writer at a time.
const WRITE_LOCK: i64 = 0x0076_6967_696c;

/// A Vigil store in one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// For the detection lease's own connection.
    options: PgConnectOptions,
    /// The URL without its password, for messages.
    location: String,
    /// Event partitions known to exist (their lower bounds), so the common
    /// insert asks the catalogue nothing.
    partitions: Arc<Mutex<HashSet<i64>>>,
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://user@host:port/db`).
    /// Does not migrate: call [`Store::migrate`] next.
    pub async fn open(url: &str) -> Result<Self> {
        let location = redact(url);
        let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::Connect {
            location: location.clone(),
            source,
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options.clone())
            .await
            .map_err(|source| StoreError::Connect {
                location: location.clone(),
                source,
            })?;
        Ok(PgStore {
            pool,
            options,
            location,
            partitions: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    /// Where this store is, password removed.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// A transaction holding the write lock (see the module documentation).
    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `url` with any password replaced, safe for messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((creds, host)) => {
            let user = creds.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> Result<MigrationReport> {
        migrations::run(self).await
    }

    fn describe(&self) -> String {
        self.location.clone()
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl crate::TelemetryStore for PgStore {
    async fn commit_intake(
        &self,
        tenant: vigil_core::TenantId,
        received_at: vigil_core::Timestamp,
        batch: &vigil_core::telemetry::IntakeBatch,
    ) -> Result<(vigil_core::telemetry::IntakeCounts, Vec<Option<i64>>)> {
        self.commit_intake_impl(tenant, received_at, batch).await
    }

    async fn detection_backlog(
        &self,
        limit: u32,
        with_raw: bool,
    ) -> Result<Vec<vigil_core::telemetry::StoredEvent>> {
        self.detection_backlog_impl(limit, with_raw).await
    }

    async fn queued_seqs(&self, limit: u32) -> Result<Vec<i64>> {
        self.queued_seqs_impl(limit).await
    }

    async fn raw_by_seq(&self, seqs: &[i64]) -> Result<Vec<(i64, String)>> {
        self.raw_by_seq_impl(seqs).await
    }

    async fn detection_queue_len(&self) -> Result<u64> {
        self.detection_queue_len_impl().await
    }

    async fn commit_detections(
        &self,
        first: i64,
        last: i64,
        observations: &[(vigil_core::TenantId, vigil_core::alert::Observation)],
        now: vigil_core::Timestamp,
    ) -> Result<Vec<vigil_core::alert::AlertId>> {
        self.commit_detections_impl(first, last, observations, now)
            .await
    }

    async fn queued_events(&self, seqs: &[i64]) -> Result<Vec<vigil_core::telemetry::StoredEvent>> {
        self.queued_events_impl(seqs).await
    }

    async fn commit_detections_of(
        &self,
        seqs: &[i64],
        observations: &[(vigil_core::TenantId, vigil_core::alert::Observation)],
        now: vigil_core::Timestamp,
    ) -> Result<(Vec<vigil_core::alert::AlertId>, Vec<i64>)> {
        self.commit_detections_of_impl(seqs, observations, now)
            .await
    }

    async fn dead_letters(
        &self,
        tenant: vigil_core::TenantId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<vigil_core::telemetry::DeadLetter>> {
        self.dead_letters_impl(tenant, after, limit).await
    }

    async fn list_alerts(
        &self,
        tenant: vigil_core::TenantId,
        filter: &vigil_core::alert::AlertFilter,
    ) -> Result<Vec<vigil_core::alert::Alert>> {
        self.list_alerts_impl(tenant, filter).await
    }

    async fn alert(
        &self,
        tenant: vigil_core::TenantId,
        id: vigil_core::alert::AlertId,
    ) -> Result<Option<(vigil_core::alert::Alert, Vec<i64>)>> {
        self.alert_impl(tenant, id).await
    }

    async fn events_by_seq(
        &self,
        tenant: vigil_core::TenantId,
        seqs: &[i64],
    ) -> Result<Vec<vigil_core::telemetry::StoredEvent>> {
        self.events_by_seq_impl(tenant, seqs).await
    }

    async fn count_events(&self, tenant: vigil_core::TenantId) -> Result<u64> {
        self.count_events_impl(tenant).await
    }

    async fn seqs_with_entities(
        &self,
        tenant: vigil_core::TenantId,
        entities: &[vigil_core::Entity],
        from: vigil_core::Timestamp,
        to: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<i64>> {
        self.seqs_with_entities_impl(tenant, entities, from, to, limit)
            .await
    }

    async fn telemetry_counts(&self, tenant: vigil_core::TenantId) -> Result<(u64, u64)> {
        self.telemetry_counts_impl(tenant).await
    }

    async fn purge_events(
        &self,
        tenant: vigil_core::TenantId,
        before: vigil_core::Timestamp,
    ) -> Result<u64> {
        self.purge_events_impl(tenant, before).await
    }

    async fn checkpoint(&self) -> Result<()> {
        // PostgreSQL checkpoints its write-ahead log itself.
        Ok(())
    }

    fn try_detection_lease(&self) -> Result<Option<crate::DetectionLease>> {
        self.try_detection_lease_impl()
    }

    fn try_scheduler_lease(&self) -> Result<Option<crate::DetectionLease>> {
        self.try_scheduler_lease_impl()
    }
}

#[async_trait]
impl crate::IncidentStore for PgStore {
    async fn alerts_without_incident(&self, limit: u32) -> Result<Vec<vigil_core::alert::Alert>> {
        self.alerts_without_incident_impl(limit).await
    }

    async fn alerts_by_id(
        &self,
        ids: &[vigil_core::alert::AlertId],
    ) -> Result<Vec<vigil_core::alert::Alert>> {
        self.alerts_by_id_impl(ids).await
    }

    async fn open_incidents(
        &self,
        tenant: vigil_core::TenantId,
    ) -> Result<Vec<vigil_core::incident::Incident>> {
        self.open_incidents_impl(tenant).await
    }

    async fn save_correlation(
        &self,
        incidents: &[vigil_core::incident::Incident],
        placed: &[(vigil_core::alert::AlertId, vigil_core::incident::IncidentId)],
        activity: &[crate::IncidentActivity],
        now: vigil_core::Timestamp,
        audit: Option<vigil_core::audit::AuditEntry>,
    ) -> Result<()> {
        self.save_correlation_impl(incidents, placed, activity, now, audit)
            .await
    }

    async fn update_incident(
        &self,
        record: &crate::IncidentRecord,
        expected_version: i64,
        activity: &[crate::IncidentActivity],
        resolve_alerts: bool,
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.update_incident_impl(record, expected_version, activity, resolve_alerts, audit)
            .await
    }

    async fn add_comment(
        &self,
        comment: &crate::IncidentComment,
        activity: &crate::IncidentActivity,
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<i64> {
        self.add_comment_impl(comment, activity, audit).await
    }

    async fn set_verdict(
        &self,
        tenant: vigil_core::TenantId,
        entity: &vigil_core::Entity,
        verdict: vigil_core::Verdict,
        by: &str,
        at: vigil_core::Timestamp,
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.set_verdict_impl(tenant, entity, verdict, by, at, audit)
            .await
    }

    async fn verdicts(
        &self,
        tenant: vigil_core::TenantId,
        entities: &[vigil_core::Entity],
    ) -> Result<Vec<(vigil_core::Entity, vigil_core::Verdict)>> {
        self.verdicts_impl(tenant, entities).await
    }

    async fn save_summary(
        &self,
        incident: vigil_core::incident::IncidentId,
        summary: &vigil_core::summary::Summary,
        published: bool,
        author: &str,
        at: vigil_core::Timestamp,
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<i64> {
        self.save_summary_impl(incident, summary, published, author, at, audit)
            .await
    }

    async fn summaries(
        &self,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<vigil_core::summary::SummaryVersion>> {
        self.summaries_impl(incident).await
    }

    async fn put_task(
        &self,
        task: &vigil_core::task::Task,
        history: &str,
        actor: &str,
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.put_task_impl(task, history, actor, audit).await
    }

    async fn tasks(
        &self,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<vigil_core::task::Task>> {
        self.tasks_impl(incident).await
    }

    async fn task(
        &self,
        tenant: vigil_core::TenantId,
        id: vigil_core::task::TaskId,
    ) -> Result<
        Option<(
            vigil_core::task::Task,
            Vec<(vigil_core::Timestamp, String, String)>,
        )>,
    > {
        self.task_impl(tenant, id).await
    }

    async fn save_execution(
        &self,
        task: Option<(&vigil_core::task::Task, &str, &str)>,
        lines: &[vigil_core::task::Execution],
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.save_execution_impl(task, lines, audit).await
    }

    async fn executions(
        &self,
        task: vigil_core::task::TaskId,
    ) -> Result<Vec<vigil_core::task::Execution>> {
        self.executions_impl(task).await
    }

    async fn due_executions(
        &self,
        now: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<vigil_core::task::Execution>> {
        self.due_executions_impl(now, limit).await
    }

    async fn comments(
        &self,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<crate::IncidentComment>> {
        self.comments_impl(incident).await
    }

    async fn list_incidents(
        &self,
        tenant: vigil_core::TenantId,
        filter: &crate::IncidentFilter,
    ) -> Result<Vec<crate::IncidentRecord>> {
        self.list_incidents_impl(tenant, filter).await
    }

    async fn incident(
        &self,
        tenant: vigil_core::TenantId,
        id: vigil_core::incident::IncidentId,
    ) -> Result<
        Option<(
            crate::IncidentRecord,
            Vec<vigil_core::alert::AlertId>,
            Vec<crate::IncidentActivity>,
        )>,
    > {
        self.incident_impl(tenant, id).await
    }

    async fn save_major(
        &self,
        tenant: vigil_core::TenantId,
        incident: vigil_core::incident::IncidentId,
        state: &vigil_core::major::MajorState,
        engagement: Option<&vigil_core::major::IrEngagement>,
        activity: &[crate::IncidentActivity],
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.save_major_impl(tenant, incident, state, engagement, activity, audit)
            .await
    }
}

#[async_trait]
impl crate::NotificationStore for PgStore {
    async fn queue_notification(
        &self,
        notification: &vigil_core::notification::Notification,
        deliveries: &[vigil_core::notification::Delivery],
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.queue_notification_impl(notification, deliveries, audit)
            .await
    }

    async fn notification(
        &self,
        id: vigil_core::notification::NotificationId,
    ) -> Result<Option<vigil_core::notification::Notification>> {
        self.notification_impl(id).await
    }

    async fn notifications(
        &self,
        tenant: Option<vigil_core::TenantId>,
        before: Option<vigil_core::notification::NotificationId>,
        limit: u32,
    ) -> Result<
        Vec<(
            vigil_core::notification::Notification,
            Vec<vigil_core::notification::Delivery>,
        )>,
    > {
        self.notifications_impl(tenant, before, limit).await
    }

    async fn delivery(
        &self,
        id: vigil_core::notification::DeliveryId,
    ) -> Result<Option<vigil_core::notification::Delivery>> {
        self.delivery_impl(id).await
    }

    async fn due_deliveries(
        &self,
        now: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<vigil_core::notification::Delivery>> {
        self.due_deliveries_impl(now, limit).await
    }

    async fn record_attempt(
        &self,
        delivery: &vigil_core::notification::Delivery,
        outcome: &str,
        detail: &str,
        audit: Option<vigil_core::audit::AuditEntry>,
    ) -> Result<()> {
        self.record_attempt_impl(delivery, outcome, detail, audit)
            .await
    }

    async fn delivery_attempts(
        &self,
        delivery: vigil_core::notification::DeliveryId,
    ) -> Result<Vec<(vigil_core::Timestamp, String, String)>> {
        self.delivery_attempts_impl(delivery).await
    }
}

#[async_trait]
impl crate::ReadinessStore for PgStore {
    async fn readiness_facts(
        &self,
        tenant: vigil_core::TenantId,
        windows: crate::FactWindows,
    ) -> Result<crate::ReadinessFacts> {
        self.readiness_facts_impl(tenant, windows).await
    }

    async fn save_assessment(
        &self,
        assessment: &vigil_core::readiness::Assessment,
        next_due: vigil_core::Timestamp,
        notified: Option<&[String]>,
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.save_assessment_impl(assessment, next_due, notified, audit)
            .await
    }

    async fn assessments(
        &self,
        tenant: vigil_core::TenantId,
        before: Option<vigil_core::readiness::AssessmentId>,
        limit: u32,
    ) -> Result<Vec<vigil_core::readiness::Assessment>> {
        self.assessments_impl(tenant, before, limit).await
    }

    async fn readiness_state(
        &self,
        tenant: vigil_core::TenantId,
    ) -> Result<vigil_core::readiness::ReadinessState> {
        self.readiness_state_impl(tenant).await
    }

    async fn due_assessments(
        &self,
        now: vigil_core::Timestamp,
    ) -> Result<Vec<vigil_core::TenantId>> {
        self.due_assessments_impl(now).await
    }
}

#[async_trait]
impl crate::SlaStore for PgStore {
    async fn start_sla_timers(
        &self,
        timers: &[vigil_core::sla::SlaTimer],
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<Vec<vigil_core::sla::SlaTimer>> {
        self.start_sla_timers_impl(timers, audit).await
    }

    async fn save_sla_timer(
        &self,
        timer: &vigil_core::sla::SlaTimer,
        expected_version: i64,
        notifications: &[(
            vigil_core::notification::Notification,
            Vec<vigil_core::notification::Delivery>,
        )],
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<vigil_core::audit::AuditRecord> {
        self.save_sla_timer_impl(timer, expected_version, notifications, audit)
            .await
    }

    async fn running_sla_timers(
        &self,
        after: Option<vigil_core::sla::SlaTimerId>,
        limit: u32,
    ) -> Result<Vec<vigil_core::sla::SlaTimer>> {
        self.running_sla_timers_impl(after, limit).await
    }

    async fn incident_sla_timers(
        &self,
        tenant: vigil_core::TenantId,
        incident: vigil_core::incident::IncidentId,
    ) -> Result<Vec<vigil_core::sla::SlaTimer>> {
        self.incident_sla_timers_impl(tenant, incident).await
    }

    async fn sla_timers_due(
        &self,
        tenant: vigil_core::TenantId,
        from: vigil_core::Timestamp,
        to: vigil_core::Timestamp,
    ) -> Result<Vec<vigil_core::sla::SlaTimer>> {
        self.sla_timers_due_impl(tenant, from, to).await
    }
}

#[async_trait]
impl crate::ReportStore for PgStore {
    async fn report_incidents(
        &self,
        tenant: vigil_core::TenantId,
        since: vigil_core::Timestamp,
        to: vigil_core::Timestamp,
    ) -> Result<Vec<crate::ReportIncident>> {
        self.report_incidents_impl(tenant, since, to).await
    }

    async fn report_tasks(
        &self,
        tenant: vigil_core::TenantId,
        since: vigil_core::Timestamp,
    ) -> Result<Vec<vigil_core::task::Task>> {
        self.report_tasks_impl(tenant, since).await
    }

    async fn report_delivered(&self, tenant: vigil_core::TenantId, period: &str) -> Result<bool> {
        self.report_delivered_impl(tenant, period).await
    }

    async fn record_report_delivery(
        &self,
        tenant: vigil_core::TenantId,
        period: &str,
        notification: &vigil_core::notification::Notification,
        deliveries: &[vigil_core::notification::Delivery],
        audit: vigil_core::audit::AuditEntry,
    ) -> Result<Option<vigil_core::audit::AuditRecord>> {
        self.record_report_delivery_impl(tenant, period, notification, deliveries, audit)
            .await
    }
}
