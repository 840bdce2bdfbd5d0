//! The behaviour every backend must show. Each backend's tests call
//! [`run_all`] with a fresh, migrated store.

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry, ChainVerifier};
use vigil_core::tenant::{
    Lifecycle, ResponseAuthorisation, SettingChange, Tenant, TenantName, TenantSlug,
};
use vigil_core::{TenantId, Timestamp};

use vigil_core::identity::{ApiToken, IngestKey, Role, User};
use vigil_core::session::{LoginFailures, Session};

use crate::{Store, StoreError};

mod rounds;

fn at(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn tenant(slug: &str, now: Timestamp) -> Tenant {
    Tenant::new(
        TenantSlug::parse(slug).expect("slug"),
        TenantName::parse(&format!("{slug} corp")).expect("name"),
        now,
    )
}

fn entry(action: &str, t: &Tenant, now: Timestamp) -> AuditEntry {
    AuditEntry::new(
        now,
        &Actor::Cli("tester".into()),
        action,
        Some(t.id),
        format!("tenant:{}", t.slug),
        json!({"slug": t.slug}),
    )
}

/// Run every conformance check; panics with the check's name on failure.
pub async fn run_all(store: &dyn Store) {
    tenants_round_trip_with_their_settings(store).await;
    duplicate_slugs_are_refused(store).await;
    stale_updates_are_refused_as_conflicts(store).await;
    tenants_list_in_slug_order(store).await;
    users_tokens_and_ingest_keys_round_trip(store).await;
    sessions_and_login_failures_round_trip(store).await;
    tenant_audit_pages_hold_only_that_tenants_records(store).await;
    intake_stores_each_event_once_and_replays_a_known_batch(store).await;
    an_event_stored_under_its_arrival_is_stored_once_when_it_arrives_again(store).await;
    detections_fold_into_deduplicated_alerts_and_leave_the_queue(store).await;
    a_bus_batch_committed_twice_is_folded_once(store).await;
    rounds::rounds_fold_into_the_alerts_earlier_rounds_left(store).await;
    rule_packs_replace_by_name_and_tuning_is_per_tenant(store).await;
    crate::messages::conformance_check(store).await;
    notifications_queue_deliveries_that_come_due_and_keep_their_attempts(store).await;
    readiness_reads_activity_and_snapshots_and_keeps_assessments_and_their_schedule(store).await;
    sla_steps_commit_with_their_notifications_exactly_once(store).await;
    recommendations_are_one_per_entry_with_history_and_a_score_trend(store).await;
    major_state_and_ir_engagement_round_trip_beside_the_incident(store).await;
    a_monthly_report_is_recorded_with_its_notification_once(store).await;
    every_change_extends_one_verifiable_audit_chain(store).await;
    migrating_twice_applies_nothing_the_second_time(store).await;
}

async fn tenants_round_trip_with_their_settings(store: &dyn Store) {
    let now = at("2026-11-27T08:00:00.123456Z");
    let mut t = tenant("roundtrip", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("insert");
    let expected = t.version;
    t.apply(
        &[
            SettingChange::Authorisation(ResponseAuthorisation::Managed),
            SettingChange::AddExclusion("device:DC01".parse().expect("asset")),
        ],
        now,
    )
    .expect("apply");
    t.transition(Lifecycle::Monitoring, now, None)
        .expect("transition");
    store
        .update_tenant(&t, expected, entry("tenant.settings", &t, now))
        .await
        .expect("update");
    let by_slug = store
        .tenant_by_slug(&t.slug)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(by_slug, t, "tenant read back equals tenant written");
    let by_id = store
        .tenant_by_id(t.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(by_id, t);
    let missing = TenantId::new_at(now);
    assert!(store.tenant_by_id(missing).await.expect("read").is_none());
}

async fn duplicate_slugs_are_refused(store: &dyn Store) {
    let now = at("2026-11-27T08:00:00Z");
    let t = tenant("dupe", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("first insert");
    let again = tenant("dupe", now);
    let err = store
        .insert_tenant(&again, entry("tenant.create", &again, now))
        .await
        .expect_err("second insert refused");
    assert!(
        matches!(err, StoreError::Duplicate { .. }),
        "duplicate slug: {err}"
    );
}

async fn stale_updates_are_refused_as_conflicts(store: &dyn Store) {
    let now = at("2026-11-27T08:00:00Z");
    let mut t = tenant("stale", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("insert");
    let v1 = t.version;
    t.apply(&[SettingChange::LearningPeriodDays(3)], now)
        .expect("apply");
    store
        .update_tenant(&t, v1, entry("tenant.settings", &t, now))
        .await
        .expect("first update");
    let err = store
        .update_tenant(&t, v1, entry("tenant.settings", &t, now))
        .await
        .expect_err("stale version");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
}

async fn tenants_list_in_slug_order(store: &dyn Store) {
    let slugs: Vec<String> = store
        .list_tenants()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.slug.to_string())
        .collect();
    let mut sorted = slugs.clone();
    sorted.sort();
    assert_eq!(slugs, sorted);
    assert!(slugs.contains(&"roundtrip".to_owned()));
}

async fn users_tokens_and_ingest_keys_round_trip(store: &dyn Store) {
    let now = at("2026-11-27T08:30:00Z");
    let t = store
        .tenant_by_slug(&TenantSlug::parse("roundtrip").expect("slug"))
        .await
        .expect("read")
        .expect("tenant from an earlier check");
    let user = User::new(
        "Reader@Roundtrip.Example",
        Role::CustomerReader,
        Some(t.id),
        now,
    )
    .expect("valid user");
    let e =
        |action: &str| AuditEntry::new(now, &Actor::System, action, Some(t.id), "user", json!({}));
    store
        .insert_user(&user, "$argon2id$fake", e("user.create"))
        .await
        .expect("insert user");
    let err = store
        .insert_user(&user, "$argon2id$fake", e("user.create"))
        .await
        .expect_err("email taken");
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err}");
    let (back, hash) = store
        .user_by_email("READER@roundtrip.example")
        .await
        .expect("read")
        .expect("found by email, any case");
    assert_eq!(back, user);
    assert_eq!(hash, "$argon2id$fake");
    assert_eq!(
        store.list_users(Some(t.id)).await.expect("list"),
        vec![user.clone()]
    );

    let token = ApiToken {
        id: vigil_core::Id::new_at(now),
        user_id: user.id,
        name: "ci".into(),
        created_at: now,
        expires_at: Some(at("2027-01-01T00:00:00Z")),
        revoked_at: None,
    };
    store
        .insert_token(&token, "sha256-of-token", e("token.create"))
        .await
        .expect("insert token");
    let (found, owner) = store
        .token_by_hash("sha256-of-token")
        .await
        .expect("read")
        .expect("found");
    assert_eq!((found, owner), (token.clone(), user.clone()));
    assert!(store.token_by_hash("other").await.expect("read").is_none());
    store
        .revoke_token(token.id, now, e("token.revoke"))
        .await
        .expect("revoke");
    let (revoked, _) = store
        .token_by_hash("sha256-of-token")
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(revoked.revoked_at, Some(now));
    assert!(
        store
            .revoke_token(token.id, now, e("token.revoke"))
            .await
            .is_err(),
        "a revoked token cannot be revoked again"
    );

    let key = IngestKey {
        id: vigil_core::Id::new_at(now),
        tenant_id: t.id,
        name: "winlogbeat".into(),
        created_at: now,
        revoked_at: None,
    };
    store
        .insert_ingest_key(&key, "sha256-of-key", e("ingest_key.create"))
        .await
        .expect("insert key");
    assert_eq!(
        store
            .ingest_key_by_hash("sha256-of-key")
            .await
            .expect("read"),
        Some(key.clone())
    );
    let (by_id, _) = store
        .token_by_id(token.id)
        .await
        .expect("read")
        .expect("token by id");
    assert_eq!(by_id.id, token.id);
    assert_eq!(store.list_tokens(user.id).await.expect("list").len(), 1);
    assert_eq!(
        store.list_ingest_keys(t.id).await.expect("list"),
        vec![key.clone()]
    );
    let other_tenant = TenantId::new_at(now);
    assert!(
        store
            .revoke_ingest_key(other_tenant, key.id, now, e("ingest_key.revoke"))
            .await
            .is_err(),
        "a key is revoked only through its own tenant"
    );
    store
        .revoke_ingest_key(t.id, key.id, now, e("ingest_key.revoke"))
        .await
        .expect("revoke key");
    let revoked = store
        .ingest_key_by_hash("sha256-of-key")
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(revoked.revoked_at, Some(now));
}

async fn sessions_and_login_failures_round_trip(store: &dyn Store) {
    let now = at("2026-11-27T08:45:00Z");
    let (user, _) = store
        .user_by_email("reader@roundtrip.example")
        .await
        .expect("read")
        .expect("user from an earlier check");
    let e = |action: &str| AuditEntry::new(now, &Actor::System, action, None, "user", json!({}));
    let failures = LoginFailures {
        count: 2,
        window_start: now,
        locked_until: Some(at("2026-11-27T09:00:00Z")),
    };
    store
        .record_login_failure("Reader@Roundtrip.Example", &failures, e("login.failed"))
        .await
        .expect("record failure");
    assert_eq!(
        store
            .login_failures("reader@roundtrip.example")
            .await
            .expect("read"),
        Some(failures)
    );
    let session = |n: i64| Session {
        id: vigil_core::Id::new_at(now),
        user_id: user.id,
        created_at: now,
        expires_at: at("2026-11-27T20:45:00Z")
            .checked_add(jiff::SignedDuration::from_secs(n))
            .expect("time"),
        revoked_at: None,
    };
    let first = session(0);
    let second = session(1);
    store
        .insert_session(
            &first,
            "hash-1",
            "reader@roundtrip.example",
            e("session.create"),
        )
        .await
        .expect("insert session");
    assert_eq!(
        store
            .login_failures("reader@roundtrip.example")
            .await
            .expect("read"),
        None,
        "signing in forgets the failures"
    );
    store
        .insert_session(
            &second,
            "hash-2",
            "reader@roundtrip.example",
            e("session.create"),
        )
        .await
        .expect("insert session");
    assert_eq!(
        store.session_by_hash("hash-1").await.expect("read"),
        Some((first.clone(), user.clone()))
    );
    assert!(store.session_by_hash("nope").await.expect("read").is_none());
    store
        .revoke_session(first.id, now, e("session.revoke"))
        .await
        .expect("revoke");
    assert!(
        store
            .revoke_session(first.id, now, e("session.revoke"))
            .await
            .is_err(),
        "an ended session cannot end again"
    );
    let third = session(2);
    store
        .insert_session(
            &third,
            "hash-3",
            "reader@roundtrip.example",
            e("session.create"),
        )
        .await
        .expect("insert session");
    store
        .set_password(
            user.id,
            "$argon2id$new",
            Some(third.id),
            now,
            e("user.password"),
        )
        .await
        .expect("set password");
    let (_, hash) = store
        .user_by_email("reader@roundtrip.example")
        .await
        .expect("read")
        .expect("user");
    assert_eq!(hash, "$argon2id$new");
    let live = |h: &'static str| async move {
        let (s, _) = store
            .session_by_hash(h)
            .await
            .expect("read")
            .expect("session");
        s.revoked_at.is_none()
    };
    assert!(
        !live("hash-2").await,
        "other sessions end with a new password"
    );
    assert!(live("hash-3").await, "the session that changed it stays");
}

async fn tenant_audit_pages_hold_only_that_tenants_records(store: &dyn Store) {
    let t = store
        .tenant_by_slug(&TenantSlug::parse("roundtrip").expect("slug"))
        .await
        .expect("read")
        .expect("tenant from an earlier check");
    let page = store.tenant_audit_page(t.id, 0, 1000).await.expect("page");
    assert!(!page.is_empty());
    assert!(page.iter().all(|r| r.tenant_id == Some(t.id)));
    let all = store.audit_page(0, 1000).await.expect("page");
    assert!(all.len() > page.len(), "other records exist");
    let after = page[0].seq;
    let rest = store
        .tenant_audit_page(t.id, after, 1000)
        .await
        .expect("page");
    assert_eq!(rest.len(), page.len() - 1);
}

async fn every_change_extends_one_verifiable_audit_chain(store: &dyn Store) {
    let now = at("2026-11-27T09:00:00Z");
    store
        .append_audit(AuditEntry::new(
            now,
            &Actor::System,
            "system.check",
            None,
            "system",
            json!({}),
        ))
        .await
        .expect("append");
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    let mut actions = Vec::new();
    loop {
        // A small page size exercises paging.
        let page = store.audit_page(after, 2).await.expect("page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            verifier.check(r).expect("chain verifies");
            actions.push(r.action.clone());
        }
    }
    assert!(verifier.checked() >= 6, "records: {actions:?}");
    assert_eq!(actions.last().map(String::as_str), Some("system.check"));
    assert!(actions.contains(&"tenant.settings".to_owned()));
}

async fn migrating_twice_applies_nothing_the_second_time(store: &dyn Store) {
    let report = store.migrate().await.expect("migrate");
    assert!(report.applied.is_empty(), "{report:?}");
    assert!(report.version >= 1);
}

/// A Windows security event at `time` naming `entities`, its content
/// hash `hash-N` and its record `{"n":N}` (the backends' own tests build
/// theirs with it too).
pub fn security_event(
    n: i64,
    time: Timestamp,
    entities: Vec<vigil_core::Entity>,
    hunt: Option<vigil_core::hunting::HuntRow>,
) -> vigil_core::telemetry::NewEvent {
    vigil_core::telemetry::NewEvent {
        time,
        shape: "windows_evtx",
        product: Some("windows".into()),
        service: Some("security".into()),
        category: None,
        content_hash: format!("hash-{n}"),
        flags: 0,
        raw: format!(r#"{{"n":{n}}}"#),
        entities,
        hunt,
    }
}

fn event(n: u32, time: Timestamp) -> vigil_core::telemetry::NewEvent {
    let entities = vec![
        vigil_core::Entity::new(vigil_core::EntityKind::Device, "ws1"),
        vigil_core::Entity::new(vigil_core::EntityKind::User, format!("user{}", n % 2)),
    ];
    security_event(i64::from(n), time, entities, None)
}

async fn intake_stores_each_event_once_and_replays_a_known_batch(store: &dyn Store) {
    use vigil_core::telemetry::{IntakeBatch, NewDeadLetter};
    let now = at("2026-11-27T10:00:00Z");
    let t = tenant("telemetry", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("tenant");
    let batch = IntakeBatch {
        idempotency_key: Some("batch-1".into()),
        events: (0..300).map(|n| event(n, now)).collect(),
        dead_letters: vec![NewDeadLetter::new(
            "api:events",
            "line 3: not JSON",
            b"{oops",
        )],
    };
    let (first, seqs) = store
        .commit_intake(t.id, now, &batch)
        .await
        .expect("commit");
    assert_eq!(seqs.iter().flatten().count(), 300, "each event's seq");
    assert_eq!(
        (
            first.accepted,
            first.duplicates,
            first.dead_lettered,
            first.replayed
        ),
        (300, 0, 1, false)
    );
    let (again, _) = store
        .commit_intake(t.id, now, &batch)
        .await
        .expect("replay");
    assert!(again.replayed, "same key: nothing committed");
    assert_eq!(again.accepted, 300);
    assert_eq!(store.count_events(t.id).await.expect("count"), 300);
    let unkeyed = IntakeBatch {
        idempotency_key: None,
        events: (295..305).map(|n| event(n, now)).collect(),
        dead_letters: vec![],
    };
    let (dup, seqs) = store
        .commit_intake(t.id, now, &unkeyed)
        .await
        .expect("commit");
    assert_eq!(seqs[..5], [None; 5], "the five already stored have none");
    assert!(seqs[5..].iter().all(Option::is_some));
    assert_eq!(
        (dup.accepted, dup.duplicates),
        (10, 5),
        "identical events are one"
    );
    assert_eq!(store.count_events(t.id).await.expect("count"), 305);
    let dead = store.dead_letters(t.id, 0, 10).await.expect("dead letters");
    assert_eq!(dead.len(), 1, "the replay added no dead letter");
    assert_eq!(dead[0].reason, "line 3: not JSON");
    assert_eq!(dead[0].raw, "{oops");
    assert_eq!(store.detection_queue_len().await.expect("len"), 305);
    let backlog = store.detection_backlog(1000, true).await.expect("backlog");
    assert_eq!(backlog.len(), 305);
    let meta = store.detection_backlog(1000, false).await.expect("backlog");
    let seqs = store.queued_seqs(1000).await.expect("queued seqs");
    assert_eq!(
        seqs,
        backlog.iter().map(|e| e.seq).collect::<Vec<_>>(),
        "the queue's seqs, oldest first"
    );
    assert_eq!(store.queued_seqs(2).await.expect("queued seqs"), seqs[..2]);
    assert!(meta.iter().all(|e| e.event.raw.is_empty()));
    let raws = store.raw_by_seq(&[meta[0].seq]).await.expect("raw by seq");
    assert_eq!(raws, vec![(meta[0].seq, backlog[0].event.raw.clone())]);
    assert!(
        backlog.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );
    assert_eq!(backlog[0].event, event(0, now), "read back as written");
    let some = store
        .events_by_seq(t.id, &[backlog[1].seq, backlog[2].seq])
        .await
        .expect("by seq");
    assert_eq!(some.len(), 2);
    assert!(
        store
            .events_by_seq(TenantId::new_at(now), &[backlog[1].seq])
            .await
            .expect("by seq")
            .is_empty(),
        "another tenant's events are not found"
    );
}

/// Events stored under their arrival time (no time of their own, or one
/// too far ahead) are identical copies however late the copy comes: a
/// copy is a duplicate, not a second event, until retention removes the
/// first.
async fn an_event_stored_under_its_arrival_is_stored_once_when_it_arrives_again(store: &dyn Store) {
    use vigil_core::telemetry::IntakeBatch;
    use vigil_core::telemetry::flags::{FUTURE_TIME, NO_TIME};
    let now = at("2026-11-27T11:00:00Z");
    let later = at("2026-11-27T12:30:00Z");
    let t = tenant("arrival-times", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("tenant");
    let batch = |n: u32, flags: u32, arrival: Timestamp| IntakeBatch {
        idempotency_key: None,
        events: vec![vigil_core::telemetry::NewEvent {
            flags,
            ..event(n, arrival)
        }],
        dead_letters: vec![],
    };
    for (n, flags) in [(1, NO_TIME), (2, FUTURE_TIME)] {
        let (first, seqs) = store
            .commit_intake(t.id, now, &batch(n, flags, now))
            .await
            .expect("commit");
        assert_eq!((first.accepted, first.duplicates), (1, 0));
        assert!(seqs[0].is_some());
        let (again, seqs) = store
            .commit_intake(t.id, later, &batch(n, flags, later))
            .await
            .expect("commit");
        assert_eq!(
            (again.accepted, again.duplicates, seqs[0]),
            (1, 1, None),
            "the copy with flags {flags} is a duplicate"
        );
    }
    assert_eq!(store.count_events(t.id).await.expect("count"), 2);
    // They are read and purged by their arrival time: a day counted from
    // before it holds them, one from after it does not, and a cut before
    // it keeps them.
    let windows = |from: Timestamp| crate::FactWindows {
        activity_since: from,
        day_start: from,
        identity_since: from,
        snapshot_since: from,
    };
    let day = |from| async move {
        store
            .readiness_facts(t.id, windows(from))
            .await
            .expect("facts")
            .events_last_day
    };
    assert_eq!(day(at("2026-11-27T10:00:00Z")).await, 2);
    assert_eq!(day(at("2026-11-27T11:30:00Z")).await, 0);
    assert_eq!(
        store
            .purge_events(t.id, at("2026-11-27T10:00:00Z"))
            .await
            .expect("purge"),
        0
    );
    assert_eq!(store.count_events(t.id).await.expect("count"), 2);
    // Once retention has removed the first, a copy is stored again.
    store
        .purge_events(t.id, at("2026-11-27T12:00:00Z"))
        .await
        .expect("purge");
    assert_eq!(store.count_events(t.id).await.expect("count"), 0);
    let (after, seqs) = store
        .commit_intake(t.id, later, &batch(1, NO_TIME, later))
        .await
        .expect("commit");
    assert_eq!((after.duplicates, seqs[0].is_some()), (0, true));
}

/// A bus batch (`commit_detections_of`) takes exactly its events off the
/// queue and folds only what it took: committing it again (a redelivery)
/// changes nothing, and other tenants' queued events stay queued.
async fn a_bus_batch_committed_twice_is_folded_once(store: &dyn Store) {
    use vigil_core::alert::{AlertFilter, Observation};
    use vigil_core::telemetry::IntakeBatch;
    let now = at("2026-11-27T13:00:00Z");
    let t = tenant("bus", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("tenant");
    let batch = IntakeBatch {
        idempotency_key: None,
        events: (1000..1004).map(|n| event(n, now)).collect(),
        dead_letters: Vec::new(),
    };
    let (_, seqs) = store
        .commit_intake(t.id, now, &batch)
        .await
        .expect("intake");
    let seqs: Vec<i64> = seqs.into_iter().flatten().collect();
    let (mine, later) = seqs.split_at(3);
    let queued = store.queued_events(mine).await.expect("queued");
    assert_eq!(queued.iter().map(|e| e.seq).collect::<Vec<_>>(), mine);
    assert!(!queued[0].event.raw.is_empty(), "with their records");
    let observations: Vec<_> = mine
        .iter()
        .map(|&seq| {
            (
                t.id,
                Observation {
                    rule_id: "bus-rule".into(),
                    rule_title: "Bus rule".into(),
                    source: "sigma".into(),
                    severity: vigil_core::Severity::Medium,
                    tactics: Vec::new(),
                    techniques: Vec::new(),
                    entities: vec![vigil_core::Entity::new(
                        vigil_core::EntityKind::User,
                        "carol",
                    )],
                    time: now,
                    events: vec![seq],
                },
            )
        })
        .collect();
    let (touched, taken) = store
        .commit_detections_of(mine, &observations, now)
        .await
        .expect("commit");
    assert_eq!((touched.len(), taken.as_slice()), (1, mine));
    let (touched, taken) = store
        .commit_detections_of(mine, &observations, now)
        .await
        .expect("commit again");
    assert!(
        touched.is_empty() && taken.is_empty(),
        "a redelivery adds nothing"
    );
    let alerts = store
        .list_alerts(
            t.id,
            &AlertFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 3, "each event folded once");
    assert!(store.queued_events(mine).await.expect("queued").is_empty());
    assert_eq!(store.queued_events(later).await.expect("queued").len(), 1);
    // Leave the queue as the other checks expect it: empty.
    store
        .commit_detections_of(later, &[], now)
        .await
        .expect("commit the rest");
}

async fn detections_fold_into_deduplicated_alerts_and_leave_the_queue(store: &dyn Store) {
    use vigil_core::Severity;
    use vigil_core::alert::{AlertFilter, Observation};
    let t = store
        .tenant_by_slug(&TenantSlug::parse("telemetry").expect("slug"))
        .await
        .expect("read")
        .expect("tenant from an earlier check");
    let backlog = store.detection_backlog(1000, false).await.expect("backlog");
    let (first, last) = (backlog[0].seq, backlog[backlog.len() - 1].seq);
    let obs = |rule: &str, user: &str, time: &str, seq: i64| Observation {
        rule_id: rule.into(),
        rule_title: format!("Rule {rule}"),
        source: "sigma".into(),
        severity: if rule == "r1" {
            Severity::High
        } else {
            Severity::Low
        },
        tactics: vec!["execution".into()],
        techniques: vec!["T1059".into()],
        entities: vec![
            vigil_core::Entity::new(vigil_core::EntityKind::Device, "ws1"),
            vigil_core::Entity::new(vigil_core::EntityKind::User, user),
        ],
        time: at(time),
        events: vec![seq],
    };
    let observations = vec![
        (t.id, obs("r1", "alice", "2026-11-27T10:00:00Z", first)),
        (t.id, obs("r1", "alice", "2026-11-27T10:30:00Z", first + 1)),
        (t.id, obs("r1", "bob", "2026-11-27T10:10:00Z", first + 2)),
        (t.id, obs("r2", "alice", "2026-11-27T10:20:00Z", first + 3)),
        // Beyond the window after the last alice/r1 match: a new alert.
        (t.id, obs("r1", "alice", "2026-11-27T12:00:00Z", first + 4)),
    ];
    let now = at("2026-11-27T12:01:00Z");
    let touched = store
        .commit_detections(first, last, &observations, now)
        .await
        .expect("commit");
    assert_eq!(touched.len(), 4);
    assert_eq!(store.detection_queue_len().await.expect("len"), 0);
    let all = AlertFilter {
        limit: 100,
        ..Default::default()
    };
    let alerts = store.list_alerts(t.id, &all).await.expect("list");
    assert_eq!(alerts.len(), 4);
    assert_eq!(
        alerts[0].last_activity,
        at("2026-11-27T12:00:00Z"),
        "newest first"
    );
    let folded = alerts
        .iter()
        .find(|a| a.rule_id == "r1" && a.count == 2)
        .expect("two alice matches in one alert");
    assert_eq!(folded.first_activity, at("2026-11-27T10:00:00Z"));
    assert_eq!(folded.last_activity, at("2026-11-27T10:30:00Z"));

    // A later batch folds into the open alert.
    let more = vec![(t.id, obs("r1", "alice", "2026-11-27T12:20:00Z", first + 5))];
    store
        .commit_detections(0, -1, &more, now)
        .await
        .expect("commit");
    let alerts = store.list_alerts(t.id, &all).await.expect("list");
    assert_eq!(alerts.len(), 4, "folded, not new");
    assert_eq!(alerts[0].count, 2);

    let high = AlertFilter {
        severities: vec![Severity::High],
        limit: 100,
        ..Default::default()
    };
    assert_eq!(store.list_alerts(t.id, &high).await.expect("list").len(), 3);
    let bob = AlertFilter {
        entity: Some(vigil_core::Entity::new(vigil_core::EntityKind::User, "bob")),
        limit: 100,
        ..Default::default()
    };
    let bobs = store.list_alerts(t.id, &bob).await.expect("list");
    assert_eq!(bobs.len(), 1);
    let (one, evidence) = store
        .alert(t.id, bobs[0].id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(one, bobs[0]);
    assert_eq!(evidence, vec![first + 2], "its matching event");
    assert!(
        store
            .alert(TenantId::new_at(now), bobs[0].id)
            .await
            .expect("read")
            .is_none(),
        "not through another tenant"
    );
    let r2 = AlertFilter {
        rule_id: Some("r2".into()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(store.list_alerts(t.id, &r2).await.expect("list").len(), 1);
    // Pages of one, following the cursor, visit every alert once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_alerts(
                t.id,
                &AlertFilter {
                    after,
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .expect("page");
        let Some(a) = page.first() else { break };
        seen.push(a.id);
        after = Some((a.last_activity, a.id));
    }
    assert_eq!(seen.len(), 4);
    // A batch that already holds a far-off alert of the key still folds a
    // match into the stored alert whose window it falls in: which events
    // share a batch (the bus's deliveries, the queue's rounds) does not
    // decide the folding.
    let mixed = vec![
        (t.id, obs("r1", "alice", "2026-11-27T20:00:00Z", first + 6)),
        (t.id, obs("r1", "alice", "2026-11-27T10:40:00Z", first + 7)),
    ];
    store
        .commit_detections(0, -1, &mixed, now)
        .await
        .expect("commit");
    let alerts = store.list_alerts(t.id, &all).await.expect("list");
    assert_eq!(alerts.len(), 5, "only the far-off match is a new alert");
    let morning = alerts
        .iter()
        .find(|a| a.rule_id == "r1" && a.first_activity == at("2026-11-27T10:00:00Z"))
        .expect("the morning alert");
    assert_eq!(
        (morning.count, morning.last_activity),
        (3, at("2026-11-27T10:40:00Z"))
    );
    // One batch of several keys folds each match into its own key's
    // stored alert, with its entities and events.
    let keys = vec![
        (t.id, obs("r2", "alice", "2026-11-27T11:00:00Z", first + 8)),
        (t.id, obs("r1", "bob", "2026-11-27T10:50:00Z", first + 9)),
    ];
    let touched = store
        .commit_detections(0, -1, &keys, now)
        .await
        .expect("commit");
    assert_eq!(touched.len(), 2);
    let alerts = store.list_alerts(t.id, &all).await.expect("list");
    assert_eq!(alerts.len(), 5, "both folded");
    let bobs = store.list_alerts(t.id, &bob).await.expect("list");
    assert_eq!((bobs.len(), bobs[0].count), (1, 2));
    let (_, evidence) = store
        .alert(t.id, bobs[0].id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(evidence, vec![first + 2, first + 9]);
    let r2s = store.list_alerts(t.id, &r2).await.expect("list");
    assert_eq!(
        (r2s.len(), r2s[0].count, r2s[0].last_activity),
        (1, 2, at("2026-11-27T11:00:00Z"))
    );
    assert_eq!(
        store
            .purge_events(t.id, at("2026-11-27T10:00:01Z"))
            .await
            .expect("purge"),
        305
    );
    assert_eq!(store.count_events(t.id).await.expect("count"), 0);
    assert!(store.try_detection_lease().expect("lease").is_some());
}

async fn rule_packs_replace_by_name_and_tuning_is_per_tenant(store: &dyn Store) {
    use vigil_core::rules::{Exclusion, Matcher, RuleFile, RuleSummary};
    let now = at("2026-11-27T13:00:00Z");
    let e = |action: &str| AuditEntry::new(now, &Actor::System, action, None, "rules", json!({}));
    let file = |path: &str| RuleFile {
        pack: "p".into(),
        path: path.into(),
        yaml: format!("title: {path}"),
    };
    let rule = |id: &str, path: &str| RuleSummary {
        id: id.into(),
        pack: "p".into(),
        path: path.into(),
        title: id.into(),
        level: vigil_core::Severity::High,
        kind: "detection",
    };
    store
        .put_rule_pack(
            "p",
            "/rules",
            &[file("a.yml"), file("b.yml")],
            &[rule("r1", "a.yml"), rule("r2", "b.yml")],
            e("rules.add"),
        )
        .await
        .expect("add");
    store
        .put_rule_pack(
            "p",
            "/rules",
            &[file("a.yml")],
            &[rule("r1", "a.yml")],
            e("rules.add"),
        )
        .await
        .expect("replace");
    assert_eq!(
        store.rule_files().await.expect("files").len(),
        1,
        "replaced"
    );
    assert_eq!(store.list_rules().await.expect("rules").len(), 1);
    let other = RuleSummary {
        pack: "q".into(),
        ..rule("r1", "x.yml")
    };
    assert!(
        store
            .put_rule_pack("q", "/q", &[], &[other], e("rules.add"))
            .await
            .is_err(),
        "a rule id lives in one pack"
    );
    let t = store
        .tenant_by_slug(&TenantSlug::parse("telemetry").expect("slug"))
        .await
        .expect("read")
        .expect("tenant from an earlier check");
    store
        .set_rule_enabled(t.id, "r1", false, now, e("rules.disable"))
        .await
        .expect("disable");
    let id = store
        .add_exclusion(
            &Exclusion {
                id: 0,
                tenant_id: t.id,
                rule_id: None,
                matcher: Matcher::Field("Image".into()),
                value: "x.exe".into(),
                reason: "admin tool".into(),
                created_at: now,
                created_by: "analyst@mdr.example".into(),
            },
            e("rules.exclude"),
        )
        .await
        .expect("exclude");
    let tuning = store.tuning(t.id).await.expect("tuning");
    assert!(tuning.disabled.contains("r1"));
    assert_eq!(tuning.exclusions.len(), 1);
    assert_eq!(tuning.exclusions[0].id, id);
    let elsewhere = store.tuning(TenantId::new_at(now)).await.expect("tuning");
    assert!(elsewhere.disabled.is_empty() && elsewhere.exclusions.is_empty());
    assert!(
        store
            .remove_exclusion(TenantId::new_at(now), id, e("rules.unexclude"))
            .await
            .is_err(),
        "only through its tenant"
    );
    store
        .remove_exclusion(t.id, id, e("rules.unexclude"))
        .await
        .expect("remove");
    store
        .set_rule_enabled(t.id, "r1", true, now, e("rules.enable"))
        .await
        .expect("enable");
    assert_eq!(
        store.tuning(t.id).await.expect("tuning"),
        Default::default()
    );
}

async fn a_monthly_report_is_recorded_with_its_notification_once(store: &dyn Store) {
    use vigil_core::notification::{
        Audience, Delivery, DeliveryId, DeliveryStatus, Destination, Notification, NotificationKind,
    };
    let now = at("2026-12-01T00:05:00Z");
    let t = tenant("reported", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("insert tenant");
    let n = |id_at: &str| Notification {
        id: vigil_core::notification::NotificationId::new_at(at(id_at)),
        tenant_id: t.id,
        kind: NotificationKind::ServiceReport,
        audience: Audience::ServiceReviewContacts,
        subject: "Service report for Reported, 2026-11".into(),
        body: "Incidents investigated: 0".into(),
        link: None,
        incident: None,
        created_at: now,
    };
    let first = n("2026-12-01T00:05:00Z");
    let delivery = Delivery {
        id: DeliveryId::new_at(now),
        notification: first.id,
        tenant_id: t.id,
        destination: Destination::Email {
            to: "rita@reported.example".into(),
        },
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_error: None,
        updated_at: now,
    };
    assert!(!store.report_delivered(t.id, "2026-11").await.expect("read"));
    let recorded = store
        .record_report_delivery(
            t.id,
            "2026-11",
            &first,
            std::slice::from_ref(&delivery),
            entry("report.send", &t, now),
        )
        .await
        .expect("record");
    assert!(recorded.is_some());
    assert!(store.report_delivered(t.id, "2026-11").await.expect("read"));
    assert!(!store.report_delivered(t.id, "2026-10").await.expect("read"));
    let second = n("2026-12-01T01:05:00Z");
    let again = store
        .record_report_delivery(t.id, "2026-11", &second, &[], entry("report.send", &t, now))
        .await
        .expect("second");
    assert_eq!(again, None, "the month was sent: nothing is written");
    assert_eq!(store.notification(second.id).await.expect("read"), None);
    assert_eq!(
        store.notification(first.id).await.expect("read"),
        Some(first.clone())
    );
    assert!(
        store
            .report_incidents(t.id, at("2026-06-01T00:00:00Z"), now)
            .await
            .expect("incidents")
            .is_empty()
    );
    assert!(
        store
            .report_tasks(t.id, at("2026-06-01T00:00:00Z"))
            .await
            .expect("tasks")
            .is_empty()
    );
}

async fn notifications_queue_deliveries_that_come_due_and_keep_their_attempts(store: &dyn Store) {
    use vigil_core::notification::{
        Audience, Delivery, DeliveryId, DeliveryStatus, Destination, Notification, NotificationKind,
    };
    let now = at("2026-11-27T14:00:00Z");
    let t = tenant("notify", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("insert tenant");
    let n = Notification {
        id: vigil_core::notification::NotificationId::new_at(now),
        tenant_id: t.id,
        kind: NotificationKind::ResponsePublished,
        audience: Audience::IncidentContacts,
        subject: "Response published".into(),
        body: "Isolate DC01".into(),
        link: Some("/tenants/notify/incidents/x".into()),
        incident: None,
        created_at: now,
    };
    let delivery = |to: &str, status| Delivery {
        id: DeliveryId::new_at(now),
        notification: n.id,
        tenant_id: t.id,
        destination: Destination::Email { to: to.into() },
        status,
        attempts: 0,
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(now),
        last_error: None,
        updated_at: now,
    };
    let sent = delivery("a@notify.example", DeliveryStatus::Pending);
    let held = delivery("b@notify.example", DeliveryStatus::Held);
    store
        .queue_notification(
            &n,
            &[sent.clone(), held.clone()],
            entry("notification.queue", &t, now),
        )
        .await
        .expect("queue");
    assert_eq!(
        store.notification(n.id).await.expect("read"),
        Some(n.clone())
    );
    let due = store.due_deliveries(now, 10).await.expect("due");
    assert_eq!(due, vec![sent.clone()], "only the pending delivery is due");
    let mut retry = sent.clone();
    retry.status = DeliveryStatus::Retrying;
    retry.attempts = 1;
    retry.next_attempt_at = Some(at("2026-11-27T14:00:30Z"));
    retry.last_error = Some("connection refused".into());
    store
        .record_attempt(&retry, "failed", "connection refused", None)
        .await
        .expect("record");
    assert!(store.due_deliveries(now, 10).await.expect("due").is_empty());
    assert_eq!(
        store
            .due_deliveries(at("2026-11-27T14:00:30Z"), 10)
            .await
            .expect("due"),
        vec![retry.clone()]
    );
    let listed = store
        .notifications(Some(t.id), None, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1.len(), 2);
    assert!(
        store
            .notifications(Some(TenantId::new_at(now)), None, 10)
            .await
            .expect("other")
            .is_empty()
    );
    assert_eq!(
        store.delivery(retry.id).await.expect("one delivery"),
        Some(retry.clone())
    );
    assert_eq!(
        store
            .delivery(DeliveryId::new_at(now))
            .await
            .expect("no delivery"),
        None
    );
    let attempts = store.delivery_attempts(sent.id).await.expect("attempts");
    assert_eq!(
        attempts,
        vec![(now, "failed".to_owned(), "connection refused".to_owned())]
    );
}

async fn readiness_reads_activity_and_snapshots_and_keeps_assessments_and_their_schedule(
    store: &dyn Store,
) {
    use vigil_core::readiness::{Assessment, Trigger};
    use vigil_core::telemetry::{IntakeBatch, NewDeadLetter, NewEvent};
    use vigil_core::{Entity, EntityKind as K};
    let now = at("2026-11-27T12:00:00Z");
    let t = tenant("readiness", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("tenant");
    let ev =
        |n: u32, time: &str, shape: &'static str, service: &str, entities: Vec<Entity>| NewEvent {
            time: at(time),
            shape,
            product: Some(
                if shape.ends_with("inventory") {
                    "vigil"
                } else {
                    "windows"
                }
                .into(),
            ),
            service: Some(service.into()),
            category: None,
            content_hash: format!("readiness-{n}"),
            flags: 0,
            raw: format!(r#"{{"n":{n}}}"#),
            entities,
            hunt: None,
        };
    let dev = |h: &str| Entity::new(K::Device, h);
    let batch = IntakeBatch {
        idempotency_key: None,
        events: vec![
            ev(
                1,
                "2026-11-27T11:00:00Z",
                "windows_evtx",
                "sysmon",
                vec![
                    dev("ws1"),
                    Entity::new(K::Process, "c:\\windows\\cmd.exe"),
                    Entity::new(K::User, "corp\\alice"),
                ],
            ),
            ev(
                2,
                "2026-11-27T11:30:00Z",
                "windows_evtx",
                "sysmon",
                vec![
                    dev("ws1"),
                    Entity::new(K::Process, "c:\\windows\\notepad.exe"),
                ],
            ),
            ev(
                3,
                "2026-11-24T08:00:00Z",
                "windows_evtx",
                "security",
                vec![dev("ws2")],
            ),
            // Dated an hour ahead of its receipt: a skewed clock.
            ev(
                4,
                "2026-11-27T13:00:00Z",
                "windows_evtx",
                "security",
                vec![dev("ws3")],
            ),
            ev(
                5,
                "2026-11-26T06:00:00Z",
                "device_inventory",
                "inventory",
                vec![dev("ws9")],
            ),
            ev(
                6,
                "2026-11-27T06:00:00Z",
                "device_inventory",
                "inventory",
                vec![dev("ws9")],
            ),
            ev(
                7,
                "2026-11-27T06:00:00Z",
                "identity_inventory",
                "identity_inventory",
                vec![
                    Entity::new(K::User, "alice@corp.example"),
                    Entity::new(K::User, "corp\\alice"),
                ],
            ),
        ],
        dead_letters: vec![NewDeadLetter::new("api:events", "line 1: not JSON", b"{x")],
    };
    store
        .commit_intake(t.id, now, &batch)
        .await
        .expect("intake");
    let windows = crate::FactWindows {
        activity_since: at("2026-10-28T12:00:00Z"),
        day_start: at("2026-11-26T12:00:00Z"),
        identity_since: at("2026-11-20T12:00:00Z"),
        snapshot_since: at("2026-10-28T12:00:00Z"),
    };
    let f = store.readiness_facts(t.id, windows).await.expect("facts");
    let sysmon = f
        .streams
        .iter()
        .find(|s| s.service.as_deref() == Some("sysmon") && s.entity.is_none())
        .expect("sysmon stream");
    assert_eq!(
        (sysmon.events_last_day, sysmon.last_event),
        (2, at("2026-11-27T11:30:00Z"))
    );
    let process = f
        .streams
        .iter()
        .find(|s| s.entity.as_deref() == Some("process"))
        .expect("process stream");
    assert_eq!(process.events_last_day, 2);
    let security = f
        .streams
        .iter()
        .find(|s| s.service.as_deref() == Some("security") && s.entity.is_none())
        .expect("security stream");
    assert_eq!(
        security.events_last_day, 1,
        "the 3-day-old event is outside the day"
    );
    assert!(
        f.streams.iter().all(|s| !s.shape.ends_with("inventory")),
        "snapshots are not activity"
    );
    let devices: Vec<&str> = f.devices.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(
        devices,
        ["ws1", "ws2", "ws3"],
        "ws9 only appears in inventory"
    );
    assert_eq!(f.devices[0].1, at("2026-11-27T11:30:00Z"));
    assert_eq!(
        f.users,
        [("corp\\alice".to_owned(), at("2026-11-27T11:00:00Z"))]
    );
    assert_eq!(f.clock_ahead, [("ws3".to_owned(), 3600)]);
    assert_eq!((f.events_last_day, f.dead_letters_last_day), (5, 1));
    assert_eq!(
        f.device_snapshots,
        [r#"{"n":6}"#],
        "the newest snapshot of ws9"
    );
    assert_eq!(
        f.identity_snapshots,
        [r#"{"n":7}"#],
        "once, though it names two users"
    );

    // Assessments, newest first; the schedule and what was notified.
    assert!(
        store
            .due_assessments(now)
            .await
            .expect("due")
            .contains(&t.id),
        "never run is due"
    );
    let first = Assessment::new(t.id, now, Trigger::OnDemand, Vec::new());
    store
        .save_assessment(
            &first,
            at("2026-11-28T12:00:00Z"),
            Some(&["a".to_owned()]),
            entry("readiness.run", &t, now),
        )
        .await
        .expect("save");
    let later = at("2026-11-28T12:00:00Z");
    let second = Assessment::new(t.id, later, Trigger::Schedule, Vec::new());
    store
        .save_assessment(
            &second,
            at("2026-11-29T12:00:00Z"),
            None,
            entry("readiness.run", &t, later),
        )
        .await
        .expect("save");
    let all = store.assessments(t.id, None, 10).await.expect("history");
    assert_eq!(
        all.iter().map(|a| a.id).collect::<Vec<_>>(),
        [second.id, first.id]
    );
    assert_eq!(all[1], first);
    let older = store
        .assessments(t.id, Some(second.id), 10)
        .await
        .expect("page");
    assert_eq!(older.len(), 1);
    let state = store.readiness_state(t.id).await.expect("state");
    assert_eq!(state.next_due, Some(at("2026-11-29T12:00:00Z")));
    assert_eq!(state.notified, ["a"], "kept when not given");
    assert!(
        !store
            .due_assessments(later)
            .await
            .expect("due")
            .contains(&t.id)
    );
    assert!(
        store
            .due_assessments(at("2026-11-29T12:00:00Z"))
            .await
            .expect("due")
            .contains(&t.id)
    );
}

async fn sla_steps_commit_with_their_notifications_exactly_once(store: &dyn Store) {
    use vigil_core::notification::{Audience, Notification, NotificationKind};
    use vigil_core::sla::{SlaAction, SlaKind, SlaTimer, StopReason};
    let now = at("2026-11-27T15:00:00Z");
    let t = tenant("slatimers", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("insert tenant");
    let incident = vigil_core::incident::IncidentId::new_at(now);
    let start = |kind| {
        SlaTimer::start(
            t.id,
            incident,
            kind,
            jiff::SignedDuration::from_hours(1),
            now,
        )
    };
    let (ack, complete) = (start(SlaKind::Acknowledge), start(SlaKind::Complete));
    let started = store
        .start_sla_timers(
            &[ack.clone(), complete.clone()],
            entry("sla.start", &t, now),
        )
        .await
        .expect("start");
    assert_eq!(started, vec![ack.clone(), complete.clone()]);
    let again = store
        .start_sla_timers(&[start(SlaKind::Acknowledge)], entry("sla.start", &t, now))
        .await
        .expect("start again");
    assert!(
        again.is_empty(),
        "one running timer of each kind per incident"
    );

    let later = at("2026-11-27T15:30:00Z");
    let mut step = ack.clone();
    step.record(SlaAction::RemindHalf, later);
    let note = Notification {
        id: vigil_core::notification::NotificationId::new_at(later),
        tenant_id: t.id,
        kind: NotificationKind::SlaReminder,
        audience: Audience::IncidentContacts,
        subject: "Half the time to acknowledge has passed".into(),
        body: String::new(),
        link: None,
        incident: Some(incident),
        created_at: later,
    };
    store
        .save_sla_timer(
            &step,
            ack.version,
            &[(note.clone(), Vec::new())],
            entry("sla.remind", &t, later),
        )
        .await
        .expect("step");
    // A second writer that read the same version loses, and queues nothing.
    let mut twice = ack.clone();
    twice.record(SlaAction::RemindHalf, later);
    let dup = Notification {
        id: vigil_core::notification::NotificationId::new_at(later),
        ..note.clone()
    };
    let err = store
        .save_sla_timer(
            &twice,
            ack.version,
            &[(dup, Vec::new())],
            entry("sla.remind", &t, later),
        )
        .await
        .expect_err("stale version");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let queued = store
        .notifications(Some(t.id), None, 10)
        .await
        .expect("list");
    assert_eq!(queued.len(), 1, "the losing step queued nothing");

    let timers = store
        .incident_sla_timers(t.id, incident)
        .await
        .expect("timers");
    assert_eq!(timers.len(), 2);
    assert_eq!(timers[0], step, "every column round-trips");
    let mut stopped = step.clone();
    stopped.stop(at("2026-11-27T16:20:00Z"), StopReason::Acknowledged);
    store
        .save_sla_timer(&stopped, step.version, &[], entry("sla.stop", &t, later))
        .await
        .expect("stop");
    let running = store.running_sla_timers(None, 100).await.expect("running");
    let first = store.running_sla_timers(None, 1).await.expect("page");
    assert_eq!(first.len(), 1);
    assert!(
        store
            .running_sla_timers(Some(first[0].id), 100)
            .await
            .expect("next page")
            .iter()
            .all(|r| r.id > first[0].id),
        "pages follow id order"
    );
    assert!(running.iter().all(|r| r.id != ack.id));
    assert!(running.iter().any(|r| r.id == complete.id));
    let due = store
        .sla_timers_due(t.id, now, at("2026-11-27T17:00:00Z"))
        .await
        .expect("due");
    assert_eq!(due.len(), 2);
    assert_eq!(due.iter().find(|d| d.id == ack.id), Some(&stopped));
    assert_eq!(stopped.overdue, Some(jiff::SignedDuration::from_mins(20)));
    assert!(
        store
            .sla_timers_due(t.id, at("2026-11-27T16:00:01Z"), at("2026-11-28T00:00:00Z"))
            .await
            .expect("due later")
            .is_empty()
    );
    // A fresh timer may start once the old one stopped.
    let next = store
        .start_sla_timers(&[start(SlaKind::Acknowledge)], entry("sla.start", &t, now))
        .await
        .expect("restart");
    assert_eq!(next.len(), 1);
}

async fn recommendations_are_one_per_entry_with_history_and_a_score_trend(store: &dyn Store) {
    use vigil_core::recommendation::{
        PostureScore, Recommendation, RecommendationCategory, RecommendationId,
        RecommendationStatus, Verification,
    };
    let now = at("2026-11-27T09:00:00Z");
    let t = tenant("posture", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("tenant");
    let mut rec = Recommendation {
        id: RecommendationId::new_at(now),
        tenant_id: t.id,
        kb_id: "device.lsass_protection".into(),
        title: "LSASS".into(),
        category: RecommendationCategory::Device,
        points: 10,
        status: RecommendationStatus::Open,
        completed_by: None,
        reason: None,
        expires_at: None,
        incidents: vec![],
        assets: vec![],
        checks: vec![],
        verification: Verification::new(Some("all(device.lsass_protection)".into())),
        notes: vec![],
        raised_at: now,
        updated_at: now,
    };
    let score = |recs: &[Recommendation], at: Timestamp| PostureScore::of(at, recs);
    store
        .put_recommendation(
            &rec,
            None,
            &["raised".into()],
            "system",
            &score(&[rec.clone()], now),
            entry("recommendation.raise", &t, now),
        )
        .await
        .expect("insert");
    let mut copy = rec.clone();
    copy.id = RecommendationId::new_at(now);
    let dup = store
        .put_recommendation(
            &copy,
            None,
            &[],
            "system",
            &score(&[], now),
            entry("recommendation.raise", &t, now),
        )
        .await
        .expect_err("a second row for the same entry");
    assert!(matches!(dup, StoreError::Duplicate { .. }), "{dup}");

    let later = at("2026-11-27T10:00:00Z");
    let before = rec.updated_at;
    rec.status = RecommendationStatus::Completed;
    rec.updated_at = later;
    store
        .put_recommendation(
            &rec,
            Some(before),
            &["status open → completed".into()],
            "system",
            &score(&[rec.clone()], later),
            entry("recommendation.update", &t, later),
        )
        .await
        .expect("update");
    let stale = store
        .put_recommendation(
            &rec,
            Some(before),
            &[],
            "system",
            &score(&[], later),
            entry("recommendation.update", &t, later),
        )
        .await
        .expect_err("stale");
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");

    let (back, history) = store
        .recommendation(t.id, rec.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(back, rec);
    assert_eq!(
        history
            .iter()
            .map(|h| h.change.as_str())
            .collect::<Vec<_>>(),
        ["raised", "status open → completed"]
    );
    assert_eq!(
        store.recommendations(t.id).await.expect("list"),
        [rec.clone()]
    );
    let trend = store.posture_scores(t.id, 10).await.expect("scores");
    assert_eq!(
        trend.iter().map(|s| s.percent).collect::<Vec<_>>(),
        [Some(100.0), Some(0.0)],
        "newest first"
    );
    assert!(
        store
            .tenants_with_recommendations()
            .await
            .expect("tenants")
            .contains(&t.id)
    );
}

async fn major_state_and_ir_engagement_round_trip_beside_the_incident(store: &dyn Store) {
    use vigil_core::incident::{Incident, IncidentId, IncidentStatus};
    use vigil_core::major::{Criterion, Evidence, FiredCriterion, IrEngagement, MajorState};
    let now = at("2026-11-27T15:00:00Z");
    let t = tenant("major", now);
    store
        .insert_tenant(&t, entry("tenant.create", &t, now))
        .await
        .expect("insert tenant");
    let incident = Incident {
        id: IncidentId::new_at(now),
        tenant_id: t.id,
        title: "Ransomware".into(),
        alert_severity: vigil_core::Severity::Critical,
        analyst_severity: None,
        status: IncidentStatus::New,
        first_activity: now,
        last_activity: now,
        entities: Vec::new(),
        tactics: Vec::new(),
        techniques: Vec::new(),
        alert_count: 0,
        redirected_to: None,
        merged: Vec::new(),
        rules: Vec::new(),
        links: Vec::new(),
    };
    store
        .save_correlation(std::slice::from_ref(&incident), &[], &[], now, None)
        .await
        .expect("incident");
    let state = MajorState {
        major: true,
        ir_recommended: true,
        criteria: vec![FiredCriterion {
            criterion: Criterion::ManyHosts,
            summary: "one rule on 5 hosts".into(),
            evidence: Evidence {
                hosts: vec!["ws1".into()],
                ..Evidence::default()
            },
            at: now,
        }],
        set_by: "system".into(),
        reason: None,
        changed_at: now,
    };
    let engagement = IrEngagement::requested(now, Some("Rapid IR".into()));
    store
        .save_major(
            t.id,
            incident.id,
            &state,
            Some(&engagement),
            &[],
            entry("incident.major", &t, now),
        )
        .await
        .expect("save major");
    let (record, _, _) = store
        .incident(t.id, incident.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(record.major.as_ref(), Some(&state));
    assert_eq!(record.ir_engagement.as_ref(), Some(&engagement));
    // `None` keeps the stored engagement.
    let cleared = MajorState {
        major: false,
        ..state.clone()
    };
    store
        .save_major(
            t.id,
            incident.id,
            &cleared,
            None,
            &[],
            entry("incident.major", &t, now),
        )
        .await
        .expect("clear");
    let (record, _, _) = store
        .incident(t.id, incident.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(record.major.as_ref().map(|m| m.major), Some(false));
    assert_eq!(record.ir_engagement.as_ref(), Some(&engagement));
    let other = tenant("major-other", now);
    store
        .insert_tenant(&other, entry("tenant.create", &other, now))
        .await
        .expect("other tenant");
    let err = store
        .save_major(
            other.id,
            incident.id,
            &state,
            None,
            &[],
            entry("incident.major", &other, now),
        )
        .await
        .expect_err("another tenant's incident");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}
