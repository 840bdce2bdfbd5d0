//! Value matchers: rsigma's compiled matchers, translated into a form that
//! compares without allocating.
//!
//! Case-insensitive comparisons read the value lowercased once per event
//! (see [`Lowered`]), exactly as rsigma lowercases it (`str::to_lowercase`,
//! which is ASCII lowercasing for ASCII text), against needles rsigma has
//! already lowercased. Matchers that are rare on the hot path (numbers,
//! CIDR, field references, expansions, timestamps, booleans, null, exists)
//! stay rsigma's own and are called through [`crate::Doc`].

use regex_automata::meta::Regex;
use std::borrow::Cow;

use memchr::memmem::Finder;
use rsigma_eval::matcher::GroupMode;
use rsigma_eval::{CompiledMatcher, EventValue};

use super::affixes::Affixes;
use crate::Doc;
use crate::literals::Literals;

/// How a string matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    Exact,
    Contains,
    StartsWith,
    EndsWith,
}

/// One compiled value matcher.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// A string comparison against the value, or against the lowercased
    /// value when `lowered` (the needle is then lowercase already).
    Str {
        op: StrOp,
        needle: Box<str>,
        lowered: bool,
        /// For `Contains` (boxed: a finder is large).
        finder: Box<Finder<'static>>,
    },
    /// Equal to, starting with or ending with any of several values.
    AnyAffix {
        affixes: Box<Affixes>,
        lowered: bool,
    },
    /// Any of several substrings (rsigma's Aho-Corasick set, as a
    /// [`Literals`] set).
    AnySubstring {
        literals: Box<Literals>,
        lowered: bool,
    },
    /// A regular expression or a set of them (or a literal set that could
    /// not be rebuilt): rsigma's matcher, which reads the text as given (the value, or the lowercased value inside
    /// a case-insensitive group).
    Pattern(CompiledMatcher),
    /// A regular expression with a literal every match contains (see
    /// `vigil_sigma::required_literal`): ASCII text without the literal
    /// (in any case) is ruled out before the expression runs.
    Regex {
        regex: Box<Regex>,
        required: Option<Box<Finder<'static>>>,
    },
    Not(Box<Matcher>),
    AnyOf(Vec<Matcher>),
    AllOf(Vec<Matcher>),
    /// Children that all read the lowercased value.
    LoweredGroup {
        children: Vec<Matcher>,
        all: bool,
    },
    /// Evaluated by rsigma (not a string comparison).
    Other(CompiledMatcher),
}

/// Where a matcher is evaluated: on a field's value, on any value of the
/// event (keywords: only string matchers can match), or on a value that a
/// case-insensitive group has lowercased already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Field,
    Keyword,
}

/// Values lowercased once per event, keyed by where they live in the
/// event (values are slices of the event's one buffer).
#[derive(Debug, Default)]
pub struct Lowered {
    buf: String,
    /// (address, length) of the value → range in `buf`.
    entries: Vec<(usize, usize, u32, u32)>,
}

impl Lowered {
    /// Forget the previous event's values, keeping the memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
    }

    /// `value` lowercased as rsigma lowercases it.
    pub(crate) fn of(&mut self, value: &str) -> &str {
        let key = (value.as_ptr() as usize, value.len());
        let found = self
            .entries
            .iter()
            .find(|e| (e.0, e.1) == key)
            .map(|e| (e.2, e.3));
        let (start, end) = match found {
            Some(r) => r,
            None => {
                let start = self.buf.len();
                if value.is_ascii() {
                    self.buf.push_str(value);
                    self.buf[start..].make_ascii_lowercase();
                } else {
                    self.buf.push_str(&value.to_lowercase());
                }
                let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(self.buf.len())) else {
                    // Over 4 GiB of lowered text: start again rather than fail.
                    self.clear();
                    return self.of(value);
                };
                self.entries.push((key.0, key.1, s, e));
                (s, e)
            }
        };
        &self.buf[start as usize..end as usize]
    }
}

/// Values of one operation in a list at least this long are looked up
/// as one set ([`Affixes`]) rather than compared one by one.
const AFFIX_SET_MIN: usize = 3;

/// Replace the `contains` children of an any-of group by one literal set
/// per case rule, and lists of equality, `startswith` or `endswith`
/// children by one [`Affixes`] set per operation and case rule
/// (`only_lowered`: inside a case-insensitive group, where cased children
/// never match and are left alone). The group's answer is the same: its
/// children are pure and their order does not matter.
fn merge_lists(children: Vec<Matcher>, only_lowered: bool) -> Vec<Matcher> {
    let mut out = Vec::with_capacity(children.len());
    // By operation (`StrOp as usize`), then case rule.
    let mut sets: [[Vec<Box<str>>; 2]; 4] = Default::default();
    for c in children {
        match c {
            Matcher::Str {
                op,
                needle,
                lowered,
                ..
            } if lowered || !only_lowered => sets[op as usize][usize::from(lowered)].push(needle),
            other => out.push(other),
        }
    }
    for op in [
        StrOp::Exact,
        StrOp::StartsWith,
        StrOp::EndsWith,
        StrOp::Contains,
    ] {
        for lowered in [false, true] {
            let needles = &sets[op as usize][usize::from(lowered)];
            out.extend(merged(op, needles, lowered));
        }
    }
    out
}

/// One matcher for `needles` under `op` when worth it, else one each.
fn merged(op: StrOp, needles: &[Box<str>], lowered: bool) -> Vec<Matcher> {
    let one_each = || {
        needles
            .iter()
            .map(|n| str_matcher(op, n, lowered))
            .collect()
    };
    if op != StrOp::Contains {
        if needles.len() < AFFIX_SET_MIN {
            return one_each();
        }
        return vec![Matcher::AnyAffix {
            affixes: Box::new(Affixes::new(op, needles)),
            lowered,
        }];
    }
    if needles.len() < 2 {
        return one_each();
    }
    match Literals::new(
        &needles.iter().map(|n| n.as_bytes()).collect::<Vec<_>>(),
        false,
    ) {
        Some(literals) => vec![Matcher::AnySubstring {
            literals: Box::new(literals),
            lowered,
        }],
        None => one_each(),
    }
}

fn str_matcher(op: StrOp, needle: &str, lowered: bool) -> Matcher {
    Matcher::Str {
        op,
        needle: needle.into(),
        lowered,
        finder: Box::new(Finder::new(needle.as_bytes()).into_owned()),
    }
}

fn str_op(op: StrOp, hay: &str, needle: &str, finder: &Finder<'_>) -> bool {
    match op {
        StrOp::Exact => hay == needle,
        StrOp::StartsWith => hay.starts_with(needle),
        StrOp::EndsWith => hay.ends_with(needle),
        StrOp::Contains => finder.find(hay.as_bytes()).is_some(),
    }
}

/// rsigma's regular expression (its flags are inline in the pattern),
/// built again without the bounded backtracker: when the lazy DFA gives
/// up on a long value, the backtracker clears a visited set of (states ×
/// value length) bits on every search, which cost 7 % of all the
/// engine's instructions on the SigmaHQ rules; the PikeVM needs none.
fn fast_regex(pattern: &str) -> Option<Regex> {
    Regex::builder()
        .configure(Regex::config().backtrack(false))
        .build(pattern)
        .ok()
}

fn pattern(m: &CompiledMatcher, text: &str, doc: &Doc<'_>) -> bool {
    m.matches(&EventValue::Str(Cow::Borrowed(text)), doc)
}

impl Matcher {
    /// Translate one of rsigma's matchers.
    pub(crate) fn compile(m: &CompiledMatcher) -> Matcher {
        let string = |op, value: &String, ci: bool| {
            // rsigma stores case-insensitive needles lowercased; anything
            // else would compare differently here, so leave it to rsigma.
            if ci && value.to_lowercase() != *value {
                return Matcher::Other(m.clone());
            }
            Matcher::Str {
                op,
                needle: value.as_str().into(),
                lowered: ci,
                finder: Box::new(Finder::new(value.as_bytes()).into_owned()),
            }
        };
        match m {
            CompiledMatcher::Exact {
                value,
                case_insensitive,
            } => string(StrOp::Exact, value, *case_insensitive),
            CompiledMatcher::Contains {
                value,
                case_insensitive,
            } => string(StrOp::Contains, value, *case_insensitive),
            CompiledMatcher::StartsWith {
                value,
                case_insensitive,
            } => string(StrOp::StartsWith, value, *case_insensitive),
            CompiledMatcher::EndsWith {
                value,
                case_insensitive,
            } => string(StrOp::EndsWith, value, *case_insensitive),
            CompiledMatcher::Regex(re) => match fast_regex(re.as_str()) {
                Some(regex) => Matcher::Regex {
                    regex: Box::new(regex),
                    required: vigil_sigma::required_literal(re.as_str())
                        .map(|lit| Box::new(Finder::new(lit.as_bytes()).into_owned())),
                },
                None => Matcher::Pattern(m.clone()),
            },
            CompiledMatcher::RegexSetMatch { .. } => Matcher::Pattern(m.clone()),
            CompiledMatcher::AhoCorasickSet {
                needles,
                case_insensitive,
                ..
            } => match Literals::new(needles, false) {
                // rsigma's set is case-sensitive over its needles
                // (lowercase when case-insensitive, against the lowered
                // value): so is this one.
                Some(literals) => Matcher::AnySubstring {
                    literals: Box::new(literals),
                    lowered: *case_insensitive,
                },
                None => Matcher::Pattern(m.clone()),
            },
            CompiledMatcher::Not(inner) => Matcher::Not(Box::new(Matcher::compile(inner))),
            CompiledMatcher::AnyOf(ms) => Matcher::AnyOf(merge_lists(
                ms.iter().map(Matcher::compile).collect(),
                false,
            )),
            CompiledMatcher::AllOf(ms) => Matcher::AllOf(ms.iter().map(Matcher::compile).collect()),
            CompiledMatcher::CaseInsensitiveGroup { children, mode } => {
                let all = *mode == GroupMode::All;
                let children = children.iter().map(Matcher::compile).collect();
                Matcher::LoweredGroup {
                    children: if all {
                        children
                    } else {
                        merge_lists(children, true)
                    },
                    all,
                }
            }
            other => Matcher::Other(other.clone()),
        }
    }

    /// Does the value of a field match (rsigma's `matches` on a string)?
    pub(crate) fn matches_field(&self, value: &str, lowered: &mut Lowered, doc: &Doc<'_>) -> bool {
        self.eval(Mode::Field, value, lowered, doc)
    }

    /// Does one value of the event match a keyword (rsigma's
    /// `matches_str`: only string matchers can)?
    pub(crate) fn matches_keyword(
        &self,
        value: &str,
        lowered: &mut Lowered,
        doc: &Doc<'_>,
    ) -> bool {
        self.eval(Mode::Keyword, value, lowered, doc)
    }

    fn eval(&self, mode: Mode, value: &str, lowered: &mut Lowered, doc: &Doc<'_>) -> bool {
        match self {
            Matcher::Str {
                op,
                needle,
                lowered: true,
                finder,
            } => str_op(*op, lowered.of(value), needle, finder),
            Matcher::Str {
                op, needle, finder, ..
            } => str_op(*op, value, needle, finder),
            Matcher::Pattern(m) => pattern(m, value, doc),
            Matcher::Regex { regex, required } => {
                if let Some(required) = required
                    && value.is_ascii()
                    && required.find(lowered.of(value).as_bytes()).is_none()
                {
                    return false;
                }
                regex.is_match(value)
            }
            Matcher::AnySubstring {
                literals,
                lowered: true,
            } => literals.any_match(lowered.of(value)),
            Matcher::AnySubstring { literals, .. } => literals.any_match(value),
            Matcher::AnyAffix {
                affixes,
                lowered: true,
            } => affixes.any(lowered.of(value)),
            Matcher::AnyAffix { affixes, .. } => affixes.any(value),
            Matcher::Not(inner) => !inner.eval(mode, value, lowered, doc),
            Matcher::AnyOf(ms) => ms.iter().any(|m| m.eval(mode, value, lowered, doc)),
            Matcher::AllOf(ms) => ms.iter().all(|m| m.eval(mode, value, lowered, doc)),
            Matcher::LoweredGroup { children, all } => {
                let hay = lowered.of(value);
                if *all {
                    children.iter().all(|c| c.on_lowered(hay, doc))
                } else {
                    children.iter().any(|c| c.on_lowered(hay, doc))
                }
            }
            Matcher::Other(m) => {
                mode == Mode::Field && m.matches(&EventValue::Str(Cow::Borrowed(value)), doc)
            }
        }
    }

    /// rsigma's `matches_pre_lowered`: `hay` is lowercased already; only
    /// case-insensitive string matchers and regexes can match.
    fn on_lowered(&self, hay: &str, doc: &Doc<'_>) -> bool {
        match self {
            Matcher::Str {
                op,
                needle,
                lowered: true,
                finder,
            } => str_op(*op, hay, needle, finder),
            Matcher::Pattern(m) => pattern(m, hay, doc),
            Matcher::Regex { regex, required } => {
                if let Some(required) = required
                    && hay.is_ascii()
                    && required.find(hay.as_bytes()).is_none()
                {
                    return false;
                }
                regex.is_match(hay)
            }
            Matcher::AnySubstring {
                literals,
                lowered: true,
            } => literals.any_match(hay),
            Matcher::AnyAffix {
                affixes,
                lowered: true,
            } => affixes.any(hay),
            Matcher::Not(inner) => !inner.on_lowered(hay, doc),
            Matcher::AnyOf(ms) => ms.iter().any(|m| m.on_lowered(hay, doc)),
            Matcher::AllOf(ms) => ms.iter().all(|m| m.on_lowered(hay, doc)),
            Matcher::LoweredGroup { children, all } => {
                if *all {
                    children.iter().all(|c| c.on_lowered(hay, doc))
                } else {
                    children.iter().any(|c| c.on_lowered(hay, doc))
                }
            }
            Matcher::Str { .. }
            | Matcher::AnySubstring { .. }
            | Matcher::AnyAffix { .. }
            | Matcher::Other(_) => false,
        }
    }

    /// True when this matcher is rsigma's `Null` (which alone matches an
    /// absent field).
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Matcher::Other(CompiledMatcher::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_formats::FlatEvent;

    fn check(m: &CompiledMatcher, value: &str) -> bool {
        let event = FlatEvent::new();
        let doc = Doc::plain(&event);
        let ours = Matcher::compile(m).matches_field(value, &mut Lowered::default(), &doc);
        let theirs = m.matches(&EventValue::Str(Cow::Borrowed(value)), &doc);
        assert_eq!(ours, theirs, "{m:?} on {value:?}");
        ours
    }

    fn ci(op: fn(String) -> CompiledMatcher, s: &str) -> CompiledMatcher {
        op(s.to_lowercase())
    }

    #[test]
    fn case_insensitive_comparisons_read_the_lowercased_value() {
        let ends = ci(
            |value| CompiledMatcher::EndsWith {
                value,
                case_insensitive: true,
            },
            r"\WHOAMI.exe",
        );
        assert!(check(&ends, r"C:\Windows\System32\WhoAmI.EXE"));
        assert!(!check(&ends, r"C:\whoami.exe.bak"));
        let contains = ci(
            |value| CompiledMatcher::Contains {
                value,
                case_insensitive: true,
            },
            "-EncodedCommand",
        );
        assert!(check(&contains, "powershell -encodedcommand AAAA"));
        assert!(!check(&contains, "powershell -enc AAAA"));
    }

    #[test]
    fn non_ascii_values_are_lowercased_as_unicode_text() {
        let exact = CompiledMatcher::Exact {
            value: "straße".into(),
            case_insensitive: true,
        };
        assert!(check(&exact, "STRAßE"));
        // The Kelvin sign lowercases to an ASCII k.
        let k = CompiledMatcher::Contains {
            value: "k".into(),
            case_insensitive: true,
        };
        assert!(check(&k, "\u{212A}"));
    }

    #[test]
    fn cased_comparisons_read_the_value_as_is() {
        let m = CompiledMatcher::StartsWith {
            value: "Cmd".into(),
            case_insensitive: false,
        };
        assert!(check(&m, "Cmd.exe"));
        assert!(!check(&m, "cmd.exe"));
    }

    #[test]
    fn numbers_and_null_are_left_to_rsigma() {
        assert!(check(&CompiledMatcher::NumericGte(10.0), "12"));
        assert!(!check(&CompiledMatcher::NumericGte(10.0), "x"));
        assert!(!check(&CompiledMatcher::Null, ""));
        assert!(Matcher::compile(&CompiledMatcher::Null).is_null());
    }

    #[test]
    fn keywords_see_only_string_matchers() {
        let event = FlatEvent::new();
        let doc = Doc::plain(&event);
        let m = Matcher::compile(&CompiledMatcher::NumericEq(1.0));
        assert!(!m.matches_keyword("1", &mut Lowered::default(), &doc));
        assert!(m.matches_field("1", &mut Lowered::default(), &doc));
    }

    #[test]
    fn a_lowered_value_is_computed_once_per_event() {
        let mut l = Lowered::default();
        let value = String::from("ABC");
        assert_eq!(l.of(&value), "abc");
        assert_eq!(l.of(&value), "abc");
        assert_eq!(l.entries.len(), 1);
        l.clear();
        assert!(l.buf.is_empty());
    }
}
