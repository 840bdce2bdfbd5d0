//! Threat hunting on PostgreSQL: not ported yet. Every call answers
//! `StoreError::Unsupported`, so a hunt on a PostgreSQL deployment fails
//! with a clear message instead of wrong results.

use std::time::Duration;

use async_trait::async_trait;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::hunting::{HuntRows, HuntSql, HuntSummary, SavedHunt, SavedHuntId};
use vigil_core::{TenantId, Timestamp};

use super::PgStore;
use crate::{Result, StoreError};

fn unsupported<T>() -> Result<T> {
    Err(StoreError::Unsupported {
        what: "threat hunting",
        backend: "PostgreSQL",
    })
}

#[async_trait]
impl crate::HuntStore for PgStore {
    async fn run_hunt(&self, _: &HuntSql, _: usize, _: Duration) -> Result<HuntRows> {
        unsupported()
    }

    async fn put_saved_hunt(
        &self,
        _: &SavedHunt,
        _: Option<Timestamp>,
        _: Option<Timestamp>,
        _: AuditEntry,
    ) -> Result<AuditRecord> {
        unsupported()
    }

    async fn delete_saved_hunt(
        &self,
        _: TenantId,
        _: SavedHuntId,
        _: AuditEntry,
    ) -> Result<AuditRecord> {
        unsupported()
    }

    async fn saved_hunts(&self, _: TenantId) -> Result<Vec<SavedHunt>> {
        unsupported()
    }

    async fn saved_hunt(&self, _: TenantId, _: SavedHuntId) -> Result<Option<SavedHunt>> {
        unsupported()
    }

    async fn due_hunts(&self, _: Timestamp, _: u32) -> Result<Vec<SavedHunt>> {
        // Nothing is ever scheduled here, so the scheduler has nothing due.
        Ok(Vec::new())
    }

    async fn unseen_hunt_rows(&self, _: SavedHuntId, _: &[String]) -> Result<Vec<String>> {
        unsupported()
    }

    async fn finish_hunt_run(
        &self,
        _: SavedHuntId,
        _: &[String],
        _: Timestamp,
        _: Timestamp,
        _: AuditEntry,
    ) -> Result<AuditRecord> {
        unsupported()
    }

    async fn put_hunt_summary(&self, _: &HuntSummary, _: AuditEntry) -> Result<AuditRecord> {
        unsupported()
    }

    async fn hunt_summaries(
        &self,
        _: TenantId,
        _: Option<SavedHuntId>,
    ) -> Result<Vec<HuntSummary>> {
        unsupported()
    }
}
