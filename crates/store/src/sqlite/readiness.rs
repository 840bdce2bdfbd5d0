//! Readiness: the facts an assessment reads from telemetry (aggregates
//! over `events` and `event_entities`, and the newest inventory snapshot
//! per asset), and the assessments kept with the schedule.

use sqlx::Row;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::readiness::{Assessment, AssessmentId, ReadinessState, StreamActivity};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::SqliteStore;
use super::audit::append_in;
use super::identity::ts;
use super::telemetry::{Blocks, RAW_COLUMNS, raw_of};
use crate::{FactWindows, ReadinessFacts, Result, StoreError};

/// Snapshots are not telemetry from the asset: left out of activity.
macro_rules! inventory {
    () => {
        "('device_inventory', 'identity_inventory')"
    };
}

/// Entity kinds whose presence tells endpoint activity apart.
macro_rules! activity_kinds {
    () => {
        "('process', 'ip', 'file')"
    };
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl SqliteStore {
    pub(super) async fn readiness_facts_impl(
        &self,
        tenant: TenantId,
        w: FactWindows,
    ) -> Result<ReadinessFacts> {
        let t = tenant.to_string();
        let since = to_micros(w.activity_since);
        let day = to_micros(w.day_start);
        let mut facts = ReadinessFacts::default();

        let q = concat!(
            "SELECT shape, product, service, NULL AS entity,
                    SUM(CASE WHEN time >= ?1 THEN 1 ELSE 0 END) AS day_events, MAX(time) AS last
             FROM events WHERE tenant_id = ?2 AND ",
            time_since!("?3"),
            " AND shape NOT IN ",
            inventory!(),
            "
             GROUP BY shape, product, service
             UNION ALL
             SELECT e.shape, e.product, e.service, ee.kind,
                    COUNT(DISTINCT CASE WHEN ee.time >= ?1 THEN ee.seq END), MAX(ee.time)
             FROM event_entities ee JOIN events e ON e.seq = ee.seq
             WHERE ee.tenant_id = ?2 AND ee.kind IN ",
            activity_kinds!(),
            " AND ee.time >= ?3
               AND e.shape NOT IN ",
            inventory!(),
            "
             GROUP BY e.shape, e.product, e.service, ee.kind"
        );
        for row in sqlx::query(q)
            .bind(day)
            .bind(&t)
            .bind(since)
            .fetch_all(&self.pool)
            .await?
        {
            facts.streams.push(StreamActivity {
                shape: row.try_get("shape")?,
                product: row.try_get("product")?,
                service: row.try_get("service")?,
                entity: row.try_get("entity")?,
                events_last_day: count(row.try_get("day_events")?),
                last_event: ts(&row, "last")?,
            });
        }

        facts.devices = self.entity_activity(&t, "device", since).await?;
        facts.users = self
            .entity_activity(&t, "user", to_micros(w.identity_since))
            .await?;

        let q = concat!(
            "SELECT ee.value, MAX(e.time - e.received_at) AS ahead
             FROM event_entities ee JOIN events e ON e.seq = ee.seq
             WHERE ee.tenant_id = ? AND ee.kind = 'device' AND ee.time >= ?
               AND e.time > e.received_at AND e.shape NOT IN ",
            inventory!(),
            "
             GROUP BY ee.value"
        );
        for row in sqlx::query(q)
            .bind(&t)
            .bind(day)
            .fetch_all(&self.pool)
            .await?
        {
            let micros: i64 = row.try_get("ahead")?;
            facts
                .clock_ahead
                .push((row.try_get("value")?, micros / 1_000_000));
        }

        let n: i64 = sqlx::query_scalar(concat!(
            "SELECT count(*) FROM events WHERE tenant_id = ?1 AND ",
            time_since!("?2")
        ))
        .bind(&t)
        .bind(day)
        .fetch_one(&self.pool)
        .await?;
        facts.events_last_day = count(n);
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM dead_letters WHERE tenant_id = ? AND received_at >= ?",
        )
        .bind(&t)
        .bind(day)
        .fetch_one(&self.pool)
        .await?;
        facts.dead_letters_last_day = count(n);

        let snapshots = to_micros(w.snapshot_since);
        facts.device_snapshots = self
            .latest_snapshots(&t, "device_inventory", "device", snapshots)
            .await?;
        facts.identity_snapshots = self
            .latest_snapshots(&t, "identity_inventory", "user", snapshots)
            .await?;
        Ok(facts)
    }

    /// Each entity of `kind` named by telemetry since `since`, with the
    /// newest time.
    async fn entity_activity(
        &self,
        tenant: &str,
        kind: &str,
        since: i64,
    ) -> Result<Vec<(String, Timestamp)>> {
        let q = concat!(
            "SELECT ee.value, MAX(ee.time) AS last
             FROM event_entities ee JOIN events e ON e.seq = ee.seq
             WHERE ee.tenant_id = ? AND ee.kind = ? AND ee.time >= ? AND e.shape NOT IN ",
            inventory!(),
            "
             GROUP BY ee.value"
        );
        sqlx::query(q)
            .bind(tenant)
            .bind(kind)
            .bind(since)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("value")?, ts(row, "last")?)))
            .collect()
    }

    /// The newest snapshot of `shape` per entity of `kind`, as received.
    async fn latest_snapshots(
        &self,
        tenant: &str,
        shape: &str,
        kind: &str,
        since: i64,
    ) -> Result<Vec<String>> {
        // SQLite: with a single MAX(), the bare `seq` is the newest row's.
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT seq FROM (
                 SELECT ee.value, ee.seq AS seq, MAX(ee.time)
                 FROM event_entities ee JOIN events e ON e.seq = ee.seq
                 WHERE ee.tenant_id = ? AND ee.kind = ? AND e.shape = ? AND ee.time >= ?
                 GROUP BY ee.value)
             ORDER BY seq",
        )
        .bind(tenant)
        .bind(kind)
        .bind(shape)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(seqs.len());
        let mut blocks = Blocks::default();
        for chunk in seqs.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                "SELECT {RAW_COLUMNS} FROM events e WHERE e.seq IN ("
            ));
            let mut sep = q.separated(", ");
            for s in chunk {
                sep.push_bind(*s);
            }
            q.push(") ORDER BY e.seq");
            let rows = q.build().fetch_all(&self.pool).await?;
            blocks.load_for(&self.pool, &rows).await?;
            for row in &rows {
                out.push(raw_of(row, &blocks)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn save_assessment_impl(
        &self,
        a: &Assessment,
        next_due: Timestamp,
        notified: Option<&[String]>,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let body = serde_json::to_string(a).map_err(|e| StoreError::corrupt("assessment", e))?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO readiness_runs (id, tenant_id, run_at, trigger, score, ready, body)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.to_string())
        .bind(a.tenant_id.to_string())
        .bind(to_micros(a.run_at))
        .bind(a.trigger.as_str())
        .bind(a.score)
        .bind(i64::from(a.ready))
        .bind(body)
        .execute(&mut *tx)
        .await?;
        let notified = notified
            .map(|n| serde_json::to_string(n).map_err(|e| StoreError::corrupt("notified", e)))
            .transpose()?;
        sqlx::query(
            "INSERT INTO readiness_state (tenant_id, next_due, notified) VALUES (?1, ?2, COALESCE(?3, '[]'))
             ON CONFLICT (tenant_id) DO UPDATE SET next_due = excluded.next_due,
                 notified = COALESCE(?3, readiness_state.notified)",
        )
        .bind(a.tenant_id.to_string())
        .bind(to_micros(next_due))
        .bind(notified)
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn assessments_impl(
        &self,
        tenant: TenantId,
        before: Option<AssessmentId>,
        limit: u32,
    ) -> Result<Vec<Assessment>> {
        let rows = sqlx::query(
            "SELECT body FROM readiness_runs
             WHERE tenant_id = ?1
               AND (?2 IS NULL OR seq < (SELECT seq FROM readiness_runs WHERE id = ?2 AND tenant_id = ?1))
             ORDER BY seq DESC LIMIT ?3",
        )
        .bind(tenant.to_string())
        .bind(before.map(|b| b.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                serde_json::from_str(&body).map_err(|e| StoreError::corrupt("assessment", e))
            })
            .collect()
    }

    pub(super) async fn readiness_state_impl(&self, tenant: TenantId) -> Result<ReadinessState> {
        let Some(row) =
            sqlx::query("SELECT next_due, notified FROM readiness_state WHERE tenant_id = ?")
                .bind(tenant.to_string())
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(ReadinessState::default());
        };
        let notified: String = row.try_get("notified")?;
        Ok(ReadinessState {
            next_due: super::identity::opt_ts(&row, "next_due")?,
            notified: serde_json::from_str(&notified)
                .map_err(|e| StoreError::corrupt("notified", e))?,
        })
    }

    pub(super) async fn due_assessments_impl(&self, now: Timestamp) -> Result<Vec<TenantId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT t.id FROM tenants t LEFT JOIN readiness_state r ON r.tenant_id = t.id
             WHERE t.lifecycle IN ('onboarding', 'monitoring', 'live')
               AND (r.next_due IS NULL OR r.next_due <= ?)
             ORDER BY t.slug",
        )
        .bind(to_micros(now))
        .fetch_all(&self.pool)
        .await?;
        ids.iter()
            .map(|s| s.parse().map_err(|e| StoreError::corrupt("tenant id", e)))
            .collect()
    }
}
