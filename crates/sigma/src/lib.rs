//! Sigma rules for Vigil.
//!
//! Parsing and single-rule evaluation come from `rsigma-parser` and
//! `rsigma-eval` (see docs/adr/0001-sigma-engine.md); this crate adds what
//! Vigil needs around them: loading rule packs file by file with a
//! diagnostic per bad rule ([`load`]), rule metadata with ATT&CK tags
//! ([`RuleInfo`]), Vigil's fixes to rules before compiling ([`rewrite`]),
//! and the literals one of which must occur in an event for a rule to match
//! ([`needles`]), which detection uses as a cross-rule prefilter.
//!
//! Knows nothing of telemetry formats, storage or async.

pub mod analysis;
pub mod event_ids;
mod info;
mod load;
pub mod needles;
mod required;
pub mod rewrite;

pub use analysis::Context;
pub use info::{RuleInfo, attack_ids};
pub use load::{Diagnostic, DiagnosticKind, LoadedRule, RuleSet, load, load_str};
pub use needles::{Needle, Needles};
pub use required::required_literal;

/// The compiled form of a detection rule (from `rsigma-eval`).
pub use rsigma_eval::CompiledRule;
/// A parsed rule's logsource.
pub use rsigma_parser::LogSource as SigmaLogSource;
