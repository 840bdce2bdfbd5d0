//! A real PostgreSQL for tests: `initdb` into a temporary directory and
//! `postgres` on a free loopback port, its socket in that directory.
//!
//! Setting a cluster up takes seconds, so a test binary shares one
//! ([`PgServer::shared`]) and each test takes a fresh database from it
//! ([`PgServer::database`]). `initdb` refuses to run as root (CI runs as
//! root): then the cluster belongs to the `postgres` user, through
//! `runuser`. A statically shared server is never dropped, so a watchdog
//! shell stops it and removes its directory once the test process is gone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Why a PostgreSQL for tests could not be had.
#[derive(Debug)]
pub struct PgUnavailable(pub String);

impl std::fmt::Display for PgUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A running PostgreSQL cluster, stopped (and its directory deleted) on drop.
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    next_db: AtomicU32,
}

impl PgServer {
    /// Set up and start a cluster.
    pub fn start() -> Result<PgServer, PgUnavailable> {
        let bin = bin_dir().ok_or_else(|| {
            PgUnavailable(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres; apt-get install postgresql)"
                    .into(),
            )
        })?;
        let as_postgres = is_root();
        let dir = unique_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| PgUnavailable(format!("cannot create {}: {e}", dir.display())))?;
        let server = PgServer {
            bin,
            dir,
            port: free_port()?,
            as_postgres,
            next_db: AtomicU32::new(0),
        };
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(&server.dir))?;
        }
        let data = server.dir.join("data");
        run(server.tool("initdb").arg("-D").arg(&data).args([
            "-U",
            "vigil",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]))?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            server.port,
            server.dir.display()
        );
        run(server
            .tool("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(server.dir.join("postgres.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(options)
            .arg("start"))?;
        Ok(server)
    }

    /// The one cluster of this test binary, started on first use; `Err`
    /// (the same each time) when PostgreSQL is unavailable.
    pub fn shared() -> Result<&'static PgServer, PgUnavailable> {
        static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();
        let started = SHARED.get_or_init(|| {
            let server = PgServer::start().map_err(|e| e.0)?;
            server.watch_parent();
            Ok(server)
        });
        started.as_ref().map_err(|e| PgUnavailable(e.clone()))
    }

    /// A new, empty database; its `postgres://` URL.
    pub fn database(&self) -> Result<String, PgUnavailable> {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("vigil_test_{n}");
        run(Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "vigil", "-p"])
            .arg(self.port.to_string())
            .arg(&name))?;
        Ok(self.url(&name))
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://vigil@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (data, socket, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A command running `tool` of this installation, as the cluster's owner.
    fn tool(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Stop the cluster and delete its directory once this process ends.
    fn watch_parent(&self) {
        let stop = self.stop_script();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}",
            pid = std::process::id()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    fn stop_script(&self) -> String {
        let runas = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{runas}'{}' -D '{}' -m immediate stop; rm -rf '{}'",
            self.bin.join("pg_ctl").display(),
            self.dir.join("data").display(),
            self.dir.display()
        )
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(self.stop_script())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The shared cluster's fresh database URL, or return from the calling test
/// after saying it is skipped; with `VIGIL_REQUIRE_TOOLS` set, fail instead.
#[macro_export]
macro_rules! postgres_or_skip {
    () => {
        match $crate::postgres::PgServer::shared().and_then(|s| s.database()) {
            Ok(url) => url,
            Err(e) => {
                assert!(
                    std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
                    "PostgreSQL is required (VIGIL_REQUIRE_TOOLS is set): {e}"
                );
                eprintln!("skipping {}: {e}", module_path!());
                return;
            }
        }
    };
}

/// The newest installed version's `bin` directory.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn unique_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "vigil-pg-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn free_port() -> Result<u16, PgUnavailable> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| PgUnavailable(format!("no free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PgUnavailable(format!("no free loopback port: {e}")))
}

fn run(cmd: &mut Command) -> Result<(), PgUnavailable> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| PgUnavailable(format!("cannot run {cmd:?}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(PgUnavailable(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
