//! The SLA engine's use cases: timers started when a response is published,
//! stopped by the customer's acknowledgement and by the last task closing,
//! and [`Service::run_sla`], which carries out what `vigil_core::sla` says
//! is due.
//!
//! Exactly once: each step of a timer is recorded in the same store
//! transaction as the notifications it queues, and that transaction only
//! commits if the timer's version is still the one read. A crash before the
//! commit leaves both undone (the step is due again at the next run); after
//! it, both are done; a second runner that read the same version loses the
//! race and queues nothing. That is why the engine plans notifications with
//! `prepare_notification` instead of calling `notify`, which commits on its
//! own: the planning (audiences, held deliveries) is the same.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::identity::{Permission, Principal, Role};
use vigil_core::incident::IncidentId;
use vigil_core::notification::{
    Audience, Delivery, NewNotification, Notification, NotificationKind,
    customer_notifications_held,
};
use vigil_core::sla::{SlaAction, SlaKind, SlaTimer, StopReason, due_actions};
use vigil_core::tenant::Tenant;
use vigil_core::{TenantId, Timestamp};
use vigil_store::StoreError;

use crate::{IncidentRecord, Result, Service, ServiceError};

/// How many running timers the engine reads at a time.
const SLA_PAGE: u32 = 500;
/// Attempts to stop a timer that another writer keeps moving.
const STOP_RETRIES: u32 = 3;

/// What one run of the engine did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SlaReport {
    /// Running timers looked at.
    pub checked: u32,
    /// 50 % reminders queued.
    pub reminders: u32,
    /// 100 % steps (breach notices) queued.
    pub breaches: u32,
    /// Contacts called on after a breach.
    pub escalations: u32,
    /// Stale 50 % reminders passed over (the breach was due as well).
    pub passed_over: u32,
    /// Timers stopped because their incident was resolved or merged away.
    pub stopped: u32,
    /// Steps another writer recorded first (nothing queued here).
    pub conflicts: u32,
    /// Timers whose step failed; they are tried again at the next run.
    pub failed: u32,
}

/// A breach for the reports: the timer, its incident's title, how long over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaBreach {
    pub timer: SlaTimer,
    pub incident_title: String,
    /// Still running past its due time.
    pub open: bool,
    /// To the stop, or to now while open.
    pub over: SignedDuration,
}

impl Service {
    /// Start timers of these kinds for a response in the customer's hands:
    /// on publishing, the acknowledge timer and (when some task is open)
    /// the complete timer; later, the complete timer when a task is added.
    /// A kind already running for the incident keeps its timer (a
    /// republished response does not restart the customer's clock).
    pub(crate) async fn start_sla(
        &self,
        p: &Principal,
        t: &Tenant,
        record: &IncidentRecord,
        kinds: &[SlaKind],
    ) -> Result<Vec<SlaTimer>> {
        let now = self.clock.now();
        let i = &record.incident;
        let targets = t.settings.sla.for_severity(i.severity());
        let timers: Vec<SlaTimer> = kinds
            .iter()
            .map(|&kind| {
                let target = match kind {
                    SlaKind::Acknowledge => targets.acknowledge,
                    SlaKind::Complete => targets.complete,
                };
                SlaTimer::start(t.id, i.id, kind, target, now)
            })
            .collect();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "sla.start",
            Some(t.id),
            format!("incident:{}", i.id),
            json!({
                "severity": i.severity(),
                "timers": timers.iter().map(|t| json!({"kind": t.kind, "due_at": t.due_at})).collect::<Vec<_>>(),
            }),
        );
        Ok(self.store.start_sla_timers(&timers, audit).await?)
    }

    /// Stop the incident's running timer of `kind`, if there is one, and
    /// return it stopped. Audited as `p`'s action.
    pub(crate) async fn stop_sla(
        &self,
        actor: &Actor,
        t: &Tenant,
        incident: IncidentId,
        kind: SlaKind,
        reason: StopReason,
    ) -> Result<Option<SlaTimer>> {
        let mut attempt = 0;
        loop {
            let Some(mut timer) = self
                .store
                .incident_sla_timers(t.id, incident)
                .await?
                .into_iter()
                .find(|x| x.kind == kind && x.is_running())
            else {
                return Ok(None);
            };
            let expected = timer.version;
            let now = self.clock.now();
            timer.stop(now, reason);
            let audit = AuditEntry::new(
                now,
                actor,
                "sla.stop",
                Some(t.id),
                format!("incident:{incident}"),
                json!({"kind": kind, "reason": reason, "due_at": timer.due_at,
                       "overdue_seconds": timer.overdue.map(|d| d.as_secs())}),
            );
            match self
                .store
                .save_sla_timer(&timer, expected, &[], audit)
                .await
            {
                Ok(_) => {
                    tracing::info!(tenant = %t.slug, %incident, %kind, %reason, "SLA timer stopped");
                    return Ok(Some(timer));
                }
                Err(StoreError::Conflict { .. }) if attempt < STOP_RETRIES => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The customer acknowledges the published response: the acknowledge
    /// timer stops. Idempotent: acknowledging again changes nothing and
    /// answers the same. Refused when no response was published.
    pub async fn acknowledge_response(
        &self,
        p: &Principal,
        tenant: &str,
        incident: IncidentId,
    ) -> Result<Vec<SlaTimer>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::AcknowledgeResponse, Some(&t), false)
            .await?;
        self.incident_exists(&t, incident).await?;
        let timers = self.store.incident_sla_timers(t.id, incident).await?;
        if !timers.iter().any(|x| x.kind == SlaKind::Acknowledge) {
            return Err(ServiceError::Refused(format!(
                "incident {incident} has no published response to acknowledge"
            )));
        }
        self.stop_sla(
            &p.actor(),
            &t,
            incident,
            SlaKind::Acknowledge,
            StopReason::Acknowledged,
        )
        .await?;
        Ok(self.store.incident_sla_timers(t.id, incident).await?)
    }

    /// The customer's first task action or comment counts as acknowledging
    /// the response; the experts' do not.
    pub(crate) async fn acknowledged_by_action(
        &self,
        p: &Principal,
        t: &Tenant,
        incident: IncidentId,
        reason: StopReason,
    ) -> Result<()> {
        let customer = matches!(p, Principal::User { role, .. } if !role.is_provider());
        if customer {
            self.stop_sla(&p.actor(), t, incident, SlaKind::Acknowledge, reason)
                .await?;
        }
        Ok(())
    }

    /// An incident's SLA timers, oldest first.
    pub async fn incident_sla(
        &self,
        p: &Principal,
        tenant: &str,
        incident: IncidentId,
    ) -> Result<Vec<SlaTimer>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        self.incident_exists(&t, incident).await?;
        Ok(self.store.incident_sla_timers(t.id, incident).await?)
    }

    /// A tenant's breaches that began in `[from, to)`, earliest first:
    /// timers stopped at or past their due time, and those still running
    /// past it.
    pub async fn sla_breaches(
        &self,
        p: &Principal,
        tenant: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<SlaBreach>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        if from >= to {
            return Err(ServiceError::Invalid(format!(
                "period: from ({from}) must be before to ({to})"
            )));
        }
        let now = self.clock.now();
        let mut titles: HashMap<IncidentId, String> = HashMap::new();
        let mut out = Vec::new();
        for timer in self.store.sla_timers_due(t.id, from, to).await? {
            let Some(breach) = timer.breach(now) else {
                continue;
            };
            let title = match titles.get(&timer.incident_id) {
                Some(title) => title.clone(),
                None => {
                    let title = self
                        .store
                        .incident(t.id, timer.incident_id)
                        .await?
                        .map(|(r, _, _)| r.incident.title)
                        .unwrap_or_default();
                    titles.insert(timer.incident_id, title.clone());
                    title
                }
            };
            out.push(SlaBreach {
                open: timer.is_running(),
                over: breach.over,
                incident_title: title,
                timer,
            });
        }
        Ok(out)
    }

    async fn incident_exists(&self, t: &Tenant, incident: IncidentId) -> Result<IncidentRecord> {
        self.stored_incident(t.id, incident)
            .await
            .map(|(r, _, _)| r)
    }

    /// Carry out every SLA step due now (by `self.clock`): reminders,
    /// breaches, escalations. Each timer's steps commit with their
    /// notifications in one transaction, so calling this again, from this
    /// process or another, or after a crash, never repeats nor loses one.
    pub async fn run_sla(&self) -> Result<SlaReport> {
        let mut report = SlaReport::default();
        let mut tenants: HashMap<TenantId, Option<Tenant>> = HashMap::new();
        // Every running timer, page by page: timers whose steps are all
        // done stay running until stopped and must not crowd out others.
        let mut after = None;
        loop {
            let page = self.store.running_sla_timers(after, SLA_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let full = page.len() >= SLA_PAGE as usize;
            self.step_page(page, &mut tenants, &mut report).await?;
            if !full {
                break;
            }
        }
        Ok(report)
    }

    async fn step_page(
        &self,
        page: Vec<SlaTimer>,
        tenants: &mut HashMap<TenantId, Option<Tenant>>,
        report: &mut SlaReport,
    ) -> Result<()> {
        for timer in page {
            report.checked += 1;
            let tenant = match tenants.get(&timer.tenant_id) {
                Some(t) => t.clone(),
                None => {
                    let t = self.store.tenant_by_id(timer.tenant_id).await?;
                    tenants.insert(timer.tenant_id, t.clone());
                    t
                }
            };
            let Some(tenant) = tenant else { continue };
            if let Err(e) = self.step_timer(&tenant, timer, report).await {
                report.failed += 1;
                tracing::error!(tenant = %tenant.slug, error = %e, "SLA step failed; will retry");
            }
        }
        Ok(())
    }

    async fn step_timer(
        &self,
        tenant: &Tenant,
        timer: SlaTimer,
        report: &mut SlaReport,
    ) -> Result<()> {
        let now = self.clock.now();
        let contacts: Vec<u8> = tenant
            .settings
            .incident_contacts()
            .iter()
            .map(|c| c.priority)
            .collect();
        let actions = due_actions(&timer, &contacts, now);
        if actions.is_empty() {
            return Ok(());
        }
        let record = self.store.incident(tenant.id, timer.incident_id).await?;
        let Some((record, _, _)) = record.filter(|(r, _, _)| r.incident.is_open()) else {
            let system = Principal::Operator("vigil-sla".into());
            let stopped = self
                .stop_sla(
                    &system.actor(),
                    tenant,
                    timer.incident_id,
                    timer.kind,
                    StopReason::IncidentClosed,
                )
                .await?;
            report.stopped += u32::from(stopped.is_some());
            return Ok(());
        };
        let expected = timer.version;
        let mut next = timer.clone();
        let mut queued: Vec<(Notification, Vec<Delivery>)> = Vec::new();
        for action in &actions {
            for n in notices(tenant, &record, &timer, *action) {
                queued.push(self.prepare_notification(tenant, n).await?);
            }
            next.record(*action, now);
        }
        let audit = AuditEntry::new(
            now,
            &Actor::System,
            "sla.step",
            Some(tenant.id),
            format!("incident:{}", timer.incident_id),
            json!({
                "kind": timer.kind,
                "due_at": timer.due_at,
                "steps": actions.iter().map(|a| describe(*a)).collect::<Vec<_>>(),
                "notifications": queued.iter().map(|(n, _)| n.id).collect::<Vec<_>>(),
            }),
        );
        match self
            .store
            .save_sla_timer(&next, expected, &queued, audit)
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) => {
                report.conflicts += 1;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        for action in &actions {
            match action {
                SlaAction::RemindHalf => report.reminders += 1,
                SlaAction::SkipHalf => report.passed_over += 1,
                SlaAction::Breach => report.breaches += 1,
                SlaAction::Escalate { .. } => report.escalations += 1,
            }
        }
        tracing::info!(
            tenant = %tenant.slug,
            incident = %timer.incident_id,
            kind = %timer.kind,
            steps = ?actions.iter().map(|a| describe(*a)).collect::<Vec<_>>(),
            notifications = queued.len(),
            "SLA steps recorded"
        );
        Ok(())
    }

    /// The SLA worker: [`Service::run_sla`] every `every`, until `stop`
    /// resolves. Timers are state in the store, so nothing is lost between
    /// runs or across restarts.
    pub async fn run_sla_loop(&self, every: Duration, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.run_sla().await {
                tracing::error!(error = %e, "SLA run failed; will retry");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

fn describe(a: SlaAction) -> String {
    match a {
        SlaAction::RemindHalf => "remind_half".into(),
        SlaAction::SkipHalf => "pass_over_half".into(),
        SlaAction::Breach => "breach".into(),
        SlaAction::Escalate { level, priority } => {
            format!("escalate_{level}_to_priority_{priority}")
        }
    }
}

/// What one step tells whom. The experts' copy of a breach is left out
/// while the tenant's customer notifications are held (onboarding,
/// monitoring): the customer was never told of the response, so nothing
/// about its SLA goes out at all.
fn notices(
    t: &Tenant,
    record: &IncidentRecord,
    timer: &SlaTimer,
    action: SlaAction,
) -> Vec<NewNotification> {
    let i = &record.incident;
    let severity = i.severity();
    let target = format!("{:#}", timer.target);
    let due = timer.due_at;
    let (verb, what) = match timer.kind {
        SlaKind::Acknowledge => ("acknowledge", "the experts' response to"),
        SlaKind::Complete => ("complete", "the tasks of"),
    };
    let note = |kind, audience, subject: String, body: String| NewNotification {
        kind,
        audience,
        subject,
        body,
        link: Some(format!("/tenants/{}/incidents/{}", t.slug, i.id)),
        incident: Some(i.id),
    };
    match action {
        SlaAction::SkipHalf => Vec::new(),
        SlaAction::RemindHalf => vec![note(
            NotificationKind::SlaReminder,
            Audience::IncidentContacts,
            format!("Reminder: {verb} {what} {} by {due}", i.title),
            format!(
                "Half the time to {verb} {what} incident \"{}\" ({severity}) has passed: it is due by {due} ({target} after the response was published).\n",
                i.title
            ),
        )],
        SlaAction::Breach => {
            let mut out = vec![note(
                NotificationKind::SlaReminder,
                Audience::IncidentContacts,
                format!("Overdue: {verb} {what} {}", i.title),
                format!(
                    "The time to {verb} {what} incident \"{}\" ({severity}), {target}, ran out at {due}. Please act now; the experts have been told.\n",
                    i.title
                ),
            )];
            if !customer_notifications_held(t.lifecycle, NotificationKind::SlaBreach) {
                out.push(note(
                    NotificationKind::SlaBreach,
                    Audience::Roles(vec![Role::Analyst]),
                    format!("SLA breached at {}: {} not {verb}d in time", t.name, i.title),
                    format!(
                        "{} did not {verb} {what} incident \"{}\" ({severity}) within {target}; the breach began at {due}. The next incident contact is being called on.\n",
                        t.name, i.title
                    ),
                ));
            }
            out
        }
        SlaAction::Escalate { level, priority } => vec![note(
            NotificationKind::SlaBreach,
            Audience::Contact(priority),
            format!("Escalation: {} needs your attention", i.title),
            format!(
                "The time to {verb} {what} incident \"{}\" ({severity}), {target}, ran out at {due} and nobody has acted yet. You are incident contact {} in call order; please act now.\n",
                i.title,
                level + 1
            ),
        )],
    }
}
