//! Running `vigil` as users do: commands in a data directory, and the
//! server on a random loopback port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn vigil(dir: &Path, args: &[&str]) -> std::process::Output {
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
