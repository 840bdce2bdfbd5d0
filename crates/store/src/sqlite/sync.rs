//! Durable commits with the disk's wait outside the turn to write.
//!
//! Every connection that writes commits with `synchronous = NORMAL`: a
//! commit appends its frames to the write-ahead log and does not wait for
//! the disk. The writer then gives back the process's turn to write and
//! syncs the log ([`LogSync::sync`]) before it answers, so a commit is on
//! disk before anyone is told of it, and the next writer's transaction
//! overlaps the wait. Syncing the log syncs whatever others appended
//! since, which harms nothing; a checkpoint that has moved a commit into
//! the database and restarted the log synced the database first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Result, StoreError};

/// Where to sync: the database and its log; nothing when commits need not
/// reach the disk (temporary stores).
#[derive(Debug, Clone, Default)]
pub(super) struct LogSync(Option<Arc<(PathBuf, PathBuf)>>);

impl LogSync {
    /// For the database at `path`; a no-op unless `durable`.
    pub fn new(path: &Path, durable: bool) -> Self {
        let mut log = path.as_os_str().to_owned();
        log.push("-wal");
        LogSync(durable.then(|| Arc::new((path.to_owned(), log.into()))))
    }

    /// The log synced, `None` when not durable.
    #[cfg(test)]
    pub fn log(&self) -> Option<&Path> {
        self.0.as_deref().map(|(_, log)| log.as_path())
    }

    /// Wait until every commit made so far is on disk: sync the log, or,
    /// with no log (only once every connection has closed, which
    /// checkpoints it), the database. Blocks: call it off the async
    /// workers.
    pub fn sync(&self) -> Result<()> {
        let Some(paths) = &self.0 else {
            return Ok(());
        };
        let (db, log) = &**paths;
        let sync = |path: &PathBuf| {
            std::fs::File::open(path)
                .and_then(|f| f.sync_data())
                .map_err(|source| StoreError::Io {
                    path: path.clone(),
                    source,
                })
        };
        match sync(log) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                sync(db)
            }
            done => done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_durable_store_syncs_the_log_its_commits_end_in_or_the_database_without_one() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("x.db");
        let sync = LogSync::new(&db, true);
        let log = sync.log().expect("durable").to_owned();
        assert_eq!(log, dir.path().join("x.db-wal"));
        let conn = rusqlite::Connection::open(&db).expect("open");
        // Not yet in write-ahead mode: no log, so the database.
        assert!(!log.exists());
        sync.sync().expect("the database synced");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
        )
        .expect("write");
        assert!(
            std::fs::metadata(&log).expect("the log").len() > 0,
            "the commit is in the log"
        );
        sync.sync().expect("the log synced");
        let not_durable = LogSync::new(&dir.path().join("y.db"), false);
        assert!(not_durable.log().is_none());
        not_durable.sync().expect("nothing to do");
    }
}
