//! The SQLite store's intake commit alone, for counting its instructions
//! (`valgrind --tool=callgrind`) or timing it: BATCHES batches of 2,000
//! Windows-like events (a hunting row, four entities, a 1.5 KB record
//! each; EVENTS a batch when given) into a fresh database. Run with
//! `cargo run --release -p vigil-store --example intake_commit --
//! [BATCHES [EVENTS]]`.

#![allow(clippy::print_stdout)]

use vigil_core::hunting::{HuntColumn, HuntRow};
use vigil_core::telemetry::{IntakeBatch, NewEvent};
use vigil_core::{Entity, EntityKind, Timestamp};
use vigil_store::{SqliteStore, Store, TelemetryStore, TenantStore};

fn event(n: i64, now: Timestamp) -> NewEvent {
    let mut hunt = HuntRow::new(1);
    hunt.set(HuntColumn::ActionType, "ProcessCreated");
    hunt.set(
        HuntColumn::DeviceName,
        &format!("ws{}.corp.example", n % 50),
    );
    hunt.set(HuntColumn::AccountName, &format!("user{}", n % 200));
    hunt.set(HuntColumn::AccountDomain, "CORP");
    hunt.set(HuntColumn::FileName, "powershell.exe");
    hunt.set(
        HuntColumn::FolderPath,
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    );
    hunt.set(HuntColumn::ProcessId, &(4000 + n % 5000).to_string());
    hunt.set(
        HuntColumn::CommandLine,
        &format!("powershell.exe -NoProfile -EncodedCommand {n:x}"),
    );
    hunt.set(HuntColumn::Sha256, &format!("{:064x}", n % 3000));
    hunt.set(HuntColumn::Additional, &"{\"x\":1}".repeat(80));
    NewEvent {
        time: now + jiff::SignedDuration::from_millis(n),
        shape: "windows_evtx",
        product: Some("windows".into()),
        service: Some("sysmon".into()),
        category: Some("process_creation".into()),
        content_hash: format!("{n:064x}"),
        flags: 0,
        raw: format!("{{\"n\":{n},\"pad\":\"{}\"}}", "abcdefgh".repeat(180)),
        entities: vec![
            Entity::new(EntityKind::Device, format!("ws{}.corp.example", n % 50)),
            Entity::new(EntityKind::User, format!("corp\\user{}", n % 200)),
            Entity::new(EntityKind::Process, "powershell.exe"),
            Entity::new(EntityKind::FileHash, format!("{:064x}", n % 3000)),
        ],
        hunt: Some(hunt),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let batches: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let per_batch: i64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let now: Timestamp = "2026-11-29T10:00:00Z".parse().expect("time");
    let tenant = vigil_core::tenant::Tenant::new(
        vigil_core::tenant::TenantSlug::parse("bench").expect("slug"),
        vigil_core::tenant::TenantName::parse("Bench").expect("name"),
        now,
    );
    let entry = vigil_core::audit::AuditEntry::new(
        now,
        &vigil_core::audit::Actor::Cli("bench".into()),
        "tenant.create",
        Some(tenant.id),
        "tenant:bench".to_owned(),
        serde_json::json!({}),
    );
    store.insert_tenant(&tenant, entry).await.expect("tenant");
    let batches: Vec<IntakeBatch> = (0..batches)
        .map(|b| IntakeBatch {
            idempotency_key: None,
            events: (0..per_batch)
                .map(|i| event(b * per_batch + i, now))
                .collect(),
            dead_letters: vec![],
        })
        .collect();
    let started = std::time::Instant::now();
    for batch in &batches {
        store
            .commit_intake(tenant.id, now, batch)
            .await
            .expect("commit");
    }
    let took = started.elapsed();
    let events = batches.len() as f64 * per_batch as f64;
    println!(
        "{events} events in {:.2} s: {:.1} us an event",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / events
    );
}
