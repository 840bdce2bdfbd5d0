//! Native time partitioning of `events`, `event_entities` and the hunting
//! projection `hunt_events`: one
//! partition per calendar month (UTC) of event time, created before an
//! insert needs it, and dropped whole by retention.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use sqlx::{PgConnection, Row};

use super::PgStore;
use crate::Result;

/// Serialises partition creation and dropping across processes ("vigilprt").
const PARTITION_LOCK: i64 = 0x7669_6769_6c70_7274;

/// One month's partition: `[lower, upper)` in microseconds, and the suffix
/// of its tables' names (`events_p202611`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Month {
    pub lower: i64,
    pub upper: i64,
    pub suffix: String,
}

/// The month (UTC) holding `micros`; `None` only outside jiff's range,
/// which no stored timestamp is.
pub(super) fn month_of(micros: i64) -> Option<Month> {
    let at = Timestamp::from_microsecond(micros).ok()?;
    let first = at.to_zoned(TimeZone::UTC).date().first_of_month();
    let next = first.checked_add(1.month()).ok()?;
    let bound = |d: jiff::civil::Date| -> Option<i64> {
        Some(d.to_zoned(TimeZone::UTC).ok()?.timestamp().as_microsecond())
    };
    let year = first.year();
    let sign = if year < 0 { "m" } else { "" };
    Some(Month {
        lower: bound(first)?,
        upper: bound(next)?,
        suffix: format!("{sign}{:04}{:02}", year.unsigned_abs(), first.month()),
    })
}

impl PgStore {
    /// Make sure a partition exists for each of `times` (microseconds).
    /// Runs in its own short transaction, before the insert's, so intake
    /// transactions never hold the lock that creating a partition takes.
    pub(super) async fn ensure_partitions(&self, times: impl Iterator<Item = i64>) -> Result<()> {
        let mut wanted: BTreeMap<i64, Month> = BTreeMap::new();
        {
            let known = self
                .partitions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for t in times {
                if let Some(m) = month_of(t)
                    && !known.contains(&m.lower)
                {
                    wanted.entry(m.lower).or_insert(m);
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PARTITION_LOCK)
            .execute(&mut *tx)
            .await?;
        for m in wanted.values() {
            create(&mut tx, m).await?;
        }
        tx.commit().await?;
        let mut known = self
            .partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.extend(wanted.keys().copied());
        Ok(())
    }

    /// Forget which partitions exist (another process may have dropped
    /// some): the next insert asks the catalogue again.
    pub(super) fn forget_partitions(&self) {
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

async fn create(conn: &mut PgConnection, m: &Month) -> Result<()> {
    for table in ["events", "event_entities", "hunt_events"] {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {table}_p{} PARTITION OF {table} FOR VALUES FROM ({}) TO ({})",
            m.suffix, m.lower, m.upper
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO event_partitions (lower_bound, upper_bound, suffix) VALUES ($1, $2, $3)
         ON CONFLICT (lower_bound) DO NOTHING",
    )
    .bind(m.lower)
    .bind(m.upper)
    .bind(&m.suffix)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Drop the partitions wholly before `cut` that hold no event of a tenant
/// other than `tenant` (retention is per tenant; a partition goes when
/// nobody else's telemetry is left in it). Returns how many of `tenant`'s
/// events went with them. Runs inside the caller's transaction.
pub(super) async fn drop_expired(conn: &mut PgConnection, tenant: &str, cut: i64) -> Result<u64> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .execute(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT suffix FROM event_partitions WHERE upper_bound <= $1 ORDER BY lower_bound",
    )
    .bind(cut)
    .fetch_all(&mut *conn)
    .await?;
    let mut dropped = 0u64;
    for row in rows {
        let suffix: String = row.try_get("suffix")?;
        let events = format!("events_p{suffix}");
        let others: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT EXISTS (SELECT 1 FROM {events} WHERE tenant_id <> $1)"
        )))
        .bind(tenant)
        .fetch_one(&mut *conn)
        .await?;
        if others {
            continue;
        }
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {events}"
        )))
        .fetch_one(&mut *conn)
        .await?;
        for table in ["detection_queue", "alert_events"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE seq IN (SELECT seq FROM {events})"
            )))
            .execute(&mut *conn)
            .await?;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TABLE {events}; DROP TABLE event_entities_p{suffix}; DROP TABLE IF EXISTS hunt_events_p{suffix}"
        )))
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM event_partitions WHERE suffix = $1")
            .bind(&suffix)
            .execute(&mut *conn)
            .await?;
        tracing::info!(partition = %events, events = n, "dropped a partition past retention");
        dropped += u64::try_from(n).unwrap_or(0);
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_microsecond_to_the_next_months() {
        let t: Timestamp = "2026-11-27T10:00:00Z".parse().expect("time");
        let m = month_of(t.as_microsecond()).expect("month");
        let lo: Timestamp = "2026-11-01T00:00:00Z".parse().expect("time");
        let hi: Timestamp = "2026-12-01T00:00:00Z".parse().expect("time");
        assert_eq!(m.lower, lo.as_microsecond());
        assert_eq!(m.upper, hi.as_microsecond());
        assert_eq!(m.suffix, "202611");
        assert_eq!(
            month_of(lo.as_microsecond() - 1).expect("month").suffix,
            "202610"
        );
    }
}
