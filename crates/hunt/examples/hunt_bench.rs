//! The hunting benchmark (BENCHMARKS.md): generate N events (default 10
//! million) straight into a SQLite store through `commit_intake` (the
//! intake transaction, with each event's hunting row), then time a filter
//! plus `summarize count() by DeviceName` over 7 days.
//!
//! `cargo run --release -p vigil-hunt --example hunt_bench -- DB [EVENTS]`
//! (an existing DB with events is reused: only the query is timed).

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::hunting::{HuntColumn as P, HuntRow};
use vigil_core::telemetry::{IntakeBatch, NewEvent};
use vigil_core::tenant::{Tenant, TenantName, TenantSlug};
use vigil_core::{Entity, EntityKind, Timestamp};
use vigil_hunt::schema::code;
use vigil_store::{HuntStore, SqliteStore, Store, TelemetryStore, TenantStore};

const DAY: i64 = 86_400_000_000;
/// Events spread over this many days before "now".
const DAYS: i64 = 30;
const BATCH: usize = 20_000;

const QUERY: &str = "DeviceProcessEvents
| where Timestamp > ago(7d)
| where FileName =~ 'powershell.exe' and ProcessCommandLine has '-enc'
| summarize count() by DeviceName";

fn event(i: u64, now: i64) -> NewEvent {
    // A cheap deterministic spread: table, device, file and time by `i`.
    let mix = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let device = format!("ws-{:04}", mix % 500);
    let age = i64::try_from(mix % u64::try_from(DAYS * DAY).unwrap_or(1)).unwrap_or(0);
    let time = Timestamp::from_microsecond(now - age).unwrap_or(Timestamp::UNIX_EPOCH);
    let (table, row) = match (mix >> 20) % 10 {
        0..=3 => {
            let mut r = HuntRow::new(code::PROCESS);
            let files = [
                "powershell.exe",
                "cmd.exe",
                "svchost.exe",
                "rundll32.exe",
                "chrome.exe",
            ];
            let f = files[usize::try_from((mix >> 8) % 5).unwrap_or(0)];
            r.set(P::FileName, f);
            r.set(P::FolderPath, &format!("C:\\Windows\\System32\\{f}"));
            let cmd = if (mix >> 12).is_multiple_of(50) {
                format!("{f} -nop -enc SQBFAFgA{i}")
            } else {
                format!("{f} /c job {i}")
            };
            r.set(P::CommandLine, &cmd);
            r.set(P::ParentFileName, "explorer.exe");
            r.set(P::AccountName, &format!("user{}", mix % 300));
            ("process", r)
        }
        4..=6 => {
            let mut r = HuntRow::new(code::NETWORK);
            r.set(
                P::RemoteIp,
                &format!(
                    "10.{}.{}.{}",
                    mix % 200,
                    (mix >> 8) % 250,
                    (mix >> 16) % 250
                ),
            );
            r.set(
                P::RemotePort,
                if mix.is_multiple_of(2) { "443" } else { "80" },
            );
            r.set(P::ParentFileName, "chrome.exe");
            ("network", r)
        }
        7 | 8 => {
            let mut r = HuntRow::new(code::FILE);
            r.set(P::FileName, &format!("doc{}.docx", mix % 1000));
            ("file", r)
        }
        _ => {
            let mut r = HuntRow::new(code::LOGON);
            r.set(
                P::ActionType,
                if mix.is_multiple_of(7) {
                    "LogonFailed"
                } else {
                    "LogonSuccess"
                },
            );
            r.set(P::AccountName, &format!("user{}", mix % 300));
            ("logon", r)
        }
    };
    let mut row = row;
    row.set(P::DeviceName, &device);
    NewEvent {
        time,
        shape: "windows_evtx",
        product: Some("windows".into()),
        service: Some(table.into()),
        category: None,
        // Generated data: a counter stands in for the SHA-256.
        content_hash: format!("{i:016x}"),
        flags: 0,
        raw: format!(r#"{{"n":{i}}}"#),
        entities: vec![Entity::new(EntityKind::Device, device)],
        hunt: Some(row),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| "hunt-bench.db".into()));
    let total: u64 = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000_000);
    let store = SqliteStore::open(&path).await?;
    store.migrate().await?;
    let now = Timestamp::from_second(1_800_000_000)?;
    let now_us = now.as_microsecond();
    let slug = TenantSlug::parse("bench")?;
    let tenant = match store.tenant_by_slug(&slug).await? {
        Some(t) => t,
        None => {
            let t = Tenant::new(slug, TenantName::parse("Bench corp")?, now);
            let entry = AuditEntry::new(
                now,
                &Actor::Cli("bench".into()),
                "tenant.create",
                Some(t.id),
                "tenant:bench",
                serde_json::json!({}),
            );
            store.insert_tenant(&t, entry).await?;
            t
        }
    };
    let have = store.count_events(tenant.id).await?;
    if have < total {
        let started = Instant::now();
        let mut i = have;
        while i < total {
            let n = BATCH.min(usize::try_from(total - i)?);
            let events = (i..i + n as u64).map(|k| event(k, now_us)).collect();
            let batch = IntakeBatch {
                idempotency_key: None,
                events,
                dead_letters: Vec::new(),
            };
            store.commit_intake(tenant.id, now, &batch).await?;
            i += n as u64;
            if i.is_multiple_of(500_000) {
                println!("{i} events, {:.0} s", started.elapsed().as_secs_f64());
            }
        }
        println!(
            "generated {} events in {:.0} s",
            total - have,
            started.elapsed().as_secs_f64()
        );
        store.checkpoint().await?;
    }
    let compiled = vigil_hunt::compile(
        QUERY,
        &vigil_hunt::CompileOptions {
            now_micros: now_us,
            tenants: vec![tenant.id.to_string()],
            keep_tenant: false,
            default_lookback_micros: 7 * DAY,
            window: None,
        },
    )?;
    println!("query:\n{QUERY}");
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = store
            .run_hunt(&compiled.sql, 10_000, Duration::from_secs(60))
            .await?;
        times.push(t.elapsed().as_secs_f64());
        rows = r.rows.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "events: {}, result rows: {rows}, runs (s): {:?}, median {:.3} s",
        store.count_events(tenant.id).await?,
        times
            .iter()
            .map(|t| (t * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        times[times.len() / 2]
    );
    Ok(())
}
