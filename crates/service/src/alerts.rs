//! Reading alerts.

use vigil_core::alert::{Alert, AlertFilter, AlertId};
use vigil_core::identity::{Permission, Principal};
use vigil_core::telemetry::StoredEvent;

use crate::{Result, Service, ServiceError};

/// The most alerts one page holds.
pub const MAX_ALERT_PAGE: u32 = 500;

impl Service {
    /// A tenant's alerts, newest activity first, filtered and paged.
    pub async fn list_alerts(
        &self,
        p: &Principal,
        tenant: &str,
        mut filter: AlertFilter,
    ) -> Result<Vec<Alert>> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        filter.limit = filter.limit.clamp(1, MAX_ALERT_PAGE);
        Ok(self.store.list_alerts(tenant.id, &filter).await?)
    }

    /// One alert with its evidence: the matching events as received (the
    /// first hundred; `count` has the total).
    pub async fn alert(
        &self,
        p: &Principal,
        tenant: &str,
        id: AlertId,
    ) -> Result<(Alert, Vec<StoredEvent>)> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        let (alert, seqs) =
            self.store
                .alert(tenant.id, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "alert",
                    key: id.to_string(),
                })?;
        let events = self.store.events_by_seq(tenant.id, &seqs).await?;
        Ok((alert, events))
    }
}
