//! The PostgreSQL schema and its runner: strict numbering, checksums, and
//! a database from a newer build refused, exactly as for SQLite.

use sqlx::Row;

use super::PgStore;
use crate::{Migration, MigrationReport, Result, StoreError};

/// Serialises concurrent `migrate` calls of several processes ("vigilmig").
const MIGRATE_LOCK: i64 = 0x7669_6769_6c6d_6967;

/// The PostgreSQL schema, in order. Never edit a released migration: add one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "tenants_and_audit",
        sql: include_str!("../../migrations/postgres/0001_tenants_and_audit.sql"),
    },
    Migration {
        version: 2,
        name: "identity_and_sessions",
        sql: include_str!("../../migrations/postgres/0002_identity_and_sessions.sql"),
    },
    Migration {
        version: 3,
        name: "telemetry",
        sql: include_str!("../../migrations/postgres/0003_telemetry.sql"),
    },
    Migration {
        version: 4,
        name: "rules",
        sql: include_str!("../../migrations/postgres/0004_rules.sql"),
    },
    Migration {
        version: 5,
        name: "incidents",
        sql: include_str!("../../migrations/postgres/0005_incidents.sql"),
    },
    Migration {
        version: 6,
        name: "notifications",
        sql: include_str!("../../migrations/postgres/0006_notifications.sql"),
    },
    Migration {
        version: 7,
        name: "sla",
        sql: include_str!("../../migrations/postgres/0007_sla.sql"),
    },
    Migration {
        version: 8,
        name: "messages",
        sql: include_str!("../../migrations/postgres/0008_messages.sql"),
    },
    Migration {
        version: 9,
        name: "readiness",
        sql: include_str!("../../migrations/postgres/0009_readiness.sql"),
    },
    Migration {
        version: 10,
        name: "recommendations",
        sql: include_str!("../../migrations/postgres/0010_recommendations.sql"),
    },
    Migration {
        version: 11,
        name: "reports",
        sql: include_str!("../../migrations/postgres/0011_reports.sql"),
    },
    Migration {
        version: 12,
        name: "hunting",
        sql: include_str!("../../migrations/postgres/0012_hunting.sql"),
    },
    Migration {
        version: 13,
        name: "arrival_dedup",
        sql: include_str!("../../migrations/postgres/0013_arrival_dedup.sql"),
    },
];

pub(super) async fn run(store: &PgStore) -> Result<MigrationReport> {
    let mut tx = store.pool.begin().await?;
    // DDL is transactional in PostgreSQL: all pending steps commit together
    // or not at all, and the lock keeps two processes from racing.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS vigil_schema (
            version    BIGINT PRIMARY KEY NOT NULL,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query("SELECT version, name, checksum FROM vigil_schema ORDER BY version")
        .fetch_all(&mut *tx)
        .await?;
    let supported = MIGRATIONS.last().map_or(0, |m| m.version);
    let mut current = 0;
    for row in &rows {
        let version: i64 = row.try_get("version")?;
        let name: String = row.try_get("name")?;
        let checksum: String = row.try_get("checksum")?;
        let Some(known) = MIGRATIONS.iter().find(|m| m.version == version) else {
            return Err(StoreError::SchemaTooNew {
                location: store.location.clone(),
                found: version,
                supported,
            });
        };
        if known.checksum() != checksum {
            return Err(StoreError::MigrationChanged { version, name });
        }
        current = current.max(version);
    }
    let mut applied = Vec::new();
    let start = current;
    for m in MIGRATIONS.iter().filter(|m| m.version > start) {
        sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO vigil_schema (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(m.checksum())
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied.push((m.version, m.name.to_owned()));
        current = m.version;
    }
    tx.commit().await?;
    Ok(MigrationReport {
        applied,
        version: current,
    })
}

/// Wall-clock time for the bookkeeping column `applied_at` only.
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
