//! The SQLite backend against the conformance suite, plus file-level
//! behaviour only SQLite has.

use vigil_store::{AuditStore, SqliteStore, Store, StoreError, TenantStore, conformance};

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
async fn in_memory_sqlite_store_passes_the_conformance_suite() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    store.migrate().await.expect("migrate");
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn migrations_from_an_empty_database_create_every_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let report = store.migrate().await.expect("migrate");
    assert_eq!(
        report.applied,
        vec![
            (1, "tenants_and_audit".to_owned()),
            (2, "identity".to_owned()),
            (3, "sessions".to_owned()),
            (4, "telemetry".to_owned()),
            (5, "rules".to_owned()),
            (6, "alert_source".to_owned()),
            (7, "raw_compressed".to_owned()),
            (8, "incidents".to_owned()),
            (9, "incident_work".to_owned()),
            (10, "verdicts".to_owned()),
            (11, "summaries".to_owned()),
            (12, "tasks".to_owned()),
            (16, "connectors".to_owned())
        ]
    );
    assert_eq!(report.version, 16);
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
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).await.expect("open");
    store.migrate().await.expect("migrate");
    store.close().await;
    let status = std::process::Command::new("sqlite3")
        .arg(&path)
        .arg("INSERT INTO vigil_schema VALUES (999, 'from_the_future', 'x', 0);")
        .status()
        .expect("sqlite3 shell runs");
    assert!(status.success());
    let store = SqliteStore::open(&path).await.expect("open");
    let err = store.migrate().await.expect_err("newer schema refused");
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 999,
                supported: 12,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade vigil"), "{err}");
}
