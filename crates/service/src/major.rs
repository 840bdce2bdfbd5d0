//! Major incidents and the IR boundary (PRODUCT.md §11): the criteria run
//! after correlation places or grows incidents and on demand; the first
//! time one holds the incident is flagged major and `ir_recommended`, the
//! incident contacts and the IR provider are notified at once (never held
//! by the monitoring period), and an IR engagement record is opened.
//! Analysts may raise or clear the flag by hand with a reason, and move the
//! engagement on. Every change is in the activity log and the audit log.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::identity::{Permission, Principal};
use vigil_core::incident::IncidentId;
use vigil_core::major::{FiredCriterion, IrEngagement, IrStatus, MajorState};
use vigil_core::notification::{Audience, NewNotification, NotificationKind};
use vigil_core::task::TaskType;
use vigil_core::telemetry::StoredEvent;
use vigil_core::tenant::Tenant;
use vigil_core::{EntityKind, TenantId, Verdict};
use vigil_incidents::major::{EventFacts, MajorInput, evaluate};
use vigil_store::{IncidentActivity, IncidentRecord};

use crate::major_facts::facts_of;
use crate::{IncidentView, Result, Service, ServiceError};

/// Events around an incident the criteria read, besides its alerts'
/// evidence (file writes, privilege and domain-controller markers).
const AROUND_LIMIT: u32 = 2000;

/// The longest reason or note kept.
const MAX_REASON_CHARS: usize = 2000;

/// Events this long before and after an incident's activity are read.
const MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// An incident's evidence for its IR bundle, gathered from the store.
pub(crate) struct Gathered {
    /// Each alert's evidence events, by alert id.
    pub alert_events: BTreeMap<String, Vec<i64>>,
    /// Evidence events and the events around the incident, by seq.
    pub events: Vec<StoredEvent>,
}

/// An incident's alerts and the `seq`s of the events the criteria read.
struct Scope {
    record: IncidentRecord,
    alerts: Vec<vigil_core::alert::Alert>,
    alert_events: BTreeMap<String, Vec<i64>>,
    /// The alerts' evidence and the events around the incident's devices
    /// and users, ascending, each once.
    seqs: Vec<i64>,
}

impl Service {
    /// An incident's alerts, their evidence and the events around it, by
    /// `seq`.
    async fn scope(&self, tenant: TenantId, id: IncidentId) -> Result<Scope> {
        let (record, alert_ids, _) = self.stored_incident(tenant, id).await?;
        let mut alerts = Vec::with_capacity(alert_ids.len());
        let mut alert_events = BTreeMap::new();
        let mut seqs = BTreeSet::new();
        for a in alert_ids {
            if let Some((alert, events)) = self.store.alert(tenant, a).await? {
                seqs.extend(events.iter().copied());
                alert_events.insert(alert.id.to_string(), events);
                alerts.push(alert);
            }
        }
        let i = &record.incident;
        let keys: Vec<vigil_core::Entity> = i
            .entities
            .iter()
            .filter(|e| matches!(e.kind, EntityKind::Device | EntityKind::User))
            .cloned()
            .collect();
        if !keys.is_empty() {
            let from = i
                .first_activity
                .checked_sub(MARGIN)
                .unwrap_or(i.first_activity);
            let to = i
                .last_activity
                .checked_add(MARGIN)
                .unwrap_or(i.last_activity);
            seqs.extend(
                self.store
                    .seqs_with_entities(tenant, &keys, from, to, AROUND_LIMIT)
                    .await?,
            );
        }
        Ok(Scope {
            record,
            alerts,
            alert_events,
            seqs: seqs.into_iter().collect(),
        })
    }

    /// The stored events of `seqs`, in time order.
    async fn events_in_order(&self, tenant: TenantId, seqs: &[i64]) -> Result<Vec<StoredEvent>> {
        let mut events = Vec::new();
        for chunk in seqs.chunks(500) {
            events.extend(self.store.events_by_seq(tenant, chunk).await?);
        }
        events.sort_by_key(|e| (e.event.time, e.seq));
        Ok(events)
    }

    /// Gather an incident's alerts' evidence and the events around it.
    pub(crate) async fn gather(&self, tenant: TenantId, id: IncidentId) -> Result<Gathered> {
        let scope = self.scope(tenant, id).await?;
        let events = self.events_in_order(tenant, &scope.seqs).await?;
        Ok(Gathered {
            alert_events: scope.alert_events,
            events,
        })
    }

    /// The facts of those of `seqs` that carry signals (all the criteria
    /// read), in time order: those kept from an earlier evaluation or from
    /// detection, the others read and decoded now (and kept).
    async fn event_facts(&self, tenant: TenantId, seqs: &[i64]) -> Result<Vec<EventFacts>> {
        let (mut facts, mut missing) = self.major_facts.split(tenant, seqs);
        // Events intake committed and detection has yet to take: read from
        // their decoding, still in memory.
        let mut fresh: Vec<EventFacts> = {
            let cache = self
                .intake
                .decoded
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let mut fresh = Vec::new();
            missing.retain(|&seq| match cache.peek(tenant, seq) {
                Some((stored, decoded)) => {
                    fresh.push(EventFacts::read(seq, stored.event.time, &decoded.event));
                    false
                }
                None => true,
            });
            fresh
        };
        // The rest from the store.
        if !missing.is_empty() {
            let events = self.events_in_order(tenant, &missing).await?;
            let read = tokio::task::spawn_blocking(move || {
                events.iter().map(facts_of).collect::<Vec<_>>()
            })
            .await
            .map_err(|e| ServiceError::Conflict(format!("major-incident criteria: {e}")))?;
            fresh.extend(read);
        }
        self.major_facts
            .keep(fresh.iter().map(|f| (tenant, f.clone())));
        facts.extend(fresh.into_iter().filter(|f| !f.signals.is_empty()));
        facts.sort_by_key(|f| (f.time, f.seq));
        Ok(facts)
    }

    /// Run the criteria over incidents correlation just placed alerts in
    /// or merged.
    pub(crate) async fn evaluate_major(&self, tenant: TenantId, ids: &[IncidentId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let Some(t) = self.store.tenant_by_id(tenant).await? else {
            return Ok(());
        };
        for id in ids {
            self.major_checks.ran(*id);
            self.evaluate_one(&t, *id).await?;
        }
        Ok(())
    }

    /// Incidents whose alerts only grew (matched again): their criteria
    /// run at once if they have not run for [`GROWTH_RECHECK`], otherwise
    /// they are marked and run by [`Service::evaluate_deferred_major`].
    /// Under a steady stream nearly every detection round grows the same
    /// incidents; gathering their evidence each round made detection
    /// twenty times slower.
    pub(crate) async fn evaluate_major_grown(
        &self,
        tenant: TenantId,
        ids: &[IncidentId],
    ) -> Result<()> {
        let due = self.major_checks.due_or_defer(tenant, ids, GROWTH_RECHECK);
        self.evaluate_major(tenant, &due).await
    }

    /// Incidents correlation just placed new alerts in: their criteria run
    /// at once unless they ran within [`PLACEMENT_RECHECK`], when they are
    /// marked and run by [`Service::evaluate_deferred_major`] once that
    /// has passed. A new incident, or one quiet for a while, is evaluated
    /// with its first alert; under a steady stream, a large incident takes
    /// new alerts nearly every round, and gathering its evidence (thousands
    /// of events, decoded) for each took a quarter of the machine.
    pub(crate) async fn evaluate_major_placed(
        &self,
        tenant: TenantId,
        ids: &[IncidentId],
    ) -> Result<()> {
        let due = self
            .major_checks
            .due_or_defer(tenant, ids, PLACEMENT_RECHECK);
        self.evaluate_major(tenant, &due).await
    }

    /// Run the criteria over incidents deferred since they last ran:
    /// those whose last run is as old as their deferral asked
    /// ([`GROWTH_RECHECK`], [`PLACEMENT_RECHECK`]), or all of them with
    /// `force` (the end of a drain, so a command or test sees the final
    /// answer). An incident that has closed or merged away since is
    /// skipped.
    pub async fn evaluate_deferred_major(&self, force: bool) -> Result<()> {
        let due = self.major_checks.take_deferred(force);
        for (tenant, id) in due {
            if let Err(e) = self.evaluate_major(tenant, &[id]).await {
                match e {
                    ServiceError::NotFound { .. } => {}
                    other => return Err(other),
                }
            }
        }
        Ok(())
    }

    /// Run the criteria over one incident now (an analyst asking); returns
    /// the incident after.
    pub async fn evaluate_major_now(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        self.evaluate_one(&t, id).await?;
        self.incident(p, tenant, id).await
    }

    /// The criteria over one incident; records those that fire for the
    /// first time. Returns whether the incident became major.
    async fn evaluate_one(&self, t: &Tenant, id: IncidentId) -> Result<bool> {
        let scope = self.scope(t.id, id).await?;
        if !scope.record.incident.is_open() {
            return Ok(false);
        }
        let compromised = self.compromised_users(t.id, &scope.record).await?;
        let facts = self.event_facts(t.id, &scope.seqs).await?;
        let now = self.clock.now();
        let Scope {
            record,
            alerts,
            alert_events,
            ..
        } = scope;
        let fired = evaluate(
            MajorInput {
                incident: &record.incident,
                alerts: &alerts,
                alert_events: &alert_events,
                events: &facts,
                compromised_users: &compromised,
                thresholds: &t.settings.major,
            },
            now,
        );
        let mut state = record.major.clone().unwrap_or_else(|| MajorState {
            major: false,
            ir_recommended: false,
            criteria: Vec::new(),
            set_by: "system".into(),
            reason: None,
            changed_at: now,
        });
        let new: Vec<FiredCriterion> = fired
            .into_iter()
            .filter(|f| !state.has(f.criterion))
            .collect();
        if new.is_empty() {
            return Ok(false);
        }
        let was_major = state.major;
        state.criteria.extend(new.iter().cloned());
        state.major = true;
        state.ir_recommended = true;
        state.set_by = "system".into();
        state.reason = None;
        state.changed_at = now;
        let names: Vec<&str> = new.iter().map(|f| f.criterion.as_str()).collect();
        let activity: Vec<IncidentActivity> = new
            .iter()
            .map(|f| IncidentActivity {
                incident: id,
                at: now,
                actor: "system".into(),
                action: "major_criterion".into(),
                details: format!("{}: {}", f.criterion, f.summary),
            })
            .collect();
        let engagement = (!was_major && record.ir_engagement.is_none()).then(|| {
            IrEngagement::requested(now, t.settings.ir_provider.as_ref().map(|p| p.name.clone()))
        });
        let audit = AuditEntry::new(
            now,
            &Actor::System,
            "incident.major",
            Some(t.id),
            format!("incident:{id}"),
            json!({"major": true, "criteria": names, "ir_engagement_opened": engagement.is_some()}),
        );
        self.store
            .save_major(t.id, id, &state, engagement.as_ref(), &activity, audit)
            .await?;
        tracing::warn!(tenant = %t.slug, incident = %id, criteria = ?names, "major incident");
        if !was_major {
            self.notify_major(t, &record, &state).await?;
        }
        Ok(!was_major)
    }

    /// User accounts judged compromised: a `malicious` verdict, or a
    /// `mark_user_compromised` task on the incident not skipped.
    async fn compromised_users(&self, tenant: TenantId, r: &IncidentRecord) -> Result<Vec<String>> {
        let users: Vec<vigil_core::Entity> = r
            .incident
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::User)
            .cloned()
            .collect();
        let mut out: BTreeSet<String> = self
            .store
            .verdicts(tenant, &users)
            .await?
            .into_iter()
            .filter(|(e, v)| e.kind == EntityKind::User && *v == Verdict::Malicious)
            .map(|(e, _)| e.value.to_ascii_lowercase())
            .collect();
        for task in self.store.tasks(r.incident.id).await? {
            if task.kind == TaskType::MarkUserCompromised
                && task.status != vigil_core::task::TaskStatus::Skipped
                && let Some(t) = task.target.filter(|t| t.kind == EntityKind::User)
            {
                out.insert(t.value.to_ascii_lowercase());
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Tell the incident contacts and the IR provider, at once.
    async fn notify_major(&self, t: &Tenant, r: &IncidentRecord, state: &MajorState) -> Result<()> {
        let i = &r.incident;
        let mut body = format!(
            "Incident {} ({}) at {} meets the criteria of a major incident. It is outside the scope of managed detection and response: engage your incident-response provider now. Our experts keep giving containment guidance; recovery is the IR provider's.\n\n",
            i.id, i.title, t.name
        );
        for f in &state.criteria {
            body.push_str(&format!("- {}: {}\n", f.criterion, f.summary));
        }
        if let Some(reason) = &state.reason {
            body.push_str(&format!("\nReason given: {reason}\n"));
        }
        body.push_str(&format!(
            "\nThe IR handoff bundle: GET /api/v1/tenants/{}/incidents/{}/ir-bundle\n",
            t.slug, i.id
        ));
        self.notify(
            t,
            NewNotification {
                kind: NotificationKind::MajorIncident,
                audience: Audience::IncidentContactsAndIrProvider,
                subject: format!("Major incident at {}: {}", t.name, i.title),
                body,
                link: Some(format!("/tenants/{}/incidents/{}", t.slug, i.id)),
                incident: Some(i.id),
            },
        )
        .await?;
        Ok(())
    }

    /// Raise or clear the major flag by hand, with a reason. Raising opens
    /// an IR engagement (when none is open) and notifies at once.
    pub async fn set_major(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        major: bool,
        reason: &str,
    ) -> Result<IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        let reason = checked_text("reason", reason)?;
        let (record, _, _) = self.stored_incident(t.id, id).await?;
        let now = self.clock.now();
        let actor = p.actor().to_text();
        let mut state = record.major.clone().unwrap_or_else(|| MajorState {
            major: false,
            ir_recommended: false,
            criteria: Vec::new(),
            set_by: actor.clone(),
            reason: None,
            changed_at: now,
        });
        if state.major == major {
            return Err(ServiceError::Refused(format!(
                "incident {id} is already {}",
                if major { "major" } else { "not major" }
            )));
        }
        state.major = major;
        state.ir_recommended = major;
        state.set_by = actor.clone();
        state.reason = Some(reason.clone());
        state.changed_at = now;
        let reopen = record
            .ir_engagement
            .as_ref()
            .is_none_or(|e| e.status == IrStatus::Closed);
        let engagement = (major && reopen).then(|| {
            IrEngagement::requested(now, t.settings.ir_provider.as_ref().map(|p| p.name.clone()))
        });
        let activity = [IncidentActivity {
            incident: id,
            at: now,
            actor,
            action: if major {
                "major_raised"
            } else {
                "major_cleared"
            }
            .into(),
            details: reason.clone(),
        }];
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "incident.major",
            Some(t.id),
            format!("incident:{id}"),
            json!({"major": major, "reason": reason, "ir_engagement_opened": engagement.is_some()}),
        );
        self.store
            .save_major(t.id, id, &state, engagement.as_ref(), &activity, audit)
            .await?;
        if major {
            self.notify_major(&t, &record, &state).await?;
        }
        self.incident(p, tenant, id).await
    }

    /// Move the IR engagement on (`engaged`, `closed`) and/or add a note.
    pub async fn update_ir_engagement(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        to: Option<IrStatus>,
        note: Option<&str>,
    ) -> Result<IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        if to.is_none() && note.is_none() {
            return Err(ServiceError::Invalid(
                "an IR engagement change needs a status or a note".into(),
            ));
        }
        let note = note.map(|n| checked_text("note", n)).transpose()?;
        let (record, _, _) = self.stored_incident(t.id, id).await?;
        let (Some(mut engagement), Some(state)) = (record.ir_engagement.clone(), record.major)
        else {
            return Err(ServiceError::Refused(format!(
                "incident {id} has no IR engagement: it opens when the incident becomes major"
            )));
        };
        let now = self.clock.now();
        let actor = p.actor().to_text();
        let from = engagement.status;
        if let Some(to) = to {
            engagement
                .advance(to, now)
                .map_err(|e| ServiceError::Refused(e.to_string()))?;
        }
        if let Some(text) = &note {
            engagement.notes.push(vigil_core::major::IrNote {
                at: now,
                author: actor.clone(),
                text: text.clone(),
            });
        }
        let details = match (to, &note) {
            (Some(to), _) => format!("{from} → {to}"),
            (None, _) => "note added".to_owned(),
        };
        let activity = [IncidentActivity {
            incident: id,
            at: now,
            actor,
            action: "ir_engagement".into(),
            details,
        }];
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "incident.ir_engagement",
            Some(t.id),
            format!("incident:{id}"),
            json!({"from": from, "to": engagement.status, "note_characters": note.as_ref().map(|n| n.chars().count())}),
        );
        self.store
            .save_major(t.id, id, &state, Some(&engagement), &activity, audit)
            .await?;
        self.incident(p, tenant, id).await
    }
}

fn checked_text(what: &str, text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ServiceError::Invalid(format!("{what}: must not be blank")));
    }
    let n = text.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(ServiceError::Invalid(format!(
            "{what}: at most {MAX_REASON_CHARS} characters; this one has {n}"
        )));
    }
    Ok(text.to_owned())
}

/// How long an incident that only grew waits before its criteria run
/// again.
const GROWTH_RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// How long an incident that took new alerts waits before its criteria run
/// again (the first alert of an incident, or of a quiet one, runs them at
/// once).
const PLACEMENT_RECHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// When each incident's criteria last ran in this process, and the
/// incidents that grew since (in memory: after a restart the next growth
/// marks them again).
#[derive(Debug, Default)]
pub(crate) struct MajorChecks {
    inner: std::sync::Mutex<MajorChecksInner>,
}

#[derive(Debug, Default)]
struct MajorChecksInner {
    last: std::collections::HashMap<IncidentId, std::time::Instant>,
    /// Each deferred incident's tenant, and how long after its last run it
    /// is due (the shortest of the deferrals that marked it).
    deferred: BTreeMap<IncidentId, (TenantId, std::time::Duration)>,
}

impl MajorChecks {
    fn lock(&self) -> std::sync::MutexGuard<'_, MajorChecksInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn ran(&self, id: IncidentId) {
        let mut inner = self.lock();
        if inner.last.len() > 100_000 {
            inner.last.clear();
        }
        inner.last.insert(id, std::time::Instant::now());
        inner.deferred.remove(&id);
    }

    /// The incidents due now; the others are deferred.
    fn due_or_defer(
        &self,
        tenant: TenantId,
        ids: &[IncidentId],
        every: std::time::Duration,
    ) -> Vec<IncidentId> {
        let mut inner = self.lock();
        let mut due = Vec::new();
        for id in ids {
            if inner.last.get(id).is_some_and(|t| t.elapsed() < every) {
                inner
                    .deferred
                    .entry(*id)
                    .and_modify(|(_, after)| *after = (*after).min(every))
                    .or_insert((tenant, every));
            } else {
                due.push(*id);
            }
        }
        due
    }

    fn take_deferred(&self, force: bool) -> Vec<(TenantId, IncidentId)> {
        let mut inner = self.lock();
        let due: Vec<(TenantId, IncidentId)> = inner
            .deferred
            .iter()
            .filter(|(id, (_, after))| {
                force || inner.last.get(*id).is_none_or(|t| t.elapsed() >= *after)
            })
            .map(|(id, (tenant, _))| (*tenant, *id))
            .collect();
        for (_, id) in &due {
            inner.deferred.remove(id);
        }
        due
    }
}

#[cfg(test)]
mod checks_tests {
    use super::*;

    #[test]
    fn growth_within_the_interval_is_deferred_and_forced_out_at_the_end() {
        let checks = MajorChecks::default();
        let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().expect("time");
        let tenant = TenantId::new_at(at);
        let id = IncidentId::new_at(at);
        let long = std::time::Duration::from_secs(3600);
        assert_eq!(checks.due_or_defer(tenant, &[id], long), vec![id]);
        checks.ran(id);
        assert!(checks.due_or_defer(tenant, &[id], long).is_empty());
        assert!(checks.take_deferred(false).is_empty());
        assert_eq!(checks.take_deferred(true), vec![(tenant, id)]);
        assert!(checks.take_deferred(true).is_empty());
    }

    #[test]
    fn a_deferral_is_due_after_the_shortest_interval_that_marked_it() {
        let checks = MajorChecks::default();
        let at: jiff::Timestamp = "2026-11-27T09:00:00Z".parse().expect("time");
        let tenant = TenantId::new_at(at);
        let id = IncidentId::new_at(at);
        let secs = std::time::Duration::from_secs;
        let ran_ago = |ago: u64| {
            let when = std::time::Instant::now()
                .checked_sub(secs(ago))
                .expect("the clock is past boot");
            checks.lock().last.insert(id, when);
        };
        ran_ago(5);
        assert!(checks.due_or_defer(tenant, &[id], secs(3600)).is_empty());
        assert!(checks.due_or_defer(tenant, &[id], secs(10)).is_empty());
        assert!(
            checks.take_deferred(false).is_empty(),
            "ran 5 s ago, due after 10"
        );
        ran_ago(15);
        assert_eq!(checks.take_deferred(false), vec![(tenant, id)]);
        ran_ago(15);
        assert_eq!(
            checks.due_or_defer(tenant, &[id], secs(10)),
            vec![id],
            "past the interval it runs at once"
        );
    }
}
