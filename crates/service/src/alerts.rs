//! Reading alerts.

use vigil_core::alert::{Alert, AlertFilter};
use vigil_core::identity::{Permission, Principal};

use crate::{Result, Service};

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
}
