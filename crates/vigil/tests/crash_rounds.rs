//! Crash consistency, round after round: the server is killed with SIGKILL
//! at pseudo-random points while one client streams intake batches and
//! another creates tenants and changes their settings (audited state
//! changes). After every kill the audit chain verifies and every write
//! acknowledged so far is stored; at the end every acknowledged write is
//! stored exactly once (events by count, tenants and settings changes by
//! their audit records). `VIGIL_CRASH_ROUNDS` sets the rounds (default 10;
//! BENCHMARKS.md records a run of 100), `VIGIL_CRASH_SEED` the kill points.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};
use support::{admin_token, free_port, ingest_key, json as cli_json, serve};

const PER_BATCH: usize = 50;

fn record(n: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"r-{n}","eventTime":"2026-11-27T09:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}","userName":"u{}"}},"requestParameters":{{"bucketName":"b","key":"k{n}"}}}}"#,
        (n / 60) % 60,
        n % 60,
        n % 250,
        n % 5,
        n % 5
    )
}

fn batch(i: usize) -> String {
    (i * PER_BATCH..(i + 1) * PER_BATCH)
        .map(record)
        .collect::<Vec<_>>()
        .join("\n")
}

/// xorshift64*: reproducible kill points without a dependency.
struct Points(u64);

impl Points {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Send until a definite answer: `Ok(status, body)` once the server
/// answered; retried while it is down or the connection broke.
fn until_answered(
    stop: &AtomicBool,
    send: impl Fn() -> reqwest::Result<reqwest::blocking::Response>,
) -> Option<(u16, Value)> {
    let started = Instant::now();
    loop {
        if let Ok(r) = send() {
            let status = r.status().as_u16();
            if status < 500 {
                let body = r.json().unwrap_or(Value::Null);
                return Some((status, body));
            }
        }
        if stop.load(Ordering::SeqCst) && started.elapsed() > Duration::from_secs(5) {
            return None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "a write was never answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The audit chain of the store in `dir`, verified by `vigil audit verify`.
fn audit_verifies(dir: &Path) -> u64 {
    let v = cli_json(dir, &["audit", "verify", "--json"]);
    assert_eq!(v["ok"], true, "the audit chain verifies: {v}");
    v["records"].as_u64().unwrap_or(0)
}

/// Every audit record, read over the API.
fn audit_actions(client: &Client, base: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0i64;
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/audit?after={after}&limit=500"))
            .bearer_auth(token)
            .send()
            .expect("audit")
            .json()
            .expect("json");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        all.extend(items);
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => return all,
        }
    }
}

#[test]
fn acknowledged_writes_survive_kills_at_random_points_exactly_once() {
    let rounds = env_u64("VIGIL_CRASH_ROUNDS", 10);
    let seed = env_u64("VIGIL_CRASH_SEED", 0x5eed_f00d);
    let mut points = Points(seed.max(1));
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_owned();
    cli_json(
        &d,
        &[
            "tenant", "create", "--slug", "acme", "--name", "Acme", "--json",
        ],
    );
    let key = ingest_key(&d, "acme");
    let token = admin_token(&d);
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let mut server = serve(&d, &addr);

    let stop = Arc::new(AtomicBool::new(false));
    let acked_batches = Arc::new(AtomicU64::new(0));
    let acked_tenants = Arc::new(AtomicU64::new(0));
    let http = || {
        Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
    };
    let intake = {
        let (base, key, stop, acked) = (
            base.clone(),
            key.clone(),
            stop.clone(),
            acked_batches.clone(),
        );
        std::thread::spawn(move || {
            let client = http();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let body = batch(i);
                let answer = until_answered(&stop, || {
                    client
                        .post(format!("{base}/api/v1/ingest/events"))
                        .bearer_auth(&key)
                        .header("idempotency-key", format!("b-{i}"))
                        .body(body.clone())
                        .send()
                });
                let Some((status, v)) = answer else { break };
                assert_eq!(status, 200, "{v}");
                let stored =
                    v["accepted"].as_u64().unwrap_or(0) + v["duplicates"].as_u64().unwrap_or(0);
                assert!(v["replayed"] == true || stored == PER_BATCH as u64, "{v}");
                acked.store(i as u64 + 1, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    let admin = {
        let (base, token, stop, acked) = (
            base.clone(),
            token.clone(),
            stop.clone(),
            acked_tenants.clone(),
        );
        std::thread::spawn(move || {
            let client = http();
            let mut k = 0;
            while !stop.load(Ordering::SeqCst) {
                let slug = format!("t-{k}");
                let answer = until_answered(&stop, || {
                    client
                        .post(format!("{base}/api/v1/tenants"))
                        .bearer_auth(&token)
                        .json(&json!({"slug": slug, "name": format!("Tenant {k}")}))
                        .send()
                });
                let Some((status, v)) = answer else { break };
                // 409: created before the kill, the answer lost; retried.
                assert!(status == 201 || status == 409, "{status} {v}");
                acked.store(k + 1, Ordering::SeqCst);
                k += 1;
            }
        })
    };

    for round in 0..rounds {
        std::thread::sleep(Duration::from_millis(30 + points.next_ms(400)));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &server.id().to_string()])
            .status();
        let _ = server.wait();
        // Down: what was acknowledged is on disk, and the chain verifies.
        let batches = acked_batches.load(Ordering::SeqCst);
        let tenants = acked_tenants.load(Ordering::SeqCst);
        audit_verifies(&d);
        let listed = cli_json(&d, &["tenant", "list", "--json"]);
        let listed = listed.as_array().map_or(0, Vec::len) as u64;
        assert!(
            listed > tenants,
            "round {round}: {tenants} acknowledged tenants (and acme), {listed} stored"
        );
        server = serve(&d, &addr);
        let stats: Value = Client::new()
            .get(format!("{base}/api/v1/tenants/acme/telemetry"))
            .bearer_auth(&token)
            .send()
            .expect("stats")
            .json()
            .expect("json");
        assert!(
            stats["events"].as_u64().unwrap_or(0) >= batches * PER_BATCH as u64,
            "round {round}: {batches} acknowledged batches: {stats}"
        );
    }
    stop.store(true, Ordering::SeqCst);
    intake.join().expect("intake client");
    admin.join().expect("admin client");

    // Exactly once, with the server up and every answer received.
    let client = Client::new();
    let batches = acked_batches.load(Ordering::SeqCst);
    let tenants = acked_tenants.load(Ordering::SeqCst);
    let stats: Value = client
        .get(format!("{base}/api/v1/tenants/acme/telemetry"))
        .bearer_auth(&token)
        .send()
        .expect("stats")
        .json()
        .expect("json");
    let events = stats["events"].as_u64().unwrap_or(0);
    // The last batch may have been stored and its answer lost to `stop`.
    assert!(
        events == batches * PER_BATCH as u64 || events == (batches + 1) * PER_BATCH as u64,
        "exactly once: {batches} batches acknowledged, {stats}"
    );
    let records = audit_actions(&client, &base, &token);
    let creates = records
        .iter()
        .filter(|r| r["action"] == "tenant.create")
        .count() as u64;
    let listed = cli_json(&d, &["tenant", "list", "--json"]);
    let listed = listed.as_array().map_or(0, Vec::len) as u64;
    assert_eq!(
        creates, listed,
        "one tenant.create record per stored tenant"
    );
    assert!(
        listed == tenants + 1 || listed == tenants + 2,
        "{tenants} acknowledged, {listed} stored"
    );
    let chain = audit_verifies(&d);
    eprintln!(
        "crash rounds: {rounds} kills (seed {seed:#x}); {batches} batches ({events} events) and {tenants} tenants acknowledged; 0 lost, 0 duplicated; audit chain of {chain} records verifies"
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
