//! A small seeded generator (SplitMix64), so that a seed always tells the
//! same story on every platform and Rust version. Not for secrets.

/// Deterministic pseudo-random numbers from a 64-bit seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for one named purpose, independent of how many numbers
    /// other purposes drew (adding a background event does not reshuffle
    /// the attack).
    pub fn fork(&self, purpose: &str) -> Rng {
        Rng(self.0 ^ fnv1a(purpose.as_bytes()))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// An index into a slice of `len` items (0 when empty).
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// `len` upper-case hex digits.
    pub fn hex(&mut self, len: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = String::with_capacity(len);
        let mut bits = 0u64;
        for i in 0..len {
            if i % 16 == 0 {
                bits = self.next_u64();
            }
            out.push(char::from(HEX[usize::try_from(bits & 0xF).unwrap_or(0)]));
            bits >>= 4;
        }
        out
    }

    /// A GUID in braces, as Windows writes them.
    pub fn guid(&mut self) -> String {
        format!(
            "{{{}-{}-{}-{}-{}}}",
            self.hex(8),
            self.hex(4),
            self.hex(4),
            self.hex(4),
            self.hex(12)
        )
    }

    /// A GUID without braces, lower case, as cloud services write them.
    pub fn uuid(&mut self) -> String {
        self.guid()
            .trim_matches(|c| c == '{' || c == '}')
            .to_ascii_lowercase()
    }
}

/// FNV-1a, to turn a name into a seed.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// A stable SHA-256-looking digest for a file: the same path always gets
/// the same value (Sysmon reports the same hash for the same binary on
/// every host).
pub fn file_digest(path: &str) -> String {
    Rng::new(fnv1a(path.to_ascii_lowercase().as_bytes())).hex(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_numbers() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn forks_for_different_purposes_differ_and_ranges_hold() {
        let root = Rng::new(1);
        assert_ne!(root.fork("a").next_u64(), root.fork("b").next_u64());
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            let n = r.between(5, 9);
            assert!((5..=9).contains(&n));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(file_digest("C:\\a.exe"), file_digest("c:\\A.EXE"));
        assert_eq!(file_digest("x").len(), 64);
    }
}
