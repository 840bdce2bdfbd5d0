//! One route: the rules that apply to events of one channel (and EventID),
//! with the prefilter over their needles.
//!
//! The prefilter has one literal set per field that holds needles (a
//! needle found in a value admits its rules only when it was written for
//! that value's field), plus one over every value for keyword needles.

use std::collections::{BTreeMap, HashMap};

use vigil_formats::name_hash;
use vigil_sigma::{LoadedRule, Needle, Needles};

use crate::compiled::Aliases;
use crate::literals::Literals;

/// The needles of one field (or of every field), and the rules each admits.
#[derive(Debug)]
pub(crate) struct Scan {
    /// ASCII-case-insensitive; `None` when every needle is non-ASCII.
    pub needles: Option<Literals>,
    /// For each needle, the needle sets it satisfies, as [`code`]s.
    pub rules: Vec<Vec<u32>>,
    /// The needle sets a value with any non-ASCII character satisfies.
    pub non_ascii: Vec<u32>,
}

/// A rule's needle sets: its needles, then its further sets (a rule is
/// admitted when a needle of each occurs). `None` when the rule has no
/// usable needles (it is evaluated on every routed event).
pub(crate) fn needle_sets(rule: &LoadedRule) -> Option<Vec<&[Needle]>> {
    match &rule.needles {
        n @ Needles::OneOf(first) if n.is_selective() => Some(
            std::iter::once(first.as_slice())
                .chain(rule.more_needles.iter().map(Vec::as_slice))
                .take(MAX_SETS)
                .collect(),
        ),
        _ => None,
    }
}

/// Needle sets per rule, at most: a set's index takes two bits of a code.
pub(crate) const MAX_SETS: usize = 4;

/// Rule `rule`'s needle set `set` as one number.
pub(crate) fn code(rule: u32, set: usize) -> u32 {
    rule << 2 | set as u32
}

/// The rule and the bit of the set a [`code`] names.
#[inline]
pub(crate) fn decode(code: u32) -> (u32, u8) {
    (code >> 2, 1 << (code & 3))
}

/// Bits of a field-name hash used by [`Route::field_filter`].
const FILTER_BITS: u32 = 10;

#[derive(Debug, Default)]
pub(crate) struct Route {
    /// Rules without a usable needle: evaluated on every routed event.
    pub always: Vec<u32>,
    /// One scan per field that holds needles, sorted by field-name hash.
    pub fields: Vec<(u32, Scan)>,
    /// Bit `hash % 1024` is set for each hash of `fields`: most event
    /// fields are ruled out with one test.
    pub field_filter: Vec<u64>,
    /// The scan of keyword needles, over every value.
    pub keywords: Option<Scan>,
    /// Every rule with needles (for running without the prefilter).
    pub filtered: Vec<u32>,
    /// The field map of the route's channel: rule name → event name.
    pub aliases: Aliases,
}

#[derive(Default)]
struct ScanBuilder<'r> {
    patterns: Vec<&'r str>,
    index: HashMap<&'r str, usize>,
    rules: Vec<Vec<u32>>,
    non_ascii: Vec<u32>,
}

impl<'r> ScanBuilder<'r> {
    fn add(&mut self, needle: &'r Needle, code: u32) {
        if needle.non_ascii {
            if !self.non_ascii.contains(&code) {
                self.non_ascii.push(code);
            }
            return;
        }
        let literal = needle.literal.as_str();
        let p = *self.index.entry(literal).or_insert_with(|| {
            self.patterns.push(literal);
            self.rules.push(Vec::new());
            self.patterns.len() - 1
        });
        if !self.rules[p].contains(&code) {
            self.rules[p].push(code);
        }
    }

    fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.non_ascii.is_empty()
    }

    fn build(self) -> Result<Scan, Vec<u32>> {
        let needles = if self.patterns.is_empty() {
            None
        } else {
            match Literals::new(&self.patterns, true) {
                Some(needles) => Some(needles),
                None => {
                    let mut rules: Vec<u32> = self.rules.into_iter().flatten().collect();
                    rules.extend(self.non_ascii);
                    return Err(rules);
                }
            }
        };
        Ok(Scan {
            needles,
            rules: self.rules,
            non_ascii: self.non_ascii,
        })
    }
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
        let mut filtered = Vec::new();
        let mut by_field: BTreeMap<u32, ScanBuilder<'_>> = BTreeMap::new();
        let mut keywords = ScanBuilder::default();
        for &id in rule_ids {
            let sets = needle_sets(&rules[id as usize]).filter(|_| id < 1 << 30);
            let Some(sets) = sets else {
                always.push(id);
                continue;
            };
            filtered.push(id);
            for (set, needles) in sets.into_iter().enumerate() {
                let code = code(id, set);
                for needle in needles {
                    let Some(field) = needle.field.as_deref() else {
                        keywords.add(needle, code);
                        continue;
                    };
                    // The event's own name is looked up first, then the
                    // mapped one: the literal may be in either.
                    let mapped = field_map.and_then(|m| {
                        m.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(field))
                            .map(|(_, v)| name_hash(v))
                    });
                    for h in std::iter::once(name_hash(field)).chain(mapped) {
                        by_field.entry(h).or_default().add(needle, code);
                    }
                }
            }
        }
        let mut fields = Vec::new();
        let mut field_filter = vec![0u64; 1 << (FILTER_BITS - 6)];
        for (hash, builder) in by_field {
            match builder.build() {
                Ok(scan) => {
                    let bit = hash % (1 << FILTER_BITS);
                    field_filter[(bit / 64) as usize] |= 1 << (bit % 64);
                    fields.push((hash, scan));
                }
                // Without a literal set its rules must always be evaluated.
                Err(codes) => always.extend(codes.into_iter().map(|c| decode(c).0)),
            }
        }
        let keywords = if keywords.is_empty() {
            None
        } else {
            match keywords.build() {
                Ok(scan) => Some(scan),
                Err(codes) => {
                    always.extend(codes.into_iter().map(|c| decode(c).0));
                    None
                }
            }
        };
        always.sort_unstable();
        always.dedup();
        Route {
            always,
            fields,
            field_filter,
            keywords,
            filtered,
            aliases: Aliases::new(
                field_map
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }
    }

    /// The scan for values of the field whose name hashes to `hash`.
    pub fn scan_of(&self, hash: u32) -> Option<&Scan> {
        let bit = hash % (1 << FILTER_BITS);
        if self.field_filter[(bit / 64) as usize] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let i = self.fields.binary_search_by_key(&hash, |f| f.0).ok()?;
        Some(&self.fields[i].1)
    }
}
