//! Every rule of the pack on its samples: each positive sample file fires
//! at least one alerting rule of its pack file, every alerting rule fires
//! on some positive, and no negative fires any alerting rule of its file.
//!
//! Samples are records as shippers send them, one JSON record per line,
//! under `tests/samples/<pack file stem>/positive*.jsonl` and
//! `negative*.jsonl`; they are decoded by `vigil_formats::decode_record`.

mod support;

use std::collections::BTreeSet;

#[test]
fn every_rule_fires_on_its_positive_samples_and_not_on_its_negative_ones() {
    let set = support::pack();
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    let alerting = support::alerting(&set);
    let mut failures = Vec::new();
    for (file, _) in vigil_rules::builtin() {
        let own: BTreeSet<&str> = alerting
            .iter()
            .filter(|(f, _)| f == file)
            .map(|(_, id)| id.as_str())
            .collect();
        assert!(!own.is_empty(), "{file}: raises no alert");
        let (positives, negatives) = support::samples(file);
        if positives.is_empty() || negatives.is_empty() {
            failures.push(format!("{file}: needs positive and negative samples"));
        }
        let mut seen = BTreeSet::new();
        for path in &positives {
            let fired = support::fired(&set, support::decode_sample(path));
            let hits: Vec<&str> = own
                .iter()
                .copied()
                .filter(|id| fired.contains(*id))
                .collect();
            if hits.is_empty() {
                failures.push(format!("{}: fired none of {own:?}", path.display()));
            }
            seen.extend(hits);
        }
        for id in own.difference(&seen) {
            failures.push(format!("{file}: {id} fired on no positive sample"));
        }
        for path in &negatives {
            let fired = support::fired(&set, support::decode_sample(path));
            let hits: Vec<&str> = own
                .iter()
                .copied()
                .filter(|id| fired.contains(*id))
                .collect();
            if !hits.is_empty() {
                failures.push(format!("{}: fired {hits:?}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
