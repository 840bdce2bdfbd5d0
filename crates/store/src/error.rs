use std::path::PathBuf;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {key:?} already exists")]
    Duplicate { what: &'static str, key: String },
    #[error("{what} {key:?} was changed by someone else meanwhile; reload and retry")]
    Conflict { what: &'static str, key: String },
    #[error("{what} {key:?} not found")]
    NotFound { what: &'static str, key: String },
    #[error(
        "the database at {location} has schema version {found}, newer than this vigil supports ({supported}); upgrade vigil"
    )]
    SchemaTooNew {
        location: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "migration {version} ({name}) applied to this database differs from the one this vigil ships; the database was made by a different build"
    )]
    MigrationChanged { version: i64, name: String },
    #[error("cannot open database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to database {location}")]
    Connect {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("audit record {seq} is unreadable: {reason}")]
    UnreadableAudit { seq: i64, reason: String },
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("cannot use {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store {path} is being restored; try again when the restore is done")]
    Restoring { path: PathBuf },
    /// A statement ran past its time limit and was interrupted.
    #[error("{what} ran past its time limit of {limit_ms} ms")]
    TimedOut { what: &'static str, limit_ms: u64 },
    #[error("database error: {0}")]
    Backend(#[from] sqlx::Error),
    /// From a connection of the store's own to the SQLite file, beside
    /// sqlx's: intake's writer (`sqlite/intake.rs`), the detection queue's
    /// reader (`sqlite/queue.rs`).
    #[error("database error: {0}")]
    Writer(#[from] rusqlite::Error),
    #[error("cannot open database {path}")]
    WriterOpen {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl StoreError {
    pub(crate) fn corrupt(what: &'static str, reason: impl ToString) -> Self {
        StoreError::Corrupt {
            what,
            reason: reason.to_string(),
        }
    }
}
