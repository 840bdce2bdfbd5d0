//! Nested JSON records (the cloud and identity shapes) as dotted field
//! names, the way SigmaHQ's cloud rules name them (`userIdentity.arn`,
//! `outcome.result`, `requestParameters.bucketName`).
//!
//! - A scalar is named by its path; `null` is absent; booleans are
//!   `true`/`false`; numbers are written as JSON writes them.
//! - An object below the top level is also a field of its own, holding its
//!   compact JSON text, so that rules such as `requestParameters|contains`
//!   see the whole of it; an empty object is `{}`.
//! - An array's elements are each a field under the array's own path (no
//!   index), so `target.displayName` occurs once per target
//!   ([`FlatEvent::get_all`] lists them); an empty array is `[]`.
//! - Past [`MAX_DEPTH`] levels a value is kept whole as JSON text.

use serde_json::{Map, Value};

use crate::FlatEvent;

/// Levels of nesting flattened into names; deeper values stay JSON text.
pub(super) const MAX_DEPTH: usize = 16;

/// Fields under construction: names may repeat (array elements).
#[derive(Debug, Default)]
pub(super) struct Fields {
    items: Vec<(String, String)>,
}

impl Fields {
    pub(super) fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.items.push((name.into(), value.into()));
    }

    /// The last value of `name` (case-insensitive).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every value of `name` (case-insensitive), in order.
    #[cfg(test)]
    pub(super) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.items
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Remove every field named `name` (case-insensitive).
    pub(super) fn remove(&mut self, name: &str) {
        self.items.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Replace every field named `name` by one with `value`.
    pub(super) fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.push(name, value);
    }

    /// Add `name` unless some field already has that name.
    pub(super) fn set_if_absent(&mut self, name: &str, value: impl Into<String>) {
        if !self.has(name) {
            self.push(name, value);
        }
    }

    /// Copy every field under `from.` to `to.` (and `from` itself to `to`),
    /// unless the target name is taken.
    pub(super) fn alias_prefix(&mut self, from: &str, to: &str) {
        let mut copies = Vec::new();
        for (n, v) in &self.items {
            let rest = match (n.get(..from.len()), n.get(from.len()..)) {
                (Some(head), Some(rest))
                    if head.eq_ignore_ascii_case(from)
                        && (rest.is_empty() || rest.starts_with('.')) =>
                {
                    Some(rest)
                }
                _ => None,
            };
            if let Some(rest) = rest {
                copies.push((format!("{to}{rest}"), v.clone()));
            }
        }
        for (n, v) in copies {
            self.set_if_absent(&n, v);
        }
    }

    /// Flatten every entry of `map` under `prefix` (`""` for the top level).
    pub(super) fn flatten_object(&mut self, prefix: &str, map: &Map<String, Value>, depth: usize) {
        for (k, v) in map {
            let name = join(prefix, k);
            self.flatten(&name, v, depth + 1);
        }
    }

    /// Flatten `value` under the name `name`.
    pub(super) fn flatten(&mut self, name: &str, value: &Value, depth: usize) {
        if depth > MAX_DEPTH && (value.is_object() || value.is_array()) {
            self.push(name, value.to_string());
            return;
        }
        match value {
            Value::Null => {}
            Value::Bool(b) => self.push(name, if *b { "true" } else { "false" }),
            Value::Number(n) => self.push(name, n.to_string()),
            Value::String(s) => self.push(name, s.as_str()),
            Value::Object(map) => {
                self.push(name, value.to_string());
                self.flatten_object(name, map, depth);
            }
            Value::Array(items) if items.is_empty() => self.push(name, "[]"),
            Value::Array(items) => {
                for item in items {
                    self.flatten(name, item, depth + 1);
                }
            }
        }
    }

    /// The fields as one event (all payload, none `System`).
    pub(super) fn into_event(self) -> FlatEvent {
        let mut event = FlatEvent::new();
        for (n, v) in &self.items {
            event.push(n, v, false);
        }
        event
    }
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A scalar as text (`None` for null, objects and arrays).
pub(super) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What kind of JSON value this is, for messages.
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks on the fields of one record, each failure naming the field.
pub(super) struct Check<'a> {
    pub(super) map: &'a Map<String, Value>,
    /// Path of `map` inside the record, for messages (`""` at the top).
    pub(super) path: &'a str,
}

impl<'a> Check<'a> {
    pub(super) fn new(map: &'a Map<String, Value>) -> Self {
        Check { map, path: "" }
    }

    fn name(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// A required string.
    pub(super) fn string(&self, key: &str) -> Result<&'a str, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Err(format!("{} is missing", self.name(key))),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(format!(
                "{} is not a string but {}",
                self.name(key),
                kind_of(v)
            )),
        }
    }

    /// An optional string.
    pub(super) fn opt_string(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(format!(
                "{} is not a string but {}",
                self.name(key),
                kind_of(v)
            )),
        }
    }

    /// An optional string or number, as text.
    pub(super) fn opt_scalar(&self, key: &str) -> Result<Option<String>, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => Ok(scalar_text(v)),
            Some(v) => Err(format!(
                "{} is not text or a number but {}",
                self.name(key),
                kind_of(v)
            )),
        }
    }

    /// An optional object.
    pub(super) fn opt_object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(v) => Err(format!(
                "{} is not an object but {}",
                self.name(key),
                kind_of(v)
            )),
        }
    }

    /// An optional array.
    pub(super) fn opt_array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err(format!(
                "{} is not an array but {}",
                self.name(key),
                kind_of(v)
            )),
        }
    }

    /// An optional boolean (`true`/`false`, also as strings).
    pub(super) fn opt_bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(format!(
                "{} is not a boolean but {}",
                self.name(key),
                kind_of(v)
            )),
        }
    }

    /// The object under `key` checked in its turn.
    pub(super) fn child(&self, key: &str, path: &'a str) -> Result<Option<Check<'a>>, String> {
        Ok(self.opt_object(key)?.map(|map| Check { map, path }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(json: &str) -> Fields {
        let v: Value = serde_json::from_str(json).expect("json");
        let mut f = Fields::default();
        if let Value::Object(m) = &v {
            f.flatten_object("", m, 0);
        }
        f
    }

    #[test]
    fn nested_objects_become_dotted_names_and_keep_their_json_text() {
        let f = flat(r#"{"a":{"b":{"c":1,"d":null,"e":true}},"x":"y"}"#);
        assert_eq!(f.get("a.b.c"), Some("1"));
        assert_eq!(f.get("a.b.d"), None);
        assert_eq!(f.get("A.B.E"), Some("true"));
        assert_eq!(f.get("a.b"), Some(r#"{"c":1,"d":null,"e":true}"#));
        assert_eq!(f.get("x"), Some("y"));
    }

    #[test]
    fn array_elements_share_the_array_name_and_empty_containers_are_their_json() {
        let f = flat(r#"{"t":[{"n":"a"},{"n":"b"}],"l":["p","q"],"e":[],"o":{}}"#);
        assert_eq!(f.all("t.n").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(f.all("l").collect::<Vec<_>>(), ["p", "q"]);
        assert_eq!(f.get("e"), Some("[]"));
        assert_eq!(f.get("o"), Some("{}"));
    }

    #[test]
    fn values_deeper_than_the_limit_stay_json_text() {
        let mut json = String::from("1");
        for _ in 0..40 {
            json = format!(r#"{{"k":{json}}}"#);
        }
        let f = flat(&json);
        let deepest = f
            .items
            .iter()
            .map(|(n, _)| n.split('.').count())
            .max()
            .unwrap_or(0);
        assert_eq!(deepest, MAX_DEPTH + 1, "names stop growing at the limit");
    }

    #[test]
    fn aliasing_a_prefix_of_names_with_multibyte_characters_does_not_panic() {
        // Found by the decode_record fuzz target.
        let mut f = flat(r#"{"UseA1=4B9A2D1C0Eйʾ":1,"locatioй":2,"location.x":3}"#);
        f.alias_prefix("UseA1=4B9A2D1C0Eй", "x");
        f.alias_prefix("location", "LocationDetails");
        assert_eq!(f.get("LocationDetails.x"), Some("3"));
        assert_eq!(f.get("x"), None);
    }

    #[test]
    fn prefixes_are_aliased_without_overwriting() {
        let mut f = flat(r#"{"location":{"city":"Oslo"},"LocationDetails":{"state":"x"}}"#);
        f.alias_prefix("location", "LocationDetails");
        assert_eq!(f.get("LocationDetails.city"), Some("Oslo"));
        assert_eq!(f.get("LocationDetails"), Some(r#"{"state":"x"}"#));
    }
}
