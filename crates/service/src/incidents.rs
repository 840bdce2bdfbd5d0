//! Incidents: alerts grouped as they arrive (`vigil-incidents` decides,
//! the store keeps), and reading them.

use std::collections::BTreeMap;

use vigil_core::alert::{Alert, AlertFilter};
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Permission, Principal};
use vigil_core::incident::{
    Classification, Determination, IncidentStatus, Tag, check_determination, check_status,
};
use vigil_core::incident::{Incident, IncidentId};
use vigil_core::{TenantId, Timestamp};
use vigil_incidents::{CorrelationConfig, Prevalence, Target, apply, place};
use vigil_store::{IncidentActivity, IncidentComment, IncidentFilter, IncidentRecord};

use crate::{Result, Service, ServiceError};

/// The activity log's action for an internal comment (hidden from
/// customer roles with the comment).
const INTERNAL_COMMENT: &str = "internal_comment";

/// Alerts grouped per round.
const ROUND: u32 = 1000;

/// The most incidents one page holds.
pub const MAX_INCIDENT_PAGE: u32 = 200;

/// One incident as read: its record, its alerts, its activity log and
/// comments.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub record: IncidentRecord,
    pub alerts: Vec<Alert>,
    pub activity: Vec<IncidentActivity>,
    pub comments: Vec<IncidentComment>,
    /// Analysts' verdicts on its entities (others are unknown).
    pub verdicts: Vec<(vigil_core::Entity, vigil_core::Verdict)>,
}

/// An analyst's change to an incident; `None`: leave as is. For the
/// optional fields, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct IncidentChange {
    pub status: Option<IncidentStatus>,
    /// `analyst:EMAIL`, `experts` (the queue) or `customer`.
    pub assigned_to: Option<Option<String>>,
    pub classification: Option<Option<Classification>>,
    pub determination: Option<Option<Determination>>,
    pub severity: Option<Option<vigil_core::Severity>>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
}

fn check_assignee(a: &str) -> Result<()> {
    let ok = a == "experts"
        || a == "customer"
        || a.strip_prefix("analyst:")
            .is_some_and(|e| vigil_core::tenant::validate_email(e).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "assigned_to {a:?}: expected analyst:EMAIL, experts or customer"
        )))
    }
}

impl Service {
    /// Place every alert no incident holds yet. Returns how many were
    /// placed. Run after each detection round; an interrupted run leaves
    /// alerts unplaced, and the next run places them.
    pub async fn correlate_alerts(&self) -> Result<u64> {
        let mut placed_total = 0;
        loop {
            let alerts = self.store.alerts_without_incident(ROUND).await?;
            if alerts.is_empty() {
                return Ok(placed_total);
            }
            let mut by_tenant: BTreeMap<TenantId, Vec<Alert>> = BTreeMap::new();
            for a in alerts {
                by_tenant.entry(a.tenant_id).or_default().push(a);
            }
            for (tenant, alerts) in by_tenant {
                placed_total += self.correlate_tenant(tenant, alerts).await?;
            }
        }
    }

    /// How widely each entity is seen: from the tenant's alerts around
    /// these.
    async fn prevalence(
        &self,
        tenant: TenantId,
        alerts: &[Alert],
        config: &CorrelationConfig,
    ) -> Result<Prevalence> {
        let since = alerts
            .iter()
            .map(|a| a.first_activity)
            .min()
            .and_then(|t| t.checked_sub(config.window).ok());
        let recent = self
            .store
            .list_alerts(
                tenant,
                &AlertFilter {
                    since,
                    limit: 5000,
                    ..Default::default()
                },
            )
            .await?;
        Ok(Prevalence::observe(
            recent.iter().map(|a| a.entities.as_slice()),
        ))
    }

    /// Alerts already in an incident that matched again (their activity
    /// grew): refresh their incident's summary without counting them twice,
    /// and merge whatever they now link to.
    pub(crate) async fn refresh_grown(&self, touched: &[vigil_core::alert::AlertId]) -> Result<()> {
        let grown: Vec<Alert> = self
            .store
            .alerts_by_id(touched)
            .await?
            .into_iter()
            .filter(|a| a.incident_id.is_some())
            .collect();
        let mut by_tenant: BTreeMap<TenantId, Vec<Alert>> = BTreeMap::new();
        for a in grown {
            by_tenant.entry(a.tenant_id).or_default().push(a);
        }
        for (tenant, alerts) in by_tenant {
            let config = self.correlation_config(tenant).await?;
            let now = self.clock.now();
            // First without the prevalence, which takes reading the
            // tenant's recent alerts: see `follow_grown`.
            let incidents = self.store.open_incidents(tenant).await?;
            let followed = match follow_grown(&alerts, incidents, None, &config, now)? {
                Some(f) => f,
                None => {
                    let incidents = self.store.open_incidents(tenant).await?;
                    let prevalence = self.prevalence(tenant, &alerts, &config).await?;
                    follow_grown(&alerts, incidents, Some(&prevalence), &config, now)?.ok_or_else(
                        || ServiceError::Conflict("incident correlation stopped short".into()),
                    )?
                }
            };
            let Followed {
                incidents,
                touched: mut touched_incidents,
                activity,
            } = followed;
            touched_incidents.sort();
            touched_incidents.dedup();
            let changed: Vec<_> = incidents
                .into_iter()
                .filter(|i| touched_incidents.binary_search(&i.id).is_ok())
                .collect();
            if !changed.is_empty() {
                self.store
                    .save_correlation(&changed, &[], &activity, now, None)
                    .await?;
                self.publish_correlation(&changed, &activity);
            }
            if activity.is_empty() {
                self.evaluate_major_grown(tenant, &touched_incidents)
                    .await?;
            } else {
                // Merged: the alert set changed.
                self.evaluate_major(tenant, &touched_incidents).await?;
            }
        }
        Ok(())
    }

    /// The tenant's correlation settings (its incident window).
    async fn correlation_config(&self, tenant: TenantId) -> Result<CorrelationConfig> {
        let hours = self
            .store
            .tenant_by_id(tenant)
            .await?
            .map_or(24, |t| t.settings.incident_window_hours);
        Ok(
            CorrelationConfig::with_window(jiff::SignedDuration::from_hours(i64::from(hours)))
                .unwrap_or_default(),
        )
    }

    async fn correlate_tenant(&self, tenant: TenantId, alerts: Vec<Alert>) -> Result<u64> {
        let config = self.correlation_config(tenant).await?;
        let mut incidents = self.store.open_incidents(tenant).await?;
        let prevalence = self.prevalence(tenant, &alerts, &config).await?;
        let now = self.clock.now();
        let mut placed = Vec::with_capacity(alerts.len());
        let mut activity = Vec::new();
        let mut touched: Vec<IncidentId> = Vec::new();
        for alert in &alerts {
            let placement = place(alert, &incidents, &prevalence, &config);
            let fresh = IncidentId::new_at(now);
            let target = apply(&mut incidents, alert, &placement, fresh)
                .map_err(|e| ServiceError::Conflict(format!("incident correlation: {e}")))?;
            placed.push((alert.id, target));
            let action = match placement.target {
                Target::New => "opened",
                Target::Existing(_) => "alert_added",
            };
            activity.push(entry(
                target,
                now,
                action,
                &format!(
                    "alert {} ({}): {}",
                    alert.id, alert.rule_title, placement.reason
                ),
            ));
            note_merges(&placement, target, now, &mut activity, &mut touched);
            touched.push(target);
        }
        touched.sort();
        touched.dedup();
        let changed: Vec<_> = incidents
            .into_iter()
            .filter(|i| touched.binary_search(&i.id).is_ok())
            .collect();
        self.store
            .save_correlation(&changed, &placed, &activity, now, None)
            .await?;
        self.publish_correlation(&changed, &activity);
        self.evaluate_major_placed(tenant, &touched).await?;
        metrics::counter!("vigil_incident_alerts_placed_total").increment(placed.len() as u64);
        Ok(placed.len() as u64)
    }

    /// A tenant's incidents, newest activity first.
    pub async fn list_incidents(
        &self,
        p: &Principal,
        tenant: &str,
        mut filter: IncidentFilter,
    ) -> Result<Vec<IncidentRecord>> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        filter.limit = filter.limit.clamp(1, MAX_INCIDENT_PAGE);
        Ok(self.store.list_incidents(tenant.id, &filter).await?)
    }

    /// A tenant's stored incident with its alert ids and activity log, or
    /// "not found": the lookup every incident use case starts from (after
    /// authorising).
    pub(crate) async fn stored_incident(
        &self,
        tenant: TenantId,
        id: IncidentId,
    ) -> Result<(
        IncidentRecord,
        Vec<vigil_core::alert::AlertId>,
        Vec<IncidentActivity>,
    )> {
        self.store
            .incident(tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "incident",
                key: id.to_string(),
            })
    }

    /// One incident with its alerts and activity log.
    pub async fn incident(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<IncidentView> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        let (record, alert_ids, activity) = self.stored_incident(tenant.id, id).await?;
        let mut alerts = Vec::with_capacity(alert_ids.len());
        for a in alert_ids {
            if let Some((alert, _)) = self.store.alert(tenant.id, a).await? {
                alerts.push(alert);
            }
        }
        let mut comments = self.store.comments(id).await?;
        let mut activity = activity;
        if !crate::authz::is_provider_side(p) {
            // The experts' internal notes, and their trace in the log,
            // never reach the customer.
            comments.retain(|c| !c.internal);
            activity.retain(|a| a.action != INTERNAL_COMMENT);
        }
        let verdicts = self
            .store
            .verdicts(tenant.id, &record.incident.entities)
            .await?;
        Ok(IncidentView {
            record,
            alerts,
            activity,
            comments,
            verdicts,
        })
    }

    /// Triage: change status, assignment, classification and
    /// determination, severity or tags. A move the lifecycle forbids is
    /// refused (409) and a determination outside its classification is
    /// invalid (400), each naming why. Resolving resolves its alerts.
    /// Every change is in the activity log (from → to) and the audit log.
    pub async fn update_incident(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        change: IncidentChange,
    ) -> Result<IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        let (mut record, _, _) = self.stored_incident(t.id, id).await?;
        let expected = record.version;
        let now = self.clock.now();
        let actor = p.actor().to_text();
        let mut log: Vec<IncidentActivity> = Vec::new();
        let note = |log: &mut Vec<IncidentActivity>, action: &str, from: String, to: String| {
            log.push(IncidentActivity {
                incident: id,
                at: now,
                actor: actor.clone(),
                action: action.to_owned(),
                details: format!("{from} → {to}"),
            });
        };
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let mut resolve = false;
        if let Some(to) = change.status {
            let from = record.incident.status;
            check_status(from, to).map_err(|e| ServiceError::Refused(e.to_string()))?;
            record.incident.status = to;
            resolve = to == IncidentStatus::Resolved;
            note(&mut log, "status", from.to_string(), to.to_string());
        }
        if let Some(to) = change.assigned_to {
            if let Some(a) = &to {
                check_assignee(a)?;
            }
            note(
                &mut log,
                "assigned_to",
                show(&record.assigned_to),
                show(&to),
            );
            record.assigned_to = to;
        }
        let classification = match change.classification {
            Some(c) => c,
            None => record
                .classification
                .as_deref()
                .and_then(|c| c.parse().ok()),
        };
        let determination = match change.determination {
            Some(d) => d,
            None => record.determination.as_deref().and_then(|d| d.parse().ok()),
        };
        check_determination(classification, determination)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let c_text = classification.map(|c| c.as_str().to_owned());
        if c_text != record.classification {
            note(
                &mut log,
                "classification",
                show(&record.classification),
                show(&c_text),
            );
            record.classification = c_text;
        }
        let d_text = determination.map(|d| d.as_str().to_owned());
        if d_text != record.determination {
            note(
                &mut log,
                "determination",
                show(&record.determination),
                show(&d_text),
            );
            record.determination = d_text;
        }
        if let Some(to) = change.severity {
            let from = record.incident.severity();
            record.incident.analyst_severity = to;
            note(
                &mut log,
                "severity",
                from.to_string(),
                record.incident.severity().to_string(),
            );
        }
        for tag in &change.add_tags {
            let tag = Tag::parse(tag).map_err(|e| ServiceError::Invalid(e.to_string()))?;
            let mut tags: Vec<Tag> = record
                .tags
                .iter()
                .filter_map(|t| Tag::parse(t).ok())
                .collect();
            if vigil_core::incident::add_tag(&mut tags, tag.clone())
                .map_err(|e| ServiceError::Invalid(e.to_string()))?
            {
                note(
                    &mut log,
                    "tag_added",
                    String::new(),
                    tag.as_str().to_owned(),
                );
                record.tags = tags.iter().map(|t| t.as_str().to_owned()).collect();
            }
        }
        for tag in &change.remove_tags {
            let before = record.tags.len();
            record.tags.retain(|t| !t.eq_ignore_ascii_case(tag));
            if record.tags.len() == before {
                return Err(ServiceError::Invalid(format!(
                    "the incident has no tag {tag:?}"
                )));
            }
            note(&mut log, "tag_removed", tag.clone(), String::new());
        }
        if log.is_empty() {
            return Err(ServiceError::Invalid("no change given".into()));
        }
        record.updated_at = now;
        let changes: Vec<(String, String)> = log
            .iter()
            .map(|a| (a.action.clone(), a.details.clone()))
            .collect();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "incident.update",
            Some(t.id),
            format!("incident:{id}"),
            serde_json::json!({ "changes": changes }),
        );
        self.store
            .update_incident(&record, expected, &log, resolve, audit)
            .await?;
        self.publish(crate::LiveEvent::incident(t.id, id));
        self.raise_for_incident(&t, &record).await;
        self.incident(p, tenant, id).await
    }

    /// Merge incident `from` into incident `id` by hand: the older of the
    /// two survives and the other is `redirected` to it, its alerts moving
    /// along. Merging the same two again changes nothing.
    pub async fn merge_incidents(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        from: IncidentId,
    ) -> Result<IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        let load = |i: IncidentId| async move {
            self.store
                .incident(t.id, i)
                .await?
                .map(|(r, _, _)| r.incident)
                .ok_or_else(|| ServiceError::NotFound {
                    what: "incident",
                    key: i.to_string(),
                })
        };
        let mut a = load(id).await?;
        let mut b = load(from).await?;
        let merged = vigil_incidents::merge(&mut a, &mut b)
            .map_err(|e| ServiceError::Refused(e.to_string()))?;
        if merged.changed {
            let now = self.clock.now();
            let actor = p.actor().to_text();
            let activity = vec![
                IncidentActivity {
                    incident: merged.survivor,
                    at: now,
                    actor: actor.clone(),
                    action: "merged".into(),
                    details: format!(
                        "incident {} merged into this one by hand",
                        merged.redirected
                    ),
                },
                IncidentActivity {
                    incident: merged.redirected,
                    at: now,
                    actor,
                    action: "merged_into".into(),
                    details: format!("merged into incident {} by hand", merged.survivor),
                },
            ];
            let audit = AuditEntry::new(
                now,
                &p.actor(),
                "incident.merge",
                Some(t.id),
                format!("incident:{}", merged.survivor),
                serde_json::json!({"survivor": merged.survivor, "redirected": merged.redirected}),
            );
            let both = [a, b];
            self.store
                .save_correlation(&both, &[], &activity, now, Some(audit))
                .await?;
            self.publish_correlation(&both, &activity);
        }
        self.incident(p, tenant, merged.survivor).await
    }

    /// An analyst's verdict on one of the tenant's entities (it shows in
    /// every incident naming the entity).
    pub async fn set_verdict(
        &self,
        p: &Principal,
        tenant: &str,
        entity: &vigil_core::Entity,
        verdict: vigil_core::Verdict,
    ) -> Result<()> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        let now = self.clock.now();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "entity.verdict",
            Some(t.id),
            format!("entity:{entity}"),
            serde_json::json!({"verdict": verdict}),
        );
        self.store
            .set_verdict(t.id, entity, verdict, &p.actor().to_text(), now, audit)
            .await?;
        Ok(())
    }

    /// Move an alert from its incident into incident `id` by hand. The
    /// incident it leaves is rebuilt from the alerts it keeps; one left
    /// with none is redirected to `id`.
    pub async fn move_alert(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        alert: vigil_core::alert::AlertId,
    ) -> Result<IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        let (moving, _) =
            self.store
                .alert(t.id, alert)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "alert",
                    key: alert.to_string(),
                })?;
        let (target, _, _) = self.stored_incident(t.id, id).await?;
        let mut target = target.incident;
        if !target.is_open() {
            return Err(ServiceError::Refused(format!(
                "incident {id} is {}: alerts move only into open incidents",
                target.status
            )));
        }
        let from: Option<IncidentId> = moving.incident_id.as_deref().and_then(|s| s.parse().ok());
        if from == Some(id) {
            return Err(ServiceError::Refused(format!(
                "alert {alert} is already in incident {id}"
            )));
        }
        let now = self.clock.now();
        let actor = p.actor().to_text();
        let mut changed = Vec::new();
        let mut activity = Vec::new();
        if let Some(from) = from
            && let Some((source, kept, _)) = self.store.incident(t.id, from).await?
        {
            let kept: Vec<Alert> = self
                .store
                .alerts_by_id(&kept.into_iter().filter(|a| *a != alert).collect::<Vec<_>>())
                .await?;
            let mut rebuilt = vigil_incidents::rebuild(&source.incident, &kept)
                .map_err(|e| ServiceError::Conflict(format!("incident correlation: {e}")))?;
            if kept.is_empty() {
                rebuilt.status = IncidentStatus::Redirected;
                rebuilt.redirected_to = Some(id);
            }
            activity.push(IncidentActivity {
                incident: from,
                at: now,
                actor: actor.clone(),
                action: "alert_moved_out".into(),
                details: format!(
                    "alert {alert} ({}) moved to incident {id} by hand",
                    moving.rule_title
                ),
            });
            changed.push(rebuilt);
        }
        vigil_incidents::absorb(&mut target, &moving)
            .map_err(|e| ServiceError::Conflict(format!("incident correlation: {e}")))?;
        activity.push(IncidentActivity {
            incident: id,
            at: now,
            actor,
            action: "alert_moved_in".into(),
            details: format!("alert {alert} ({}) moved here by hand", moving.rule_title),
        });
        changed.push(target);
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "incident.move_alert",
            Some(t.id),
            format!("incident:{id}"),
            serde_json::json!({"alert": alert, "from": from, "to": id}),
        );
        self.store
            .save_correlation(&changed, &[(alert, id)], &activity, now, Some(audit))
            .await?;
        self.publish_correlation(&changed, &activity);
        self.incident(p, tenant, id).await
    }

    /// Comment on an incident (up to 30,000 characters), for the customer
    /// and the experts to see.
    pub async fn comment_incident(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        text: &str,
    ) -> Result<IncidentComment> {
        self.add_comment(p, tenant, id, text, false).await
    }

    /// Comment on an incident; an `internal` comment is the experts' own
    /// note: only provider roles may write one, and customer roles never
    /// see it (nor its entry in the activity log).
    pub async fn add_comment(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        text: &str,
        internal: bool,
    ) -> Result<IncidentComment> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::CommentIncidents, Some(&t), false)
            .await?;
        if internal && !crate::authz::is_provider_side(p) {
            return Err(ServiceError::Forbidden(
                "write internal comments (the experts' own notes)",
            ));
        }
        let body = vigil_core::incident::CommentText::parse(text)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        if self.store.incident(t.id, id).await?.is_none() {
            return Err(ServiceError::NotFound {
                what: "incident",
                key: id.to_string(),
            });
        }
        let now = self.clock.now();
        let mut comment = IncidentComment {
            id: 0,
            incident: id,
            at: now,
            author: p.actor().to_text(),
            body: body.as_str().to_owned(),
            internal,
        };
        let activity = IncidentActivity {
            incident: id,
            at: now,
            actor: comment.author.clone(),
            action: if internal {
                INTERNAL_COMMENT
            } else {
                "comment"
            }
            .into(),
            details: format!("{} characters", comment.body.chars().count()),
        };
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "incident.comment",
            Some(t.id),
            format!("incident:{id}"),
            serde_json::json!({"characters": comment.body.chars().count(), "internal": internal}),
        );
        comment.id = self.store.add_comment(&comment, &activity, audit).await?;
        let kind = if internal {
            crate::LiveKind::InternalComment
        } else {
            crate::LiveKind::Comment
        };
        self.publish(crate::LiveEvent::new(t.id, kind, comment.id, Some(id)));
        self.acknowledged_by_action(p, &t, id, vigil_core::sla::StopReason::Comment)
            .await?;
        Ok(comment)
    }

    /// An incident's comments as the caller may see them: customer roles
    /// never get the experts' internal ones.
    pub async fn incident_comments(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<Vec<IncidentComment>> {
        Ok(self.incident(p, tenant, id).await?.comments)
    }
}

/// Log the merges a placement made into `target` on both sides, and mark
/// the incidents merged away as changed.
/// What following grown alerts did (see [`follow_grown`]).
struct Followed {
    /// The open incidents, changed in memory.
    incidents: Vec<Incident>,
    touched: Vec<IncidentId>,
    /// Merges, for the incidents' activity logs.
    activity: Vec<IncidentActivity>,
}

/// Follow grown `alerts` (each already in an incident) in `incidents`:
/// refresh each alert's incident and merge whatever the alert now links
/// to (`Service::refresh_grown`).
///
/// `prevalence` only ever makes entities too common to link, never the
/// reverse; without it an alert links to every incident it would link to
/// with it, and maybe more. So when, without it, no alert links beyond the
/// incident it is in, each step only refreshes that incident, as it would
/// with the prevalence, and the outcome is the same. Without a
/// prevalence, then, this answers `None` at the first alert that links
/// further, and the caller runs it again with the prevalence.
fn follow_grown(
    alerts: &[Alert],
    mut incidents: Vec<Incident>,
    prevalence: Option<&Prevalence>,
    config: &CorrelationConfig,
    now: Timestamp,
) -> Result<Option<Followed>> {
    let none = Prevalence::new(0);
    let mut touched = Vec::new();
    let mut activity = Vec::new();
    for alert in alerts {
        let Some(home) = alert
            .incident_id
            .as_deref()
            .and_then(|h| h.parse::<IncidentId>().ok())
        else {
            continue;
        };
        if !incidents.iter().any(|i| i.id == home) {
            // Resolved or merged away: its summary stays as closed.
            continue;
        }
        let placement = place(alert, &incidents, prevalence.unwrap_or(&none), config);
        if prevalence.is_none() && placement.links.iter().any(|l| l.incident != home) {
            return Ok(None);
        }
        let target = vigil_incidents::apply_update(&mut incidents, alert, &placement, home)
            .map_err(|e| ServiceError::Conflict(format!("incident correlation: {e}")))?;
        touched.push(home);
        touched.push(target);
        note_merges(&placement, target, now, &mut activity, &mut touched);
    }
    Ok(Some(Followed {
        incidents,
        touched,
        activity,
    }))
}

fn note_merges(
    placement: &vigil_incidents::Placement,
    target: IncidentId,
    now: Timestamp,
    activity: &mut Vec<IncidentActivity>,
    touched: &mut Vec<IncidentId>,
) {
    for merged in placement.merge.iter().filter(|m| **m != target) {
        activity.push(entry(
            target,
            now,
            "merged",
            &format!(
                "incident {merged} merged into this one: {}",
                placement.reason
            ),
        ));
        activity.push(entry(
            *merged,
            now,
            "merged_into",
            &format!("merged into incident {target}: {}", placement.reason),
        ));
        touched.push(*merged);
    }
}

fn entry(incident: IncidentId, at: Timestamp, action: &str, details: &str) -> IncidentActivity {
    IncidentActivity {
        incident,
        at,
        actor: "system".to_owned(),
        action: action.to_owned(),
        details: details.to_owned(),
    }
}

/// Events this long before and after an incident's activity belong to
/// its timeline.
const TIMELINE_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// One process started on a device, with the processes it started.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessNode {
    pub device: Option<String>,
    pub time: Timestamp,
    /// Sysmon's ProcessGuid, else the process id.
    pub key: String,
    pub parent_key: Option<String>,
    pub image: Option<String>,
    pub command_line: Option<String>,
    pub user: Option<String>,
    pub parent_image: Option<String>,
    pub children: Vec<ProcessNode>,
}

/// A process-creation event (Sysmon 1 or Security 4688) as a node.
fn process_node(e: &vigil_core::telemetry::StoredEvent) -> Option<ProcessNode> {
    let decoded = vigil_formats::decode_record(e.event.raw.as_bytes())
        .ok()?
        .pop()?;
    let f = &decoded.event;
    let get = |n: &str| {
        f.get(n)
            .filter(|v| !v.is_empty() && *v != "-")
            .map(str::to_owned)
    };
    let (key, parent, image, parent_image, user) = match (f.event_id()?, f.channel()?) {
        (1, c) if c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational") => (
            get("ProcessGuid").or_else(|| get("ProcessId"))?,
            get("ParentProcessGuid").or_else(|| get("ParentProcessId")),
            get("Image"),
            get("ParentImage"),
            get("User"),
        ),
        (4688, c) if c.eq_ignore_ascii_case("Security") => (
            get("NewProcessId")?,
            get("ProcessId"),
            get("NewProcessName"),
            get("ParentProcessName"),
            get("SubjectUserName"),
        ),
        _ => return None,
    };
    Some(ProcessNode {
        device: f.computer().map(|c| c.to_ascii_lowercase()),
        time: e.event.time,
        key,
        parent_key: parent,
        image,
        command_line: get("CommandLine"),
        user,
        parent_image,
        children: Vec::new(),
    })
}

/// Nest nodes under their parents (by device and key); the rest are roots.
fn nest(mut nodes: Vec<ProcessNode>) -> Vec<ProcessNode> {
    nodes.sort_by_key(|n| std::cmp::Reverse(n.time));
    // Children first (latest first), each moved under its parent if known.
    let mut i = 0;
    while i < nodes.len() {
        let parent = nodes[i].parent_key.clone();
        let device = nodes[i].device.clone();
        let found = parent.and_then(|p| {
            nodes
                .iter()
                .enumerate()
                .position(|(j, n)| j != i && n.key == p && n.device == device)
        });
        match found {
            Some(j) => {
                let child = nodes.remove(i);
                let j = if j > i { j - 1 } else { j };
                nodes[j].children.push(child);
            }
            None => i += 1,
        }
    }
    fn order(n: &mut ProcessNode) {
        n.children.sort_by_key(|c| c.time);
        n.children.iter_mut().for_each(order);
    }
    nodes.iter_mut().for_each(order);
    nodes.sort_by_key(|n| n.time);
    nodes
}

impl Service {
    /// Stored events naming the incident's key entities, from an hour
    /// before its first activity to an hour after its last, in time order.
    pub async fn incident_timeline(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        limit: u32,
    ) -> Result<Vec<vigil_core::telemetry::StoredEvent>> {
        let view = self.incident(p, tenant, id).await?;
        let t = self.load_tenant(tenant).await?;
        let i = &view.record.incident;
        let keys: Vec<vigil_core::Entity> = i
            .links
            .iter()
            .map(|l| l.entity.clone())
            .chain(i.entities.iter().cloned())
            .filter(|e| vigil_incidents::is_key_kind(e.kind))
            .collect();
        let from = i
            .first_activity
            .checked_sub(TIMELINE_MARGIN)
            .unwrap_or(i.first_activity);
        let to = i
            .last_activity
            .checked_add(TIMELINE_MARGIN)
            .unwrap_or(i.last_activity);
        Ok(self
            .store
            .events_with_entities(t.id, &keys, from, to, limit.clamp(1, 5000))
            .await?)
    }

    /// The processes started on the incident's devices around it, as trees
    /// (Sysmon process creation, or Security 4688 on hosts without Sysmon).
    pub async fn incident_process_tree(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<Vec<ProcessNode>> {
        let events = self.incident_timeline(p, tenant, id, 5000).await?;
        let nodes = tokio::task::spawn_blocking(move || {
            nest(events.iter().filter_map(process_node).collect())
        })
        .await
        .map_err(|e| ServiceError::Conflict(format!("process tree: {e}")))?;
        Ok(nodes)
    }

    /// Incidents of the tenant, in any status, sharing a key entity with
    /// this one.
    pub async fn related_incidents(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<Vec<IncidentRecord>> {
        let view = self.incident(p, tenant, id).await?;
        let t = self.load_tenant(tenant).await?;
        let mine: Vec<&vigil_core::Entity> = view
            .record
            .incident
            .entities
            .iter()
            .filter(|e| vigil_incidents::is_key_kind(e.kind))
            .collect();
        let all = self
            .store
            .list_incidents(
                t.id,
                &IncidentFilter {
                    include_redirected: true,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|r| r.incident.id != id)
            .filter(|r| r.incident.entities.iter().any(|e| mine.contains(&e)))
            .collect())
    }
}
