//! One pass over an event's fields for what routing and evaluation ask
//! most: its channel and EventID, and whether it has a field of a given
//! name at all (most lookups of rule fields are for fields the event does
//! not have, and `FlatEvent::get` scans every field to say so). It reads
//! field names' hashes only, and values of the two fields it looks for.

use vigil_formats::{FlatEvent, name_hash};

/// Bits of the name filter.
const BITS: u32 = 1024;

/// What one pass over an event's fields found.
#[derive(Debug, Clone)]
pub struct EventIndex<'a> {
    /// Bit `hash % BITS` set for the name hash of every field.
    names: [u64; (BITS / 64) as usize],
    channel: Lookup<'a>,
    event_id: Lookup<'a>,
}

/// A field's value as far as one pass can tell.
#[derive(Debug, Clone, Copy)]
enum Lookup<'a> {
    Absent,
    Once(&'a str),
    /// More than one field has the name: `FlatEvent::get` decides (its
    /// rules on `System` against payload values apply).
    Ambiguous,
}

impl<'a> Lookup<'a> {
    /// One more field of the name, valued `v`.
    #[inline]
    fn add(&mut self, v: &'a str) {
        *self = match self {
            Lookup::Absent => Lookup::Once(v),
            _ => Lookup::Ambiguous,
        };
    }

    fn resolve(self, event: &'a FlatEvent, name: &str) -> Option<&'a str> {
        match self {
            Lookup::Absent => None,
            Lookup::Once(v) => Some(v),
            Lookup::Ambiguous => event.get(name),
        }
    }
}

impl<'a> EventIndex<'a> {
    pub fn new(event: &'a FlatEvent) -> Self {
        const CHANNEL: u32 = name_hash("Channel");
        const EVENT_ID: u32 = name_hash("EventID");
        let mut index = EventIndex {
            names: [0; (BITS / 64) as usize],
            channel: Lookup::Absent,
            event_id: Lookup::Absent,
        };
        for entry in event.entries() {
            // Values are read only for the two names it looks for: the
            // others may not be needed at all (their bytes stay unread).
            let hash = entry.hash();
            let bit = hash % BITS;
            index.names[(bit / 64) as usize] |= 1 << (bit % 64);
            if hash == CHANNEL && entry.name().eq_ignore_ascii_case("Channel") {
                index.channel.add(entry.value());
            } else if hash == EVENT_ID && entry.name().eq_ignore_ascii_case("EventID") {
                index.event_id.add(entry.value());
            }
        }
        index
    }

    /// False when the event has no field named `name` (whose
    /// [`name_hash`] is `hash`); true when it may have one.
    pub fn may_have(&self, hash: u32) -> bool {
        let bit = hash % BITS;
        self.names[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// [`FlatEvent::channel`].
    pub fn channel(&self, event: &'a FlatEvent) -> Option<&'a str> {
        self.channel.resolve(event, "Channel")
    }

    /// [`FlatEvent::event_id`].
    pub fn event_id(&self, event: &'a FlatEvent) -> Option<u32> {
        match self.event_id {
            Lookup::Absent => None,
            Lookup::Once(text) => parse_event_id(text),
            Lookup::Ambiguous => event.event_id(),
        }
    }
}

/// An EventID as `FlatEvent::event_id` reads one: an integer, or a
/// number with no fractional part (`4624.0`).
fn parse_event_id(text: &str) -> Option<u32> {
    let text = text.trim();
    text.parse().ok().or_else(|| {
        let f: f64 = text.parse().ok()?;
        (f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f)).then_some(f as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(pairs: &[(&str, &str, bool)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (k, v, system) in pairs {
            e.push(k, v, *system);
        }
        e
    }

    #[test]
    fn channel_and_event_id_are_those_the_event_reports() {
        let cases = [
            event(&[("Channel", "Security", true), ("EventID", "4624", true)]),
            event(&[("channel", "System", true), ("EVENTID", " 104.0 ", true)]),
            event(&[
                ("Channel", "System", true),
                ("EventID", "7", true),
                ("Channel", "Other", false),
                ("EventID", "8", false),
            ]),
            event(&[("EventID", "x", true)]),
            event(&[("EventID", "4294967296", true)]),
            event(&[("Image", "a", false)]),
        ];
        for e in &cases {
            let index = EventIndex::new(e);
            assert_eq!(index.channel(e), e.channel(), "{e:?}");
            assert_eq!(index.event_id(e), e.event_id(), "{e:?}");
        }
    }

    #[test]
    fn a_name_the_event_lacks_is_ruled_out() {
        let e = event(&[("Image", "a", false), ("CommandLine", "b", false)]);
        let index = EventIndex::new(&e);
        use vigil_formats::name_hash;
        assert!(index.may_have(name_hash("image")));
        assert!(index.may_have(name_hash("COMMANDLINE")));
        let absent = ["OriginalFileName", "ParentImage", "User", "Hashes"];
        assert!(absent.iter().any(|n| !index.may_have(name_hash(n))));
    }
}
