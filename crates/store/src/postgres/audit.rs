use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use vigil_core::audit::{AuditEntry, AuditRecord, GENESIS_HASH};
use vigil_core::time::{from_micros, to_micros};

use super::PgStore;
use crate::{AuditStore, Result, StoreError};

/// Append `entry` after the current head of the chain, inside the caller's
/// write transaction.
pub(super) async fn append_in(conn: &mut PgConnection, entry: AuditEntry) -> Result<AuditRecord> {
    let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev) = match head {
        Some(row) => (
            row.try_get::<i64, _>("seq")? + 1,
            row.try_get::<String, _>("hash")?,
        ),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let record = entry.seal(seq, prev);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, tenant_id, target, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(record.seq)
    .bind(to_micros(record.at))
    .bind(&record.actor)
    .bind(&record.action)
    .bind(record.tenant_id.map(|t| t.to_string()))
    .bind(&record.target)
    .bind(&record.details)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    Ok(record)
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, entry: AuditEntry) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let record = append_in(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn audit_page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, tenant_id, target, details, prev_hash, hash
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    async fn tenant_audit_page(
        &self,
        tenant: vigil_core::TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, tenant_id, target, details, prev_hash, hash
             FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.to_string())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }
}

fn decode(row: &PgRow) -> Result<AuditRecord> {
    let seq: i64 = row.try_get("seq")?;
    let bad = |reason: String| StoreError::UnreadableAudit { seq, reason };
    let at: i64 = row.try_get("at").map_err(|e| bad(e.to_string()))?;
    let tenant: Option<String> = row.try_get("tenant_id").map_err(|e| bad(e.to_string()))?;
    let text =
        |col: &str| -> Result<String> { row.try_get(col).map_err(|e| bad(format!("{col}: {e}"))) };
    Ok(AuditRecord {
        seq,
        at: from_micros(at).ok_or_else(|| bad("time out of range".into()))?,
        actor: text("actor")?,
        action: text("action")?,
        tenant_id: tenant
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| bad(format!("tenant id: {e}")))?,
        target: text("target")?,
        details: text("details")?,
        prev_hash: text("prev_hash")?,
        hash: text("hash")?,
    })
}
