//! Backup and restore of the embedded store (docs/backup.md).
//!
//! A backup is `VACUUM INTO` a new file: one read transaction, so the copy
//! is a consistent snapshot even while the server writes. A restore first
//! checks the file (SQLite's integrity check, Vigil's schema table and its
//! migration checksums), then replaces the database only when no process
//! has the store open: every [`SqliteStore`] holds a shared advisory lock
//! on `<database>.lock` for its lifetime (the OS releases it when a process
//! dies, even by SIGKILL), and a restore takes it exclusively.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use super::SqliteStore;
use super::migrations::MIGRATIONS;

/// Why a backup or restore was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path} already exists; choose a new file for the backup")]
    BackupExists { path: PathBuf },
    #[error("the store {path} is in use by another vigil process (a server?); stop it first")]
    InUse { path: PathBuf },
    #[error("the store {path} exists; give --force to replace it with the backup")]
    StoreExists { path: PathBuf },
    #[error("{path} is not a Vigil backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path} fails SQLite's integrity check: {problems}")]
    Damaged { path: PathBuf, problems: String },
    #[error(
        "{path} has schema version {found}, newer than this vigil supports ({supported}); restore it with a newer vigil"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path}: migration {version} differs from the one this vigil ships; the backup was made by a different build"
    )]
    MigrationChanged { path: PathBuf, version: i64 },
    #[error("cannot use {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database error on {path}: {source}")]
    Backend {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn backend(path: &Path) -> impl FnOnce(sqlx::Error) -> BackupError + '_ {
    move |source| BackupError::Backend {
        path: path.to_owned(),
        source,
    }
}

/// What a backup holds, as checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub bytes: u64,
    /// The highest migration applied in the backup.
    pub schema_version: i64,
}

/// `<database>.lock`: the advisory lock file beside a database.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Hold a shared lock on the store's lock file (released when the file
/// is closed or the process dies). Fails when a restore holds it.
pub(super) fn lock_shared(db: &Path) -> Result<File, BackupError> {
    let path = lock_path(db);
    let file = open_lock(&path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(BackupError::InUse {
            path: db.to_owned(),
        }),
        Err(TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

fn open_lock(path: &Path) -> Result<File, BackupError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(io(path))
}

/// Make sure a file is on disk, and its directory entry too.
fn sync(path: &Path) -> Result<(), BackupError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Directories cannot be synced on every platform; best effort.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

impl SqliteStore {
    /// Write a consistent copy of the store to `dest`, a new file. The
    /// copy is written beside it under a temporary name and renamed, so
    /// `dest` never holds half a backup.
    pub async fn backup_to(&self, dest: &Path) -> Result<BackupInfo, BackupError> {
        if dest.exists() {
            return Err(BackupError::BackupExists {
                path: dest.to_owned(),
            });
        }
        let partial = {
            let mut name = dest.as_os_str().to_owned();
            name.push(".partial");
            PathBuf::from(name)
        };
        // A partial file is what an interrupted backup left: not data.
        let _ = std::fs::remove_file(&partial);
        let target = partial.to_str().ok_or_else(|| BackupError::Io {
            path: partial.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the backup path is not UTF-8",
            ),
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(backend(dest))?;
        sync(&partial)?;
        std::fs::rename(&partial, dest).map_err(io(dest))?;
        sync(dest)?;
        check_backup(dest).await
    }
}

/// Check a backup file without changing it: SQLite's integrity check, then
/// Vigil's schema table against the migrations this build ships.
pub async fn check_backup(path: &Path) -> Result<BackupInfo, BackupError> {
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        .connect()
        .await
        .map_err(backend(path))?;
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: path.to_owned(),
        reason,
    };
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    if problems != ["ok"] {
        return Err(BackupError::Damaged {
            path: path.to_owned(),
            problems: problems.join("; "),
        });
    }
    let rows = sqlx::query("SELECT version, checksum FROM vigil_schema ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| not_a_backup(format!("no Vigil schema table ({e})")))?;
    let supported = MIGRATIONS.last().map_or(0, |m| m.version);
    let mut schema_version = 0;
    for row in &rows {
        let version: i64 = row.try_get("version").map_err(backend(path))?;
        let checksum: String = row.try_get("checksum").map_err(backend(path))?;
        let Some(known) = MIGRATIONS.iter().find(|m| m.version == version) else {
            return Err(BackupError::SchemaTooNew {
                path: path.to_owned(),
                found: version,
                supported,
            });
        };
        if known.checksum() != checksum {
            return Err(BackupError::MigrationChanged {
                path: path.to_owned(),
                version,
            });
        }
        schema_version = schema_version.max(version);
    }
    if schema_version == 0 {
        return Err(not_a_backup("no migration was ever applied".into()));
    }
    conn.close().await.map_err(backend(path))?;
    Ok(BackupInfo {
        path: path.to_owned(),
        bytes,
        schema_version,
    })
}

/// Replace the database at `db` with the checked backup at `backup`.
/// Refused while any process has the store open, and when `db` exists
/// unless `force`. The caller opens the store afterwards (migrating an
/// older backup forward) and verifies its audit chain.
pub async fn restore_backup(
    backup: &Path,
    db: &Path,
    force: bool,
) -> Result<BackupInfo, BackupError> {
    let info = check_backup(backup).await?;
    let lock_file = lock_path(db);
    let lock = open_lock(&lock_file)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(BackupError::InUse {
                path: db.to_owned(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(&lock_file)(e)),
    }
    if db.exists() && !force {
        return Err(BackupError::StoreExists {
            path: db.to_owned(),
        });
    }
    let staging = {
        let mut name = db.as_os_str().to_owned();
        name.push(".restoring");
        PathBuf::from(name)
    };
    std::fs::copy(backup, &staging).map_err(io(&staging))?;
    sync(&staging)?;
    // The old database's write-ahead log and index belong to it alone:
    // left beside the restored file they would be replayed into it.
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(db)(e)),
        }
    }
    std::fs::rename(&staging, db).map_err(io(db))?;
    sync(db)?;
    drop(lock);
    Ok(BackupInfo {
        path: db.to_owned(),
        ..info
    })
}
