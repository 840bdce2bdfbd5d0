//! Differential test between Vigil's compiled evaluator and rsigma, the
//! reference it was compiled from: every SigmaHQ Windows rule on every
//! event of the EVTX attack samples (no routing, no prefilter), through
//! the event's channel field map, must get the same answer and report the
//! same matched fields.

use vigil_detect::Doc;
use vigil_detect::compiled::{Aliases, EventIndex, EventView, FieldNames, Lowered, Program};
use vigil_detect::scan::discover;
use vigil_formats::FlatEvent;
use vigil_formats::logsource::WindowsClassifier;
use vigil_formats::read::read_file;

fn events(corpus: &std::path::Path) -> Vec<FlatEvent> {
    let (files, _) = discover(&[corpus.join("evtx-attack-samples")]);
    let mut events = Vec::new();
    for (path, kind) in files {
        read_file(
            &path,
            kind,
            1,
            &mut |_, e| events.push(e.clone()),
            &mut |_| {},
        );
    }
    events
}

/// The matched fields as the detector reported them from rsigma's result.
fn reference_fields(result: &rsigma_eval::EvaluationResult) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for f in result.as_detection().map_or(&[][..], |d| &d.matched_fields) {
        let v = match &f.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !out.iter().any(|(k, x)| *k == f.field && *x == v) {
            out.push((f.field.clone(), v));
        }
    }
    out
}

#[test]
fn the_compiled_evaluator_answers_as_rsigma_on_every_rule_and_every_event() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let set = vigil_sigma::load(&[corpus.join("sigma/rules/windows")]);
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics.first());
    let mut programs = Vec::new();
    let mut unsupported = Vec::new();
    let names = FieldNames::default();
    for rule in &set.rules {
        match Program::compile(&rule.compiled, &names) {
            Ok(p) => programs.push((rule, p)),
            Err(why) => unsupported.push((rule.info.id.clone(), why)),
        }
    }
    assert!(
        unsupported.is_empty(),
        "rules left to rsigma: {unsupported:?}"
    );
    let events = events(&corpus);
    assert_eq!(events.len(), 8255);
    let classifier = WindowsClassifier::builtin();
    let mut lowered = Lowered::default();
    let mut disagreements = Vec::new();
    let mut matches = 0usize;
    for (position, event) in events.iter().enumerate() {
        let aliases = Aliases::new(
            event
                .channel()
                .and_then(|c| classifier.field_map(c))
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let doc = Doc(event, aliases.pairs());
        let index = EventIndex::new(event);
        let mut view = EventView::new(event, &aliases, &index, &mut lowered);
        for (rule, program) in &programs {
            let theirs = rsigma_eval::evaluate_rule(&rule.compiled, &doc);
            let ours = program.matches(&mut view);
            if ours != theirs.is_some() {
                disagreements.push((rule.info.id.clone(), position, ours));
                continue;
            }
            if let Some(result) = theirs {
                matches += 1;
                let fields = program.matched_fields(&mut view);
                if fields != reference_fields(&result) {
                    disagreements.push((rule.info.id.clone(), position, true));
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements (rule, event, compiled answer): {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
    // Every rule on every event, routing ignored: more than the scan finds.
    assert!(matches > 1_000, "{matches}");
}
