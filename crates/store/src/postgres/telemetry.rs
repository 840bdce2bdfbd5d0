//! Events, the detection queue, dead letters and intake batches.

use std::collections::HashSet;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use vigil_core::telemetry::{DeadLetter, IntakeBatch, IntakeCounts, NewEvent, StoredEvent};
use vigil_core::time::to_micros;
use vigil_core::{Entity, TenantId, Timestamp};

use super::PgStore;
use super::identity::{parse, ts};
use crate::{DetectionLease, Result, StoreError};

/// SQLSTATE of an insert no partition accepts ("no partition of relation
/// found for row").
const NO_PARTITION: &str = "23514";

/// The session advisory lock of the one detection process ("vigildet").
const DETECTION_LOCK: i64 = 0x7669_6769_6c64_6574;
/// The session advisory lock the active scheduler holds ("vigilsch").
const SCHEDULER_LOCK: i64 = 0x7669_6769_6c73_6368;

/// Rows per multi-row INSERT: few statements, each one cached.
const CHUNK: usize = 256;

fn entities_json(entities: &[Entity]) -> String {
    serde_json::to_string(entities).unwrap_or_else(|_| "[]".to_owned())
}

pub(super) fn decode_event(row: &PgRow) -> Result<StoredEvent> {
    let tenant: String = row.try_get("tenant_id")?;
    let shape: String = row.try_get("shape")?;
    let entities: String = row.try_get("entities")?;
    let flags: i64 = row.try_get("flags")?;
    let raw = raw_of(row)?;
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

/// The record as received: decompressed, or as stored by older versions.
pub(super) fn raw_of(row: &PgRow) -> Result<String> {
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

pub(super) const EVENT_COLUMNS: &str = "e.seq, e.tenant_id, e.time, e.received_at, e.shape, e.product, e.service, e.category, e.content_hash, e.flags, e.raw, e.raw_lz4, e.entities";

/// For each event of `chunk`: whether it is a copy of one stored before
/// under its arrival time (flags `FUTURE_TIME` or `NO_TIME`). Such events
/// are keyed by content alone in `event_arrival_keys`; a key taken now
/// stays taken (within this transaction, for the events insert that
/// follows), and one taken before marks a copy.
async fn arrival_copies(
    conn: &mut PgConnection,
    tenant: &str,
    chunk: &[NewEvent],
) -> Result<Vec<bool>> {
    let mut copies = vec![false; chunk.len()];
    let keyed: Vec<&NewEvent> = chunk.iter().filter(|e| e.stored_under_arrival()).collect();
    if keyed.is_empty() {
        return Ok(copies);
    }
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("INSERT INTO event_arrival_keys (tenant_id, content_hash, time) ");
    q.push_values(&keyed, |mut b, e| {
        b.push_bind(tenant)
            .push_bind(e.content_hash.clone())
            .push_bind(to_micros(e.time));
    });
    q.push(" ON CONFLICT DO NOTHING RETURNING content_hash");
    let taken: HashSet<String> = q
        .build()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get("content_hash"))
        .collect::<std::result::Result<_, _>>()?;
    // The first event of a hash taken now is new; the rest are copies.
    let mut seen = HashSet::new();
    for (e, copy) in chunk.iter().zip(&mut copies) {
        if e.stored_under_arrival() {
            *copy = !taken.contains(&e.content_hash) || !seen.insert(&e.content_hash);
        }
    }
    Ok(copies)
}

/// Insert events (skipping identical ones), their entity rows and queue
/// entries. Returns each event's `seq` (`None`: a duplicate).
async fn insert_events(
    conn: &mut PgConnection,
    tenant: TenantId,
    received_at: Timestamp,
    events: &[NewEvent],
) -> Result<Vec<Option<i64>>> {
    let tenant_text = tenant.to_string();
    let mut seqs = vec![None; events.len()];
    for (n, chunk) in events.chunks(CHUNK).enumerate() {
        let copies = arrival_copies(conn, &tenant_text, chunk).await?;
        let fresh: Vec<&NewEvent> = chunk
            .iter()
            .zip(&copies)
            .filter(|(_, copy)| !**copy)
            .map(|(e, _)| e)
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO events (tenant_id, time, received_at, shape, product, service, category, content_hash, flags, raw, raw_lz4, entities) ",
        );
        q.push_values(fresh, |mut b, e| {
            b.push_bind(tenant_text.clone())
                .push_bind(to_micros(e.time))
                .push_bind(to_micros(received_at))
                .push_bind(e.shape)
                .push_bind(e.product.clone())
                .push_bind(e.service.clone())
                .push_bind(e.category.clone())
                .push_bind(e.content_hash.clone())
                .push_bind(i64::from(e.flags))
                .push_bind("")
                .push_bind(lz4_flex::compress_prepend_size(e.raw.as_bytes()))
                .push_bind(entities_json(&e.entities));
        });
        q.push(
            " ON CONFLICT (tenant_id, content_hash, time) DO NOTHING RETURNING seq, content_hash",
        );
        let rows = q.build().fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            continue;
        }
        let at = crate::first_by_hash(chunk);
        let mut new: Vec<(i64, &NewEvent)> = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let hash: &str = row.try_get("content_hash")?;
            if let Some(&i) = at.get(hash) {
                seqs[n * CHUNK + i] = Some(seq);
                new.push((seq, &chunk[i]));
            }
        }
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("INSERT INTO detection_queue (seq) ");
        q.push_values(&new, |mut b, (seq, _)| {
            b.push_bind(*seq);
        });
        q.build().execute(&mut *conn).await?;
        let entity_rows: Vec<(i64, i64, &Entity)> = new
            .iter()
            .flat_map(|(seq, e)| {
                e.entities
                    .iter()
                    .map(move |en| (*seq, to_micros(e.time), en))
            })
            .collect();
        for rows in entity_rows.chunks(CHUNK * 2) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO event_entities (tenant_id, kind, value, time, seq) ",
            );
            q.push_values(rows, |mut b, (seq, time, en)| {
                b.push_bind(tenant_text.clone())
                    .push_bind(en.kind.as_str())
                    .push_bind(en.value.clone())
                    .push_bind(*time)
                    .push_bind(*seq);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *conn).await?;
        }
        super::hunting::insert_hunt_rows(&mut *conn, &tenant_text, &new).await?;
    }
    Ok(seqs)
}

impl PgStore {
    pub(super) async fn commit_intake_impl(
        &self,
        tenant: TenantId,
        received_at: Timestamp,
        batch: &IntakeBatch,
    ) -> Result<(IntakeCounts, Vec<Option<i64>>)> {
        self.ensure_partitions(batch.events.iter().map(|e| to_micros(e.time)))
            .await?;
        match self.commit_intake_once(tenant, received_at, batch).await {
            // A partition another process's retention dropped after this
            // process saw it: learn again and retry once.
            Err(StoreError::Backend(sqlx::Error::Database(db)))
                if db.code().as_deref() == Some(NO_PARTITION) =>
            {
                self.forget_partitions();
                self.ensure_partitions(batch.events.iter().map(|e| to_micros(e.time)))
                    .await?;
                self.commit_intake_once(tenant, received_at, batch).await
            }
            other => other,
        }
    }

    /// One attempt at [`PgStore::commit_intake_impl`]: no write lock (intake
    /// writes no audit record and touches no shared sequence), but a batch
    /// with an idempotency key locks that key first, so two deliveries of
    /// one batch racing each other store it once.
    async fn commit_intake_once(
        &self,
        tenant: TenantId,
        received_at: Timestamp,
        batch: &IntakeBatch,
    ) -> Result<(IntakeCounts, Vec<Option<i64>>)> {
        let mut tx = self.pool.begin().await?;
        if let Some(key) = &batch.idempotency_key {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("intake:{tenant}:{key}"))
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(
                "SELECT accepted, duplicates, rejected, dead_lettered, flagged FROM intake_batches WHERE tenant_id = $1 AND key = $2",
            )
            .bind(tenant.to_string())
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(r) = row {
                let n = |c: &str| -> Result<u64> {
                    Ok(u64::try_from(r.try_get::<i64, _>(c)?).unwrap_or(0))
                };
                let counts = IntakeCounts {
                    accepted: n("accepted")?,
                    duplicates: n("duplicates")?,
                    rejected: n("rejected")?,
                    dead_lettered: n("dead_lettered")?,
                    flagged: n("flagged")?,
                    replayed: true,
                };
                return Ok((counts, vec![None; batch.events.len()]));
            }
        }
        let seqs = insert_events(&mut tx, tenant, received_at, &batch.events).await?;
        let inserted = seqs.iter().flatten().count() as u64;
        for chunk in batch.dead_letters.chunks(CHUNK) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO dead_letters (tenant_id, received_at, source, reason, raw) ",
            );
            q.push_values(chunk, |mut b, d| {
                b.push_bind(tenant.to_string())
                    .push_bind(to_micros(received_at))
                    .push_bind(d.source.clone())
                    .push_bind(d.reason.clone())
                    .push_bind(d.raw.clone());
            });
            q.build().execute(&mut *tx).await?;
        }
        let counts = IntakeCounts {
            accepted: batch.events.len() as u64,
            duplicates: batch.events.len() as u64 - inserted,
            rejected: batch.dead_letters.len() as u64,
            dead_lettered: batch.dead_letters.len() as u64,
            flagged: batch
                .events
                .iter()
                .filter(|e| e.flags & vigil_core::telemetry::flags::FUTURE_TIME != 0)
                .count() as u64,
            replayed: false,
        };
        if let Some(key) = &batch.idempotency_key {
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO intake_batches (tenant_id, key, received_at, accepted, duplicates, rejected, dead_lettered, flagged) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant.to_string())
            .bind(key)
            .bind(to_micros(received_at))
            .bind(n(counts.accepted))
            .bind(n(counts.duplicates))
            .bind(n(counts.rejected))
            .bind(n(counts.dead_lettered))
            .bind(n(counts.flagged))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((counts, seqs))
    }

    pub(super) async fn detection_backlog_impl(
        &self,
        limit: u32,
        with_raw: bool,
    ) -> Result<Vec<StoredEvent>> {
        let columns = if with_raw {
            EVENT_COLUMNS.to_owned()
        } else {
            EVENT_COLUMNS.replace("e.raw, e.raw_lz4", "'' AS raw, NULL AS raw_lz4")
        };
        let sql = format!(
            "SELECT {columns} FROM detection_queue q JOIN events e ON e.seq = q.seq ORDER BY q.seq LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_event).collect()
    }

    pub(super) async fn queued_seqs_impl(&self, limit: u32) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM detection_queue ORDER BY seq LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub(super) async fn queued_events_impl(&self, seqs: &[i64]) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(CHUNK) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                "SELECT {EVENT_COLUMNS} FROM detection_queue q JOIN events e ON e.seq = q.seq WHERE q.seq IN ("
            ));
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                out.push(decode_event(&row)?);
            }
        }
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    pub(super) async fn raw_by_seq_impl(&self, seqs: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(CHUNK) {
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("SELECT seq, raw, raw_lz4 FROM events WHERE seq IN (");
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                out.push((row.try_get("seq")?, raw_of(&row)?));
            }
        }
        Ok(out)
    }

    pub(super) async fn detection_queue_len_impl(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM detection_queue")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) async fn dead_letters_impl(
        &self,
        tenant: TenantId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, received_at, source, reason, raw FROM dead_letters WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
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
        for chunk in seqs.chunks(CHUNK) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE e.tenant_id = "
            ));
            q.push_bind(tenant.to_string()).push(" AND e.seq IN (");
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(") ORDER BY e.seq");
            for row in q.build().fetch_all(&self.pool).await? {
                out.push(decode_event(&row)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn count_events_impl(&self, tenant: TenantId) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE tenant_id = $1")
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
        crate::earliest_seqs(entities, limit, |kind, value| {
            sqlx::query_as("SELECT seq, time FROM event_entities WHERE tenant_id = $1 AND kind = $2 AND value = $3 AND time BETWEEN $4 AND $5 ORDER BY time, seq LIMIT $6")
                .bind(tenant_text.clone())
                .bind(kind)
                .bind(value)
                .bind(to_micros(from))
                .bind(to_micros(to))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
        })
        .await
    }

    pub(super) async fn telemetry_counts_impl(&self, tenant: TenantId) -> Result<(u64, u64)> {
        let t = tenant.to_string();
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM detection_queue q JOIN events e ON e.seq = q.seq WHERE e.tenant_id = $1",
        )
        .bind(&t)
        .fetch_one(&self.pool)
        .await?;
        let dead: i64 =
            sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE tenant_id = $1")
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
        let whole = super::partitions::drop_expired(&mut tx, &t, cut).await?;
        sqlx::query("DELETE FROM event_arrival_keys WHERE tenant_id = $1 AND time < $2")
            .bind(&t)
            .bind(cut)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM event_entities WHERE tenant_id = $1 AND time < $2")
            .bind(&t)
            .bind(cut)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM detection_queue WHERE seq IN (SELECT seq FROM events WHERE tenant_id = $1 AND time < $2)",
        )
        .bind(&t)
        .bind(cut)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM alert_events WHERE seq IN (SELECT seq FROM events WHERE tenant_id = $1 AND time < $2)",
        )
        .bind(&t)
        .bind(cut)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM events WHERE tenant_id = $1 AND time < $2")
            .bind(&t)
            .bind(cut)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if whole > 0 {
            self.forget_partitions();
        }
        Ok(whole + done.rows_affected())
    }

    /// The detection lease is a session advisory lock held by a connection
    /// of its own, on a thread of its own (the trait's method is not async).
    /// Dropping the lease unlocks and closes that connection before the
    /// drop returns; if the process dies, the connection closes and
    /// PostgreSQL releases the lock, so it is never left behind.
    pub(super) fn try_detection_lease_impl(&self) -> Result<Option<DetectionLease>> {
        self.try_lease(DETECTION_LOCK)
    }

    /// The scheduler's lease: the same kind of lock under another key.
    pub(super) fn try_scheduler_lease_impl(&self) -> Result<Option<DetectionLease>> {
        self.try_lease(SCHEDULER_LOCK)
    }

    fn try_lease(&self, key: i64) -> Result<Option<DetectionLease>> {
        let options = self.options.clone();
        let (answer_tx, answer_rx) = std::sync::mpsc::channel::<Result<bool>>();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vigil-detect-lease".into())
            .spawn(move || hold_lease(&options, key, &answer_tx, release_rx))
            .map_err(|e| StoreError::Io {
                path: "detection lease thread".into(),
                source: e,
            })?;
        let holder = LeaseHolder {
            release: Some(release_tx),
            thread: Some(thread),
        };
        match answer_rx.recv() {
            Ok(Ok(true)) => Ok(Some(DetectionLease(Box::new(holder)))),
            Ok(Ok(false)) => Ok(None),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StoreError::corrupt(
                "detection lease",
                "the lease thread ended without an answer",
            )),
        }
    }
}

/// The lease's thread and the signal that ends it; dropping it releases
/// the lock and waits until it is released.
struct LeaseHolder {
    release: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LeaseHolder {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The lease thread: take the lock on a new connection, answer whether it
/// was got, and if so hold it until told to let go.
fn hold_lease(
    options: &sqlx::postgres::PgConnectOptions,
    key: i64,
    answer: &std::sync::mpsc::Sender<Result<bool>>,
    release: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = answer.send(Err(StoreError::Io {
                path: "detection lease thread".into(),
                source: e,
            }));
            return;
        }
    };
    runtime.block_on(async move {
        use sqlx::Connection;
        let mut conn = match PgConnection::connect_with(options).await {
            Ok(c) => c,
            Err(e) => {
                let _ = answer.send(Err(e.into()));
                return;
            }
        };
        let got = sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await;
        let held = matches!(got, Ok(true));
        let _ = answer.send(got.map_err(Into::into));
        if held {
            // Until the lease is dropped (the sender goes away).
            let _ = release.await;
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut conn)
                .await;
        }
        let _ = conn.close().await;
    });
}
