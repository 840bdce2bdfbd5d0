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

/// Every file under `dir` (recursively) whose extension is `ext` (ASCII
/// case ignored), sorted; an unreadable directory is skipped.
pub fn files_with_extension(dir: &std::path::Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case(ext)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
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
