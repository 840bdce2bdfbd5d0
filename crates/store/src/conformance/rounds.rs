//! Detection rounds folding into the alerts earlier rounds left: what a
//! backend remembers between rounds (the SQLite store keeps the alerts
//! its local worker folds into in memory) must fold exactly as reading
//! the store would.

use vigil_core::alert::{Alert, AlertFilter, Observation};
use vigil_core::telemetry::IntakeBatch;
use vigil_core::{Entity, EntityKind, TenantId, Timestamp};

use super::{at, entry, event, tenant};
use crate::Store;

fn seen(time: Timestamp, entities: &[(EntityKind, &str)], events: Vec<i64>) -> Observation {
    Observation {
        rule_id: "rounds-rule".into(),
        rule_title: "Rounds rule".into(),
        source: "sigma".into(),
        severity: vigil_core::Severity::Medium,
        tactics: Vec::new(),
        techniques: Vec::new(),
        entities: entities
            .iter()
            .map(|(kind, value)| Entity::new(*kind, *value))
            .collect(),
        time,
        events,
    }
}

const ALICE: (EntityKind, &str) = (EntityKind::User, "alice");

/// One observation of alice per event, at `time`.
fn each(t: TenantId, time: &str, seqs: &[i64]) -> Vec<(TenantId, Observation)> {
    seqs.iter()
        .map(|&s| (t, seen(at(time), &[ALICE], vec![s])))
        .collect()
}

/// Queue `n` new events of the tenant, answering their seqs in order.
async fn queue(store: &dyn Store, t: TenantId, from: u32, n: u32, now: Timestamp) -> Vec<i64> {
    let batch = IntakeBatch {
        idempotency_key: None,
        events: (from..from + n).map(|i| event(i, now)).collect(),
        dead_letters: Vec::new(),
    };
    let (_, seqs) = store.commit_intake(t, now, &batch).await.expect("intake");
    seqs.into_iter().map(|s| s.expect("new event")).collect()
}

/// A round of the local worker: the queue range of `seqs`.
async fn round(store: &dyn Store, seqs: &[i64], obs: &[(TenantId, Observation)], now: Timestamp) {
    let (first, last) = (seqs[0], seqs[seqs.len() - 1]);
    store
        .commit_detections(first, last, obs, now)
        .await
        .expect("round");
}

/// A round of alice's matches, one per event of `seqs`, at `time`.
async fn round_of_each(store: &dyn Store, t: TenantId, seqs: &[i64], time: &str, now: Timestamp) {
    round(store, seqs, &each(t, time, seqs), now).await;
}

/// A saved hunt's alerts: an empty range, folded beside the worker.
async fn hunt(store: &dyn Store, obs: &[(TenantId, Observation)], now: Timestamp) {
    store
        .commit_detections(1, 0, obs, now)
        .await
        .expect("hunt's alerts");
}

async fn alerts(store: &dyn Store, t: TenantId) -> Vec<Alert> {
    let all = AlertFilter {
        limit: 100,
        ..Default::default()
    };
    let mut alerts = store.list_alerts(t, &all).await.expect("list");
    alerts.sort_by_key(|a| a.first_activity);
    alerts
}

async fn evidence(store: &dyn Store, a: &Alert) -> Vec<i64> {
    let (_, seqs) = store
        .alert(a.tenant_id, a.id)
        .await
        .expect("read")
        .expect("alert");
    seqs
}

pub(super) async fn rounds_fold_into_the_alerts_earlier_rounds_left(store: &dyn Store) {
    let now = at("2026-11-28T12:00:00Z");
    let tn = tenant("rounds", now);
    store
        .insert_tenant(&tn, entry("tenant.create", &tn, now))
        .await
        .expect("tenant");
    let t = tn.id;
    let s = queue(store, t, 5000, 120, now).await;

    // An early alert from a hunt, far from what follows.
    hunt(
        store,
        &[(t, seen(at("2026-11-28T07:00:00Z"), &[ALICE], vec![]))],
        now,
    )
    .await;
    round_of_each(store, t, &s[0..10], "2026-11-28T10:00:00Z", now).await;
    let list = alerts(store, t).await;
    assert_eq!(list.len(), 2, "the early alert's window is far off");
    assert_eq!(
        (list[1].count, evidence(store, &list[1]).await.len()),
        (10, 10)
    );

    // The next round folds into the same alert; an event it repeats is
    // kept once, and a new entity is added.
    let mut b = each(t, "2026-11-28T10:20:00Z", &s[10..20]);
    b.push((
        t,
        seen(
            at("2026-11-28T10:20:00Z"),
            &[ALICE, (EntityKind::Domain, "evil.example")],
            vec![s[5]],
        ),
    ));
    round(store, &s[10..20], &b, now).await;
    let list = alerts(store, t).await;
    assert_eq!(list.len(), 2, "folded, not new");
    assert_eq!(list[1].count, 21);
    assert!(
        list[1]
            .entities
            .contains(&Entity::new(EntityKind::Domain, "evil.example"))
    );
    assert_eq!(evidence(store, &list[1]).await, s[0..20].to_vec());

    // 90 more: an alert keeps its first 100 events, the repeat not among
    // them twice.
    round_of_each(store, t, &s[20..110], "2026-11-28T10:30:00Z", now).await;
    let list = alerts(store, t).await;
    assert_eq!(list[1].count, 111);
    assert_eq!(evidence(store, &list[1]).await, s[0..100].to_vec());

    // A hunt folds into it beside the worker; the worker's next round
    // counts on what the hunt did.
    hunt(
        store,
        &[(
            t,
            seen(
                at("2026-11-28T10:45:00Z"),
                &[ALICE, (EntityKind::Ip, "203.0.113.9")],
                vec![],
            ),
        )],
        now,
    )
    .await;
    round_of_each(store, t, &s[110..115], "2026-11-28T10:50:00Z", now).await;
    let list = alerts(store, t).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].count, 117, "the hunt's match and the round's five");
    assert!(
        list[1]
            .entities
            .contains(&Entity::new(EntityKind::Ip, "203.0.113.9"))
    );
    assert!(
        list[1]
            .entities
            .contains(&Entity::new(EntityKind::Domain, "evil.example"))
    );

    // A round reaching back before what the last ones read finds the
    // early alert.
    round_of_each(store, t, &s[115..120], "2026-11-28T07:30:00Z", now).await;
    let list = alerts(store, t).await;
    assert_eq!(list.len(), 2, "folded into the early alert");
    assert_eq!(
        (list[0].count, list[0].last_activity),
        (6, at("2026-11-28T07:30:00Z"))
    );

    // Retention takes the events the alert kept: it keeps the next ones.
    assert_eq!(
        store
            .purge_events(t, at("2026-11-28T12:00:01Z"))
            .await
            .expect("purge"),
        120
    );
    let later = at("2026-11-28T13:00:00Z");
    let more = queue(store, t, 6000, 3, later).await;
    round_of_each(store, t, &more, "2026-11-28T10:55:00Z", later).await;
    let list = alerts(store, t).await;
    assert_eq!(list[1].count, 120);
    assert_eq!(evidence(store, &list[1]).await, more);
}
