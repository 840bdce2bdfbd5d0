//! Hunting over PostgreSQL: the projection written at intake (into the
//! month partitions of `hunt_events`), compiled hunts run in a read-only
//! transaction under `statement_timeout` (the time limit), saved hunts,
//! alerted rows and summaries. Same behaviour as `sqlite/hunting.rs`.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row, TypeInfo, ValueRef};
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::hunting::{
    Cell, HuntColumn, HuntDetermination, HuntDialect, HuntRows, HuntSchedule, HuntSql, HuntSummary,
    HuntValue, SavedHunt, SavedHuntId, SqlParam,
};
use vigil_core::telemetry::NewEvent;
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::{opt_ts, parse, ts};
use crate::{HuntStore, Result, StoreError};

/// Rows per multi-row INSERT (PostgreSQL allows 65,535 parameters; a row
/// has 40).
const CHUNK: usize = 500;

/// SQLSTATE of a statement cancelled by `statement_timeout`.
const QUERY_CANCELED: &str = "57014";

/// Write the hunting rows of newly stored events (inside the intake
/// transaction; the month partitions exist already, made with `events`').
pub(super) async fn insert_hunt_rows(
    conn: &mut PgConnection,
    tenant: &str,
    events: &[(i64, &NewEvent)],
) -> Result<()> {
    let rows: Vec<(i64, i64, &vigil_core::hunting::HuntRow)> = events
        .iter()
        .filter_map(|(seq, e)| e.hunt.as_ref().map(|h| (*seq, to_micros(e.time), h)))
        .collect();
    for chunk in rows.chunks(CHUNK) {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO hunt_events (seq, tenant_id, tbl, ts");
        for c in HuntColumn::ALL {
            q.push(", ").push(c.sql_name());
        }
        q.push(") ");
        q.push_values(chunk, |mut b, (seq, time, row)| {
            b.push_bind(*seq)
                .push_bind(tenant.to_owned())
                .push_bind(row.table)
                .push_bind(*time);
            for (c, v) in HuntColumn::ALL.iter().zip(row.values()) {
                match v {
                    Some(HuntValue::Int(n)) => b.push_bind(n),
                    Some(HuntValue::Text(t)) => b.push_bind(t.to_owned()),
                    None if c.is_integer() => b.push_bind(None::<i64>),
                    None => b.push_bind(None::<String>),
                };
            }
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Postgres, PgArguments>,
    params: &'q [SqlParam],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for p in params {
        q = match p {
            SqlParam::Int(n) => q.bind(*n),
            SqlParam::Real(n) => q.bind(*n),
            SqlParam::Text(t) => q.bind(t.as_str()),
            SqlParam::Null => q.bind(None::<String>),
        };
    }
    q
}

/// One result cell, typed by what PostgreSQL says the column is.
fn cell(row: &PgRow, i: usize) -> Result<Cell> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let kind = raw.type_info().name().to_owned();
    Ok(match kind.as_str() {
        "INT8" => Cell::Int(row.try_get(i)?),
        "INT4" => Cell::Int(i64::from(row.try_get::<i32, _>(i)?)),
        "INT2" => Cell::Int(i64::from(row.try_get::<i16, _>(i)?)),
        "BOOL" => Cell::Int(i64::from(row.try_get::<bool, _>(i)?)),
        "FLOAT8" => Cell::Real(row.try_get(i)?),
        "FLOAT4" => Cell::Real(f64::from(row.try_get::<f32, _>(i)?)),
        "BYTEA" => Cell::Text(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(i)?).into_owned()),
        _ => Cell::Text(row.try_get(i)?),
    })
}

fn decode_hunt(row: &PgRow) -> Result<SavedHunt> {
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

fn decode_summary(row: &PgRow) -> Result<HuntSummary> {
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

impl PgStore {
    async fn run_hunt_impl(
        &self,
        sql: &HuntSql,
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<HuntRows> {
        let limit_ms = u64::try_from(time_limit.as_millis()).unwrap_or(u64::MAX);
        let mut tx = self.pool.begin().await?;
        // The statement is generated; the transaction refuses writes all
        // the same, and the server cancels it past the time limit.
        sqlx::query("SET TRANSACTION READ ONLY")
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET LOCAL statement_timeout = {}",
            limit_ms.clamp(1, i32::MAX as u64)
        )))
        .execute(&mut *tx)
        .await?;
        let result = async {
            let q = bind_all(
                sqlx::query(sqlx::AssertSqlSafe(sql.sql.clone())),
                &sql.params,
            );
            let mut stream = q.fetch(&mut *tx);
            let mut out = HuntRows::default();
            while let Some(row) = stream.try_next().await? {
                if out.rows.len() == max_rows {
                    out.truncated = true;
                    break;
                }
                let mut cells = Vec::with_capacity(row.columns().len());
                for i in 0..row.columns().len() {
                    cells.push(cell(&row, i)?);
                }
                out.rows.push(cells);
            }
            Ok::<_, StoreError>(out)
        }
        .await;
        // Read only: nothing to keep; rolling back also ends an aborted one.
        tx.rollback().await?;
        match result {
            Err(StoreError::Backend(e))
                if e.as_database_error()
                    .and_then(|d| d.code())
                    .is_some_and(|c| c == QUERY_CANCELED) =>
            {
                Err(StoreError::TimedOut {
                    what: "hunt",
                    limit_ms,
                })
            }
            other => other,
        }
    }
}

#[async_trait]
impl HuntStore for PgStore {
    fn hunt_dialect(&self) -> HuntDialect {
        HuntDialect::Postgres
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
            sqlx::query_scalar("SELECT id FROM saved_hunts WHERE tenant_id = $1 AND name = $2")
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
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
                "UPDATE saved_hunts SET name = $1, query = $2, description = $3, interval_secs = $4, lookback_secs = $5, severity = $6, updated_at = $7, next_run = $8
                 WHERE id = $9 AND tenant_id = $10 AND updated_at = $11",
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
        sqlx::query("DELETE FROM hunt_alerted_rows WHERE hunt_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM saved_hunts WHERE id = $1 AND tenant_id = $2")
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
            "SELECT {HUNT_COLUMNS} FROM saved_hunts WHERE tenant_id = $1 ORDER BY name"
        )))
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_hunt).collect()
    }

    async fn saved_hunt(&self, tenant: TenantId, id: SavedHuntId) -> Result<Option<SavedHunt>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HUNT_COLUMNS} FROM saved_hunts WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_hunt).transpose()
    }

    async fn due_hunts(&self, now: Timestamp, limit: u32) -> Result<Vec<SavedHunt>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HUNT_COLUMNS} FROM saved_hunts WHERE next_run IS NOT NULL AND next_run <= $1 ORDER BY next_run LIMIT $2"
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
            let mut q: QueryBuilder<Postgres> =
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
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO hunt_alerted_rows (hunt_id, row_key) ");
            q.push_values(chunk, |mut b, k| {
                b.push_bind(hunt.to_string()).push_bind(k.clone());
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE saved_hunts SET last_run = $1, next_run = $2 WHERE id = $3")
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
             FROM hunt_summaries WHERE tenant_id = $1 AND ($2::text IS NULL OR hunt_id = $2)
             ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant.to_string())
        .bind(hunt.map(|h| h.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_summary).collect()
    }
}
