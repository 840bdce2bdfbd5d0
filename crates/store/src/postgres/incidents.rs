//! Incidents: the correlation's results, lists and the activity log.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use vigil_core::alert::{Alert, AlertId};
use vigil_core::incident::{Incident, IncidentId};
use vigil_core::time::to_micros;
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use super::identity::{parse, ts};
use vigil_core::audit::{AuditEntry, AuditRecord};

use super::audit::append_in;
use crate::{
    IncidentActivity, IncidentComment, IncidentFilter, IncidentRecord, Result, StoreError,
};

pub(super) const COLUMNS: &str = "id, tenant_id, status, severity, title, first_activity, last_activity, alert_count, assigned_to, classification, determination, tags, summary, created_at, updated_at, version, major_state, ir_engagement";

pub(super) fn decode(row: &PgRow) -> Result<IncidentRecord> {
    let summary: String = row.try_get("summary")?;
    let tags: String = row.try_get("tags")?;
    Ok(IncidentRecord {
        incident: serde_json::from_str(&summary)
            .map_err(|e| StoreError::corrupt("incident summary", e))?,
        assigned_to: row.try_get("assigned_to")?,
        classification: row.try_get("classification")?,
        determination: row.try_get("determination")?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::corrupt("incident tags", e))?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        version: row.try_get("version")?,
        major: json_column(row, "major_state")?,
        ir_engagement: json_column(row, "ir_engagement")?,
    })
}

/// A nullable JSON column.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    name: &'static str,
) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(name)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::corrupt(name, e)))
        .transpose()
}

impl PgStore {
    pub(super) async fn alerts_without_incident_impl(&self, limit: u32) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {} FROM alerts WHERE incident_id IS NULL ORDER BY first_activity, id LIMIT $1",
            super::alerts::ALERT_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(super::alerts::decode_alert).collect()
    }

    pub(super) async fn alerts_by_id_impl(&self, ids: &[AlertId]) -> Result<Vec<Alert>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                "SELECT {} FROM alerts WHERE id IN (",
                super::alerts::ALERT_COLUMNS
            ));
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                out.push(super::alerts::decode_alert(&row)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn open_incidents_impl(&self, tenant: TenantId) -> Result<Vec<Incident>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM incidents WHERE tenant_id = $1 AND status NOT IN ('resolved', 'redirected') ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(decode(r)?.incident)).collect()
    }

    pub(super) async fn save_correlation_impl(
        &self,
        incidents: &[Incident],
        placed: &[(AlertId, IncidentId)],
        activity: &[IncidentActivity],
        now: Timestamp,
        audit: Option<AuditEntry>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for i in incidents {
            let summary =
                serde_json::to_string(i).map_err(|e| StoreError::corrupt("incident summary", e))?;
            sqlx::query(
                "INSERT INTO incidents (id, tenant_id, status, severity, title, first_activity, last_activity, alert_count, summary, created_at, updated_at, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, severity = excluded.severity,
                     title = excluded.title, first_activity = excluded.first_activity,
                     last_activity = excluded.last_activity, alert_count = excluded.alert_count,
                     summary = excluded.summary, updated_at = excluded.updated_at,
                     version = incidents.version + 1",
            )
            .bind(i.id.to_string())
            .bind(i.tenant_id.to_string())
            .bind(i.status.as_str())
            .bind(i.severity().as_str())
            .bind(&i.title)
            .bind(to_micros(i.first_activity))
            .bind(to_micros(i.last_activity))
            .bind(i64::try_from(i.alert_count).unwrap_or(i64::MAX))
            .bind(summary)
            .bind(to_micros(now))
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            // Alerts of an incident merged away follow it.
            if let Some(to) = i.redirected_to {
                sqlx::query("UPDATE alerts SET incident_id = $1 WHERE incident_id = $2")
                    .bind(to.to_string())
                    .bind(i.id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (alert, incident) in placed {
            sqlx::query("UPDATE alerts SET incident_id = $1 WHERE id = $2")
                .bind(incident.to_string())
                .bind(alert.to_string())
                .execute(&mut *tx)
                .await?;
        }
        for chunk in activity.chunks(200) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO incident_activity (incident_id, at, actor, action, details) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(a.incident.to_string())
                    .push_bind(to_micros(a.at))
                    .push_bind(a.actor.clone())
                    .push_bind(a.action.clone())
                    .push_bind(a.details.clone());
            });
            q.build().execute(&mut *tx).await?;
        }
        if let Some(a) = audit {
            append_in(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn update_incident_impl(
        &self,
        r: &IncidentRecord,
        expected_version: i64,
        activity: &[IncidentActivity],
        resolve_alerts: bool,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let i = &r.incident;
        let mut tx = self.write_tx().await?;
        let summary =
            serde_json::to_string(i).map_err(|e| StoreError::corrupt("incident summary", e))?;
        let done = sqlx::query(
            "UPDATE incidents SET status = $1, severity = $2, title = $3, assigned_to = $4, classification = $5,
                 determination = $6, tags = $7, summary = $8, updated_at = $9, version = version + 1
             WHERE id = $10 AND tenant_id = $11 AND version = $12",
        )
        .bind(i.status.as_str())
        .bind(i.severity().as_str())
        .bind(&i.title)
        .bind(&r.assigned_to)
        .bind(&r.classification)
        .bind(&r.determination)
        .bind(serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into()))
        .bind(summary)
        .bind(to_micros(r.updated_at))
        .bind(i.id.to_string())
        .bind(i.tenant_id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: "incident",
                key: i.id.to_string(),
            });
        }
        if resolve_alerts {
            sqlx::query("UPDATE alerts SET status = 'resolved' WHERE incident_id = $1")
                .bind(i.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        for a in activity {
            insert_activity(&mut tx, a).await?;
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn add_comment_impl(
        &self,
        c: &IncidentComment,
        activity: &IncidentActivity,
        audit: AuditEntry,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incident_comments (incident_id, at, author, body, internal) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(c.incident.to_string())
        .bind(to_micros(c.at))
        .bind(&c.author)
        .bind(&c.body)
        .bind(i64::from(c.internal))
        .fetch_one(&mut *tx)
        .await?;
        insert_activity(&mut tx, activity).await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(super) async fn set_verdict_impl(
        &self,
        tenant: TenantId,
        entity: &vigil_core::Entity,
        verdict: vigil_core::Verdict,
        by: &str,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO entity_verdicts (tenant_id, kind, value, verdict, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant_id, kind, value) DO UPDATE SET verdict = excluded.verdict,
                 set_by = excluded.set_by, set_at = excluded.set_at",
        )
        .bind(tenant.to_string())
        .bind(entity.kind.as_str())
        .bind(&entity.value)
        .bind(verdict.as_str())
        .bind(by)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn verdicts_impl(
        &self,
        tenant: TenantId,
        entities: &[vigil_core::Entity],
    ) -> Result<Vec<(vigil_core::Entity, vigil_core::Verdict)>> {
        let mut out = Vec::new();
        for chunk in entities.chunks(200) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "SELECT kind, value, verdict FROM entity_verdicts WHERE tenant_id = ",
            );
            q.push_bind(tenant.to_string()).push(" AND (");
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push("(kind = ")
                    .push_bind(e.kind.as_str())
                    .push(" AND value = ")
                    .push_bind(e.value.clone())
                    .push(")");
            }
            q.push(")");
            for r in q.build().fetch_all(&self.pool).await? {
                let kind: String = r.try_get("kind")?;
                let verdict: String = r.try_get("verdict")?;
                out.push((
                    vigil_core::Entity::new(
                        parse("entity kind", &kind)?,
                        r.try_get::<String, _>("value")?,
                    ),
                    parse("verdict", &verdict)?,
                ));
            }
        }
        Ok(out)
    }

    pub(super) async fn save_summary_impl(
        &self,
        incident: IncidentId,
        summary: &vigil_core::summary::Summary,
        published: bool,
        author: &str,
        at: Timestamp,
        audit: AuditEntry,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(version), 0) + 1 FROM incident_summaries WHERE incident_id = $1",
        )
        .bind(incident.to_string())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO incident_summaries (incident_id, version, published, body, author, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(incident.to_string())
        .bind(version)
        .bind(i64::from(published))
        .bind(serde_json::to_string(summary).map_err(|e| StoreError::corrupt("summary", e))?)
        .bind(author)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(version)
    }

    pub(super) async fn summaries_impl(
        &self,
        incident: IncidentId,
    ) -> Result<Vec<vigil_core::summary::SummaryVersion>> {
        let rows = sqlx::query(
            "SELECT incident_id, version, published, body, author, at FROM incident_summaries WHERE incident_id = $1 ORDER BY version",
        )
        .bind(incident.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let i: String = r.try_get("incident_id")?;
                let body: String = r.try_get("body")?;
                let published: i64 = r.try_get("published")?;
                Ok(vigil_core::summary::SummaryVersion {
                    incident: parse("incident id", &i)?,
                    version: r.try_get("version")?,
                    published: published != 0,
                    summary: serde_json::from_str(&body)
                        .map_err(|e| StoreError::corrupt("summary", e))?,
                    author: r.try_get("author")?,
                    at: ts(r, "at")?,
                })
            })
            .collect()
    }

    pub(super) async fn comments_impl(&self, incident: IncidentId) -> Result<Vec<IncidentComment>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, at, author, body, internal FROM incident_comments WHERE incident_id = $1 ORDER BY id",
        )
        .bind(incident.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let i: String = r.try_get("incident_id")?;
                Ok(IncidentComment {
                    id: r.try_get("id")?,
                    incident: parse("incident id", &i)?,
                    at: ts(r, "at")?,
                    author: r.try_get("author")?,
                    body: r.try_get("body")?,
                    internal: r.try_get::<i64, _>("internal")? != 0,
                })
            })
            .collect()
    }

    pub(super) async fn list_incidents_impl(
        &self,
        tenant: TenantId,
        f: &IncidentFilter,
    ) -> Result<Vec<IncidentRecord>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM incidents WHERE tenant_id = "
        ));
        q.push_bind(tenant.to_string());
        if !f.statuses.is_empty() {
            q.push(" AND status IN (");
            let mut sep = q.separated(", ");
            for s in &f.statuses {
                sep.push_bind(s.clone());
            }
            q.push(")");
        } else if !f.include_redirected {
            q.push(" AND status <> 'redirected'");
        }
        if !f.severities.is_empty() {
            q.push(" AND severity IN (");
            let mut sep = q.separated(", ");
            for s in &f.severities {
                sep.push_bind(s.as_str());
            }
            q.push(")");
        }
        if let Some(since) = f.since {
            q.push(" AND last_activity >= ").push_bind(to_micros(since));
        }
        match f.assigned_to.as_deref() {
            Some("none") => {
                q.push(" AND assigned_to IS NULL");
            }
            Some(a) => {
                q.push(" AND assigned_to = ").push_bind(a.to_owned());
            }
            None => {}
        }
        match f.classification.as_deref() {
            Some("none") => {
                q.push(" AND classification IS NULL");
            }
            Some(c) => {
                q.push(" AND classification = ").push_bind(c.to_owned());
            }
            None => {}
        }
        if let Some(text) = &f.text {
            q.push(" AND title ILIKE ")
                .push_bind(format!("%{}%", text.replace(['%', '_'], "")));
        }
        if let Some((at, id)) = f.after {
            q.push(" AND (last_activity < ")
                .push_bind(to_micros(at))
                .push(" OR (last_activity = ")
                .push_bind(to_micros(at))
                .push(" AND id < ")
                .push_bind(id.to_string())
                .push("))");
        }
        if f.by_severity {
            q.push(
                " ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, last_activity DESC, id DESC LIMIT ",
            );
        } else {
            q.push(" ORDER BY last_activity DESC, id DESC LIMIT ");
        }
        q.push_bind(i64::from(f.limit.max(1)));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(decode).collect()
    }

    pub(super) async fn incident_impl(
        &self,
        tenant: TenantId,
        id: IncidentId,
    ) -> Result<Option<(IncidentRecord, Vec<AlertId>, Vec<IncidentActivity>)>> {
        let sql = format!("SELECT {COLUMNS} FROM incidents WHERE tenant_id = $1 AND id = $2");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let record = decode(&row)?;
        let alerts: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM alerts WHERE tenant_id = $1 AND incident_id = $2 ORDER BY first_activity, id",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let alerts = alerts
            .iter()
            .map(|a| parse("alert id", a))
            .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query(
            "SELECT incident_id, at, actor, action, details FROM incident_activity WHERE incident_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let activity = rows
            .iter()
            .map(|r| {
                let i: String = r.try_get("incident_id")?;
                Ok(IncidentActivity {
                    incident: parse("incident id", &i)?,
                    at: ts(r, "at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    details: r.try_get("details")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((record, alerts, activity)))
    }
}

impl PgStore {
    pub(super) async fn save_major_impl(
        &self,
        tenant: TenantId,
        incident: IncidentId,
        state: &vigil_core::major::MajorState,
        engagement: Option<&vigil_core::major::IrEngagement>,
        activity: &[IncidentActivity],
        audit: AuditEntry,
    ) -> Result<AuditRecord> {
        let state_json =
            serde_json::to_string(state).map_err(|e| StoreError::corrupt("major_state", e))?;
        let engagement_json = engagement
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::corrupt("ir_engagement", e))?;
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE incidents SET major = $1, major_state = $2,
                 ir_engagement = COALESCE($3, ir_engagement), updated_at = $4
             WHERE id = $5 AND tenant_id = $6",
        )
        .bind(i64::from(state.major))
        .bind(state_json)
        .bind(engagement_json)
        .bind(to_micros(state.changed_at))
        .bind(incident.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "incident",
                key: incident.to_string(),
            });
        }
        for a in activity {
            insert_activity(&mut tx, a).await?;
        }
        let record = append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(record)
    }
}

async fn insert_activity(conn: &mut sqlx::PgConnection, a: &IncidentActivity) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_activity (incident_id, at, actor, action, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(a.incident.to_string())
    .bind(to_micros(a.at))
    .bind(&a.actor)
    .bind(&a.action)
    .bind(&a.details)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
