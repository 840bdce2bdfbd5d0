//! What the prefilter admitted for a value it has scanned before.
//!
//! Endpoint telemetry repeats its values: the same images, parent
//! images, hashes, companies and users come back in event after event. A
//! scan of a value by a field's literal set always admits the same rules,
//! so a thread remembers, per (scan, value), the rules it admitted and
//! answers again with one hash of the value and one comparison instead
//! of reading every window of the value. Bounded: it starts again when
//! full.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// Values longer than this are scanned every time (they rarely repeat).
const MAX_VALUE: usize = 4096;
/// Values shorter than this are scanned every time: reading them costs
/// less than hashing and comparing.
const MIN_VALUE: usize = 8;
/// Entries kept before starting again.
const MAX_ENTRIES: usize = 16_384;
/// Bytes of values kept before starting again.
const MAX_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The scan (its address: scans live as long as their detector).
    scan: usize,
    value: (u32, u32),
    rules: (u32, u32),
}

/// Per-thread memory of admitted rules (lives in `Scratch`).
#[derive(Debug, Default)]
pub(crate) struct Memo {
    by_hash: HashMap<u64, u32, foldhash::fast::FixedState>,
    entries: Vec<Entry>,
    values: Vec<u8>,
    rules: Vec<u32>,
    /// While recording a miss: where its rules start.
    recording: Option<(u64, usize, usize)>,
}

impl Memo {
    fn key(scan: usize, value: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(scan as u64).hash_one(value.as_bytes())
    }

    /// The rules admitted before for `value` under `scan`, if remembered.
    /// Otherwise `None`, and the caller reports the rules it admits with
    /// [`Memo::record`], then calls [`Memo::finish`].
    pub fn get(&mut self, scan: usize, value: &str) -> Option<&[u32]> {
        if value.len() > MAX_VALUE || value.len() < MIN_VALUE {
            return None;
        }
        let key = Self::key(scan, value);
        if let Some(&i) = self.by_hash.get(&key) {
            let e = self.entries[i as usize];
            let (vs, ve) = (e.value.0 as usize, e.value.1 as usize);
            if e.scan == scan && &self.values[vs..ve] == value.as_bytes() {
                return Some(&self.rules[e.rules.0 as usize..e.rules.1 as usize]);
            }
        }
        if self.entries.len() >= MAX_ENTRIES || self.values.len() + value.len() > MAX_BYTES {
            self.by_hash.clear();
            self.entries.clear();
            self.values.clear();
            self.rules.clear();
        }
        let start = self.values.len();
        self.values.extend_from_slice(value.as_bytes());
        self.recording = Some((key, start, self.rules.len()));
        None
    }

    /// A rule the scan of the value being recorded admits (one reported
    /// again is kept again: replaying it twice does no harm).
    pub fn record(&mut self, rule: u32) {
        if self.recording.is_some() {
            self.rules.push(rule);
        }
    }

    /// The end of the value being recorded, scanned by `scan`.
    pub fn finish(&mut self, scan: usize) {
        let Some((key, value_start, rules_start)) = self.recording.take() else {
            return;
        };
        let offsets = (
            u32::try_from(value_start),
            u32::try_from(self.values.len()),
            u32::try_from(rules_start),
            u32::try_from(self.rules.len()),
            u32::try_from(self.entries.len()),
        );
        let (Ok(vs), Ok(ve), Ok(rs), Ok(re), Ok(i)) = offsets else {
            return;
        };
        self.entries.push(Entry {
            scan,
            value: (vs, ve),
            rules: (rs, re),
        });
        self.by_hash.insert(key, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_seen_before_answers_with_the_rules_recorded_for_it() {
        let mut m = Memo::default();
        assert!(m.get(1, "c:\\windows\\cmd.exe").is_none());
        m.record(7);
        m.record(9);
        m.finish(1);
        assert_eq!(m.get(1, "c:\\windows\\cmd.exe"), Some(&[7, 9][..]));
        // Another scan, or another value, is not the same question.
        assert!(m.get(2, "c:\\windows\\cmd.exe").is_none());
        m.finish(2);
        assert_eq!(m.get(2, "c:\\windows\\cmd.exe"), Some(&[][..]));
        assert!(m.get(1, "c:\\windows\\cmd.ex").is_none());
    }

    #[test]
    fn it_starts_again_when_full_and_stays_correct() {
        let mut m = Memo::default();
        for i in 0..(MAX_ENTRIES as u32 + 10) {
            let v = format!("a value long enough {i}");
            assert!(m.get(1, &v).is_none());
            m.record(i);
            m.finish(1);
            assert_eq!(m.get(1, &v), Some(&[i][..]));
        }
        assert!(m.entries.len() <= MAX_ENTRIES);
    }
}
