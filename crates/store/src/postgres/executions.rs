//! The execution record of managed tasks and the due times of pending
//! delivery attempts.

use sqlx::Row;
use sqlx::postgres::PgRow;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::task::{Execution, Task, TaskId};
use vigil_core::time::to_micros;

use super::PgStore;
use super::audit::append_in;
use super::identity::{opt_ts, ts};
use crate::{Result, StoreError};

fn decode(r: &PgRow) -> Result<Execution> {
    let bad = |e: String| StoreError::corrupt("task execution", e);
    Ok(Execution {
        id: r.try_get("id")?,
        task_id: r
            .try_get::<String, _>("task_id")?
            .parse()
            .map_err(|e| bad(format!("{e}")))?,
        tenant_id: r
            .try_get::<String, _>("tenant_id")?
            .parse()
            .map_err(|e| bad(format!("{e}")))?,
        connector: r.try_get("connector")?,
        attempt: u32::try_from(r.try_get::<i64, _>("attempt")?)
            .map_err(|e| bad(format!("attempt: {e}")))?,
        at: ts(r, "at")?,
        outcome: r.try_get::<String, _>("outcome")?.parse().map_err(bad)?,
        detail: r.try_get("detail")?,
        next_attempt_at: opt_ts(r, "next_attempt_at")?,
    })
}

impl PgStore {
    pub(super) async fn save_execution_impl(
        &self,
        task: Option<(&Task, &str, &str)>,
        lines: &[Execution],
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        if let Some((task, history, actor)) = task {
            let body = serde_json::to_string(task).map_err(|e| StoreError::corrupt("task", e))?;
            let done = sqlx::query(
                "UPDATE tasks SET status = $1, due_at = $2, body = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(task.status.as_str())
            .bind(to_micros(task.due_at))
            .bind(body)
            .bind(to_micros(task.updated_at))
            .bind(task.id.to_string())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: "task",
                    key: task.id.to_string(),
                });
            }
            sqlx::query(
                "INSERT INTO task_history (task_id, at, actor, change) VALUES ($1, $2, $3, $4)",
            )
            .bind(task.id.to_string())
            .bind(to_micros(task.updated_at))
            .bind(actor)
            .bind(history)
            .execute(&mut *tx)
            .await?;
        }
        for line in lines {
            let next = line.next_attempt_at.map(to_micros);
            if line.id == 0 {
                sqlx::query(
                    "INSERT INTO task_executions (task_id, tenant_id, connector, attempt, at, outcome, detail, next_attempt_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(line.task_id.to_string())
                .bind(line.tenant_id.to_string())
                .bind(&line.connector)
                .bind(i64::from(line.attempt))
                .bind(to_micros(line.at))
                .bind(line.outcome.as_str())
                .bind(&line.detail)
                .bind(next)
                .execute(&mut *tx)
                .await?;
            } else {
                let done = sqlx::query(
                    "UPDATE task_executions SET at = $1, outcome = $2, detail = $3, next_attempt_at = $4
                     WHERE id = $5 AND task_id = $6",
                )
                .bind(to_micros(line.at))
                .bind(line.outcome.as_str())
                .bind(&line.detail)
                .bind(next)
                .bind(line.id)
                .bind(line.task_id.to_string())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound {
                        what: "task execution",
                        key: line.id.to_string(),
                    });
                }
            }
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn executions_impl(&self, task: TaskId) -> Result<Vec<Execution>> {
        let rows = sqlx::query(
            "SELECT id, task_id, tenant_id, connector, attempt, at, outcome, detail, next_attempt_at
             FROM task_executions WHERE task_id = $1 ORDER BY id",
        )
        .bind(task.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    pub(super) async fn due_executions_impl(
        &self,
        now: vigil_core::Timestamp,
        limit: u32,
    ) -> Result<Vec<Execution>> {
        let rows = sqlx::query(
            "SELECT id, task_id, tenant_id, connector, attempt, at, outcome, detail, next_attempt_at
             FROM task_executions
             WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }
}
