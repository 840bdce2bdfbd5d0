//! Vigil's domain vocabulary.
//!
//! This crate is pure: it performs no IO, spawns nothing and never reads the
//! clock. Time is passed in by the caller (see [`time`]). Everything that
//! crosses a process boundary (HTTP, SQL, files) is converted at the edge, in
//! the crates that own that boundary.

#[macro_use]
mod macros;

pub mod alert;
pub mod audit;
pub mod entity;
pub mod hex;
pub mod hunting;
pub mod id;
pub mod identity;
pub mod incident;
pub mod json;
pub mod major;
pub mod message;
pub mod notification;
pub mod readiness;
pub mod recommendation;
pub mod rules;
pub mod session;
pub mod severity;
pub mod signature;
pub mod sla;
pub mod summary;
pub mod task;
pub mod telemetry;
pub mod tenant;
pub mod time;

pub use entity::{Entity, EntityKind, Verdict};
pub use id::{Id, TenantId};
pub use severity::Severity;
pub use time::Timestamp;
