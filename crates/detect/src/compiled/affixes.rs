//! Many values one of which a text must equal, start with or end with
//! (`Image|endswith: [...]` lists of dozens of names), answered without
//! comparing each.
//!
//! A text can end with a value of `k` bytes or more only if its last `k`
//! bytes are that value's last `k` (first `k` for `startswith` and
//! equality). With `k` the shortest such value's length, up to eight (so
//! that `\cmd.exe` and `\powershell.exe` differ in it, where their last
//! four bytes do not), those bytes of every value are hashed into a small
//! bit set: nearly every text is ruled out with one test, and the rest are
//! looked up among the values of each length, sorted.

use super::matcher::StrOp;

/// Bits of the filter.
const BITS: usize = 1024;

#[derive(Debug, Clone)]
pub(crate) struct Affixes {
    op: StrOp,
    /// Values shorter than four bytes, compared one by one.
    short: Vec<Box<[u8]>>,
    /// The other values, grouped by length (ascending), sorted.
    by_len: Vec<(usize, Vec<Box<[u8]>>)>,
    /// Bit per hash of the `key_len` bytes at the compared end of each
    /// value in `by_len`.
    bits: [u64; BITS / 64],
    /// From 4 to 8.
    key_len: usize,
}

impl Affixes {
    /// `op`: `Exact`, `StartsWith` or `EndsWith`.
    pub fn new(op: StrOp, needles: &[Box<str>]) -> Affixes {
        let mut affixes = Affixes {
            op,
            short: Vec::new(),
            by_len: Vec::new(),
            bits: [0; BITS / 64],
            key_len: 4,
        };
        let mut long: Vec<&[u8]> = Vec::new();
        for n in needles {
            let n = n.as_bytes();
            if n.len() < 4 {
                affixes.short.push(n.into());
            } else {
                long.push(n);
            }
        }
        long.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        long.dedup();
        affixes.key_len = long.first().map_or(4, |n| n.len().min(8));
        for n in long {
            let bit = affixes.bit(n);
            affixes.bits[bit / 64] |= 1 << (bit % 64);
            match affixes.by_len.last_mut() {
                Some((len, group)) if *len == n.len() => group.push(n.into()),
                _ => affixes.by_len.push((n.len(), vec![n.into()])),
            }
        }
        affixes
    }

    /// The filter bit of a text or value of at least `key_len` bytes.
    #[inline]
    fn bit(&self, text: &[u8]) -> usize {
        let end = match self.op {
            StrOp::EndsWith => &text[text.len() - self.key_len..],
            _ => &text[..self.key_len],
        };
        let mut key = [0u8; 8];
        key[..end.len()].copy_from_slice(end);
        let key = u64::from_le_bytes(key);
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS.trailing_zeros())) as usize
    }

    /// Does `text` equal, start with or end with one of the values?
    pub fn any(&self, text: &str) -> bool {
        let text = text.as_bytes();
        if self.short.iter().any(|n| self.fits(text, n)) {
            return true;
        }
        if text.len() < self.key_len {
            return false;
        }
        let bit = self.bit(text);
        if self.bits[bit / 64] & (1 << (bit % 64)) == 0 {
            return false;
        }
        self.by_len
            .iter()
            .take_while(|(len, _)| *len <= text.len())
            .any(|(len, group)| {
                let part = match self.op {
                    StrOp::Exact if *len != text.len() => return false,
                    StrOp::EndsWith => &text[text.len() - len..],
                    _ => &text[..*len],
                };
                group.binary_search_by(|n| (**n).cmp(part)).is_ok()
            })
    }

    fn fits(&self, text: &[u8], n: &[u8]) -> bool {
        match self.op {
            StrOp::EndsWith => text.ends_with(n),
            StrOp::StartsWith => text.starts_with(n),
            _ => text == n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affixes(op: StrOp, needles: &[&str]) -> Affixes {
        let needles: Vec<Box<str>> = needles.iter().map(|&n| n.into()).collect();
        Affixes::new(op, &needles)
    }

    #[test]
    fn each_operation_answers_as_comparing_each_value_does() {
        let needles = [
            "\\cmd.exe",
            "\\powershell.exe",
            ".ps1",
            "x",
            "",
            "ab",
            "c:\\windows\\",
        ];
        let texts = [
            "c:\\windows\\system32\\cmd.exe",
            "c:\\windows\\system32\\powershell.exe",
            "c:\\temp\\run.ps1",
            "c:\\temp\\x",
            "ab",
            "abc",
            "",
            "cmd.exe",
            "\\cmd.exe",
            "c:\\windows\\",
        ];
        for op in [StrOp::Exact, StrOp::StartsWith, StrOp::EndsWith] {
            // Without the empty value; then only values of eight bytes or
            // more (the filter then reads eight bytes).
            for min_len in [0, 1, 8] {
                let needles: Vec<&str> = needles
                    .iter()
                    .copied()
                    .filter(|n| n.len() >= min_len)
                    .collect();
                let a = affixes(op, &needles);
                for text in texts {
                    let expected = needles.iter().any(|n| match op {
                        StrOp::Exact => text == *n,
                        StrOp::StartsWith => text.starts_with(n),
                        _ => text.ends_with(n),
                    });
                    assert_eq!(a.any(text), expected, "{op:?} {text:?} {needles:?}");
                }
            }
        }
    }
}
