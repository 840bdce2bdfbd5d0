//! Response tasks: the task as JSON beside the columns lists and timers
//! read, and its history.

use sqlx::Row;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::incident::IncidentId;
use vigil_core::task::{Task, TaskId};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::ts;
use crate::{Result, StoreError};

pub(super) fn decode(body: &str) -> Result<Task> {
    // Tasks are stored with serde's shape of `Task`; reading needs the
    // fields back, which `Task` derives only for writing: go through Value.
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| StoreError::corrupt("task", e))?;
    let get = |k: &str| v.get(k).cloned().unwrap_or(serde_json::Value::Null);
    let parse = |k: &str| -> Result<String> {
        get(k)
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| StoreError::corrupt("task", format!("{k} missing")))
    };
    let time = |k: &str| -> Result<Timestamp> {
        parse(k)?
            .parse()
            .map_err(|e| StoreError::corrupt("task", e))
    };
    Ok(Task {
        id: parse("id")?
            .parse()
            .map_err(|e| StoreError::corrupt("task", e))?,
        tenant_id: parse("tenant_id")?
            .parse()
            .map_err(|e| StoreError::corrupt("task", e))?,
        incident_id: parse("incident_id")?
            .parse()
            .map_err(|e| StoreError::corrupt("task", e))?,
        kind: parse("kind")?
            .parse()
            .map_err(|e: String| StoreError::corrupt("task", e))?,
        target: serde_json::from_value(get("target"))
            .map_err(|e| StoreError::corrupt("task", e))?,
        rationale: parse("rationale")?,
        mode: parse("mode")?
            .parse()
            .map_err(|e: String| StoreError::corrupt("task", e))?,
        mode_reason: parse("mode_reason")?,
        status: parse("status")?
            .parse()
            .map_err(|e: String| StoreError::corrupt("task", e))?,
        note: get("note").as_str().map(str::to_owned),
        due_at: time("due_at")?,
        created_at: time("created_at")?,
        created_by: parse("created_by")?,
        updated_at: time("updated_at")?,
    })
}

impl PgStore {
    pub(super) async fn put_task_impl(
        &self,
        task: &Task,
        history: &str,
        actor: &str,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let body = serde_json::to_string(task).map_err(|e| StoreError::corrupt("task", e))?;
        sqlx::query(
            "INSERT INTO tasks (id, tenant_id, incident_id, status, due_at, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, due_at = excluded.due_at,
                 body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(task.id.to_string())
        .bind(task.tenant_id.to_string())
        .bind(task.incident_id.to_string())
        .bind(task.status.as_str())
        .bind(to_micros(task.due_at))
        .bind(body)
        .bind(to_micros(task.updated_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO task_history (task_id, at, actor, change) VALUES ($1, $2, $3, $4)",
        )
        .bind(task.id.to_string())
        .bind(to_micros(task.updated_at))
        .bind(actor)
        .bind(history)
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn tasks_impl(&self, incident: IncidentId) -> Result<Vec<Task>> {
        let rows = sqlx::query("SELECT body FROM tasks WHERE incident_id = $1 ORDER BY id")
            .bind(incident.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| decode(&r.try_get::<String, _>("body")?))
            .collect()
    }

    pub(super) async fn task_impl(
        &self,
        tenant: TenantId,
        id: TaskId,
    ) -> Result<Option<(Task, Vec<(Timestamp, String, String)>)>> {
        let Some(row) = sqlx::query("SELECT body FROM tasks WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let task = decode(&row.try_get::<String, _>("body")?)?;
        let rows = sqlx::query(
            "SELECT at, actor, change FROM task_history WHERE task_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let history = rows
            .iter()
            .map(|r| Ok((ts(r, "at")?, r.try_get("actor")?, r.try_get("change")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((task, history)))
    }
}
