//! Events, the detection queue, dead letters and intake batches.

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use vigil_core::telemetry::{DeadLetter, IntakeBatch, IntakeCounts, NewEvent, StoredEvent};
use vigil_core::time::to_micros;
use vigil_core::{Entity, TenantId, Timestamp};

use super::blocks::Block;
use super::identity::{parse, ts};
use super::postings;
use super::{SqliteStore, blocking};
use crate::{DetectionLease, Result, StoreError};

/// Rows per multi-row INSERT: few statements, each one cached.
const CHUNK: usize = 256;

/// A row of [`EVENT_COLUMNS`] as an event; `blocks` holds the blocks its
/// rows name ([`Blocks::load_for`]).
pub(super) fn decode_event(row: &SqliteRow, blocks: &Blocks) -> Result<StoredEvent> {
    let tenant: String = row.try_get("tenant_id")?;
    let shape: String = row.try_get("shape")?;
    let entities: String = row.try_get("entities")?;
    let flags: i64 = row.try_get("flags")?;
    let raw = raw_of(row, blocks)?;
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        tenant_id: parse("tenant id", &tenant)?,
        received_at: ts(row, "received_at")?,
        event: NewEvent {
            time: ts(row, "time")?,
            shape: static_shape(&shape),
            product: row.try_get("product")?,
            service: row.try_get("service")?,
            category: row.try_get("category")?,
            content_hash: row.try_get("content_hash")?,
            flags: u32::try_from(flags).unwrap_or(0),
            raw,
            entities: serde_json::from_str(&entities)
                .map_err(|e| StoreError::corrupt("event entities", e))?,
            hunt: None,
        },
    })
}

/// The record as received, from a row of [`RAW_COLUMNS`]: from its block,
/// or as older versions stored it (compressed alone, or plain).
pub(super) fn raw_of(row: &SqliteRow, blocks: &Blocks) -> Result<String> {
    let block: Option<i64> = row.try_get("block_id")?;
    if let Some(id) = block {
        let index: i64 = row.try_get("block_item")?;
        return blocks.record(id, index);
    }
    let packed: Option<Vec<u8>> = row.try_get("raw_lz4")?;
    match packed {
        Some(bytes) => {
            let plain = lz4_flex::decompress_size_prepended(&bytes)
                .map_err(|e| StoreError::corrupt("event record", e))?;
            String::from_utf8(plain).map_err(|e| StoreError::corrupt("event record", e))
        }
        None => Ok(row.try_get("raw")?),
    }
}

/// Shapes are a closed set of names; anything else reads back as
/// `unknown` rather than failing.
fn static_shape(s: &str) -> &'static str {
    const SHAPES: [&str; 8] = [
        "windows_evtx",
        "windows_ecs",
        "entra_signin",
        "okta_system_log",
        "cloudtrail",
        "m365_audit",
        "device_inventory",
        "identity_inventory",
    ];
    SHAPES.into_iter().find(|k| *k == s).unwrap_or("unknown")
}

/// What [`raw_of`] reads, from `events e`.
pub(super) const RAW_COLUMNS: &str = "e.raw, e.raw_lz4, e.block AS block_id, e.block_item";

/// What [`decode_event`] reads, from `events e`.
pub(super) const EVENT_COLUMNS: &str = "e.seq, e.tenant_id, e.time, e.received_at, e.shape, e.product, e.service, e.category, e.content_hash, e.flags, e.entities, e.raw, e.raw_lz4, e.block AS block_id, e.block_item";

/// [`EVENT_COLUMNS`] with the record left out (read as empty).
const EVENT_COLUMNS_NO_RAW: &str = "e.seq, e.tenant_id, e.time, e.received_at, e.shape, e.product, e.service, e.category, e.content_hash, e.flags, e.entities, '' AS raw, NULL AS raw_lz4, NULL AS block_id, NULL AS block_item";

/// The blocks a read's rows name (migration 0025), each read and
/// decompressed once however many of its events the rows hold.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    loaded: std::collections::HashMap<i64, Block>,
}

impl Blocks {
    /// Read the blocks that `rows` name (column `block_id`), keeping those
    /// already loaded that they name again and dropping the rest.
    pub(super) async fn load_for(&mut self, pool: &SqlitePool, rows: &[SqliteRow]) -> Result<()> {
        let mut wanted = std::collections::BTreeSet::new();
        for row in rows {
            if let Some(id) = row.try_get::<Option<i64>, _>("block_id")? {
                wanted.insert(id);
            }
        }
        self.loaded.retain(|id, _| wanted.contains(id));
        let missing: Vec<i64> = wanted
            .into_iter()
            .filter(|id| !self.loaded.contains_key(id))
            .collect();
        for chunk in missing.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT id, data FROM event_blocks WHERE id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            q.push(")");
            for row in q.build().fetch_all(pool).await? {
                let data: &[u8] = row.try_get("data")?;
                self.loaded.insert(row.try_get("id")?, Block::unpack(data)?);
            }
        }
        Ok(())
    }

    /// The record of event `index` of block `id`.
    fn record(&self, id: i64, index: i64) -> Result<String> {
        let block = self
            .loaded
            .get(&id)
            .ok_or_else(|| StoreError::corrupt("event block", format!("block {id} is missing")))?;
        let item = block.record(index).ok_or_else(|| {
            StoreError::corrupt("event block", format!("block {id} has no event {index}"))
        })?;
        String::from_utf8(item.to_vec()).map_err(|e| StoreError::corrupt("event record", e))
    }
}

impl SqliteStore {
    pub(super) async fn commit_intake_impl(
        &self,
        tenant: TenantId,
        received_at: Timestamp,
        batch: &IntakeBatch,
    ) -> Result<(IntakeCounts, Vec<Option<i64>>)> {
        let prepared = super::intake::prepare(&batch.events);
        let asked = std::time::Instant::now();
        let turn = self.writer.clone().lock_owned().await;
        let took = std::time::Instant::now();
        let writer = &self.intake;
        let done = blocking(|| writer.commit(tenant, received_at, batch, prepared));
        // Acknowledged only once on disk; the next writer need not wait
        // for that (`sync.rs`).
        drop(turn);
        let wrote = took.elapsed();
        let done = done.and_then(|d| blocking(|| self.sync.sync()).map(|()| d));
        tracing::debug!(
            events = batch.events.len(),
            lock_ms = (took - asked).as_millis() as u64,
            write_ms = wrote.as_millis() as u64,
            sync_ms = (took.elapsed() - wrote).as_millis() as u64,
            "intake transaction"
        );
        done
    }

    /// Move the entity postings that intake gathers in `entity_recent`
    /// into `entity_postings` now, rather than once enough have gathered
    /// (migration 0024, `intake.rs`). Lookups find them either way.
    pub async fn move_entity_postings(&self) -> Result<()> {
        let _turn = self.writer.clone().lock_owned().await;
        let writer = &self.intake;
        blocking(|| writer.move_postings_now())
    }

    pub(super) async fn detection_backlog_impl(
        &self,
        limit: u32,
        with_raw: bool,
    ) -> Result<Vec<StoredEvent>> {
        let columns = if with_raw {
            EVENT_COLUMNS
        } else {
            EVENT_COLUMNS_NO_RAW
        };
        let sql = format!(
            "SELECT {columns} FROM detection_queue q JOIN events e ON e.seq = q.seq ORDER BY q.seq LIMIT ?"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut blocks = Blocks::default();
        blocks.load_for(&self.pool, &rows).await?;
        rows.iter().map(|r| decode_event(r, &blocks)).collect()
    }

    pub(super) async fn queued_seqs_impl(&self, limit: u32) -> Result<Vec<i64>> {
        let queue = &self.queue;
        blocking(|| queue.seqs(limit))
    }

    pub(super) async fn queued_events_impl(&self, seqs: &[i64]) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::with_capacity(seqs.len());
        let mut blocks = Blocks::default();
        for chunk in seqs.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                "SELECT {EVENT_COLUMNS} FROM detection_queue q JOIN events e ON e.seq = q.seq WHERE q.seq IN ("
            ));
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(")");
            let rows = q.build().fetch_all(&self.pool).await?;
            blocks.load_for(&self.pool, &rows).await?;
            for row in &rows {
                out.push(decode_event(row, &blocks)?);
            }
        }
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    pub(super) async fn raw_by_seq_impl(&self, seqs: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::with_capacity(seqs.len());
        let mut blocks = Blocks::default();
        for chunk in seqs.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                "SELECT e.seq, {RAW_COLUMNS} FROM events e WHERE e.seq IN ("
            ));
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(")");
            let rows = q.build().fetch_all(&self.pool).await?;
            blocks.load_for(&self.pool, &rows).await?;
            for row in &rows {
                out.push((row.try_get("seq")?, raw_of(row, &blocks)?));
            }
        }
        Ok(out)
    }

    pub(super) async fn detection_queue_len_impl(&self) -> Result<u64> {
        let queue = &self.queue;
        blocking(|| queue.len())
    }

    pub(super) async fn dead_letters_impl(
        &self,
        tenant: TenantId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, received_at, source, reason, raw FROM dead_letters WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(tenant.to_string())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let tenant: String = r.try_get("tenant_id")?;
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    tenant_id: parse("tenant id", &tenant)?,
                    received_at: ts(r, "received_at")?,
                    source: r.try_get("source")?,
                    reason: r.try_get("reason")?,
                    raw: r.try_get("raw")?,
                })
            })
            .collect()
    }

    pub(super) async fn events_by_seq_impl(
        &self,
        tenant: TenantId,
        seqs: &[i64],
    ) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::with_capacity(seqs.len());
        let mut blocks = Blocks::default();
        for chunk in seqs.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE e.tenant_id = "
            ));
            q.push_bind(tenant.to_string()).push(" AND e.seq IN (");
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(") ORDER BY e.seq");
            let rows = q.build().fetch_all(&self.pool).await?;
            blocks.load_for(&self.pool, &rows).await?;
            for row in &rows {
                out.push(decode_event(row, &blocks)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn count_events_impl(&self, tenant: TenantId) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE tenant_id = ?")
            .bind(tenant.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) async fn seqs_with_entities_impl(
        &self,
        tenant: TenantId,
        entities: &[Entity],
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<i64>> {
        if entities.is_empty() {
            return Ok(Vec::new());
        }
        let tenant_text = tenant.to_string();
        let entities = &entities[..entities.len().min(200)];
        let (from, to) = (to_micros(from), to_micros(to));
        // Each entity's number, then its moved postings: a range of
        // `entity_lists` each.
        let mut rows: Vec<(i64, i64)> = Vec::new();
        let mut numbers: Vec<i64> = Vec::with_capacity(entities.len());
        for e in entities {
            let number: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM entity_names WHERE tenant_id = ? AND kind = ? AND value = ?",
            )
            .bind(&tenant_text)
            .bind(e.kind.as_str())
            .bind(&e.value)
            .fetch_optional(&self.pool)
            .await?;
            let Some(number) = number else { continue };
            numbers.push(number);
            postings::find_sorted(&self.pool, number, (from, to), limit, &mut rows).await?;
        }
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        // The lists intake has not moved yet: one pass for every entity
        // at once rather than one an entity.
        postings::find_recent(&self.pool, &numbers, (from, to), &mut rows).await?;
        Ok(crate::earliest(rows, limit))
    }

    pub(super) async fn telemetry_counts_impl(&self, tenant: TenantId) -> Result<(u64, u64)> {
        let t = tenant.to_string();
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM detection_queue q JOIN events e ON e.seq = q.seq WHERE e.tenant_id = ?",
        )
        .bind(&t)
        .fetch_one(&self.pool)
        .await?;
        let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE tenant_id = ?")
            .bind(&t)
            .fetch_one(&self.pool)
            .await?;
        Ok((
            u64::try_from(pending).unwrap_or(0),
            u64::try_from(dead).unwrap_or(0),
        ))
    }

    pub(super) async fn purge_events_impl(
        &self,
        tenant: TenantId,
        before: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let t = tenant.to_string();
        let cut = to_micros(before);
        // What refers to the events goes first, the events last; each
        // statement takes the tenant and the cut.
        postings::purge(&mut tx, &t, cut).await?;
        const PURGE: [&str; 6] = [
            concat!(
                "DELETE FROM detection_queue WHERE seq IN (SELECT seq FROM events WHERE tenant_id = ?1 AND ",
                time_before!("?2"),
                ")"
            ),
            concat!(
                "DELETE FROM alert_events WHERE seq IN (SELECT seq FROM events WHERE tenant_id = ?1 AND ",
                time_before!("?2"),
                ")"
            ),
            "DELETE FROM hunt_additional WHERE seq IN (SELECT seq FROM hunt_events WHERE tenant_id = ? AND ts < ?)",
            "DELETE FROM hunt_events WHERE tenant_id = ? AND ts < ?",
            // A block goes once all of its events have (its newest is
            // older than the cut).
            "DELETE FROM event_blocks WHERE tenant_id = ? AND max_time < ?",
            concat!(
                "DELETE FROM events WHERE tenant_id = ?1 AND ",
                time_before!("?2")
            ),
        ];
        let mut done = 0;
        for sql in PURGE {
            done = sqlx::query(sql)
                .bind(&t)
                .bind(cut)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        // Alerts may keep fewer events now.
        self.open_alerts.clear();
        // The last statement's count: the events.
        Ok(done)
    }

    pub(super) fn try_detection_lease_impl(&self) -> Result<Option<DetectionLease>> {
        let lease = self.try_lease(".detect.lock")?;
        if lease.is_some() {
            // Whoever held it may have folded alerts since this process
            // last did.
            self.open_alerts.clear();
        }
        Ok(lease)
    }

    /// The scheduler's lease: the same kind of file lock, another file.
    pub(super) fn try_scheduler_lease_impl(&self) -> Result<Option<DetectionLease>> {
        self.try_lease(".scheduler.lock")
    }

    fn try_lease(&self, suffix: &str) -> Result<Option<DetectionLease>> {
        if self.path.as_os_str() == ":memory:" {
            // One process owns an in-memory database.
            return Ok(Some(DetectionLease(Box::new(()))));
        }
        let mut lock_path = self.path.clone().into_os_string();
        lock_path.push(suffix);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Io {
                path: lock_path.clone().into(),
                source: e,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DetectionLease(Box::new(file)))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Io {
                path: lock_path.into(),
                source: e,
            }),
        }
    }
}
