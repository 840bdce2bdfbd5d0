//! Running `vigil` as users do: commands in a data directory, and the
//! server on a random loopback port.
//!
//! With `VIGIL_TEST_BACKEND=postgres` every data directory is configured
//! (its `vigil.toml`) for PostgreSQL + NATS JetStream before the first
//! command: a fresh database on this test binary's PostgreSQL cluster and
//! a bus namespace of its own on this binary's `nats-server -js`, so
//! `vigil serve` and every command share them as several processes would.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use vigil_store::{PgStore, SqliteStore, Store};

use serde_json::Value;

/// Whether this run is on PostgreSQL + NATS.
pub fn on_postgres() -> bool {
    std::env::var("VIGIL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL URL and bus namespace a data directory stands for (the
/// same each time in this process).
fn backend_of(dir: &Path) -> (String, String) {
    static BY_DIR: OnceLock<Mutex<HashMap<PathBuf, (String, String)>>> = OnceLock::new();
    let mut map = BY_DIR
        .get_or_init(Default::default)
        .lock()
        .expect("backends");
    map.entry(dir.to_owned())
        .or_insert_with(|| {
            let url = vigil_testkit::postgres::PgServer::shared()
                .and_then(|s| s.database())
                .expect("VIGIL_TEST_BACKEND=postgres needs PostgreSQL");
            (url, vigil_testkit::nats::namespace())
        })
        .clone()
}

/// On PostgreSQL + NATS, make sure `dir/vigil.toml` names them (appended
/// when the file has no `[database]` section yet); otherwise nothing.
pub fn configure_backend(dir: &Path) {
    if !on_postgres() {
        return;
    }
    let path = dir.join("vigil.toml");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    if existing.contains("[database]") {
        return;
    }
    let (url, namespace) = backend_of(dir);
    let nats = vigil_testkit::nats::NatsServer::shared()
        .expect("VIGIL_TEST_BACKEND=postgres needs nats-server");
    let config = format!(
        "{existing}\n[database]\nurl = \"{url}\"\n[bus]\nurl = \"{}\"\nnamespace = \"{namespace}\"\n",
        nats.url()
    );
    std::fs::write(&path, config).expect("vigil.toml");
}

/// The store of a data directory, as its commands open it: the SQLite file
/// under `vigil-data`, or its PostgreSQL database.
pub async fn open_store(dir: &Path) -> Arc<dyn Store> {
    let store: Arc<dyn Store> = if on_postgres() {
        configure_backend(dir);
        Arc::new(PgStore::open(&backend_of(dir).0).await.expect("store"))
    } else {
        Arc::new(
            SqliteStore::open(&dir.join("vigil-data").join("vigil.db"))
                .await
                .expect("store"),
        )
    };
    store.migrate().await.expect("migrate");
    store
}

pub fn vigil(dir: &Path, args: &[&str]) -> std::process::Output {
    configure_backend(dir);
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(dir)
        .env_remove("VIGIL_CONFIG")
        .output()
        .expect("vigil runs")
}

/// Run and parse `--json` output, failing with stderr if the command did.
pub fn json(dir: &Path, args: &[&str]) -> Value {
    let out = vigil(dir, args);
    assert!(
        out.status.success(),
        "vigil {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A running server, killed when dropped (so a failing test leaves none
/// behind).
pub struct Server(pub Child);

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `vigil serve` on `addr`, returned once it listens.
pub fn serve(dir: &Path, addr: &str) -> Server {
    configure_backend(dir);
    let mut server = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--log-format", "json", "serve", "--listen", addr])
        .current_dir(dir)
        .env_remove("VIGIL_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("server log").expect("utf-8");
        if line.contains("\"listening\"") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Server(server)
}

/// A provider admin's API token.
pub fn admin_token(dir: &Path) -> String {
    json(
        dir,
        &[
            "user",
            "create",
            "--email",
            "admin@mdr.example",
            "--role",
            "provider_admin",
            "--generate",
            "--json",
        ],
    );
    json(
        dir,
        &["token", "create", "--user", "admin@mdr.example", "--json"],
    )["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

pub fn ingest_key(dir: &Path, tenant: &str) -> String {
    json(dir, &["ingest-key", "create", "--tenant", tenant, "--json"])["key"]
        .as_str()
        .expect("key")
        .to_owned()
}
