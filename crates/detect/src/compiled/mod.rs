//! Vigil's own evaluator for Sigma detections.
//!
//! [`Program::compile`] translates a rule that rsigma has compiled (so
//! modifiers, wildcards, windash and base64 are interpreted once, by the
//! reference) into a tree that evaluates without allocating: detection
//! names resolved to indices, selectors to index lists, string matchers
//! comparing against values lowercased once per event. The answers are
//! rsigma's by construction and checked against it on the whole corpus
//! (`tests/engines.rs`); rules using a detection form this module does not
//! cover (array matches) are left to rsigma.

mod affixes;
mod matcher;

use std::collections::HashMap;
use std::sync::Mutex;

use rsigma_eval::{CompiledDetection, CompiledDetectionItem, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier};
use vigil_formats::{FlatEvent, name_hash};

use crate::Doc;
pub use crate::index::EventIndex;
pub use matcher::Lowered;
use matcher::Matcher;

/// Why a rule cannot be compiled (it is then evaluated by rsigma).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

/// Field names numbered case-insensitively, so that an event's lookups
/// can be remembered by number across the rules evaluated on it.
#[derive(Debug, Default)]
pub struct FieldNames(Mutex<HashMap<String, u32>>);

impl FieldNames {
    /// The slot of `name` (programs compile in parallel: which name gets
    /// which number depends on the order they ask, and nothing else does).
    fn slot(&self, name: &str) -> u32 {
        let mut names = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = u32::try_from(names.len()).unwrap_or(u32::MAX);
        *names.entry(name.to_ascii_lowercase()).or_insert(next)
    }
}

#[derive(Debug, Clone)]
struct Field {
    /// As the rule names it.
    name: Box<str>,
    hash: u32,
    slot: u32,
}

#[derive(Debug, Clone)]
struct Item {
    /// `None` for a keyword item.
    field: Option<Field>,
    exists: Option<bool>,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Detection {
    AllOf(Vec<Item>),
    AnyOf(Vec<Detection>),
    /// Every sub-detection (a mapping rsigma splits into parts).
    And(Vec<Detection>),
    Keywords(Box<Matcher>),
}

#[derive(Debug, Clone)]
enum Condition {
    /// A named detection (`None`: the name is not defined, never true).
    Detection(Option<u32>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `N of pattern`: the detections the pattern selects, in rsigma's order.
    Selector {
        quantifier: Quantifier,
        detections: Vec<u32>,
    },
}

/// One rule's detection, compiled.
#[derive(Debug, Clone)]
pub struct Program {
    detections: Vec<Detection>,
    conditions: Vec<Condition>,
}

/// A channel's field map (rule name → event name), with name hashes.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    pairs: Vec<(String, String)>,
    /// (hash of the rule name, hash of the event name) of each pair.
    hashes: Vec<(u32, u32)>,
}

impl Aliases {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let hashes = pairs
            .iter()
            .map(|(k, v)| (name_hash(k), name_hash(v)))
            .collect();
        Aliases { pairs, hashes }
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The event name of rule field `name` (whose hash is `hash`), as
    /// `Doc` finds it: the first pair whose rule name is `name`.
    fn target(&self, name: &str, hash: u32) -> Option<(&str, u32)> {
        self.hashes
            .iter()
            .zip(&self.pairs)
            .find(|((h, _), (k, _))| *h == hash && k.eq_ignore_ascii_case(name))
            .map(|((_, th), (_, v))| (v.as_str(), *th))
    }
}

/// How many field lookups an [`EventView`] remembers.
const REMEMBERED: usize = 24;

/// One event as the evaluator reads it: field lookups through the
/// channel's field map, remembered across the rules evaluated on the
/// event, and the values lowercased so far.
#[derive(Debug)]
pub struct EventView<'a, 'w> {
    doc: Doc<'a>,
    aliases: &'a Aliases,
    index: &'w EventIndex<'a>,
    lowered: &'w mut Lowered,
    remembered: [(u32, Option<&'a str>); REMEMBERED],
    len: usize,
}

impl<'a, 'w> EventView<'a, 'w> {
    /// `aliases` is the field map of the event's channel, `index` the
    /// event's [`EventIndex`].
    pub fn new(
        event: &'a FlatEvent,
        aliases: &'a Aliases,
        index: &'w EventIndex<'a>,
        lowered: &'w mut Lowered,
    ) -> Self {
        lowered.clear();
        EventView {
            doc: Doc(event, aliases.pairs()),
            aliases,
            index,
            lowered,
            remembered: [(0, None); REMEMBERED],
            len: 0,
        }
    }

    fn get(&mut self, field: &Field) -> Option<&'a str> {
        if let Some((_, v)) = self.remembered[..self.len]
            .iter()
            .find(|(s, _)| *s == field.slot)
        {
            return *v;
        }
        let Doc(event, _) = self.doc;
        let name = &*field.name;
        // The index rules out most absent names without a scan.
        let get = |name: &str, hash: u32| {
            if self.index.may_have(hash) {
                event.get(name)
            } else {
                None
            }
        };
        let value = get(name, field.hash).or_else(|| {
            let (target, hash) = self.aliases.target(name, field.hash)?;
            get(target, hash)
        });
        if self.len < REMEMBERED {
            self.remembered[self.len] = (field.slot, value);
            self.len += 1;
        }
        value
    }
}

type View<'a, 'w> = EventView<'a, 'w>;

impl Program {
    /// Compile one of rsigma's rules.
    pub fn compile(rule: &CompiledRule, fields: &FieldNames) -> Result<Program, Unsupported> {
        // rsigma iterates its map of detections for selectors: keep that
        // order so matched selections come out in the same order.
        let names: Vec<&String> = rule.detections.keys().collect();
        let detections = rule
            .detections
            .values()
            .map(|d| detection(d, fields))
            .collect::<Result<Vec<_>, _>>()?;
        let conditions = rule
            .conditions
            .iter()
            .map(|c| condition(c, &names))
            .collect();
        Ok(Program {
            detections,
            conditions,
        })
    }

    /// Does the rule match the event?
    pub fn matches(&self, view: &mut EventView<'_, '_>) -> bool {
        self.first_match(view).is_some()
    }

    /// The index of the first condition that matches the event.
    pub fn first_match(&self, view: &mut EventView<'_, '_>) -> Option<usize> {
        self.conditions.iter().position(|c| self.cond(c, view))
    }

    /// The fields and values that satisfied a matching rule, as rsigma
    /// reports them (without duplicates); empty when it does not match.
    pub fn matched_fields(&self, view: &mut EventView<'_, '_>) -> Vec<(String, String)> {
        match self.first_match(view) {
            Some(c) => self.fields_of_match(c, view),
            None => Vec::new(),
        }
    }

    /// [`Program::matched_fields`], given [`Program::first_match`].
    pub fn fields_of_match(&self, c: usize, view: &mut EventView<'_, '_>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(c) = self.conditions.get(c) else {
            return out;
        };
        let mut selections = Vec::new();
        let mut known = vec![None; self.detections.len()];
        self.select(c, view, &mut selections, &mut known);
        for s in selections {
            self.collect(&self.detections[s as usize], view, &mut out);
        }
        out
    }

    fn cond(&self, c: &Condition, v: &mut View<'_, '_>) -> bool {
        match c {
            Condition::Detection(d) => d.is_some_and(|d| self.det(d, v)),
            Condition::And(cs) => cs.iter().all(|c| self.cond(c, v)),
            Condition::Or(cs) => cs.iter().any(|c| self.cond(c, v)),
            Condition::Not(c) => !self.cond(c, v),
            Condition::Selector {
                quantifier,
                detections,
            } => {
                let mut ds = detections.iter();
                match quantifier {
                    Quantifier::Any => ds.any(|&d| self.det(d, v)),
                    Quantifier::All => ds.all(|&d| self.det(d, v)),
                    Quantifier::Count(0) => true,
                    Quantifier::Count(n) => {
                        let mut matched = 0u64;
                        ds.any(|&d| {
                            if self.det(d, v) {
                                matched += 1;
                            }
                            matched >= *n
                        })
                    }
                }
            }
        }
    }

    /// rsigma's detail pass: which detections were true, in the order its
    /// evaluator records them.
    fn select(
        &self,
        c: &Condition,
        v: &mut View<'_, '_>,
        out: &mut Vec<u32>,
        known: &mut [Option<bool>],
    ) -> bool {
        match c {
            Condition::Detection(None) => false,
            Condition::Detection(Some(d)) => {
                let hit = self.known_det(*d, v, known);
                if hit {
                    out.push(*d);
                }
                hit
            }
            Condition::And(cs) => cs.iter().all(|c| self.select(c, v, out, known)),
            Condition::Or(cs) => cs.iter().any(|c| self.select(c, v, out, known)),
            Condition::Not(c) => !self.select(c, v, out, known),
            Condition::Selector {
                quantifier,
                detections,
            } => {
                let mut count = 0u64;
                for &d in detections {
                    if self.known_det(d, v, known) {
                        count += 1;
                        out.push(d);
                    }
                }
                match quantifier {
                    Quantifier::Any => count >= 1,
                    Quantifier::All => count == detections.len() as u64,
                    Quantifier::Count(n) => count >= *n,
                }
            }
        }
    }

    /// [`Program::det`], each detection evaluated once per `known`.
    fn known_det(&self, d: u32, v: &mut View<'_, '_>, known: &mut [Option<bool>]) -> bool {
        match known.get(d as usize).copied().flatten() {
            Some(hit) => hit,
            None => {
                let hit = self.det(d, v);
                if let Some(k) = known.get_mut(d as usize) {
                    *k = Some(hit);
                }
                hit
            }
        }
    }

    fn det(&self, d: u32, v: &mut View<'_, '_>) -> bool {
        eval_detection(&self.detections[d as usize], v)
    }

    fn collect(&self, d: &Detection, v: &mut View<'_, '_>, out: &mut Vec<(String, String)>) {
        match d {
            Detection::AllOf(items) => {
                for item in items {
                    let Some(field) = &item.field else { continue };
                    if let Some(value) = v.get(field)
                        && item.matcher.matches_field(value, v.lowered, &v.doc)
                    {
                        let pair = (field.name.to_string(), value.to_owned());
                        if !out.contains(&pair) {
                            out.push(pair);
                        }
                    }
                }
            }
            Detection::AnyOf(ds) | Detection::And(ds) => {
                for d in ds {
                    if eval_detection(d, v) {
                        self.collect(d, v, out);
                    }
                }
            }
            Detection::Keywords(_) => {}
        }
    }
}

fn eval_detection(d: &Detection, v: &mut View<'_, '_>) -> bool {
    match d {
        Detection::AllOf(items) => items.iter().all(|i| eval_item(i, v)),
        Detection::AnyOf(ds) => ds.iter().any(|d| eval_detection(d, v)),
        Detection::And(ds) => ds.iter().all(|d| eval_detection(d, v)),
        Detection::Keywords(m) => keyword(m, v),
    }
}

fn keyword(m: &Matcher, v: &mut View<'_, '_>) -> bool {
    let Doc(event, _) = v.doc;
    event
        .values()
        .any(|value| m.matches_keyword(value, v.lowered, &v.doc))
}

fn eval_item(item: &Item, v: &mut View<'_, '_>) -> bool {
    if let Some(expect) = item.exists {
        return match &item.field {
            Some(f) => v.get(f).is_some() == expect,
            None => !expect,
        };
    }
    match &item.field {
        Some(f) => match v.get(f) {
            Some(value) => item.matcher.matches_field(value, v.lowered, &v.doc),
            None => item.matcher.is_null(),
        },
        None => keyword(&item.matcher, v),
    }
}

fn detection(d: &CompiledDetection, names: &FieldNames) -> Result<Detection, Unsupported> {
    Ok(match d {
        CompiledDetection::AllOf(items) => {
            Detection::AllOf(items.iter().map(|i| item(i, names)).collect())
        }
        CompiledDetection::AnyOf(ds) => Detection::AnyOf(
            ds.iter()
                .map(|d| detection(d, names))
                .collect::<Result<_, _>>()?,
        ),
        CompiledDetection::Keywords(m) => Detection::Keywords(Box::new(Matcher::compile(m))),
        CompiledDetection::ArrayMatch { .. } => return Err(Unsupported("array match")),
        CompiledDetection::And(ds) => Detection::And(
            ds.iter()
                .map(|d| detection(d, names))
                .collect::<Result<_, _>>()?,
        ),
        CompiledDetection::Conditional { .. } => return Err(Unsupported("array condition")),
    })
}

fn item(i: &CompiledDetectionItem, names: &FieldNames) -> Item {
    Item {
        field: i.field.as_deref().map(|name| Field {
            name: name.into(),
            hash: name_hash(name),
            slot: names.slot(name),
        }),
        exists: i.exists,
        matcher: Matcher::compile(&i.matcher),
    }
}

fn condition(c: &ConditionExpr, names: &[&String]) -> Condition {
    let index = |name: &str| {
        names
            .iter()
            .position(|n| n.as_str() == name)
            .and_then(|i| u32::try_from(i).ok())
    };
    match c {
        ConditionExpr::Identifier(name) => Condition::Detection(index(name)),
        ConditionExpr::And(cs) => Condition::And(cs.iter().map(|c| condition(c, names)).collect()),
        ConditionExpr::Or(cs) => Condition::Or(cs.iter().map(|c| condition(c, names)).collect()),
        ConditionExpr::Not(c) => Condition::Not(Box::new(condition(c, names))),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => Condition::Selector {
            quantifier: quantifier.clone(),
            detections: names
                .iter()
                .enumerate()
                .filter(|(_, n)| pattern.matches_detection_name(n))
                .filter_map(|(i, _)| u32::try_from(i).ok())
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests;
