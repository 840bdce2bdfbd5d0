//! Tenant use cases through the service, on an in-memory SQLite store.

use std::sync::Arc;

use vigil_core::tenant::{Lifecycle, ResponseAuthorisation, SettingChange};
use vigil_service::{FixedClock, Principal, Service, ServiceError};
use vigil_store::{SqliteStore, Store};

async fn service() -> (Service, Arc<FixedClock>) {
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new("2026-11-27T09:00:00Z".parse().expect("ts")));
    (Service::new(Arc::new(store), clock.clone()), clock)
}

fn operator() -> Principal {
    Principal::Operator("tester".into())
}

#[tokio::test]
async fn a_new_tenant_starts_onboarding_with_default_settings() {
    let (svc, _) = service().await;
    let t = svc
        .create_tenant(&operator(), "acme", "Acme Corp")
        .await
        .expect("created");
    assert_eq!(t.lifecycle, Lifecycle::Onboarding);
    assert_eq!(t.settings.grace_period_days, 90);
    assert_eq!(svc.tenant(&operator(), "acme").await.expect("read"), t);
}

#[tokio::test]
async fn a_taken_slug_is_refused() {
    let (svc, _) = service().await;
    svc.create_tenant(&operator(), "acme", "Acme")
        .await
        .expect("created");
    let err = svc
        .create_tenant(&operator(), "acme", "Other")
        .await
        .expect_err("dup");
    assert!(matches!(err, ServiceError::AlreadyExists { .. }), "{err}");
}

#[tokio::test]
async fn every_change_is_audited_and_the_chain_verifies() {
    let (svc, clock) = service().await;
    svc.create_tenant(&operator(), "acme", "Acme")
        .await
        .expect("created");
    svc.update_tenant(
        &operator(),
        "acme",
        &[SettingChange::Authorisation(ResponseAuthorisation::Guided)],
    )
    .await
    .expect("updated");
    svc.transition_tenant(
        &operator(),
        "acme",
        Lifecycle::Monitoring,
        Some("no telemetry in this test"),
    )
    .await
    .expect("monitoring");
    clock.set("2026-12-20T00:00:00Z".parse().expect("ts"));
    svc.transition_tenant(&operator(), "acme", Lifecycle::Live, None)
        .await
        .expect("live after the learning period");
    let refused = svc
        .transition_tenant(&operator(), "acme", Lifecycle::Onboarding, None)
        .await
        .expect_err("refused");
    assert!(matches!(refused, ServiceError::TransitionRefused { .. }));
    let verified = svc.verify_audit().await.expect("chain intact");
    let raised = svc
        .list_recommendations(&operator(), "acme")
        .await
        .expect("recommendations")
        .len() as u64;
    assert_eq!(
        verified.records,
        5 + raised,
        "create, settings, the readiness run before monitoring (and each recommendation it raised), two transitions; refusals write nothing"
    );
}

#[tokio::test]
async fn an_empty_change_list_is_refused() {
    let (svc, _) = service().await;
    svc.create_tenant(&operator(), "acme", "Acme")
        .await
        .expect("created");
    assert!(svc.update_tenant(&operator(), "acme", &[]).await.is_err());
}

#[tokio::test]
async fn an_unknown_tenant_is_not_found() {
    let (svc, _) = service().await;
    let err = svc
        .tenant(&operator(), "nobody")
        .await
        .expect_err("missing");
    assert_eq!(err.to_string(), "tenant \"nobody\" not found");
}
