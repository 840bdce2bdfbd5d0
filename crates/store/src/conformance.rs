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
