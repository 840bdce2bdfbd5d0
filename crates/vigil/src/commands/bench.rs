//! `vigil bench`: a load generator against a running `vigil serve`. Half
//! the clients send intake batches, half read the API (incidents, telemetry
//! stats, the tenant, the audit log), each in a closed loop until the time
//! is up. Reports per endpoint: requests, errors (transport failures and
//! non-2xx answers), latency percentiles; and the server's resident memory
//! (peak of `VmRSS` in `/proc/PID/status`) when its pid is given.
//! BENCHMARKS.md holds the figures and `scripts/bench-load` the set-up.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::cli::BenchArgs;
use crate::output::{emit, emit_json};

/// Latencies (microseconds) and errors of one endpoint.
#[derive(Debug, Default)]
struct Tally {
    micros: Vec<u64>,
    errors: u64,
}

type Tallies = BTreeMap<&'static str, Tally>;

fn record(t: &mut Tallies, name: &'static str, started: Instant, ok: bool) {
    let e = t.entry(name).or_default();
    e.micros
        .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
    if !ok {
        e.errors += 1;
    }
}

/// A batch of `n` CloudTrail records, unique per client and round.
fn batch(client: usize, round: u64, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.08","eventID":"bench-{client}-{round}-{i}","eventTime":"2026-11-27T10:00:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/b{}","userName":"b{}"}}}}"#,
                i % 60,
                i % 250,
                client % 20,
                client % 20
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn intake_client(args: BenchArgs, client: usize, until: Instant) -> Tallies {
    let http = reqwest::Client::new();
    let mut t = Tallies::new();
    let mut round = 0;
    while Instant::now() < until {
        let started = Instant::now();
        let sent = http
            .post(format!("{}/api/v1/ingest/events", args.url))
            .bearer_auth(&args.ingest_key)
            .body(batch(client, round, args.batch))
            .send()
            .await;
        let ok = matches!(&sent, Ok(r) if r.status().is_success());
        if let Ok(r) = sent {
            let _ = r.bytes().await;
        }
        record(&mut t, "POST /api/v1/ingest/events", started, ok);
        round += 1;
    }
    t
}

async fn api_client(args: BenchArgs, client: usize, until: Instant) -> Tallies {
    let http = reqwest::Client::new();
    let tenant = &args.tenant;
    let reads: [(&'static str, String); 4] = [
        (
            "GET /api/v1/tenants/{tenant}/incidents",
            format!("/api/v1/tenants/{tenant}/incidents?limit=20"),
        ),
        (
            "GET /api/v1/tenants/{tenant}/telemetry",
            format!("/api/v1/tenants/{tenant}/telemetry"),
        ),
        (
            "GET /api/v1/tenants/{tenant}",
            format!("/api/v1/tenants/{tenant}"),
        ),
        ("GET /api/v1/audit", "/api/v1/audit?limit=50".to_owned()),
    ];
    let mut t = Tallies::new();
    let mut n = client;
    while Instant::now() < until {
        let (name, path) = &reads[n % reads.len()];
        n += 1;
        let started = Instant::now();
        let sent = http
            .get(format!("{}{path}", args.url))
            .bearer_auth(&args.token)
            .send()
            .await;
        let ok = matches!(&sent, Ok(r) if r.status().is_success());
        if let Ok(r) = sent {
            let _ = r.bytes().await;
        }
        record(&mut t, name, started, ok);
    }
    t
}

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let a = args.clone();
        tasks.push(if c % 2 == 0 {
            tokio::spawn(intake_client(a, c, until))
        } else {
            tokio::spawn(api_client(a, c, until))
        });
    }
    let pid = args.pid;
    let rss_start = pid.and_then(rss_kib);
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        while Instant::now() < until {
            if let Some(kib) = pid.and_then(rss_kib) {
                peak = peak.max(kib);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        peak
    });
    let mut all = Tallies::new();
    for task in tasks {
        for (name, t) in task.await.context("a bench client failed")? {
            let e = all.entry(name).or_default();
            e.micros.extend(t.micros);
            e.errors += t.errors;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_peak = sampler.await.unwrap_or(0);
    let rss_end = pid.and_then(rss_kib);
    let mut endpoints = Vec::new();
    let (mut total, mut errors) = (0u64, 0u64);
    for (name, mut t) in all {
        t.micros.sort_unstable();
        let n = t.micros.len() as u64;
        total += n;
        errors += t.errors;
        endpoints.push(json!({
            "endpoint": name,
            "requests": n,
            "errors": t.errors,
            "per_second": n as f64 / elapsed,
            "p50_ms": percentile(&t.micros, 50.0),
            "p90_ms": percentile(&t.micros, 90.0),
            "p99_ms": percentile(&t.micros, 99.0),
            "max_ms": percentile(&t.micros, 100.0),
        }));
    }
    let report = json!({
        "clients": args.clients,
        "seconds": elapsed,
        "requests": total,
        "errors": errors,
        "error_rate": if total == 0 { 0.0 } else { errors as f64 / total as f64 },
        "events_per_batch": args.batch,
        "endpoints": endpoints,
        "server_rss_kib": {"start": rss_start, "peak": rss_peak, "end": rss_end},
    });
    if args.json {
        return emit_json(&report);
    }
    let mut text = format!(
        "{} clients for {elapsed:.1} s: {total} requests, {errors} errors ({:.3} %)\n",
        args.clients,
        report["error_rate"].as_f64().unwrap_or(0.0) * 100.0
    );
    text.push_str("| endpoint | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for e in report["endpoints"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "| `{}` | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            e["endpoint"].as_str().unwrap_or(""),
            e["requests"],
            e["errors"],
            e["per_second"].as_f64().unwrap_or(0.0),
            e["p50_ms"].as_f64().unwrap_or(0.0),
            e["p90_ms"].as_f64().unwrap_or(0.0),
            e["p99_ms"].as_f64().unwrap_or(0.0),
            e["max_ms"].as_f64().unwrap_or(0.0),
        ));
    }
    if pid.is_some() {
        text.push_str(&format!(
            "server RSS: {} KiB at start, {rss_peak} KiB peak, {} KiB at end",
            rss_start.unwrap_or(0),
            rss_end.unwrap_or(0)
        ));
    }
    emit(text.trim_end())
}
