//! Users, tokens, ingest keys and tenant isolation through the service.

use std::sync::Arc;

use vigil_core::identity::{Principal, Role};
use vigil_core::tenant::{Lifecycle, ResponseAuthorisation, SettingChange};
use vigil_service::{FixedClock, Service, ServiceError};
use vigil_store::{SqliteStore, Store};

const PASSWORD: &str = "correct horse battery staple";

async fn service() -> (Service, Arc<FixedClock>) {
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new("2026-11-27T09:00:00Z".parse().expect("ts")));
    (Service::new(Arc::new(store), clock.clone()), clock)
}

fn operator() -> Principal {
    Principal::Operator("tester".into())
}

/// Two tenants and a user of each role; returns the principals by name.
async fn world(svc: &Service) -> Vec<(&'static str, Principal)> {
    let op = operator();
    svc.create_tenant(&op, "acme", "Acme").await.expect("acme");
    svc.create_tenant(&op, "globex", "Globex")
        .await
        .expect("globex");
    let mut out = Vec::new();
    for (name, email, role, tenant) in [
        ("admin", "admin@mdr.example", Role::ProviderAdmin, None),
        ("analyst", "analyst@mdr.example", Role::Analyst, None),
        ("dm", "dm@mdr.example", Role::DeliveryManager, None),
        (
            "acme_admin",
            "admin@acme.example",
            Role::CustomerAdmin,
            Some("acme"),
        ),
        (
            "acme_responder",
            "soc@acme.example",
            Role::CustomerResponder,
            Some("acme"),
        ),
        (
            "acme_reader",
            "reader@acme.example",
            Role::CustomerReader,
            Some("acme"),
        ),
    ] {
        svc.create_user(&op, email, role, tenant, PASSWORD)
            .await
            .expect("user");
        out.push((
            name,
            svc.verify_password(email, PASSWORD).await.expect("login"),
        ));
    }
    out
}

fn who<'a>(w: &'a [(&str, Principal)], name: &str) -> &'a Principal {
    &w.iter()
        .find(|(n, _)| *n == name)
        .expect("known principal")
        .1
}

#[tokio::test]
async fn a_customer_never_sees_another_tenant_and_cannot_tell_it_exists() {
    let (svc, _) = service().await;
    let w = world(&svc).await;
    for name in ["acme_admin", "acme_responder", "acme_reader"] {
        let p = who(&w, name);
        let other = svc.tenant(p, "globex").await.expect_err("other tenant");
        let missing = svc.tenant(p, "initech").await.expect_err("no such tenant");
        assert_eq!(other.to_string(), "tenant \"globex\" not found", "{name}");
        assert!(matches!(missing, ServiceError::NotFound { .. }));
        let listed: Vec<String> = svc
            .list_tenants(p)
            .await
            .expect("list")
            .iter()
            .map(|t| t.slug.to_string())
            .collect();
        assert_eq!(listed, vec!["acme"], "{name}");
        assert!(matches!(
            svc.update_tenant(
                p,
                "globex",
                &[SettingChange::Authorisation(ResponseAuthorisation::Managed)]
            )
            .await,
            Err(ServiceError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn within_their_tenant_roles_decide_what_may_change() {
    let (svc, _) = service().await;
    let w = world(&svc).await;
    let managed = [SettingChange::Authorisation(ResponseAuthorisation::Managed)];
    svc.update_tenant(who(&w, "acme_admin"), "acme", &managed)
        .await
        .expect("customer admin sets authorisation");
    let err = svc
        .update_tenant(who(&w, "acme_reader"), "acme", &managed)
        .await
        .expect_err("reader may not");
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err}");
    let err = svc
        .update_tenant(
            who(&w, "acme_admin"),
            "acme",
            &[SettingChange::LearningPeriodDays(1)],
        )
        .await
        .expect_err("service settings are the provider's");
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err}");
    // A delivery manager may activate (the refusal is readiness, not the
    // role) but not override blocking readiness failures; a provider admin may.
    let err = svc
        .transition_tenant(who(&w, "dm"), "acme", Lifecycle::Monitoring, None)
        .await
        .expect_err("not ready");
    assert!(err.to_string().contains("blocking failures"), "{err}");
    let err = svc
        .transition_tenant(who(&w, "dm"), "acme", Lifecycle::Monitoring, Some("pilot"))
        .await
        .expect_err("a delivery manager does not override readiness");
    assert!(err.to_string().contains("only a provider admin"), "{err}");
    svc.transition_tenant(
        who(&w, "admin"),
        "acme",
        Lifecycle::Monitoring,
        Some("pilot"),
    )
    .await
    .expect("a provider admin overrides with a reason");
    let err = svc
        .transition_tenant(who(&w, "dm"), "acme", Lifecycle::Offboarding, None)
        .await
        .expect_err("only a provider admin offboards");
    assert!(matches!(err, ServiceError::Forbidden(_)));
    let err = svc
        .create_tenant(who(&w, "analyst"), "initech", "Initech")
        .await
        .expect_err("analysts do not create tenants");
    assert!(matches!(err, ServiceError::Forbidden(_)));
}

#[tokio::test]
async fn provider_reads_of_tenant_data_are_audited() {
    let (svc, _) = service().await;
    let w = world(&svc).await;
    let before = svc.verify_audit().await.expect("intact").records;
    svc.tenant(who(&w, "analyst"), "acme")
        .await
        .expect("analyst reads");
    svc.tenant(who(&w, "acme_reader"), "acme")
        .await
        .expect("customer reads");
    let after = svc.verify_audit().await.expect("intact").records;
    assert_eq!(after, before + 1, "only the provider's access is recorded");
}

#[tokio::test]
async fn users_are_created_only_within_the_creators_scope() {
    let (svc, _) = service().await;
    let w = world(&svc).await;
    let acme_admin = who(&w, "acme_admin");
    svc.create_user(
        acme_admin,
        "new@acme.example",
        Role::CustomerReader,
        Some("acme"),
        PASSWORD,
    )
    .await
    .expect("own tenant");
    for (role, tenant) in [
        (Role::CustomerReader, Some("globex")),
        (Role::Analyst, None),
    ] {
        let err = svc
            .create_user(acme_admin, "x@y.example", role, tenant, PASSWORD)
            .await
            .expect_err("outside scope");
        assert!(matches!(err, ServiceError::NotFound { .. }), "{err}");
    }
    let err = svc
        .create_user(
            &operator(),
            "short@acme.example",
            Role::CustomerReader,
            Some("acme"),
            "short",
        )
        .await
        .expect_err("weak password");
    assert!(matches!(err, ServiceError::WeakPassword(_)));
    let err = svc
        .create_user(
            &operator(),
            "admin@acme.example",
            Role::CustomerReader,
            Some("acme"),
            PASSWORD,
        )
        .await
        .expect_err("email taken");
    assert!(matches!(err, ServiceError::AlreadyExists { .. }));
    assert!(matches!(
        svc.verify_password("admin@acme.example", "wrong password here")
            .await,
        Err(ServiceError::Unauthenticated)
    ));
    assert!(matches!(
        svc.verify_password("nobody@acme.example", PASSWORD).await,
        Err(ServiceError::Unauthenticated)
    ));
}

#[tokio::test]
async fn tokens_act_as_their_user_until_revoked_or_expired() {
    let (svc, clock) = service().await;
    let w = world(&svc).await;
    let reader = who(&w, "acme_reader");
    let (secret, token) = svc
        .create_token(
            reader,
            "reader@acme.example",
            "script",
            Some(jiff::SignedDuration::from_hours(1)),
        )
        .await
        .expect("own token");
    assert!(secret.expose().starts_with("vgt_") && secret.expose().len() == 68);
    assert_eq!(format!("{secret:?}"), "<secret>");
    assert_eq!(
        &svc.authenticate_token(secret.expose())
            .await
            .expect("valid"),
        reader
    );
    assert!(matches!(
        svc.authenticate_token("vgt_guess").await,
        Err(ServiceError::Unauthenticated)
    ));
    clock.set("2026-11-27T10:30:00Z".parse().expect("ts"));
    assert!(
        matches!(
            svc.authenticate_token(secret.expose()).await,
            Err(ServiceError::Unauthenticated)
        ),
        "expired"
    );

    let (secret, token2) = svc
        .create_token(&operator(), "reader@acme.example", "ci", None)
        .await
        .expect("operator makes one");
    svc.authenticate_token(secret.expose())
        .await
        .expect("valid");
    let err = svc
        .create_token(who(&w, "acme_responder"), "reader@acme.example", "x", None)
        .await
        .expect_err("a responder cannot mint tokens for others");
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err}");
    svc.revoke_token(reader, "reader@acme.example", token2.id)
        .await
        .expect("revoke own");
    assert!(
        matches!(
            svc.authenticate_token(secret.expose()).await,
            Err(ServiceError::Unauthenticated)
        ),
        "revoked"
    );
    assert_ne!(token.id, token2.id);
    let err = svc
        .create_token(
            reader,
            "reader@acme.example",
            "x",
            Some(jiff::SignedDuration::from_hours(-1)),
        )
        .await
        .expect_err("a negative lifetime is refused, not turned into no expiry");
    assert!(matches!(err, ServiceError::InvalidSetting(_)), "{err}");
}

#[tokio::test]
async fn an_ingest_key_can_send_telemetry_and_read_nothing() {
    let (svc, _) = service().await;
    let w = world(&svc).await;
    let (secret, key) = svc
        .create_ingest_key(who(&w, "acme_admin"), "acme", "winlogbeat")
        .await
        .expect("customer admin creates a key");
    assert!(secret.expose().starts_with("vgk_"));
    let p = svc
        .authenticate_ingest_key(secret.expose())
        .await
        .expect("valid");
    assert_eq!(
        p,
        Principal::IngestKey {
            tenant_id: key.tenant_id
        }
    );
    assert!(matches!(
        svc.tenant(&p, "acme").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        svc.list_tenants(&p).await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        svc.authenticate_ingest_key("vgk_nope").await,
        Err(ServiceError::Unauthenticated)
    ));
    let err = svc
        .create_ingest_key(who(&w, "acme_reader"), "acme", "x")
        .await
        .expect_err("readers cannot");
    assert!(matches!(err, ServiceError::Forbidden(_)));
}
