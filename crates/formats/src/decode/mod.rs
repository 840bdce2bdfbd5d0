//! Telemetry records as shippers send them, decoded into [`Decoded`] events:
//! the record's shape, its Sigma logsource, its own time, its fields as the
//! Sigma rules for that logsource name them, and its entities.
//!
//! One record is one JSON object. Its shape is recognised from its
//! top-level keys, checked in this order (see `docs/formats/README.md`):
//!
//! | keys                                          | shape                      |
//! |-----------------------------------------------|----------------------------|
//! | `Event`                                       | [`Shape::WindowsEvtx`]     |
//! | `winlog`                                      | [`Shape::WindowsEcs`]      |
//! | `Records` or `records` (an array)             | a batch: each element alone|
//! | `type` = `"device_inventory"`                 | [`Shape::DeviceInventory`] |
//! | `type` = `"identity_inventory"`               | [`Shape::IdentityInventory`] |
//! | `category` ending in `SignInLogs`             | [`Shape::EntraSignIn`]     |
//! | `createdDateTime` and `userPrincipalName`     | [`Shape::EntraSignIn`]     |
//! | `eventType` and `published`                   | [`Shape::OktaSystemLog`]   |
//! | `eventSource`, `eventName` and `eventTime`    | [`Shape::CloudTrail`]      |
//! | `Workload`, `Operation` and `CreationTime`    | [`Shape::M365Audit`]       |
//!
//! Pure: no IO, no clock. Bad input is a [`DecodeError`] naming the shape,
//! the record and the field, never a panic.

mod cloudtrail;
mod entity;
mod entra;
mod fields;
mod identity_inventory;
mod inventory;
mod m365;
mod okta;
mod probe;
mod time;
mod windows;

use std::fmt;

use serde_json::Value;

pub use entity::{Entity, EntityKind};

use crate::{FlatEvent, LogSource};
use probe::Probe;

/// The record shapes Vigil decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// Windows events as `evtx_dump` writes them: `{"Event":{"System":…}}`.
    WindowsEvtx,
    /// Windows events as Winlogbeat and Elastic Agent ship them (ECS).
    WindowsEcs,
    /// Entra ID (Azure AD) sign-in logs: diagnostic-settings export,
    /// Log Analytics rows, or Microsoft Graph `signIn` resources.
    EntraSignIn,
    /// Okta System Log events.
    OktaSystemLog,
    /// AWS CloudTrail records.
    CloudTrail,
    /// Microsoft 365 unified audit log records.
    M365Audit,
    /// Vigil's device inventory and posture snapshot.
    DeviceInventory,
    /// Vigil's identity inventory and posture snapshot.
    IdentityInventory,
}

impl Shape {
    pub const ALL: [Shape; 8] = [
        Shape::WindowsEvtx,
        Shape::WindowsEcs,
        Shape::EntraSignIn,
        Shape::OktaSystemLog,
        Shape::CloudTrail,
        Shape::M365Audit,
        Shape::DeviceInventory,
        Shape::IdentityInventory,
    ];

    /// A stable machine name (`windows_evtx`, `cloudtrail`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Shape::WindowsEvtx => "windows_evtx",
            Shape::WindowsEcs => "windows_ecs",
            Shape::EntraSignIn => "entra_signin",
            Shape::OktaSystemLog => "okta_system_log",
            Shape::CloudTrail => "cloudtrail",
            Shape::M365Audit => "m365_audit",
            Shape::DeviceInventory => "device_inventory",
            Shape::IdentityInventory => "identity_inventory",
        }
    }

    /// How messages name the shape.
    pub const fn label(self) -> &'static str {
        match self {
            Shape::WindowsEvtx => "Windows event (evtx_dump)",
            Shape::WindowsEcs => "Windows event (Winlogbeat/ECS)",
            Shape::EntraSignIn => "Entra ID sign-in",
            Shape::OktaSystemLog => "Okta System Log event",
            Shape::CloudTrail => "CloudTrail",
            Shape::M365Audit => "Microsoft 365 audit record",
            Shape::DeviceInventory => "device inventory",
            Shape::IdentityInventory => "identity inventory",
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub shape: Shape,
    /// The logsource that Sigma rules for this data name.
    pub logsource: LogSource,
    /// The event's own time, RFC 3339 in UTC with microseconds
    /// (`2026-11-27T07:00:00.123000Z`, so that text order is time order);
    /// `None` when the record has none or it does not parse (Windows only:
    /// the other shapes require theirs).
    pub time: Option<String>,
    /// The fields, named as the Sigma rules for `logsource` name them.
    pub event: FlatEvent,
    /// Each entity once, normalised.
    pub entities: Vec<Entity>,
}

/// What kind of failure a [`DecodeError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The bytes are not one JSON value.
    Json,
    /// A JSON value, but not a record of any shape Vigil decodes.
    Unrecognised,
    /// A record of a known shape with a missing or ill-typed field.
    Invalid,
}

/// Why a record could not be decoded: the shape (when recognised), the
/// position in a `Records` batch (when in one) and what is wrong where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    shape: Option<Shape>,
    /// The batch key (`Records`/`records`) and the 0-based index in it.
    position: Option<(&'static str, usize)>,
    problem: String,
}

impl DecodeError {
    fn json(e: &serde_json::Error) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Json,
            shape: None,
            position: None,
            problem: e.to_string(),
        }
    }

    fn unrecognised(problem: String) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Unrecognised,
            shape: None,
            position: None,
            problem,
        }
    }

    pub(crate) fn invalid(shape: Shape, problem: impl Into<String>) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Invalid,
            shape: Some(shape),
            position: None,
            problem: problem.into(),
        }
    }

    fn at(mut self, key: &'static str, index: usize) -> Self {
        self.position = Some((key, index));
        self
    }

    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The shape the record was recognised as, if it was.
    pub fn shape(&self) -> Option<Shape> {
        self.shape
    }

    /// The 0-based index of the record in its `Records` batch.
    pub fn index(&self) -> Option<usize> {
        self.position.map(|(_, i)| i)
    }

    /// What is wrong, without the shape and position.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = String::new();
        if let Some(shape) = self.shape {
            prefix.push_str(shape.label());
        }
        if let Some((key, index)) = self.position {
            if !prefix.is_empty() {
                prefix.push(' ');
            }
            prefix.push_str(&format!("{key}[{index}]"));
        }
        if !prefix.is_empty() {
            write!(f, "{prefix}: ")?;
        }
        match self.kind {
            DecodeErrorKind::Json => write!(f, "not valid JSON: {}", self.problem),
            DecodeErrorKind::Unrecognised => {
                write!(f, "unrecognised event shape: {}", self.problem)
            }
            DecodeErrorKind::Invalid => f.write_str(&self.problem),
        }
    }
}

/// Decode one shipped record (one JSON object). A batch
/// (`{"Records":[…]}`) yields one event per element; any bad element fails
/// the whole record (see [`decode_records`] to keep the good ones).
pub fn decode_record(json: &[u8]) -> Result<Vec<Decoded>, DecodeError> {
    decode_records(json)?.into_iter().collect()
}

/// Decode one shipped record, each element of a batch on its own: the
/// outer error is for a record that is not JSON or of no known shape, the
/// inner ones for single elements of a batch.
pub fn decode_records(json: &[u8]) -> Result<Vec<Result<Decoded, DecodeError>>, DecodeError> {
    // The hot path: evtx_dump's records start with their `Event` key.
    if json.starts_with(br#"{"Event":"#) {
        return Ok(vec![windows::decode_evtx(json)]);
    }
    let probe = Probe::scan(json)?;
    match probe.windows() {
        Some(Shape::WindowsEvtx) => return Ok(vec![windows::decode_evtx(json)]),
        Some(_) => return Ok(vec![windows::decode_ecs(json)]),
        None => {}
    }
    let value: Value = serde_json::from_slice(json).map_err(|e| DecodeError::json(&e))?;
    decode_value_records(&value, probe.batch_key())
}

/// [`decode_record`] for a record already parsed (an Elasticsearch bulk
/// document, a Splunk HEC `event`).
pub fn decode_value(value: &Value) -> Result<Vec<Decoded>, DecodeError> {
    let Value::Object(map) = value else {
        return Err(DecodeError::unrecognised(probe::not_an_object(value)));
    };
    if map.contains_key("Event") || map.contains_key("winlog") {
        let bytes = serde_json::to_vec(value).map_err(|e| DecodeError::json(&e))?;
        return decode_record(&bytes);
    }
    let batch = ["Records", "records"]
        .into_iter()
        .find(|k| map.get(*k).is_some_and(Value::is_array));
    decode_value_records(value, batch)?.into_iter().collect()
}

fn decode_value_records(
    value: &Value,
    batch: Option<&'static str>,
) -> Result<Vec<Result<Decoded, DecodeError>>, DecodeError> {
    if let Some(key) = batch
        && let Some(Value::Array(items)) = value.get(key)
    {
        let decoded = items
            .iter()
            .enumerate()
            .map(|(i, item)| decode_one(item).map_err(|e| e.at(key, i)))
            .collect();
        return Ok(decoded);
    }
    Ok(vec![decode_one(value)])
}

/// One record of a non-Windows shape.
fn decode_one(value: &Value) -> Result<Decoded, DecodeError> {
    let Value::Object(map) = value else {
        return Err(DecodeError::unrecognised(probe::not_an_object(value)));
    };
    match probe::classify(map) {
        Some(Shape::DeviceInventory) => inventory::decode(map),
        Some(Shape::IdentityInventory) => identity_inventory::decode(map),
        Some(Shape::EntraSignIn) => entra::decode(map),
        Some(Shape::OktaSystemLog) => okta::decode(map),
        Some(Shape::CloudTrail) => cloudtrail::decode(map),
        Some(Shape::M365Audit) => m365::decode(map),
        Some(Shape::WindowsEvtx | Shape::WindowsEcs) => {
            // A Windows event inside a batch: decode it as sent.
            let bytes = serde_json::to_vec(value).map_err(|e| DecodeError::json(&e))?;
            match decode_records(&bytes)?.pop() {
                Some(one) => one,
                None => Err(DecodeError::unrecognised(probe::looked_for(map))),
            }
        }
        None => Err(DecodeError::unrecognised(probe::looked_for(map))),
    }
}

fn logsource(product: &str, service: Option<&str>) -> LogSource {
    LogSource {
        product: Some(product.to_owned()),
        service: service.map(str::to_owned),
        category: None,
    }
}
