//! Service reports (PRODUCT.md §13; docs/reports.md): a tenant's figures
//! for a period with six-month trends, and the provider's view across
//! tenants. Pure: the service gathers the facts ([`ReportInput`]) from the
//! store, this crate computes the figures, and rendering (HTML, PDF) is
//! the service's. No IO and no clock: "now" is an input.

mod compute;
mod input;
pub mod model;
pub mod months;
mod provider;
pub mod stats;

pub use compute::{
    Resolution, TOP_ASSETS, TOP_RECOMMENDATIONS, TimerOutcome, compute, resolution, timer_outcome,
};
pub use input::{CoverageScope, IncidentFacts, Period, ReportInput, TaskFacts};
pub use model::ServiceReport;
pub use provider::{ProviderReport, ProviderRow, provider_report};
