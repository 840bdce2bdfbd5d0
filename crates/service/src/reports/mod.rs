//! Service reports (PRODUCT.md §13; docs/reports.md): the facts a report
//! needs gathered from the store, the figures computed by `vigil-reports`,
//! rendered here as JSON, HTML ([`html`]) or PDF ([`pdf`]); the provider's
//! view across tenants; and the monthly report sent to each tenant's
//! service-review contacts through the notification outbox.

mod gather;
pub mod html;
pub mod pdf;
mod period;
mod schedule;
mod svg;

use vigil_core::identity::{Permission, Principal};
use vigil_reports::{Period, ProviderReport, ServiceReport, provider_report};

pub use period::{DEFAULT_DAYS, MAX_DAYS, parse_period};
pub use schedule::ReportDelivery;

use crate::{Result, Service, ServiceError};

impl Service {
    /// A tenant's service report over `period` (see [`parse_period`]).
    /// A provider role's read is audited like every read of tenant data.
    pub async fn service_report(
        &self,
        p: &Principal,
        slug: &str,
        period: Period,
    ) -> Result<ServiceReport> {
        let t = self.load_tenant(slug).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        self.report_for(&t, period).await
    }

    /// The provider's view: every tenant's report over `period`, one row
    /// each (tenants in slug order; deleted tenants left out). Provider
    /// roles and the operator only; each tenant read is audited.
    pub async fn provider_report(&self, p: &Principal, period: Period) -> Result<ProviderReport> {
        if let Principal::IngestKey { .. } = p {
            // A key may send telemetry and nothing else: nothing exists.
            return Err(ServiceError::NotFound {
                what: "report",
                key: "provider".into(),
            });
        }
        if !crate::authz::is_provider_side(p) {
            return Err(ServiceError::Forbidden("read the provider-wide report"));
        }
        let mut reports = Vec::new();
        for t in self.store.list_tenants().await? {
            if t.lifecycle == vigil_core::tenant::Lifecycle::Deleted {
                continue;
            }
            self.authorize(p, Permission::ReadTenant, Some(&t), true)
                .await?;
            reports.push(self.report_for(&t, period).await?);
        }
        Ok(provider_report(period, self.clock.now(), reports))
    }
}
