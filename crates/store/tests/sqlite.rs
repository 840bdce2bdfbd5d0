//! The SQLite backend against the conformance suite, plus file-level
//! behaviour only SQLite has.

use vigil_store::{
    AuditStore, SqliteStore, Store, StoreError, TelemetryStore, TenantStore, conformance,
};

#[tokio::test]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("open");
    let report = store.migrate().await.expect("migrate");
    assert_eq!(report.applied.first().map(|a| a.0), Some(1));
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn a_temporary_sqlite_store_passes_the_conformance_suite_and_leaves_no_files() {
    let store = SqliteStore::open_temporary().await.expect("open");
    store.migrate().await.expect("migrate");
    conformance::run_all(&store).await;
    let dir = store.path().parent().expect("directory").to_owned();
    assert!(dir.join("vigil.db").exists());
    store.close().await;
    drop(store);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[tokio::test]
async fn migrations_from_an_empty_database_create_every_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).await.expect("open");
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
}

#[tokio::test]
async fn a_database_from_a_newer_schema_is_refused() {
    let (_dir, path, store) = migrated().await;
    store.close().await;
    sqlite3(
        &path,
        "INSERT INTO vigil_schema VALUES (999, 'from_the_future', 'x', 0);",
    );
    let store = SqliteStore::open(&path).await.expect("open");
    let err = store.migrate().await.expect_err("newer schema refused");
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 999,
                supported,
                ..
            } if Some(supported) == migration_files().last().map(|f| f.0)
        ),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade vigil"), "{err}");
}

/// `(version, name)` of each file in `migrations/sqlite/`, in order; the
/// files are named `NNNN_name.sql` and numbered from 1 without gaps.
fn migration_files() -> Vec<(i64, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
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
    // The runner applies versions above the database's current one, so a
    // gap filled later would never reach a database already past it.
    for (i, (n, _)) in files.iter().enumerate() {
        assert_eq!(*n, i as i64 + 1, "migrations are numbered without gaps");
    }
    files
}

/// A migrated store in a new temporary directory (kept while the first
/// value lives) and its database's path.
async fn migrated() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).await.expect("open");
    store.migrate().await.expect("migrate");
    (dir, path, store)
}

/// What `sql` prints, run by the `sqlite3` shell on the database at `path`
/// (as an operator would, outside Vigil).
fn sqlite3(path: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(path)
        .arg(sql)
        .output()
        .expect("sqlite3 shell runs");
    assert!(out.status.success(), "{sql}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Migration `n`'s file as the `sqlite3` shell takes it: after a newline,
/// since the shell takes an argument that starts with `--` (as the files'
/// comments do) for an option.
fn migration_sql(n: i64, name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let sql = std::fs::read_to_string(dir.join(format!("{n:04}_{name}.sql")));
    format!("\n{}", sql.expect("migration"))
}

/// A database at `path` with every migration before `version` run by the
/// `sqlite3` shell, as an older Vigil left it.
fn migrated_below(path: &std::path::Path, version: i64) {
    for (n, name) in migration_files().iter().filter(|(n, _)| *n < version) {
        sqlite3(path, &migration_sql(*n, name));
    }
}

/// The number `sql` selects.
fn count(path: &std::path::Path, sql: &str) -> i64 {
    sqlite3(path, sql).parse().expect("a count")
}

/// A tenant named after `slug`, created in `store`.
async fn tenant(
    store: &SqliteStore,
    slug: &str,
    now: vigil_core::Timestamp,
) -> vigil_core::tenant::Tenant {
    use vigil_core::audit::{Actor, AuditEntry};
    use vigil_core::tenant::{Tenant, TenantName, TenantSlug};
    let t = Tenant::new(
        TenantSlug::parse(slug).expect("slug"),
        TenantName::parse(slug).expect("name"),
        now,
    );
    let entry = AuditEntry::new(
        now,
        &Actor::Cli("tester".into()),
        "tenant.create",
        Some(t.id),
        format!("tenant:{slug}"),
        serde_json::json!({}),
    );
    store.insert_tenant(&t, entry).await.expect("tenant");
    t
}

/// Security event `n`, `n` seconds after `now`, with its content hash
/// `hash-n`.
fn security_event(
    n: i64,
    now: vigil_core::Timestamp,
    entities: Vec<vigil_core::Entity>,
    hunt: Option<vigil_core::hunting::HuntRow>,
) -> vigil_core::telemetry::NewEvent {
    let time = now + jiff::SignedDuration::from_secs(n);
    conformance::security_event(n, time, entities, hunt)
}

/// `events` as one batch, without an idempotency key.
fn batch(events: Vec<vigil_core::telemetry::NewEvent>) -> vigil_core::telemetry::IntakeBatch {
    vigil_core::telemetry::IntakeBatch {
        idempotency_key: None,
        events,
        dead_letters: vec![],
    }
}

/// A new database is made of 16 KiB pages (`sqlite/mod.rs`: fewer, larger
/// writes); one made before keeps its 4 KiB pages, and Vigil migrates it
/// and stores events in it as in any other.
#[tokio::test]
async fn a_new_database_has_16_kib_pages_and_an_older_one_keeps_its_own() {
    let (_dir, path, store) = migrated().await;
    store.close().await;
    assert_eq!(sqlite3(&path, "PRAGMA page_size"), "16384");

    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("vigil.db");
    sqlite3(
        &old,
        "PRAGMA page_size = 4096; CREATE TABLE made_before (x); PRAGMA journal_mode = WAL;",
    );
    let store = SqliteStore::open(&old).await.expect("open");
    store.migrate().await.expect("migrate");
    let now: vigil_core::Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    let t = tenant(&store, "older", now).await;
    let events = (0..50)
        .map(|n| security_event(n, now, vec![], None))
        .collect();
    let (counts, _) = store
        .commit_intake(t.id, now, &batch(events))
        .await
        .expect("intake");
    assert_eq!(counts.accepted, 50);
    store.close().await;
    assert_eq!(sqlite3(&old, "PRAGMA page_size"), "4096");
    assert_eq!(count(&old, "SELECT count(*) FROM events"), 50);
}

/// Intake's writer checks the tenant once a batch rather than through
/// foreign keys on every row: a batch for a tenant that was never created
/// is refused whole, and stores nothing.
#[tokio::test]
async fn a_batch_for_a_tenant_that_does_not_exist_is_refused_and_stores_nothing() {
    let (_dir, path, store) = migrated().await;
    let now: vigil_core::Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    let known = tenant(&store, "known", now).await;
    let stranger = vigil_core::TenantId::new_at(now);
    let device = vigil_core::Entity::new(vigil_core::EntityKind::Device, "ws1");
    let events = || {
        (0..3)
            .map(|n| security_event(n, now, vec![device.clone()], None))
            .collect()
    };
    let err = store
        .commit_intake(stranger, now, &batch(events()))
        .await
        .expect_err("no such tenant");
    assert!(
        matches!(err, StoreError::NotFound { what: "tenant", .. }),
        "{err}"
    );
    for table in [
        "events",
        "event_blocks",
        "hunt_events",
        "entity_recent",
        "entity_names",
        "detection_queue",
    ] {
        assert_eq!(
            count(&path, &format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    // The same batch for a tenant that exists is stored.
    let (counts, _) = store
        .commit_intake(known.id, now, &batch(events()))
        .await
        .expect("stored");
    assert_eq!(counts.accepted, 3);
    assert_eq!(count(&path, "SELECT count(*) FROM events"), 3);
}

/// `AdditionalFields` as a hunt reads it: the text a row brought is kept
/// in its block; a block whose rows brought none keeps records alone, and
/// the text is made from the record by what the store was given.
#[tokio::test]
async fn a_hunt_reads_additional_fields_kept_or_made_from_the_record() {
    use vigil_core::hunting::{Cell, HuntColumn, HuntRow, HuntSql};
    use vigil_store::HuntStore;

    fn made(record: &[u8]) -> Option<String> {
        Some(format!("made from {}", String::from_utf8_lossy(record)))
    }
    let (_dir, _path, store) = migrated().await;
    let now: vigil_core::Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    let t = tenant(&store, "hunters", now).await;
    let event = |n: i64, additional: Option<&str>| {
        let mut hunt = HuntRow::new(1);
        if let Some(a) = additional {
            hunt.set(HuntColumn::Additional, a);
        }
        security_event(n, now, vec![], Some(hunt))
    };
    // One batch whose rows bring their text, one whose rows bring none.
    for events in [
        vec![event(0, Some(r#"{"kept":0}"#)), event(1, None)],
        vec![event(2, None), event(3, None)],
    ] {
        store
            .commit_intake(t.id, now, &batch(events))
            .await
            .expect("intake");
    }
    let sql = HuntSql {
        sql: "SELECT vigil_additional(b.id, b.data, e.block_item) FROM events AS e \
              JOIN event_blocks AS b ON b.id = e.block ORDER BY e.seq"
            .into(),
        params: vec![],
    };
    let hunt = || store.run_hunt(&sql, 10, std::time::Duration::from_secs(10));
    let err = hunt()
        .await
        .expect_err("nothing to make it with")
        .to_string();
    assert!(err.contains("AdditionalFields"), "{err}");
    assert!(
        store.derive_additional(made),
        "SQLite makes it from the record"
    );
    let rows = hunt().await.expect("hunt").rows;
    let text = |s: &str| vec![Cell::Text(s.into())];
    assert_eq!(
        rows,
        vec![
            text(r#"{"kept":0}"#),
            vec![Cell::Null],
            text(r#"made from {"n":2}"#),
            text(r#"made from {"n":3}"#),
        ]
    );
    store.close().await;
}

/// Records and `additional` live in compressed blocks (migration 0025):
/// an event's row keeps only its place; reads give the record back whole,
/// and retention removes a block once all of its events are gone.
#[tokio::test]
async fn records_and_additional_fields_are_stored_in_blocks_and_purged_with_their_last_event() {
    use vigil_core::hunting::{HuntColumn, HuntRow};
    use vigil_core::telemetry::{IntakeBatch, NewEvent};
    use vigil_core::{Entity, EntityKind, Timestamp};

    let (_dir, path, store) = migrated().await;
    let now: Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    let later: Timestamp = "2026-11-28T12:00:00Z".parse().expect("time");
    let t = tenant(&store, "hunters", now).await;
    let event = |n: u32, time: Timestamp, additional: Option<&str>| {
        let mut hunt = HuntRow::new(1);
        hunt.set(HuntColumn::DeviceName, "ws1");
        if let Some(a) = additional {
            hunt.set(HuntColumn::Additional, a);
        }
        NewEvent {
            time,
            shape: "windows_evtx",
            product: Some("windows".into()),
            service: Some("system".into()),
            category: None,
            content_hash: format!("hash-{n}"),
            flags: 0,
            raw: format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(n as usize)),
            entities: vec![Entity::new(EntityKind::Device, "ws1")],
            hunt: Some(hunt),
        }
    };
    // 40 events: a block of 32 and one of 8; the last one is newer.
    let mut events: Vec<NewEvent> = (0..39)
        .map(|n| event(n, now, (n == 1).then_some(r#"{"ServiceName":"evil"}"#)))
        .collect();
    events.push(event(39, later, None));
    let batch = IntakeBatch {
        idempotency_key: None,
        events,
        dead_letters: vec![],
    };
    let (counts, seqs) = store
        .commit_intake(t.id, now, &batch)
        .await
        .expect("intake");
    assert_eq!(counts.accepted, 40);
    let seqs: Vec<i64> = seqs.into_iter().flatten().collect();
    let stored = store.events_by_seq(t.id, &seqs).await.expect("read");
    assert_eq!(stored.len(), 40);
    for (n, e) in stored.iter().enumerate() {
        assert_eq!(
            e.event.raw, batch.events[n].raw,
            "event {n} reads back whole"
        );
    }
    store.close().await;
    assert_eq!(count(&path, "SELECT count(*) FROM event_blocks"), 2);
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM events WHERE block IS NULL OR raw_lz4 IS NOT NULL OR raw != ''"
        ),
        0,
        "an event in a block keeps no record of its own"
    );
    assert_eq!(count(&path, "SELECT count(*) FROM hunt_additional"), 0);
    assert_eq!(count(&path, "SELECT count(*) FROM hunt_events"), 40);

    let store = SqliteStore::open(&path).await.expect("reopen");
    let purged = store
        .purge_events(t.id, "2026-11-28T11:00:00Z".parse().expect("time"))
        .await
        .expect("purge");
    assert_eq!(purged, 39);
    let left = store.events_by_seq(t.id, &seqs).await.expect("read");
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].event.raw, batch.events[39].raw,
        "the newer event outlives its older neighbours"
    );
    store.close().await;
    assert_eq!(
        count(&path, "SELECT count(*) FROM event_blocks"),
        1,
        "the first block went with its last event; the second holds a live one"
    );
    assert_eq!(count(&path, "SELECT count(*) FROM hunt_events"), 1);

    let store = SqliteStore::open(&path).await.expect("reopen");
    store
        .purge_events(t.id, "2026-11-28T13:00:00Z".parse().expect("time"))
        .await
        .expect("purge");
    store.close().await;
    assert_eq!(count(&path, "SELECT count(*) FROM event_blocks"), 0);
}

#[tokio::test]
async fn entity_postings_are_found_before_and_after_intake_moves_them_and_purged_from_both_parts() {
    use vigil_core::{Entity, EntityKind, Timestamp};

    let (_dir, path, store) = migrated().await;
    let now: Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    let t = tenant(&store, "postings", now).await;
    let event = |n: i64, user: &str| {
        // The device twice: one posting.
        let entities = vec![
            Entity::new(EntityKind::Device, "ws1"),
            Entity::new(EntityKind::User, user),
            Entity::new(EntityKind::Device, "ws1"),
        ];
        security_event(n, now, entities, None)
    };
    let ws1 = [Entity::new(EntityKind::Device, "ws1")];
    let window = (
        now - jiff::SignedDuration::from_hours(1),
        now + jiff::SignedDuration::from_hours(1),
    );
    let seqs = |found: Vec<vigil_core::telemetry::StoredEvent>| {
        found.iter().map(|e| e.seq).collect::<Vec<_>>()
    };

    store
        .commit_intake(t.id, now, &batch(vec![event(1, "alice"), event(2, "bob")]))
        .await
        .expect("first batch");
    let before = seqs(
        store
            .events_with_entities(t.id, &ws1, window.0, window.1, 10)
            .await
            .expect("lookup"),
    );
    assert_eq!(before.len(), 2, "found among the recent postings");

    store.move_entity_postings().await.expect("move");
    store
        .commit_intake(t.id, now, &batch(vec![event(3, "alice")]))
        .await
        .expect("second batch");
    let after = seqs(
        store
            .events_with_entities(t.id, &ws1, window.0, window.1, 10)
            .await
            .expect("lookup"),
    );
    assert_eq!(
        after.len(),
        3,
        "moved and recent postings, each once: {after:?}"
    );
    assert_eq!(after[..2], before[..], "in time order");
    let alice = store
        .events_with_entities(
            t.id,
            &[Entity::new(EntityKind::User, "alice")],
            window.0,
            window.1,
            10,
        )
        .await
        .expect("lookup");
    assert_eq!(alice.len(), 2);
    let either = |entities: Vec<Entity>, limit| {
        let store = &store;
        async move {
            seqs(
                store
                    .events_with_entities(t.id, &entities, window.0, window.1, limit)
                    .await
                    .expect("lookup"),
            )
        }
    };
    let ws1_or_alice = vec![ws1[0].clone(), Entity::new(EntityKind::User, "alice")];
    assert_eq!(
        either(ws1_or_alice.clone(), 10).await,
        after,
        "an event naming both is found once"
    );
    assert_eq!(
        either(ws1_or_alice, 2).await,
        after[..2],
        "the earliest, cut at the limit across entities"
    );
    assert!(
        either(vec![Entity::new(EntityKind::User, "nobody")], 10)
            .await
            .is_empty()
    );
    // Two batches' lists of one entity and bucket become one list as
    // they are moved.
    store
        .commit_intake(t.id, now, &batch(vec![event(4, "carol")]))
        .await
        .expect("third batch");
    store.move_entity_postings().await.expect("second move");
    let moved = seqs(
        store
            .events_with_entities(t.id, &ws1, window.0, window.1, 10)
            .await
            .expect("lookup"),
    );
    assert_eq!(moved.len(), 4, "{moved:?}");
    assert_eq!(moved[..3], after[..]);
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM entity_lists l JOIN entity_names n ON n.id = l.entity WHERE n.value = 'ws1'"
        ),
        2,
        "the first move's list, and the second's made of two batches' lists"
    );

    store
        .purge_events(t.id, now + jiff::SignedDuration::from_hours(2))
        .await
        .expect("purge");
    store.close().await;
    assert_eq!(count(&path, "SELECT count(*) FROM entity_lists"), 0);
    assert_eq!(count(&path, "SELECT count(*) FROM entity_recent"), 0);
}

/// Retention cuts inside a time bucket of the postings lists: the lists
/// of that bucket keep their later postings, moved or recent, and later
/// buckets are left whole.
#[tokio::test]
async fn retention_trims_the_postings_lists_of_the_bucket_it_cuts_in_both_parts() {
    use vigil_core::{Entity, EntityKind, Timestamp};

    let (_dir, path, store) = migrated().await;
    let day: Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    // A minute into a bucket (2^32 microseconds), so the first events
    // share it.
    let start = (vigil_core::time::to_micros(day) >> 32) << 32;
    let now = Timestamp::from_microsecond(start + 60_000_000).expect("time");
    let t = tenant(&store, "retention", now).await;
    let ws1 = vec![Entity::new(EntityKind::Device, "ws1")];
    let at = |n: i64, secs: i64| {
        let mut e = security_event(n, now, ws1.clone(), None);
        e.time = now + jiff::SignedDuration::from_secs(secs);
        e
    };
    store
        .commit_intake(t.id, now, &batch(vec![at(1, 1), at(3, 3)]))
        .await
        .expect("first batch");
    store.move_entity_postings().await.expect("move");
    store
        .commit_intake(t.id, now, &batch(vec![at(2, 2), at(4, 4), at(5, 3 * 3600)]))
        .await
        .expect("second batch");
    let cut = now + jiff::SignedDuration::from_millis(2_500);
    store.purge_events(t.id, cut).await.expect("purge");
    let window = (
        now - jiff::SignedDuration::from_hours(24),
        now + jiff::SignedDuration::from_hours(24),
    );
    let found = store
        .events_with_entities(t.id, &ws1, window.0, window.1, 10)
        .await
        .expect("lookup");
    let hashes: Vec<&str> = found
        .iter()
        .map(|e| e.event.content_hash.as_str())
        .collect();
    assert_eq!(hashes, ["hash-3", "hash-4", "hash-5"]);
    store.close().await;
    let postings = |table: &str| {
        count(
            &path,
            &format!("SELECT coalesce(sum(json_array_length(postings)), 0) / 2 FROM {table}"),
        )
    };
    assert_eq!(postings("entity_lists"), 1, "the moved list trimmed");
    assert_eq!(
        postings("entity_recent"),
        2,
        "the recent list trimmed, the later one whole"
    );
    assert_eq!(count(&path, "SELECT count(*) FROM entity_recent"), 2);
}

/// Migration 0026 numbers the entities: postings written before it, moved
/// or recent, read the same through `event_entities` after it, each once.
#[test]
fn postings_written_before_entities_were_numbered_read_the_same_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vigil.db");
    migrated_below(&path, 26);
    sqlite3(
        &path,
        "INSERT INTO entity_postings VALUES ('t1', 'user', 'alice', 10, 1), ('t1', 'user', 'alice', 20, 2), ('t2', 'user', 'alice', 10, 3);
         INSERT INTO entity_recent VALUES ('t1', 'user', 'alice', 30, 4), ('t1', 'device', 'ws1', 30, 4), ('t1', 'user', 'alice', 20, 2);",
    );
    let before = sqlite3(
        &path,
        "SELECT DISTINCT tenant_id, kind, value, time, seq FROM event_entities ORDER BY 1, 2, 3, 4, 5",
    );
    sqlite3(&path, &migration_sql(26, "entity_numbers"));
    let after = sqlite3(
        &path,
        "SELECT tenant_id, kind, value, time, seq FROM event_entities ORDER BY 1, 2, 3, 4, 5",
    );
    assert_eq!(after, before);
    assert_eq!(after.lines().count(), 5, "{after}");
    assert_eq!(count(&path, "SELECT count(*) FROM entity_names"), 3);
    assert_eq!(count(&path, "SELECT count(*) FROM entity_recent"), 0);
}

/// Migration 0028 gathers the postings into lists: postings written
/// before it, moved or recent, in one time bucket or several, read the
/// same through `event_entities` after it, each once.
#[test]
fn postings_written_before_they_were_kept_as_lists_read_the_same_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vigil.db");
    migrated_below(&path, 28);
    // Late 2026 in microseconds; three hours later is another bucket.
    let t0: i64 = 1_795_000_000_000_000;
    let later = t0 + 3 * 3_600_000_000;
    let mut sql = String::from(
        "INSERT INTO entity_names (id, tenant_id, kind, value) VALUES (1, 't1', 'user', 'alice'), (2, 't1', 'device', 'ws1'), (3, 't2', 'user', 'alice');",
    );
    for (seq, tenant, time) in [
        (1, "t1", t0),
        (2, "t1", t0 + 7),
        (3, "t2", t0),
        (4, "t1", later),
    ] {
        sql.push_str(&format!(
            "INSERT INTO events (seq, tenant_id, time, received_at, shape, content_hash, raw, entities, dedup_at) \
             VALUES ({seq}, '{tenant}', {time}, {time}, 'windows_evtx', 'h{seq}', '', '[]', {time});"
        ));
    }
    sql.push_str(&format!(
        "INSERT INTO entity_postings VALUES (1, {t0}, 1), (1, {t0} + 7, 2), (3, {t0}, 3), (1, {later}, 4);
         INSERT INTO entity_recent VALUES (1, {later}, 4), (2, {later}, 4), (2, {t0} + 7, 2), (1, {t0} + 7, 2);"
    ));
    sqlite3(&path, &sql);
    let view =
        "SELECT tenant_id, kind, value, time, seq FROM event_entities ORDER BY 1, 2, 3, 4, 5";
    let before = sqlite3(&path, &view.replace("SELECT", "SELECT DISTINCT"));
    sqlite3(&path, &migration_sql(28, "entity_lists"));
    let after = sqlite3(&path, view);
    assert_eq!(after, before);
    assert_eq!(after.lines().count(), 6, "{after}");
    assert_eq!(
        count(&path, "SELECT count(*) FROM entity_lists"),
        5,
        "one list an entity and bucket"
    );
    assert_eq!(count(&path, "SELECT count(*) FROM entity_recent"), 0);
    assert_eq!(
        sqlite3(
            &path,
            "SELECT postings FROM entity_lists WHERE entity = 1 AND first_seq = 1"
        ),
        format!(
            "[{},1,{},2]",
            t0 - ((t0 >> 32) << 32),
            t0 + 7 - ((t0 >> 32) << 32)
        ),
        "offsets in the bucket and seqs, pairs flattened"
    );
}

/// Intake writes a batch's hunting rows, entity postings and queue
/// entries many rows to a statement: each row still gets its own values,
/// an empty column stays empty after a row that had it, and copies add
/// nothing.
#[tokio::test]
async fn a_large_batch_stores_each_hunting_row_posting_and_queue_entry_as_its_own() {
    use vigil_core::hunting::{HuntColumn, HuntRow};
    use vigil_core::{Entity, EntityKind, Timestamp};

    let (_dir, path, store) = migrated().await;
    let now: Timestamp = "2026-11-28T10:00:00Z".parse().expect("time");
    let t = tenant(&store, "bulk", now).await;
    let event = |n: i64| {
        let mut hunt = HuntRow::new(1);
        hunt.set(HuntColumn::DeviceName, &format!("ws{}", n % 7));
        hunt.set(HuntColumn::ProcessId, &n.to_string());
        // Every third event: a statement of 64 rows starts each row on
        // a different one of the three.
        if n % 3 == 0 {
            hunt.set(HuntColumn::AccountName, &format!("u{n}"));
        }
        let entities = vec![
            Entity::new(EntityKind::Device, format!("ws{}", n % 7)),
            Entity::new(EntityKind::User, format!("u{n}")),
        ];
        security_event(n, now, entities, Some(hunt))
    };
    // 300 events: hunting rows in statements of 64 and postings in
    // statements of 256, each with a shorter last one.
    store
        .commit_intake(t.id, now, &batch((0..300).map(event).collect()))
        .await
        .expect("first batch");
    // Ten copies and five new events.
    store
        .commit_intake(t.id, now, &batch((290..305).map(event).collect()))
        .await
        .expect("second batch");
    store.close().await;
    assert_eq!(count(&path, "SELECT count(*) FROM hunt_events"), 305);
    assert_eq!(count(&path, "SELECT count(*) FROM detection_queue"), 305);
    assert_eq!(
        count(
            &path,
            "SELECT sum(json_array_length(postings)) / 2 FROM entity_recent"
        ),
        610
    );
    assert_eq!(
        count(&path, "SELECT count(*) FROM entity_recent"),
        // The first batch: seven devices, 300 users; the second's five
        // new events: five devices, five users.
        7 + 300 + 5 + 5,
        "a list an entity a batch"
    );
    // Event `n` is the one whose content hash is `hash-n`.
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM hunt_events h JOIN events e ON e.seq = h.seq \
             WHERE e.content_hash = 'hash-' || h.process_id"
        ),
        305,
        "each row has its own event's values"
    );
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM hunt_events WHERE account_name = 'u' || process_id"
        ),
        102
    );
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM hunt_events WHERE account_name IS NULL"
        ),
        203,
        "the others have no account, whatever the row before them had"
    );
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM event_entities ee JOIN events e ON e.seq = ee.seq \
             WHERE ee.kind = 'user' AND 'hash-' || substr(ee.value, 2) = e.content_hash"
        ),
        305,
        "each posting names its own event's user"
    );
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM detection_queue q JOIN events e ON e.seq = q.seq"
        ),
        305
    );
}
