//! The detection queue's reads on a connection of their own.
//!
//! Each detection round asks which events wait (up to 4,096 `seq`s) and
//! how many are left. Through sqlx every row crosses from the
//! connection's worker thread to the caller as a row object of its own:
//! at 25,000 events a second that was about 3 % of the server's CPU for
//! a list of integers. Here the rows are stepped on the calling thread.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, params};

use crate::{Result, StoreError};

pub(super) struct QueueReader {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for QueueReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueueReader")
    }
}

impl QueueReader {
    /// A read-only connection to the database at `path`.
    pub(super) fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|source| StoreError::WriterOpen {
            path: path.to_owned(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA query_only = ON;")?;
        conn.set_prepared_statement_cache_capacity(4);
        Ok(QueueReader {
            conn: Mutex::new(conn),
        })
    }

    /// The first `limit` queued `seq`s, oldest first.
    pub(super) fn seqs(&self, limit: u32) -> Result<Vec<i64>> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt =
            conn.prepare_cached("SELECT seq FROM detection_queue ORDER BY seq LIMIT ?1")?;
        let seqs = stmt
            .query_map(params![i64::from(limit)], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(seqs)
    }

    /// How many events are queued.
    pub(super) fn len(&self) -> Result<u64> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM detection_queue")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
