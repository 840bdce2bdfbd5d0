//! The readiness assessment as a use case (PRODUCT.md §4): gather the
//! facts from the store, let `vigil-readiness` judge them, keep the result
//! with its audit record, and after go-live notify the delivery manager
//! and the customer admin of each check that newly fails (once: the
//! failing checks already known are kept in the store).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::json;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Permission, Principal, Role};
use vigil_core::notification::{Audience, NewNotification, NotificationKind};
use vigil_core::readiness::{Assessment, AssessmentId, CheckResult, Trigger};
use vigil_core::tenant::{Lifecycle, Tenant};
use vigil_core::{TenantId, Timestamp};
use vigil_readiness::{Catalogue, DeviceSnapshot, Facts, IdentitySnapshot};
use vigil_store::FactWindows;

use crate::{Result, Service, ServiceError};

/// Most assessments one history page holds.
pub const MAX_READINESS_PAGE: u32 = 200;

/// How often a tenant is assessed on schedule.
pub const READINESS_INTERVAL: SignedDuration = SignedDuration::from_hours(24);

/// The shipped catalogue, parsed once.
pub fn catalogue() -> Result<&'static Catalogue> {
    static C: OnceLock<std::result::Result<Catalogue, String>> = OnceLock::new();
    C.get_or_init(|| Catalogue::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ServiceError::Invalid(e.clone()))
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

fn before(now: Timestamp, d: SignedDuration) -> Timestamp {
    now.checked_sub(d).unwrap_or(Timestamp::MIN)
}

impl Service {
    /// Run the assessment now (customer admins, delivery managers,
    /// provider admins).
    pub async fn run_readiness(&self, p: &Principal, slug: &str) -> Result<Assessment> {
        let tenant = self.load_tenant(slug).await?;
        self.authorize(p, Permission::RunReadiness, Some(&tenant), false)
            .await?;
        if tenant.lifecycle == Lifecycle::Deleted {
            return Err(ServiceError::Refused(format!(
                "tenant {slug} is deleted: there is nothing to assess"
            )));
        }
        self.assess(&tenant, Trigger::OnDemand, p).await
    }

    /// The latest assessment, if any ran.
    pub async fn readiness(&self, p: &Principal, slug: &str) -> Result<Option<Assessment>> {
        let tenant = self.tenant(p, slug).await?;
        Ok(self.store.assessments(tenant.id, None, 1).await?.pop())
    }

    /// Earlier assessments, newest first.
    pub async fn readiness_history(
        &self,
        p: &Principal,
        slug: &str,
        before: Option<AssessmentId>,
        limit: u32,
    ) -> Result<Vec<Assessment>> {
        let tenant = self.tenant(p, slug).await?;
        let limit = limit.clamp(1, MAX_READINESS_PAGE);
        Ok(self.store.assessments(tenant.id, before, limit).await?)
    }

    /// A tenant and its latest assessment, for its overview (one
    /// authorisation, one access record).
    pub async fn tenant_overview(
        &self,
        p: &Principal,
        slug: &str,
    ) -> Result<(Tenant, Option<Assessment>)> {
        let tenant = self.tenant(p, slug).await?;
        let latest = self.store.assessments(tenant.id, None, 1).await?.pop();
        Ok((tenant, latest))
    }

    /// Assess every tenant whose scheduled assessment is due (daily; the
    /// due time is in the store, so the schedule survives restarts). A
    /// tenant that fails is logged and retried on the next round; the
    /// others go on. Returns the assessments made.
    pub async fn run_due_assessments(&self) -> Result<Vec<Assessment>> {
        let system = Principal::Operator("vigil-readiness".into());
        let now = self.clock.now();
        let mut done = Vec::new();
        for id in self.store.due_assessments(now).await? {
            let Some(tenant) = self.store.tenant_by_id(id).await? else {
                continue;
            };
            match self.assess(&tenant, Trigger::Schedule, &system).await {
                Ok(a) => done.push(a),
                Err(e) => {
                    tracing::error!(tenant = %tenant.slug, error = %e, "scheduled readiness assessment failed; will retry");
                }
            }
        }
        Ok(done)
    }

    /// Run [`Service::run_due_assessments`] every `every` until `stop`.
    pub async fn run_readiness_schedule(&self, every: Duration, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.run_due_assessments().await {
                Ok(done) if !done.is_empty() => {
                    tracing::info!(tenants = done.len(), "scheduled readiness assessments ran");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "readiness schedule failed; will retry"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Gather, judge, notify regressions, keep. `p` is recorded as the actor.
    pub(crate) async fn assess(
        &self,
        tenant: &Tenant,
        trigger: Trigger,
        p: &Principal,
    ) -> Result<Assessment> {
        let catalogue = catalogue()?;
        let now = self.clock.now();
        let facts = self.facts(tenant, catalogue, now).await?;
        let assessment = vigil_readiness::assess(catalogue, &facts, tenant.id, trigger);
        let state = self.store.readiness_state(tenant.id).await?;
        let failing: Vec<String> = assessment
            .failing()
            .into_iter()
            .map(str::to_owned)
            .collect();
        // Checks failing before go-live are known, not regressions; so is
        // everything on a tenant's very first run (one live before
        // assessments existed has nothing to regress from).
        if tenant.lifecycle == Lifecycle::Live && state.next_due.is_some() {
            for check in assessment
                .checks
                .iter()
                .filter(|c| failing.contains(&c.id) && !state.notified.contains(&c.id))
            {
                self.notify(tenant, regression(tenant, check)).await?;
            }
        }
        let next_due = now
            .checked_add(READINESS_INTERVAL)
            .map_err(|e| ServiceError::Invalid(format!("next readiness run: {e}")))?;
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "readiness.run",
            Some(tenant.id),
            format!("tenant:{}", tenant.slug),
            json!({
                "assessment": assessment.id,
                "trigger": trigger,
                "score": assessment.score,
                "ready": assessment.ready,
                "failing": failing,
            }),
        );
        self.store
            .save_assessment(&assessment, next_due, Some(&failing), audit)
            .await?;
        self.raise_for_assessment(tenant, &assessment).await;
        tracing::info!(tenant = %tenant.slug, score = assessment.score, ready = assessment.ready, %trigger, "readiness assessed");
        Ok(assessment)
    }

    async fn facts(&self, tenant: &Tenant, c: &Catalogue, now: Timestamp) -> Result<Facts> {
        let l = &c.limits;
        let windows = FactWindows {
            activity_since: before(now, days(c.lookback_days())),
            day_start: before(now, SignedDuration::from_hours(i64::from(l.silent_hours))),
            identity_since: before(now, days(l.identity_window_days)),
            snapshot_since: before(now, days(l.inventory_window_days)),
        };
        let raw = self.store.readiness_facts(tenant.id, windows).await?;
        Ok(Facts {
            now,
            settings: tenant.settings.clone(),
            streams: raw.streams,
            device_activity: newest(raw.devices),
            identity_activity: newest(raw.users),
            clock_ahead: raw.clock_ahead.into_iter().collect(),
            events_last_day: raw.events_last_day,
            dead_letters_last_day: raw.dead_letters_last_day,
            devices: devices(tenant.id, &raw.device_snapshots),
            identities: identities(tenant.id, &raw.identity_snapshots),
        })
    }
}

fn newest(items: Vec<(String, Timestamp)>) -> BTreeMap<String, Timestamp> {
    let mut m = BTreeMap::new();
    for (k, t) in items {
        let e = m.entry(k).or_insert(t);
        if t > *e {
            *e = t;
        }
    }
    m
}

/// The newest snapshot per device (by lowercase hostname).
fn devices(tenant: TenantId, raws: &[String]) -> Vec<DeviceSnapshot> {
    let mut by_name: BTreeMap<String, DeviceSnapshot> = BTreeMap::new();
    for raw in raws {
        match DeviceSnapshot::from_json(raw) {
            Ok(d) => {
                let key = d.hostname.to_lowercase();
                if by_name
                    .get(&key)
                    .is_none_or(|old| old.collected_at < d.collected_at)
                {
                    by_name.insert(key, d);
                }
            }
            Err(e) => tracing::warn!(%tenant, error = %e, "device snapshot skipped"),
        }
    }
    by_name.into_values().collect()
}

/// The newest snapshot per identity (by lowercase UPN).
fn identities(tenant: TenantId, raws: &[String]) -> Vec<IdentitySnapshot> {
    let mut by_upn: BTreeMap<String, IdentitySnapshot> = BTreeMap::new();
    // Stored oldest first: a later record replaces an earlier one.
    for raw in raws {
        match IdentitySnapshot::from_json(raw) {
            Ok(i) => {
                by_upn.insert(i.upn.to_lowercase(), i);
            }
            Err(e) => tracing::warn!(%tenant, error = %e, "identity snapshot skipped"),
        }
    }
    by_upn.into_values().collect()
}

/// The notification for a check that newly fails after go-live.
fn regression(tenant: &Tenant, c: &CheckResult) -> NewNotification {
    let mut body = format!(
        "The readiness check \"{}\" ({}) now fails for {}.\n\nWhat was measured: {}\n",
        c.title, c.id, tenant.name, c.evidence.summary
    );
    if !c.evidence.assets.is_empty() {
        body.push_str(&format!("Assets: {}", c.evidence.assets.join(", ")));
        if c.evidence.more_assets > 0 {
            body.push_str(&format!(" and {} more", c.evidence.more_assets));
        }
        body.push('\n');
    }
    body.push_str(&format!("\nWhat to do: {}\n", c.remediation));
    NewNotification {
        kind: NotificationKind::ReadinessRegression,
        audience: Audience::Roles(vec![Role::DeliveryManager, Role::CustomerAdmin]),
        subject: format!("{}: readiness check failing: {}", tenant.slug, c.title),
        body,
        link: Some(format!("/tenants/{}/readiness", tenant.slug)),
        incident: None,
    }
}
