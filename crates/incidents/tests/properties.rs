//! The guarantees of correlation, as properties.
//!
//! Fix a tenant's settings and prevalence, and let no incident close while
//! the alerts arrive. Call two alerts *linked* when they belong to the same
//! tenant, both name a key entity that is not common, and their activity
//! intervals are at most `window` apart. Then, whatever order the alerts
//! arrive in:
//!
//! 1. the incidents (after merges) hold exactly the connected components
//!    of "linked" — so the grouping does not depend on arrival order;
//! 2. each incident's summary (severity, title, activity, entities, links,
//!    tactics, techniques, rules, alert count) does not either: only the
//!    incident ids do;
//! 3. no incident ever holds alerts of two tenants.
//!
//! And merging is idempotent and symmetric in its arguments.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
use proptest::prelude::*;
use vigil_core::alert::{Alert, AlertId};
use vigil_core::incident::{Incident, IncidentId, IncidentStatus};
use vigil_core::{Entity, Severity, TenantId, Timestamp};
use vigil_incidents::{
    CorrelationConfig, EntityPrevalence, Prevalence, apply, is_common, is_key_kind, merge, open,
    place, resolve,
};

fn uuid(n: u32) -> String {
    format!("{n:08x}-0000-7000-8000-000000000000")
}

fn tenant(n: u32) -> TenantId {
    uuid(n).parse().expect("uuid")
}

fn incident_id(n: u32) -> IncidentId {
    uuid(n).parse().expect("uuid")
}

fn minutes(m: i64) -> Timestamp {
    let base: Timestamp = "2026-11-27T00:00:00Z".parse().expect("timestamp");
    base + SignedDuration::from_mins(m)
}

/// Entities alerts draw from: devices, users, addresses (one a public
/// resolver, one made common below), a hash, and a process that never
/// links.
const POOL: [&str; 11] = [
    "device:ws1",
    "device:ws2",
    "device:dc1",
    "user:acme\\alice",
    "user:acme\\bob",
    "user:system",
    "ip:203.0.113.7",
    "ip:10.0.0.53",
    "ip:8.8.8.8",
    "file_hash:0123456789abcdef0123456789abcdef",
    "process:C:\\Windows\\System32\\cmd.exe",
];

/// The internal DNS server is seen everywhere.
fn prevalence() -> Prevalence {
    let mut p = Prevalence::new(50);
    p.insert(
        "ip:10.0.0.53".parse().expect("entity"),
        EntityPrevalence {
            devices: 50,
            ..EntityPrevalence::default()
        },
    );
    p
}

#[derive(Debug, Clone)]
struct Spec {
    tenant: u32,
    entities: Vec<&'static str>,
    start: i64,
    length: i64,
    severity: usize,
    rule: u32,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        1..=2u32,
        proptest::sample::subsequence(POOL.to_vec(), 0..=3),
        0..(72 * 60i64),
        0..(4 * 60i64),
        0..Severity::ALL.len(),
        0..4u32,
    )
        .prop_map(|(tenant, entities, start, length, severity, rule)| Spec {
            tenant,
            entities,
            start,
            length,
            severity,
            rule,
        })
}

fn alerts(specs: &[Spec]) -> Vec<Alert> {
    specs
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let n = u32::try_from(n).expect("few");
            Alert {
                id: uuid(1000 + n).parse().expect("uuid"),
                tenant_id: tenant(s.tenant),
                rule_id: format!("rule-{}", s.rule),
                rule_title: format!("Rule {}", s.rule),
                source: "sigma".into(),
                severity: Severity::ALL[s.severity],
                tactics: vec![format!("tactic_{}", s.rule % 2)],
                techniques: vec![format!("T100{}", s.rule)],
                entities: s
                    .entities
                    .iter()
                    .map(|e| e.parse().expect("entity"))
                    .collect(),
                first_activity: minutes(s.start),
                last_activity: minutes(s.start + s.length),
                count: 1,
                incident_id: None,
                created_at: minutes(s.start),
                updated_at: minutes(s.start),
            }
        })
        .collect()
}

fn config(window_hours: i64) -> CorrelationConfig {
    CorrelationConfig::with_window(SignedDuration::from_hours(window_hours)).expect("window")
}

/// Alerts in the given order through `place` and `apply`, as a store
/// would; new incidents numbered in arrival order. Answers the incidents
/// and where each alert ended up.
fn correlate(
    alerts: &[Alert],
    config: &CorrelationConfig,
) -> (Vec<Incident>, BTreeMap<AlertId, IncidentId>) {
    let prevalence = prevalence();
    let mut incidents = Vec::new();
    let mut placed = Vec::new();
    for (n, alert) in alerts.iter().enumerate() {
        let p = place(alert, &incidents, &prevalence, config);
        let fresh = incident_id(u32::try_from(n).expect("few") + 1);
        let at = apply(&mut incidents, alert, &p, fresh).expect("applies");
        placed.push((alert.id, at));
    }
    let placed = placed
        .into_iter()
        .map(|(a, i)| (a, resolve(&incidents, i)))
        .collect();
    (incidents, placed)
}

type Partition = BTreeSet<BTreeSet<AlertId>>;

fn partition(placed: &BTreeMap<AlertId, IncidentId>) -> Partition {
    let mut groups: BTreeMap<IncidentId, BTreeSet<AlertId>> = BTreeMap::new();
    for (a, i) in placed {
        groups.entry(*i).or_default().insert(*a);
    }
    groups.into_values().collect()
}

fn gap(a: &Alert, b: &Alert) -> SignedDuration {
    if a.last_activity < b.first_activity {
        b.first_activity.duration_since(a.last_activity)
    } else if b.last_activity < a.first_activity {
        a.first_activity.duration_since(b.last_activity)
    } else {
        SignedDuration::ZERO
    }
}

/// The oracle: connected components of "linked", by union-find.
fn components(alerts: &[Alert], config: &CorrelationConfig) -> Partition {
    let prevalence = prevalence();
    let linking = |a: &Alert| -> BTreeSet<Entity> {
        a.entities
            .iter()
            .filter(|e| is_key_kind(e.kind) && !is_common(e, &prevalence, config))
            .cloned()
            .collect()
    };
    let mut parent: Vec<usize> = (0..alerts.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..alerts.len() {
        for j in i + 1..alerts.len() {
            let (a, b) = (&alerts[i], &alerts[j]);
            if a.tenant_id == b.tenant_id
                && !linking(a).is_disjoint(&linking(b))
                && gap(a, b) <= config.window
            {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri] = rj;
            }
        }
    }
    let mut groups: BTreeMap<usize, BTreeSet<AlertId>> = BTreeMap::new();
    for (i, a) in alerts.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().insert(a.id);
    }
    groups.into_values().collect()
}

/// Each group of alerts with its incident's summary, ids left out.
fn summaries(
    incidents: &[Incident],
    placed: &BTreeMap<AlertId, IncidentId>,
) -> BTreeMap<BTreeSet<AlertId>, String> {
    let groups = partition(placed);
    groups
        .into_iter()
        .map(|group| {
            let first = group.first().expect("non-empty");
            let inc = incidents
                .iter()
                .find(|i| Some(&i.id) == placed.get(first))
                .expect("incident");
            let mut summary = inc.clone();
            summary.id = incident_id(0);
            summary.merged.clear();
            (group, format!("{summary:?}"))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_incidents_are_the_connected_components_of_the_link_relation(
        specs in proptest::collection::vec(spec(), 0..14),
        window in prop_oneof![Just(1i64), Just(6), Just(24)],
    ) {
        let alerts = alerts(&specs);
        let config = config(window);
        let (_, placed) = correlate(&alerts, &config);
        prop_assert_eq!(partition(&placed), components(&alerts, &config));
    }

    #[test]
    fn the_grouping_and_summaries_do_not_depend_on_arrival_order(
        (specs, order) in proptest::collection::vec(spec(), 0..14).prop_flat_map(|specs| {
            let order: Vec<usize> = (0..specs.len()).collect();
            (Just(specs), Just(order).prop_shuffle())
        }),
        window in prop_oneof![Just(1i64), Just(6), Just(24)],
    ) {
        let alerts = alerts(&specs);
        let shuffled: Vec<Alert> = order.iter().map(|&i| alerts[i].clone()).collect();
        let config = config(window);
        let (one, placed_one) = correlate(&alerts, &config);
        let (two, placed_two) = correlate(&shuffled, &config);
        prop_assert_eq!(partition(&placed_one), partition(&placed_two));
        prop_assert_eq!(summaries(&one, &placed_one), summaries(&two, &placed_two));
    }

    #[test]
    fn correlation_never_links_across_tenants(
        specs in proptest::collection::vec(spec(), 0..14),
    ) {
        let alerts = alerts(&specs);
        let config = CorrelationConfig::default();
        let (incidents, placed) = correlate(&alerts, &config);
        for alert in &alerts {
            let home = placed[&alert.id];
            let inc = incidents.iter().find(|i| i.id == home).expect("incident");
            prop_assert_eq!(inc.tenant_id, alert.tenant_id);
            prop_assert_ne!(inc.status, IncidentStatus::Redirected);
        }
        // And `place` alone never offers another tenant's incident.
        for alert in &alerts {
            let p = place(alert, &incidents, &prevalence(), &config);
            for link in &p.links {
                let inc = incidents.iter().find(|i| i.id == link.incident).expect("incident");
                prop_assert_eq!(inc.tenant_id, alert.tenant_id);
                prop_assert!(inc.is_open());
            }
        }
    }

    #[test]
    fn merging_is_idempotent_and_the_same_whichever_way_round(
        left in proptest::collection::vec(spec(), 1..6),
        right in proptest::collection::vec(spec(), 1..6),
    ) {
        let build = |specs: &[Spec], n: u32| {
            let mut specs = specs.to_vec();
            for s in &mut specs {
                s.tenant = 1;
            }
            let alerts = alerts(&specs);
            let mut inc = open(incident_id(n), &alerts[0]);
            for a in &alerts[1..] {
                vigil_incidents::absorb(&mut inc, a).expect("same tenant");
            }
            inc
        };
        let (a, b) = (build(&left, 1), build(&right, 2));

        let (mut a1, mut b1) = (a.clone(), b.clone());
        let first = merge(&mut a1, &mut b1).expect("merges");
        prop_assert!(first.changed);
        let after_once = (a1.clone(), b1.clone());
        let again = merge(&mut a1, &mut b1).expect("idempotent");
        prop_assert!(!again.changed);
        prop_assert_eq!(&(a1, b1), &after_once);

        let (mut a2, mut b2) = (a.clone(), b.clone());
        merge(&mut b2, &mut a2).expect("merges");
        prop_assert_eq!((a2, b2), after_once);
    }
}
