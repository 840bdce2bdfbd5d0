//! Posture recommendations as use cases (PRODUCT.md §10): raised from the
//! knowledge base (`vigil-posture`) when an incident is resolved as a true
//! positive or a readiness run completes, one per tenant and entry (a
//! second incident adds a link), moved through their lifecycle by people,
//! and verified, completed, reopened and expired by the worker against the
//! latest posture snapshots. Every change is in the recommendation's
//! history and the audit log, and records the tenant's posture score.

use std::future::Future;
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::identity::{Permission, Principal};
use vigil_core::incident::{Classification, IncidentStatus};
use vigil_core::readiness::Assessment;
use vigil_core::recommendation::{
    CompletedBy, IncidentLink, PostureScore, Recommendation, RecommendationId, RecommendationNote,
    RecommendationStatus, StatusRequest, Verification, VerificationState, check_status_request,
};
use vigil_core::tenant::{Lifecycle, Tenant};
use vigil_core::{Entity, EntityKind, TenantId, Timestamp};
use vigil_posture::{Entry, Knowledge, Snapshots, State};
use vigil_store::{FactWindows, IncidentRecord, RecommendationChange, StoreError};

use crate::{Result, Service, ServiceError};

/// Longest note.
pub const MAX_NOTE: usize = 10_000;

/// Score snapshots one trend holds at most.
pub const MAX_TREND: u32 = 500;

/// Attempts at a change that meets a concurrent one.
const ATTEMPTS: usize = 3;

/// One recommendation as read, with its knowledge-base entry (why, how,
/// mitigations) and its history.
#[derive(Debug, Clone)]
pub struct RecommendationView {
    pub recommendation: Recommendation,
    pub entry: Option<&'static Entry>,
    pub history: Vec<RecommendationChange>,
}

/// A change by hand; `None`: leave as is.
#[derive(Debug, Clone, Default)]
pub struct RecommendationUpdate {
    pub status: Option<RecommendationStatus>,
    /// Needed for risk_accepted, alternate_mitigation and dismissed.
    pub reason: Option<String>,
    /// Needed for risk_accepted.
    pub expires_at: Option<Timestamp>,
    pub note: Option<String>,
}

/// The current posture score and its trend, newest first.
#[derive(Debug, Clone)]
pub struct PostureScoreView {
    pub current: PostureScore,
    pub trend: Vec<PostureScore>,
}

/// What one run of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueReport {
    pub expired: usize,
    pub completed: usize,
    pub reopened: usize,
    pub checked: usize,
}

/// The shipped knowledge base, or an error naming the defect.
pub fn knowledge() -> Result<&'static Knowledge> {
    Knowledge::builtin().map_err(|e| ServiceError::Invalid(e.to_string()))
}

/// What raised a recommendation this time.
struct Raise<'a> {
    entry: &'a Entry,
    reason: String,
    incident: Option<IncidentLink>,
    check: Option<String>,
    assets: Vec<Entity>,
}

fn asset_entity(name: &str) -> Entity {
    // Readiness evidence names devices by hostname and identities by UPN.
    let kind = if name.contains('@') {
        EntityKind::User
    } else {
        EntityKind::Device
    };
    Entity::new(kind, name.to_lowercase())
}

fn same_verification(a: &Verification, b: &Verification) -> bool {
    a.state == b.state
        && a.detail == b.detail
        && a.failing == b.failing
        && a.verified_since_open == b.verified_since_open
}

impl Service {
    /// A tenant's recommendations, highest points first.
    pub async fn list_recommendations(
        &self,
        p: &Principal,
        slug: &str,
    ) -> Result<Vec<Recommendation>> {
        let tenant = self.tenant(p, slug).await?;
        let mut recs = self.store.recommendations(tenant.id).await?;
        recs.sort_by(|a, b| b.points.cmp(&a.points).then(a.kb_id.cmp(&b.kb_id)));
        Ok(recs)
    }

    /// One recommendation with its entry and history.
    pub async fn recommendation(
        &self,
        p: &Principal,
        slug: &str,
        id: RecommendationId,
    ) -> Result<RecommendationView> {
        let tenant = self.tenant(p, slug).await?;
        self.recommendation_view(tenant.id, id).await
    }

    async fn recommendation_view(
        &self,
        tenant: TenantId,
        id: RecommendationId,
    ) -> Result<RecommendationView> {
        let (recommendation, history) =
            self.store
                .recommendation(tenant, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "recommendation",
                    key: id.to_string(),
                })?;
        let entry = knowledge()?.get(&recommendation.kb_id);
        Ok(RecommendationView {
            recommendation,
            entry,
            history,
        })
    }

    /// The posture score now and its trend.
    pub async fn posture_score(&self, p: &Principal, slug: &str) -> Result<PostureScoreView> {
        let tenant = self.tenant(p, slug).await?;
        let recs = self.store.recommendations(tenant.id).await?;
        Ok(PostureScoreView {
            current: PostureScore::of(self.clock.now(), &recs),
            trend: self.store.posture_scores(tenant.id, MAX_TREND).await?,
        })
    }

    /// Move a recommendation by hand, or add a note. A move the lifecycle
    /// refuses says why (400); completing by hand is marked as such.
    pub async fn update_recommendation(
        &self,
        p: &Principal,
        slug: &str,
        id: RecommendationId,
        update: RecommendationUpdate,
    ) -> Result<RecommendationView> {
        let tenant = self.load_tenant(slug).await?;
        self.authorize(p, Permission::UpdateRecommendations, Some(&tenant), false)
            .await?;
        if let Some(n) = &update.note
            && (n.trim().is_empty() || n.chars().count() > MAX_NOTE)
        {
            return Err(ServiceError::Invalid(format!(
                "a note has 1 to {MAX_NOTE} characters"
            )));
        }
        if update.status.is_none() && (update.reason.is_some() || update.expires_at.is_some()) {
            return Err(ServiceError::Invalid(
                "a reason or expiry goes with a status change".into(),
            ));
        }
        if update.status.is_none() && update.note.is_none() {
            return Err(ServiceError::Invalid("no change given".into()));
        }
        let actor = p.actor();
        let by = actor.to_text();
        self.change(
            tenant.id,
            Key::Id(id),
            &actor,
            "recommendation.update",
            |rec, now| {
                let Some(mut rec) = rec else {
                    return Err(ServiceError::NotFound {
                        what: "recommendation",
                        key: id.to_string(),
                    });
                };
                let mut lines = Vec::new();
                if let Some(to) = update.status {
                    let req = StatusRequest {
                        to,
                        reason: update.reason.clone().map(|r| r.trim().to_owned()),
                        expires_at: update.expires_at,
                    };
                    if rec.status == to {
                        return Err(ServiceError::Refused(format!(
                            "the recommendation is already {to}"
                        )));
                    }
                    check_status_request(rec.status, &req, now).map_err(ServiceError::Invalid)?;
                    let mut line = format!("status {} → {to}", rec.status);
                    if to == RecommendationStatus::Completed {
                        line.push_str(" (by hand)");
                    }
                    if let Some(r) = &req.reason {
                        line.push_str(&format!(": {r}"));
                    }
                    if let Some(t) = req.expires_at {
                        line.push_str(&format!(" (until {t})"));
                    }
                    lines.push(line);
                    rec.status = to;
                    rec.completed_by =
                        (to == RecommendationStatus::Completed).then_some(CompletedBy::Hand);
                    rec.reason = match to {
                        RecommendationStatus::Open
                        | RecommendationStatus::Planned
                        | RecommendationStatus::Completed => None,
                        _ => req.reason,
                    };
                    rec.expires_at = req.expires_at;
                    if to == RecommendationStatus::Open {
                        rec.verification.verified_since_open = false;
                    }
                }
                if let Some(text) = &update.note {
                    rec.notes.push(RecommendationNote {
                        at: now,
                        actor: by.clone(),
                        text: text.trim().to_owned(),
                    });
                    lines.push("note added".into());
                }
                Ok(Some((rec, lines)))
            },
        )
        .await?;
        self.recommendation_view(tenant.id, id).await
    }

    /// Raise what a resolved true-positive incident calls for: the entries
    /// its techniques and rules trigger, linked to it, with its devices and
    /// users. Anything else is ignored. Called after every incident
    /// change; a failure is logged, not returned, since the incident's
    /// change is already kept (resolving it again raises again).
    pub(crate) async fn raise_for_incident(&self, tenant: &Tenant, record: &IncidentRecord) {
        let incident = &record.incident;
        let true_positive =
            record.classification.as_deref() == Some(Classification::TruePositive.as_str());
        if incident.status != IncidentStatus::Resolved || !true_positive {
            return;
        }
        let result = async {
            let kb = knowledge()?;
            let rules: Vec<String> = incident.rules.iter().map(|r| r.rule_id.clone()).collect();
            let assets: Vec<Entity> = incident
                .entities
                .iter()
                .filter(|e| matches!(e.kind, EntityKind::Device | EntityKind::User))
                .cloned()
                .collect();
            let now = self.clock.now();
            let raises = kb
                .for_incident(&incident.techniques, &rules)
                .into_iter()
                .map(|m| Raise {
                    entry: m.entry,
                    incident: Some(IncidentLink {
                        incident_id: incident.id,
                        title: incident.title.clone(),
                        linked_at: now,
                        reason: m.reason.clone(),
                    }),
                    reason: m.reason,
                    check: None,
                    assets: assets.clone(),
                })
                .collect();
            self.raise(tenant, raises).await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(tenant = %tenant.slug, incident = %incident.id, error = %e, "raising recommendations for an incident failed");
        }
    }

    /// Raise what a completed readiness run calls for: entries its failing
    /// checks trigger (with the assets the checks name), and entries whose
    /// posture verification fails on the latest snapshots.
    /// Called when a run is kept; a failure is logged, not returned, since
    /// the assessment is already kept (the next run raises again).
    pub(crate) async fn raise_for_assessment(&self, tenant: &Tenant, assessment: &Assessment) {
        if let Err(e) = self.raise_for_assessment_inner(tenant, assessment).await {
            tracing::error!(tenant = %tenant.slug, assessment = %assessment.id, error = %e, "raising recommendations for a readiness run failed");
        }
    }

    async fn raise_for_assessment_inner(
        &self,
        tenant: &Tenant,
        assessment: &Assessment,
    ) -> Result<()> {
        let kb = knowledge()?;
        let failing = assessment.failing();
        let mut raises: Vec<Raise<'_>> = kb
            .for_checks(&failing)
            .into_iter()
            .map(|m| {
                let check = m.reason.trim_start_matches("check ").to_owned();
                let assets = assessment
                    .checks
                    .iter()
                    .filter(|c| c.id == check)
                    .flat_map(|c| c.evidence.assets.iter().map(|a| asset_entity(a)))
                    .collect();
                Raise {
                    entry: m.entry,
                    reason: m.reason,
                    incident: None,
                    check: Some(check),
                    assets,
                }
            })
            .collect();
        let snaps = self.snapshots(tenant.id).await?;
        for entry in kb.with_posture_triggers() {
            if raises.iter().any(|r| r.entry.id == entry.id) {
                continue;
            }
            let Some(expr) = kb.verification(&entry.id) else {
                continue;
            };
            let outcome = expr.evaluate(&snaps);
            if outcome.state == State::Fail {
                raises.push(Raise {
                    entry,
                    reason: format!("posture: {}", outcome.detail),
                    incident: None,
                    check: None,
                    assets: Vec::new(),
                });
            }
        }
        self.raise(tenant, raises).await
    }

    async fn raise(&self, tenant: &Tenant, raises: Vec<Raise<'_>>) -> Result<()> {
        if matches!(tenant.lifecycle, Lifecycle::Deleted) {
            return Ok(());
        }
        for r in raises {
            let entry = r.entry;
            self.change(
                tenant.id,
                Key::Kb(&entry.id),
                &Actor::System,
                "recommendation.raise",
                |rec, now| {
                    let mut lines = Vec::new();
                    let mut rec = match rec {
                        Some(rec) => rec,
                        None => {
                            lines.push(format!("raised: {}", r.reason));
                            Recommendation {
                                id: RecommendationId::new_at(now),
                                tenant_id: tenant.id,
                                kb_id: entry.id.clone(),
                                title: entry.title.clone(),
                                category: entry.category,
                                points: entry.points,
                                status: RecommendationStatus::Open,
                                completed_by: None,
                                reason: None,
                                expires_at: None,
                                incidents: Vec::new(),
                                assets: Vec::new(),
                                checks: Vec::new(),
                                verification: Verification::new(entry.verification.clone()),
                                notes: Vec::new(),
                                raised_at: now,
                                updated_at: now,
                            }
                        }
                    };
                    if let Some(link) = &r.incident
                        && rec.link_incident(link.clone())
                    {
                        lines.push(format!(
                            "incident {} linked ({})",
                            link.incident_id, link.reason
                        ));
                    }
                    if let Some(c) = &r.check
                        && !rec.checks.contains(c)
                    {
                        rec.checks.push(c.clone());
                        lines.push(format!("failing readiness check {c} linked"));
                    }
                    let added = rec.add_assets(r.assets.iter().cloned());
                    if added > 0 {
                        lines.push(format!("{added} affected asset(s) added"));
                    }
                    Ok((!lines.is_empty()).then_some((rec, lines)))
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The tenant's latest device and identity snapshots, within the
    /// readiness catalogue's inventory window.
    async fn snapshots(&self, tenant: TenantId) -> Result<Snapshots> {
        let now = self.clock.now();
        let days = crate::readiness::catalogue()?.limits.inventory_window_days;
        let since = now
            .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
            .unwrap_or(Timestamp::MIN);
        let facts = self
            .store
            .readiness_facts(
                tenant,
                FactWindows {
                    activity_since: now,
                    day_start: now,
                    identity_since: now,
                    snapshot_since: since,
                },
            )
            .await?;
        Ok(Snapshots::from_raw(
            &facts.device_snapshots,
            &facts.identity_snapshots,
        ))
    }

    /// The worker's round: reopen risk acceptances whose expiry passed,
    /// verify every recommendation that has a verification against the
    /// latest snapshots (completing open and planned ones that pass,
    /// reopening verified ones that fail again). A tenant that fails is
    /// logged and retried next round.
    pub async fn run_due_recommendations(&self) -> Result<DueReport> {
        let mut report = DueReport::default();
        for id in self.store.tenants_with_recommendations().await? {
            match self.due_for_tenant(id).await {
                Ok(r) => {
                    report.expired += r.expired;
                    report.completed += r.completed;
                    report.reopened += r.reopened;
                    report.checked += r.checked;
                }
                Err(e) => {
                    tracing::error!(tenant = %id, error = %e, "recommendation round failed; will retry");
                }
            }
        }
        Ok(report)
    }

    async fn due_for_tenant(&self, tenant: TenantId) -> Result<DueReport> {
        let mut report = DueReport::default();
        let kb = knowledge()?;
        let snaps = self.snapshots(tenant).await?;
        let recs = self.store.recommendations(tenant).await?;
        for rec in recs {
            let outcome = kb.verification(&rec.kb_id).map(|e| e.evaluate(&snaps));
            report.checked += 1;
            let mut tally = (0, 0, 0);
            self.change(
                tenant,
                Key::Id(rec.id),
                &Actor::System,
                "recommendation.verify",
                |rec, now| {
                    tally = (0, 0, 0);
                    let Some(mut rec) = rec else { return Ok(None) };
                    let before = rec.clone();
                    let mut lines = Vec::new();
                    if rec.status == RecommendationStatus::RiskAccepted
                        && rec.expires_at.is_some_and(|t| t <= now)
                    {
                        lines.push(format!(
                            "status risk_accepted → open: the risk acceptance expired ({})",
                            rec.reason.as_deref().unwrap_or("no reason kept")
                        ));
                        rec.status = RecommendationStatus::Open;
                        rec.reason = None;
                        rec.expires_at = None;
                        rec.verification.verified_since_open = false;
                        tally.0 += 1;
                    }
                    if let Some(o) = &outcome {
                        let v = &mut rec.verification;
                        v.state = match o.state {
                            State::Pass => VerificationState::Passed,
                            State::Fail => VerificationState::Failed,
                            State::Unknown => VerificationState::Unknown,
                        };
                        v.detail.clone_from(&o.detail);
                        v.failing.clone_from(&o.failing);
                        match o.state {
                            State::Pass => {
                                v.verified_since_open = true;
                                if matches!(
                                    rec.status,
                                    RecommendationStatus::Open | RecommendationStatus::Planned
                                ) {
                                    lines.push(format!(
                                        "status {} → completed (verified by the system: {})",
                                        rec.status, o.detail
                                    ));
                                    rec.status = RecommendationStatus::Completed;
                                    rec.completed_by = Some(CompletedBy::System);
                                    tally.1 += 1;
                                }
                            }
                            State::Fail => {
                                if rec.status == RecommendationStatus::Completed
                                    && v.verified_since_open
                                {
                                    lines.push(format!(
                                        "status completed → open (regressed: {})",
                                        o.detail
                                    ));
                                    rec.status = RecommendationStatus::Open;
                                    rec.completed_by = None;
                                    v.verified_since_open = false;
                                    tally.2 += 1;
                                }
                            }
                            State::Unknown => {}
                        }
                    }
                    if lines.is_empty()
                        && same_verification(&before.verification, &rec.verification)
                    {
                        return Ok(None);
                    }
                    rec.verification.checked_at = Some(now);
                    if lines.is_empty() {
                        lines.push(format!(
                            "verification {}: {}",
                            rec.verification.state, rec.verification.detail
                        ));
                    }
                    Ok(Some((rec, lines)))
                },
            )
            .await?;
            report.expired += tally.0;
            report.completed += tally.1;
            report.reopened += tally.2;
        }
        Ok(report)
    }

    /// Run [`Service::run_due_recommendations`] every `every` until `stop`.
    pub async fn run_recommendation_schedule(
        &self,
        every: Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            match self.run_due_recommendations().await {
                Ok(r)
                    if r != DueReport::default() && (r.expired + r.completed + r.reopened) > 0 =>
                {
                    tracing::info!(
                        expired = r.expired,
                        completed = r.completed,
                        reopened = r.reopened,
                        "recommendations revisited"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "recommendation round failed; will retry"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Read, change, save with history, score and audit; retried when a
    /// concurrent change got there first. `f` gets the current
    /// recommendation (if any) and "now", and returns the changed one with
    /// its history lines, or `None` for no change.
    async fn change<F>(
        &self,
        tenant: TenantId,
        key: Key<'_>,
        actor: &Actor,
        action: &str,
        mut f: F,
    ) -> Result<Option<Recommendation>>
    where
        F: FnMut(
            Option<Recommendation>,
            Timestamp,
        ) -> Result<Option<(Recommendation, Vec<String>)>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = self.clock.now();
            let mut all = self.store.recommendations(tenant).await?;
            let pos = all.iter().position(|r| match key {
                Key::Id(id) => r.id == id,
                Key::Kb(kb) => r.kb_id == kb,
            });
            let current = pos.map(|i| all[i].clone());
            let expected = current.as_ref().map(|r| r.updated_at);
            let Some((mut rec, lines)) = f(current, now)? else {
                return Ok(None);
            };
            rec.updated_at = now;
            match pos {
                Some(i) => all[i] = rec.clone(),
                None => all.push(rec.clone()),
            }
            let score = PostureScore::of(now, &all);
            let audit = AuditEntry::new(
                now,
                actor,
                action,
                Some(tenant),
                format!("recommendation:{}", rec.id),
                json!({
                    "kb_id": rec.kb_id,
                    "status": rec.status,
                    "changes": lines,
                    "score": score.percent,
                }),
            );
            match self
                .store
                .put_recommendation(&rec, expected, &lines, &actor.to_text(), &score, audit)
                .await
            {
                Ok(_) => return Ok(Some(rec)),
                Err(StoreError::Conflict { .. } | StoreError::Duplicate { .. })
                    if attempt < ATTEMPTS => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Key<'a> {
    Id(RecommendationId),
    Kb(&'a str),
}
