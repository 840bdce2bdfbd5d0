//! SLA timers as columns: the engine selects running timers by due time,
//! reports select breaches by tenant and due time. A step and the
//! notifications it queues commit together, guarded by the timer's version.

use jiff::SignedDuration;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::incident::IncidentId;
use vigil_core::notification::{Delivery, Notification};
use vigil_core::sla::SlaTimer;
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::{opt_ts, ts};
use super::notifications::insert_notification_in;
use crate::{Result, StoreError};

macro_rules! timer_columns {
    () => {
        "id, tenant_id, incident_id, kind, target_micros, started_at, due_at, stopped_at, stop_reason,
         reminded_half_at, half_skipped, reminded_due_at, breached_at, escalation_level, escalated_at,
         overdue_micros, version"
    };
}

fn parse<T: std::str::FromStr>(row: &PgRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    row.try_get::<String, _>(col)?
        .parse()
        .map_err(|e: T::Err| StoreError::corrupt("SLA timer", format!("{col}: {e}")))
}

fn micros(d: SignedDuration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn timer(row: &PgRow) -> Result<SlaTimer> {
    let reason: Option<String> = row.try_get("stop_reason")?;
    let overdue: Option<i64> = row.try_get("overdue_micros")?;
    Ok(SlaTimer {
        id: parse(row, "id")?,
        tenant_id: parse(row, "tenant_id")?,
        incident_id: parse(row, "incident_id")?,
        kind: parse(row, "kind")?,
        target: SignedDuration::from_micros(row.try_get("target_micros")?),
        started_at: ts(row, "started_at")?,
        due_at: ts(row, "due_at")?,
        stopped_at: opt_ts(row, "stopped_at")?,
        stop_reason: reason
            .map(|r| r.parse())
            .transpose()
            .map_err(|e: String| StoreError::corrupt("SLA timer", e))?,
        reminded_half_at: opt_ts(row, "reminded_half_at")?,
        half_skipped: row.try_get::<i64, _>("half_skipped")? != 0,
        reminded_due_at: opt_ts(row, "reminded_due_at")?,
        breached_at: opt_ts(row, "breached_at")?,
        escalation_level: u32::try_from(row.try_get::<i64, _>("escalation_level")?)
            .map_err(|e| StoreError::corrupt("SLA timer", e))?,
        escalated_at: opt_ts(row, "escalated_at")?,
        overdue: overdue.map(SignedDuration::from_micros),
        version: row.try_get("version")?,
    })
}

impl PgStore {
    pub(super) async fn start_sla_timers_impl(
        &self,
        timers: &[SlaTimer],
        audit: AuditEntry,
    ) -> Result<Vec<SlaTimer>> {
        let mut tx = self.write_tx().await?;
        let mut started = Vec::new();
        for t in timers {
            let done = sqlx::query(concat!(
                "INSERT INTO sla_timers (",
                timer_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 ON CONFLICT (incident_id, kind) WHERE stopped_at IS NULL DO NOTHING"
            ))
            .bind(t.id.to_string())
            .bind(t.tenant_id.to_string())
            .bind(t.incident_id.to_string())
            .bind(t.kind.as_str())
            .bind(micros(t.target))
            .bind(to_micros(t.started_at))
            .bind(to_micros(t.due_at))
            .bind(t.stopped_at.map(to_micros))
            .bind(t.stop_reason.map(|r| r.as_str()))
            .bind(t.reminded_half_at.map(to_micros))
            .bind(i64::from(t.half_skipped))
            .bind(t.reminded_due_at.map(to_micros))
            .bind(t.breached_at.map(to_micros))
            .bind(i64::from(t.escalation_level))
            .bind(t.escalated_at.map(to_micros))
            .bind(t.overdue.map(micros))
            .bind(t.version)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                started.push(t.clone());
            }
        }
        if !started.is_empty() {
            append_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(started)
    }

    pub(super) async fn save_sla_timer_impl(
        &self,
        t: &SlaTimer,
        expected_version: i64,
        notifications: &[(Notification, Vec<Delivery>)],
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE sla_timers SET stopped_at = $1, stop_reason = $2, reminded_half_at = $3, half_skipped = $4,
                 reminded_due_at = $5, breached_at = $6, escalation_level = $7, escalated_at = $8,
                 overdue_micros = $9, version = $10
             WHERE id = $11 AND tenant_id = $12 AND version = $13",
        )
        .bind(t.stopped_at.map(to_micros))
        .bind(t.stop_reason.map(|r| r.as_str()))
        .bind(t.reminded_half_at.map(to_micros))
        .bind(i64::from(t.half_skipped))
        .bind(t.reminded_due_at.map(to_micros))
        .bind(t.breached_at.map(to_micros))
        .bind(i64::from(t.escalation_level))
        .bind(t.escalated_at.map(to_micros))
        .bind(t.overdue.map(micros))
        .bind(t.version)
        .bind(t.id.to_string())
        .bind(t.tenant_id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            // Dropping the transaction rolls it back: nothing is queued.
            return Err(StoreError::Conflict {
                what: "SLA timer",
                key: t.id.to_string(),
            });
        }
        for (n, deliveries) in notifications {
            insert_notification_in(&mut tx, n, deliveries).await?;
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn running_sla_timers_impl(
        &self,
        after: Option<vigil_core::sla::SlaTimerId>,
        limit: u32,
    ) -> Result<Vec<SlaTimer>> {
        sqlx::query(concat!(
            "SELECT ",
            timer_columns!(),
            " FROM sla_timers WHERE stopped_at IS NULL AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        ))
        .bind(after.map(|a| a.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(timer)
        .collect()
    }

    pub(super) async fn incident_sla_timers_impl(
        &self,
        tenant: TenantId,
        incident: IncidentId,
    ) -> Result<Vec<SlaTimer>> {
        sqlx::query(concat!(
            "SELECT ",
            timer_columns!(),
            " FROM sla_timers WHERE tenant_id = $1 AND incident_id = $2 ORDER BY started_at, kind, id"
        ))
        .bind(tenant.to_string())
        .bind(incident.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(timer)
        .collect()
    }

    pub(super) async fn sla_timers_due_impl(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<SlaTimer>> {
        sqlx::query(concat!(
            "SELECT ",
            timer_columns!(),
            " FROM sla_timers WHERE tenant_id = $1 AND due_at >= $2 AND due_at < $3 ORDER BY due_at, kind, id"
        ))
        .bind(tenant.to_string())
        .bind(to_micros(from))
        .bind(to_micros(to))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(timer)
        .collect()
    }
}
