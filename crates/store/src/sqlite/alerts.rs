//! Alerts: folding observations into deduplicated alerts, and listing.

use std::collections::HashMap;

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use vigil_core::alert::{
    Alert, AlertFilter, AlertId, DEDUP_WINDOW, MAX_ALERT_ENTITIES, Observation,
};
use vigil_core::time::to_micros;
use vigil_core::{Entity, TenantId, Timestamp};

use super::SqliteStore;
use super::identity::{parse, ts};
use super::open_alerts::{Key, Known, Stored};
use crate::{Result, StoreError};

/// An alert keeps the first this many events as its sample.
const MAX_ALERT_EVENTS: i64 = 100;

pub(super) const ALERT_COLUMNS: &str = "id, tenant_id, rule_id, rule_title, source, severity, tactics, techniques, entities, first_activity, last_activity, count, incident_id, created_at, updated_at";

fn json_list<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<Vec<T>> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(what, e))
}

pub(super) fn decode_alert(row: &SqliteRow) -> Result<Alert> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    let severity: String = row.try_get("severity")?;
    let count: i64 = row.try_get("count")?;
    Ok(Alert {
        id: parse("alert id", &id)?,
        tenant_id: parse("tenant id", &tenant)?,
        rule_id: row.try_get("rule_id")?,
        rule_title: row.try_get("rule_title")?,
        source: row.try_get("source")?,
        severity: parse("severity", &severity)?,
        tactics: json_list("alert tactics", &row.try_get::<String, _>("tactics")?)?,
        techniques: json_list("alert techniques", &row.try_get::<String, _>("techniques")?)?,
        entities: json_list("alert entities", &row.try_get::<String, _>("entities")?)?,
        first_activity: ts(row, "first_activity")?,
        last_activity: ts(row, "last_activity")?,
        count: u64::try_from(count).unwrap_or(0),
        incident_id: row.try_get("incident_id")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

/// An alert being folded in this transaction: a stored one, or one this
/// round opens (`opened_by`: the observation whose rule it is).
struct Open<'o> {
    alert: Stored,
    opened_by: Option<&'o Observation>,
    /// Entities not yet in `alert_entities`.
    new_entities: Vec<Entity>,
    new_events: Vec<i64>,
    /// Events kept so far, counting this round's.
    events_kept: i64,
}

fn merge(open: &mut Open<'_>, o: &Observation) {
    let a = &mut open.alert;
    a.count += 1;
    a.first = a.first.min(o.time);
    a.last = a.last.max(o.time);
    for e in &o.entities {
        if a.entities.len() < MAX_ALERT_ENTITIES && !a.entities.contains(e) {
            a.entities.push(e.clone());
            open.new_entities.push(e.clone());
        }
    }
    for s in &o.events {
        if open.events_kept < MAX_ALERT_EVENTS {
            open.new_events.push(*s);
            open.events_kept += 1;
        }
    }
}

fn decode_stored(row: &SqliteRow) -> Result<Stored> {
    let id: String = row.try_get("id")?;
    let count: i64 = row.try_get("count")?;
    Ok(Stored {
        id: parse("alert id", &id)?,
        entities: json_list("alert entities", &row.try_get::<String, _>("entities")?)?,
        first: ts(row, "first_activity")?,
        last: ts(row, "last_activity")?,
        count: u64::try_from(count).unwrap_or(0),
        kept: row.try_get("kept")?,
    })
}

/// The stored alerts of `keys` that a round may fold into: for each key,
/// every alert whose last activity is at or after its tenant's bound in
/// `lows` (the round's earliest time less [`DEDUP_WINDOW`]), with how
/// many events each keeps. One query per [`KEYS_PER_QUERY`] keys of a
/// tenant instead of one per observation: the fold runs inside the write
/// transaction, where every round trip to SQLite's thread holds up
/// intake.
async fn stored_open(
    conn: &mut SqliteConnection,
    keys: &[&Key],
    lows: &HashMap<TenantId, Timestamp>,
) -> Result<HashMap<Key, Known>> {
    let mut by_tenant: HashMap<TenantId, Vec<&str>> = HashMap::new();
    let mut found: HashMap<Key, Known> = HashMap::with_capacity(keys.len());
    for &key in keys {
        let since = lows[&key.0];
        found.insert(
            key.clone(),
            Known {
                since,
                alerts: Vec::new(),
            },
        );
        by_tenant.entry(key.0).or_default().push(&key.1);
    }
    for (tenant, mut keys) in by_tenant {
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(KEYS_PER_QUERY) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT id, dedup_key, entities, first_activity, last_activity, count, \
                 (SELECT count(*) FROM alert_events ae WHERE ae.alert_id = alerts.id) AS kept \
                 FROM alerts WHERE tenant_id = ",
            );
            q.push_bind(tenant.to_string()).push(" AND dedup_key IN (");
            let mut sep = q.separated(", ");
            for k in chunk {
                sep.push_bind(*k);
            }
            q.push(") AND last_activity >= ")
                .push_bind(to_micros(lows[&tenant]));
            for row in q.build().fetch_all(&mut *conn).await? {
                let key = (tenant, row.try_get::<String, _>("dedup_key")?);
                if let Some(known) = found.get_mut(&key) {
                    known.alerts.push(decode_stored(&row)?);
                }
            }
        }
    }
    Ok(found)
}

/// Keys looked up by one [`stored_open`] query.
const KEYS_PER_QUERY: usize = 500;

/// Each tenant's lower bound of a round: its earliest observation less
/// [`DEDUP_WINDOW`].
fn lows(keyed: &[(Key, &Observation)]) -> HashMap<TenantId, Timestamp> {
    let mut lows: HashMap<TenantId, Timestamp> = HashMap::new();
    for ((tenant, _), o) in keyed {
        let low = o.time.saturating_sub(DEDUP_WINDOW).unwrap_or(o.time);
        lows.entry(*tenant)
            .and_modify(|l| *l = (*l).min(low))
            .or_insert(low);
    }
    lows
}

/// The round's keys, each once.
fn unique_keys<'k>(keyed: &'k [(Key, &Observation)]) -> Vec<&'k Key> {
    let mut keys: Vec<&Key> = keyed.iter().map(|(k, _)| k).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The stored alert an observation at `time` folds into: the latest one
/// whose window, widened by [`DEDUP_WINDOW`], holds `time`.
fn open_at(stored: Option<&Known>, time: Timestamp) -> Option<&Stored> {
    let lo = time.saturating_sub(DEDUP_WINDOW).unwrap_or(time);
    let hi = time.saturating_add(DEDUP_WINDOW).unwrap_or(time);
    stored?
        .alerts
        .iter()
        .filter(|a| a.last >= lo && a.first <= hi)
        .max_by_key(|a| a.last)
}

fn within_window(a: &Stored, t: Timestamp) -> bool {
    let lo = a.first.saturating_sub(DEDUP_WINDOW).unwrap_or(a.first);
    let hi = a.last.saturating_add(DEDUP_WINDOW).unwrap_or(a.last);
    lo <= t && t <= hi
}

/// Rows per multi-row statement of [`write_folds`] (at most 16 values a
/// row: within SQLite's 32,766 bound parameters).
const ROWS_PER_STATEMENT: usize = 1000;

/// A fold of this round: its alert's key and the alert.
type Fold<'k, 'o> = (&'k Key, Open<'o>);

/// Update stored alerts a round folded into: their activity and count,
/// and their entity list when `entities`.
async fn update_folded(
    conn: &mut SqliteConnection,
    folds: &[&Fold<'_, '_>],
    entities: bool,
    now: Timestamp,
) -> Result<()> {
    for chunk in folds.chunks(ROWS_PER_STATEMENT) {
        let set = if entities {
            "entities = v.column6, "
        } else {
            ""
        };
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "UPDATE alerts SET {set}first_activity = v.column2, last_activity = v.column3, count = v.column4, updated_at = v.column5 FROM ("
        ));
        q.push_values(chunk, |mut b, (_, o)| {
            let a = &o.alert;
            b.push_bind(a.id.to_string())
                .push_bind(to_micros(a.first))
                .push_bind(to_micros(a.last))
                .push_bind(i64::try_from(a.count).unwrap_or(i64::MAX))
                .push_bind(to_micros(now));
            if entities {
                b.push_bind(vigil_core::json::entities(&a.entities));
            }
        });
        q.push(") AS v WHERE alerts.id = v.column1");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Write a round's folded alerts: new ones inserted, stored ones updated,
/// and their new entities and events, each kind in a few multi-row
/// statements. Answers how many of its new events each alert (by id)
/// now keeps that it did not (a repeated event is kept once).
async fn write_folds(
    conn: &mut SqliteConnection,
    folds: &[Fold<'_, '_>],
    now: Timestamp,
) -> Result<HashMap<String, i64>> {
    let (inserted, updated): (Vec<_>, Vec<_>) =
        folds.iter().partition(|(_, o)| o.opened_by.is_some());
    for chunk in inserted.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO alerts (id, tenant_id, rule_id, rule_title, source, severity, tactics, techniques, entities, dedup_key, first_activity, last_activity, count, incident_id, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, ((tenant, key), o)| {
            let a = &o.alert;
            let Some(rule) = o.opened_by else {
                return;
            };
            b.push_bind(a.id.to_string())
                .push_bind(tenant.to_string())
                .push_bind(rule.rule_id.clone())
                .push_bind(rule.rule_title.clone())
                .push_bind(rule.source.clone())
                .push_bind(rule.severity.as_str())
                .push_bind(serde_json::to_string(&rule.tactics).unwrap_or_default())
                .push_bind(serde_json::to_string(&rule.techniques).unwrap_or_default())
                .push_bind(vigil_core::json::entities(&a.entities))
                .push_bind(key.clone())
                .push_bind(to_micros(a.first))
                .push_bind(to_micros(a.last))
                .push_bind(i64::try_from(a.count).unwrap_or(i64::MAX))
                .push("NULL")
                .push_bind(to_micros(now))
                .push_bind(to_micros(now));
        });
        q.build().execute(&mut *conn).await?;
    }
    // Most stored alerts a round folds into name no new entity: their
    // entity list, often the largest value of the row, is left as it is.
    let (grew, same): (Vec<_>, Vec<_>) = updated
        .into_iter()
        .partition(|(_, o)| !o.new_entities.is_empty());
    update_folded(conn, &grew, true, now).await?;
    update_folded(conn, &same, false, now).await?;
    let entities: Vec<(TenantId, AlertId, &Entity)> = folds
        .iter()
        .flat_map(|((tenant, _), o)| o.new_entities.iter().map(move |e| (*tenant, o.alert.id, e)))
        .collect();
    for chunk in entities.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT OR IGNORE INTO alert_entities (tenant_id, kind, value, alert_id) ",
        );
        q.push_values(chunk, |mut b, (tenant, id, e)| {
            b.push_bind(tenant.to_string())
                .push_bind(e.kind.as_str())
                .push_bind(e.value.clone())
                .push_bind(id.to_string());
        });
        q.build().execute(&mut *conn).await?;
    }
    let events: Vec<(AlertId, i64)> = folds
        .iter()
        .flat_map(|(_, o)| o.new_events.iter().map(move |s| (o.alert.id, *s)))
        .collect();
    let mut kept: HashMap<String, i64> = HashMap::new();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT OR IGNORE INTO alert_events (alert_id, seq) ");
        q.push_values(chunk, |mut b, (id, s)| {
            b.push_bind(id.to_string()).push_bind(*s);
        });
        q.push(" RETURNING alert_id");
        for row in q.build().fetch_all(&mut *conn).await? {
            *kept.entry(row.try_get("alert_id")?).or_default() += 1;
        }
    }
    Ok(kept)
}

impl SqliteStore {
    pub(super) async fn commit_detections_impl(
        &self,
        first: i64,
        last: i64,
        observations: &[(TenantId, Observation)],
        now: Timestamp,
    ) -> Result<Vec<AlertId>> {
        let (touched, _) = self
            .fold_detections(Claim::Range(first, last), observations, now)
            .await?;
        Ok(touched)
    }

    pub(super) async fn commit_detections_of_impl(
        &self,
        seqs: &[i64],
        observations: &[(TenantId, Observation)],
        now: Timestamp,
    ) -> Result<(Vec<AlertId>, Vec<i64>)> {
        self.fold_detections(Claim::Seqs(seqs), observations, now)
            .await
    }

    /// Fold observations into alerts and take their events off the queue,
    /// in one transaction.
    async fn fold_detections(
        &self,
        claim: Claim<'_>,
        observations: &[(TenantId, Observation)],
        now: Timestamp,
    ) -> Result<(Vec<AlertId>, Vec<i64>)> {
        // Each observation's dedup key (a hash), made before the write lock.
        let keyed: Vec<(Key, &Observation)> = observations
            .iter()
            .map(|(tenant, o)| ((*tenant, o.dedup_key()), o))
            .collect();
        let lows = lows(&keyed);
        // The local worker's round (a range of the queue) reads the stored
        // alerts its observations may fold into before it takes the write
        // lock, and most of them from what its last rounds left in memory
        // (`open_alerts.rs`): only folding changes what it reads (an
        // alert's entities, times, count and kept events), and of the
        // folds of its rules' keys, this process's one detection worker is
        // the only one (the detect lock keeps other processes out). A bus
        // batch may share the store with other workers, and a saved hunt's
        // alerts (an empty range) may be run by two callers at once: they
        // read inside their transaction.
        let local = matches!(claim, Claim::Range(first, last) if first <= last);
        let mut generation = None;
        let read_first = if local {
            let keys = unique_keys(&keyed);
            let taken = self.open_alerts.take(keys.iter().map(|k| (*k, lows[&k.0])));
            let missing: Vec<&Key> = keys
                .into_iter()
                .filter(|k| !taken.found.contains_key(*k))
                .collect();
            let mut known = if missing.is_empty() {
                HashMap::new()
            } else {
                let mut conn = self.pool.acquire().await?;
                stored_open(&mut conn, &missing, &lows).await?
            };
            known.extend(taken.found);
            generation = Some(taken.generation);
            Some(known)
        } else {
            None
        };
        let mut tx = self.write_tx().await?;
        // A bus batch claims its events first: only those still queued are
        // folded, so a redelivered batch adds nothing.
        let taken = match claim {
            Claim::Seqs(seqs) => Some(take_queued(&mut tx, seqs).await?),
            Claim::Range(..) => None,
        };
        let folded: Vec<(Key, &Observation)> = keyed
            .into_iter()
            .filter(|(_, o)| {
                taken
                    .as_ref()
                    .is_none_or(|taken| o.events.iter().any(|s| taken.contains(s)))
            })
            .collect();
        let mut known = match read_first {
            Some(known) => known,
            None => stored_open(&mut tx, &unique_keys(&folded), &lows).await?,
        };
        let mut open: HashMap<&Key, Vec<Open<'_>>> = HashMap::new();
        for (key, o) in &folded {
            let slot = open.entry(key).or_default();
            if let Some(existing) = slot.iter_mut().find(|a| within_window(&a.alert, o.time)) {
                merge(existing, o);
                continue;
            }
            // Stored alerts are looked up even when this batch already
            // holds others of the key: those are outside the window, and a
            // stored one inside it is then never among them (their windows
            // only grow), so which events share a batch does not decide
            // whether two matches fold.
            let (alert, opened_by) = match open_at(known.get(key), o.time) {
                Some(stored) => (stored.clone(), None),
                None => (
                    Stored {
                        id: AlertId::new_at(now),
                        entities: Vec::new(),
                        first: o.time,
                        last: o.time,
                        count: 0,
                        kept: 0,
                    },
                    Some(*o),
                ),
            };
            let mut fold = Open {
                events_kept: alert.kept,
                alert,
                opened_by,
                new_entities: Vec::new(),
                new_events: Vec::new(),
            };
            merge(&mut fold, o);
            slot.push(fold);
        }
        let folds: Vec<Fold<'_, '_>> = open
            .into_iter()
            .flat_map(|(key, alerts)| alerts.into_iter().map(move |o| (key, o)))
            .collect();
        let kept = write_folds(&mut tx, &folds, now).await?;
        let touched = folds.iter().map(|(_, o)| o.alert.id).collect();
        if let Claim::Range(first, last) = claim {
            sqlx::query("DELETE FROM detection_queue WHERE seq BETWEEN ? AND ?")
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        match generation {
            // What the next round would read: the stored alerts as this
            // commit left them, the new ones among them.
            Some(generation) => {
                for (key, known) in &mut known {
                    known.advance(lows[&key.0]);
                }
                for (key, o) in folds {
                    let mut alert = o.alert;
                    alert.kept += kept.get(&alert.id.to_string()).copied().unwrap_or(0);
                    let Some(entry) = known.get_mut(key) else {
                        continue;
                    };
                    match entry.alerts.iter_mut().find(|a| a.id == alert.id) {
                        Some(a) => *a = alert,
                        None => entry.alerts.push(alert),
                    }
                }
                self.open_alerts.put(generation, known);
            }
            // A bus batch's or a hunt's alerts: keys the local worker may
            // hold, folded without it.
            None => self.open_alerts.clear(),
        }
        let mut taken: Vec<i64> = taken.map(|t| t.into_iter().collect()).unwrap_or_default();
        taken.sort_unstable();
        Ok((touched, taken))
    }

    pub(super) async fn alert_impl(
        &self,
        tenant: TenantId,
        id: AlertId,
    ) -> Result<Option<(Alert, Vec<i64>)>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = ? AND id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let seqs: Vec<i64> =
            sqlx::query_scalar("SELECT seq FROM alert_events WHERE alert_id = ? ORDER BY seq")
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?;
        Ok(Some((decode_alert(&row)?, seqs)))
    }

    pub(super) async fn list_alerts_impl(
        &self,
        tenant: TenantId,
        f: &AlertFilter,
    ) -> Result<Vec<Alert>> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE tenant_id = "
        ));
        q.push_bind(tenant.to_string());
        if !f.severities.is_empty() {
            q.push(" AND severity IN (");
            let mut sep = q.separated(", ");
            for s in &f.severities {
                sep.push_bind(s.as_str());
            }
            q.push(")");
        }
        if let Some(since) = f.since {
            q.push(" AND last_activity >= ").push_bind(to_micros(since));
        }
        if let Some(until) = f.until {
            q.push(" AND first_activity < ").push_bind(to_micros(until));
        }
        if let Some(rule) = &f.rule_id {
            q.push(" AND rule_id = ").push_bind(rule.clone());
        }
        if let Some(e) = &f.entity {
            q.push(" AND id IN (SELECT alert_id FROM alert_entities WHERE tenant_id = ")
                .push_bind(tenant.to_string())
                .push(" AND kind = ")
                .push_bind(e.kind.as_str())
                .push(" AND value = ")
                .push_bind(e.value.clone())
                .push(")");
        }
        if let Some((at, id)) = f.after {
            q.push(" AND (last_activity < ")
                .push_bind(to_micros(at))
                .push(" OR (last_activity = ")
                .push_bind(to_micros(at))
                .push(" AND id < ")
                .push_bind(id.to_string())
                .push("))");
        }
        q.push(" ORDER BY last_activity DESC, id DESC LIMIT ")
            .push_bind(i64::from(f.limit.max(1)));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode_alert).collect()
    }
}

/// Which queued events a detection commit takes off the queue.
#[derive(Debug, Clone, Copy)]
enum Claim<'a> {
    /// `first..=last`: the single detection worker's round.
    Range(i64, i64),
    /// Exactly these: a bus batch.
    Seqs(&'a [i64]),
}

/// Delete the queue rows of `seqs`, returning those that were there.
async fn take_queued(
    conn: &mut SqliteConnection,
    seqs: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    let mut taken = std::collections::HashSet::with_capacity(seqs.len());
    for chunk in seqs.chunks(256) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("DELETE FROM detection_queue WHERE seq IN (");
        let mut sep = q.separated(", ");
        for s in chunk {
            sep.push_bind(*s);
        }
        q.push(") RETURNING seq");
        for row in q.build().fetch_all(&mut *conn).await? {
            taken.insert(row.try_get::<i64, _>("seq")?);
        }
    }
    Ok(taken)
}
