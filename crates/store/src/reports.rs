//! Service reports (PRODUCT.md §13): what a report reads beyond the other
//! stores, and the record of monthly reports sent.

use async_trait::async_trait;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::notification::{Delivery, Notification};
use vigil_core::task::Task;
use vigil_core::{TenantId, Timestamp};

use crate::{IncidentRecord, Result};

/// An incident with what a report derives its figures from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportIncident {
    pub record: IncidentRecord,
    /// Its `status` activity entries, oldest first: when, and the details
    /// (`from → to`, sometimes followed by `: why`).
    pub status_moves: Vec<(Timestamp, String)>,
    /// The sources of its alerts (`sigma`, `correlation`, …), sorted, each
    /// once.
    pub sources: Vec<String>,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// A tenant's incidents created before `to` and created or changed at
    /// or after `since` (incidents merged into others left out).
    async fn report_incidents(
        &self,
        tenant: TenantId,
        since: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ReportIncident>>;

    /// A tenant's tasks changed at or after `since`, and every open one.
    async fn report_tasks(&self, tenant: TenantId, since: Timestamp) -> Result<Vec<Task>>;

    /// Whether the report for `period` (`YYYY-MM`) was sent to the tenant.
    async fn report_delivered(&self, tenant: TenantId, period: &str) -> Result<bool>;

    /// Record the report for `period` as sent and queue the notification
    /// carrying it with its deliveries and the audit record, in one
    /// transaction. `Ok(None)` when that period was already recorded:
    /// nothing is written.
    async fn record_report_delivery(
        &self,
        tenant: TenantId,
        period: &str,
        notification: &Notification,
        deliveries: &[Delivery],
        audit: AuditEntry,
    ) -> Result<Option<AuditRecord>>;
}
