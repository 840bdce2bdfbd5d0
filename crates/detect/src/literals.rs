//! Sets of literals, searched through rare windows of each ([`Grams`]),
//! with quick rejections in front: texts shorter than every literal, and
//! ASCII texts when every literal has a non-ASCII byte.

use crate::grams::Grams;

/// A set of literals.
#[derive(Debug, Clone)]
pub(crate) struct Literals {
    grams: Grams,
    /// Some literal is empty: every text contains it.
    empty: bool,
    /// Every literal has a non-ASCII byte: no ASCII text contains one.
    non_ascii: bool,
    /// The shortest non-empty literal's length: a shorter text holds none.
    min_len: usize,
}

impl Literals {
    /// `ascii_case_insensitive`: ASCII letters match either case. `None`
    /// when there are more than `u32::MAX` literals.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P], ascii_case_insensitive: bool) -> Option<Self> {
        let grams = Grams::new(patterns, ascii_case_insensitive)?;
        let empty = patterns.iter().any(|p| p.as_ref().is_empty());
        let non_ascii = patterns.iter().all(|p| !p.as_ref().is_ascii());
        let min_len = patterns
            .iter()
            .map(|p| p.as_ref().len())
            .filter(|&n| n > 0)
            .min()
            .unwrap_or(0);
        Some(Literals {
            grams,
            empty,
            non_ascii,
            min_len,
        })
    }

    /// False when `hay` is too short to hold a literal.
    #[inline]
    fn may_match(&self, hay: &[u8]) -> bool {
        hay.len() >= self.min_len
    }

    /// Call `found` with the index of each literal occurrence in `hay`,
    /// overlapping ones included, in no particular order (a literal found
    /// twice is reported twice; empty literals are not reported).
    pub fn each_match(&self, hay: &str, mut found: impl FnMut(usize)) {
        if !self.may_match(hay.as_bytes()) {
            return;
        }
        self.grams.each_match(hay.as_bytes(), &mut |p| {
            found(p);
            true
        });
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
        self.grams.each_match(hay.as_bytes(), &mut |_| {
            any = true;
            false
        });
        any
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
        for (n, one_byte) in [(3, false), (200, false), (3, true), (200, true)] {
            let mut patterns = vec!["abc".to_owned(), "bc".to_owned(), "cab".to_owned()];
            patterns.extend((3..n).map(|i| format!("zz{i}zz")));
            if one_byte {
                patterns.push("q".to_owned());
            }
            let l = Literals::new(&patterns, true).expect("builds");
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
