//! A real NATS server with JetStream for tests: `nats-server -js` on a free
//! loopback port, its store in a temporary directory, killed on drop.
//!
//! It starts in well under a second, so each test runs its own (a fault
//! test stops and restarts it: [`NatsServer::stop`], [`NatsServer::restart`]
//! keep the port and the stored stream). Suites that only need a bus share
//! one per test binary ([`NatsServer::shared`]) and give each test its own
//! namespace ([`namespace`]), so their streams never meet.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where Debian installs the server.
const BIN: &str = "/usr/sbin/nats-server";

/// Why a NATS server for tests could not be had.
#[derive(Debug)]
pub struct NatsUnavailable(pub String);

impl std::fmt::Display for NatsUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A running `nats-server -js`, killed (and its directory removed) on drop.
#[derive(Debug)]
pub struct NatsServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl NatsServer {
    /// Start a server with JetStream on a free loopback port.
    pub fn start() -> Result<NatsServer, NatsUnavailable> {
        let bin = std::env::var_os("VIGIL_NATS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(BIN));
        if !bin.is_file() {
            return Err(NatsUnavailable(format!(
                "nats-server is not installed (no {}; apt-get install nats-server)",
                bin.display()
            )));
        }
        let dir = unique_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| NatsUnavailable(format!("cannot create {}: {e}", dir.display())))?;
        let mut server = NatsServer {
            bin,
            dir,
            port: free_port()?,
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// The one server of this test binary, started on first use; `Err`
    /// (the same each time) when NATS is unavailable. A static is never
    /// dropped, so a watchdog kills the server and removes its directory
    /// once the test process is gone.
    pub fn shared() -> Result<&'static NatsServer, NatsUnavailable> {
        static SHARED: OnceLock<Result<NatsServer, String>> = OnceLock::new();
        let started = SHARED.get_or_init(|| {
            let server = NatsServer::start().map_err(|e| e.0)?;
            server.watch_parent();
            Ok(server)
        });
        started.as_ref().map_err(|e| NatsUnavailable(e.clone()))
    }

    /// Kill the server and delete its directory once this process ends.
    fn watch_parent(&self) {
        let Some(child) = self.child.as_ref() else {
            return;
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -9 {child} 2>/dev/null; rm -rf '{dir}'",
            pid = std::process::id(),
            child = child.id(),
            dir = self.dir.display()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kill the server (`SIGKILL`), keeping its stored stream.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start (again) on the same port and store directory; returns once it
    /// accepts connections.
    pub fn restart(&mut self) -> Result<(), NatsUnavailable> {
        self.stop();
        let log = std::fs::File::create(self.dir.join("nats.log"))
            .map_err(|e| NatsUnavailable(format!("cannot create the server log: {e}")))?;
        let child = Command::new(&self.bin)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.dir.join("store"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| NatsUnavailable(format!("cannot run {}: {e}", self.bin.display())))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default();
                return Err(NatsUnavailable(format!(
                    "nats-server exited ({status}): {}",
                    log.trim()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(NatsUnavailable(format!(
            "nats-server did not listen on port {} within 10 s",
            self.port
        )))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A started [`NatsServer`], or return from the calling test after saying
/// it is skipped; with `VIGIL_REQUIRE_TOOLS` set, fail instead.
#[macro_export]
macro_rules! nats_or_skip {
    () => {
        match $crate::nats::NatsServer::start() {
            Ok(server) => server,
            Err(e) => {
                assert!(
                    std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
                    "nats-server is required (VIGIL_REQUIRE_TOOLS is set): {e}"
                );
                eprintln!("skipping {}: {e}", module_path!());
                return;
            }
        }
    };
}

/// A bus namespace no other test of this process uses (for
/// `vigil_bus::NatsOptions::namespace` or `bus.namespace`).
pub fn namespace() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t{}", N.fetch_add(1, Ordering::Relaxed))
}

fn unique_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "vigil-nats-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn free_port() -> Result<u16, NatsUnavailable> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| NatsUnavailable(format!("no free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| NatsUnavailable(format!("no free loopback port: {e}")))
}
