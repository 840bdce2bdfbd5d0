//! Posture recommendations (PRODUCT.md §10), the pure part: the knowledge
//! base shipped with Vigil (`knowledge.toml`, in Vigil's own words), the
//! ATT&CK ids it names (`attack.toml`), which entries an incident or a
//! failing readiness check raises, and the verification expressions over
//! posture snapshots. The service keeps tenants' recommendations; this
//! crate does no IO and never reads the clock.

mod attack;
mod expr;
mod kb;
mod snapshot;

pub use attack::{Attack, Mitigation, Technique};
pub use expr::{Expr, ExprError, Outcome, State};
pub use kb::{Entry, KbError, Knowledge, Level, Match, Triggers};
pub use snapshot::{Asset, AssetKind, Snapshots};
