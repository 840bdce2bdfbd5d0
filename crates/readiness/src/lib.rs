//! The readiness assessment (PRODUCT.md §4): is the telemetry complete and
//! the protection configured well enough for the service to work?
//!
//! The checks are data: `catalogue.toml` (embedded) gives each its id,
//! category, weight, whether it blocks, what it measures, why it matters,
//! the remediation for the customer, and which small evaluator in
//! [`checks`](crate) computes it with what parameters. Pure: the service
//! gathers the [`Facts`] from the store; [`assess`] returns the results.

mod catalogue;
mod checks;
mod facts;

pub use catalogue::{
    AsrRule, BUILTIN, Catalogue, CatalogueError, CheckSpec, Evaluate, IdentitySelection, Limits,
    SettingName, StreamMatch, Want,
};
pub use facts::{DeviceSnapshot, Facts, IdentitySnapshot, SnapshotError};

use vigil_core::TenantId;
use vigil_core::readiness::{Assessment, CheckResult, Trigger};

/// Run every check of `catalogue` over `facts`.
pub fn assess(
    catalogue: &Catalogue,
    facts: &Facts,
    tenant: TenantId,
    trigger: Trigger,
) -> Assessment {
    let checks = catalogue
        .checks
        .iter()
        .map(|spec| {
            let o = checks::evaluate(&spec.evaluate, facts, &catalogue.limits);
            CheckResult {
                id: spec.id.clone(),
                category: spec.category,
                title: spec.title.clone(),
                status: o.status,
                blocking: spec.blocking,
                weight: spec.weight,
                evidence: o.evidence,
                remediation: spec.remediation.clone(),
            }
        })
        .collect();
    Assessment::new(tenant, facts.now, trigger, checks)
}

#[cfg(test)]
mod tests;
