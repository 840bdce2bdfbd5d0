//! The embedded default backend: one SQLite file in WAL mode.

/// `events.time >= $p` (a parameter, `"?2"`) in a form that reads the
/// indexes (migration 0027): an event under its own time has
/// `dedup_at = time` (`events_dedup`), the others `dedup_at = 0`
/// (`events_arrival`).
macro_rules! time_since {
    ($p:literal) => {
        concat!(
            "((dedup_at >= ",
            $p,
            " AND dedup_at <> 0) OR (dedup_at = 0 AND time >= ",
            $p,
            "))"
        )
    };
}

/// `events.time < $p`, as [`time_since`] reads it.
macro_rules! time_before {
    ($p:literal) => {
        concat!(
            "((dedup_at < ",
            $p,
            " AND dedup_at <> 0) OR (dedup_at = 0 AND time < ",
            $p,
            "))"
        )
    };
}

mod alerts;
mod audit;
pub mod backup;
mod blocks;
mod executions;
mod hunting;
mod identity;
mod incidents;
mod intake;
mod messages;
mod migrations;
mod notifications;
mod open_alerts;
mod postings;
mod queue;
mod readiness;
mod recommendations;
mod reports;
mod rules;
mod session;
mod sla;
mod sync;
mod tasks;
mod telemetry;
mod tenant;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::{MigrationReport, Result, Store, StoreError};

/// The page size of a new database. SQLite's default, 4 KiB, made
/// intake's turn to write and the checkpoints a system call per 4 KiB
/// (about 6 % of the server's CPU went to writing pages at 30,000 events
/// a second). With 16 KiB pages
/// the server's CPU per event fell by about 5 % at that rate
/// (BENCHMARKS.md, session 18). A database keeps the page size it was
/// made with: older ones stay at theirs.
const PAGE_SIZE: u32 = 16_384;

/// The write-ahead log's length past which a checkpoint waits for readers
/// and truncates it: 256 MiB.
const WAL_BYTES_LIMIT: u64 = 256 << 20;

/// The log's length past which a commit checkpoints it itself (128 MiB):
/// a backstop, as the checkpoint loop folds it back long before.
const WAL_AUTOCHECKPOINT_BYTES: u64 = 128 << 20;

/// The page size of the database at `path`, from its header (bytes 16 and
/// 17, big-endian, 1 standing for 65,536); [`PAGE_SIZE`] for one not
/// made yet (or not a database, which opening it then reports).
fn page_size_of(path: &Path) -> u32 {
    use std::io::Read;
    let mut header = [0u8; 18];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    if read.is_err() || &header[..16] != b"SQLite format 3\0" {
        return PAGE_SIZE;
    }
    match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n if n >= 512 && n.is_power_of_two() => u32::from(n),
        _ => PAGE_SIZE,
    }
}

/// `bytes` of the log in pages of `page` bytes.
fn wal_pages(bytes: u64, page: u32) -> i64 {
    i64::try_from(bytes / u64::from(page.max(512))).unwrap_or(i64::MAX)
}

/// A Vigil store in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    /// The shared lock on `<database>.lock` that tells a restore the store
    /// is in use (`backup.rs`); `None` in memory.
    _lock: Option<std::sync::Arc<std::fs::File>>,
    /// This process's turn to write (see [`SqliteStore::write_tx`]).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Intake's own connection (`intake.rs`), used in this process's turn.
    intake: std::sync::Arc<intake::IntakeWriter>,
    /// Detection's reads of its queue (`queue.rs`).
    queue: std::sync::Arc<queue::QueueReader>,
    /// The directory of a temporary store, removed with the last clone.
    _scratch: Option<std::sync::Arc<tempfile::TempDir>>,
    /// What makes `AdditionalFields` from a record, once given
    /// (`HuntStore::derive_additional`): hunts read it from blocks of
    /// records only (`blocks.rs`).
    additional_of: std::sync::Arc<std::sync::OnceLock<vigil_core::hunting::AdditionalOf>>,
    /// [`WAL_BYTES_LIMIT`] in this database's pages.
    wal_frames_limit: i64,
    /// The stored alerts the local detection worker folds into, between
    /// its rounds (`open_alerts.rs`).
    open_alerts: std::sync::Arc<open_alerts::OpenAlerts>,
    /// Syncs the log after a durable commit (`sync.rs`).
    sync: sync::LogSync,
}

/// Run `f`, which blocks, from async code: on a worker of a
/// multi-threaded runtime without stalling the tasks queued on it (they
/// move to another worker); elsewhere (single-threaded test runtimes)
/// in place.
pub(super) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A write transaction and this process's turn to write, given back when
/// it ends. Dereferences to the connection, as a `Transaction` does.
struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    turn: tokio::sync::OwnedMutexGuard<()>,
    /// When the turn came (for the debug log of how long it was held).
    began: std::time::Instant,
    sync: sync::LogSync,
}

impl WriteTx {
    /// Commit, give back the turn, then wait for the disk (`sync.rs`).
    async fn commit(self) -> Result<()> {
        let WriteTx {
            tx,
            turn,
            began,
            sync,
        } = self;
        let done = tx.commit().await;
        drop(turn);
        tracing::debug!(
            held_ms = began.elapsed().as_millis() as u64,
            "write transaction committed"
        );
        done?;
        blocking(|| sync.sync())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Open (creating if missing) the database at `path`. Does not migrate:
    /// call [`Store::migrate`] next.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, SqliteSynchronous::Full).await
    }

    async fn open_with(path: &Path, synchronous: SqliteSynchronous) -> Result<Self> {
        let lock = backup::lock_shared(path).map_err(|e| match e {
            backup::BackupError::Io { path, source } => StoreError::Io { path, source },
            _ => StoreError::Restoring {
                path: path.to_owned(),
            },
        })?;
        let durable = synchronous == SqliteSynchronous::Full;
        let page = page_size_of(path);
        let autocheckpoint = wal_pages(WAL_AUTOCHECKPOINT_BYTES, page);
        let options = SqliteConnectOptions::new()
            // Before the log is turned on: a new database only.
            .page_size(PAGE_SIZE)
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Durable commits wait for the disk after the turn to write
            // (`sync.rs`), not inside it.
            .synchronous(if durable {
                SqliteSynchronous::Normal
            } else {
                synchronous
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Telemetry indexes outgrow SQLite's 2 MiB default cache at once.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            // Checkpoints are the checkpoint loop's (`Store::checkpoint`),
            // outside the turn to write; 128 MiB of log is the backstop
            // where no loop runs. A commit that checkpoints holds up every
            // writer behind it.
            .pragma("wal_autocheckpoint", autocheckpoint.to_string())
            // A log that restarts is cut back to this size (64 MiB).
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(SqliteStore {
            pool,
            path: path.to_owned(),
            _lock: Some(std::sync::Arc::new(lock)),
            writer: Default::default(),
            intake: std::sync::Arc::new(intake::IntakeWriter::open(path, durable, autocheckpoint)?),
            queue: std::sync::Arc::new(queue::QueueReader::open(path)?),
            _scratch: None,
            additional_of: Default::default(),
            wal_frames_limit: wal_pages(WAL_BYTES_LIMIT, page),
            open_alerts: Default::default(),
            sync: sync::LogSync::new(path, durable),
        })
    }

    /// A store in a new temporary directory, removed when the last clone
    /// of the store is dropped: for tests and throwaway work. Commits do
    /// not wait for the disk.
    pub async fn open_temporary() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("vigil-store-")
            .tempdir()
            .map_err(|source| StoreError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let mut store =
            Self::open_with(&dir.path().join("vigil.db"), SqliteSynchronous::Off).await?;
        store._scratch = Some(std::sync::Arc::new(dir));
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A passive checkpoint: copies what it can of the write-ahead log
    /// into the database without blocking writers. Returns the log's
    /// length in frames.
    async fn passive_checkpoint(&self) -> Result<i64> {
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await?;
        Ok(sqlx::Row::try_get(&row, 1).unwrap_or(0))
    }

    /// A write transaction that takes the database's write lock at once, so
    /// read-then-write sequences (the audit chain head) are serialised.
    ///
    /// Writers of this process queue on [`SqliteStore::writer`] before
    /// asking SQLite: SQLite's own wait for a busy lock sleeps (1 to 100
    /// ms at a time) and leaves the lock idle in between, which under
    /// intake and detection together cost more than the writes.
    async fn write_tx(&self) -> Result<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        Ok(WriteTx {
            began: std::time::Instant::now(),
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
            turn: guard,
            sync: self.sync.clone(),
        })
    }

    /// Close the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<MigrationReport> {
        migrations::run(self).await
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl crate::TelemetryStore for SqliteStore {
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
        // Most of the log is copied while writers go on (a passive
        // checkpoint takes no write lock), then the little they added
        // meanwhile with this process's writers held back, so the next
        // write restarts the log from its beginning. Blocking writers for
        // the whole copy (as `TRUNCATE` does) stalled intake for up to
        // 0.8 s every two seconds.
        self.passive_checkpoint().await?;
        let _turn = self.writer.clone().lock_owned().await;
        let frames = self.passive_checkpoint().await?;
        if frames > self.wal_frames_limit {
            // A reader kept the log from restarting for long: wait for
            // readers and truncate it.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
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
impl crate::IncidentStore for SqliteStore {
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
impl crate::NotificationStore for SqliteStore {
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
impl crate::ReadinessStore for SqliteStore {
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
impl crate::SlaStore for SqliteStore {
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
impl crate::ReportStore for SqliteStore {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_s_page_size_is_read_from_its_header_and_a_new_one_gets_ours() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.db");
        assert_eq!(page_size_of(&path), PAGE_SIZE, "not made yet");
        let mut header = b"SQLite format 3\0".to_vec();
        for (bytes, want) in [
            ([0x10, 0x00], 4096),
            ([0x40, 0x00], 16_384),
            ([0x00, 0x01], 65_536),
            ([0x00, 0x00], PAGE_SIZE),
            ([0x03, 0x00], PAGE_SIZE),
        ] {
            header.truncate(16);
            header.extend_from_slice(&bytes);
            std::fs::write(&path, &header).expect("write");
            assert_eq!(page_size_of(&path), want, "{bytes:?}");
        }
        std::fs::write(&path, b"not a database at all").expect("write");
        assert_eq!(page_size_of(&path), PAGE_SIZE);
        std::fs::write(&path, b"").expect("write");
        assert_eq!(page_size_of(&path), PAGE_SIZE, "empty: made on opening");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_durable_store_commits_without_waiting_for_the_disk_then_syncs_its_log() {
        use crate::Store;
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(&dir.path().join("v.db"))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.pool)
            .await
            .expect("pragma");
        assert_eq!(level, 1, "NORMAL: the sync comes after the turn");
        let log = dir.path().join("v.db-wal");
        assert_eq!(store.sync.log(), Some(log.as_path()));
        let mut tx = store.write_tx().await.expect("turn");
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut *tx)
            .await
            .expect("write");
        tx.commit().await.expect("commit and sync");
        assert!(std::fs::metadata(&log).expect("the log").len() > 0);
        let temporary = SqliteStore::open_temporary().await.expect("temporary");
        assert!(temporary.sync.log().is_none(), "nothing to wait for");
    }

    #[test]
    fn the_log_s_limits_are_the_same_bytes_whatever_the_page_size() {
        assert_eq!(wal_pages(WAL_BYTES_LIMIT, 4096), 65_536);
        assert_eq!(wal_pages(WAL_BYTES_LIMIT, 16_384), 16_384);
        assert_eq!(wal_pages(WAL_AUTOCHECKPOINT_BYTES, 4096), 32_768);
        assert_eq!(wal_pages(WAL_AUTOCHECKPOINT_BYTES, 0), 262_144);
    }
}
