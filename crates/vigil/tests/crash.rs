//! Durability: the server killed with SIGKILL again and again while a
//! client streams batches. After restarts, every acknowledged event is
//! stored exactly once, retries with the same Idempotency-Key store nothing
//! twice, and detection catches up on what was queued.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;
use support::{admin_token, free_port, ingest_key, json, serve};

const BATCHES: usize = 40;
const PER_BATCH: usize = 400;

/// A CloudTrail record, unique by `n`.
fn record(n: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"evt-{n}","eventTime":"2026-11-27T08:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}","userName":"u{}"}},"requestParameters":{{"bucketName":"b","key":"k{n}"}}}}"#,
        (n / 60) % 60,
        n % 60,
        n % 250,
        n % 7,
        n % 7
    )
}

fn batch(i: usize) -> String {
    (i * PER_BATCH..(i + 1) * PER_BATCH)
        .map(record)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn acknowledged_events_survive_repeated_kills_exactly_once() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_owned();
    json(
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

    let done = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let client_thread = {
        let (base, key, done, acked, retries) = (
            base.clone(),
            key.clone(),
            done.clone(),
            acked.clone(),
            retries.clone(),
        );
        std::thread::spawn(move || {
            let client = Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client");
            for i in 0..BATCHES {
                let body = batch(i);
                let started = Instant::now();
                loop {
                    let sent = client
                        .post(format!("{base}/api/v1/ingest/events"))
                        .bearer_auth(&key)
                        .header("idempotency-key", format!("batch-{i}"))
                        .body(body.clone())
                        .send();
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            let v: Value = r.json().expect("json");
                            assert_eq!(v["accepted"].as_u64(), Some(PER_BATCH as u64), "{v}");
                            acked.fetch_add(PER_BATCH as u64, Ordering::SeqCst);
                            break;
                        }
                        // Refused, reset or no server: retry the same batch.
                        _ => {
                            retries.fetch_add(1, Ordering::SeqCst);
                            assert!(
                                started.elapsed() < Duration::from_secs(120),
                                "batch {i} never acknowledged"
                            );
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    // Kill the server hard while batches flow, and bring it back.
    let mut kills = 0;
    while !done.load(Ordering::SeqCst) && kills < 4 {
        std::thread::sleep(Duration::from_millis(150 + 100 * kills));
        if done.load(Ordering::SeqCst) {
            break;
        }
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &server.id().to_string()])
            .status();
        let _ = server.wait();
        kills += 1;
        server = serve(&d, &addr);
    }
    client_thread.join().expect("client");
    assert!(
        kills >= 2,
        "the server was killed {kills} times during the stream"
    );

    let client = Client::new();
    let total = (BATCHES * PER_BATCH) as u64;
    assert_eq!(acked.load(Ordering::SeqCst), total);
    let started = Instant::now();
    let stats = loop {
        let stats: Value = client
            .get(format!("{base}/api/v1/tenants/acme/telemetry"))
            .bearer_auth(&token)
            .send()
            .expect("stats")
            .json()
            .expect("json");
        if stats["pending_detection"] == 0 || started.elapsed() > Duration::from_secs(60) {
            break stats;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        stats["events"].as_u64(),
        Some(total),
        "exactly once: {stats}"
    );
    assert_eq!(
        stats["pending_detection"], 0,
        "detection caught up: {stats}"
    );

    // A late retry of an acknowledged batch stores nothing again, with or
    // without its key.
    let replay: Value = client
        .post(format!("{base}/api/v1/ingest/events"))
        .bearer_auth(&key)
        .header("idempotency-key", "batch-3")
        .body(batch(3))
        .send()
        .expect("replay")
        .json()
        .expect("json");
    assert_eq!(replay["replayed"], true, "{replay}");
    let keyless: Value = client
        .post(format!("{base}/api/v1/ingest/events"))
        .bearer_auth(&key)
        .body(batch(3))
        .send()
        .expect("resend")
        .json()
        .expect("json");
    assert_eq!(
        keyless["duplicates"].as_u64(),
        Some(PER_BATCH as u64),
        "{keyless}"
    );
    let stats: Value = client
        .get(format!("{base}/api/v1/tenants/acme/telemetry"))
        .bearer_auth(&token)
        .send()
        .expect("stats")
        .json()
        .expect("json");
    assert_eq!(stats["events"].as_u64(), Some(total));
    eprintln!(
        "killed {kills} times; {} retries",
        retries.load(Ordering::SeqCst)
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
