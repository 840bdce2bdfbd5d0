//! [`FlatEvent`]: one event as a flat list of named text values.
//!
//! Keys and values live in one string buffer; fields are spans into it, so
//! building an event costs two allocations, and a cleared event is reused
//! without any. Names compare case-insensitively (ASCII), as Windows field
//! names do. When a name occurs more than once the last payload value wins,
//! then the last `System` value, except for `Channel`, `EventID` and
//! `EventRecordID`, where `System` always wins.
//!
//! Lookups by name go through a small hash table over the fields, kept as
//! they are added: intake asks an event for a hundred-odd names (entities,
//! the hunting projection, incident facts), most of them absent, and a
//! scan of every field for each was 7 % of the server's CPU.

use std::ops::Range;

/// One field: its name, then its value right after it, in the buffer.
/// Sixteen bytes, so that the pass over an event's fields that detection
/// starts with reads as few cache lines as it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    key_start: u32,
    /// The name's length (low 31 bits) and whether the field is from
    /// `System` (the top bit).
    key_len_system: u32,
    value_end: u32,
    /// [`name_hash`] of the key, to skip most comparisons.
    hash: u32,
}

const SYSTEM_BIT: u32 = 1 << 31;

impl Span {
    #[inline]
    fn key(&self) -> (u32, u32) {
        let len = self.key_len_system & !SYSTEM_BIT;
        (self.key_start, self.key_start.saturating_add(len))
    }

    #[inline]
    fn value(&self) -> (u32, u32) {
        (self.key().1, self.value_end)
    }

    #[inline]
    fn system(&self) -> bool {
        self.key_len_system & SYSTEM_BIT != 0
    }
}

/// One field of a [`FlatEvent`] (see [`FlatEvent::entries`]).
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    event: &'a FlatEvent,
    span: &'a Span,
}

impl<'a> Entry<'a> {
    /// [`name_hash`] of the name.
    #[inline]
    pub fn hash(&self) -> u32 {
        self.span.hash
    }

    #[inline]
    pub fn name(&self) -> &'a str {
        self.event.key_of(self.span)
    }

    #[inline]
    pub fn value(&self) -> &'a str {
        self.event.value_of(self.span)
    }
}

/// A hash of a field name that is equal for names that compare equal
/// ASCII-case-insensitively: the length and the first and last eight bytes,
/// each with the ASCII case bit set, mixed. Cheap enough for every lookup.
pub const fn name_hash(name: &str) -> u32 {
    let b = name.as_bytes();
    let n = b.len();
    // Byte `i` of `head` is byte `i` of the name; byte `i` of `tail` is
    // byte `i` from the name's end. Names of eight bytes or more (most
    // of them) load each as one word; a byte at a time, that loop was a
    // tenth of decoding's instructions.
    const CASE: u64 = 0x2020_2020_2020_2020;
    let (head, tail) = if n >= 8 {
        let head = crate::words::word(b);
        // The last eight bytes, the name's last byte lowest.
        let tail = crate::words::word(b.split_at(n - 8).1).swap_bytes();
        (head | CASE, tail | CASE)
    } else {
        let mut head: u64 = 0;
        let mut tail: u64 = 0;
        let mut i = 0;
        while i < n {
            head |= ((b[i] | 0x20) as u64) << (8 * i);
            tail |= ((b[n - 1 - i] | 0x20) as u64) << (8 * i);
            i += 1;
        }
        (head, tail)
    };
    let x = head ^ tail.rotate_left(29) ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (x ^ (x >> 32)) as u32
}

const SYSTEM_FIRST_HASHES: [u32; 3] = [
    name_hash("Channel"),
    name_hash("EventID"),
    name_hash("EventRecordID"),
];

/// One decoded event.
#[derive(Clone, Default)]
pub struct FlatEvent {
    buf: String,
    fields: Vec<Span>,
    /// Open addressing over `fields` by name hash, linear probing: each
    /// slot holds a field's index plus one (0: empty). Fields are only
    /// ever added, so a name's fields lie along its probe chain in the
    /// order they were added. At most a quarter full, so that a lookup
    /// (most look for a field the event lacks) ends after a probe or two;
    /// empty when the event has no fields or more than [`MOST_INDEXED`]
    /// (lookups then scan).
    table: Vec<u16>,
}

/// The most fields the table indexes: slots are `u16`s (a field's index
/// plus one) and the table has four times as many slots as fields.
const MOST_INDEXED: usize = 16_384;

/// Table slots per field (at least): at most a quarter full.
const SLOTS_PER_FIELD: usize = 4;

/// Events are equal when their fields are: the table follows from them.
impl PartialEq for FlatEvent {
    fn eq(&self, other: &Self) -> bool {
        self.buf == other.buf && self.fields == other.fields
    }
}

impl Eq for FlatEvent {}

impl std::fmt::Debug for FlatEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.fields
                    .iter()
                    .map(|s| (self.key_of(s), self.value_of(s))),
            )
            .finish()
    }
}

/// Names whose `System` value always wins over a payload field of that name.
const SYSTEM_FIRST: [&str; 3] = ["Channel", "EventID", "EventRecordID"];

impl FlatEvent {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty event with room for `bytes` of names and values and for
    /// `fields` fields, so that filling it grows neither.
    pub fn with_capacity(bytes: usize, fields: usize) -> Self {
        FlatEvent {
            buf: String::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
            table: Vec::with_capacity(Self::slots_for(fields.min(MOST_INDEXED))),
        }
    }

    /// Table slots for `fields` fields: a power of two, at least four
    /// times as many.
    fn slots_for(fields: usize) -> usize {
        (fields * SLOTS_PER_FIELD).next_power_of_two().max(16)
    }

    /// Ask the CPU to start loading the event's memory into its caches
    /// (a hint: for a caller about to read it, e.g. the next event of a
    /// batch).
    #[inline]
    pub fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            for chunk in self.fields.chunks(4) {
                safe_arch::prefetch_t0(&chunk[0]);
            }
            for chunk in self.buf.as_bytes().chunks(64) {
                safe_arch::prefetch_t0(&chunk[0]);
            }
        }
    }

    /// Forget all fields, keeping the allocations.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.fields.clear();
        self.table.clear();
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Bytes of the event's names and values together: what a copy of
    /// them needs room for.
    #[inline]
    pub fn text_len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    #[inline]
    fn range((start, end): (u32, u32)) -> Range<usize> {
        start as usize..end as usize
    }

    #[inline]
    fn key_of(&self, s: &Span) -> &str {
        self.buf.get(Self::range(s.key())).unwrap_or_default()
    }

    #[inline]
    fn value_of(&self, s: &Span) -> &str {
        self.buf.get(Self::range(s.value())).unwrap_or_default()
    }

    fn offset(&self) -> u32 {
        u32::try_from(self.buf.len()).unwrap_or(u32::MAX)
    }

    /// Start a field named `name`; its value is what is appended until
    /// [`FlatEvent::end_field`].
    pub(crate) fn begin_field(&mut self, name: &str) -> (u32, u32) {
        let start = self.offset();
        self.buf.push_str(name);
        (start, self.offset())
    }

    pub(crate) fn buf_mut(&mut self) -> &mut String {
        &mut self.buf
    }

    /// End the field `key` (from [`FlatEvent::begin_field`]): its value is
    /// what was appended since.
    pub(crate) fn end_field(&mut self, key: (u32, u32), system: bool) {
        let hash = name_hash(&self.buf[Self::range(key)]);
        // Names of 2 GiB do not occur: such a name is cut short (its
        // bytes then count as the value's), never mistaken for `System`.
        let len = (key.1 - key.0).min(!SYSTEM_BIT);
        self.fields.push(Span {
            key_start: key.0,
            key_len_system: len | if system { SYSTEM_BIT } else { 0 },
            value_end: self.offset(),
            hash,
        });
        self.index_last();
    }

    /// Put the field just added into the table, growing it first when it
    /// would be over a quarter full.
    fn index_last(&mut self) {
        let n = self.fields.len();
        if n > MOST_INDEXED {
            self.table = Vec::new();
            return;
        }
        if n * SLOTS_PER_FIELD > self.table.len() {
            // As large as the room already there allows (`with_capacity`,
            // or the table's before `clear`), so that it rarely grows.
            let room = match self.table.capacity() {
                0 => 0,
                c => 1 << (usize::BITS - 1 - c.leading_zeros()),
            };
            self.table.clear();
            self.table.resize(Self::slots_for(n).max(room), 0);
            for i in 0..n {
                self.put(i);
            }
        } else {
            self.put(n - 1);
        }
    }

    /// Field `i` into the first empty slot of its chain.
    fn put(&mut self, i: usize) {
        let mask = self.table.len() - 1;
        let mut at = self.fields[i].hash as usize & mask;
        while self.table[at] != 0 {
            at = (at + 1) & mask;
        }
        // `i < MOST_INDEXED`, so it fits.
        self.table[at] = (i + 1) as u16;
    }

    /// Add a field.
    pub fn push(&mut self, name: &str, value: &str, system: bool) {
        let key = self.begin_field(name);
        self.buf.push_str(value);
        self.end_field(key, system);
    }

    /// The value of field `name` (case-insensitive), or `None` when absent.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        let hash = name_hash(name);
        let system_first = SYSTEM_FIRST_HASHES.contains(&hash)
            && SYSTEM_FIRST.iter().any(|n| n.eq_ignore_ascii_case(name));
        if self.table.is_empty() {
            self.get_scan(name, hash, system_first)
        } else {
            self.get_indexed(name, hash, system_first)
        }
    }

    /// Whether field `s` is named `name` (case-insensitive), whose
    /// [`name_hash`] is `hash`: the hash and length first, which rule out
    /// nearly every other field.
    #[inline]
    fn is_named(&self, s: &Span, name: &str, hash: u32) -> bool {
        let (a, b) = s.key();
        s.hash == hash
            && (b - a) as usize == name.len()
            && self.key_of(s).eq_ignore_ascii_case(name)
    }

    /// [`FlatEvent::get`] by a scan of every field, newest first.
    fn get_scan(&self, name: &str, hash: u32, system_first: bool) -> Option<&str> {
        let mut payload_hit = None;
        let mut system_hit = None;
        for s in self.fields.iter().rev() {
            if !self.is_named(s, name, hash) {
                continue;
            }
            match (s.system(), system_first) {
                (false, false) | (true, true) => return Some(self.value_of(s)),
                (false, true) => payload_hit = payload_hit.or(Some(s)),
                (true, false) => system_hit = system_hit.or(Some(s)),
            }
        }
        payload_hit.or(system_hit).map(|s| self.value_of(s))
    }

    /// [`FlatEvent::get`] through the table: the chain from the name's
    /// slot to the first empty one holds its fields in the order added,
    /// so the last of each kind seen is the last added.
    fn get_indexed(&self, name: &str, hash: u32, system_first: bool) -> Option<&str> {
        let mask = self.table.len() - 1;
        let mut at = hash as usize & mask;
        let mut payload_hit = None;
        let mut system_hit = None;
        loop {
            let slot = self.table[at];
            let Some(s) = (slot as usize)
                .checked_sub(1)
                .and_then(|i| self.fields.get(i))
            else {
                break;
            };
            if self.is_named(s, name, hash) {
                if s.system() {
                    system_hit = Some(s);
                } else {
                    payload_hit = Some(s);
                }
            }
            at = (at + 1) & mask;
        }
        let hit = if system_first {
            system_hit.or(payload_hit)
        } else {
            payload_hit.or(system_hit)
        };
        hit.map(|s| self.value_of(s))
    }

    /// Every value of field `name` (case-insensitive) in the order added,
    /// `System` and payload alike: the elements of a JSON array flattened
    /// under one name, for matching that is true when any element matches.
    #[inline]
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        let hash = name_hash(name);
        self.fields
            .iter()
            .filter(move |s| self.is_named(s, name, hash))
            .map(|s| self.value_of(s))
    }

    /// Every (name, value) pair in the order added, duplicates included.
    #[inline]
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .map(|s| (self.key_of(s), self.value_of(s)))
    }

    /// Every field as (name hash, name, value), name and value sliced only
    /// when asked for: one pass that picks fields out by their hash.
    #[inline]
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.fields.iter().map(|span| Entry { event: self, span })
    }

    /// Every value, for field-less (keyword) search.
    #[inline]
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|s| self.value_of(s))
    }

    /// `System/EventID` as a number.
    /// Also accepts the forms a numeric comparison accepts (`4624.0`).
    pub fn event_id(&self) -> Option<u32> {
        let text = self.get("EventID")?.trim();
        text.parse().ok().or_else(|| {
            let f: f64 = text.parse().ok()?;
            (f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f)).then_some(f as u32)
        })
    }

    pub fn channel(&self) -> Option<&str> {
        self.get("Channel")
    }

    pub fn computer(&self) -> Option<&str> {
        self.get("Computer")
    }

    pub fn provider(&self) -> Option<&str> {
        self.get("Provider_Name")
    }

    pub fn record_id(&self) -> Option<u64> {
        self.get("EventRecordID")?.trim().parse().ok()
    }

    /// `System/TimeCreated@SystemTime`, as written.
    pub fn system_time(&self) -> Option<&str> {
        self.get("SystemTime")
    }

    /// The event as one flat JSON object's text, the same as
    /// `to_json().to_string()` without building the object: fields in the
    /// order their names first appear (`System` ones first), the last
    /// value of a name winning, except where [`FlatEvent::to_json`] keeps
    /// the `System` one. Appended to `out`.
    pub fn write_json(&self, out: &mut String) {
        // Names as they first appear, each with the value it ends with;
        // events have a few dozen fields, so a scan beats a map.
        let mut kept: Vec<(&Span, &Span)> = Vec::with_capacity(self.fields.len());
        let same = |a: &Span, b: &Span| a.hash == b.hash && self.key_of(a) == self.key_of(b);
        for s in self.fields.iter().filter(|s| s.system()) {
            match kept.iter_mut().find(|(k, _)| same(k, s)) {
                Some(slot) => slot.1 = s,
                None => kept.push((s, s)),
            }
        }
        for s in self.fields.iter().filter(|s| !s.system()) {
            match kept.iter_mut().find(|(k, _)| same(k, s)) {
                Some(_)
                    if SYSTEM_FIRST
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(self.key_of(s))) => {}
                Some(slot) => slot.1 = s,
                None => kept.push((s, s)),
            }
        }
        // Strings escaped as serde_json escapes them.
        out.push('{');
        for (i, (k, v)) in kept.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            vigil_core::json::push_string(out, self.key_of(k));
            out.push(':');
            vigil_core::json::push_string(out, self.value_of(v));
        }
        out.push('}');
    }

    /// The event as one flat JSON object (last value wins per name).
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for s in self.fields.iter().filter(|s| s.system()) {
            map.insert(self.key_of(s).to_owned(), self.value_of(s).into());
        }
        for s in self.fields.iter().filter(|s| !s.system()) {
            let k = self.key_of(s);
            if SYSTEM_FIRST.iter().any(|n| n.eq_ignore_ascii_case(k)) && map.contains_key(k) {
                continue;
            }
            map.insert(k.to_owned(), self.value_of(s).into());
        }
        serde_json::Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first and last eight bytes a byte at a time: what
    /// [`name_hash`] computes with word loads.
    fn name_hash_bytewise(name: &str) -> u32 {
        let b = name.as_bytes();
        let n = b.len();
        let (mut head, mut tail) = (0u64, 0u64);
        for i in 0..n.min(8) {
            head |= u64::from(b[i] | 0x20) << (8 * i);
            tail |= u64::from(b[n - 1 - i] | 0x20) << (8 * i);
        }
        let x = head ^ tail.rotate_left(29) ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (x ^ (x >> 32)) as u32
    }

    #[test]
    fn a_name_hashes_as_its_bytes_do_at_every_length_and_case() {
        let long = "ParentCommandLine_TargetObject-Details.Ünïcode";
        for end in 0..=long.len() {
            let Some(name) = long.get(..end) else {
                continue;
            };
            assert_eq!(name_hash(name), name_hash_bytewise(name), "{name:?}");
            assert_eq!(
                name_hash(name),
                name_hash(&name.to_ascii_uppercase()),
                "{name:?} in upper case"
            );
        }
        assert_ne!(name_hash("CommandLine"), name_hash("CommandLinf"));
    }

    #[test]
    fn the_json_text_is_the_json_object_written_out() {
        let mut e = FlatEvent::new();
        e.push("Channel", "Security", true);
        e.push("EventID", "4688", true);
        e.push("Computer", "ws1", true);
        e.push("Channel", "Spoofed", false);
        e.push(
            "CommandLine",
            "cmd /c \"echo\" \\\\srv\\share\ttab\u{1}\u{7f} é",
            false,
        );
        e.push("computer", "lower-case name is another field", false);
        e.push("Computer", "payload wins", false);
        let mut text = String::new();
        e.write_json(&mut text);
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed, e.to_json());
        assert_eq!(parsed["Channel"], "Security");
        assert_eq!(parsed["Computer"], "payload wins");
        assert!(
            text.starts_with("{\"Channel\":\"Security\",\"EventID\""),
            "{text}"
        );
        assert!(text.contains("\\u0001"), "{text}");
    }

    #[test]
    fn an_event_without_fields_is_an_empty_object() {
        let mut text = String::from("x");
        FlatEvent::new().write_json(&mut text);
        assert_eq!(text, "x{}");
    }

    #[test]
    fn lookups_ignore_ascii_case() {
        let mut e = FlatEvent::new();
        e.push("CommandLine", "whoami /all", false);
        assert_eq!(e.get("commandline"), Some("whoami /all"));
        assert_eq!(e.get("Command"), None);
    }

    #[test]
    fn payload_beats_system_except_for_channel_event_id_and_record_id() {
        let mut e = FlatEvent::new();
        e.push("ProcessID", "4", true);
        e.push("Channel", "System", true);
        e.push("EventID", "104", true);
        e.push("ProcessId", "1234", false);
        e.push("Channel", "Microsoft-Windows-Sysmon/Operational", false);
        assert_eq!(e.get("ProcessId"), Some("1234"));
        assert_eq!(e.channel(), Some("System"));
        assert_eq!(e.event_id(), Some(104));
        assert_eq!(e.to_json()["Channel"], "System");
    }

    #[test]
    fn lookups_through_the_table_answer_as_a_scan_of_every_field_does() {
        // Names from a small pool in mixed case, System and payload, so
        // that names repeat, collide in the table and grow it many times.
        const NAMES: [&str; 9] = [
            "Channel",
            "EventID",
            "EventRecordID",
            "Image",
            "image",
            "CommandLine",
            "User",
            "TargetFilename",
            "Hashes",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let mut e = if round % 2 == 0 {
                FlatEvent::new()
            } else {
                FlatEvent::with_capacity(64, 4)
            };
            let fields = (next() % 120) as usize;
            for i in 0..fields {
                let name = NAMES[(next() % NAMES.len() as u64) as usize];
                let name = if next() % 3 == 0 {
                    name.to_ascii_uppercase()
                } else {
                    name.to_owned()
                };
                e.push(&name, &format!("v{i}"), next() % 2 == 0);
                for probe in NAMES.iter().chain(&["Absent", "channel"]) {
                    let hash = name_hash(probe);
                    let first = SYSTEM_FIRST.iter().any(|n| n.eq_ignore_ascii_case(probe));
                    assert_eq!(
                        e.get(probe),
                        e.get_scan(probe, hash, first),
                        "round {round}, {probe} after {} fields",
                        i + 1
                    );
                }
            }
        }
    }

    #[test]
    fn an_event_with_more_fields_than_the_table_indexes_is_still_searched() {
        let mut e = FlatEvent::new();
        for i in 0..=MOST_INDEXED {
            e.push(&format!("f{i}"), "x", false);
        }
        e.push("Image", "C:\\Windows\\cmd.exe", false);
        assert!(e.table.is_empty());
        assert_eq!(e.get("image"), Some("C:\\Windows\\cmd.exe"));
        assert_eq!(e.get("f0"), Some("x"));
        e.clear();
        e.push("Image", "a", false);
        assert_eq!(e.get("Image"), Some("a"));
        assert!(!e.table.is_empty());
    }

    #[test]
    fn a_cleared_event_is_empty_and_reusable() {
        let mut e = FlatEvent::new();
        e.push("a", "1", false);
        e.clear();
        assert!(e.is_empty());
        e.push("b", "2", false);
        assert_eq!(e.get("a"), None);
        assert_eq!(e.get("b"), Some("2"));
    }
}
