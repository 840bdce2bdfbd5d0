//! The detector for Windows events.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rsigma_eval::evaluate_rule;
use vigil_formats::FlatEvent;
use vigil_formats::logsource::{LogSource, WindowsClassifier};
use vigil_sigma::{Diagnostic, DiagnosticKind, LoadedRule, RuleSet};

use crate::compiled::{EventIndex, EventView, FieldNames, Lowered, Program};
use crate::memo::Memo;
use crate::route::{self, Route, Scan};
use crate::{Detector, Doc};

/// How to build a [`WindowsDetector`].
#[derive(Debug, Clone, Default)]
pub struct WindowsOptions {
    /// Evaluate every routed rule, without the literal prefilter (for
    /// checking that the prefilter never changes a result).
    pub no_prefilter: bool,
    /// Evaluate every rule with rsigma instead of Vigil's compiled
    /// evaluator (the reference, for differential tests).
    pub reference: bool,
}

/// One rule that matched one event.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index into [`WindowsDetector::rules`].
    pub rule: u32,
    /// The fields and values that satisfied the rule.
    pub matched: Vec<(String, String)>,
}

/// Per-thread working memory for [`Detector::detect`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per rule: the event (`generation`) it was last satisfied in, and
    /// the bits of its needle sets satisfied in that event.
    seen: Vec<(u32, u8)>,
    generation: u32,
    candidates: Vec<u32>,
    folded: String,
    memo: Memo,
    reported: Reported,
    lowered: Lowered,
    /// Rule evaluations done with this scratch (for statistics).
    pub evaluations: u64,
    /// Events routed to at least one rule.
    pub routed_events: u64,
}

#[derive(Debug, Default)]
struct ChannelRoutes {
    /// Sorted by EventID.
    by_event_id: Vec<(u32, Route)>,
    rest: Route,
}

/// Sigma detection over Windows events, routed by channel and EventID.
#[derive(Debug)]
pub struct WindowsDetector {
    rules: Vec<LoadedRule>,
    /// Each rule compiled for Vigil's evaluator; `None`: evaluated by rsigma.
    programs: Vec<Option<Program>>,
    /// By channel (lowercase).
    channels: Vec<(String, ChannelRoutes)>,
    no_prefilter: bool,
    /// Per rule, the bits of all its needle sets (see
    /// [`route::needle_sets`]).
    all_sets: Vec<u8>,
    /// Rules that will run; the others are reported as skipped.
    routed: usize,
}

impl WindowsDetector {
    /// Build from a rule set. Rules whose logsource selects no Windows
    /// events are returned as `Skipped` diagnostics.
    pub fn new(set: RuleSet, options: &WindowsOptions) -> (Self, Vec<Diagnostic>) {
        let classifier = WindowsClassifier::builtin();
        let mut skipped = Vec::new();
        // channel (lowercase) -> (event id or None for all) -> rules
        let mut plan: BTreeMap<String, BTreeMap<Option<u32>, Vec<u32>>> = BTreeMap::new();
        let mut routed = 0;
        for (idx, rule) in set.rules.iter().enumerate() {
            let ls = LogSource {
                product: rule.info.product.clone(),
                service: rule.info.service.clone(),
                category: rule.info.category.clone(),
            };
            match classifier.target(&ls) {
                Ok(target) => {
                    let mut placed = false;
                    for (channel, ids) in target.channels {
                        // The logsource's ids, narrowed by the ids the rule
                        // itself requires (both are necessary).
                        let ids: Option<Vec<u32>> = match (&rule.event_ids, ids.is_empty()) {
                            (None, true) => None,
                            (None, false) => Some(ids),
                            (Some(req), true) => Some(req.clone()),
                            (Some(req), false) => {
                                Some(ids.into_iter().filter(|i| req.contains(i)).collect())
                            }
                        };
                        if ids.as_ref().is_some_and(Vec::is_empty) {
                            continue;
                        }
                        placed = true;
                        let entry = plan.entry(channel.to_ascii_lowercase()).or_default();
                        match ids {
                            None => entry.entry(None).or_default().push(idx as u32),
                            Some(ids) => {
                                for id in ids {
                                    entry.entry(Some(id)).or_default().push(idx as u32);
                                }
                            }
                        }
                    }
                    if placed {
                        routed += 1;
                    } else {
                        skipped.push(Diagnostic {
                            kind: DiagnosticKind::Skipped,
                            path: rule.info.path.clone(),
                            rule: Some(rule.info.id.clone()),
                            reason: "its detection requires EventIDs its logsource never has"
                                .into(),
                        });
                    }
                }
                Err(why) => skipped.push(Diagnostic {
                    kind: DiagnosticKind::Skipped,
                    path: rule.info.path.clone(),
                    rule: Some(rule.info.id.clone()),
                    reason: why.to_string(),
                }),
            }
        }
        let rules = set.rules;
        // Routes (their literal sets) and programs build in parallel.
        let plan: Vec<_> = plan.into_iter().collect();
        let channels = plan
            .into_par_iter()
            .map(|(channel, by_id)| {
                let field_map = classifier.field_map(&channel);
                let wide: Vec<u32> = by_id.get(&None).cloned().unwrap_or_default();
                let by_id: Vec<_> = by_id
                    .iter()
                    .filter_map(|(id, ids)| id.map(|id| (id, ids)))
                    .collect();
                let by_event_id = by_id
                    .into_par_iter()
                    .map(|(id, ids)| {
                        let mut all = wide.clone();
                        all.extend(ids);
                        all.sort_unstable();
                        all.dedup();
                        (id, Route::build(&all, &rules, field_map))
                    })
                    .collect();
                let routes = ChannelRoutes {
                    by_event_id,
                    rest: Route::build(&wide, &rules, field_map),
                };
                (channel, routes)
            })
            .collect();
        let names = FieldNames::default();
        let programs = rules
            .par_iter()
            .map(|r| {
                (!options.reference)
                    .then(|| Program::compile(&r.compiled, &names).ok())
                    .flatten()
            })
            .collect();
        let all_sets = rules
            .iter()
            .map(|r| route::needle_sets(r).map_or(0, |sets| ((1u16 << sets.len()) - 1) as u8))
            .collect();
        let detector = WindowsDetector {
            all_sets,
            rules,
            programs,
            channels,
            no_prefilter: options.no_prefilter,
            routed,
        };
        (detector, skipped)
    }

    pub fn rules(&self) -> &[LoadedRule] {
        &self.rules
    }

    /// How many rules Vigil's compiled evaluator does not cover (rsigma
    /// evaluates them).
    pub fn reference_rules(&self) -> usize {
        self.programs.iter().filter(|p| p.is_none()).count()
    }

    /// How many rules can match some Windows event.
    pub fn routed_rules(&self) -> usize {
        self.routed
    }

    fn route(&self, event: &FlatEvent, index: &EventIndex<'_>) -> Option<&Route> {
        let channel = index.channel(event)?;
        let (_, routes) = self
            .channels
            .iter()
            .find(|(c, _)| c.len() == channel.len() && c.eq_ignore_ascii_case(channel))?;
        Some(
            index
                .event_id(event)
                .and_then(|id| {
                    let i = routes.by_event_id.binary_search_by_key(&id, |r| r.0).ok()?;
                    Some(&routes.by_event_id[i].1)
                })
                .unwrap_or(&routes.rest),
        )
    }

    /// The rules worth evaluating on `event`, in `scratch.candidates`.
    fn candidates(&self, route: &Route, event: &FlatEvent, scratch: &mut Scratch) {
        scratch.candidates.clear();
        scratch.candidates.extend_from_slice(&route.always);
        if self.no_prefilter {
            scratch.candidates.extend_from_slice(&route.filtered);
        } else if !route.fields.is_empty() || route.keywords.is_some() {
            if scratch.seen.len() < self.rules.len() {
                scratch.seen.resize(self.rules.len(), (0, 0));
            }
            scratch.generation = scratch.generation.wrapping_add(1);
            if scratch.generation == 0 {
                scratch.seen.fill((0, 0));
                scratch.generation = 1;
            }
            for entry in event.entries() {
                let field = route.scan_of(entry.hash());
                if field.is_none() && route.keywords.is_none() {
                    continue;
                }
                let value = entry.value();
                let Scratch {
                    generation,
                    seen,
                    candidates,
                    folded,
                    memo,
                    reported,
                    ..
                } = scratch;
                let mut admitted = Admitted {
                    generation: *generation,
                    seen,
                    all_sets: &self.all_sets,
                    candidates,
                };
                // Characters that Unicode-lowercase to ASCII letters match
                // those letters in rsigma: scan them folded too (looked
                // for only when a scan is not answered by the memo).
                let mut lookalikes = None;
                for scan in field.into_iter().chain(route.keywords.as_ref()) {
                    let id = std::ptr::from_ref(scan) as usize;
                    if let Some(codes) = memo.get(id, value) {
                        for &code in codes {
                            admitted.satisfy(code);
                        }
                        continue;
                    }
                    let fold = *lookalikes.get_or_insert_with(|| fold_lookalikes(value, folded));
                    let text = if fold { folded.as_str() } else { value };
                    admit(scan, value, text, &mut admitted, memo, reported);
                    memo.finish(id);
                }
            }
        }
        scratch.candidates.sort_unstable();
        scratch.candidates.dedup();
    }
}

/// The needle sets satisfied in one event, and the rules all of whose
/// sets are.
struct Admitted<'a> {
    generation: u32,
    seen: &'a mut [(u32, u8)],
    /// Per rule, the bits of all its needle sets.
    all_sets: &'a [u8],
    candidates: &'a mut Vec<u32>,
}

impl Admitted<'_> {
    /// Needle set `code` (see [`route::code`]) is satisfied: its rule is a
    /// candidate once all its sets are (pushed once per event).
    #[inline]
    fn satisfy(&mut self, code: u32) {
        let (rule, bit) = route::decode(code);
        let (generation, sets) = &mut self.seen[rule as usize];
        if *generation != self.generation {
            *generation = self.generation;
            *sets = 0;
        }
        if *sets & bit == 0 {
            *sets |= bit;
            if *sets == self.all_sets[rule as usize] {
                self.candidates.push(rule);
            }
        }
    }
}

/// The literals of a scan reported so far in one value (the scan of a
/// value is the current `stamp`).
#[derive(Debug, Default)]
struct Reported {
    stamps: Vec<u32>,
    stamp: u32,
}

impl Reported {
    /// A new value, for a scan of `literals` literals.
    fn start(&mut self, literals: usize) {
        if self.stamps.len() < literals {
            self.stamps.resize(literals, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.stamps.fill(0);
            self.stamp = 1;
        }
    }

    /// Whether `literal` is reported for the first time in the value.
    #[inline]
    fn first(&mut self, literal: usize) -> bool {
        let s = &mut self.stamps[literal];
        let first = *s != self.stamp;
        *s = self.stamp;
        first
    }
}

/// Satisfy the needle sets whose needles `scan` finds in `value`
/// (searched as `text`, its lookalikes folded), and record each in `memo`
/// for the value.
fn admit(
    scan: &Scan,
    value: &str,
    text: &str,
    admitted: &mut Admitted<'_>,
    memo: &mut Memo,
    reported: &mut Reported,
) {
    if let Some(needles) = &scan.needles {
        reported.start(scan.rules.len());
        needles.each_match(text, |pattern| {
            // A literal found again in the value satisfies nothing new.
            if reported.first(pattern) {
                for &code in &scan.rules[pattern] {
                    memo.record(code);
                    admitted.satisfy(code);
                }
            }
        });
    }
    if !scan.non_ascii.is_empty() && !value.is_ascii() {
        for &code in &scan.non_ascii {
            memo.record(code);
            admitted.satisfy(code);
        }
    }
}

/// Whether `value` holds characters that Unicode case rules equate with
/// an ASCII letter; if so, `buf` holds it with those folded.
fn fold_lookalikes(value: &str, buf: &mut String) -> bool {
    let found = memchr::memchr3(0xE2, 0xC4, 0xC5, value.as_bytes()).is_some()
        && value.contains(['\u{212A}', '\u{0130}', '\u{017F}']);
    if found {
        buf.clear();
        buf.push_str(value);
        fold_ascii_lookalikes(buf);
    }
    found
}

/// Replace the characters that Unicode case rules equate with an ASCII
/// letter (Kelvin sign and `k`, dotted capital I and `i`, long s and `s`).
fn fold_ascii_lookalikes(s: &mut String) {
    *s = s
        .replace('\u{212A}', "k")
        .replace('\u{0130}', "i")
        .replace('\u{017F}', "s");
}

impl Detector for WindowsDetector {
    fn detect(&self, event: &FlatEvent, scratch: &mut Scratch, out: &mut Vec<Hit>) {
        out.clear();
        let index = EventIndex::new(event);
        let Some(route) = self.route(event, &index) else {
            return;
        };
        self.candidates(route, event, scratch);

        scratch.routed_events += 1;
        scratch.evaluations += scratch.candidates.len() as u64;
        let mut view = EventView::new(event, &route.aliases, &index, &mut scratch.lowered);
        for &rule in &scratch.candidates {
            if let Some(program) = &self.programs[rule as usize] {
                if let Some(c) = program.first_match(&mut view) {
                    out.push(Hit {
                        rule,
                        matched: program.fields_of_match(c, &mut view),
                    });
                }
                continue;
            }
            let doc = Doc(event, route.aliases.pairs());
            if let Some(result) = evaluate_rule(&self.rules[rule as usize].compiled, &doc) {
                let mut matched: Vec<(String, String)> = Vec::new();
                for f in result.as_detection().map_or(&[][..], |d| &d.matched_fields) {
                    let v = match &f.value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if !matched.iter().any(|(k, x)| *k == f.field && *x == v) {
                        matched.push((f.field.clone(), v));
                    }
                }
                out.push(Hit { rule, matched });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r"
title: Whoami
id: r-whoami
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
---
title: Log cleared
id: r-cleared
logsource: {product: windows, service: system}
detection:
  sel:
    EventID: 104
  condition: sel
---
title: Not cmd
id: r-notcmd
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '.exe'
  filter:
    Image|endswith: '\cmd.exe'
  condition: sel and not filter
---
title: Linux thing
id: r-linux
logsource: {product: linux, category: process_creation}
detection:
  sel:
    Image|endswith: '/bash'
  condition: sel
";

    fn event(pairs: &[(&str, &str)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (k, v) in pairs {
            e.push(k, v, matches!(*k, "Channel" | "EventID"));
        }
        e
    }

    fn ids(d: &WindowsDetector, e: &FlatEvent) -> Vec<String> {
        let mut out = Vec::new();
        d.detect(e, &mut Scratch::default(), &mut out);
        out.iter()
            .map(|h| d.rules()[h.rule as usize].info.id.clone())
            .collect()
    }

    fn detector(no_prefilter: bool) -> WindowsDetector {
        let set = vigil_sigma::load_str(RULES, "test.yml");
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
        let options = WindowsOptions {
            no_prefilter,
            ..WindowsOptions::default()
        };
        let (d, skipped) = WindowsDetector::new(set, &options);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason.contains("linux"));
        d
    }

    #[test]
    fn events_reach_only_the_rules_of_their_channel_and_event_id() {
        for d in [detector(false), detector(true)] {
            let sysmon = "Microsoft-Windows-Sysmon/Operational";
            let whoami = event(&[
                ("Channel", sysmon),
                ("EventID", "1"),
                ("Image", r"C:\Windows\System32\WHOAMI.EXE"),
            ]);
            assert_eq!(ids(&d, &whoami), vec!["r-whoami", "r-notcmd"]);
            let cmd = event(&[
                ("Channel", sysmon),
                ("EventID", "1"),
                ("Image", r"C:\Windows\System32\cmd.exe"),
            ]);
            assert!(ids(&d, &cmd).is_empty());
            let wrong_id = event(&[
                ("Channel", sysmon),
                ("EventID", "3"),
                ("Image", r"C:\x\whoami.exe"),
            ]);
            assert!(ids(&d, &wrong_id).is_empty());
            let cleared = event(&[("Channel", "System"), ("EventID", "104")]);
            assert_eq!(ids(&d, &cleared), vec!["r-cleared"]);
            let no_channel = event(&[("EventID", "104")]);
            assert!(ids(&d, &no_channel).is_empty());
        }
    }

    #[test]
    fn process_creation_rules_read_security_4688_through_the_field_map() {
        let d = detector(false);
        let audit = event(&[
            ("Channel", "Security"),
            ("EventID", "4688"),
            ("NewProcessName", r"C:\Windows\System32\whoami.exe"),
        ]);
        assert_eq!(ids(&d, &audit), vec!["r-whoami", "r-notcmd"]);
        let other = event(&[
            ("Channel", "Security"),
            ("EventID", "4624"),
            ("NewProcessName", r"C:\Windows\System32\whoami.exe"),
        ]);
        assert!(ids(&d, &other).is_empty());
    }

    #[test]
    fn a_batch_gets_the_hits_of_each_event_in_order() {
        let d = detector(false);
        let sysmon = "Microsoft-Windows-Sysmon/Operational";
        let events = [
            event(&[
                ("Channel", sysmon),
                ("EventID", "1"),
                ("Image", r"C:\x\whoami.exe"),
            ]),
            event(&[("Channel", "System"), ("EventID", "104")]),
            event(&[
                ("Channel", sysmon),
                ("EventID", "1"),
                ("Image", r"C:\x\cmd.exe"),
            ]),
            event(&[
                ("Channel", sysmon),
                ("EventID", "1"),
                ("Image", r"C:\x\a.exe"),
            ]),
        ];
        let mut seen = Vec::new();
        d.detect_each(
            &events,
            &mut Scratch::default(),
            &mut Vec::new(),
            |i, hits| {
                let ids: Vec<String> = hits
                    .iter()
                    .map(|h| d.rules()[h.rule as usize].info.id.clone())
                    .collect();
                seen.push((i, ids));
            },
        );
        let expected: Vec<(usize, Vec<String>)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i, ids(&d, e)))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(seen[0].1, vec!["r-whoami", "r-notcmd"]);
        assert_eq!(seen[3].1, vec!["r-notcmd"]);
    }

    #[test]
    fn hits_carry_the_matched_fields() {
        let d = detector(false);
        let e = event(&[
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("EventID", "1"),
            ("Image", r"C:\Windows\System32\whoami.exe"),
        ]);
        let mut out = Vec::new();
        d.detect(&e, &mut Scratch::default(), &mut out);
        assert_eq!(
            out[0].matched,
            vec![(
                "Image".to_owned(),
                r"C:\Windows\System32\whoami.exe".to_owned()
            )]
        );
    }
}
