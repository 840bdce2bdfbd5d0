//! Windows events in two shapes, decoded to the same fields.
//!
//! `evtx_dump`'s `{"Event":{"System":…,"EventData":…}}` goes through
//! [`flatten_json`] unchanged, so fields are those `vigil scan` sees.
//! Winlogbeat's and Elastic Agent's ECS documents are mapped onto the same
//! names: `winlog.*` onto the `System` fields, `winlog.event_data` and
//! `winlog.user_data` flattened exactly as `EventData` and `UserData` are,
//! Winlogbeat's `param1`…`paramN` also joined into `Data` (Winlogbeat
//! names unnamed `<Data>` elements so, and `evtx_dump` calls them `Data`;
//! as a provider may also name its data `param1`, both are kept), and `log.level`'s name back into `Level`'s number. ECS fields
//! outside `winlog` (`host.*`, `process.*`, `message`, …) are not fields:
//! Sigma's Windows rules do not use them; `host.name` names the device
//! when `winlog.computer_name` is absent.
//!
//! Both paths parse the record once without building a JSON tree.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::entity::Entities;
use super::{DecodeError, Decoded, Shape, logsource, time};
use crate::flatten::{clean_name, flatten_value};
use crate::{FlatEvent, WindowsClassifier, flatten_json};

fn classifier() -> &'static WindowsClassifier {
    static C: OnceLock<WindowsClassifier> = OnceLock::new();
    C.get_or_init(WindowsClassifier::builtin)
}

/// An `evtx_dump`-shaped record.
pub(super) fn decode_evtx(json: &[u8]) -> Result<Decoded, DecodeError> {
    // Flattened, a record's names and values take less room than its
    // JSON; a field takes about 50 bytes of it.
    let mut event = FlatEvent::with_capacity(json.len(), json.len() / 48 + 8);
    flatten_json(json, &mut event)
        .map_err(|e| DecodeError::invalid(Shape::WindowsEvtx, e.message()))?;
    Ok(finish(Shape::WindowsEvtx, event, None))
}

/// The logsource, time and entities of a flattened Windows event.
fn finish(shape: Shape, event: FlatEvent, host_name: Option<&str>) -> Decoded {
    let service = event.channel().and_then(|c| classifier().service_of(c));
    let time = event.system_time().and_then(time::normalise);
    let mut entities = windows_entities(&event);
    if event.computer().is_none()
        && let Some(host) = host_name
    {
        entities.device(host);
    }
    Decoded {
        shape,
        logsource: logsource("windows", service),
        time,
        entities: entities.into_vec(),
        event,
    }
}

/// The entities of a Windows event, by its field names.
fn windows_entities(e: &FlatEvent) -> Entities {
    let mut out = Entities::default();
    for f in ["Computer", "Hostname", "WorkstationName"] {
        if let Some(v) = e.get(f) {
            out.device(v.trim_start_matches('\\'));
        }
    }
    for (name, domain) in [
        ("TargetUserName", "TargetDomainName"),
        ("SubjectUserName", "SubjectDomainName"),
        ("User", ""),
        ("AccountName", "AccountDomain"),
    ] {
        if let Some(v) = e.get(name) {
            out.user(e.get(domain), v);
        }
    }
    for f in [
        "IpAddress",
        "SourceIp",
        "DestinationIp",
        "SourceAddress",
        "DestAddress",
        "ClientAddress",
    ] {
        if let Some(v) = e.get(f) {
            out.ip(v);
        }
    }
    for f in [
        "Image",
        "NewProcessName",
        "ParentImage",
        "ProcessName",
        "ParentProcessName",
        "SourceImage",
        "TargetImage",
    ] {
        if let Some(v) = e.get(f) {
            out.process(v);
        }
    }
    for f in ["TargetFilename", "ImageLoaded"] {
        if let Some(v) = e.get(f) {
            out.file(v);
        }
    }
    for f in ["Hashes", "Hash"] {
        if let Some(v) = e.get(f) {
            out.hashes(v);
        }
    }
    for f in ["DestinationHostname", "QueryName"] {
        if let Some(v) = e.get(f) {
            out.domain(v);
        }
    }
    out
}

/// A Winlogbeat / Elastic Agent document, its values left unparsed.
#[derive(Deserialize)]
struct EcsDoc<'a> {
    #[serde(rename = "@timestamp", borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    winlog: Option<&'a RawValue>,
    #[serde(borrow)]
    host: Option<&'a RawValue>,
    #[serde(borrow)]
    log: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Winlog<'a> {
    #[serde(borrow)]
    channel: Option<&'a RawValue>,
    #[serde(borrow)]
    event_id: Option<&'a RawValue>,
    #[serde(borrow)]
    computer_name: Option<&'a RawValue>,
    #[serde(borrow)]
    record_id: Option<&'a RawValue>,
    #[serde(borrow)]
    provider_name: Option<&'a RawValue>,
    #[serde(borrow)]
    provider_guid: Option<&'a RawValue>,
    #[serde(borrow)]
    version: Option<&'a RawValue>,
    #[serde(borrow)]
    task: Option<&'a RawValue>,
    #[serde(borrow)]
    opcode: Option<&'a RawValue>,
    #[serde(borrow)]
    keywords: Option<&'a RawValue>,
    #[serde(borrow)]
    activity_id: Option<&'a RawValue>,
    #[serde(borrow)]
    related_activity_id: Option<&'a RawValue>,
    #[serde(borrow)]
    process: Option<&'a RawValue>,
    #[serde(borrow)]
    user: Option<&'a RawValue>,
    #[serde(borrow)]
    event_data: Option<&'a RawValue>,
    #[serde(borrow)]
    user_data: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct WinlogProcess<'a> {
    #[serde(borrow)]
    pid: Option<&'a RawValue>,
    #[serde(borrow)]
    thread: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct WithId<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct WithIdentifier<'a> {
    #[serde(borrow)]
    identifier: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct WithName<'a> {
    #[serde(borrow)]
    name: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct WithLevel<'a> {
    #[serde(borrow)]
    level: Option<&'a RawValue>,
}

fn bad(problem: impl Into<String>) -> DecodeError {
    DecodeError::invalid(Shape::WindowsEcs, problem)
}

/// An object field of the document, parsed into `T`, or a message naming
/// `path` when it is not an object.
fn object<'a, T: Deserialize<'a> + Default>(
    raw: Option<&'a RawValue>,
    path: &str,
) -> Result<T, DecodeError> {
    match raw {
        None => Ok(T::default()),
        Some(r) if r.get() == "null" => Ok(T::default()),
        Some(r) if r.get().starts_with('{') => {
            serde_json::from_str(r.get()).map_err(|e| bad(format!("{path}: {e}")))
        }
        Some(r) => Err(bad(format!(
            "{path} is not an object but {}",
            raw_kind(r.get())
        ))),
    }
}

fn raw_kind(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// A scalar as the flattener writes it (strings as they are, numbers as
/// serde_json reads them); `None` for null.
fn scalar<'a>(raw: &'a RawValue, path: &str) -> Result<Option<Cow<'a, str>>, DecodeError> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<&str>(text)
            .map(Cow::Borrowed)
            .or_else(|_| serde_json::from_str::<String>(text).map(Cow::Owned))
            .map(Some)
            .map_err(|e| bad(format!("{path}: {e}"))),
        Some(b'n') => Ok(None),
        Some(b't' | b'f') => Ok(Some(Cow::Borrowed(text))),
        Some(b'{' | b'[') => Err(bad(format!(
            "{path} is not text or a number but {}",
            raw_kind(text)
        ))),
        _ => number_text(text)
            .map(Some)
            .ok_or_else(|| bad(format!("{path} is not a JSON value: {text}"))),
    }
}

/// A JSON number as the flattener writes it: integers as written, other
/// numbers in their shortest round-trip form (`4624.0` reads as `4624`).
fn number_text(text: &str) -> Option<Cow<'_, str>> {
    if let Ok(n) = text.parse::<u64>() {
        return Some(if n.to_string() == text {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(n.to_string())
        });
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(Cow::Owned(n.to_string()));
    }
    let f: f64 = serde_json::from_str(text).ok()?;
    Some(Cow::Owned(format!("{f}")))
}

fn push_system(
    event: &mut FlatEvent,
    name: &str,
    raw: Option<&RawValue>,
    path: &str,
) -> Result<(), DecodeError> {
    if let Some(raw) = raw {
        if raw.get().starts_with('[') {
            // Winlogbeat's keywords: a list of names, joined as lists are.
            flatten_value(raw.get(), name, true, event).map_err(|e| bad(format!("{path}: {e}")))?;
        } else if let Some(v) = scalar(raw, path)? {
            event.push(name, &v, true);
        }
    }
    Ok(())
}

/// `log.level` as Winlogbeat writes it (the level's name) back to the
/// number `evtx_dump` gives (0, LogAlways, also reads as information).
fn level_number(name: &str) -> Cow<'_, str> {
    let n = match name.to_ascii_lowercase().as_str() {
        "critical" => "1",
        "error" => "2",
        "warning" => "3",
        "information" | "info" => "4",
        "verbose" => "5",
        _ => return Cow::Borrowed(name),
    };
    Cow::Borrowed(n)
}

/// A Winlogbeat / Elastic Agent (ECS) record.
pub(super) fn decode_ecs(json: &[u8]) -> Result<Decoded, DecodeError> {
    let doc: EcsDoc<'_> = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    let winlog: Winlog<'_> = object(doc.winlog, "winlog")?;
    let Some(event_id) = winlog.event_id else {
        return Err(bad("winlog.event_id is missing"));
    };
    let mut event = FlatEvent::new();
    let e = &mut event;
    push_system(
        e,
        "Provider_Name",
        winlog.provider_name,
        "winlog.provider_name",
    )?;
    push_system(
        e,
        "Provider_Guid",
        winlog.provider_guid,
        "winlog.provider_guid",
    )?;
    push_system(e, "EventID", Some(event_id), "winlog.event_id")?;
    if e.event_id().is_none() {
        return Err(bad(format!(
            "winlog.event_id is not an event id: {}",
            event_id.get()
        )));
    }
    push_system(e, "Version", winlog.version, "winlog.version")?;
    let log: WithLevel<'_> = object(doc.log, "log")?;
    if let Some(raw) = log.level
        && let Some(name) = scalar(raw, "log.level")?
    {
        e.push("Level", &level_number(&name), true);
    }
    push_system(e, "Task", winlog.task, "winlog.task")?;
    push_system(e, "Opcode", winlog.opcode, "winlog.opcode")?;
    push_system(e, "Keywords", winlog.keywords, "winlog.keywords")?;
    push_system(e, "SystemTime", doc.timestamp, "@timestamp")?;
    push_system(e, "EventRecordID", winlog.record_id, "winlog.record_id")?;
    push_system(e, "ActivityID", winlog.activity_id, "winlog.activity_id")?;
    push_system(
        e,
        "RelatedActivityID",
        winlog.related_activity_id,
        "winlog.related_activity_id",
    )?;
    let process: WinlogProcess<'_> = object(winlog.process, "winlog.process")?;
    push_system(e, "ProcessID", process.pid, "winlog.process.pid")?;
    let thread: WithId<'_> = object(process.thread, "winlog.process.thread")?;
    push_system(e, "ThreadID", thread.id, "winlog.process.thread.id")?;
    push_system(e, "Channel", winlog.channel, "winlog.channel")?;
    push_system(e, "Computer", winlog.computer_name, "winlog.computer_name")?;
    let user: WithIdentifier<'_> = object(winlog.user, "winlog.user")?;
    push_system(e, "UserID", user.identifier, "winlog.user.identifier")?;
    if let Some(raw) = winlog.event_data {
        payload(e, raw, "EventData", "winlog.event_data")?;
    }
    if let Some(raw) = winlog.user_data {
        payload(e, raw, "UserData", "winlog.user_data")?;
    }
    let host: WithName<'_> = object(doc.host, "host")?;
    let host_name = match host.name {
        Some(raw) => scalar(raw, "host.name")?,
        None => None,
    };
    Ok(finish(Shape::WindowsEcs, event, host_name.as_deref()))
}

/// `winlog.event_data` or `winlog.user_data`, flattened as `evtx_dump`'s
/// `EventData` / `UserData` element `name` is.
fn payload(out: &mut FlatEvent, raw: &RawValue, name: &str, path: &str) -> Result<(), DecodeError> {
    if !raw.get().starts_with('{') {
        return flatten_value(raw.get(), name, false, out).map_err(|e| bad(format!("{path}: {e}")));
    }
    let entries: Entries<'_> =
        serde_json::from_str(raw.get()).map_err(|e| bad(format!("{path}: {e}")))?;
    let mut params: Vec<(u32, &RawValue)> = Vec::new();
    let mut has_data = false;
    for (key, value) in &entries.0 {
        if let Some(n) = key
            .strip_prefix("param")
            .and_then(|n| n.parse::<u32>().ok())
        {
            params.push((n, value));
        }
        has_data |= key.eq_ignore_ascii_case("Data");
        if key == "xml_name" && name == "UserData" {
            continue;
        }
        if key == "#attributes" || key == "#text" {
            // XML attributes and text of the element itself, as evtx_dump
            // writes them: flattened as the element's own.
            let wrapped = format!("{{\"{key}\":{}}}", value.get());
            flatten_value(&wrapped, name, false, out)
                .map_err(|e| bad(format!("{path}.{key}: {e}")))?;
            continue;
        }
        flatten_value(value.get(), &clean_name(key), false, out)
            .map_err(|e| bad(format!("{path}.{key}: {e}")))?;
    }
    if !params.is_empty() && !has_data {
        params.sort_by_key(|(n, _)| *n);
        let mut joined = String::new();
        let mut any = false;
        for (n, raw) in params {
            if let Some(text) = scalar(raw, &format!("{path}.param{n}"))? {
                if any {
                    joined.push('\n');
                }
                joined.push_str(&text);
                any = true;
            }
        }
        if any {
            out.push("Data", &joined, false);
        }
    }
    Ok(())
}

/// An object's entries in order, values unparsed.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    out.push((key.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A key, borrowed from the input unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}
