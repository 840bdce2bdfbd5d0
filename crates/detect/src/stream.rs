//! Detection over decoded telemetry of every kind, for the live stream:
//! Windows events go through [`WindowsDetector`] (channel and EventID
//! routes, literal prefilter); other events through the rules whose
//! logsource names their product, service and category.

use std::path::PathBuf;

use rsigma_eval::evaluate_rule;
use rsigma_parser::CorrelationRule;
use vigil_formats::{FlatEvent, LogSource};
use vigil_sigma::{Diagnostic, DiagnosticKind, LoadedRule, RuleInfo, RuleSet};

use crate::correlate::Correlator;
use crate::{Detector, Doc, Hit, Scratch, WindowsDetector, WindowsOptions};

/// All rules over all logsources.
#[derive(Debug)]
pub struct StreamDetector {
    windows: WindowsDetector,
    /// Rules for other products, evaluated when their logsource matches.
    others: Vec<LoadedRule>,
    /// `RuleInfo` of every rule: Windows rules first, then the others.
    infos: Vec<RuleInfo>,
    correlations: Vec<(CorrelationRule, PathBuf)>,
    /// Rules whose matches only feed correlations (`generate: false`).
    silent: Vec<bool>,
}

/// Per-thread working memory for [`StreamDetector::detect`].
#[derive(Debug, Default)]
pub struct StreamScratch {
    windows: Scratch,
    hits: Vec<Hit>,
}

fn is_windows(info: &RuleInfo) -> bool {
    info.product.as_deref() == Some("windows")
}

/// Whether a rule's logsource selects events of `ls`: each part the rule
/// names must be the event's.
fn selects(info: &RuleInfo, ls: &LogSource) -> bool {
    let part = |rule: &Option<String>, event: &Option<String>| match rule {
        None => true,
        Some(r) => event.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(r)),
    };
    (info.product.is_some() || info.service.is_some() || info.category.is_some())
        && part(&info.product, &ls.product)
        && part(&info.service, &ls.service)
        && part(&info.category, &ls.category)
}

impl StreamDetector {
    /// Build from a rule set: Windows rules (and rules without a product,
    /// which the Windows routes take when their service or category maps
    /// to a channel) to the Windows detector, the rest by logsource.
    pub fn new(set: RuleSet) -> (Self, Vec<Diagnostic>) {
        let (windows_rules, others): (Vec<LoadedRule>, Vec<LoadedRule>) = set
            .rules
            .into_iter()
            .partition(|r| is_windows(&r.info) || r.info.product.is_none());
        let correlations = set.correlations;
        let windows_set = RuleSet {
            rules: windows_rules,
            correlations: Vec::new(),
            filters: set.filters,
            diagnostics: Vec::new(),
            files: set.files,
        };
        let (windows, mut diagnostics) =
            WindowsDetector::new(windows_set, &WindowsOptions::default());
        // Rules without a product that no Windows channel takes are not
        // errors here: other products may still select them.
        diagnostics.retain(|d| d.kind != DiagnosticKind::Skipped || d.reason.contains("windows"));
        diagnostics.extend(set.diagnostics);
        let mut infos: Vec<RuleInfo> = windows.rules().iter().map(|r| r.info.clone()).collect();
        infos.extend(others.iter().map(|r| r.info.clone()));
        // A correlation's base rules alert on their own only when it says
        // `generate: true`.
        let silent = windows
            .rules()
            .iter()
            .chain(others.iter())
            .map(|r| {
                let p = &r.parsed;
                correlations.iter().any(|(c, _)| {
                    !c.generate
                        && c.rules.iter().any(|name| {
                            p.id.as_deref() == Some(name.as_str())
                                || p.name.as_deref() == Some(name.as_str())
                                || p.title == *name
                        })
                })
            })
            .collect();
        (
            StreamDetector {
                windows,
                others,
                infos,
                correlations,
                silent,
            },
            diagnostics,
        )
    }

    /// Whether a match of rule `index` is an alert by itself (not only an
    /// input of correlations).
    pub fn alerts_alone(&self, index: u32) -> bool {
        !self.silent.get(index as usize).copied().unwrap_or(false)
    }

    /// Fresh correlation state over this detector's rules (one per tenant:
    /// counts and sequences never mix tenants). `None` without correlation
    /// rules.
    pub fn correlator(&self) -> Option<StreamCorrelator> {
        if self.correlations.is_empty() {
            return None;
        }
        let rules: Vec<LoadedRule> = self
            .windows
            .rules()
            .iter()
            .chain(self.others.iter())
            .cloned()
            .collect();
        let (correlator, _) = Correlator::new(&rules, &self.correlations);
        correlator.map(|c| StreamCorrelator { inner: c })
    }

    /// Every rule, by the index [`StreamDetector::detect`] reports.
    pub fn rule(&self, index: u32) -> &RuleInfo {
        &self.infos[index as usize]
    }

    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// Push the index of every rule matching `event` (of logsource `ls`).
    pub fn detect(
        &self,
        ls: &LogSource,
        event: &FlatEvent,
        scratch: &mut StreamScratch,
        out: &mut Vec<u32>,
    ) {
        if ls.product.as_deref() == Some("windows") {
            self.windows
                .detect(event, &mut scratch.windows, &mut scratch.hits);
            out.extend(scratch.hits.iter().map(|h| h.rule));
            return;
        }
        let offset = self.windows.rules().len() as u32;
        for (i, rule) in self.others.iter().enumerate() {
            if selects(&rule.info, ls)
                && evaluate_rule(&rule.compiled, &Doc::plain(event)).is_some()
            {
                out.push(offset + i as u32);
            }
        }
    }
}

/// The summary of a correlation rule (id, title, level, ATT&CK).
pub fn correlation_info(rule: &CorrelationRule, path: &std::path::Path) -> RuleInfo {
    crate::correlate::info(rule, path)
}

/// Correlation state of one tenant's stream.
#[derive(Debug)]
pub struct StreamCorrelator {
    inner: Correlator,
}

impl StreamCorrelator {
    /// The correlation rules, by the index [`StreamCorrelator::feed`] gives.
    pub fn rules(&self) -> &[RuleInfo] {
        self.inner.rules()
    }

    /// Feed one event and the rules it matched (indexes of the
    /// [`StreamDetector`]), at `epoch_secs`; push the correlations that
    /// fired.
    pub fn feed(
        &mut self,
        event: &FlatEvent,
        matched: &[u32],
        epoch_secs: i64,
        out: &mut Vec<u32>,
    ) {
        let hits: Vec<Hit> = matched
            .iter()
            .map(|&rule| Hit {
                rule,
                matched: Vec::new(),
            })
            .collect();
        for (i, _) in self.inner.feed(event, &hits, epoch_secs) {
            if let Ok(i) = u32::try_from(i) {
                out.push(i);
            }
        }
    }
}
