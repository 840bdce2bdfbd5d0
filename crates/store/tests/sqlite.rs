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
