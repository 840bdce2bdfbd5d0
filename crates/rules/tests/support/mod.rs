//! The pack loaded as Vigil loads rules, and decoded sample events run
//! through it: each event evaluated by the rules whose logsource routes to
//! it (with the channel's field map, as detection does), then fed in time
//! order to rsigma's correlation engine.

#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rsigma_eval::{CorrelationConfig, CorrelationEngine, Event, EventValue, evaluate_rule};
use vigil_formats::logsource::WindowsClassifier;
use vigil_formats::{Decoded, FlatEvent, LogSource, decode_record};
use vigil_sigma::{LoadedRule, RuleSet};

/// The whole pack, each file loaded on its own (so diagnostics name it),
/// merged into one set (so correlations find rules in other files).
pub fn pack() -> RuleSet {
    let mut all = RuleSet::default();
    for (name, text) in vigil_rules::builtin() {
        let set = vigil_sigma::load_str(text, name);
        all.rules.extend(set.rules);
        all.correlations.extend(set.correlations);
        all.filters.extend(set.filters);
        all.diagnostics.extend(set.diagnostics);
        all.files += set.files;
    }
    all
}

/// The ids and names a correlation refers to.
fn referenced(set: &RuleSet) -> BTreeSet<String> {
    set.correlations
        .iter()
        .flat_map(|(c, _)| c.rules.iter().cloned())
        .collect()
}

/// The rules that raise alerts, by id, with the pack file they are in: the
/// correlations, and detection rules that no correlation refers to.
pub fn alerting(set: &RuleSet) -> Vec<(String, String)> {
    let refs = referenced(set);
    let mut out = Vec::new();
    for r in &set.rules {
        let named = |s: &Option<String>| s.as_ref().is_some_and(|s| refs.contains(s));
        if !named(&r.parsed.id) && !named(&r.parsed.name) {
            out.push((file_of(&r.info.path), r.info.id.clone()));
        }
    }
    for (c, path) in &set.correlations {
        out.push((file_of(path), c.id.clone().expect("correlations have ids")));
    }
    out
}

fn file_of(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A decoded event as rsigma reads events: names compare case-insensitively;
/// a name the event lacks is looked up again through the channel's field
/// map (`Image` → `NewProcessName` on Security 4688); a name that occurs
/// more than once (an array's elements) is a list.
pub struct Doc<'a> {
    event: &'a FlatEvent,
    aliases: &'a [(String, String)],
}

impl Doc<'_> {
    fn value(&self, name: &str) -> Option<EventValue<'_>> {
        let mut all: Vec<&str> = self.event.get_all(name).collect();
        match all.len() {
            0 => None,
            1 => Some(EventValue::Str(Cow::Borrowed(all[0]))),
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
}

impl Event for Doc<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        self.value(path).or_else(|| {
            let (_, target) = self
                .aliases
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(path))?;
            self.value(target)
        })
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.event.values().any(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.event.values().map(Cow::Borrowed).collect()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        for v in self.event.values() {
            visit(v);
        }
    }

    fn to_json(&self) -> serde_json::Value {
        self.event.to_json()
    }
}

/// Whether detection would evaluate `rule` on `d`: Windows rules through
/// the channel and EventID routes of their logsource, the others by
/// product and service.
pub fn routes(classifier: &WindowsClassifier, rule: &LoadedRule, d: &Decoded) -> bool {
    let ls = &rule.parsed.logsource;
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if !same(&ls.product, &d.logsource.product) {
        return false;
    }
    if !ls
        .product
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("windows"))
    {
        return ls.category.is_none() && same(&ls.service, &d.logsource.service);
    }
    let target = classifier
        .target(&LogSource {
            product: ls.product.clone(),
            service: ls.service.clone(),
            category: ls.category.clone(),
        })
        .unwrap_or_else(|e| panic!("{}: {e}", rule.info.id));
    let (Some(channel), Some(id)) = (d.event.channel(), d.event.event_id()) else {
        return false;
    };
    target
        .channels
        .iter()
        .any(|(c, ids)| c.eq_ignore_ascii_case(channel) && (ids.is_empty() || ids.contains(&id)))
}

/// The records of a sample file (one JSON record per line), decoded.
pub fn decode_sample(path: &Path) -> Vec<Decoded> {
    let text = std::fs::read_to_string(path).expect("sample file");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .flat_map(|(i, l)| {
            decode_record(l.as_bytes())
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn epoch_secs(d: &Decoded) -> i64 {
    let time = d.time.as_deref().expect("every sample event has a time");
    let ts: jiff::Timestamp = time.parse().expect("decoded times are RFC 3339");
    ts.as_second()
}

/// The ids of the rules and correlations that raised something over
/// `events`, in time order: each detection rule that matched an event
/// routed to it, and each correlation that fired.
pub fn fired(set: &RuleSet, mut events: Vec<Decoded>) -> BTreeSet<String> {
    let classifier = WindowsClassifier::builtin();
    let mut engine = CorrelationEngine::new(CorrelationConfig::default());
    for r in &set.rules {
        engine.add_rule(&r.parsed).expect("pack rules compile");
    }
    for (c, path) in &set.correlations {
        engine
            .add_correlation(c)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    events.sort_by_key(epoch_secs);
    let mut out = BTreeSet::new();
    for d in &events {
        let aliases: Vec<(String, String)> = d
            .event
            .channel()
            .and_then(|c| classifier.field_map(c))
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let doc = Doc {
            event: &d.event,
            aliases: &aliases,
        };
        let detections = set
            .rules
            .iter()
            .filter(|r| routes(&classifier, r, d))
            .filter_map(|r| evaluate_rule(&r.compiled, &doc))
            .collect();
        for result in engine.process_with_detections(&doc, detections, epoch_secs(d)) {
            let id = result
                .header
                .rule_id
                .clone()
                .unwrap_or_else(|| format!("title:{}", result.header.rule_title));
            out.insert(id);
        }
    }
    out
}

/// The sample files of a pack file: `(positives, negatives)`.
pub fn samples(pack_file: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let stem = pack_file.trim_end_matches(".yml");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(stem);
    let mut pos = Vec::new();
    let mut neg = Vec::new();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (every pack file needs samples)", dir.display()));
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.ends_with(".jsonl") {
            continue;
        }
        if name.starts_with("positive") {
            pos.push(path);
        } else if name.starts_with("negative") {
            neg.push(path);
        } else {
            panic!(
                "{}: sample files are positive*.jsonl or negative*.jsonl",
                path.display()
            );
        }
    }
    pos.sort();
    neg.sort();
    (pos, neg)
}
