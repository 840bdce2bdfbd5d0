//! The backend the service suites run on, chosen in one place: SQLite by
//! default; with `VIGIL_TEST_BACKEND=postgres`, PostgreSQL and NATS
//! JetStream (a fresh database on the test binary's PostgreSQL cluster, and
//! a bus namespace of its own on the test binary's `nats-server -js`), so
//! detection goes through the bus as with several `detect` processes.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use vigil_service::{Clock, Service};
use vigil_store::{PgStore, SqliteStore, Store};

/// Whether this run is on PostgreSQL + NATS.
pub fn on_postgres() -> bool {
    std::env::var("VIGIL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh, migrated store: SQLite in memory, or a new PostgreSQL database.
pub async fn memory_store() -> Arc<dyn Store> {
    if on_postgres() {
        return pg_store(&fresh_pg()).await;
    }
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

/// The migrated store "at" `path`: the SQLite file, or on PostgreSQL the
/// database this path stands for (the same one each time it is opened in
/// this process, so reopening is a restart).
pub async fn store_at(path: &Path) -> Arc<dyn Store> {
    if on_postgres() {
        return pg_store(&backend_of(path)).await;
    }
    let store = SqliteStore::open(path).await.expect("store");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

/// A service over `store`; on PostgreSQL with a NATS bus in a namespace
/// named after the store's database (so reopening a path's store reuses
/// its stream, and no two tests share one).
pub async fn service(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Service {
    let svc = Service::new(store.clone(), clock);
    if !on_postgres() {
        return svc;
    }
    svc.with_bus(nats_bus(&namespace_of(&store.describe())).await)
}

/// The database name at the end of a PostgreSQL URL, as a bus namespace.
pub fn namespace_of(url: &str) -> String {
    let name = url.rsplit('/').next().unwrap_or_default();
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// A NATS bus in `namespace` on this binary's shared server.
pub async fn nats_bus(namespace: &str) -> Arc<vigil_bus::NatsBus> {
    let server = vigil_testkit::nats::NatsServer::shared()
        .expect("VIGIL_TEST_BACKEND=postgres needs nats-server");
    let mut options = vigil_bus::NatsOptions::new(&server.url());
    options.namespace = namespace.to_owned();
    Arc::new(vigil_bus::NatsBus::connect(options).await.expect("bus"))
}

async fn pg_store(url: &str) -> Arc<dyn Store> {
    let store = PgStore::open(url).await.expect("store");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

/// A new database on this binary's cluster.
fn fresh_pg() -> String {
    vigil_testkit::postgres::PgServer::shared()
        .and_then(|s| s.database())
        .expect("VIGIL_TEST_BACKEND=postgres needs PostgreSQL")
}

/// The database a path stands for.
fn backend_of(path: &Path) -> String {
    static BY_PATH: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut map = BY_PATH.get_or_init(Default::default).lock().expect("paths");
    map.entry(path.to_owned()).or_insert_with(fresh_pg).clone()
}
