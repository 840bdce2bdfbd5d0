//! Investigation summaries: drafted from the evidence, edited by analysts,
//! published as versions. Customer roles see published versions only.

use vigil_core::EntityKind;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Permission, Principal};
use vigil_core::incident::IncidentId;
use vigil_core::summary::{Summary, SummaryVersion};

use crate::incidents::IncidentView;
use crate::{Result, Service, ServiceError};

/// What a caller may see of an incident's summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SummaryView {
    /// The latest version the caller may see.
    pub current: SummaryVersion,
    /// Every version the caller may see, oldest first.
    pub versions: Vec<SummaryVersion>,
}

fn names(view: &IncidentView, kind: EntityKind) -> Vec<String> {
    view.record
        .incident
        .entities
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.value.clone())
        .collect()
}

/// A first draft from the evidence: what the alerts say happened, where,
/// when and to whom; the earliest alert as the lead to the root cause; each
/// distinct rule's first activity as a timeline highlight; network and file
/// indicators. The analyst rewrites it before publishing.
pub fn draft_from(view: &IncidentView) -> Summary {
    let i = &view.record.incident;
    let devices = names(view, EntityKind::Device);
    let users = names(view, EntityKind::User);
    let mut alerts = view.alerts.clone();
    alerts.sort_by_key(|a| a.first_activity);
    let mut rules: Vec<(String, vigil_core::Timestamp)> = Vec::new();
    for a in &alerts {
        if !rules.iter().any(|(t, _)| *t == a.rule_title) {
            rules.push((a.rule_title.clone(), a.first_activity));
        }
    }
    let list = |v: &[String]| match v.len() {
        0 => "none identified".to_owned(),
        1..=5 => v.join(", "),
        n => format!("{} and {} more", v[..5].join(", "), n - 5),
    };
    let what = format!(
        "{} alert{} ({}) between {} and {}{}.",
        i.alert_count,
        if i.alert_count == 1 { "" } else { "s" },
        rules
            .iter()
            .take(5)
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        i.first_activity,
        i.last_activity,
        if i.tactics.is_empty() {
            String::new()
        } else {
            format!(", showing {}", i.tactics.join(", ").replace('_', " "))
        }
    );
    let scope = format!("Devices: {}. Users: {}.", list(&devices), list(&users));
    let root = alerts.first().map_or_else(String::new, |a| {
        format!(
            "To be confirmed. The earliest activity is \"{}\" at {}.",
            a.rule_title, a.first_activity
        )
    });
    let indicators = i
        .entities
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EntityKind::Ip | EntityKind::Domain | EntityKind::Url | EntityKind::FileHash
            )
        })
        .map(ToString::to_string)
        .collect();
    Summary {
        what_happened: what,
        scope_and_impact: scope,
        root_cause: root,
        timeline_highlights: rules
            .iter()
            .take(20)
            .map(|(t, at)| format!("{at}: {t}"))
            .collect(),
        indicators,
        expert_actions: Vec::new(),
        customer_actions: Vec::new(),
    }
}

impl Service {
    /// Save a draft made from the incident's evidence.
    pub async fn draft_summary(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<SummaryVersion> {
        let view = self.incident(p, tenant, id).await?;
        self.save_summary(p, tenant, id, draft_from(&view), false)
            .await
    }

    /// Save a version of the summary: a draft, or published for the
    /// customer to see.
    pub async fn save_summary(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
        summary: Summary,
        publish: bool,
    ) -> Result<SummaryVersion> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        summary.validate().map_err(ServiceError::Invalid)?;
        if self.store.incident(t.id, id).await?.is_none() {
            return Err(ServiceError::NotFound {
                what: "incident",
                key: id.to_string(),
            });
        }
        let now = self.clock.now();
        let author = p.actor().to_text();
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            if publish {
                "summary.publish"
            } else {
                "summary.draft"
            },
            Some(t.id),
            format!("incident:{id}"),
            serde_json::json!({}),
        );
        let version = self
            .store
            .save_summary(id, &summary, publish, &author, now, audit)
            .await?;
        Ok(SummaryVersion {
            incident: id,
            version,
            published: publish,
            summary,
            author,
            at: now,
        })
    }

    /// Publish the latest version as it stands.
    pub async fn publish_summary(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<SummaryVersion> {
        let latest = self
            .store
            .summaries(id)
            .await?
            .pop()
            .ok_or_else(|| ServiceError::Refused("there is no draft to publish".into()))?;
        self.save_summary(p, tenant, id, latest.summary, true).await
    }

    /// The summary as the caller may see it: provider roles every
    /// version, drafts included; customer roles published versions only.
    pub async fn summary(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<SummaryView> {
        // Reading the incident checks the caller may see it.
        self.incident(p, tenant, id).await?;
        let provider = matches!(p, Principal::Operator(_))
            || matches!(p, Principal::User { role, .. } if role.is_provider());
        let versions: Vec<SummaryVersion> = self
            .store
            .summaries(id)
            .await?
            .into_iter()
            .filter(|v| provider || v.published)
            .collect();
        let current = versions
            .last()
            .cloned()
            .ok_or_else(|| ServiceError::NotFound {
                what: "summary",
                key: id.to_string(),
            })?;
        Ok(SummaryView { current, versions })
    }
}
