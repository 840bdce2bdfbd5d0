//! Rule packs and per-tenant tuning.

use std::collections::BTreeSet;

use async_trait::async_trait;
use sqlx::Row;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::rules::{Exclusion, Matcher, RuleFile, RuleSummary, Tuning};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::{parse, ts};
use crate::{Result, RuleStore, StoreError};

#[async_trait]
impl RuleStore for PgStore {
    async fn put_rule_pack(
        &self,
        name: &str,
        source: &str,
        files: &[RuleFile],
        rules: &[RuleSummary],
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM rule_packs WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO rule_packs (name, source, added_at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(source)
            .bind(to_micros(audit.at))
            .execute(&mut *tx)
            .await?;
        for f in files {
            sqlx::query("INSERT INTO rule_files (pack, path, yaml) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(&f.path)
                .bind(&f.yaml)
                .execute(&mut *tx)
                .await?;
        }
        for r in rules {
            let done = sqlx::query(
                "INSERT INTO rules (id, pack, path, title, level, kind) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&r.id)
            .bind(name)
            .bind(&r.path)
            .bind(&r.title)
            .bind(r.level.as_str())
            .bind(r.kind)
            .execute(&mut *tx)
            .await;
            match done {
                Err(e) if super::is_unique_violation(&e) => {
                    return Err(StoreError::Duplicate {
                        what: "rule id (in another pack)",
                        key: r.id.clone(),
                    });
                }
                other => other?,
            };
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn rule_files(&self) -> Result<Vec<RuleFile>> {
        let rows = sqlx::query("SELECT pack, path, yaml FROM rule_files ORDER BY pack, path")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RuleFile {
                    pack: r.try_get("pack")?,
                    path: r.try_get("path")?,
                    yaml: r.try_get("yaml")?,
                })
            })
            .collect()
    }

    async fn list_rules(&self) -> Result<Vec<RuleSummary>> {
        let rows = sqlx::query(
            "SELECT id, pack, path, title, level, kind FROM rules ORDER BY pack, path, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let level: String = r.try_get("level")?;
                let kind: String = r.try_get("kind")?;
                Ok(RuleSummary {
                    id: r.try_get("id")?,
                    pack: r.try_get("pack")?,
                    path: r.try_get("path")?,
                    title: r.try_get("title")?,
                    level: parse("rule level", &level)?,
                    kind: if kind == "correlation" {
                        "correlation"
                    } else {
                        "detection"
                    },
                })
            })
            .collect()
    }

    async fn set_rule_enabled(
        &self,
        tenant: TenantId,
        rule_id: &str,
        enabled: bool,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO tenant_rules (tenant_id, rule_id, enabled, changed_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id, rule_id) DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at",
        )
        .bind(tenant.to_string())
        .bind(rule_id)
        .bind(i64::from(enabled))
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn add_exclusion(&self, e: &Exclusion, audit: AuditEntry) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rule_exclusions (tenant_id, rule_id, matcher, value, reason, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(e.tenant_id.to_string())
        .bind(&e.rule_id)
        .bind(e.matcher.to_text())
        .bind(&e.value)
        .bind(&e.reason)
        .bind(to_micros(e.created_at))
        .bind(&e.created_by)
        .fetch_one(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn remove_exclusion(
        &self,
        tenant: TenantId,
        id: i64,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM rule_exclusions WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "exclusion",
                key: id.to_string(),
            });
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn rules_version(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM rule_packs) AS packs, (SELECT count(*) FROM rules) AS rules,
                    (SELECT coalesce(max(added_at), 0) FROM rule_packs) AS last",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((
            row.try_get("packs")?,
            row.try_get("rules")?,
            row.try_get("last")?,
        ))
    }

    async fn tuning(&self, tenant: TenantId) -> Result<Tuning> {
        let disabled: BTreeSet<String> = sqlx::query_scalar(
            "SELECT rule_id FROM tenant_rules WHERE tenant_id = $1 AND enabled = 0",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let rows = sqlx::query(
            "SELECT id, tenant_id, rule_id, matcher, value, reason, created_at, created_by
             FROM rule_exclusions WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await?;
        let exclusions = rows
            .iter()
            .map(|r| {
                let t: String = r.try_get("tenant_id")?;
                let m: String = r.try_get("matcher")?;
                Ok(Exclusion {
                    id: r.try_get("id")?,
                    tenant_id: parse("tenant id", &t)?,
                    rule_id: r.try_get("rule_id")?,
                    matcher: Matcher::parse(&m)
                        .map_err(|e| StoreError::corrupt("exclusion matcher", e))?,
                    value: r.try_get("value")?,
                    reason: r.try_get("reason")?,
                    created_at: ts(r, "created_at")?,
                    created_by: r.try_get("created_by")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tuning {
            disabled,
            exclusions,
        })
    }
}
