//! Saved hunts, scheduled hunts that raise alerts, and hunting summaries.
//!
//! A scheduled hunt runs every `interval` over the last `lookback`; each
//! row it returns raises an alert through the same path as rule alerts
//! (`commit_detections`, then correlation into incidents), with detection
//! source `hunt` and rule `hunt:<id>` titled by the hunt's name. A row is
//! fingerprinted (SHA-256 of its values) and raises an alert once, not on
//! every run whose window still holds it.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_core::alert::Observation;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::hunting::{
    HuntDetermination, HuntSchedule, HuntSummary, HuntSummaryId, MAX_HUNT_NAME, MAX_HUNT_TEXT,
    SavedHunt, SavedHuntId,
};
use vigil_core::identity::{Permission, Principal};
use vigil_core::tenant::Lifecycle;
use vigil_core::{Entity, EntityKind, Timestamp};

use crate::hunting::{HuntLimits, HuntResult};
use crate::{Result, Service, ServiceError};

/// What a saved hunt is made of (create and replace).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct HuntDraft {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub schedule: Option<HuntSchedule>,
}

/// A hunting summary as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SummaryDraft {
    #[serde(default)]
    pub hunt_id: Option<SavedHuntId>,
    pub what: String,
    pub why: String,
    pub result: String,
    pub determination: HuntDetermination,
    #[serde(default)]
    pub query: String,
}

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct HuntRunReport {
    pub hunts: u64,
    pub rows: u64,
    pub alerts: u64,
    pub failed: u64,
}

/// Rows a scheduled run reads at most (the rest wait for the next run).
const SCHEDULED_ROWS: usize = 1_000;

fn text(what: &str, value: &str, max: usize, required: bool) -> Result<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(ServiceError::Invalid(format!("{what}: must not be empty")));
    }
    if v.chars().count() > max {
        return Err(ServiceError::Invalid(format!(
            "{what}: at most {max} characters"
        )));
    }
    Ok(v.to_owned())
}

/// Entities a row names, by the analyst-facing column names.
fn row_entities(result: &HuntResult, row: &[Value]) -> Vec<Entity> {
    let mut out: Vec<Entity> = Vec::new();
    for (c, v) in result.columns.iter().zip(row) {
        let Some(s) = v.as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        let kind = match c.name.as_str() {
            "DeviceName" => EntityKind::Device,
            "AccountName" | "AccountUpn" | "AccountId" | "InitiatingProcessAccountName" => {
                EntityKind::User
            }
            "RemoteIP" | "IPAddress" | "LocalIP" | "SenderIPv4" => EntityKind::Ip,
            "SHA256" | "SHA1" | "MD5" => EntityKind::FileHash,
            "FolderPath" => EntityKind::File,
            "RemoteUrl" => EntityKind::Domain,
            "SenderFromAddress" | "RecipientEmailAddress" => EntityKind::Mailbox,
            _ => continue,
        };
        let e = Entity::new(kind, s.to_lowercase());
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

fn fingerprint(row: &[Value]) -> String {
    let digest = Sha256::digest(Value::Array(row.to_vec()).to_string().as_bytes());
    vigil_core::hex::lower(&digest)
}

impl Service {
    fn check_draft(&self, d: &HuntDraft) -> Result<HuntDraft> {
        if let Some(s) = &d.schedule {
            s.validate()
                .map_err(|e| ServiceError::Invalid(format!("schedule: {e}")))?;
        }
        Ok(HuntDraft {
            name: text("name", &d.name, MAX_HUNT_NAME, true)?,
            query: text("query", &d.query, MAX_HUNT_TEXT, true)?,
            description: text("description", &d.description, MAX_HUNT_TEXT, false)?,
            schedule: d.schedule,
        })
    }

    fn next_run(&self, s: Option<HuntSchedule>) -> Option<Timestamp> {
        s.map(|s| {
            let now = self.clock.now();
            now.checked_add(jiff::SignedDuration::from_secs(s.interval_secs))
                .unwrap_or(now)
        })
    }

    /// Save a hunt for a tenant (it must compile; a schedule makes it run
    /// by itself and raise alerts).
    pub async fn create_saved_hunt(
        &self,
        p: &Principal,
        tenant: &str,
        draft: &HuntDraft,
    ) -> Result<SavedHunt> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), false).await?;
        let d = self.check_draft(draft)?;
        self.compile_hunt(
            &d.query,
            std::slice::from_ref(&t),
            false,
            HuntLimits::default(),
            None,
        )?;
        let now = self.clock.now();
        let hunt = SavedHunt {
            id: SavedHuntId::new_at(now),
            tenant_id: t.id,
            name: d.name,
            query: d.query,
            description: d.description,
            schedule: d.schedule,
            created_by: p.actor().to_text(),
            created_at: now,
            updated_at: now,
            last_run: None,
        };
        let entry = AuditEntry::new(
            now,
            &p.actor(),
            "hunt.save",
            Some(t.id),
            format!("hunt:{}", hunt.id),
            json!({"name": hunt.name, "query": hunt.query, "schedule": hunt.schedule}),
        );
        self.store
            .put_saved_hunt(&hunt, None, self.next_run(hunt.schedule), entry)
            .await?;
        Ok(hunt)
    }

    /// Replace a saved hunt's name, query, description and schedule.
    pub async fn update_saved_hunt(
        &self,
        p: &Principal,
        tenant: &str,
        id: SavedHuntId,
        draft: &HuntDraft,
    ) -> Result<SavedHunt> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), false).await?;
        let d = self.check_draft(draft)?;
        self.compile_hunt(
            &d.query,
            std::slice::from_ref(&t),
            false,
            HuntLimits::default(),
            None,
        )?;
        let before = self.load_saved_hunt(t.id, id).await?;
        let now = self.clock.now();
        let hunt = SavedHunt {
            name: d.name,
            query: d.query,
            description: d.description,
            schedule: d.schedule,
            updated_at: now,
            ..before.clone()
        };
        let entry = AuditEntry::new(
            now,
            &p.actor(),
            "hunt.update",
            Some(t.id),
            format!("hunt:{id}"),
            json!({"name": hunt.name, "query": hunt.query, "schedule": hunt.schedule}),
        );
        self.store
            .put_saved_hunt(
                &hunt,
                Some(before.updated_at),
                self.next_run(hunt.schedule),
                entry,
            )
            .await?;
        Ok(hunt)
    }

    pub async fn delete_saved_hunt(
        &self,
        p: &Principal,
        tenant: &str,
        id: SavedHuntId,
    ) -> Result<()> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), false).await?;
        let entry = AuditEntry::new(
            self.clock.now(),
            &p.actor(),
            "hunt.delete",
            Some(t.id),
            format!("hunt:{id}"),
            json!({}),
        );
        self.store.delete_saved_hunt(t.id, id, entry).await?;
        Ok(())
    }

    pub async fn saved_hunts(&self, p: &Principal, tenant: &str) -> Result<Vec<SavedHunt>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), true).await?;
        Ok(self.store.saved_hunts(t.id).await?)
    }

    pub async fn saved_hunt(
        &self,
        p: &Principal,
        tenant: &str,
        id: SavedHuntId,
    ) -> Result<SavedHunt> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), true).await?;
        self.load_saved_hunt(t.id, id).await
    }

    async fn load_saved_hunt(
        &self,
        tenant: vigil_core::TenantId,
        id: SavedHuntId,
    ) -> Result<SavedHunt> {
        self.store
            .saved_hunt(tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "saved hunt",
                key: id.to_string(),
            })
    }

    /// Run a saved hunt now.
    pub async fn run_saved_hunt(
        &self,
        p: &Principal,
        tenant: &str,
        id: SavedHuntId,
        limits: HuntLimits,
    ) -> Result<HuntResult> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), true).await?;
        let hunt = self.load_saved_hunt(t.id, id).await?;
        self.run_query(&hunt.query, &[t], false, limits, None).await
    }

    /// Run every scheduled hunt that is due (the `vigil serve` worker
    /// calls this every minute). A hunt that fails (a query that no longer
    /// compiles, a time limit) is recorded in the audit log and tried again
    /// at its next interval.
    pub async fn run_scheduled_hunts(&self) -> Result<HuntRunReport> {
        let now = self.clock.now();
        let mut report = HuntRunReport::default();
        for hunt in self.store.due_hunts(now, 50).await? {
            let Some(schedule) = hunt.schedule else {
                continue;
            };
            report.hunts += 1;
            let next = now
                .checked_add(jiff::SignedDuration::from_secs(schedule.interval_secs))
                .unwrap_or(now);
            let tenant = self.store.tenant_by_id(hunt.tenant_id).await?;
            let Some(tenant) = tenant
                .filter(|t| !matches!(t.lifecycle, Lifecycle::Deleted | Lifecycle::Offboarding))
            else {
                let entry = AuditEntry::new(
                    now,
                    &Actor::System,
                    "hunt.run",
                    Some(hunt.tenant_id),
                    format!("hunt:{}", hunt.id),
                    json!({"skipped": "tenant not monitored"}),
                );
                self.store
                    .finish_hunt_run(hunt.id, &[], now, next, entry)
                    .await?;
                continue;
            };
            let from = now.as_microsecond() - schedule.lookback_secs.saturating_mul(1_000_000);
            let limits = HuntLimits {
                max_rows: SCHEDULED_ROWS,
                ..HuntLimits::default()
            };
            let result = self
                .run_query(
                    &hunt.query,
                    std::slice::from_ref(&tenant),
                    false,
                    limits,
                    Some((from, now.as_microsecond() + 1)),
                )
                .await;
            let result = match result {
                Ok(r) => r,
                Err(e @ (ServiceError::Query(_) | ServiceError::Invalid(_))) => {
                    report.failed += 1;
                    tracing::warn!(hunt = %hunt.id, error = %e, "scheduled hunt failed");
                    let entry = AuditEntry::new(
                        now,
                        &Actor::System,
                        "hunt.run",
                        Some(tenant.id),
                        format!("hunt:{}", hunt.id),
                        json!({"error": e.to_string()}),
                    );
                    self.store
                        .finish_hunt_run(hunt.id, &[], now, next, entry)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let keys: Vec<String> = result.rows.iter().map(|r| fingerprint(r)).collect();
            let unseen = self.store.unseen_hunt_rows(hunt.id, &keys).await?;
            let mut observations = Vec::new();
            let mut alerted = Vec::new();
            let ts_col = result.columns.iter().position(|c| c.name == "Timestamp");
            let seq_col = result.columns.iter().position(|c| c.name == "ReportId");
            for (row, key) in result.rows.iter().zip(&keys) {
                if !unseen.contains(key) || alerted.contains(key) {
                    continue;
                }
                alerted.push(key.clone());
                let time = ts_col
                    .and_then(|i| row[i].as_str())
                    .and_then(|s| s.parse::<Timestamp>().ok())
                    .unwrap_or(now);
                let events = seq_col.and_then(|i| row[i].as_i64()).into_iter().collect();
                observations.push((
                    tenant.id,
                    Observation {
                        rule_id: format!("hunt:{}", hunt.id),
                        rule_title: hunt.name.clone(),
                        source: "hunt".into(),
                        severity: schedule.severity,
                        tactics: Vec::new(),
                        techniques: Vec::new(),
                        entities: row_entities(&result, row),
                        time,
                        events,
                    },
                ));
            }
            report.rows += result.rows.len() as u64;
            let mut touched = Vec::new();
            if !observations.is_empty() {
                // No detection-queue range to release (first > last).
                touched = self
                    .store
                    .commit_detections(1, 0, &observations, now)
                    .await?;
                report.alerts += touched.len() as u64;
            }
            let entry = AuditEntry::new(
                now,
                &Actor::System,
                "hunt.run",
                Some(tenant.id),
                format!("hunt:{}", hunt.id),
                json!({"rows": result.rows.len(), "new_rows": alerted.len(), "alerts": touched.len(), "truncated": result.stats.truncated}),
            );
            self.store
                .finish_hunt_run(hunt.id, &alerted, now, next, entry)
                .await?;
            if !touched.is_empty() {
                self.refresh_grown(&touched).await?;
                self.correlate_alerts().await?;
            }
        }
        Ok(report)
    }

    /// The scheduled-hunt worker: [`Service::run_scheduled_hunts`] every
    /// `every` until `stop` resolves. Due times live in the store, so runs
    /// survive restarts.
    pub async fn run_hunt_schedule(
        &self,
        every: std::time::Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            match self.run_scheduled_hunts().await {
                Ok(r) if r.hunts > 0 => {
                    tracing::info!(
                        hunts = r.hunts,
                        rows = r.rows,
                        alerts = r.alerts,
                        failed = r.failed,
                        "scheduled hunts ran"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "scheduled hunts failed; will retry"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Write a hunting summary: what was hunted, why, the result and the
    /// determination.
    pub async fn add_hunt_summary(
        &self,
        p: &Principal,
        tenant: &str,
        draft: &SummaryDraft,
    ) -> Result<HuntSummary> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::Hunt, Some(&t), false).await?;
        let mut query = text("query", &draft.query, MAX_HUNT_TEXT, false)?;
        if let Some(h) = draft.hunt_id {
            let hunt = self.load_saved_hunt(t.id, h).await?;
            if query.is_empty() {
                query = hunt.query;
            }
        }
        let now = self.clock.now();
        let summary = HuntSummary {
            id: HuntSummaryId::new_at(now),
            tenant_id: t.id,
            hunt_id: draft.hunt_id,
            what: text("what", &draft.what, MAX_HUNT_TEXT, true)?,
            why: text("why", &draft.why, MAX_HUNT_TEXT, true)?,
            result: text("result", &draft.result, MAX_HUNT_TEXT, true)?,
            determination: draft.determination,
            query,
            author: p.actor().to_text(),
            created_at: now,
        };
        let entry = AuditEntry::new(
            now,
            &p.actor(),
            "hunt.summary",
            Some(t.id),
            format!("hunt-summary:{}", summary.id),
            json!({"hunt": summary.hunt_id, "determination": summary.determination}),
        );
        self.store.put_hunt_summary(&summary, entry).await?;
        Ok(summary)
    }

    /// A tenant's hunting summaries, newest first. Customers read them too:
    /// they are the experts' account of the hunting done for them.
    pub async fn hunt_summaries(
        &self,
        p: &Principal,
        tenant: &str,
        hunt: Option<SavedHuntId>,
    ) -> Result<Vec<HuntSummary>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        Ok(self.store.hunt_summaries(t.id, hunt).await?)
    }
}
