//! Sets of literals: found through rare windows of each ([`Grams`]), or,
//! when a literal is a single byte, by an Aho-Corasick automaton stepped
//! byte by byte here.
//!
//! An overlapping search reports every literal at every position, and a
//! plain loop over the automaton's transitions does it without the
//! per-call set-up of the crate's search APIs, which dominates on the
//! short values events are made of.

use aho_corasick::automaton::Automaton;
use aho_corasick::{Anchored, BuildError, MatchKind, dfa, nfa};

use crate::grams::Grams;

/// Literal sets up to this size get a DFA (one table lookup per byte);
/// larger ones a contiguous NFA, more compact. Measured under callgrind on
/// the engine bench: 8 % fewer instructions than a threshold of 64, the
/// same number of cache misses; beyond it, no gain.
const DFA_MAX_PATTERNS: usize = 1000;

#[derive(Debug, Clone)]
enum Engine {
    Dfa(dfa::DFA),
    Nfa(nfa::contiguous::NFA),
    Grams(Box<Grams>),
}

/// A set of literals.
#[derive(Debug, Clone)]
pub(crate) struct Literals {
    engine: Engine,
    /// Some literal is empty: every text contains it.
    empty: bool,
    /// Every literal has a non-ASCII byte: no ASCII text contains one.
    non_ascii: bool,
    /// The shortest non-empty literal's length: a shorter text holds none.
    min_len: usize,
    /// When every literal is long: a filter that rules out most texts
    /// holding none from a few of their windows, before the automaton
    /// steps through every byte.
    sampler: Option<Sampler>,
}

impl Literals {
    /// `ascii_case_insensitive`: ASCII letters match either case.
    pub fn new<P: AsRef<[u8]>>(
        patterns: &[P],
        ascii_case_insensitive: bool,
    ) -> Result<Self, BuildError> {
        // Measured on the engine bench: windows beat the automata from a
        // single literal up (the large sets by far: their automata miss
        // the caches on every byte).
        let engine = if let Some(grams) = Grams::new(patterns, ascii_case_insensitive) {
            Engine::Grams(Box::new(grams))
        } else if patterns.len() <= DFA_MAX_PATTERNS {
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
        let min_len = patterns
            .iter()
            .map(|p| p.as_ref().len())
            .filter(|&n| n > 0)
            .min()
            .unwrap_or(0);
        let sampler = if empty {
            None
        } else {
            Sampler::new(patterns, min_len)
        };
        Ok(Literals {
            engine,
            empty,
            non_ascii,
            min_len,
            sampler,
        })
    }

    /// False when `hay` surely holds no literal (too short, or no sampled
    /// window belongs to one); true when it may.
    #[inline]
    fn may_match(&self, hay: &[u8]) -> bool {
        hay.len() >= self.min_len && self.sampler.as_ref().is_none_or(|s| s.may_match(hay))
    }

    /// Call `found` with the index of each literal occurrence in `hay`,
    /// overlapping ones included, in no particular order (a literal found
    /// twice is reported twice; empty literals are not reported).
    pub fn each_match(&self, hay: &str, mut found: impl FnMut(usize)) {
        if !self.may_match(hay.as_bytes()) {
            return;
        }
        match &self.engine {
            Engine::Dfa(a) => steps(a, hay.as_bytes(), &mut |p| {
                found(p);
                true
            }),
            Engine::Nfa(a) => steps(a, hay.as_bytes(), &mut |p| {
                found(p);
                true
            }),
            Engine::Grams(g) => g.each_match(hay.as_bytes(), &mut |p| {
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
        if !self.may_match(hay.as_bytes()) || (self.non_ascii && hay.is_ascii()) {
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
            Engine::Grams(g) => g.each_match(hay.as_bytes(), &mut stop),
        }
        any
    }
}

/// Windows of `Q` bytes, read as one integer.
const Q: usize = 8;

/// A sampled window filter (a multi-literal form of skipping search):
/// with every literal at least `m` bytes long, any occurrence spans
/// `stride = m - Q + 1` consecutive window starts, so it covers one
/// window start at a multiple of `stride`. The filter holds the windows
/// at offsets `0..stride` of every literal (ASCII case folded, hashed
/// into a bit set); a text none of whose windows at multiples of
/// `stride` is in it holds no literal. Checking one window every
/// `stride` bytes replaces a step per byte: for hash values against
/// hundreds of IOC hashes, about 6 probes instead of 180 steps.
#[derive(Debug, Clone)]
struct Sampler {
    stride: usize,
    /// `64 - log2(bits)`: the shift that maps a hash to a bit.
    shift: u32,
    bits: Box<[u64]>,
}

/// Literals shorter than this get no sampler (the stride would be too
/// short to gain over stepping).
const SAMPLE_MIN_LEN: usize = 12;

impl Sampler {
    fn new<P: AsRef<[u8]>>(patterns: &[P], min_len: usize) -> Option<Sampler> {
        if min_len < SAMPLE_MIN_LEN {
            return None;
        }
        let stride = min_len - Q + 1;
        let windows = patterns.len() * stride;
        // About 3 % of the bits set: few texts without a literal pass.
        let log2 = (windows * 32)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 21);
        let mut sampler = Sampler {
            stride,
            shift: 64 - log2,
            bits: vec![0u64; 1 << (log2 - 6)].into_boxed_slice(),
        };
        for p in patterns {
            let p = p.as_ref();
            for at in 0..stride {
                let bit = sampler.bit(window(&p[at..at + Q]));
                sampler.bits[bit / 64] |= 1 << (bit % 64);
            }
        }
        Some(sampler)
    }

    #[inline]
    fn bit(&self, window: u64) -> usize {
        // Letters in either case fold together (other bytes may fold
        // with a neighbour: that only lets a text through to the exact
        // search).
        let folded = window | 0x2020_2020_2020_2020;
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn may_match(&self, hay: &[u8]) -> bool {
        let mut at = 0;
        while at + Q <= hay.len() {
            let bit = self.bit(window(&hay[at..at + Q]));
            if self.bits[bit / 64] & (1 << (bit % 64)) != 0 {
                return true;
            }
            at += self.stride;
        }
        false
    }
}

#[inline]
fn window(bytes: &[u8]) -> u64 {
    let mut w = [0u8; Q];
    w.copy_from_slice(&bytes[..Q]);
    u64::from_le_bytes(w)
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
        out.sort_unstable();
        out
    }

    #[test]
    fn every_occurrence_is_reported_overlapping_ones_too() {
        // Sets with a one-byte literal are searched by an automaton, the
        // others through windows: both report the same.
        for (n, one_byte) in [(3, false), (200, false), (3, true), (200, true)] {
            let mut patterns = vec!["abc".to_owned(), "bc".to_owned(), "cab".to_owned()];
            patterns.extend((3..n).map(|i| format!("zz{i}zz")));
            if one_byte {
                patterns.push("q".to_owned());
            }
            let l = Literals::new(&patterns, true).expect("builds");
            assert_eq!(matches!(l.engine, Engine::Grams(_)), !one_byte);
            assert_eq!(found(&l, "xABCabc"), [0, 0, 1, 1, 2]);
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
    fn long_literals_are_found_at_every_offset_and_in_either_case() {
        let hashes: Vec<String> = (0..300)
            .map(|i| format!("sha256={i:064x}"))
            .chain(["IMPHASH=0123456789ABCDEF0123456789ABCDEF".to_owned()])
            .collect();
        let l = Literals::new(&hashes, true).expect("builds");
        assert!(l.sampler.is_some());
        for needle in [&hashes[7], &hashes[300]] {
            for pad in 0..40 {
                let hay = format!("{}{}{}", "x,".repeat(pad), needle.to_uppercase(), ",y");
                assert!(l.any_match(&hay), "offset {pad}");
                assert_eq!(found(&l, &hay).len(), 1, "offset {pad}");
            }
        }
        assert!(!l.any_match(&format!("SHA256={:064x},MD5=abc", 999_999)));
        assert!(!l.any_match("sha256=00"));
    }

    #[test]
    fn short_texts_hold_no_longer_literal() {
        let l = Literals::new(&["abcd", "xyz"], true).expect("builds");
        assert!(!l.any_match("ab"));
        assert!(l.any_match("XYZ"));
    }

    #[test]
    fn an_empty_literal_is_in_every_text() {
        let l = Literals::new(&["", "abc"], false).expect("builds");
        assert!(l.any_match(""));
    }
}
