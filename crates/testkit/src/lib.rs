//! Test support shared by Vigil's crates.
//!
//! The real-data corpus (SigmaHQ rules and regression data, EVTX attack
//! samples, ATT&CK) lives outside the repository: `$VIGIL_CORPUS`, or
//! `../shared/corpus` beside the checkout. Tests that need it call
//! [`corpus`] and skip, saying so, when it is absent. [`postgres`] starts
//! a real PostgreSQL for the store's second backend.

pub mod nats;
pub mod postgres;
pub mod smtp;

use std::path::PathBuf;

/// The corpus directory, if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("VIGIL_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// The corpus, or return from the calling test after saying it is skipped.
#[macro_export]
macro_rules! corpus_or_skip {
    () => {
        match $crate::corpus() {
            Some(dir) => dir,
            None => {
                eprintln!(
                    "skipping {}: the test corpus is absent (set VIGIL_CORPUS or place it at ../shared/corpus)",
                    module_path!()
                );
                return;
            }
        }
    };
}
