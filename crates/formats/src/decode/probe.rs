//! Recognising a record's shape from its top-level keys, in one pass that
//! builds no JSON tree (so Windows events are only parsed once more, by
//! their own decoder).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{DecodeError, Shape};

/// What the top level of a record holds.
#[derive(Debug, Default)]
pub(super) struct Probe {
    event: bool,
    winlog: bool,
    /// `Records` or `records` holding an array.
    batch: Option<&'static str>,
}

impl Probe {
    /// Scan the top level of `json`, which must be one JSON object.
    pub(super) fn scan(json: &[u8]) -> Result<Probe, DecodeError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let mut probe = Probe::default();
        let found = TopLevel(&mut probe)
            .deserialize(&mut de)
            .and_then(|kind| de.end().map(|()| kind));
        match found {
            Ok(None) => Ok(probe),
            Ok(Some(kind)) => Err(DecodeError::unrecognised(format!(
                "a record is one JSON object, found {kind}"
            ))),
            Err(e) => Err(DecodeError::json(&e)),
        }
    }

    pub(super) fn windows(&self) -> Option<Shape> {
        if self.event {
            Some(Shape::WindowsEvtx)
        } else if self.winlog {
            Some(Shape::WindowsEcs)
        } else {
            None
        }
    }

    pub(super) fn batch_key(&self) -> Option<&'static str> {
        self.batch
    }
}

/// Visits the top level; returns the kind of value when it is not an object.
struct TopLevel<'p>(&'p mut Probe);

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = Option<&'static str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(key) = map.next_key::<KeyName>()? {
            match key {
                KeyName::Event => {
                    self.0.event |= map.next_value::<ValueKind>()? == ValueKind::Object;
                }
                KeyName::Winlog => {
                    self.0.winlog |= map.next_value::<ValueKind>()? == ValueKind::Object;
                }
                KeyName::Records(k) => {
                    if map.next_value::<ValueKind>()? == ValueKind::Array {
                        self.0.batch = self.0.batch.or(Some(k));
                    }
                }
                KeyName::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Some("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Some("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Some("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some("null"))
    }
}

/// The top-level keys the probe cares about, read without allocating.
enum KeyName {
    Event,
    Winlog,
    Records(&'static str),
    Other,
}

impl<'de> de::Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
                Ok(match v {
                    "Event" => KeyName::Event,
                    "winlog" => KeyName::Winlog,
                    "Records" => KeyName::Records("Records"),
                    "records" => KeyName::Records("records"),
                    _ => KeyName::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Which kind of JSON value a value is; the value itself is skipped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Object,
    Array,
    Other,
}

impl<'de> de::Deserialize<'de> for ValueKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<ValueKind, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ValueKind::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<ValueKind, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ValueKind::Array)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<ValueKind, E> {
                Ok(ValueKind::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ValueKind, E> {
                Ok(ValueKind::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ValueKind, E> {
                Ok(ValueKind::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ValueKind, E> {
                Ok(ValueKind::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ValueKind, E> {
                Ok(ValueKind::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValueKind, E> {
                Ok(ValueKind::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The shape of a parsed record that is not a batch.
pub(super) fn classify(map: &Map<String, Value>) -> Option<Shape> {
    let has = |k: &str| map.contains_key(k);
    let text = |k: &str| map.get(k).and_then(Value::as_str);
    if map.get("Event").is_some_and(Value::is_object) {
        return Some(Shape::WindowsEvtx);
    }
    if map.get("winlog").is_some_and(Value::is_object) {
        return Some(Shape::WindowsEcs);
    }
    if text("type") == Some("device_inventory") {
        return Some(Shape::DeviceInventory);
    }
    if text("type") == Some("identity_inventory") {
        return Some(Shape::IdentityInventory);
    }
    let category = text("category").or_else(|| text("Category"));
    if category.is_some_and(|c| c.to_ascii_lowercase().ends_with("signinlogs")) {
        return Some(Shape::EntraSignIn);
    }
    if has("createdDateTime") && has("userPrincipalName") {
        return Some(Shape::EntraSignIn);
    }
    if has("eventType") && has("published") {
        return Some(Shape::OktaSystemLog);
    }
    if has("eventSource") && has("eventName") && has("eventTime") {
        return Some(Shape::CloudTrail);
    }
    if has("Workload") && has("Operation") && has("CreationTime") {
        return Some(Shape::M365Audit);
    }
    None
}

/// What was looked for, and what was found instead.
pub(super) fn looked_for(map: &Map<String, Value>) -> String {
    let mut keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
    if map.len() > keys.len() {
        keys.push("…");
    }
    let found = if keys.is_empty() {
        "an empty object".to_owned()
    } else {
        format!("keys {}", keys.join(", "))
    };
    format!(
        "found {found}; looked for Event (Windows, evtx_dump), winlog (Windows, Winlogbeat/ECS), \
         Records or records (a batch), type \"device_inventory\" or \"identity_inventory\", category \"SignInLogs\" or \
         createdDateTime with userPrincipalName (Entra ID sign-in), eventType with published \
         (Okta), eventSource with eventName and eventTime (CloudTrail), Workload with Operation \
         and CreationTime (Microsoft 365 audit)"
    )
}

/// Why a value that is not an object is no record.
pub(super) fn not_an_object(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("a record is one JSON object, found {kind}")
}
