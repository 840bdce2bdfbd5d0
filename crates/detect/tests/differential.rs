//! Differential test against the reference Sigma implementation (pySigma
//! with its SQLite backend, `../shared/tools/sigma-oracle`) on the EVTX
//! attack samples with the SigmaHQ Windows rules.
//!
//! The oracle's answers are in `tests/data/oracle-*.jsonl` (regenerate them
//! with `scripts/oracle-refresh`). For every rule the oracle converts, the
//! set of (rule, file, event) matches must be the same, except for the
//! disagreements listed with their reasons in
//! `tests/data/oracle-disagreements.jsonl` (see docs/sigma-differential.md).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use vigil_detect::scan::{self, NoProgress, ScanOptions};
use vigil_detect::{WindowsDetector, WindowsOptions};

type Key = (String, String, u64);

fn lines(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn key(v: &Value) -> Key {
    (
        v["rule_id"].as_str().expect("rule_id").to_owned(),
        v["source"].as_str().expect("source").to_owned(),
        v["event_index"].as_u64().expect("event_index"),
    )
}

fn vigil_matches(corpus: &std::path::Path, options: WindowsOptions) -> BTreeSet<Key> {
    let set = vigil_sigma::load(&[corpus.join("sigma/rules/windows")]);
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics.first());
    let (detector, _) = WindowsDetector::new(set, &options);
    let (files, problems) = scan::discover(&[corpus.join("evtx-attack-samples")]);
    assert!(problems.is_empty(), "{problems:?}");
    let report = scan::scan(&detector, &files, &ScanOptions::default(), &NoProgress);
    assert_eq!(report.events, 8255, "every event of the samples is read");
    assert!(report.files.iter().all(|f| f.errors.is_empty()));
    report
        .hits
        .iter()
        .map(|h| {
            let path = &report.files[h.file].path;
            let rel = path
                .strip_prefix(corpus)
                .expect("under the corpus")
                .to_string_lossy()
                .into_owned();
            (
                detector.rules()[h.hit.rule as usize].info.id.clone(),
                rel,
                h.index,
            )
        })
        .collect()
}

#[test]
fn vigil_agrees_with_the_reference_oracle_on_the_attack_samples() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let skipped: BTreeSet<String> = lines("oracle-skipped-rules.jsonl")
        .iter()
        .map(|v| v["rule_id"].as_str().expect("rule_id").to_owned())
        .collect();
    let oracle: BTreeSet<Key> = lines("oracle-evtx-attack-samples.jsonl")
        .iter()
        .map(key)
        .collect();
    assert_eq!(oracle.len(), 1216);
    let known: BTreeSet<Key> = lines("oracle-disagreements.jsonl")
        .iter()
        .map(key)
        .collect();

    let ours: BTreeSet<Key> = vigil_matches(&corpus, WindowsOptions::default())
        .into_iter()
        .filter(|(rule, _, _)| !skipped.contains(rule))
        .collect();
    let only_ours: Vec<&Key> = ours
        .difference(&oracle)
        .filter(|k| !known.contains(*k))
        .collect();
    let only_oracle: Vec<&Key> = oracle
        .difference(&ours)
        .filter(|k| !known.contains(*k))
        .collect();
    assert!(
        only_ours.is_empty() && only_oracle.is_empty(),
        "undocumented disagreements\nonly Vigil: {only_ours:#?}\nonly the oracle: {only_oracle:#?}"
    );
    let stale: Vec<&Key> = known
        .iter()
        .filter(|k| ours.contains(*k) == oracle.contains(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "documented disagreements that no longer occur: {stale:#?}"
    );
}

#[test]
fn the_prefilter_never_changes_a_result() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let with = vigil_matches(&corpus, WindowsOptions::default());
    let without = vigil_matches(
        &corpus,
        WindowsOptions {
            no_prefilter: true,
            ..WindowsOptions::default()
        },
    );
    assert_eq!(with, without);
}
