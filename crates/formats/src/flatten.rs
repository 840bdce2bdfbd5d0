//! JSON events into [`FlatEvent`]s, in one streaming pass (no JSON tree).
//!
//! The shapes: `evtx_dump`'s `{"Event":{"System":…,"EventData"|"UserData":…}}`
//! and flat or nested objects. The rules, shared with the reference oracle
//! so that results compare like with like:
//!
//! - A leaf is named after the element that holds it; the path is dropped
//!   (`UserData/LogFileCleared/SubjectUserName` → `SubjectUserName`).
//! - `#text` takes its parent's name; each `#attributes` entry becomes a
//!   field named after the attribute, prefixed `Provider_` on a `Provider`
//!   element; `xmlns*` attributes are dropped; `Event`'s own attributes are
//!   ignored.
//! - Whitespace is removed from names (`Threat Name` → `ThreatName`).
//! - `null` is absent; booleans are `true`/`false`; numbers are written back
//!   as serde_json reads them (integers exactly; other numbers in their
//!   shortest round-trip form, so `4624.0` reads as `4624`); a list of scalars is joined with `\n`; a list of objects is walked
//!   element by element.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::{FlatEvent, words};

/// Why a JSON event could not be flattened.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FlattenError(String);

impl FlattenError {
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// Flatten one JSON value (an object) from `json` into `out`, which is
/// cleared first. The common case takes the fast path
/// (`flatten_fast.rs`); what it is unsure of, this parser.
pub fn flatten_json(json: &[u8], out: &mut FlatEvent) -> Result<(), FlattenError> {
    out.clear();
    if crate::flatten_fast::flatten(json, out).is_some() {
        return Ok(());
    }
    flatten_json_reference(json, out)
}

/// [`flatten_json`] by serde's parser alone: the reference the fast path
/// is checked against (its tests and the `flatten_json` fuzz target).
#[doc(hidden)]
pub fn flatten_json_reference(json: &[u8], out: &mut FlatEvent) -> Result<(), FlattenError> {
    out.clear();
    let mut de = serde_json::Deserializer::from_slice(json);
    Root { out }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| FlattenError(e.to_string()))
}

/// Flatten one JSON value held by the element `name` into `out` (which is
/// not cleared), by the rules above: an object's leaves are named after
/// their own elements, a scalar or a list of scalars after `name`. The
/// Winlogbeat decoder uses it so that `winlog.event_data` flattens exactly
/// as `EventData` does.
pub(crate) fn flatten_value(
    json: &str,
    name: &str,
    system: bool,
    out: &mut FlatEvent,
) -> Result<(), FlattenError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let section = if system {
        Section::System
    } else {
        Section::Payload
    };
    Node { out, name, section }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| FlattenError(e.to_string()))
}

/// The scalar `visit_*` methods of a visitor that writes each scalar's text
/// through `self.$sink(|buf| ...)`.
macro_rules! scalar_visits {
    ($sink:ident) => {
        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            self.$sink(|b| b.push_str(v));
            Ok(())
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            self.$sink(|b| b.push_str(if v { "true" } else { "false" }));
            Ok(())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            self.$sink(|b| {
                let _ = write!(b, "{v}");
            });
            Ok(())
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            self.$sink(|b| {
                let _ = write!(b, "{v}");
            });
            Ok(())
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
            self.$sink(|b| {
                let _ = write!(b, "{v}");
            });
            Ok(())
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
    };
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    System,
    Payload,
}

/// The top level: an object, maybe with an `Event` wrapper.
struct Root<'a> {
    out: &'a mut FlatEvent,
}

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (one event)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Event" {
                map.next_value_seed(EventBody { out: self.out })?;
            } else {
                let name = clean_name(&key);
                map.next_value_seed(Node {
                    out: self.out,
                    name: &name,
                    section: Section::Payload,
                })?;
            }
        }
        Ok(())
    }
}

/// The inside of `Event`: `System`, then the payload sections.
struct EventBody<'a> {
    out: &'a mut FlatEvent,
}

impl<'de> DeserializeSeed<'de> for EventBody<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventBody<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "#attributes" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let section = if key == "System" {
                Section::System
            } else {
                Section::Payload
            };
            let name = clean_name(&key);
            map.next_value_seed(Node {
                out: self.out,
                name: &name,
                section,
            })?;
        }
        Ok(())
    }
}

pub(crate) fn clean_name(key: &str) -> Cow<'_, str> {
    // Most names are plain ASCII without a space: no character decoding.
    if is_plain(key.as_bytes()) {
        return Cow::Borrowed(key);
    }
    let plain = |b: &u8| *b < 0x80 && !matches!(b, b' ' | b'\t'..=b'\r');
    if key.as_bytes().iter().all(plain) {
        return Cow::Borrowed(key);
    }
    if key.contains(char::is_whitespace) {
        Cow::Owned(key.chars().filter(|c| !c.is_whitespace()).collect())
    } else {
        Cow::Borrowed(key)
    }
}

/// Whether every byte of `b` is printable ASCII other than the space
/// (0x21 to 0x7f), eight at a time: a byte under 0x21 is marked by
/// [`words::below`], one over 0x7f has its top bit set. (Checking a byte
/// at a time was 7 % of decoding's instructions.)
fn is_plain(b: &[u8]) -> bool {
    let marks = |w: u64| (w & words::HIGH) | words::below(w, 0x21);
    !words::any(b, marks, |c| !(0x21..0x80).contains(&c))
}

/// Any value held by the element `name`.
struct Node<'a, 'n> {
    out: &'a mut FlatEvent,
    name: &'n str,
    section: Section,
}

impl Node<'_, '_> {
    fn leaf(self, write: impl FnOnce(&mut String)) {
        let key = self.out.begin_field(self.name);
        write(self.out.buf_mut());
        self.out.end_field(key, self.section == Section::System);
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!(leaf);

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut joined: Option<String> = None;
        while let Some(()) = seq.next_element_seed(ListItem {
            out: &mut *self.out,
            name: self.name,
            section: self.section,
            joined: &mut joined,
        })? {}
        if let Some(text) = joined {
            self.leaf(|b| b.push_str(&text));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "#text" => map.next_value_seed(Node {
                    out: &mut *self.out,
                    name: self.name,
                    section: self.section,
                })?,
                "#attributes" => map.next_value_seed(Attributes {
                    out: &mut *self.out,
                    provider: self.name == "Provider",
                    section: self.section,
                })?,
                other => {
                    let name = clean_name(other);
                    map.next_value_seed(Node {
                        out: &mut *self.out,
                        name: &name,
                        section: self.section,
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// One element of a list: scalars are joined, objects are walked.
struct ListItem<'a, 'n, 'j> {
    out: &'a mut FlatEvent,
    name: &'n str,
    section: Section,
    joined: &'j mut Option<String>,
}

impl ListItem<'_, '_, '_> {
    fn scalar(self, write: impl FnOnce(&mut String)) {
        let s = self.joined.get_or_insert_with(String::new);
        if !s.is_empty() {
            s.push('\n');
        }
        write(s);
    }
}

impl<'de> DeserializeSeed<'de> for ListItem<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListItem<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list element")
    }

    scalar_visits!(scalar);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Node {
            out: self.out,
            name: self.name,
            section: self.section,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        Node {
            out: self.out,
            name: self.name,
            section: self.section,
        }
        .visit_map(map)
    }
}

/// An `#attributes` object.
struct Attributes<'a> {
    out: &'a mut FlatEvent,
    provider: bool,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for Attributes<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an #attributes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key.starts_with("xmlns") {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let cleaned = clean_name(&key);
            let name: Cow<'_, str> = if self.provider {
                Cow::Owned(format!("Provider_{cleaned}"))
            } else {
                cleaned
            };
            map.next_value_seed(Node {
                out: &mut *self.out,
                name: &name,
                section: self.section,
            })?;
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_plain_exactly_when_every_byte_is_printable_ascii_but_space() {
        let bytewise = |b: &[u8]| b.iter().all(|&c| (0x21..0x80).contains(&c));
        let mut names: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"EventID".to_vec(),
            b"ParentCommandLine".to_vec(),
            "Ünïcode_Field_Name".as_bytes().to_vec(),
        ];
        // Every byte value at every place of a 17-byte name (two words and
        // a remainder), so that borrows between bytes are covered.
        for at in 0..17 {
            for c in 0..=255u8 {
                let mut n = b"TargetObjectValue".to_vec();
                n[at] = c;
                names.push(n);
            }
        }
        for n in &names {
            assert_eq!(is_plain(n), bytewise(n), "{n:?}");
        }
        assert_eq!(clean_name("Target Object"), "TargetObject");
        assert!(matches!(clean_name("TargetObject"), Cow::Borrowed(_)));
        assert!(matches!(clean_name("Ünïcode"), Cow::Borrowed(_)));
    }

    fn flat(json: &str) -> FlatEvent {
        let mut e = FlatEvent::new();
        flatten_json(json.as_bytes(), &mut e).expect("flattens");
        e
    }

    #[test]
    fn evtx_dump_events_flatten_to_leaf_names() {
        let e = flat(
            r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},
            "System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385F}"}},
              "EventID":{"#text":1,"#attributes":{"Qualifiers":0}},"Channel":"Microsoft-Windows-Sysmon/Operational",
              "Computer":"WIN10","EventRecordID":42,"Execution":{"#attributes":{"ProcessID":4,"ThreadID":8}},
              "TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:25.123Z"}},"Security":{"#attributes":{"UserID":"S-1-5-18"}}},
            "EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami","ProcessId":1234,"IsExecutable":true,"Empty":"","Gone":null}}}"##,
        );
        assert_eq!(e.provider(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(e.get("Provider_Guid"), Some("{5770385F}"));
        assert_eq!(e.event_id(), Some(1));
        assert_eq!(e.get("Qualifiers"), Some("0"));
        assert_eq!(e.record_id(), Some(42));
        assert_eq!(e.get("ThreadID"), Some("8"));
        assert_eq!(e.get("UserID"), Some("S-1-5-18"));
        assert_eq!(e.system_time(), Some("2019-03-19T23:34:25.123Z"));
        assert_eq!(e.get("Image"), Some(r"C:\Windows\System32\cmd.exe"));
        assert_eq!(e.get("ProcessId"), Some("1234"), "payload beats System");
        assert_eq!(e.get("IsExecutable"), Some("true"));
        assert_eq!(e.get("Empty"), Some(""));
        assert_eq!(e.get("Gone"), None);
        assert_eq!(e.get("xmlns"), None);
    }

    #[test]
    fn user_data_and_unnamed_data_lists_flatten() {
        let e = flat(
            r##"{"Event":{"System":{"EventID":104,"Channel":"System"},
            "UserData":{"LogFileCleared":{"SubjectUserName":"admin","Channel":"Security"}}}}"##,
        );
        assert_eq!(e.get("SubjectUserName"), Some("admin"));
        assert_eq!(e.channel(), Some("System"), "System's Channel is kept");
        let e = flat(
            r##"{"Event":{"System":{"EventID":400},"EventData":{"Data":{"#text":["a","b",3]}}}}"##,
        );
        assert_eq!(e.get("Data"), Some("a\nb\n3"));
    }

    #[test]
    fn names_lose_their_whitespace() {
        let e =
            flat(r##"{"Event":{"System":{"EventID":1116},"EventData":{"Threat Name":"EICAR"}}}"##);
        assert_eq!(e.get("ThreatName"), Some("EICAR"));
        for (name, clean) in [
            ("Plain_Name1", "Plain_Name1"),
            ("a b\tc\u{b}d\u{c}e\rf\ng", "abcdefg"),
            ("Nom\u{a0}Complet", "NomComplet"),
            ("Größe", "Größe"),
        ] {
            assert_eq!(clean_name(name), clean, "{name:?}");
        }
    }

    #[test]
    fn flat_objects_flatten_nested_fields_by_leaf_name() {
        let e = flat(
            r##"{"EventID":4688,"process":{"name":"cmd.exe","args":["/c","dir"]},"tags":[{"k":"v"}]}"##,
        );
        assert_eq!(e.event_id(), Some(4688));
        assert_eq!(e.get("name"), Some("cmd.exe"));
        assert_eq!(e.get("args"), Some("/c\ndir"));
        assert_eq!(e.get("k"), Some("v"));
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        let mut e = FlatEvent::new();
        for bad in [
            "",
            "[1,2]",
            "{\"a\":",
            "{\"a\":1} trailing",
            "\"text\"",
            "{\"a\":1e999}",
        ] {
            let r = flatten_json(bad.as_bytes(), &mut e);
            assert!(r.is_err(), "{bad:?} should fail");
        }
    }
}
