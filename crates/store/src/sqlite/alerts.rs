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

/// An alert being folded in this transaction.
struct Open {
    alert: Alert,
    /// Entities not yet in `alert_entities`.
    new_entities: Vec<Entity>,
    new_events: Vec<i64>,
    events_kept: i64,
    inserted: bool,
}

fn merge(open: &mut Open, o: &Observation) {
    let a = &mut open.alert;
    a.count += 1;
    a.first_activity = a.first_activity.min(o.time);
    a.last_activity = a.last_activity.max(o.time);
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

/// Stored alerts of one tenant that an observation of this round may fold
/// into, by dedup key: those of the round's keys whose window (widened by
/// [`DEDUP_WINDOW`]) meets the round's times, each with how many events
/// it keeps. One query per [`KEYS_PER_QUERY`] keys instead of one per
/// observation: the fold runs inside the write transaction, where every
/// round trip to SQLite's thread holds up intake.
async fn stored_open(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    keys: &[&str],
    (earliest, latest): (Timestamp, Timestamp),
) -> Result<HashMap<String, Vec<(Alert, i64)>>> {
    let lo = earliest.saturating_sub(DEDUP_WINDOW).unwrap_or(earliest);
    let hi = latest.saturating_add(DEDUP_WINDOW).unwrap_or(latest);
    let mut found: HashMap<String, Vec<(Alert, i64)>> = HashMap::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {ALERT_COLUMNS}, dedup_key, (SELECT count(*) FROM alert_events ae WHERE ae.alert_id = alerts.id) AS kept
             FROM alerts WHERE tenant_id = "
        ));
        q.push_bind(tenant.to_string()).push(" AND dedup_key IN (");
        let mut sep = q.separated(", ");
        for k in chunk {
            sep.push_bind(*k);
        }
        q.push(") AND last_activity >= ")
            .push_bind(to_micros(lo))
            .push(" AND first_activity <= ")
            .push_bind(to_micros(hi));
        for row in q.build().fetch_all(&mut *conn).await? {
            let key: String = row.try_get("dedup_key")?;
            let kept: i64 = row.try_get("kept")?;
            found
                .entry(key)
                .or_default()
                .push((decode_alert(&row)?, kept));
        }
    }
    Ok(found)
}

/// Keys looked up by one [`stored_open`] query.
const KEYS_PER_QUERY: usize = 500;

/// [`stored_open`] for each tenant of `folded`: the round's keys and the
/// span of its times per tenant.
async fn stored_by_tenant(
    conn: &mut SqliteConnection,
    folded: &[(TenantId, String, &Observation)],
) -> Result<HashMap<TenantId, HashMap<String, Vec<(Alert, i64)>>>> {
    let mut rounds: HashMap<TenantId, (Vec<&str>, Timestamp, Timestamp)> = HashMap::new();
    for (tenant, key, o) in folded {
        let r = rounds
            .entry(*tenant)
            .or_insert_with(|| (Vec::new(), o.time, o.time));
        r.0.push(key);
        r.1 = r.1.min(o.time);
        r.2 = r.2.max(o.time);
    }
    let mut stored = HashMap::new();
    for (tenant, (mut keys, earliest, latest)) in rounds {
        keys.sort_unstable();
        keys.dedup();
        let found = stored_open(conn, tenant, &keys, (earliest, latest)).await?;
        stored.insert(tenant, found);
    }
    Ok(stored)
}

/// The stored alert an observation at `time` folds into: the latest one
/// whose window, widened by [`DEDUP_WINDOW`], holds `time`.
fn open_at(stored: Option<&Vec<(Alert, i64)>>, time: Timestamp) -> Option<&(Alert, i64)> {
    let lo = time.saturating_sub(DEDUP_WINDOW).unwrap_or(time);
    let hi = time.saturating_add(DEDUP_WINDOW).unwrap_or(time);
    stored?
        .iter()
        .filter(|(a, _)| a.last_activity >= lo && a.first_activity <= hi)
        .max_by_key(|(a, _)| a.last_activity)
}

fn within_window(a: &Alert, t: Timestamp) -> bool {
    let lo = a
        .first_activity
        .saturating_sub(DEDUP_WINDOW)
        .unwrap_or(a.first_activity);
    let hi = a
        .last_activity
        .saturating_add(DEDUP_WINDOW)
        .unwrap_or(a.last_activity);
    lo <= t && t <= hi
}

/// Rows per multi-row statement of [`write_folds`] (at most 16 values a
/// row: within SQLite's 32,766 bound parameters).
const ROWS_PER_STATEMENT: usize = 1000;

/// Update stored alerts a round folded into: their activity and count,
/// and their entity list when `entities`.
async fn update_folded(
    conn: &mut SqliteConnection,
    folds: &[&(String, Open)],
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
                .push_bind(to_micros(a.first_activity))
                .push_bind(to_micros(a.last_activity))
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
/// statements.
async fn write_folds(
    conn: &mut SqliteConnection,
    folds: &[(String, Open)],
    now: Timestamp,
) -> Result<()> {
    let (updated, inserted): (Vec<_>, Vec<_>) = folds.iter().partition(|(_, o)| o.inserted);
    for chunk in inserted.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO alerts (id, tenant_id, rule_id, rule_title, source, severity, tactics, techniques, entities, dedup_key, first_activity, last_activity, count, incident_id, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, (key, o)| {
            let a = &o.alert;
            b.push_bind(a.id.to_string())
                .push_bind(a.tenant_id.to_string())
                .push_bind(a.rule_id.clone())
                .push_bind(a.rule_title.clone())
                .push_bind(a.source.clone())
                .push_bind(a.severity.as_str())
                .push_bind(serde_json::to_string(&a.tactics).unwrap_or_default())
                .push_bind(serde_json::to_string(&a.techniques).unwrap_or_default())
                .push_bind(vigil_core::json::entities(&a.entities))
                .push_bind(key.clone())
                .push_bind(to_micros(a.first_activity))
                .push_bind(to_micros(a.last_activity))
                .push_bind(i64::try_from(a.count).unwrap_or(i64::MAX))
                .push("NULL")
                .push_bind(to_micros(a.created_at))
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
    let entities: Vec<(&Alert, &Entity)> = folds
        .iter()
        .flat_map(|(_, o)| o.new_entities.iter().map(move |e| (&o.alert, e)))
        .collect();
    for chunk in entities.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT OR IGNORE INTO alert_entities (tenant_id, kind, value, alert_id) ",
        );
        q.push_values(chunk, |mut b, (a, e)| {
            b.push_bind(a.tenant_id.to_string())
                .push_bind(e.kind.as_str())
                .push_bind(e.value.clone())
                .push_bind(a.id.to_string());
        });
        q.build().execute(&mut *conn).await?;
    }
    let events: Vec<(&Alert, i64)> = folds
        .iter()
        .flat_map(|(_, o)| o.new_events.iter().map(move |s| (&o.alert, *s)))
        .collect();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT OR IGNORE INTO alert_events (alert_id, seq) ");
        q.push_values(chunk, |mut b, (a, s)| {
            b.push_bind(a.id.to_string()).push_bind(*s);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
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
        let keyed: Vec<(TenantId, String, &Observation)> = observations
            .iter()
            .map(|(tenant, o)| (*tenant, o.dedup_key(), o))
            .collect();
        // The local worker's round (a range of the queue) reads the stored
        // alerts its observations may fold into before it takes the write
        // lock: only folding changes what it reads (an alert's entities,
        // times, count and kept events), and of the folds of its rules'
        // keys, this process's one detection worker is the only one (the
        // detect lock keeps other processes out). A bus batch may share the
        // store with other workers, and a saved hunt's alerts (an empty
        // range) may be run by two callers at once: they read inside
        // their transaction.
        let read_first = match claim {
            Claim::Range(first, last) if first <= last => {
                let mut conn = self.pool.acquire().await?;
                Some(stored_by_tenant(&mut conn, &keyed).await?)
            }
            _ => None,
        };
        let mut tx = self.write_tx().await?;
        // A bus batch claims its events first: only those still queued are
        // folded, so a redelivered batch adds nothing.
        let taken = match claim {
            Claim::Seqs(seqs) => Some(take_queued(&mut tx, seqs).await?),
            Claim::Range(..) => None,
        };
        let folded: Vec<(TenantId, String, &Observation)> = keyed
            .into_iter()
            .filter(|(_, _, o)| {
                taken
                    .as_ref()
                    .is_none_or(|taken| o.events.iter().any(|s| taken.contains(s)))
            })
            .collect();
        let stored = match read_first {
            Some(stored) => stored,
            None => stored_by_tenant(&mut tx, &folded).await?,
        };
        let mut open: HashMap<(TenantId, String), Vec<Open>> = HashMap::new();
        for (tenant, key, o) in folded {
            let candidates = stored.get(&tenant).and_then(|s| s.get(&key));
            let slot = open.entry((tenant, key)).or_default();
            if let Some(existing) = slot.iter_mut().find(|a| within_window(&a.alert, o.time)) {
                merge(existing, o);
                continue;
            }
            // Stored alerts are looked up even when this batch already
            // holds others of the key: those are outside the window, and a
            // stored one inside it is then never among them (their windows
            // only grow), so which events share a batch does not decide
            // whether two matches fold.
            if let Some((alert, kept)) = open_at(candidates, o.time) {
                let mut found = Open {
                    alert: alert.clone(),
                    new_entities: Vec::new(),
                    new_events: Vec::new(),
                    events_kept: *kept,
                    inserted: true,
                };
                merge(&mut found, o);
                slot.push(found);
                continue;
            }
            let mut fresh = Open {
                alert: Alert {
                    id: AlertId::new_at(now),
                    tenant_id: tenant,
                    rule_id: o.rule_id.clone(),
                    rule_title: o.rule_title.clone(),
                    source: o.source.clone(),
                    severity: o.severity,
                    tactics: o.tactics.clone(),
                    techniques: o.techniques.clone(),
                    entities: Vec::new(),
                    first_activity: o.time,
                    last_activity: o.time,
                    count: 0,
                    incident_id: None,
                    created_at: now,
                    updated_at: now,
                },
                new_entities: Vec::new(),
                new_events: Vec::new(),
                events_kept: 0,
                inserted: false,
            };
            merge(&mut fresh, o);
            slot.push(fresh);
        }
        let mut folds: Vec<(String, Open)> = Vec::new();
        for ((_, key), alerts) in open {
            for mut o in alerts {
                o.alert.updated_at = now;
                folds.push((key.clone(), o));
            }
        }
        write_folds(&mut tx, &folds, now).await?;
        let touched = folds.iter().map(|(_, o)| o.alert.id).collect();
        if let Claim::Range(first, last) = claim {
            sqlx::query("DELETE FROM detection_queue WHERE seq BETWEEN ? AND ?")
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
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
