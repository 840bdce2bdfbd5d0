//! Load generator for the intake benchmark (BENCHMARKS.md): sends the EVTX
//! attack samples, made unique per copy, as JSON lines to
//! `/api/v1/ingest/events` at a target rate (0: as fast as acknowledged),
//! then waits for detection to catch up and reads the server's
//! acknowledgement-to-alert lag from `/metrics`.
//!
//! `cargo run --release -p vigil --example intake_load -- URL INGEST_KEY ADMIN_TOKEN TENANT SAMPLES_DIR SECONDS RATE`

#![allow(clippy::print_stdout)] // its output is the report

use std::time::{Duration, Instant};

use serde_json::Value;

fn records(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let files = vigil_testkit::files_with_extension(dir, "evtx");
    assert!(!files.is_empty(), "no .evtx file under {}", dir.display());
    let mut out = Vec::new();
    for f in files {
        vigil_formats::read_records(
            &f,
            vigil_formats::FileKind::Evtx,
            0,
            &mut |r| out.push(r.json),
            &mut |_| {},
        );
    }
    out
}

/// The record with a unique marker, so each copy is a new event; with
/// `now`, its time becomes the time of sending, as in a live stream.
fn unique(record: &[u8], n: u64, now: Option<&str>) -> Vec<u8> {
    const KEY: &[u8] = b"\"SystemTime\":\"";
    let mut out = Vec::with_capacity(record.len() + 32);
    let body = &record[..record.len() - 1];
    match now.and_then(|now| {
        let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
        let end = at + body[at..].iter().position(|b| *b == b'"')?;
        Some((now, at, end))
    }) {
        Some((now, at, end)) => {
            out.extend_from_slice(&body[..at]);
            out.extend_from_slice(now.as_bytes());
            out.extend_from_slice(&body[end..]);
        }
        None => out.extend_from_slice(body),
    }
    out.extend_from_slice(format!(",\"bench_seq\":{n}}}").as_bytes());
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (times, args) = match args.get(1).map(String::as_str) {
        Some("--original-times") => ("original", [&args[..1], &args[2..]].concat()),
        _ => ("now", args),
    };
    let [_, url, key, token, tenant, samples, seconds, rate] = &args[..] else {
        eprintln!(
            "usage: intake_load [--original-times] URL INGEST_KEY ADMIN_TOKEN TENANT SAMPLES_DIR SECONDS RATE"
        );
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().expect("seconds");
    let rate: u64 = rate.parse().expect("rate");
    let base = records(std::path::Path::new(samples));
    // Events per request (2,000 unless `INTAKE_BATCH` says).
    let batch: usize = std::env::var("INTAKE_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let started = Instant::now();
    let mut sent = 0u64;
    let mut seq = 0u64;
    let mut busy = 0u64;
    // Senders (two unless `INTAKE_SENDERS` says): one keeps a request in
    // flight while another is answered; more stand for many shippers.
    let senders: usize = std::env::var("INTAKE_SENDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(senders);
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let workers: Vec<_> = (0..senders)
        .map(|_| {
            let rx = rx.clone();
            let client = client.clone();
            let url = format!("{url}/api/v1/ingest/events");
            let key = key.clone();
            std::thread::spawn(move || {
                let mut busy = 0u64;
                loop {
                    let body = match rx.lock().expect("lock").recv() {
                        Ok(b) => b,
                        Err(_) => return busy,
                    };
                    loop {
                        let r = client
                            .post(&url)
                            .bearer_auth(&key)
                            .body(body.clone())
                            .send()
                            .expect("send");
                        if r.status().as_u16() == 429 {
                            busy += 1;
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        }
                        assert!(r.status().is_success(), "{}", r.status());
                        break;
                    }
                }
            })
        })
        .collect();
    while started.elapsed() < Duration::from_secs(seconds) {
        let mut body = Vec::with_capacity(batch * 1200);
        let now = (times == "now").then(|| vigil_core::Timestamp::now().to_string());
        for _ in 0..batch {
            let r = &base[(seq % base.len() as u64) as usize];
            body.extend_from_slice(&unique(r, seq, now.as_deref()));
            body.push(b'\n');
            seq += 1;
        }
        tx.send(body).expect("queue");
        sent += batch as u64;
        if rate > 0 {
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    drop(tx);
    for w in workers {
        busy += w.join().expect("worker");
    }
    let acked = started.elapsed();
    // Detection catching up.
    loop {
        let stats: Value = client
            .get(format!("{url}/api/v1/tenants/{tenant}/telemetry"))
            .bearer_auth(token)
            .send()
            .expect("stats")
            .json()
            .expect("json");
        if stats["pending_detection"] == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let detected = started.elapsed();
    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    // The cumulative histogram: the first bucket holding the quantile.
    let buckets: Vec<(String, f64)> = metrics
        .lines()
        .filter(|l| l.starts_with("vigil_detection_lag_seconds_bucket{"))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?.to_owned();
            let n: f64 = l.rsplit(' ').next()?.parse().ok()?;
            Some((le, n))
        })
        .collect();
    let total = buckets.last().map_or(0.0, |b| b.1);
    let quantile = |q: f64| {
        buckets
            .iter()
            .find(|(_, n)| *n >= q * total)
            .map_or_else(|| "?".to_owned(), |(le, _)| format!("<= {le}"))
    };
    println!(
        "events {sent}; acknowledged in {:.1} s ({:.0} ev/s); detected in {:.1} s ({:.0} ev/s); 429 answers {busy}; ack-to-alert lag p50 {} s, p99 {} s, max {} s",
        acked.as_secs_f64(),
        sent as f64 / acked.as_secs_f64(),
        detected.as_secs_f64(),
        sent as f64 / detected.as_secs_f64(),
        quantile(0.5),
        quantile(0.99),
        quantile(1.0),
    );
}
