//! Service reports: a period's incidents with their status moves and alert
//! sources in three queries, tasks, and the monthly delivery record.

use std::collections::HashMap;

use sqlx::Row;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::notification::{Delivery, Notification};
use vigil_core::task::Task;
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::ts;
use super::notifications::insert_notification_in;
use crate::{ReportIncident, Result};

/// The incidents a report reads: created before `to`, and created or
/// changed since `since`.
const IN_WINDOW: &str = "i.tenant_id = $1 AND i.status != 'redirected' AND i.created_at < $2 \
                         AND (i.created_at >= $3 OR i.updated_at >= $3)";

impl PgStore {
    pub(super) async fn report_incidents_impl(
        &self,
        tenant: TenantId,
        since: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ReportIncident>> {
        let (t, since, to) = (tenant.to_string(), to_micros(since), to_micros(to));
        let columns: Vec<String> = super::incidents::COLUMNS
            .split(", ")
            .map(|c| format!("i.{c}"))
            .collect();
        let sql = format!(
            "SELECT {} FROM incidents i WHERE {IN_WINDOW} ORDER BY i.created_at, i.id",
            columns.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&t)
            .bind(to)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let record = super::incidents::decode(row)?;
            index.insert(record.incident.id.to_string(), out.len());
            out.push(ReportIncident {
                record,
                status_moves: Vec::new(),
                sources: Vec::new(),
            });
        }
        let moves = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.incident_id, a.at, a.details FROM incident_activity a \
             JOIN incidents i ON i.id = a.incident_id \
             WHERE {IN_WINDOW} AND a.action = 'status' ORDER BY a.id"
        )))
        .bind(&t)
        .bind(to)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        for row in &moves {
            let id: String = row.try_get("incident_id")?;
            if let Some(i) = index.get(&id).and_then(|&i| out.get_mut(i)) {
                i.status_moves
                    .push((ts(row, "at")?, row.try_get("details")?));
            }
        }
        let sources = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT a.incident_id, a.source FROM alerts a \
             JOIN incidents i ON i.id = a.incident_id \
             WHERE {IN_WINDOW} ORDER BY a.incident_id, a.source"
        )))
        .bind(&t)
        .bind(to)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        for row in &sources {
            let id: String = row.try_get("incident_id")?;
            if let Some(i) = index.get(&id).and_then(|&i| out.get_mut(i)) {
                i.sources.push(row.try_get("source")?);
            }
        }
        Ok(out)
    }

    pub(super) async fn report_tasks_impl(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT body FROM tasks WHERE tenant_id = $1 \
             AND (updated_at >= $2 OR status IN ('open', 'in_progress')) ORDER BY id",
        )
        .bind(tenant.to_string())
        .bind(to_micros(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| super::tasks::decode(&r.try_get::<String, _>("body")?))
            .collect()
    }

    pub(super) async fn report_delivered_impl(
        &self,
        tenant: TenantId,
        period: &str,
    ) -> Result<bool> {
        let row =
            sqlx::query("SELECT 1 FROM report_deliveries WHERE tenant_id = $1 AND period = $2")
                .bind(tenant.to_string())
                .bind(period)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    pub(super) async fn record_report_delivery_impl(
        &self,
        tenant: TenantId,
        period: &str,
        notification: &Notification,
        deliveries: &[Delivery],
        audit: AuditEntry,
    ) -> Result<Option<AuditRecord>> {
        // The write transaction holds the advisory write lock: the check
        // and the insert below cannot interleave with another sender's.
        let mut tx = self.write_tx().await?;
        let sent =
            sqlx::query("SELECT 1 FROM report_deliveries WHERE tenant_id = $1 AND period = $2")
                .bind(tenant.to_string())
                .bind(period)
                .fetch_optional(&mut *tx)
                .await?;
        if sent.is_some() {
            return Ok(None);
        }
        insert_notification_in(&mut tx, notification, deliveries).await?;
        sqlx::query(
            "INSERT INTO report_deliveries (tenant_id, period, notification_id, sent_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.to_string())
        .bind(period)
        .bind(notification.id.to_string())
        .bind(to_micros(notification.created_at))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Some(record))
    }
}
