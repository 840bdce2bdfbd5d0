use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use vigil_core::TenantId;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::tenant::{Tenant, TenantName, TenantSettings, TenantSlug};
use vigil_core::time::{from_micros, to_micros};

use super::{PgStore, audit::append_in, is_unique_violation};
use crate::{Result, StoreError, TenantStore};

const COLUMNS: &str =
    "id, slug, name, lifecycle, lifecycle_since, settings, created_at, updated_at, version";

#[async_trait]
impl TenantStore for PgStore {
    async fn insert_tenant(&self, t: &Tenant, audit: AuditEntry) -> Result<AuditRecord> {
        let settings = settings_json(&t.settings)?;
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO tenants (id, slug, name, lifecycle, lifecycle_since, settings, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(t.id.to_string())
        .bind(t.slug.as_str())
        .bind(t.name.as_str())
        .bind(t.lifecycle.as_str())
        .bind(to_micros(t.lifecycle_since))
        .bind(settings)
        .bind(to_micros(t.created_at))
        .bind(to_micros(t.updated_at))
        .bind(t.version)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    what: "tenant",
                    key: t.slug.to_string(),
                });
            }
            other => other?,
        };
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn update_tenant(
        &self,
        t: &Tenant,
        expected_version: i64,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let settings = settings_json(&t.settings)?;
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE tenants SET name = $1, lifecycle = $2, lifecycle_since = $3, settings = $4, updated_at = $5, version = $6
             WHERE id = $7 AND version = $8",
        )
        .bind(t.name.as_str())
        .bind(t.lifecycle.as_str())
        .bind(to_micros(t.lifecycle_since))
        .bind(settings)
        .bind(to_micros(t.updated_at))
        .bind(t.version)
        .bind(t.id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            let exists = sqlx::query("SELECT 1 FROM tenants WHERE id = $1")
                .bind(t.id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            let key = t.slug.to_string();
            return Err(if exists {
                StoreError::Conflict {
                    what: "tenant",
                    key,
                }
            } else {
                StoreError::NotFound {
                    what: "tenant",
                    key,
                }
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {COLUMNS} FROM tenants WHERE slug = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {COLUMNS} FROM tenants WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let sql = format!("SELECT {COLUMNS} FROM tenants ORDER BY slug");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }
}

fn settings_json(s: &TenantSettings) -> Result<String> {
    serde_json::to_string(s).map_err(|e| StoreError::corrupt("tenant settings", e))
}

fn decode(row: &PgRow) -> Result<Tenant> {
    let ts = |col: &str| -> Result<_> {
        let micros: i64 = row.try_get(col)?;
        from_micros(micros)
            .ok_or_else(|| StoreError::corrupt("tenant", format!("{col} out of range")))
    };
    let id: String = row.try_get("id")?;
    let slug: String = row.try_get("slug")?;
    let name: String = row.try_get("name")?;
    let lifecycle: String = row.try_get("lifecycle")?;
    let settings: String = row.try_get("settings")?;
    Ok(Tenant {
        id: id
            .parse()
            .map_err(|e| StoreError::corrupt("tenant id", e))?,
        slug: TenantSlug::parse(&slug).map_err(|e| StoreError::corrupt("tenant slug", e))?,
        name: TenantName::parse(&name).map_err(|e| StoreError::corrupt("tenant name", e))?,
        lifecycle: lifecycle
            .parse()
            .map_err(|e| StoreError::corrupt("tenant lifecycle", e))?,
        lifecycle_since: ts("lifecycle_since")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::corrupt("tenant settings", format!("{slug}: {e}")))?,
        created_at: ts("created_at")?,
        updated_at: ts("updated_at")?,
        version: row.try_get("version")?,
    })
}
