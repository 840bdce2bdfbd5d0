//! Recommendations: the recommendation as JSON beside the columns the
//! worker reads, its history, and the posture score after each change.

use async_trait::async_trait;
use sqlx::Row;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::recommendation::{PostureScore, Recommendation, RecommendationId};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::audit::append_in;
use super::identity::ts;
use crate::{RecommendationChange, RecommendationStore, Result, StoreError};

fn decode(body: &str) -> Result<Recommendation> {
    serde_json::from_str(body).map_err(|e| StoreError::corrupt("recommendation", e))
}

#[async_trait]
impl RecommendationStore for PgStore {
    async fn put_recommendation(
        &self,
        rec: &Recommendation,
        expected: Option<Timestamp>,
        history: &[String],
        actor: &str,
        score: &PostureScore,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        let body =
            serde_json::to_string(rec).map_err(|e| StoreError::corrupt("recommendation", e))?;
        let changed = match expected {
            None => {
                let taken: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM recommendations WHERE tenant_id = $1 AND kb_id = $2",
                )
                .bind(rec.tenant_id.to_string())
                .bind(&rec.kb_id)
                .fetch_optional(&mut *tx)
                .await?;
                if taken.is_some() {
                    return Err(StoreError::Duplicate {
                        what: "recommendation",
                        key: rec.kb_id.clone(),
                    });
                }
                sqlx::query(
                    "INSERT INTO recommendations (id, tenant_id, kb_id, status, expires_at, body, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(rec.id.to_string())
                .bind(rec.tenant_id.to_string())
                .bind(&rec.kb_id)
                .bind(rec.status.as_str())
                .bind(rec.expires_at.map(to_micros))
                .bind(&body)
                .bind(to_micros(rec.updated_at))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            }
            Some(before) => sqlx::query(
                "UPDATE recommendations SET status = $1, expires_at = $2, body = $3, updated_at = $4
                 WHERE id = $5 AND tenant_id = $6 AND updated_at = $7",
            )
            .bind(rec.status.as_str())
            .bind(rec.expires_at.map(to_micros))
            .bind(&body)
            .bind(to_micros(rec.updated_at))
            .bind(rec.id.to_string())
            .bind(rec.tenant_id.to_string())
            .bind(to_micros(before))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed != 1 {
            return Err(StoreError::Conflict {
                what: "recommendation",
                key: rec.id.to_string(),
            });
        }
        for line in history {
            sqlx::query(
                "INSERT INTO recommendation_history (recommendation_id, at, actor, change) VALUES ($1, $2, $3, $4)",
            )
            .bind(rec.id.to_string())
            .bind(to_micros(rec.updated_at))
            .bind(actor)
            .bind(line)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO posture_scores (tenant_id, at, achieved, possible) VALUES ($1, $2, $3, $4)",
        )
        .bind(rec.tenant_id.to_string())
        .bind(to_micros(score.at))
        .bind(i64::from(score.achieved))
        .bind(i64::from(score.possible))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn recommendations(&self, tenant: TenantId) -> Result<Vec<Recommendation>> {
        let rows = sqlx::query("SELECT body FROM recommendations WHERE tenant_id = $1 ORDER BY id")
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| decode(&r.try_get::<String, _>("body")?))
            .collect()
    }

    async fn recommendation(
        &self,
        tenant: TenantId,
        id: RecommendationId,
    ) -> Result<Option<(Recommendation, Vec<RecommendationChange>)>> {
        let Some(row) =
            sqlx::query("SELECT body FROM recommendations WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let rec = decode(&row.try_get::<String, _>("body")?)?;
        let rows = sqlx::query(
            "SELECT at, actor, change FROM recommendation_history WHERE recommendation_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let history = rows
            .iter()
            .map(|r| {
                Ok(RecommendationChange {
                    at: ts(r, "at")?,
                    actor: r.try_get("actor")?,
                    change: r.try_get("change")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((rec, history)))
    }

    async fn posture_scores(&self, tenant: TenantId, limit: u32) -> Result<Vec<PostureScore>> {
        let rows = sqlx::query(
            "SELECT at, achieved, possible FROM posture_scores WHERE tenant_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(tenant.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let n = |k: &str| -> Result<u32> {
                    let v: i64 = r.try_get(k)?;
                    u32::try_from(v).map_err(|e| StoreError::corrupt("posture score", e))
                };
                let (achieved, possible) = (n("achieved")?, n("possible")?);
                Ok(PostureScore {
                    at: ts(r, "at")?,
                    achieved,
                    possible,
                    percent: vigil_core::recommendation::percent(achieved, possible),
                })
            })
            .collect()
    }

    async fn tenants_with_recommendations(&self) -> Result<Vec<TenantId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT tenant_id FROM recommendations ORDER BY tenant_id")
                .fetch_all(&self.pool)
                .await?;
        ids.iter()
            .map(|s| {
                s.parse()
                    .map_err(|e| StoreError::corrupt("recommendation", e))
            })
            .collect()
    }
}
