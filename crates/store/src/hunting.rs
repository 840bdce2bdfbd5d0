//! Threat hunting (PRODUCT.md §12): running compiled hunts read-only and
//! within a time limit, saved and scheduled hunts, the rows a scheduled
//! hunt already alerted on, and hunting summaries.

use std::time::Duration;

use async_trait::async_trait;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::hunting::{
    AdditionalOf, HuntDialect, HuntRows, HuntSql, HuntSummary, SavedHunt, SavedHuntId,
};
use vigil_core::{TenantId, Timestamp};

use crate::Result;

#[async_trait]
pub trait HuntStore: Send + Sync {
    /// The SQL this backend runs hunts in (the one place that decides).
    fn hunt_dialect(&self) -> HuntDialect;

    /// Offer the store `from_record`, which makes a hunting row's
    /// `AdditionalFields` from its event's record. A store that takes it
    /// (`true`) keeps no such text: it makes it when a hunt reads it, and
    /// intake leaves it out of the rows it commits. One that does not
    /// (`false`) stores the text intake gives.
    fn derive_additional(&self, from_record: AdditionalOf) -> bool {
        let _ = from_record;
        false
    }

    /// Run a statement compiled by `vigil-hunt` (never other text), read
    /// only: at most `max_rows` rows (`truncated` when more were left),
    /// interrupted after `time_limit` (`StoreError::TimedOut`).
    async fn run_hunt(
        &self,
        sql: &HuntSql,
        max_rows: usize,
        time_limit: Duration,
    ) -> Result<HuntRows>;

    /// Insert or update a saved hunt with its audit record. `expected` is
    /// the `updated_at` it was read with (`None`: a new one); a hunt changed
    /// meanwhile is a `Conflict`, a second one with the same name in the
    /// tenant a `Duplicate`. `next_run` is when a scheduled run is due.
    async fn put_saved_hunt(
        &self,
        hunt: &SavedHunt,
        expected: Option<Timestamp>,
        next_run: Option<Timestamp>,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// Delete a saved hunt (its alerted rows too); `NotFound` when absent.
    async fn delete_saved_hunt(
        &self,
        tenant: TenantId,
        id: SavedHuntId,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A tenant's saved hunts, by name.
    async fn saved_hunts(&self, tenant: TenantId) -> Result<Vec<SavedHunt>>;

    async fn saved_hunt(&self, tenant: TenantId, id: SavedHuntId) -> Result<Option<SavedHunt>>;

    /// Scheduled hunts whose next run is due at `now`, soonest first.
    async fn due_hunts(&self, now: Timestamp, limit: u32) -> Result<Vec<SavedHunt>>;

    /// Of `keys` (row fingerprints), those the hunt has not alerted on.
    async fn unseen_hunt_rows(&self, hunt: SavedHuntId, keys: &[String]) -> Result<Vec<String>>;

    /// After a scheduled run: remember the rows it alerted on, the end of
    /// its window and the next due time, with the audit record.
    async fn finish_hunt_run(
        &self,
        hunt: SavedHuntId,
        alerted: &[String],
        window_end: Timestamp,
        next_run: Timestamp,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    async fn put_hunt_summary(
        &self,
        summary: &HuntSummary,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A tenant's hunting summaries, newest first (of one hunt, if given).
    async fn hunt_summaries(
        &self,
        tenant: TenantId,
        hunt: Option<SavedHuntId>,
    ) -> Result<Vec<HuntSummary>>;
}
