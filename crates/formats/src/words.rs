//! Bytes eight at a time, in a `u64` ("SIMD within a register"), for
//! decoding's scans of names and strings, most of them shorter than a
//! vector instruction's setup is worth.

/// A one in every byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The top bit of every byte.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The first eight bytes of `b` as a little-endian word (byte 0 lowest).
/// `b` has at least eight.
#[inline]
pub(crate) const fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The top bit of each byte of `w` under `n` (at most 0x80): taking `n`
/// from such a byte borrows into its top bit, which `!w` keeps only for
/// bytes under 0x80. Exact for the lowest byte marked; a byte above it may
/// be marked by the borrow too, so the lowest mark is the first such byte.
#[inline]
pub(crate) fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// Whether a byte of `b` is one `hit` accepts: `marks` says of each whole
/// word whether it holds one (non-zero), `hit` is asked of the last bytes.
#[inline]
pub(crate) fn any(b: &[u8], marks: impl Fn(u64) -> u64, hit: impl Fn(u8) -> bool) -> bool {
    let mut words = b.chunks_exact(8);
    if words.by_ref().any(|w| marks(word(w)) != 0) {
        return true;
    }
    words.remainder().iter().any(|&c| hit(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_byte_marked_below_a_bound_is_the_first_such_byte() {
        for n in [1u8, 0x20, 0x21, 0x80] {
            for at in 0..8 {
                for c in 0..=255u8 {
                    for fill in [0u8, 0x1f, b'a', 0xc3] {
                        let mut b = [fill; 8];
                        b[at] = c;
                        let first = b.iter().position(|&x| x < n);
                        let marks = below(word(&b), n);
                        let lowest = (marks != 0).then(|| (marks.trailing_zeros() / 8) as usize);
                        assert_eq!(lowest, first, "{b:?} below {n:#x}");
                    }
                }
            }
        }
    }
}
