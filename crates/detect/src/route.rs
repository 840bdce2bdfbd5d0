//! One route: the rules that apply to events of one channel (and EventID),
//! with the prefilter over their needles.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use vigil_formats::name_hash;
use vigil_sigma::{LoadedRule, Needles};

/// A rule a pattern admits, when found in the named field (any field when
/// `field` is `None`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admit {
    pub rule: u32,
    pub field: Option<u32>,
}

#[derive(Debug, Default)]
pub(crate) struct Route {
    /// Rules without a usable needle: evaluated on every routed event.
    pub always: Vec<u32>,
    /// Over all needle literals of the other rules, ASCII-case-insensitive.
    pub ac: Option<AhoCorasick>,
    /// For each pattern of `ac`, the rules it admits and where.
    pub pattern_rules: Vec<Vec<Admit>>,
    /// Name hashes of the fields that hold needles, sorted; `None` means
    /// every field must be scanned (a keyword needle is among them).
    pub fields: Option<Vec<u32>>,
    /// The field map of the route's channel: rule name → event name.
    pub aliases: Vec<(String, String)>,
}

impl Route {
    /// `field_map` maps rule field names to the names the route's events
    /// carry (see `data/windows.toml`).
    pub fn build(
        rule_ids: &[u32],
        rules: &[LoadedRule],
        field_map: Option<&BTreeMap<String, String>>,
    ) -> Route {
        let mut always = Vec::new();
        let mut patterns: Vec<&str> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut pattern_rules: Vec<Vec<Admit>> = Vec::new();
        let mut fields: Option<Vec<u32>> = Some(Vec::new());
        for &id in rule_ids {
            match &rules[id as usize].needles {
                n @ Needles::OneOf(needles) if n.is_selective() => {
                    for needle in needles {
                        let p = *index.entry(needle.literal.as_str()).or_insert_with(|| {
                            patterns.push(needle.literal.as_str());
                            pattern_rules.push(Vec::new());
                            patterns.len() - 1
                        });
                        // The event's own name is looked up first, then
                        // the mapped one: the literal may be in either.
                        let mapped = needle.field.as_deref().and_then(|f| {
                            field_map?
                                .iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(f))
                                .map(|(_, v)| name_hash(v))
                        });
                        let own = needle.field.as_deref().map(name_hash);
                        for field in std::iter::once(own).chain(mapped.map(Some)) {
                            match (&mut fields, field) {
                                (Some(acc), Some(h)) => acc.push(h),
                                _ => fields = None,
                            }
                            pattern_rules[p].push(Admit { rule: id, field });
                        }
                    }
                }
                _ => always.push(id),
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .ok()
        };
        if ac.is_none() {
            // Without an automaton every rule must be evaluated.
            always.extend(pattern_rules.iter().flatten().map(|a| a.rule));
            always.sort_unstable();
            always.dedup();
            pattern_rules.clear();
        }
        if let Some(f) = &mut fields {
            f.sort_unstable();
            f.dedup();
        }
        Route {
            always,
            ac,
            pattern_rules,
            fields,
            aliases: field_map
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}
