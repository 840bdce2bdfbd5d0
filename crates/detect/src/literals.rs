//! Aho-Corasick automata over many literals, stepped byte by byte here.
//!
//! An overlapping search reports every literal at every position, and a
//! plain loop over the automaton's transitions does it without the
//! per-call set-up of the crate's search APIs, which dominates on the
//! short values events are made of.

use aho_corasick::automaton::Automaton;
use aho_corasick::{Anchored, BuildError, MatchKind, dfa, nfa};

/// Literal sets up to this size get a DFA (one table lookup per byte);
/// larger ones a contiguous NFA, more compact. Measured under callgrind on
/// the engine bench: 8 % fewer instructions than a threshold of 64, the
/// same number of cache misses; beyond it, no gain.
const DFA_MAX_PATTERNS: usize = 1000;

#[derive(Debug, Clone)]
enum Engine {
    Dfa(dfa::DFA),
    Nfa(nfa::contiguous::NFA),
}

/// A set of literals.
#[derive(Debug, Clone)]
pub(crate) struct Literals {
    engine: Engine,
    /// Some literal is empty: every text contains it.
    empty: bool,
    /// Every literal has a non-ASCII byte: no ASCII text contains one.
    non_ascii: bool,
}

impl Literals {
    /// `ascii_case_insensitive`: ASCII letters match either case.
    pub fn new<P: AsRef<[u8]>>(
        patterns: &[P],
        ascii_case_insensitive: bool,
    ) -> Result<Self, BuildError> {
        let engine = if patterns.len() <= DFA_MAX_PATTERNS {
            dfa::DFA::builder()
                .ascii_case_insensitive(ascii_case_insensitive)
                .match_kind(MatchKind::Standard)
                .prefilter(false)
                .build(patterns)
                .map(Engine::Dfa)?
        } else {
            nfa::contiguous::NFA::builder()
                .ascii_case_insensitive(ascii_case_insensitive)
                .match_kind(MatchKind::Standard)
                .prefilter(false)
                .build(patterns)
                .map(Engine::Nfa)?
        };
        let empty = patterns.iter().any(|p| p.as_ref().is_empty());
        let non_ascii = patterns.iter().all(|p| !p.as_ref().is_ascii());
        Ok(Literals {
            engine,
            empty,
            non_ascii,
        })
    }

    /// Call `found` with the index of each literal occurrence in `hay`,
    /// overlapping ones included (a literal found twice is reported
    /// twice; empty literals are not reported).
    pub fn each_match(&self, hay: &str, mut found: impl FnMut(usize)) {
        match &self.engine {
            Engine::Dfa(a) => steps(a, hay.as_bytes(), &mut |p| {
                found(p);
                true
            }),
            Engine::Nfa(a) => steps(a, hay.as_bytes(), &mut |p| {
                found(p);
                true
            }),
        }
    }

    /// Does `hay` contain any of the literals?
    pub fn any_match(&self, hay: &str) -> bool {
        if self.empty {
            return true;
        }
        if self.non_ascii && hay.is_ascii() {
            return false;
        }
        let mut any = false;
        let mut stop = |_| {
            any = true;
            false
        };
        match &self.engine {
            Engine::Dfa(a) => steps(a, hay.as_bytes(), &mut stop),
            Engine::Nfa(a) => steps(a, hay.as_bytes(), &mut stop),
        }
        any
    }
}

/// Run `a` over `hay`, calling `found` with each match until it returns
/// false.
fn steps<A: Automaton>(a: &A, hay: &[u8], found: &mut impl FnMut(usize) -> bool) {
    let Ok(mut sid) = a.start_state(Anchored::No) else {
        return;
    };
    for &b in hay {
        sid = a.next_state(Anchored::No, sid, b);
        if a.is_special(sid) {
            if a.is_dead(sid) {
                return;
            }
            for i in 0..a.match_len(sid) {
                if !found(a.match_pattern(sid, i).as_usize()) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(l: &Literals, hay: &str) -> Vec<usize> {
        let mut out = Vec::new();
        l.each_match(hay, |p| out.push(p));
        out
    }

    #[test]
    fn every_occurrence_is_reported_overlapping_ones_too() {
        for n in [3, 200] {
            let mut patterns = vec!["abc".to_owned(), "bc".to_owned(), "cab".to_owned()];
            patterns.extend((3..n).map(|i| format!("zz{i}zz")));
            let l = Literals::new(&patterns, true).expect("builds");
            assert_eq!(found(&l, "xABCabc"), [0, 1, 2, 0, 1]);
            assert!(l.any_match("..CaB.."));
            assert!(!l.any_match("ab ca"));
        }
    }

    #[test]
    fn case_sensitive_sets_match_only_the_case_given() {
        let l = Literals::new(&["abc"], false).expect("builds");
        assert!(l.any_match("xabc"));
        assert!(!l.any_match("xABC"));
    }

    #[test]
    fn an_empty_literal_is_in_every_text() {
        let l = Literals::new(&["", "abc"], false).expect("builds");
        assert!(l.any_match(""));
    }
}
