//! `spawn_app()`: the whole HTTP surface on a random loopback port, over a
//! fresh SQLite file, with a clock the test moves. With
//! `VIGIL_TEST_BACKEND=postgres` the backend is PostgreSQL + NATS
//! JetStream instead: a fresh database on the test binary's real
//! PostgreSQL, and a bus namespace of its own on the test binary's
//! `nats-server -js`, so detection goes through the bus.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use vigil_core::identity::{Principal, Role};
use vigil_service::{Clock, FixedClock, Service};
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
    let service = service(store, clock.clone())
        .await
        .with_public_url(&format!("http://{addr}"));
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

/// Whether this run is on PostgreSQL + NATS.
pub fn on_postgres() -> bool {
    std::env::var("VIGIL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The store under test: SQLite in `dir`, or PostgreSQL when
/// `VIGIL_TEST_BACKEND=postgres` (the same suite, the other backend).
pub async fn open_store(dir: &std::path::Path) -> Arc<dyn Store> {
    if on_postgres() {
        return pg_store().await;
    }
    Arc::new(
        SqliteStore::open(&dir.join("vigil.db"))
            .await
            .expect("store"),
    )
}

/// A fresh, migrated store: SQLite in memory, or a new PostgreSQL database.
pub async fn memory_store() -> Arc<dyn Store> {
    let store = if on_postgres() {
        pg_store().await
    } else {
        Arc::new(SqliteStore::open_temporary().await.expect("store"))
    };
    store.migrate().await.expect("migrate");
    store
}

/// A service over `store`; on PostgreSQL with a NATS bus in a namespace
/// named after the store's database, so no two tests share a stream.
pub async fn service(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Service {
    let namespace = namespace_of(&store.describe());
    let svc = Service::new(store, clock);
    if !on_postgres() {
        return svc;
    }
    let server = vigil_testkit::nats::NatsServer::shared()
        .expect("VIGIL_TEST_BACKEND=postgres needs nats-server");
    let mut options = vigil_bus::NatsOptions::new(&server.url());
    options.namespace = namespace;
    svc.with_bus(Arc::new(
        vigil_bus::NatsBus::connect(options).await.expect("bus"),
    ))
}

/// The database name at the end of a PostgreSQL URL, as a bus namespace.
fn namespace_of(url: &str) -> String {
    let name = url.rsplit('/').next().unwrap_or_default();
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

async fn pg_store() -> Arc<dyn Store> {
    let url = vigil_testkit::postgres::PgServer::shared()
        .and_then(|s| s.database())
        .expect("VIGIL_TEST_BACKEND=postgres needs PostgreSQL");
    Arc::new(PgStore::open(&url).await.expect("store"))
}
