//! Intake's writer: one connection of its own that runs a batch's whole
//! transaction on the calling thread.
//!
//! Through sqlx, every statement is a round trip to the connection's
//! worker thread, and its arguments are built on the async side while the
//! write lock is held: a 2,000-event batch spent about a third of its time
//! under the lock between statements. Here the statements are prepared
//! once, bound straight from the batch and stepped one row at a time on
//! the thread that holds the lock, so the lock is held for SQLite's own
//! work alone.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use vigil_core::hunting::{HuntColumn, HuntValue};
use vigil_core::telemetry::{IntakeBatch, IntakeCounts, NewEvent, flags};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use crate::{Result, StoreError};

/// What each event stores that takes work to make: its record compressed
/// and its entities as JSON. Made before the write lock is taken.
pub(super) type Prepared = (Vec<u8>, String);

/// [`Prepared`] parts of `events`, in order.
pub(super) fn prepare(events: &[NewEvent]) -> Vec<Prepared> {
    events
        .iter()
        .map(|e| {
            (
                lz4_flex::compress_prepend_size(e.raw.as_bytes()),
                serde_json::to_string(&e.entities).unwrap_or_else(|_| "[]".to_owned()),
            )
        })
        .collect()
}

pub(super) struct IntakeWriter {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for IntakeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntakeWriter")
    }
}

impl IntakeWriter {
    /// A connection to the database at `path` with the pool's settings;
    /// `durable`: commits wait for the disk.
    pub(super) fn open(path: &Path, durable: bool) -> Result<Self> {
        let conn = Connection::open(path).map_err(|source| StoreError::WriterOpen {
            path: path.to_owned(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(if durable {
            "PRAGMA synchronous = FULL;"
        } else {
            "PRAGMA synchronous = OFF;"
        })?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; \
             PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864;",
        )?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(IntakeWriter {
            conn: Mutex::new(conn),
        })
    }

    /// Commit `batch` (see `Store::commit_intake`); `prepared` is the
    /// events' [`Prepared`] parts, in order. The caller holds the process's
    /// turn to write.
    pub(super) fn commit(
        &self,
        tenant: TenantId,
        received_at: Timestamp,
        batch: &IntakeBatch,
        prepared: Vec<Prepared>,
    ) -> Result<(IntakeCounts, Vec<Option<i64>>)> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let tenant = tenant.to_string();
        let received = to_micros(received_at);
        if let Some(key) = &batch.idempotency_key
            && let Some(counts) = replayed(&tx, &tenant, key)?
        {
            return Ok((counts, vec![None; batch.events.len()]));
        }
        let seqs = insert_events(&tx, &tenant, received, &batch.events, prepared)?;
        let mut letters = tx.prepare_cached(
            "INSERT INTO dead_letters (tenant_id, received_at, source, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for d in &batch.dead_letters {
            letters.execute(params![tenant, received, d.source, d.reason, d.raw])?;
        }
        drop(letters);
        let total = batch.events.len() as u64;
        let counts = IntakeCounts {
            accepted: total,
            duplicates: total - seqs.iter().flatten().count() as u64,
            rejected: batch.dead_letters.len() as u64,
            dead_lettered: batch.dead_letters.len() as u64,
            flagged: batch
                .events
                .iter()
                .filter(|e| e.flags & flags::FUTURE_TIME != 0)
                .count() as u64,
            replayed: false,
        };
        if let Some(key) = &batch.idempotency_key {
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            let mut batch_row = tx.prepare_cached(
                "INSERT INTO intake_batches (tenant_id, key, received_at, accepted, duplicates, rejected, dead_lettered, flagged) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            batch_row.execute(params![
                tenant,
                key,
                received,
                n(counts.accepted),
                n(counts.duplicates),
                n(counts.rejected),
                n(counts.dead_lettered),
                n(counts.flagged)
            ])?;
        }
        tx.commit()?;
        Ok((counts, seqs))
    }
}

/// The answer a batch with this idempotency key got, if it was committed.
fn replayed(
    tx: &rusqlite::Transaction<'_>,
    tenant: &str,
    key: &str,
) -> Result<Option<IntakeCounts>> {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let found = tx.prepare_cached(
        "SELECT accepted, duplicates, rejected, dead_lettered, flagged FROM intake_batches WHERE tenant_id = ?1 AND key = ?2",
    )
    .and_then(|mut s| {
        s.query_row(params![tenant, key], |r| {
            Ok(IntakeCounts {
                accepted: n(r.get(0)?),
                duplicates: n(r.get(1)?),
                rejected: n(r.get(2)?),
                dead_lettered: n(r.get(3)?),
                flagged: n(r.get(4)?),
                replayed: true,
            })
        })
        .optional()
    })?;
    Ok(found)
}

/// The time identical copies of `e` share, for deduplication: its own, or
/// 0 when it is stored under its arrival (which differs between copies).
pub(super) fn dedup_at(e: &NewEvent) -> i64 {
    if e.stored_under_arrival() {
        0
    } else {
        to_micros(e.time)
    }
}

/// Insert events (skipping identical ones), their queue entries, hunting
/// rows and entity rows. Returns each event's `seq` (`None`: a duplicate,
/// of an earlier batch or of an earlier event of this one).
fn insert_events(
    tx: &rusqlite::Transaction<'_>,
    tenant: &str,
    received: i64,
    events: &[NewEvent],
    prepared: Vec<Prepared>,
) -> Result<Vec<Option<i64>>> {
    let mut event = tx.prepare_cached(
        "INSERT INTO events (tenant_id, time, dedup_at, received_at, shape, product, service, category, content_hash, flags, raw, raw_lz4, entities) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '', ?11, ?12) \
         ON CONFLICT (tenant_id, dedup_at, content_hash) DO NOTHING",
    )?;
    let mut queue = tx.prepare_cached("INSERT INTO detection_queue (seq) VALUES (?1)")?;
    let mut entity = tx.prepare_cached(
        "INSERT OR IGNORE INTO event_entities (tenant_id, kind, value, time, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut hunt = tx.prepare_cached(&hunt_insert())?;
    let mut additional = tx.prepare_cached(
        "INSERT OR IGNORE INTO hunt_additional (seq, additional) VALUES (?1, ?2)",
    )?;
    let mut seqs = Vec::with_capacity(events.len());
    let mut postings = Vec::with_capacity(events.len() * 4);
    for (e, (raw_lz4, entities)) in events.iter().zip(prepared) {
        let time = to_micros(e.time);
        let inserted = event.execute(params![
            tenant,
            time,
            dedup_at(e),
            received,
            e.shape,
            e.product,
            e.service,
            e.category,
            e.content_hash,
            i64::from(e.flags),
            raw_lz4,
            entities
        ])?;
        // Without `RETURNING`, whose rows SQLite gathers in a table of
        // their own first: an ignored copy changes nothing.
        let seq = (inserted == 1).then(|| tx.last_insert_rowid());
        seqs.push(seq);
        let Some(seq) = seq else { continue };
        queue.execute([seq])?;
        postings.extend(
            e.entities
                .iter()
                .map(|en| (en.kind.as_str(), &*en.value, time, seq)),
        );
        if let Some(row) = &e.hunt {
            let mut i = 1;
            let mut bind = |v: &dyn rusqlite::ToSql| -> rusqlite::Result<()> {
                hunt.raw_bind_parameter(i, v)?;
                i += 1;
                Ok(())
            };
            bind(&seq)?;
            bind(&tenant)?;
            bind(&row.table)?;
            bind(&time)?;
            let mut extra = None;
            for (c, v) in HuntColumn::ALL.iter().zip(row.values()) {
                if *c == HuntColumn::Additional {
                    extra = v.as_ref();
                    continue;
                }
                match v {
                    Some(HuntValue::Int(n)) => bind(n),
                    Some(HuntValue::Text(t)) => bind(t),
                    None => bind(&rusqlite::types::Null),
                }?;
            }
            hunt.raw_execute()?;
            match extra {
                Some(HuntValue::Text(t)) => additional.execute(params![seq, t])?,
                Some(HuntValue::Int(n)) => additional.execute(params![seq, n.to_string()])?,
                None => 0,
            };
        }
    }
    // In key order: each page of the index is then written in one pass,
    // and its path is still cached for the next row.
    postings.sort_unstable();
    postings.dedup();
    for (kind, value, time, seq) in postings {
        entity.execute(params![tenant, kind, value, time, seq])?;
    }
    Ok(seqs)
}

/// `INSERT OR IGNORE INTO hunt_events` with every hunting column but
/// `additional`, which has a table of its own (migration 0023).
fn hunt_insert() -> String {
    let mut sql = String::from("INSERT OR IGNORE INTO hunt_events (seq, tenant_id, tbl, ts");
    let mut n = 4;
    for c in HuntColumn::ALL {
        if *c != HuntColumn::Additional {
            sql.push_str(", ");
            sql.push_str(c.sql_name());
            n += 1;
        }
    }
    sql.push_str(") VALUES (?");
    for _ in 1..n {
        sql.push_str(", ?");
    }
    sql.push(')');
    sql
}
