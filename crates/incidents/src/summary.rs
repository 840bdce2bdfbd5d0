//! Keeping an incident's summary current as alerts join: severity, title,
//! tactics and techniques, entities, activity, and the per-entity activity
//! that links later alerts (docs/incidents.md).
//!
//! Every field is a join (in the lattice sense) of the alerts' values:
//! maxima, minima, sorted unions, top-N of a total order. So the summary
//! of a set of alerts does not depend on the order they were absorbed in,
//! and absorbing the same content twice only counts it twice.

use std::cmp::Reverse;

use vigil_core::alert::Alert;
use vigil_core::incident::{
    EntityActivity, Incident, IncidentId, IncidentStatus, MAX_INCIDENT_ENTITIES,
    MAX_SPANS_PER_ENTITY, RuleSeen, Span,
};
use vigil_core::{Entity, EntityKind, TenantId};

use crate::common::is_key_kind;

/// Titles longer than this many characters are cut with `…`.
pub const MAX_TITLE_CHARS: usize = 200;

/// An alert and an incident that belong to different tenants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("incident {incident} belongs to tenant {incident_tenant}, not {other_tenant}")]
pub struct TenantMismatch {
    pub incident: IncidentId,
    pub incident_tenant: TenantId,
    pub other_tenant: TenantId,
}

/// A new incident, status `new`, holding just `alert`.
pub fn open(id: IncidentId, alert: &Alert) -> Incident {
    let mut incident = Incident {
        id,
        tenant_id: alert.tenant_id,
        title: String::new(),
        alert_severity: alert.severity,
        analyst_severity: None,
        status: IncidentStatus::New,
        first_activity: alert.first_activity,
        last_activity: alert.last_activity,
        entities: Vec::new(),
        tactics: Vec::new(),
        techniques: Vec::new(),
        alert_count: 0,
        redirected_to: None,
        merged: Vec::new(),
        rules: Vec::new(),
        links: Vec::new(),
    };
    add_alert(&mut incident, alert);
    incident
}

/// Adds a new alert to `incident`: one more alert, and every summary field
/// joined with the alert's. Refuses an alert of another tenant.
pub fn absorb(incident: &mut Incident, alert: &Alert) -> Result<(), TenantMismatch> {
    same_tenant(incident, alert.tenant_id)?;
    add_alert(incident, alert);
    Ok(())
}

/// Takes in a later state of an alert already counted in `incident` (the
/// same rule fired again and the alert's activity grew): the summary
/// follows it, the count does not change.
pub fn refresh(incident: &mut Incident, alert: &Alert) -> Result<(), TenantMismatch> {
    same_tenant(incident, alert.tenant_id)?;
    join_alert(incident, alert);
    Ok(())
}

/// The summary recomputed from `alerts`, the incident's alerts now (after
/// an analyst moved some out): the count and every summary field start
/// afresh; id, tenant, status, analyst severity and merge history are
/// kept. Alerts of another tenant are refused.
pub fn rebuild(incident: &Incident, alerts: &[Alert]) -> Result<Incident, TenantMismatch> {
    let mut out = incident.clone();
    out.alert_count = 0;
    out.tactics.clear();
    out.techniques.clear();
    out.entities.clear();
    out.links.clear();
    out.rules.clear();
    match alerts.first() {
        Some(a) => {
            out.alert_severity = a.severity;
            out.first_activity = a.first_activity.min(a.last_activity);
            out.last_activity = a.first_activity.max(a.last_activity);
        }
        None => out.alert_severity = vigil_core::Severity::Informational,
    }
    for alert in alerts {
        absorb(&mut out, alert)?;
    }
    out.title = title(&out);
    Ok(out)
}

pub(crate) fn same_tenant(incident: &Incident, tenant: TenantId) -> Result<(), TenantMismatch> {
    if incident.tenant_id == tenant {
        Ok(())
    } else {
        Err(TenantMismatch {
            incident: incident.id,
            incident_tenant: incident.tenant_id,
            other_tenant: tenant,
        })
    }
}

fn add_alert(incident: &mut Incident, alert: &Alert) {
    incident.alert_count += 1;
    join_alert(incident, alert);
}

fn join_alert(incident: &mut Incident, alert: &Alert) {
    let span = Span {
        first: alert.first_activity.min(alert.last_activity),
        last: alert.first_activity.max(alert.last_activity),
    };
    incident.alert_severity = incident.alert_severity.max(alert.severity);
    incident.first_activity = incident.first_activity.min(span.first);
    incident.last_activity = incident.last_activity.max(span.last);
    union_into(&mut incident.tactics, &alert.tactics);
    union_into(&mut incident.techniques, &alert.techniques);
    join_entities(&mut incident.entities, &alert.entities);
    for entity in alert.entities.iter().filter(|e| is_key_kind(e.kind)) {
        join_link(&mut incident.links, entity, &[span]);
    }
    join_rule(
        &mut incident.rules,
        RuleSeen {
            rule_id: alert.rule_id.clone(),
            title: alert.rule_title.clone(),
            severity: alert.severity,
            first_activity: span.first,
        },
    );
    incident.title = title(incident);
}

/// Every summary field of `from` joined into `into` (not the count, id,
/// status or analyst fields).
pub(crate) fn join_summary(into: &mut Incident, from: &Incident) {
    into.alert_severity = into.alert_severity.max(from.alert_severity);
    into.first_activity = into.first_activity.min(from.first_activity);
    into.last_activity = into.last_activity.max(from.last_activity);
    union_into(&mut into.tactics, &from.tactics);
    union_into(&mut into.techniques, &from.techniques);
    join_entities(&mut into.entities, &from.entities);
    for link in &from.links {
        join_link(&mut into.links, &link.entity, &link.spans);
    }
    for rule in &from.rules {
        join_rule(&mut into.rules, rule.clone());
    }
    into.title = title(into);
}

fn union_into(into: &mut Vec<String>, from: &[String]) {
    into.extend(from.iter().filter(|s| !s.trim().is_empty()).cloned());
    into.sort();
    into.dedup();
}

/// Key entities first, then by kind and value; the first
/// [`MAX_INCIDENT_ENTITIES`] kept.
fn join_entities(into: &mut Vec<Entity>, from: &[Entity]) {
    into.extend(from.iter().cloned());
    into.sort_by(|a, b| {
        (!is_key_kind(a.kind), a.kind, &a.value).cmp(&(!is_key_kind(b.kind), b.kind, &b.value))
    });
    into.dedup();
    into.truncate(MAX_INCIDENT_ENTITIES);
}

fn join_link(links: &mut Vec<EntityActivity>, entity: &Entity, spans: &[Span]) {
    let at = match links.binary_search_by(|l| l.entity.cmp(entity)) {
        Ok(at) => at,
        Err(at) => {
            links.insert(
                at,
                EntityActivity {
                    entity: entity.clone(),
                    spans: Vec::new(),
                },
            );
            at
        }
    };
    let merged = &mut links[at].spans;
    merged.extend_from_slice(spans);
    normalise_spans(merged);
}

/// Sorted, overlapping spans joined, and at most
/// [`MAX_SPANS_PER_ENTITY`] (the closest neighbours joined first).
pub(crate) fn normalise_spans(spans: &mut Vec<Span>) {
    spans.sort_by_key(|s| (s.first, s.last));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans.drain(..) {
        match out.last_mut() {
            Some(prev) if s.first <= prev.last => prev.last = prev.last.max(s.last),
            _ => out.push(s),
        }
    }
    while out.len() > MAX_SPANS_PER_ENTITY {
        let closest = (1..out.len())
            .min_by_key(|&i| out[i].first.duration_since(out[i - 1].last))
            .unwrap_or(1);
        let next = out.remove(closest);
        out[closest - 1].last = next.last;
    }
    *spans = out;
}

/// One entry per rule: its highest severity, earliest activity, and the
/// smallest of its titles (titles of one rule are normally the same).
fn join_rule(rules: &mut Vec<RuleSeen>, rule: RuleSeen) {
    match rules.iter_mut().find(|r| r.rule_id == rule.rule_id) {
        Some(r) => {
            r.severity = r.severity.max(rule.severity);
            r.first_activity = r.first_activity.min(rule.first_activity);
            if rule.title < r.title {
                r.title = rule.title;
            }
        }
        None => rules.push(rule),
    }
    rules.sort_by(|a, b| {
        (Reverse(a.severity), a.first_activity, &a.rule_id).cmp(&(
            Reverse(b.severity),
            b.first_activity,
            &b.rule_id,
        ))
    });
}

/// The title rule (docs/incidents.md):
///
/// `{lead}[ and {n} more][ on {device} | on {k} devices][ involving {user} | involving {k} users]`
///
/// - lead: the title of the most severe rule (ties: earliest activity,
///   then rule id); its id when it has no title;
/// - `and {n} more`: the number of other distinct rules;
/// - devices and users from the incident's key entities (mailboxes when
///   there is no user).
///
/// Cut at [`MAX_TITLE_CHARS`] characters.
pub fn title(incident: &Incident) -> String {
    let Some(lead) = incident.rules.first() else {
        return "Incident".to_owned();
    };
    let mut out = if lead.title.trim().is_empty() {
        lead.rule_id.clone()
    } else {
        lead.title.trim().to_owned()
    };
    match incident.rules.len() - 1 {
        0 => {}
        n => out.push_str(&format!(" and {n} more")),
    }
    let of = |kind: EntityKind| -> Vec<&str> {
        incident
            .links
            .iter()
            .filter(|l| l.entity.kind == kind)
            .map(|l| l.entity.value.as_str())
            .collect()
    };
    match of(EntityKind::Device).as_slice() {
        [] => {}
        [one] => out.push_str(&format!(" on {one}")),
        many => out.push_str(&format!(" on {} devices", many.len())),
    }
    let mut users = of(EntityKind::User);
    let mut noun = "users";
    if users.is_empty() {
        users = of(EntityKind::Mailbox);
        noun = "mailboxes";
    }
    match users.as_slice() {
        [] => {}
        [one] => out.push_str(&format!(" involving {one}")),
        many => out.push_str(&format!(" involving {} {noun}", many.len())),
    }
    if out.chars().count() > MAX_TITLE_CHARS {
        out = out.chars().take(MAX_TITLE_CHARS - 1).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{alert, at, id};
    use vigil_core::Severity;

    #[test]
    fn an_opened_incident_summarises_its_first_alert() {
        let a = alert(
            1,
            "Mimikatz",
            Severity::High,
            &["device:ws1", "user:acme\\alice"],
            10,
        );
        let inc = open(id(1), &a);
        assert_eq!(inc.status, IncidentStatus::New);
        assert_eq!(inc.alert_count, 1);
        assert_eq!(inc.severity(), Severity::High);
        assert_eq!(inc.title, "Mimikatz on ws1 involving acme\\alice");
        assert_eq!(inc.first_activity, at(10));
        assert_eq!(inc.tactics, ["credential_access"]);
        assert_eq!(inc.links.len(), 2);
    }

    #[test]
    fn severity_is_the_highest_alert_severity_unless_an_analyst_set_it() {
        let mut inc = open(id(1), &alert(1, "A", Severity::Low, &["device:ws1"], 0));
        absorb(
            &mut inc,
            &alert(2, "B", Severity::Critical, &["device:ws1"], 1),
        )
        .expect("same");
        absorb(
            &mut inc,
            &alert(3, "C", Severity::Medium, &["device:ws1"], 2),
        )
        .expect("same");
        assert_eq!(inc.severity(), Severity::Critical);
        inc.analyst_severity = Some(Severity::Low);
        absorb(&mut inc, &alert(4, "D", Severity::High, &["device:ws1"], 3)).expect("same");
        assert_eq!(inc.severity(), Severity::Low, "the analyst's choice stands");
        assert_eq!(inc.alert_severity, Severity::Critical);
    }

    #[test]
    fn the_title_leads_with_the_most_severe_rule_and_counts_the_rest() {
        let mut inc = open(
            id(1),
            &alert(1, "Recon", Severity::Low, &["device:ws1", "user:alice"], 0),
        );
        absorb(
            &mut inc,
            &alert(2, "Credential dumping", Severity::High, &["device:ws1"], 1),
        )
        .expect("same");
        absorb(
            &mut inc,
            &alert(3, "Recon", Severity::Low, &["device:ws1"], 2),
        )
        .expect("same");
        assert_eq!(
            inc.title,
            "Credential dumping and 1 more on ws1 involving alice"
        );
        absorb(
            &mut inc,
            &alert(
                4,
                "Lateral movement",
                Severity::Medium,
                &["device:ws2", "user:bob"],
                3,
            ),
        )
        .expect("same");
        assert_eq!(
            inc.title,
            "Credential dumping and 2 more on 2 devices involving 2 users"
        );
    }

    #[test]
    fn a_title_without_users_names_the_mailbox_and_long_titles_are_cut() {
        let inc = open(
            id(1),
            &alert(
                1,
                "Suspicious inbox rule",
                Severity::Medium,
                &["mailbox:ceo@acme.example"],
                0,
            ),
        );
        assert_eq!(
            inc.title,
            "Suspicious inbox rule involving ceo@acme.example"
        );
        let long = open(id(2), &alert(2, &"x".repeat(300), Severity::Low, &[], 0));
        assert_eq!(long.title.chars().count(), MAX_TITLE_CHARS);
        assert!(long.title.ends_with('…'));
    }

    #[test]
    fn tactics_techniques_entities_and_activity_are_unions_and_bounds() {
        let mut inc = open(
            id(1),
            &alert(1, "A", Severity::Low, &["device:ws1", "process:a.exe"], 5),
        );
        let mut b = alert(2, "B", Severity::Low, &["device:ws1", "ip:203.0.113.7"], 2);
        b.tactics = vec!["execution".into(), "credential_access".into()];
        b.techniques = vec!["T1059.001".into()];
        absorb(&mut inc, &b).expect("same");
        assert_eq!(inc.tactics, ["credential_access", "execution"]);
        assert_eq!(inc.techniques, ["T1003", "T1059.001"]);
        assert_eq!(inc.first_activity, at(2));
        assert_eq!(
            inc.last_activity,
            at(5) + jiff::SignedDuration::from_mins(10)
        );
        let shown: Vec<String> = inc.entities.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["device:ws1", "ip:203.0.113.7", "process:a.exe"],
            "key entities first"
        );
        assert_eq!(inc.alert_count, 2);
    }

    #[test]
    fn entities_are_capped_keeping_key_entities() {
        let mut inc = open(id(1), &alert(1, "A", Severity::Low, &["device:ws1"], 0));
        let files: Vec<String> = (0..MAX_INCIDENT_ENTITIES + 10)
            .map(|n| format!("file:C:\\f{n}"))
            .collect();
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        absorb(&mut inc, &alert(2, "B", Severity::Low, &refs, 1)).expect("same");
        assert_eq!(inc.entities.len(), MAX_INCIDENT_ENTITIES);
        assert_eq!(inc.entities[0].to_string(), "device:ws1");
    }

    #[test]
    fn an_alert_of_another_tenant_is_refused() {
        let mut inc = open(id(1), &alert(1, "A", Severity::Low, &["device:ws1"], 0));
        let mut other = alert(2, "B", Severity::Low, &["device:ws1"], 0);
        other.tenant_id = crate::testing::tenant(2);
        let before = inc.clone();
        assert!(absorb(&mut inc, &other).is_err());
        assert_eq!(inc, before);
    }

    #[test]
    fn refreshing_a_grown_alert_moves_the_activity_but_not_the_count() {
        let mut a = alert(1, "A", Severity::Low, &["device:ws1"], 0);
        let mut inc = open(id(1), &a);
        a.last_activity = at(7);
        a.severity = Severity::High;
        refresh(&mut inc, &a).expect("same");
        assert_eq!(inc.alert_count, 1);
        assert_eq!(inc.last_activity, at(7));
        assert_eq!(inc.severity(), Severity::High);
        assert_eq!(
            inc.links[0].spans,
            [Span {
                first: at(0),
                last: at(7)
            }]
        );
    }

    #[test]
    fn rebuilding_after_an_alert_moved_out_forgets_it_and_keeps_the_analysts_fields() {
        let a = alert(1, "Recon", Severity::Low, &["device:ws1"], 0);
        let b = alert(
            2,
            "Ransomware",
            Severity::Critical,
            &["device:ws1", "user:bob"],
            3,
        );
        let mut inc = open(id(1), &a);
        absorb(&mut inc, &b).expect("same");
        inc.status = IncidentStatus::InProgress;
        inc.analyst_severity = Some(Severity::Medium);
        let left = rebuild(&inc, std::slice::from_ref(&a)).expect("same");
        assert_eq!(left, {
            let mut fresh = open(id(1), &a);
            fresh.status = IncidentStatus::InProgress;
            fresh.analyst_severity = Some(Severity::Medium);
            fresh
        });
        let empty = rebuild(&inc, &[]).expect("same");
        assert_eq!(empty.alert_count, 0);
        assert_eq!(empty.title, "Incident");
    }

    #[test]
    fn overlapping_spans_join_and_at_most_the_cap_are_kept() {
        let s = |a: i64, b: i64| Span {
            first: at(a),
            last: at(b),
        };
        let mut spans = vec![s(5, 6), s(0, 1), s(1, 2), s(10, 10)];
        normalise_spans(&mut spans);
        assert_eq!(spans, [s(0, 2), s(5, 6), s(10, 10)]);
        let mut many: Vec<Span> = (0..40).map(|n| s(n * 10, n * 10)).collect();
        many.push(s(395, 395));
        normalise_spans(&mut many);
        assert_eq!(many.len(), MAX_SPANS_PER_ENTITY);
        assert!(many.contains(&s(390, 395)), "the closest pair joined first");
    }
}
