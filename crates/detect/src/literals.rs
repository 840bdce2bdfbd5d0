//! Sets of literals, searched through rare windows of each ([`Grams`]),
//! with quick rejections in front: texts shorter than every literal, ASCII
//! texts when every literal has a non-ASCII byte, and a sampled window
//! filter when every literal is long.

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
    /// When every literal is long: a filter that rules out most texts
    /// holding none from a few of their windows, before every window is
    /// read.
    sampler: Option<Sampler>,
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
        let sampler = if empty {
            None
        } else {
            Sampler::new(patterns, min_len)
        };
        Some(Literals {
            grams,
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
