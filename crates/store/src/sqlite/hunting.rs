//! Hunting over SQLite: the projection written at intake, compiled hunts
//! run on a read-only connection under a progress handler (the time
//! limit), saved hunts, alerted rows and summaries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::hunting::{
    AdditionalOf, Cell, HuntDetermination, HuntDialect, HuntRows, HuntSchedule, HuntSql,
    HuntSummary, SavedHunt, SavedHuntId, SqlParam,
};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::SqliteStore;
use super::audit::append_in;
use super::identity::{opt_ts, parse, ts};
use crate::{HuntStore, Result, StoreError};

fn decode_hunt(row: &SqliteRow) -> Result<SavedHunt> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    let interval: Option<i64> = row.try_get("interval_secs")?;
    let lookback: Option<i64> = row.try_get("lookback_secs")?;
    let severity: Option<String> = row.try_get("severity")?;
    let schedule = match (interval, lookback, severity) {
        (Some(interval_secs), Some(lookback_secs), Some(sev)) => Some(HuntSchedule {
            interval_secs,
            lookback_secs,
            severity: parse("hunt severity", &sev)?,
        }),
        _ => None,
    };
    Ok(SavedHunt {
        id: parse("hunt id", &id)?,
        tenant_id: parse("tenant id", &tenant)?,
        name: row.try_get("name")?,
        query: row.try_get("query")?,
        description: row.try_get("description")?,
        schedule,
        created_by: row.try_get("created_by")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        last_run: opt_ts(row, "last_run")?,
    })
}

fn decode_summary(row: &SqliteRow) -> Result<HuntSummary> {
    let id: String = row.try_get("id")?;
    let tenant: String = row.try_get("tenant_id")?;
    let hunt: Option<String> = row.try_get("hunt_id")?;
    let determination: String = row.try_get("determination")?;
    Ok(HuntSummary {
        id: parse("hunt summary id", &id)?,
        tenant_id: parse("tenant id", &tenant)?,
        hunt_id: hunt.map(|h| parse("hunt id", &h)).transpose()?,
        what: row.try_get("what")?,
        why: row.try_get("why")?,
        result: row.try_get("result")?,
        determination: HuntDetermination::parse(&determination)
            .ok_or_else(|| StoreError::corrupt("hunt determination", &determination))?,
        query: row.try_get("query")?,
        author: row.try_get("author")?,
        created_at: ts(row, "created_at")?,
    })
}

const HUNT_COLUMNS: &str = "id, tenant_id, name, query, description, interval_secs, lookback_secs, severity, created_by, created_at, updated_at, last_run";

impl SqliteStore {
    /// Run a compiled hunt on a read-only connection of its own (`rusqlite`,
    /// with `REGEXP` and `vigil_additional`, which reads `AdditionalFields`
    /// from the event blocks: `blocks.rs`), stopped past `time_limit`.
    async fn run_hunt_impl(
        &self,
        sql: &HuntSql,
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<HuntRows> {
        let path = self.path.clone();
        let sql = sql.clone();
        let additional_of = self.additional_of.get().copied();
        tokio::task::spawn_blocking(move || {
            run_hunt_blocking(&path, &sql, additional_of, max_rows, time_limit)
        })
        .await
        .map_err(|e| StoreError::corrupt("hunt", e))?
    }
}

fn run_hunt_blocking(
    path: &std::path::Path,
    sql: &HuntSql,
    additional_of: Option<AdditionalOf>,
    max_rows: usize,
    time_limit: Duration,
) -> Result<HuntRows> {
    use rusqlite::types::ValueRef as Value;
    let conn = rusqlite::Connection::open(path).map_err(|source| StoreError::WriterOpen {
        path: path.to_owned(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Belt and braces: the statement is generated, and the connection
    // refuses writes whatever it says.
    conn.execute_batch("PRAGMA query_only = ON;")?;
    super::blocks::register_functions(&conn, additional_of)?;
    let stopped = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + time_limit;
    let flag = Arc::clone(&stopped);
    conn.progress_handler(
        10_000,
        Some(move || {
            let late = Instant::now() >= deadline;
            if late {
                flag.store(true, Ordering::Relaxed);
            }
            late
        }),
    )?;
    let result = (|| -> Result<HuntRows> {
        let mut stmt = conn.prepare(&sql.sql)?;
        for (i, p) in sql.params.iter().enumerate() {
            let at = i + 1;
            match p {
                SqlParam::Int(n) => stmt.raw_bind_parameter(at, n),
                SqlParam::Real(n) => stmt.raw_bind_parameter(at, n),
                SqlParam::Text(t) => stmt.raw_bind_parameter(at, t.as_str()),
                SqlParam::Null => stmt.raw_bind_parameter(at, rusqlite::types::Null),
            }?;
        }
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = HuntRows::default();
        while let Some(row) = rows.next()? {
            if out.rows.len() == max_rows {
                out.truncated = true;
                break;
            }
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match row.get_ref(i)? {
                    Value::Null => Cell::Null,
                    Value::Integer(n) => Cell::Int(n),
                    Value::Real(x) => Cell::Real(x),
                    Value::Text(t) | Value::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.rows.push(cells);
        }
        Ok(out)
    })();
    match result {
        Err(_) if stopped.load(Ordering::Relaxed) => Err(StoreError::TimedOut {
            what: "hunt",
            limit_ms: u64::try_from(time_limit.as_millis()).unwrap_or(u64::MAX),
        }),
        other => other,
    }
}

#[async_trait]
impl HuntStore for SqliteStore {
    fn hunt_dialect(&self) -> HuntDialect {
        HuntDialect::Sqlite
    }

    /// Taken: the blocks intake writes keep records alone when the rows
    /// it commits have no `AdditionalFields` (`blocks.rs`).
    fn derive_additional(&self, from_record: AdditionalOf) -> bool {
        // Every caller gives `vigil-hunt`'s maker: the first one stands.
        let _ = self.additional_of.set(from_record);
        true
    }

    async fn run_hunt(
        &self,
        sql: &HuntSql,
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<HuntRows> {
        self.run_hunt_impl(sql, max_rows, time_limit).await
    }

    async fn put_saved_hunt(
        &self,
        hunt: &SavedHunt,
        expected: Option<Timestamp>,
        next_run: Option<Timestamp>,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM saved_hunts WHERE tenant_id = ? AND name = ?")
                .bind(hunt.tenant_id.to_string())
                .bind(&hunt.name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some_and(|id| id != hunt.id.to_string()) {
            return Err(StoreError::Duplicate {
                what: "saved hunt",
                key: hunt.name.clone(),
            });
        }
        let s = hunt.schedule;
        let changed = match expected {
            None => sqlx::query(
                "INSERT INTO saved_hunts (id, tenant_id, name, query, description, interval_secs, lookback_secs, severity, created_by, created_at, updated_at, last_run, next_run)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(hunt.id.to_string())
            .bind(hunt.tenant_id.to_string())
            .bind(&hunt.name)
            .bind(&hunt.query)
            .bind(&hunt.description)
            .bind(s.map(|s| s.interval_secs))
            .bind(s.map(|s| s.lookback_secs))
            .bind(s.map(|s| s.severity.as_str()))
            .bind(&hunt.created_by)
            .bind(to_micros(hunt.created_at))
            .bind(to_micros(hunt.updated_at))
            .bind(hunt.last_run.map(to_micros))
            .bind(next_run.map(to_micros))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(before) => sqlx::query(
                "UPDATE saved_hunts SET name = ?, query = ?, description = ?, interval_secs = ?, lookback_secs = ?, severity = ?, updated_at = ?, next_run = ?
                 WHERE id = ? AND tenant_id = ? AND updated_at = ?",
            )
            .bind(&hunt.name)
            .bind(&hunt.query)
            .bind(&hunt.description)
            .bind(s.map(|s| s.interval_secs))
            .bind(s.map(|s| s.lookback_secs))
            .bind(s.map(|s| s.severity.as_str()))
            .bind(to_micros(hunt.updated_at))
            .bind(next_run.map(to_micros))
            .bind(hunt.id.to_string())
            .bind(hunt.tenant_id.to_string())
            .bind(to_micros(before))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed != 1 {
            return Err(StoreError::Conflict {
                what: "saved hunt",
                key: hunt.id.to_string(),
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_saved_hunt(
        &self,
        tenant: TenantId,
        id: SavedHuntId,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM hunt_alerted_rows WHERE hunt_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM saved_hunts WHERE id = ? AND tenant_id = ?")
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone != 1 {
            return Err(StoreError::NotFound {
                what: "saved hunt",
                key: id.to_string(),
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn saved_hunts(&self, tenant: TenantId) -> Result<Vec<SavedHunt>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HUNT_COLUMNS} FROM saved_hunts WHERE tenant_id = ? ORDER BY name"
        )))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_hunt).collect()
    }

    async fn saved_hunt(&self, tenant: TenantId, id: SavedHuntId) -> Result<Option<SavedHunt>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HUNT_COLUMNS} FROM saved_hunts WHERE tenant_id = ? AND id = ?"
        )))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_hunt).transpose()
    }

    async fn due_hunts(&self, now: Timestamp, limit: u32) -> Result<Vec<SavedHunt>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HUNT_COLUMNS} FROM saved_hunts WHERE next_run IS NOT NULL AND next_run <= ? ORDER BY next_run LIMIT ?"
        )))
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_hunt).collect()
    }

    async fn unseen_hunt_rows(&self, hunt: SavedHuntId, keys: &[String]) -> Result<Vec<String>> {
        let mut seen = std::collections::HashSet::new();
        for chunk in keys.chunks(500) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT row_key FROM hunt_alerted_rows WHERE hunt_id = ");
            q.push_bind(hunt.to_string()).push(" AND row_key IN (");
            let mut sep = q.separated(", ");
            for k in chunk {
                sep.push_bind(k.clone());
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                seen.insert(row.try_get::<String, _>("row_key")?);
            }
        }
        Ok(keys
            .iter()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect())
    }

    async fn finish_hunt_run(
        &self,
        hunt: SavedHuntId,
        alerted: &[String],
        window_end: Timestamp,
        next_run: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        for chunk in alerted.chunks(500) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT OR IGNORE INTO hunt_alerted_rows (hunt_id, row_key) ");
            q.push_values(chunk, |mut b, k| {
                b.push_bind(hunt.to_string()).push_bind(k.clone());
            });
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE saved_hunts SET last_run = ?, next_run = ? WHERE id = ?")
            .bind(to_micros(window_end))
            .bind(to_micros(next_run))
            .bind(hunt.to_string())
            .execute(&mut *tx)
            .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn put_hunt_summary(
        &self,
        summary: &HuntSummary,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO hunt_summaries (id, tenant_id, hunt_id, what, why, result, determination, query, author, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(summary.id.to_string())
        .bind(summary.tenant_id.to_string())
        .bind(summary.hunt_id.map(|h| h.to_string()))
        .bind(&summary.what)
        .bind(&summary.why)
        .bind(&summary.result)
        .bind(summary.determination.as_str())
        .bind(&summary.query)
        .bind(&summary.author)
        .bind(to_micros(summary.created_at))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn hunt_summaries(
        &self,
        tenant: TenantId,
        hunt: Option<SavedHuntId>,
    ) -> Result<Vec<HuntSummary>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, hunt_id, what, why, result, determination, query, author, created_at
             FROM hunt_summaries WHERE tenant_id = ? AND (? IS NULL OR hunt_id = ?)
             ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant.to_string())
        .bind(hunt.map(|h| h.to_string()))
        .bind(hunt.map(|h| h.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_summary).collect()
    }
}
