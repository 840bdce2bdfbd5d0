//! SigmaHQ's regression data: each `info.yml` says a rule must fire on its
//! sample at least `match_count` times. Every expectation must hold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vigil_detect::scan::{self, NoProgress, ScanOptions};
use vigil_detect::{WindowsDetector, WindowsOptions};
use vigil_formats::FileKind;

/// One expectation: rule ids, sample path (relative to the sigma root), count.
struct Expectation {
    rules: Vec<String>,
    sample: String,
    count: usize,
}

/// The few keys we need from SigmaHQ's `info.yml` layout.
fn expectations(info: &Path) -> Vec<Expectation> {
    let text = std::fs::read_to_string(info).expect("readable info.yml");
    let mut rules = Vec::new();
    let mut tests: Vec<(String, usize)> = Vec::new();
    let mut in_tests = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if t.starts_with("regression_tests_info:") {
            in_tests = true;
        } else if !in_tests {
            if let Some(id) = t.strip_prefix("- id:") {
                rules.push(id.trim().to_owned());
            }
        } else if let Some(p) = t.strip_prefix("path:") {
            tests.push((p.trim().to_owned(), 1));
        } else if let Some(n) = t.strip_prefix("match_count:")
            && let Some(last) = tests.last_mut()
        {
            last.1 = n.trim().parse().expect("match_count is a number");
        }
    }
    tests
        .into_iter()
        .map(|(sample, count)| Expectation {
            rules: rules.clone(),
            sample,
            count,
        })
        .collect()
}

fn find(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            find(&p, name, out);
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
}

#[test]
fn every_sigmahq_regression_sample_fires_its_rule() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let sigma = corpus.join("sigma");
    let rule_dirs: Vec<PathBuf> = ["rules", "rules-threat-hunting", "rules-emerging-threats"]
        .iter()
        .map(|d| sigma.join(d))
        .collect();
    let set = vigil_sigma::load(&rule_dirs);
    assert!(
        set.diagnostics.is_empty(),
        "every SigmaHQ rule loads: {:#?}",
        &set.diagnostics[..set.diagnostics.len().min(5)]
    );
    assert!(set.rules.len() > 3700, "{} rules", set.rules.len());
    let (detector, _skipped) = WindowsDetector::new(set, &WindowsOptions::default());

    let mut infos = Vec::new();
    find(&sigma.join("regression_data"), "info.yml", &mut infos);
    infos.sort();
    let mut all = Vec::new();
    for info in &infos {
        all.extend(expectations(info));
    }
    let tests: usize = all.iter().map(|e| e.rules.len()).sum();
    assert_eq!(
        tests, 202,
        "SigmaHQ's regression data holds 202 expectations"
    );

    let mut failures = Vec::new();
    for e in &all {
        let sample = sigma.join(&e.sample);
        let report = scan::scan(
            &detector,
            &[(sample.clone(), FileKind::Evtx)],
            &ScanOptions {
                threads: 1,
                ..ScanOptions::default()
            },
            &NoProgress,
        );
        assert!(
            report.files[0].errors.is_empty(),
            "{}: {:?}",
            e.sample,
            report.files[0].errors
        );
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for h in &report.hits {
            *counts
                .entry(detector.rules()[h.hit.rule as usize].info.id.as_str())
                .or_default() += 1;
        }
        for rule in &e.rules {
            let got = counts.get(rule.as_str()).copied().unwrap_or(0);
            if got < e.count {
                failures.push(format!(
                    "{rule} on {}: {got} of {} matches",
                    e.sample, e.count
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
