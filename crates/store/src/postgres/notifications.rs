//! Notifications (as JSON), their deliveries (as columns, since the worker
//! selects on status and due time) and the log of delivery attempts.

use sqlx::Row;
use sqlx::postgres::PgRow;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::notification::{Delivery, DeliveryId, Notification, NotificationId};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::ts;
use crate::{Result, StoreError};

fn parse<T: std::str::FromStr>(row: &PgRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    row.try_get::<String, _>(col)?
        .parse()
        .map_err(|e: T::Err| StoreError::corrupt("delivery", format!("{col}: {e}")))
}

fn delivery(row: &PgRow) -> Result<Delivery> {
    let destination: String = row.try_get("destination")?;
    let next: Option<i64> = row.try_get("next_attempt_at")?;
    Ok(Delivery {
        id: parse(row, "id")?,
        notification: parse(row, "notification_id")?,
        tenant_id: parse(row, "tenant_id")?,
        destination: serde_json::from_str(&destination)
            .map_err(|e| StoreError::corrupt("delivery", e))?,
        status: parse(row, "status")?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?)
            .map_err(|e| StoreError::corrupt("delivery", e))?,
        next_attempt_at: match next {
            Some(_) => Some(ts(row, "next_attempt_at")?),
            None => None,
        },
        last_error: row.try_get("last_error")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn notification(row: &PgRow) -> Result<Notification> {
    serde_json::from_str(&row.try_get::<String, _>("body")?)
        .map_err(|e| StoreError::corrupt("notification", e))
}

/// How long a worker's claim on a due delivery lasts: longer than any
/// send takes (SMTP and webhook timeouts are far shorter).
const CLAIM_MICROS: i64 = 5 * 60 * 1_000_000;

macro_rules! delivery_columns {
    () => {
        "id, notification_id, tenant_id, destination, status, attempts, next_attempt_at, last_error, updated_at"
    };
}

impl PgStore {
    pub(super) async fn queue_notification_impl(
        &self,
        n: &Notification,
        deliveries: &[Delivery],
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        insert_notification_in(&mut tx, n, deliveries).await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn notification_impl(
        &self,
        id: NotificationId,
    ) -> Result<Option<Notification>> {
        sqlx::query("SELECT body FROM notifications WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(notification)
            .transpose()
    }

    pub(super) async fn notifications_impl(
        &self,
        tenant: Option<TenantId>,
        before: Option<NotificationId>,
        limit: u32,
    ) -> Result<Vec<(Notification, Vec<Delivery>)>> {
        let rows = sqlx::query(
            "SELECT body FROM notifications
             WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant.map(|t| t.to_string()))
        .bind(before.map(|b| b.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let n = notification(row)?;
            let ds = sqlx::query(concat!(
                "SELECT ",
                delivery_columns!(),
                " FROM deliveries WHERE notification_id = $1 ORDER BY id"
            ))
            .bind(n.id.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(delivery)
            .collect::<Result<Vec<_>>>()?;
            out.push((n, ds));
        }
        Ok(out)
    }

    pub(super) async fn delivery_impl(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        sqlx::query(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(delivery)
        .transpose()
    }

    pub(super) async fn due_deliveries_impl(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        // Claimed, not just read: rows another worker is claiming are
        // skipped (SKIP LOCKED), and a claimed row is not due again until
        // its attempt is recorded or the claim lapses (a worker that died).
        let now = to_micros(now);
        let mut due = sqlx::query(concat!(
            "UPDATE deliveries SET claimed_until = $1 WHERE id IN (
                 SELECT id FROM deliveries
                 WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $2
                   AND (claimed_until IS NULL OR claimed_until <= $2)
                 ORDER BY next_attempt_at, id LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             RETURNING ",
            delivery_columns!()
        ))
        .bind(now.saturating_add(CLAIM_MICROS))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(delivery)
        .collect::<Result<Vec<_>>>()?;
        due.sort_by_key(|d| (d.next_attempt_at, d.id));
        Ok(due)
    }

    pub(super) async fn record_attempt_impl(
        &self,
        d: &Delivery,
        outcome: &str,
        detail: &str,
        audit: Option<AuditEntry>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4, updated_at = $5,
                 claimed_until = NULL
             WHERE id = $6",
        )
        .bind(d.status.as_str())
        .bind(i64::from(d.attempts))
        .bind(d.next_attempt_at.map(to_micros))
        .bind(d.last_error.as_deref())
        .bind(to_micros(d.updated_at))
        .bind(d.id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "delivery",
                key: d.id.to_string(),
            });
        }
        sqlx::query(
            "INSERT INTO delivery_attempts (delivery_id, at, outcome, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(d.id.to_string())
        .bind(to_micros(d.updated_at))
        .bind(outcome)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
        if let Some(audit) = audit {
            append_in(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn delivery_attempts_impl(
        &self,
        id: DeliveryId,
    ) -> Result<Vec<(Timestamp, String, String)>> {
        sqlx::query(
            "SELECT at, outcome, detail FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((ts(r, "at")?, r.try_get("outcome")?, r.try_get("detail")?)))
        .collect()
    }
}

/// Insert a notification and its deliveries inside the caller's
/// transaction (the SLA engine queues them with the step that caused them).
pub(super) async fn insert_notification_in(
    conn: &mut sqlx::PgConnection,
    n: &Notification,
    deliveries: &[Delivery],
) -> Result<()> {
    let body = serde_json::to_string(n).map_err(|e| StoreError::corrupt("notification", e))?;
    sqlx::query(
        "INSERT INTO notifications (id, tenant_id, kind, incident_id, created_at, body) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(n.id.to_string())
    .bind(n.tenant_id.to_string())
    .bind(n.kind.as_str())
    .bind(n.incident.map(|i| i.to_string()))
    .bind(to_micros(n.created_at))
    .bind(body)
    .execute(&mut *conn)
    .await?;
    for d in deliveries {
        let destination = serde_json::to_string(&d.destination)
            .map_err(|e| StoreError::corrupt("delivery", e))?;
        sqlx::query(concat!(
            "INSERT INTO deliveries (",
            delivery_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(d.id.to_string())
        .bind(d.notification.to_string())
        .bind(d.tenant_id.to_string())
        .bind(destination)
        .bind(d.status.as_str())
        .bind(i64::from(d.attempts))
        .bind(d.next_attempt_at.map(to_micros))
        .bind(d.last_error.as_deref())
        .bind(to_micros(d.updated_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
