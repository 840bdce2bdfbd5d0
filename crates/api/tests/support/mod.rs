//! `spawn_app()`: the whole HTTP surface on a random loopback port, over a
//! fresh SQLite file (or, with `VIGIL_TEST_BACKEND=postgres`, a fresh
//! database on the test binary's real PostgreSQL), with a clock the test
//! moves.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use vigil_core::identity::{Principal, Role};
use vigil_service::{FixedClock, Service};
use vigil_store::{PgStore, SqliteStore, Store};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub clock: Arc<FixedClock>,
    pub service: Service,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that keeps no cookies and follows no redirects: tests see
    /// exactly what the server answers.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Create a user (as the operator) and an API token for them.
    pub async fn user(&self, email: &str, role: Role, tenant: Option<&str>) -> String {
        let op = Principal::Operator("test".into());
        self.service
            .create_user(&op, email, role, tenant, PASSWORD)
            .await
            .expect("user");
        let (secret, _) = self
            .service
            .create_token(&op, email, "test", None)
            .await
            .expect("token");
        secret.expose().to_owned()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(vigil_api::AppOptions::default()).await
}

pub async fn spawn_app_with(options: vigil_api::AppOptions) -> TestApp {
    let dir = tempfile::tempdir().expect("data dir");
    let store = open_store(dir.path()).await;
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T09:00:00Z".parse().expect("time"),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Response connectors call back to this server.
    let service = Service::new(store, clock.clone()).with_public_url(&format!("http://{addr}"));
    let op = Principal::Operator("test".into());
    for (slug, name) in [("acme", "Acme"), ("globex", "Globex")] {
        service
            .create_tenant(&op, slug, name)
            .await
            .expect("tenant");
    }
    let app = vigil_api::app_with(service.clone(), options);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        clock,
        service,
        _dir: dir,
    }
}

/// The store under test: SQLite in `dir`, or PostgreSQL when
/// `VIGIL_TEST_BACKEND=postgres` (the same suite, the other backend).
pub async fn open_store(dir: &std::path::Path) -> Arc<dyn Store> {
    if std::env::var("VIGIL_TEST_BACKEND").is_ok_and(|b| b == "postgres") {
        let url = vigil_testkit::postgres::PgServer::shared()
            .and_then(|s| s.database())
            .expect("VIGIL_TEST_BACKEND=postgres needs PostgreSQL");
        return Arc::new(PgStore::open(&url).await.expect("store"));
    }
    Arc::new(
        SqliteStore::open(&dir.join("vigil.db"))
            .await
            .expect("store"),
    )
}
