//! The PostgreSQL backend against the conformance suite, on a real
//! PostgreSQL (`vigil_testkit::postgres`), plus what only it has: the
//! migration runner's checks, time partitions and retention dropping them,
//! the detection lease across connections, and due deliveries claimed once.

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::notification::{
    Audience, Delivery, DeliveryId, DeliveryStatus, Destination, Notification, NotificationId,
    NotificationKind,
};
use vigil_core::telemetry::{IntakeBatch, NewEvent};
use vigil_core::tenant::{Tenant, TenantName, TenantSlug};
use vigil_core::{Entity, EntityKind, Timestamp};
use vigil_store::{
    AuditStore, NotificationStore, PgStore, Store, StoreError, TelemetryStore, TenantStore,
    conformance,
};

async fn open() -> Option<(PgStore, String)> {
    let url = match vigil_testkit::postgres::PgServer::shared().and_then(|s| s.database()) {
        Ok(url) => url,
        Err(e) => {
            assert!(
                std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
                "PostgreSQL is required (VIGIL_REQUIRE_TOOLS is set): {e}"
            );
            eprintln!("skipping: {e}");
            return None;
        }
    };
    Some((PgStore::open(&url).await.expect("connect"), url))
}

#[tokio::test]
async fn postgres_store_passes_the_conformance_suite() {
    let Some((store, _)) = open().await else {
        return;
    };
    let report = store.migrate().await.expect("migrate");
    assert_eq!(report.applied.first().map(|a| a.0), Some(1));
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn migrations_from_an_empty_database_create_every_table_and_apply_once() {
    let Some((store, _)) = open().await else {
        return;
    };
    let report = store.migrate().await.expect("migrate");
    let files = migration_files();
    assert_eq!(
        report.applied, files,
        "every migration file is applied, in order"
    );
    assert_eq!(Some(report.version), files.last().map(|f| f.0));
    assert!(
        store
            .list_tenants()
            .await
            .expect("tenants table")
            .is_empty()
    );
    assert!(
        store
            .audit_page(0, 10)
            .await
            .expect("audit table")
            .is_empty()
    );
    let again = store.migrate().await.expect("migrate again");
    assert!(again.applied.is_empty(), "nothing is applied twice");
    assert_eq!(again.version, report.version);
}

#[tokio::test]
async fn a_postgres_database_from_a_newer_schema_is_refused() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    sql(
        &url,
        "INSERT INTO vigil_schema VALUES (999, 'from_the_future', 'x', 0)",
    )
    .await;
    let err = store.migrate().await.expect_err("newer schema refused");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade vigil"), "{err}");
}

/// `(version, name)` of each file in `migrations/postgres/`, in order,
/// numbered from 1 without gaps.
fn migration_files() -> Vec<(i64, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
        .expect("migrations directory")
        .map(|e| {
            let name = e
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8 name");
            let stem = name.strip_suffix(".sql").expect("a .sql file");
            let (n, rest) = stem.split_once('_').expect("NNNN_name.sql");
            (n.parse().expect("a number"), rest.to_owned())
        })
        .collect();
    files.sort();
    for (i, (n, _)) in files.iter().enumerate() {
        assert_eq!(*n, i as i64 + 1, "migrations are numbered without gaps");
    }
    files
}

/// Run one statement on the database at `url` behind the store's back.
async fn sql(url: &str, statement: &'static str) {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    sqlx::raw_sql(statement)
        .execute(&pool)
        .await
        .expect("statement");
    pool.close().await;
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

async fn tenant(store: &PgStore, slug: &str, now: Timestamp) -> Tenant {
    let t = Tenant::new(
        TenantSlug::parse(slug).expect("slug"),
        TenantName::parse(&format!("{slug} corp")).expect("name"),
        now,
    );
    store
        .insert_tenant(&t, entry(&t, now))
        .await
        .expect("insert tenant");
    t
}

fn entry(t: &Tenant, now: Timestamp) -> AuditEntry {
    AuditEntry::new(
        now,
        &Actor::Cli("tester".into()),
        "tenant.create",
        Some(t.id),
        format!("tenant:{}", t.slug),
        json!({"slug": t.slug}),
    )
}

fn event(n: u32, time: Timestamp) -> NewEvent {
    let ws1 = vec![Entity::new(EntityKind::Device, "ws1")];
    conformance::security_event(i64::from(n), time, ws1, None)
}

async fn ingest(store: &PgStore, t: &Tenant, events: Vec<NewEvent>) {
    let batch = IntakeBatch {
        idempotency_key: None,
        events,
        dead_letters: Vec::new(),
    };
    store
        .commit_intake(t.id, at("2026-11-27T10:00:00Z"), &batch)
        .await
        .expect("intake");
}

/// The partitions of `table`, by name, in order.
async fn partitions(url: &str, table: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass ORDER BY 1",
    )
    .bind(table)
    .fetch_all(&pool)
    .await
    .expect("partitions");
    pool.close().await;
    names
}

#[tokio::test]
async fn events_land_in_monthly_partitions_created_on_demand() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    let t = tenant(&store, "parts", at("2026-11-27T10:00:00Z")).await;
    ingest(
        &store,
        &t,
        vec![
            event(1, at("2026-09-30T23:59:59.999999Z")),
            event(2, at("2026-10-01T00:00:00Z")),
            event(3, at("2026-11-27T10:00:00Z")),
        ],
    )
    .await;
    assert_eq!(
        partitions(&url, "events").await,
        ["events_p202609", "events_p202610", "events_p202611"]
    );
    assert_eq!(
        partitions(&url, "event_entities").await,
        [
            "event_entities_p202609",
            "event_entities_p202610",
            "event_entities_p202611"
        ]
    );
    assert_eq!(store.count_events(t.id).await.expect("count"), 3);
    // The same record again is one event, across the partitioned key.
    ingest(&store, &t, vec![event(2, at("2026-10-01T00:00:00Z"))]).await;
    assert_eq!(store.count_events(t.id).await.expect("count"), 3);
}

#[tokio::test]
async fn retention_drops_whole_partitions_only_when_no_other_tenant_keeps_them() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    let now = at("2026-11-27T10:00:00Z");
    let a = tenant(&store, "short", now).await;
    let b = tenant(&store, "long", now).await;
    ingest(
        &store,
        &a,
        vec![
            event(1, at("2026-08-10T00:00:00Z")),
            event(2, at("2026-09-10T00:00:00Z")),
            event(3, at("2026-10-10T00:00:00Z")),
            event(4, at("2026-11-10T00:00:00Z")),
        ],
    )
    .await;
    ingest(&store, &b, vec![event(5, at("2026-09-12T00:00:00Z"))]).await;
    // Tenant a keeps from mid-October: August goes whole, September is
    // shared with b (a's rows only), October is cut inside.
    let purged = store
        .purge_events(a.id, at("2026-10-15T00:00:00Z"))
        .await
        .expect("purge");
    assert_eq!(purged, 3, "three of a's events were past retention");
    assert_eq!(store.count_events(a.id).await.expect("count"), 1);
    assert_eq!(store.count_events(b.id).await.expect("count"), 1);
    assert_eq!(
        partitions(&url, "events").await,
        ["events_p202609", "events_p202610", "events_p202611"],
        "the August partition was dropped, September stays for b"
    );
    assert_eq!(
        store.detection_queue_len().await.expect("queue"),
        2,
        "queue entries of purged events went with them"
    );
    // Once b's retention passes too, September goes whole; new telemetry
    // for a dropped month gets its partition back.
    assert_eq!(
        store
            .purge_events(b.id, at("2026-10-01T00:00:00Z"))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        partitions(&url, "events").await,
        ["events_p202610", "events_p202611"]
    );
    ingest(&store, &a, vec![event(6, at("2026-08-11T00:00:00Z"))]).await;
    assert_eq!(store.count_events(a.id).await.expect("count"), 2);
}

#[tokio::test]
async fn one_process_at_a_time_holds_the_detection_lease() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    let other = PgStore::open(&url).await.expect("second connection pool");
    let lease = store.try_detection_lease().expect("lease").expect("free");
    assert!(
        other.try_detection_lease().expect("asked").is_none(),
        "held elsewhere"
    );
    drop(lease);
    assert!(
        other.try_detection_lease().expect("asked").is_some(),
        "free again once the holder let go"
    );
}

#[tokio::test]
async fn two_workers_never_claim_the_same_due_delivery() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    let now = at("2026-11-27T14:00:00Z");
    let t = tenant(&store, "claims", now).await;
    let n = Notification {
        id: NotificationId::new_at(now),
        tenant_id: t.id,
        kind: NotificationKind::ResponsePublished,
        audience: Audience::IncidentContacts,
        subject: "Response published".into(),
        body: "Isolate DC01".into(),
        link: None,
        incident: None,
        created_at: now,
    };
    let deliveries: Vec<Delivery> = (0..6)
        .map(|i| Delivery {
            id: DeliveryId::new_at(now),
            notification: n.id,
            tenant_id: t.id,
            destination: Destination::Email {
                to: format!("r{i}@claims.example"),
            },
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
            updated_at: now,
        })
        .collect();
    store
        .queue_notification(&n, &deliveries, entry(&t, now))
        .await
        .expect("queue");
    let other = PgStore::open(&url).await.expect("second process");
    let (a, b) = tokio::join!(store.due_deliveries(now, 4), other.due_deliveries(now, 4));
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.len() + b.len(), 6, "every due delivery is taken");
    assert!(
        a.iter().all(|d| !b.iter().any(|e| e.id == d.id)),
        "no delivery is taken twice"
    );
    assert!(store.due_deliveries(now, 10).await.expect("due").is_empty());
    // An attempt recorded as retrying makes it due again at its time.
    let mut retry = a[0].clone();
    retry.status = DeliveryStatus::Retrying;
    retry.attempts = 1;
    retry.next_attempt_at = Some(at("2026-11-27T14:00:30Z"));
    retry.updated_at = now;
    store
        .record_attempt(&retry, "retrying", "421 try later", None)
        .await
        .expect("record");
    assert_eq!(
        other
            .due_deliveries(at("2026-11-27T14:00:30Z"), 10)
            .await
            .expect("due"),
        vec![retry]
    );
}

#[tokio::test]
async fn two_processes_appending_at_once_extend_one_verifiable_audit_chain() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    let other = PgStore::open(&url).await.expect("second process");
    let now = at("2026-11-27T09:00:00Z");
    let append = |s: &PgStore, n: usize| {
        let s = s.clone();
        async move {
            for i in 0..n {
                s.append_audit(AuditEntry::new(
                    now,
                    &Actor::System,
                    "system.check",
                    None,
                    format!("check:{i}"),
                    json!({}),
                ))
                .await
                .expect("append");
            }
        }
    };
    let a = tokio::spawn(append(&store, 25));
    let b = tokio::spawn(append(&other, 25));
    a.await.expect("first writer");
    b.await.expect("second writer");
    let records = store.audit_page(0, 100).await.expect("page");
    assert_eq!(records.len(), 50);
    assert_eq!(
        vigil_core::audit::verify(&records).expect("one unbroken chain"),
        50
    );
}

#[tokio::test]
async fn a_batch_delivered_twice_at_once_is_stored_once() {
    let Some((store, url)) = open().await else {
        return;
    };
    store.migrate().await.expect("migrate");
    let other = PgStore::open(&url).await.expect("second process");
    let now = at("2026-11-27T10:00:00Z");
    let t = tenant(&store, "twice", now).await;
    let batch = IntakeBatch {
        idempotency_key: Some("batch-1".into()),
        events: (0..50).map(|n| event(n, now)).collect(),
        dead_letters: Vec::new(),
    };
    let (a, b) = tokio::join!(
        store.commit_intake(t.id, now, &batch),
        other.commit_intake(t.id, now, &batch)
    );
    let (a, b) = (a.expect("first").0, b.expect("second").0);
    assert_eq!(
        [a.replayed, b.replayed].iter().filter(|r| **r).count(),
        1,
        "one stored it, the other replayed its answer: {a:?} {b:?}"
    );
    assert_eq!((a.accepted, b.accepted), (50, 50));
    assert_eq!(a.duplicates + b.duplicates, 0, "{a:?} {b:?}");
    assert_eq!(store.count_events(t.id).await.expect("count"), 50);
}
