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

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use vigil_core::hunting::{HuntColumn, HuntRow, HuntValue};
use vigil_core::telemetry::{IntakeBatch, IntakeCounts, NewEvent, flags};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::blocks::{self, EVENTS_PER_BLOCK};
use super::postings;
use crate::{Result, StoreError};

/// What a batch stores that takes work to make, made before the write
/// lock is taken: its events' records (and any `additional` texts) packed
/// into blocks of [`EVENTS_PER_BLOCK`] (`blocks.rs`), and each event's
/// entities as JSON.
pub(super) struct Prepared {
    /// Each block's stored bytes and the newest time of its events.
    blocks: Vec<(Vec<u8>, i64)>,
    entities: Vec<String>,
}

/// [`Prepared`] parts of `events`, in order. A block whose events' rows
/// carry no `additional` text (intake leaves it out when the store makes
/// it from the record: `HuntStore::derive_additional`) keeps records only.
pub(super) fn prepare(events: &[NewEvent]) -> Prepared {
    let blocks = events
        .chunks(EVENTS_PER_BLOCK)
        .map(|chunk| {
            let extras: Vec<Option<Cow<'_, str>>> = chunk.iter().map(additional).collect();
            let newest = chunk.iter().map(|e| to_micros(e.time)).max().unwrap_or(0);
            if extras.iter().all(Option::is_none) {
                let records: Vec<&[u8]> = chunk.iter().map(|e| e.raw.as_bytes()).collect();
                return (blocks::pack_records(&records), newest);
            }
            let items = chunk.iter().zip(&extras).map(|(e, extra)| {
                let extra = extra.as_deref().map_or(&[][..], str::as_bytes);
                (e.raw.as_bytes(), extra)
            });
            (blocks::pack_events(items), newest)
        })
        .collect();
    let entities = events
        .iter()
        .map(|e| vigil_core::json::entities(&e.entities))
        .collect();
    Prepared { blocks, entities }
}

/// The hunting row's `additional` text, kept in the event's block.
fn additional(e: &NewEvent) -> Option<Cow<'_, str>> {
    match e.hunt.as_ref()?.get(HuntColumn::Additional)? {
        HuntValue::Text(t) => Some(Cow::Borrowed(t)),
        HuntValue::Int(n) => Some(Cow::Owned(n.to_string())),
    }
}

pub(super) struct IntakeWriter {
    state: Mutex<State>,
}

struct State {
    conn: Connection,
    /// Entity numbers (`entity_names`, migration 0026) this process has
    /// read or made: names are never deleted, so each stays good.
    names: Names,
    /// Postings in `entity_recent`'s lists as this process knows them,
    /// once counted (the first batch counts them). Only decides when to
    /// move: lists another process added or a purge removed merely bring
    /// the move later or sooner.
    recent: Option<u64>,
}

/// Postings that `entity_recent`'s lists collect before intake moves them
/// to `entity_lists` (migrations 0024, 0028): about 40,000 events' worth,
/// a second and a half of intake at full speed. More makes each move
/// longer (it holds up intake meanwhile) and lookups read more of the
/// unsorted part; fewer writes each entity's page more often.
const MOVE_AT: u64 = 131_072;

impl std::fmt::Debug for IntakeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntakeWriter")
    }
}

impl IntakeWriter {
    /// A connection to the database at `path` with the pool's settings;
    /// `durable`: commits wait for the disk; a commit that leaves the log
    /// longer than `autocheckpoint` pages checkpoints it.
    pub(super) fn open(path: &Path, durable: bool, autocheckpoint: i64) -> Result<Self> {
        let conn = Connection::open(path).map_err(|source| StoreError::WriterOpen {
            path: path.to_owned(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // Durable, this connection's commits still leave the log unsynced
        // (`NORMAL`): the store syncs it after the turn to write is given
        // back (`sync.rs`).
        conn.execute_batch(if durable {
            "PRAGMA synchronous = NORMAL;"
        } else {
            "PRAGMA synchronous = OFF;"
        })?;
        // Foreign keys stay off on this connection: every row a batch
        // writes names the batch's one tenant, which `commit` looks up
        // once instead of once a row (the events' and blocks' checks were
        // a parent-key search each).
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -65536; PRAGMA temp_store = memory; \
             PRAGMA journal_size_limit = 67108864;",
        )?;
        conn.pragma_update(None, "wal_autocheckpoint", autocheckpoint)?;
        // Each multi-row statement has two shapes (a full one and the rest).
        conn.set_prepared_statement_cache_capacity(32);
        Ok(IntakeWriter {
            state: Mutex::new(State {
                conn,
                names: Names::default(),
                recent: None,
            }),
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
        prepared: Prepared,
    ) -> Result<(IntakeCounts, Vec<Option<i64>>)> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        let recent = match state.recent {
            Some(n) => n,
            None => state
                .conn
                .query_row(
                    "SELECT coalesce(sum(json_array_length(postings)), 0) / 2 FROM entity_recent",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| u64::try_from(n).unwrap_or(0))?,
        };
        let tx = state
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let tenant = tenant.to_string();
        let received = to_micros(received_at);
        // What the foreign keys on `tenant_id` would refuse, checked once.
        let known = tx
            .prepare_cached("SELECT 1 FROM tenants WHERE id = ?1")?
            .exists([&tenant])?;
        if !known {
            return Err(StoreError::NotFound {
                what: "tenant",
                key: tenant,
            });
        }
        if let Some(key) = &batch.idempotency_key
            && let Some(counts) = replayed(&tx, &tenant, key)?
        {
            return Ok((counts, vec![None; batch.events.len()]));
        }
        let mut made = Vec::new();
        let (seqs, postings) = insert_events(
            &tx,
            &tenant,
            received,
            &batch.events,
            prepared,
            &state.names,
            &mut made,
        )?;
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
        // Only once committed: a number of a rolled-back name is no one's.
        state.names.add(&tenant, made);
        state.recent = Some(recent + postings);
        if recent + postings >= MOVE_AT {
            // The batch is committed whatever becomes of the move: a move
            // that fails leaves the postings where lookups still find them,
            // for the next batch to try again.
            match move_postings(&mut state.conn) {
                Ok(()) => state.recent = Some(0),
                Err(e) => tracing::warn!(error = %e, "moving entity postings failed; will retry"),
            }
        }
        Ok((counts, seqs))
    }
}

impl IntakeWriter {
    /// Move the postings of `entity_recent` now. The caller holds the
    /// process's turn to write.
    pub(super) fn move_postings_now(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        move_postings(&mut state.conn)?;
        state.recent = Some(0);
        Ok(())
    }
}

/// Move every list of `entity_recent` into `entity_lists`, in key order,
/// in one transaction: the lists of one entity and bucket become one
/// (about nine batches' lists to a row at full speed, so fewer rows to
/// write now and to read later).
fn move_postings(conn: &mut Connection) -> Result<()> {
    let began = std::time::Instant::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut moved = 0usize;
    {
        // Read in the table's order and sorted here: SQLite's sorter took
        // a third of the move, carrying each list through its merges.
        let mut lists: Vec<(i64, i64, i64, String)> = Vec::new();
        let mut read =
            tx.prepare("SELECT entity, bucket, first_seq, postings FROM entity_recent")?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            lists.push((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?));
        }
        lists.sort_unstable_by_key(|&(entity, bucket, first, _)| (entity, bucket, first));
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO entity_lists (entity, bucket, first_seq, postings) \
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut lists = lists.into_iter().peekable();
        while let Some((entity, bucket, first, mut list)) = lists.next() {
            while let Some((_, _, _, more)) =
                lists.next_if(|&(e, b, _, _)| (e, b) == (entity, bucket))
            {
                postings::append(&mut list, &more);
            }
            moved += insert.execute(params![entity, bucket, first, list])?;
        }
    }
    // Without a `WHERE`, SQLite empties the table by dropping its pages.
    tx.execute("DELETE FROM entity_recent", [])?;
    tx.commit()?;
    tracing::debug!(
        moved,
        took_ms = began.elapsed().as_millis() as u64,
        "entity postings moved"
    );
    Ok(())
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

/// Insert events (skipping identical ones) with their blocks, queue
/// entries, hunting rows and entity postings (into `entity_recent`).
/// Returns each event's `seq` (`None`: a duplicate, of an earlier batch or
/// of an earlier event of this one) and how many postings it wrote.
fn insert_events(
    tx: &rusqlite::Transaction<'_>,
    tenant: &str,
    received: i64,
    events: &[NewEvent],
    prepared: Prepared,
    names: &Names,
    made: &mut Vec<(String, i64)>,
) -> Result<(Vec<Option<i64>>, u64)> {
    let mut block = tx.prepare_cached(
        "INSERT INTO event_blocks (tenant_id, max_time, data) VALUES (?1, ?2, ?3)",
    )?;
    let mut hunting: Vec<(i64, i64, &HuntRow)> = Vec::with_capacity(events.len());
    let mut seqs = Vec::with_capacity(events.len());
    let mut posted: Vec<[i64; 3]> = Vec::with_capacity(events.len() * 4);
    let mut numbers = Numbering {
        names,
        made: HashMap::new(),
        key: String::new(),
    };
    // Every `seq` above this is one this batch's statements gave: the
    // transaction holds the database's one turn to write.
    let mut newest_seq: i64 = tx
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM events")?
        .query_row([], |r| r.get(0))?;
    let mut entities = prepared.entities.into_iter();
    for (chunk, (data, newest)) in events.chunks(EVENTS_PER_BLOCK).zip(prepared.blocks) {
        // A block whose events all turn out to be copies stays unreferenced
        // until retention reaches it: rare (a retry is usually answered
        // from `intake_batches`), and cheaper than compressing under the
        // lock once the copies are known.
        block.execute(params![tenant, newest, data])?;
        let block_id = tx.last_insert_rowid();
        // The block's events in one statement, copies skipped (a commit's
        // instructions: 5 % fewer than with one statement an event).
        static FULL: OnceLock<String> = OnceLock::new();
        let sql = sized(&FULL, EVENTS_PER_BLOCK, chunk.len(), events_insert);
        let mut insert = tx.prepare_cached(&sql)?;
        let mut at = 0;
        for (item, e) in chunk.iter().enumerate() {
            let entities = entities.next().unwrap_or_default();
            let values: [&dyn rusqlite::ToSql; 13] = [
                &tenant,
                &to_micros(e.time),
                &dedup_at(e),
                &received,
                &e.shape,
                &e.product,
                &e.service,
                &e.category,
                &e.content_hash,
                &i64::from(e.flags),
                &entities,
                &block_id,
                &(item as i64),
            ];
            for v in values {
                at += 1;
                insert.raw_bind_parameter(at, v)?;
            }
        }
        insert.raw_execute()?;
        // Which of them were stored, and as which `seq`: without
        // `RETURNING`, whose rows SQLite gathers in a table of their own.
        let mut stored: Vec<Option<i64>> = vec![None; chunk.len()];
        let mut find =
            tx.prepare_cached("SELECT seq, block_item FROM events WHERE seq > ?1 ORDER BY seq")?;
        let mut rows = find.query([newest_seq])?;
        while let Some(row) = rows.next()? {
            let (seq, item): (i64, i64) = (row.get(0)?, row.get(1)?);
            newest_seq = newest_seq.max(seq);
            if let Some(slot) = usize::try_from(item).ok().and_then(|i| stored.get_mut(i)) {
                *slot = Some(seq);
            }
        }
        for (e, seq) in chunk.iter().zip(stored) {
            seqs.push(seq);
            let Some(seq) = seq else { continue };
            let time = to_micros(e.time);
            for (i, en) in e.entities.iter().enumerate() {
                // An event that names an entity twice has one posting.
                if !e.entities[..i].contains(en) {
                    let number = numbers.get(tx, tenant, en.kind.as_str(), &en.value)?;
                    posted.push([number, time, seq]);
                }
            }
            if let Some(row) = &e.hunt {
                hunting.push((seq, time, row));
            }
        }
    }
    insert_hunting(tx, tenant, &hunting)?;
    // The batch's events have the `seq`s from its first to its last new
    // one, and no others (this transaction holds the database's one turn
    // to write): they join the detection queue in one statement.
    let (first, last) = (
        seqs.iter().flatten().next(),
        seqs.iter().flatten().next_back(),
    );
    if let (Some(first), Some(last)) = (first, last) {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO detection_queue (seq) SELECT seq FROM events WHERE seq BETWEEN ?1 AND ?2",
        )?
        .execute([first, last])?;
    }
    made.extend(numbers.made);
    let count = posted.len() as u64;
    insert_recent(tx, &postings::lists(&mut posted))?;
    Ok((seqs, count))
}

/// `head`, then `row` (a parenthesised list of placeholders) `rows` times,
/// comma-separated, then `tail`: one statement for many rows.
fn many_rows(head: &str, row: &str, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + (row.len() + 2) * rows + tail.len());
    sql.push_str(head);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql.push_str(tail);
    sql
}

/// The text of a multi-row statement of `rows` rows that `make` builds:
/// for the full size `full`, which nearly every statement has, made once
/// (building it took as many instructions as a row's insert); for the
/// rest, each time.
fn sized(
    cache: &'static OnceLock<String>,
    full: usize,
    rows: usize,
    make: fn(usize) -> String,
) -> Cow<'static, str> {
    if rows == full {
        Cow::Borrowed(cache.get_or_init(|| make(full)))
    } else {
        Cow::Owned(make(rows))
    }
}

/// `INSERT` of `rows` events (13 values each), copies skipped.
///
/// The multi-row statements here say `OR IGNORE`: a statement that can
/// fail halfway (a constraint that aborts) makes SQLite copy every page it
/// touches into a statement journal first, to undo just that statement.
/// Their only constraint that can meet a conflict is the one whose
/// conflicts are meant to be skipped (events' copies); the rest are
/// `NOT NULL`s that their bound values always meet.
fn events_insert(rows: usize) -> String {
    many_rows(
        "INSERT OR IGNORE INTO events (tenant_id, time, dedup_at, received_at, shape, product, service, category, content_hash, flags, raw, entities, block, block_item) VALUES ",
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)",
        rows,
        "",
    )
}

/// Lists per `INSERT` of [`insert_recent`]: one statement runs for many
/// rows rather than each row being a statement of its own.
const LISTS_PER_STATEMENT: usize = 64;

/// `INSERT` of `rows` lists into `entity_recent`.
fn recent_insert(rows: usize) -> String {
    many_rows(
        "INSERT OR IGNORE INTO entity_recent (entity, bucket, first_seq, postings) VALUES ",
        "(?, ?, ?, ?)",
        rows,
        "",
    )
}

/// Append postings lists to `entity_recent`.
fn insert_recent(tx: &rusqlite::Transaction<'_>, lists: &[postings::List]) -> Result<()> {
    static FULL: OnceLock<String> = OnceLock::new();
    for chunk in lists.chunks(LISTS_PER_STATEMENT) {
        let sql = sized(&FULL, LISTS_PER_STATEMENT, chunk.len(), recent_insert);
        // Two shapes at most a batch: the full chunk and the rest.
        let mut insert = tx.prepare_cached(&sql)?;
        for (i, list) in chunk.iter().enumerate() {
            let at = 4 * i;
            insert.raw_bind_parameter(at + 1, list.entity)?;
            insert.raw_bind_parameter(at + 2, list.bucket)?;
            insert.raw_bind_parameter(at + 3, list.first_seq)?;
            insert.raw_bind_parameter(at + 4, list.postings.as_str())?;
        }
        insert.raw_execute()?;
    }
    Ok(())
}

/// Entity numbers for one batch: those this process knows, else those
/// the batch has read or made so far, else read or made now.
struct Numbering<'a> {
    names: &'a Names,
    /// Read or made by this batch: known to the process once it commits.
    made: HashMap<String, i64>,
    key: String,
}

impl Numbering<'_> {
    fn get(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        tenant: &str,
        kind: &str,
        value: &str,
    ) -> Result<i64> {
        self.key.clear();
        self.key.push_str(kind);
        self.key.push('\0');
        self.key.push_str(value);
        if let Some(n) = self
            .names
            .get(tenant, &self.key)
            .or_else(|| self.made.get(&self.key).copied())
        {
            return Ok(n);
        }
        let n = entity_number(tx, tenant, kind, value)?;
        self.made.insert(self.key.clone(), n);
        Ok(n)
    }
}

/// The number of the tenant's entity, named now if it is new.
fn entity_number(
    tx: &rusqlite::Transaction<'_>,
    tenant: &str,
    kind: &str,
    value: &str,
) -> Result<i64> {
    let mut name = tx.prepare_cached(
        "INSERT INTO entity_names (tenant_id, kind, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )?;
    if name.execute(params![tenant, kind, value])? == 1 {
        return Ok(tx.last_insert_rowid());
    }
    let mut find = tx.prepare_cached(
        "SELECT id FROM entity_names WHERE tenant_id = ?1 AND kind = ?2 AND value = ?3",
    )?;
    Ok(find.query_row(params![tenant, kind, value], |r| r.get(0))?)
}

/// Entity numbers by tenant, then by kind and value (joined by a NUL).
#[derive(Default)]
struct Names {
    by_tenant: HashMap<String, HashMap<String, i64>>,
    count: usize,
}

/// The most entity numbers kept in memory (about 100 bytes each); past it
/// they are read again as needed.
const NAMES_KEPT: usize = 1_000_000;

impl Names {
    fn get(&self, tenant: &str, key: &str) -> Option<i64> {
        self.by_tenant.get(tenant)?.get(key).copied()
    }

    fn add(&mut self, tenant: &str, made: Vec<(String, i64)>) {
        if made.is_empty() {
            return;
        }
        if self.count + made.len() > NAMES_KEPT {
            self.by_tenant.clear();
            self.count = 0;
        }
        let names = self.by_tenant.entry(tenant.to_owned()).or_default();
        for (key, n) in made {
            if names.insert(key, n).is_none() {
                self.count += 1;
            }
        }
    }
}

/// Hunting rows per `INSERT` of [`insert_hunting`] (each binds up to 43
/// values).
const HUNT_ROWS_PER_STATEMENT: usize = 64;

/// The hunting rows `(seq, time, row)` of the batch's new events.
fn insert_hunting(
    tx: &rusqlite::Transaction<'_>,
    tenant: &str,
    rows: &[(i64, i64, &HuntRow)],
) -> Result<()> {
    static FULL: OnceLock<String> = OnceLock::new();
    let per_row = 4 + hunt_columns().count();
    for chunk in rows.chunks(HUNT_ROWS_PER_STATEMENT) {
        // Most columns of a row are empty: only the others are bound. The
        // statement cache hands a statement back with every parameter
        // NULL (`rusqlite` clears them as it takes the statement back).
        let sql = sized(&FULL, HUNT_ROWS_PER_STATEMENT, chunk.len(), hunt_insert);
        let mut insert = tx.prepare_cached(&sql)?;
        for (r, (seq, time, row)) in chunk.iter().enumerate() {
            let at = r * per_row;
            insert.raw_bind_parameter(at + 1, seq)?;
            insert.raw_bind_parameter(at + 2, tenant)?;
            insert.raw_bind_parameter(at + 3, row.table)?;
            insert.raw_bind_parameter(at + 4, time)?;
            let values = HuntColumn::ALL.iter().zip(row.values());
            let values = values.filter(|(c, _)| **c != HuntColumn::Additional);
            for (i, (_, v)) in values.enumerate() {
                match v {
                    Some(HuntValue::Int(n)) => insert.raw_bind_parameter(at + 5 + i, n)?,
                    Some(HuntValue::Text(t)) => insert.raw_bind_parameter(at + 5 + i, t)?,
                    None => {}
                }
            }
        }
        insert.raw_execute()?;
    }
    Ok(())
}

/// The columns a hunting row binds after its key: every hunting column
/// but `additional`, which is kept in the event's block
/// (`vigil_additional` reads it).
fn hunt_columns() -> impl Iterator<Item = HuntColumn> {
    HuntColumn::ALL
        .iter()
        .copied()
        .filter(|c| *c != HuntColumn::Additional)
}

/// `INSERT OR IGNORE INTO hunt_events` of `rows` rows with
/// [`hunt_columns`] after the key.
fn hunt_insert(rows: usize) -> String {
    let mut head = String::from("INSERT OR IGNORE INTO hunt_events (seq, tenant_id, tbl, ts");
    for c in hunt_columns() {
        head.push_str(", ");
        head.push_str(c.sql_name());
    }
    head.push_str(") VALUES ");
    let row = format!("(?{})", ", ?".repeat(3 + hunt_columns().count()));
    many_rows(&head, &row, rows, "")
}
