//! Many literals found through one rare window of each.
//!
//! An automaton over thousands of literals steps every byte through tables
//! of hundreds of kilobytes: on the long tail of event values each step is
//! a cache miss (about 20 ns a byte for the 2,149 process-creation
//! needles on `CommandLine`). Here each literal is represented by one
//! window of its bytes (two bytes for literals of two or three, four for
//! literals of four to eleven): the window whose bytes are rarest in
//! Windows telemetry, and preferably one no other literal is anchored on.
//! Longer literals are found through eight-byte windows read only every
//! few bytes (a multi-literal skipping search, see [`Grams::stride`]).
//! The windows are hashed into bit sets small enough to stay in the L1
//! cache. A text is read window by window: a window whose bit is clear
//! (nearly all of them) costs a load, a multiply and a test; one whose bit
//! is set is looked up among the anchors and the literals anchored on it
//! are compared where they would start. Each occurrence of a literal is
//! found once, at its anchor.

use std::collections::HashMap;

/// Fibonacci hashing (odd constant near 2^64 / phi).
const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// One literal's anchor: its window (ASCII letters folded to lowercase,
/// other bytes with bit 5 set), where in the literal it starts, and
/// enough of the literal to compare most of it without reading the
/// literal itself (a cache miss on every hit, measured).
#[derive(Debug, Clone, Copy, Default)]
struct Anchor {
    window: u64,
    /// The literal's first eight bytes (fewer: zeros after them),
    /// lowercased when the set is case-insensitive.
    head: u64,
    pattern: u32,
    offset: u32,
    /// The literal's length; 0 marks an empty slot of the table.
    len: u32,
}

impl Anchor {
    /// Literal `p` (number `pattern`) anchored on its window of `width`
    /// bytes at `offset`. `None` when the literal is longer than
    /// `u32::MAX`.
    fn new(
        p: &[u8],
        pattern: u32,
        offset: usize,
        width: usize,
        case_insensitive: bool,
    ) -> Option<Anchor> {
        Some(Anchor {
            window: fold(&p[offset..offset + width]),
            head: head_at(p, 0, p.len(), case_insensitive),
            pattern,
            offset: u32::try_from(offset).ok()?,
            len: u32::try_from(p.len()).ok()?,
        })
    }
}

/// Anchors of one window width: a bit set over their hashes, in front of
/// an open-addressed table of the anchors themselves.
#[derive(Debug, Clone)]
struct Table {
    /// `64 - log2(bits)`.
    shift: u32,
    bits: Box<[u64]>,
    /// `64 - log2(slots.len())`.
    slot_shift: u32,
    /// At most half full; an anchor sits at its hash's slot or after it.
    slots: Box<[Anchor]>,
}

impl Table {
    /// `max_log2`: the largest bit set, as a power of two.
    fn new(anchors: Vec<Anchor>, max_log2: u32) -> Option<Table> {
        if anchors.is_empty() {
            return None;
        }
        let mut distinct = anchors.iter().map(|a| a.window).collect::<Vec<_>>();
        distinct.sort_unstable();
        distinct.dedup();
        // About 1.5 % of the bits set, within `max_log2`.
        let log2 = (distinct.len() * 64)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(9, max_log2);
        let slots = (anchors.len() * 2).next_power_of_two().max(2);
        let mut table = Table {
            shift: 64 - log2,
            bits: vec![0u64; 1 << (log2 - 6)].into_boxed_slice(),
            slot_shift: 64 - slots.trailing_zeros(),
            slots: vec![Anchor::default(); slots].into_boxed_slice(),
        };
        for &w in &distinct {
            let bit = table.bit(w);
            table.bits[bit / 64] |= 1 << (bit % 64);
        }
        let mask = slots - 1;
        for a in anchors {
            let mut i = table.slot(a.window);
            while table.slots[i].len != 0 {
                i = (i + 1) & mask;
            }
            table.slots[i] = a;
        }
        Some(table)
    }

    #[inline(always)]
    fn hash(window: u64) -> u64 {
        window.wrapping_mul(K)
    }

    #[inline(always)]
    fn bit(&self, window: u64) -> usize {
        (Self::hash(window) >> self.shift) as usize
    }

    #[inline(always)]
    fn slot(&self, window: u64) -> usize {
        (Self::hash(window) >> self.slot_shift) as usize
    }

    #[inline(always)]
    fn may_hold(&self, window: u64) -> bool {
        let bit = self.bit(window);
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// The literals of one byte.
#[derive(Debug, Clone)]
struct Singles {
    /// The bytes that hold one (both cases of a letter when the set is
    /// case-insensitive), when at most three: found by `memchr`.
    few: Option<[u8; 3]>,
    /// Otherwise, whether each byte holds one.
    any: Box<[bool; 256]>,
    /// (byte, literal), both cases of a letter when case-insensitive.
    anchors: Box<[(u8, u32)]>,
}

impl Singles {
    fn new(anchors: Vec<(u8, u32)>) -> Option<Singles> {
        if anchors.is_empty() {
            return None;
        }
        let mut bytes: Vec<u8> = anchors.iter().map(|a| a.0).collect();
        bytes.sort_unstable();
        bytes.dedup();
        let mut any = Box::new([false; 256]);
        for &b in &bytes {
            any[usize::from(b)] = true;
        }
        let few = (bytes.len() <= 3).then(|| {
            let last = bytes[bytes.len() - 1];
            [bytes[0], *bytes.get(1).unwrap_or(&last), last]
        });
        Some(Singles {
            few,
            any,
            anchors: anchors.into_boxed_slice(),
        })
    }

    /// Call `found` with each one-byte literal at each position it holds.
    fn scan(&self, hay: &[u8], found: &mut impl FnMut(usize) -> bool) -> bool {
        let mut report = |b: u8| {
            self.anchors
                .iter()
                .filter(|a| a.0 == b)
                .all(|a| found(a.1 as usize))
        };
        match self.few {
            Some([a, b, c]) => memchr::memchr3_iter(a, b, c, hay).all(|at| report(hay[at])),
            None => hay.iter().all(|&b| !self.any[usize::from(b)] || report(b)),
        }
    }
}

/// A set of literals.
#[derive(Debug, Clone)]
pub(crate) struct Grams {
    patterns: Box<[Box<[u8]>]>,
    case_insensitive: bool,
    /// The literals of one byte.
    singles: Option<Singles>,
    /// Anchors of the literals of two or three bytes (two-byte windows).
    pairs: Option<Table>,
    /// Of four to eleven bytes (four-byte windows).
    quads: Option<Table>,
    /// Of [`LONG`] bytes or more: eight-byte windows read every `stride`
    /// bytes only.
    octets: Option<Table>,
    /// With every long literal at least `m` bytes long, an occurrence
    /// spans `m - 7` consecutive window starts: any `stride = m - 7` of
    /// them hold one multiple of `stride`, and each long literal is
    /// anchored on its windows at `stride` consecutive offsets (each
    /// occurrence found once, at the one multiple of `stride` among
    /// them).
    stride: usize,
}

/// Literals of at least this many bytes are found through sampled
/// eight-byte windows; shorter ones through every window of four.
const LONG: usize = 12;

/// Bit sets of the sampled table may be larger (read less often).
const SAMPLED_MAX_LOG2: u32 = 19;
/// Bit sets of the other tables stay within 16 KiB (the L1 cache).
const MAX_LOG2: u32 = 17;

impl Grams {
    /// Empty literals are left out (they are never reported). `None`
    /// when there are more than `u32::MAX` literals.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P], case_insensitive: bool) -> Option<Grams> {
        let mut tables: [Vec<Anchor>; 2] = Default::default();
        let mut singles = Vec::new();
        let mut long = Vec::new();
        // How many literals each window anchors so far: a literal takes a
        // window no other has taken when it has one of about the same
        // rarity (literals sharing an anchor are compared on every hit).
        let mut taken: HashMap<u64, u32> = HashMap::new();
        for (i, p) in patterns.iter().enumerate() {
            let p = p.as_ref();
            let pattern = u32::try_from(i).ok()?;
            let (width, table) = match p.len() {
                0 => continue,
                1 => {
                    let b = p[0];
                    singles.push((b, pattern));
                    if case_insensitive && b.is_ascii_alphabetic() {
                        singles.push((b ^ 0x20, pattern));
                    }
                    continue;
                }
                2 | 3 => (2, 0),
                4..LONG => (4, 1),
                _ => {
                    long.push((p, pattern));
                    continue;
                }
            };
            let offset = (0..=p.len() - width).min_by_key(|&at| {
                let w = &p[at..at + width];
                let rarity: u32 = w.iter().map(|&b| commonness(b)).sum();
                rarity + 8 * taken.get(&fold(w)).copied().unwrap_or(0)
            })?;
            *taken.entry(fold(&p[offset..offset + width])).or_default() += 1;
            tables[table].push(Anchor::new(p, pattern, offset, width, case_insensitive)?);
        }
        let stride = long.iter().map(|(p, _)| p.len() - 7).min().unwrap_or(1);
        let mut octets = Vec::new();
        for (p, pattern) in long {
            // Any `stride` consecutive window starts do: those whose
            // windows other literals have taken least (a shared prefix
            // such as `sha256=` would send every hit to many literals),
            // the last ones on a tie.
            let first = (0..=p.len() - 7 - stride)
                .rev()
                .min_by_key(|&k| {
                    (k..k + stride)
                        .map(|at| taken.get(&fold(&p[at..at + 8])).copied().unwrap_or(0))
                        .sum::<u32>()
                })
                .unwrap_or(0);
            for at in first..first + stride {
                *taken.entry(fold(&p[at..at + 8])).or_default() += 1;
            }
            for offset in first..first + stride {
                octets.push(Anchor::new(p, pattern, offset, 8, case_insensitive)?);
            }
        }
        let [pairs, quads] = tables;
        Some(Grams {
            patterns: patterns.iter().map(|p| p.as_ref().into()).collect(),
            case_insensitive,
            singles: Singles::new(singles),
            pairs: Table::new(pairs, MAX_LOG2),
            quads: Table::new(quads, MAX_LOG2),
            octets: Table::new(octets, SAMPLED_MAX_LOG2),
            stride,
        })
    }

    /// Call `found` with the index of each literal occurrence in `hay`
    /// (overlapping ones included, in no particular order) until it
    /// returns false.
    #[inline]
    pub fn each_match(&self, hay: &[u8], found: &mut impl FnMut(usize) -> bool) {
        let _ = self.sampled(hay, found)
            && self.scan::<4>(self.quads.as_ref(), hay, found)
            && self.scan::<2>(self.pairs.as_ref(), hay, found)
            && self.singles.as_ref().is_none_or(|s| s.scan(hay, found));
    }

    /// Read the eight-byte windows of `hay` at multiples of the stride
    /// against the long literals. False when `found` said stop.
    #[inline(always)]
    fn sampled(&self, hay: &[u8], found: &mut impl FnMut(usize) -> bool) -> bool {
        let Some(t) = &self.octets else { return true };
        let mut at = 0;
        while let Some(w) = hay.get(at..at + 8) {
            let w = fold(w);
            if t.may_hold(w) && !self.verify(t, w, hay, at, found) {
                return false;
            }
            at += self.stride;
        }
        true
    }

    /// Read `hay` window by window of `W` bytes against `table`. False
    /// when `found` said stop.
    #[inline(always)]
    fn scan<const W: usize>(
        &self,
        table: Option<&Table>,
        hay: &[u8],
        found: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        let Some(t) = table else { return true };
        for (at, w) in hay.windows(W).enumerate() {
            let w = fold(w);
            if t.may_hold(w) && !self.verify(t, w, hay, at, found) {
                return false;
            }
        }
        true
    }

    /// Compare the literals anchored on `window` where they would start,
    /// given the window at `at`. False when `found` said stop.
    #[cold]
    fn verify(
        &self,
        table: &Table,
        window: u64,
        hay: &[u8],
        at: usize,
        found: &mut impl FnMut(usize) -> bool,
    ) -> bool {
        let mask = table.slots.len() - 1;
        let mut i = table.slot(window);
        loop {
            let a = table.slots[i];
            if a.len == 0 {
                return true;
            }
            i = (i + 1) & mask;
            if a.window != window {
                continue;
            }
            let Some(start) = at.checked_sub(a.offset as usize) else {
                continue;
            };
            if start + a.len as usize > hay.len() || !self.equal(&a, hay, start) {
                continue;
            }
            if !found(a.pattern as usize) {
                return false;
            }
        }
    }

    /// Whether the literal of `a` is at `start` of `hay` (which holds its
    /// length from there).
    #[inline]
    fn equal(&self, a: &Anchor, hay: &[u8], start: usize) -> bool {
        let len = a.len as usize;
        if head_at(hay, start, len, self.case_insensitive) != a.head {
            return false;
        }
        len <= 8 || {
            let (text, p) = (
                &hay[start + 8..start + len],
                &self.patterns[a.pattern as usize][8..],
            );
            if self.case_insensitive {
                text.eq_ignore_ascii_case(p)
            } else {
                text == p
            }
        }
    }
}

/// The first eight bytes of the `len` bytes of `bytes` at `start` (fewer:
/// zeros after them), ASCII letters lowercased when `lower`. `bytes`
/// holds them.
#[inline(always)]
fn head_at(bytes: &[u8], start: usize, len: usize, lower: bool) -> u64 {
    let n = len.min(8);
    let x = match bytes.get(start..start + 8) {
        Some(w) => {
            <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes)
                & (u64::MAX.checked_shr((64 - 8 * n) as u32).unwrap_or(0))
        }
        None => {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&bytes[start..start + n]);
            u64::from_le_bytes(b)
        }
    };
    if lower { lower8(x) } else { x }
}

/// ASCII uppercase letters of eight bytes lowercased at once (other bytes,
/// non-ASCII ones too, unchanged).
#[inline(always)]
fn lower8(x: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !HIGH;
    // High bit of each byte: at least `A`, above `Z` (no carries: a byte
    // of `low7` is at most 0x7F).
    let from_a = low7 + 0x3F3F_3F3F_3F3F_3F3F;
    let past_z = low7 + 0x2525_2525_2525_2525;
    let upper = from_a & !past_z & !x & HIGH;
    x | (upper >> 2)
}

/// Two, four or eight bytes as one window, bit 5 of each set (ASCII
/// letters fold to lowercase; other bytes may fold with a neighbour,
/// which only sends a window to the exact comparison).
#[inline(always)]
fn fold(w: &[u8]) -> u64 {
    match *w {
        [a, b] => u64::from(u16::from_le_bytes([a, b]) | 0x2020),
        [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d]) | 0x2020_2020),
        [a, b, c, d, e, f, g, h] => {
            u64::from_le_bytes([a, b, c, d, e, f, g, h]) | 0x2020_2020_2020_2020
        }
        _ => unreachable!("windows are two, four or eight bytes"),
    }
}

/// How common a byte is in Windows event values (paths, command lines,
/// hashes): the anchor is the window with the lowest sum.
fn commonness(b: u8) -> u32 {
    match b.to_ascii_lowercase() {
        b'e' | b'\\' | b' ' => 10,
        b'a' | b'i' | b'o' | b's' | b't' | b'n' | b'r' | b'.' => 9,
        b'c' | b'l' | b'd' | b'm' | b'p' | b'x' | b'w' | b'0'..=b'9' => 8,
        b'u' | b'h' | b'f' | b'b' | b'-' | b'/' | b':' | b'"' => 7,
        b'g' | b'v' | b'y' | b'k' | b'_' | b'=' | b',' => 5,
        b'j' | b'q' | b'z' | b'\'' | b'(' | b')' | b'{' | b'}' | b'$' | b'%' => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(g: &Grams, hay: &str) -> Vec<usize> {
        let mut out = Vec::new();
        g.each_match(hay.as_bytes(), &mut |p| {
            out.push(p);
            true
        });
        out.sort_unstable();
        out
    }

    #[test]
    fn every_occurrence_of_every_length_is_found_once() {
        let patterns = ["ab", "abc", "bcd", "mimikatz", "katz", "zz"];
        let g = Grams::new(&patterns, true).expect("builds");
        assert_eq!(found(&g, "xABCD-MimiKatz"), [0, 1, 2, 3, 4]);
        assert_eq!(found(&g, "zzz"), [5, 5]);
        assert_eq!(found(&g, "a b c mimi katz"), [4]);
        assert!(found(&g, "").is_empty());
    }

    #[test]
    fn eight_bytes_lowercase_as_ascii_lowercasing_does() {
        for chunk in (0u8..=255).collect::<Vec<_>>().chunks(8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let expected: Vec<u8> = chunk.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(lower8(x).to_le_bytes().to_vec(), expected);
        }
    }

    #[test]
    fn case_sensitive_sets_compare_exactly() {
        let g = Grams::new(&["Abc", "-Enc"], false).expect("builds");
        assert_eq!(found(&g, "xAbc -Enc"), [0, 1]);
        assert!(found(&g, "xabc -enc").is_empty());
    }

    #[test]
    fn literals_at_the_edges_of_the_text_are_found() {
        let g = Grams::new(&["\\cmd.exe", "c:"], true).expect("builds");
        assert_eq!(found(&g, "C:\\CMD.EXE"), [0, 1]);
        assert_eq!(found(&g, "\\cmd.ex"), [] as [usize; 0]);
    }

    #[test]
    fn one_byte_literals_are_found_at_each_position_and_empty_ones_never() {
        let g = Grams::new(&["a", "", "`", "abc"], true).expect("builds");
        assert_eq!(found(&g, "A`b`ABC"), [0, 0, 2, 2, 3]);
        let many = Grams::new(&["a", "b", "c", "d", "ab"], false).expect("builds");
        assert_eq!(found(&many, "abcdABCD"), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn many_literals_sharing_windows_are_all_found() {
        let patterns: Vec<String> = (0..3000).map(|i| format!("tool{i}.exe")).collect();
        let g = Grams::new(&patterns, true).expect("builds");
        assert_eq!(found(&g, "c:\\TOOL2999.EXE /x"), [2999]);
        assert_eq!(found(&g, "tool12.exe tool1.exe"), [1, 12]);
    }

    /// Every (literal, start) a naive search finds, sorted.
    fn naive(patterns: &[Vec<u8>], hay: &[u8], case_insensitive: bool) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            for start in 0..hay.len() {
                let Some(text) = hay.get(start..start + p.len()) else {
                    break;
                };
                if (case_insensitive && text.eq_ignore_ascii_case(p)) || text == &p[..] {
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn random_literals_are_found_as_a_naive_search_finds_them() {
        // A small alphabet, so that literals overlap and share windows;
        // lengths from 0 to 23, so that every kind of table is built.
        let alphabet = b"aAbB-\\.x\xc3\xa9";
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..400 {
            let count = 1 + next(40);
            let patterns: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    (0..next(24))
                        .map(|_| alphabet[next(alphabet.len())])
                        .collect()
                })
                .collect();
            let case_insensitive = round % 2 == 0;
            let g = Grams::new(&patterns, case_insensitive).expect("builds");
            // Empty literals are never reported.
            let expected: Vec<Vec<u8>> = patterns
                .iter()
                .map(|p| {
                    if p.is_empty() {
                        b"never".to_vec()
                    } else {
                        p.clone()
                    }
                })
                .collect();
            for _ in 0..20 {
                // Random text around one of the literals, at any offset.
                let mut hay: Vec<u8> = (0..next(40))
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect();
                hay.extend_from_slice(&patterns[next(patterns.len())]);
                hay.extend((0..next(40)).map(|_| alphabet[next(alphabet.len())]));
                let mut ours = Vec::new();
                g.each_match(&hay, &mut |p| {
                    ours.push(p);
                    true
                });
                ours.sort_unstable();
                assert_eq!(
                    ours,
                    naive(&expected, &hay, case_insensitive),
                    "{patterns:?} in {hay:?}"
                );
            }
        }
    }
}
