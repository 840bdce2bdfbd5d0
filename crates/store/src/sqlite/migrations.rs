use sqlx::Row;

use super::SqliteStore;
use crate::{Migration, MigrationReport, Result, StoreError};

/// The SQLite schema, in order. Never edit a released migration: add one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "tenants_and_audit",
        sql: include_str!("../../migrations/sqlite/0001_tenants_and_audit.sql"),
    },
    Migration {
        version: 2,
        name: "identity",
        sql: include_str!("../../migrations/sqlite/0002_identity.sql"),
    },
    Migration {
        version: 3,
        name: "sessions",
        sql: include_str!("../../migrations/sqlite/0003_sessions.sql"),
    },
    Migration {
        version: 4,
        name: "telemetry",
        sql: include_str!("../../migrations/sqlite/0004_telemetry.sql"),
    },
    Migration {
        version: 5,
        name: "rules",
        sql: include_str!("../../migrations/sqlite/0005_rules.sql"),
    },
    Migration {
        version: 6,
        name: "alert_source",
        sql: include_str!("../../migrations/sqlite/0006_alert_source.sql"),
    },
    Migration {
        version: 7,
        name: "raw_compressed",
        sql: include_str!("../../migrations/sqlite/0007_raw_compressed.sql"),
    },
    Migration {
        version: 8,
        name: "incidents",
        sql: include_str!("../../migrations/sqlite/0008_incidents.sql"),
    },
    Migration {
        version: 9,
        name: "incident_work",
        sql: include_str!("../../migrations/sqlite/0009_incident_work.sql"),
    },
    Migration {
        version: 10,
        name: "verdicts",
        sql: include_str!("../../migrations/sqlite/0010_verdicts.sql"),
    },
    Migration {
        version: 11,
        name: "summaries",
        sql: include_str!("../../migrations/sqlite/0011_summaries.sql"),
    },
    Migration {
        version: 12,
        name: "tasks",
        sql: include_str!("../../migrations/sqlite/0012_tasks.sql"),
    },
    Migration {
        version: 13,
        name: "notifications",
        sql: include_str!("../../migrations/sqlite/0013_notifications.sql"),
    },
    Migration {
        version: 14,
        name: "sla",
        sql: include_str!("../../migrations/sqlite/0014_sla.sql"),
    },
    Migration {
        version: 15,
        name: "messages",
        sql: include_str!("../../migrations/sqlite/0015_messages.sql"),
    },
    Migration {
        version: 16,
        name: "connectors",
        sql: include_str!("../../migrations/sqlite/0016_connectors.sql"),
    },
    Migration {
        version: 17,
        name: "readiness",
        sql: include_str!("../../migrations/sqlite/0017_readiness.sql"),
    },
    Migration {
        version: 18,
        name: "major_incidents",
        sql: include_str!("../../migrations/sqlite/0018_major_incidents.sql"),
    },
    Migration {
        version: 19,
        name: "recommendations",
        sql: include_str!("../../migrations/sqlite/0019_recommendations.sql"),
    },
    Migration {
        version: 20,
        name: "hunting",
        sql: include_str!("../../migrations/sqlite/0020_hunting.sql"),
    },
    Migration {
        version: 21,
        name: "reports",
        sql: include_str!("../../migrations/sqlite/0021_reports.sql"),
    },
    Migration {
        version: 22,
        name: "dedup_by_time",
        sql: include_str!("../../migrations/sqlite/0022_dedup_by_time.sql"),
    },
    Migration {
        version: 23,
        name: "hunt_additional",
        sql: include_str!("../../migrations/sqlite/0023_hunt_additional.sql"),
    },
    Migration {
        version: 24,
        name: "entity_recent",
        sql: include_str!("../../migrations/sqlite/0024_entity_recent.sql"),
    },
    Migration {
        version: 25,
        name: "event_blocks",
        sql: include_str!("../../migrations/sqlite/0025_event_blocks.sql"),
    },
    Migration {
        version: 26,
        name: "entity_numbers",
        sql: include_str!("../../migrations/sqlite/0026_entity_numbers.sql"),
    },
    Migration {
        version: 27,
        name: "time_by_dedup",
        sql: include_str!("../../migrations/sqlite/0027_time_by_dedup.sql"),
    },
    Migration {
        version: 28,
        name: "entity_lists",
        sql: include_str!("../../migrations/sqlite/0028_entity_lists.sql"),
    },
];

pub(super) async fn run(store: &SqliteStore) -> Result<MigrationReport> {
    let mut tx = store.write_tx().await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS vigil_schema (
            version    INTEGER PRIMARY KEY NOT NULL,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT",
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
                location: store.describe_location(),
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
            "INSERT INTO vigil_schema (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
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

impl SqliteStore {
    fn describe_location(&self) -> String {
        self.path().display().to_string()
    }
}

/// Wall-clock time for the bookkeeping column `applied_at` only; domain
/// times always come from the caller.
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
