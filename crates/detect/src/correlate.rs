//! Sigma correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, …) over detection hits, fed in time order.
//!
//! The state machine is `rsigma-eval`'s `CorrelationEngine`; Vigil feeds it
//! the detections it already computed, so rules are evaluated once.

use std::path::PathBuf;

use std::collections::HashMap;

use rsigma_eval::{
    CompiledRule, CorrelationConfig, CorrelationEngine, EvaluationResult, evaluate_rule,
};
use rsigma_parser::CorrelationRule;
use vigil_core::Severity;
use vigil_formats::FlatEvent;
use vigil_formats::logsource::WindowsClassifier;
use vigil_sigma::{Diagnostic, DiagnosticKind, LoadedRule, RuleInfo, attack_ids};

use crate::scan::{ScanHit, ScanReport};
use crate::{Doc, Hit};

/// A correlation rule that fired.
#[derive(Debug, Clone)]
pub struct Firing {
    /// Index into [`Correlator::rules`].
    pub rule: usize,
    /// When it fired (the time of the event that completed it).
    pub timestamp: Option<String>,
    /// The `group-by` values, as `field=value` pairs.
    pub group: Vec<(String, String)>,
    /// The count or distinct-value count that met the condition.
    pub value: f64,
    /// The hit that completed the correlation (index into the report).
    pub last_hit: usize,
}

/// Runs correlation rules over hits.
pub struct Correlator {
    engine: CorrelationEngine,
    rules: Vec<RuleInfo>,
    /// The detection rules correlations refer to, by index into the rules
    /// given to [`Correlator::new`] (which [`Hit::rule`] indexes): their
    /// hits are evaluated again by rsigma for its correlation engine.
    referenced: HashMap<u32, CompiledRule>,
    /// Field maps per channel, so `group-by` sees fields as detection did.
    classifier: WindowsClassifier,
}

impl std::fmt::Debug for Correlator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn info(c: &CorrelationRule, path: &std::path::Path) -> RuleInfo {
    let (techniques, tactics) = attack_ids(&c.tags);
    RuleInfo {
        id: c.id.clone().unwrap_or_else(|| format!("title:{}", c.title)),
        title: c.title.clone(),
        level: match c.level {
            Some(rsigma_parser::Level::Informational) => Severity::Informational,
            Some(rsigma_parser::Level::Low) => Severity::Low,
            Some(rsigma_parser::Level::High) => Severity::High,
            Some(rsigma_parser::Level::Critical) => Severity::Critical,
            _ => Severity::Medium,
        },
        status: c.status.map(|s| format!("{s:?}").to_ascii_lowercase()),
        tags: c.tags.clone(),
        techniques,
        tactics,
        product: None,
        service: None,
        category: None,
        path: path.to_owned(),
    }
}

impl Correlator {
    /// `None` when there are no correlation rules.
    pub fn new(
        rules: &[LoadedRule],
        correlations: &[(CorrelationRule, PathBuf)],
    ) -> (Option<Self>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        if correlations.is_empty() {
            return (None, diags);
        }
        let mut engine = CorrelationEngine::new(CorrelationConfig::default());
        let referenced = |r: &LoadedRule| {
            correlations.iter().any(|(c, _)| {
                c.rules.iter().any(|name| {
                    r.parsed.id.as_deref() == Some(name.as_str())
                        || r.parsed.name.as_deref() == Some(name.as_str())
                        || r.parsed.title == *name
                })
            })
        };
        let mut compiled = HashMap::new();
        for (i, r) in rules.iter().enumerate().filter(|(_, r)| referenced(r)) {
            if let Ok(i) = u32::try_from(i) {
                compiled.insert(i, r.compiled.clone());
            }
            if let Err(e) = engine.add_rule(&r.parsed) {
                diags.push(Diagnostic {
                    kind: DiagnosticKind::Invalid,
                    path: r.info.path.clone(),
                    rule: Some(r.info.id.clone()),
                    reason: format!("cannot be used by a correlation: {e}"),
                });
            }
        }
        let mut infos = Vec::new();
        for (c, path) in correlations {
            match engine.add_correlation(c) {
                Ok(()) => infos.push(info(c, path)),
                Err(e) => diags.push(Diagnostic {
                    kind: DiagnosticKind::Invalid,
                    path: path.clone(),
                    rule: Some(c.id.clone().unwrap_or_else(|| c.title.clone())),
                    reason: e.to_string(),
                }),
            }
        }
        if infos.is_empty() {
            return (None, diags);
        }
        (
            Some(Correlator {
                engine,
                rules: infos,
                referenced: compiled,
                classifier: WindowsClassifier::builtin(),
            }),
            diags,
        )
    }

    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    fn index_of(&self, r: &EvaluationResult) -> Option<usize> {
        self.rules.iter().position(|i| {
            r.header.rule_id.as_deref() == Some(i.id.as_str()) || r.header.rule_title == i.title
        })
    }

    /// Feed one event's hits at `epoch_secs`; return what fired.
    pub fn feed(
        &mut self,
        event: &FlatEvent,
        hits: &[Hit],
        epoch_secs: i64,
    ) -> Vec<(usize, EvaluationResult)> {
        let aliases: Vec<(String, String)> = event
            .channel()
            .and_then(|c| self.classifier.field_map(c))
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let doc = Doc(event, &aliases);
        // Only the rules correlations refer to matter to the engine; the
        // detector already decided they match, rsigma describes the match.
        let detections = hits
            .iter()
            .filter_map(|h| evaluate_rule(self.referenced.get(&h.rule)?, &doc))
            .collect();
        self.engine
            .process_with_detections(&doc, detections, epoch_secs)
            .into_iter()
            .filter(|r| r.as_correlation().is_some())
            .filter_map(|r| self.index_of(&r).map(|i| (i, r)))
            .collect()
    }

    /// Run over a scan's hits (which must carry their events), in time
    /// order. Events whose hits have no readable `SystemTime` cannot be
    /// placed in time and are left out; their number is returned too.
    pub fn run(&mut self, report: &ScanReport) -> (Vec<Firing>, usize) {
        let mut untimed = 0;
        // Group the hits of each event, then order events by time.
        let mut groups: Vec<(i64, usize, usize)> = Vec::new();
        let mut start = 0;
        while start < report.hits.len() {
            let h = &report.hits[start];
            let mut end = start + 1;
            while end < report.hits.len()
                && report.hits[end].file == h.file
                && report.hits[end].index == h.index
            {
                end += 1;
            }
            match epoch_secs(h) {
                Some(ts) => groups.push((ts, start, end)),
                None => untimed += 1,
            }
            start = end;
        }
        groups.sort_by_key(|g| g.0);
        let mut firings = Vec::new();
        for (ts, start, end) in groups {
            let hits = &report.hits[start..end];
            let Some(event) = hits[0].event.as_ref() else {
                continue;
            };
            let detections: Vec<Hit> = hits.iter().map(|h| h.hit.clone()).collect();
            for (rule, result) in self.feed(event, &detections, ts) {
                let Some(c) = result.as_correlation() else {
                    continue;
                };
                firings.push(Firing {
                    rule,
                    timestamp: hits[0].meta.timestamp.clone(),
                    group: c
                        .group_key
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    value: c.aggregated_value,
                    last_hit: end - 1,
                });
            }
        }
        (firings, untimed)
    }
}

fn epoch_secs(hit: &ScanHit) -> Option<i64> {
    let ts: jiff::Timestamp = hit.meta.timestamp.as_deref()?.parse().ok()?;
    Some(ts.as_second())
}
