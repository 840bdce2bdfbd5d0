//! Where a new alert goes (docs/incidents.md, "grouping"), and applying
//! that decision to incidents held in memory.

use std::fmt::Write as _;

use vigil_core::alert::Alert;
use vigil_core::incident::{Incident, IncidentId, Span};
use vigil_core::{Entity, Timestamp};

use crate::CorrelationConfig;
use crate::common::{CommonReason, Prevalence, common_reason, is_key_kind};
use crate::config::human;
use crate::merge::{MergeError, merge};
use crate::summary::{TenantMismatch, absorb, open, refresh};

/// Where an alert goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A new incident, holding just this alert.
    New,
    /// This open incident (the oldest it links to).
    Existing(IncidentId),
}

/// An open incident the alert links to, and the alert's key entities that
/// link it (sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub incident: IncidentId,
    pub entities: Vec<Entity>,
}

/// A key entity of the alert that was not used for linking, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub entity: Entity,
    pub reason: CommonReason,
}

/// The decision for one alert, with the reason for the incident's
/// activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub target: Target,
    /// Every open incident it links to, oldest first.
    pub links: Vec<Link>,
    /// Incidents to merge into the target: every linked one but the oldest.
    pub merge: Vec<IncidentId>,
    /// Key entities too common to link.
    pub ignored: Vec<Ignored>,
    /// Why, in a sentence naming the linking entities, e.g.
    /// `joined 0190…: shares user:alice@acme.example (within 24h)`.
    pub reason: String,
}

/// Decides where `alert` goes among `open_incidents` (others' tenants and
/// closed incidents are skipped): into the oldest open incident of its
/// tenant with which it shares a key entity that is not common, within the
/// window of an alert of that incident naming the entity; every other such
/// incident is merged into that one. With none, a new incident.
pub fn place(
    alert: &Alert,
    open_incidents: &[Incident],
    prevalence: &Prevalence,
    config: &CorrelationConfig,
) -> Placement {
    let mut keys: Vec<&Entity> = alert
        .entities
        .iter()
        .filter(|e| is_key_kind(e.kind))
        .collect();
    keys.sort();
    keys.dedup();
    let mut usable = Vec::new();
    let mut ignored = Vec::new();
    for e in keys {
        match common_reason(e, prevalence, config) {
            Some(reason) => ignored.push(Ignored {
                entity: e.clone(),
                reason,
            }),
            None => usable.push(e),
        }
    }
    let span = Span {
        first: alert.first_activity.min(alert.last_activity),
        last: alert.first_activity.max(alert.last_activity),
    };
    let mut links: Vec<Link> = open_incidents
        .iter()
        .filter(|i| i.tenant_id == alert.tenant_id && i.is_open())
        .filter_map(|i| {
            let entities: Vec<Entity> = usable
                .iter()
                .filter(|e| shares_within(i, e, span, config))
                .map(|e| (*e).clone())
                .collect();
            (!entities.is_empty()).then_some(Link {
                incident: i.id,
                entities,
            })
        })
        .collect();
    links.sort_by_key(|l| l.incident);
    links.dedup_by_key(|l| l.incident);
    let target = links
        .first()
        .map_or(Target::New, |l| Target::Existing(l.incident));
    let merge = links.iter().skip(1).map(|l| l.incident).collect();
    let reason = explain(target, &links, &ignored, usable.len(), config);
    Placement {
        target,
        links,
        merge,
        ignored,
        reason,
    }
}

/// Whether an alert of `incident` naming `entity` was active within the
/// window of `span`.
fn shares_within(
    incident: &Incident,
    entity: &Entity,
    span: Span,
    config: &CorrelationConfig,
) -> bool {
    let Ok(at) = incident.links.binary_search_by(|l| l.entity.cmp(entity)) else {
        return false;
    };
    incident.links[at]
        .spans
        .iter()
        .any(|s| gap(span, *s) <= config.window)
}

/// How far apart two spans are (zero when they overlap).
pub(crate) fn gap(a: Span, b: Span) -> jiff::SignedDuration {
    let apart =
        |earlier_end: Timestamp, later_start: Timestamp| later_start.duration_since(earlier_end);
    if a.last < b.first {
        apart(a.last, b.first)
    } else if b.last < a.first {
        apart(b.last, a.first)
    } else {
        jiff::SignedDuration::ZERO
    }
}

fn list(entities: &[Entity]) -> String {
    entities
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn explain(
    target: Target,
    links: &[Link],
    ignored: &[Ignored],
    usable: usize,
    config: &CorrelationConfig,
) -> String {
    let window = human(config.window);
    let mut out = match (target, links) {
        (Target::Existing(_), [first, rest @ ..]) => {
            let mut s = format!(
                "joined {}: shares {} (within {window})",
                first.incident,
                list(&first.entities)
            );
            if !rest.is_empty() {
                let merged: Vec<String> = rest
                    .iter()
                    .map(|l| format!("{} (shares {})", l.incident, list(&l.entities)))
                    .collect();
                let _ = write!(s, "; merged {} into it, the oldest", merged.join(", "));
            }
            s
        }
        _ if usable == 0 && ignored.is_empty() => {
            "opened: the alert names no device, user, file hash, IP address, domain or mailbox"
                .to_owned()
        }
        _ if usable == 0 => {
            "opened: every key entity of the alert is too common to link".to_owned()
        }
        _ => format!("opened: no open incident shares a key entity within {window}"),
    };
    if !ignored.is_empty() {
        let why: Vec<String> = ignored
            .iter()
            .map(|i| format!("{} ({})", i.entity, i.reason))
            .collect();
        let _ = write!(out, "; not linking on {}", why.join(", "));
    }
    out
}

/// Applying a placement to incidents in memory went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("incident {0} is not among the incidents given")]
    Unknown(IncidentId),
    #[error(transparent)]
    Tenant(#[from] TenantMismatch),
    #[error(transparent)]
    Merge(#[from] MergeError),
}

/// Carries out `placement` for `alert` on `incidents`: opens a new
/// incident with `new_id`, or absorbs the alert into the target and merges
/// the others into it (they stay in `incidents`, redirected). Answers the
/// incident now holding the alert. What a store does, in memory: for
/// tests, replays and dry runs.
pub fn apply(
    incidents: &mut Vec<Incident>,
    alert: &Alert,
    placement: &Placement,
    new_id: IncidentId,
) -> Result<IncidentId, ApplyError> {
    let target = match placement.target {
        Target::New => {
            incidents.push(open(new_id, alert));
            return Ok(new_id);
        }
        Target::Existing(id) => id,
    };
    let t = index(incidents, target)?;
    absorb(&mut incidents[t], alert)?;
    for other in &placement.merge {
        let o = index(incidents, *other)?;
        let (a, b) = pair_mut(incidents, t, o)?;
        merge(a, b)?;
    }
    Ok(target)
}

/// Carries out `placement` for an alert already counted in incident
/// `home` whose activity grew (the same rule fired again): `home` follows
/// the alert without counting it again, and when the alert now links other
/// open incidents, they and `home` are merged into the oldest of them.
/// Answers the incident now holding the alert. (`placement` is what
/// [`place`] answered for the grown alert, with `home` among the open
/// incidents.)
pub fn apply_update(
    incidents: &mut [Incident],
    alert: &Alert,
    placement: &Placement,
    home: IncidentId,
) -> Result<IncidentId, ApplyError> {
    let h = index(incidents, home)?;
    refresh(&mut incidents[h], alert)?;
    let mut group: Vec<IncidentId> = placement.links.iter().map(|l| l.incident).collect();
    group.push(home);
    group.sort();
    group.dedup();
    let survivor = group[0];
    let s = index(incidents, survivor)?;
    for other in &group[1..] {
        let o = index(incidents, *other)?;
        let (a, b) = pair_mut(incidents, s, o)?;
        merge(a, b)?;
    }
    Ok(survivor)
}

fn index(incidents: &[Incident], id: IncidentId) -> Result<usize, ApplyError> {
    incidents
        .iter()
        .position(|i| i.id == id)
        .ok_or(ApplyError::Unknown(id))
}

fn pair_mut(
    incidents: &mut [Incident],
    a: usize,
    b: usize,
) -> Result<(&mut Incident, &mut Incident), ApplyError> {
    if a == b {
        return Err(MergeError::Same.into());
    }
    let (lo, hi) = (a.min(b), a.max(b));
    let (left, right) = incidents.split_at_mut(hi);
    let (x, y) = (&mut left[lo], &mut right[0]);
    Ok(if a < b { (x, y) } else { (y, x) })
}

/// The incident `id` ended up in, following redirects (at most as many
/// steps as there are incidents, so a cycle cannot hang it).
pub fn resolve(incidents: &[Incident], id: IncidentId) -> IncidentId {
    let mut at = id;
    for _ in 0..=incidents.len() {
        match incidents
            .iter()
            .find(|i| i.id == at)
            .and_then(|i| i.redirected_to)
        {
            Some(next) => at = next,
            None => break,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::EntityPrevalence;
    use crate::testing::{alert, id, tenant};
    use vigil_core::Severity;
    use vigil_core::incident::IncidentStatus;

    fn cfg() -> CorrelationConfig {
        CorrelationConfig::default()
    }

    #[test]
    fn an_alert_sharing_a_user_within_the_window_joins_and_says_why() {
        let incidents = vec![open(
            id(1),
            &alert(
                1,
                "A",
                Severity::Low,
                &["user:alice@acme.example", "device:ws1"],
                0,
            ),
        )];
        let p = place(
            &alert(
                2,
                "B",
                Severity::Low,
                &["user:alice@acme.example", "device:ws9"],
                20,
            ),
            &incidents,
            &Prevalence::default(),
            &cfg(),
        );
        assert_eq!(p.target, Target::Existing(id(1)));
        assert!(p.merge.is_empty());
        assert_eq!(
            p.reason,
            format!(
                "joined {}: shares user:alice@acme.example (within 24h)",
                id(1)
            )
        );
    }

    #[test]
    fn an_alert_outside_the_window_opens_a_new_incident() {
        let incidents = vec![open(
            id(1),
            &alert(1, "A", Severity::Low, &["device:ws1"], 0),
        )];
        // The first alert ends at 0:10, so 24h10m later is out of a 24h window.
        let p = place(
            &alert(2, "B", Severity::Low, &["device:ws1"], 25),
            &incidents,
            &Prevalence::default(),
            &cfg(),
        );
        assert_eq!(p.target, Target::New);
        assert_eq!(
            p.reason,
            "opened: no open incident shares a key entity within 24h"
        );
        let six = CorrelationConfig::with_window(jiff::SignedDuration::from_hours(6)).expect("ok");
        let near = alert(3, "C", Severity::Low, &["device:ws1"], 7);
        assert_eq!(
            place(&near, &incidents, &Prevalence::default(), &six).target,
            Target::New
        );
        assert_eq!(
            place(&near, &incidents, &Prevalence::default(), &cfg()).target,
            Target::Existing(id(1))
        );
    }

    #[test]
    fn the_window_is_measured_from_alerts_naming_the_entity_not_the_whole_incident() {
        // ws1 at 0h, then the incident grows through user:alice to 20h; an
        // alert on ws1 at 30h is 30h from the only alert naming ws1.
        let mut inc = open(
            id(1),
            &alert(1, "A", Severity::Low, &["device:ws1", "user:alice"], 0),
        );
        absorb(&mut inc, &alert(2, "B", Severity::Low, &["user:alice"], 20)).expect("same");
        let p = place(
            &alert(3, "C", Severity::Low, &["device:ws1"], 30),
            &[inc],
            &Prevalence::default(),
            &cfg(),
        );
        assert_eq!(p.target, Target::New);
    }

    #[test]
    fn other_tenants_and_closed_incidents_are_never_joined() {
        let mut theirs = alert(1, "A", Severity::Low, &["device:ws1"], 0);
        theirs.tenant_id = tenant(2);
        let mut resolved = open(id(2), &alert(2, "A", Severity::Low, &["device:ws1"], 0));
        resolved.status = IncidentStatus::Resolved;
        let incidents = vec![open(id(1), &theirs), resolved];
        let p = place(
            &alert(3, "B", Severity::Low, &["device:ws1"], 1),
            &incidents,
            &Prevalence::default(),
            &cfg(),
        );
        assert_eq!(p.target, Target::New);
    }

    #[test]
    fn an_alert_linking_two_incidents_joins_the_oldest_and_merges_the_other() {
        let mut incidents = vec![
            open(id(2), &alert(1, "A", Severity::Low, &["device:ws2"], 0)),
            open(id(1), &alert(2, "B", Severity::Low, &["user:bob"], 0)),
        ];
        let a = alert(3, "C", Severity::High, &["device:ws2", "user:bob"], 1);
        let p = place(&a, &incidents, &Prevalence::default(), &cfg());
        assert_eq!(p.target, Target::Existing(id(1)));
        assert_eq!(p.merge, [id(2)]);
        assert_eq!(
            p.reason,
            format!(
                "joined {}: shares user:bob (within 24h); merged {} (shares device:ws2) into it, the oldest",
                id(1),
                id(2)
            )
        );
        assert_eq!(apply(&mut incidents, &a, &p, id(9)), Ok(id(1)));
        let survivor = incidents.iter().find(|i| i.id == id(1)).expect("kept");
        assert_eq!(survivor.alert_count, 3);
        assert_eq!(resolve(&incidents, id(2)), id(1));
        assert_eq!(incidents[0].status, IncidentStatus::Redirected);
    }

    #[test]
    fn common_entities_do_not_link_and_the_reason_names_them() {
        let incidents = vec![open(
            id(1),
            &alert(
                1,
                "A",
                Severity::Low,
                &["ip:8.8.8.8", "user:SYSTEM", "ip:10.0.0.53"],
                0,
            ),
        )];
        let mut prev = Prevalence::new(100);
        prev.insert(
            "ip:10.0.0.53".parse().expect("entity"),
            EntityPrevalence {
                devices: 90,
                ..EntityPrevalence::default()
            },
        );
        let a = alert(
            2,
            "B",
            Severity::Low,
            &["ip:8.8.8.8", "user:system", "ip:10.0.0.53"],
            1,
        );
        let p = place(&a, &incidents, &prev, &cfg());
        assert_eq!(p.target, Target::New);
        assert_eq!(
            p.reason,
            "opened: every key entity of the alert is too common to link; not linking on \
             user:system (a built-in identity every host shares), \
             ip:10.0.0.53 (seen on 90 devices, limit 20), ip:8.8.8.8 (a well-known public DNS resolver)"
        );
    }

    /// What lets the service skip reading the prevalence when a grown
    /// alert links nothing beyond its own incident without it.
    #[test]
    fn without_a_prevalence_an_alert_links_to_every_incident_it_links_to_with_one() {
        let incidents = vec![
            open(id(1), &alert(1, "A", Severity::Low, &["device:ws1"], 0)),
            open(
                id(2),
                &alert(2, "B", Severity::Low, &["ip:10.0.0.53", "user:bob"], 0),
            ),
            open(id(3), &alert(3, "C", Severity::Low, &["user:carol"], 0)),
        ];
        let a = alert(
            4,
            "D",
            Severity::Low,
            &["device:ws1", "ip:10.0.0.53", "user:SYSTEM"],
            1,
        );
        let mut common = Prevalence::new(100);
        common.insert(
            "ip:10.0.0.53".parse().expect("entity"),
            EntityPrevalence {
                devices: 90,
                ..EntityPrevalence::default()
            },
        );
        let linked = |p: &Placement| p.links.iter().map(|l| l.incident).collect::<Vec<_>>();
        let with = place(&a, &incidents, &common, &cfg());
        let without = place(&a, &incidents, &Prevalence::default(), &cfg());
        assert_eq!(linked(&with), [id(1)], "the common address links nothing");
        assert_eq!(linked(&without), [id(1), id(2)]);
        assert!(
            without.ignored.iter().all(|i| with.ignored.contains(i)),
            "the deny list holds either way: {:?}",
            without.ignored
        );
    }

    #[test]
    fn an_alert_without_key_entities_opens_its_own_incident() {
        let incidents = vec![open(
            id(1),
            &alert(1, "A", Severity::Low, &["process:C:\\x.exe"], 0),
        )];
        let p = place(
            &alert(
                2,
                "B",
                Severity::Low,
                &["process:C:\\x.exe", "url:https://x.example"],
                0,
            ),
            &incidents,
            &Prevalence::default(),
            &cfg(),
        );
        assert_eq!(p.target, Target::New);
        assert!(p.reason.contains("names no device, user"), "{}", p.reason);
    }

    #[test]
    fn a_grown_alert_that_now_reaches_another_incident_merges_them_without_counting_twice() {
        let a = alert(1, "A", Severity::Low, &["device:ws1"], 0);
        let b = alert(2, "B", Severity::Low, &["device:ws1"], 30);
        let mut incidents = vec![open(id(1), &a), open(id(2), &b)];
        let mut grown = a.clone();
        grown.last_activity = crate::testing::at(10);
        let p = place(&grown, &incidents, &Prevalence::default(), &cfg());
        assert_eq!(p.target, Target::Existing(id(1)));
        assert_eq!(p.merge, [id(2)]);
        assert_eq!(apply_update(&mut incidents, &grown, &p, id(1)), Ok(id(1)));
        assert_eq!(incidents[0].alert_count, 2);
        assert_eq!(incidents[1].redirected_to, Some(id(1)));
        let lonely = alert(3, "C", Severity::Low, &[], 0);
        let mut alone = vec![open(id(3), &lonely)];
        let p = place(&lonely, &alone, &Prevalence::default(), &cfg());
        assert_eq!(apply_update(&mut alone, &lonely, &p, id(3)), Ok(id(3)));
        assert_eq!(alone[0].alert_count, 1);
    }

    #[test]
    fn a_phishing_mail_the_macro_it_started_and_the_lateral_movement_are_one_incident() {
        let story = [
            alert(
                1,
                "Phishing",
                Severity::Medium,
                &["mailbox:ceo@acme.example", "user:acme\\ceo"],
                0,
            ),
            alert(
                2,
                "Office macro",
                Severity::High,
                &["user:acme\\ceo", "device:ws1"],
                1,
            ),
            alert(
                3,
                "Remote service",
                Severity::High,
                &["device:ws1", "device:dc1"],
                2,
            ),
            alert(4, "DCSync", Severity::Critical, &["device:dc1"], 3),
        ];
        let mut incidents = Vec::new();
        for (n, a) in (10..).zip(&story) {
            let p = place(a, &incidents, &Prevalence::default(), &cfg());
            apply(&mut incidents, a, &p, id(n)).expect("applies");
        }
        assert_eq!(incidents.len(), 1);
        assert_eq!(incidents[0].alert_count, 4);
        assert_eq!(
            incidents[0].title,
            "DCSync and 3 more on 2 devices involving acme\\ceo"
        );
    }

    #[test]
    fn applying_a_new_placement_opens_an_incident_with_the_given_id() {
        let mut incidents = Vec::new();
        let a = alert(1, "A", Severity::Low, &["device:ws1"], 0);
        let p = place(&a, &incidents, &Prevalence::default(), &cfg());
        assert_eq!(apply(&mut incidents, &a, &p, id(7)), Ok(id(7)));
        assert_eq!(incidents.len(), 1);
        let stale = Placement {
            target: Target::Existing(id(8)),
            ..p
        };
        assert_eq!(
            apply(&mut incidents, &a, &stale, id(9)),
            Err(ApplyError::Unknown(id(8)))
        );
    }
}
