//! Alert correlation: where each alert goes among a tenant's open
//! incidents, how an incident's summary follows its alerts, and merges
//! (PRODUCT.md §7; the rules in prose are in docs/incidents.md).
//!
//! Pure: no IO, no clock. The caller loads a tenant's open incidents and
//! the prevalence counts, asks [`place`] where an alert goes, and stores
//! the outcome (or uses [`apply`] to do it in memory).
//!
//! The guarantee (tested in `tests/properties.rs`): for fixed settings and
//! prevalence, and incidents that stay open, the alerts end up grouped as
//! the connected components of the relation "same tenant, a shared key
//! entity that is not common, activity at most `window` apart", whatever
//! order they arrive in.

pub mod common;
pub mod config;
pub mod major;
pub mod merge;
pub mod place;
pub mod summary;

#[cfg(test)]
mod testing;

pub use common::{
    CommonReason, EntityPrevalence, Prevalence, common_reason, is_common, is_key_kind,
};
pub use config::{ConfigError, CorrelationConfig};
pub use merge::{MergeError, Merged, merge};
pub use place::{
    ApplyError, Ignored, Link, Placement, Target, apply, apply_update, place, resolve,
};
pub use summary::{TenantMismatch, absorb, open, rebuild, refresh, title};
