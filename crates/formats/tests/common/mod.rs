//! Helpers shared by the decoder tests: fixtures, and SigmaHQ rules from
//! the corpus evaluated on decoded events.

#![allow(dead_code)]

use std::borrow::Cow;
use std::path::PathBuf;

use rsigma_eval::{Event, EventValue, evaluate_rule};
use vigil_formats::{Decoded, FlatEvent, decode_record};

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The records of a fixture: its lines (`.jsonl`) or the whole file.
pub fn fixture(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixture_path(name)).expect("fixture");
    if name.ends_with(".jsonl") {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        vec![text]
    }
}

/// Every event decoded from a fixture, in order.
pub fn decoded(name: &str) -> Vec<Decoded> {
    fixture(name)
        .iter()
        .flat_map(|r| decode_record(r.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// A decoded event as rsigma reads events: a name that occurs more than
/// once (an array's elements) is a list, which matches when any element
/// matches.
pub struct Doc<'a>(pub &'a FlatEvent);

impl Event for Doc<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let event: &FlatEvent = self.0;
        let mut all: Vec<&str> = event.get_all(path).collect();
        match all.len() {
            0 => None,
            1 => event.get(path).map(|v| EventValue::Str(Cow::Borrowed(v))),
            _ => {
                all.dedup();
                Some(EventValue::Array(
                    all.into_iter()
                        .map(|v| EventValue::Str(Cow::Borrowed(v)))
                        .collect(),
                ))
            }
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.0.values().any(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.0.values().map(Cow::Borrowed).collect()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        for v in self.0.values() {
            visit(v);
        }
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A SigmaHQ rule from the corpus: whether it matches `d`, after checking
/// that its logsource is `d`'s. `None` when the corpus is absent.
pub fn sigma_matches(rule: &str, d: &Decoded) -> Option<bool> {
    let path = vigil_testkit::corpus()?.join("sigma").join(rule);
    let set = vigil_sigma::load(&[path]);
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    let loaded = set.rules.first().expect("one rule");
    let ls = &loaded.parsed.logsource;
    assert_eq!(
        ls.product.as_deref(),
        d.logsource.product.as_deref(),
        "{rule}"
    );
    // Windows rules name a category; detection routes those by channel.
    if ls.category.is_none() {
        assert_eq!(
            ls.service.as_deref(),
            d.logsource.service.as_deref(),
            "{rule}"
        );
    }
    Some(evaluate_rule(&loaded.compiled, &Doc(&d.event)).is_some())
}

/// Assert that a SigmaHQ rule matches `d` (when the corpus is present).
pub fn assert_rule_matches(rule: &str, d: &Decoded) {
    if let Some(hit) = sigma_matches(rule, d) {
        assert!(hit, "{rule} should match {:#?}", d.event.to_json());
    } else {
        eprintln!("corpus absent: {rule} not evaluated");
    }
}

/// Assert that a SigmaHQ rule does not match `d`.
pub fn assert_rule_misses(rule: &str, d: &Decoded) {
    if let Some(hit) = sigma_matches(rule, d) {
        assert!(!hit, "{rule} should not match {:#?}", d.event.to_json());
    }
}
