//! One route: the rules that apply to events of one channel (and EventID),
//! with the prefilter over their literals.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use vigil_formats::name_hash;
use vigil_sigma::{LoadedRule, Needles};

#[derive(Debug, Default)]
pub(crate) struct Route {
    /// Rules without a usable literal: evaluated on every routed event.
    pub always: Vec<u32>,
    /// Over all needles of the other rules, ASCII-case-insensitive.
    pub ac: Option<AhoCorasick>,
    /// For each pattern of `ac`, the rules it admits.
    pub pattern_rules: Vec<Vec<u32>>,
    /// Name hashes of the fields the needle rules name, sorted; `None`
    /// means every field must be scanned (a keyword rule is among them).
    pub fields: Option<Vec<u32>>,
}

impl Route {
    pub fn build(rule_ids: &[u32], rules: &[LoadedRule]) -> Route {
        let mut always = Vec::new();
        let mut patterns: Vec<&str> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut fields: Option<Vec<u32>> = Some(Vec::new());
        for &id in rule_ids {
            let rule = &rules[id as usize];
            match &rule.needles {
                n @ Needles::OneOf(lits) if n.is_selective() => {
                    match (&mut fields, &rule.fields) {
                        (Some(acc), Some(names)) => acc.extend(names.iter().map(|n| name_hash(n))),
                        _ => fields = None,
                    }
                    for lit in lits {
                        let p = *index.entry(lit.as_str()).or_insert_with(|| {
                            patterns.push(lit.as_str());
                            pattern_rules.push(Vec::new());
                            patterns.len() - 1
                        });
                        pattern_rules[p].push(id);
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
            always.extend(pattern_rules.iter().flatten().copied());
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
        }
    }
}
