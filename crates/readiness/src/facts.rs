//! What the evaluators read: the tenant's settings, telemetry activity
//! gathered from the store, and the latest device and identity posture
//! snapshots (docs/formats/device-inventory.md, identity-inventory.md).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use vigil_core::Timestamp;
use vigil_core::readiness::StreamActivity;
use vigil_core::tenant::{AssetKind, Coverage, TenantSettings};

/// Everything one assessment looks at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub now: Timestamp,
    pub settings: TenantSettings,
    /// Telemetry per stream within the look-back.
    pub streams: Vec<StreamActivity>,
    /// Device name (lowercase) → newest event naming it (not inventory).
    pub device_activity: BTreeMap<String, Timestamp>,
    /// User name (lowercase) → newest event naming it (not inventory).
    pub identity_activity: BTreeMap<String, Timestamp>,
    /// Devices whose events ran ahead of Vigil's clock, with the most seconds ahead.
    pub clock_ahead: BTreeMap<String, i64>,
    /// Records stored and dead-lettered in the last day.
    pub events_last_day: u64,
    pub dead_letters_last_day: u64,
    /// The latest snapshot of each device in the inventory window.
    pub devices: Vec<DeviceSnapshot>,
    /// The latest snapshot of each identity in the inventory window.
    pub identities: Vec<IdentitySnapshot>,
}

/// A device's latest inventory and posture snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSnapshot {
    /// As the collector wrote it (shown to people).
    pub hostname: String,
    pub collected_at: Option<Timestamp>,
    pub sensor_health: Option<String>,
    pub tags: Vec<String>,
    /// `posture` as sent.
    pub posture: Map<String, Value>,
}

/// An identity's latest inventory and posture snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySnapshot {
    pub upn: String,
    pub sam_account_name: Option<String>,
    pub enabled: bool,
    pub privileged: bool,
    pub has_mailbox: bool,
    pub groups: Vec<String>,
    pub posture: Map<String, Value>,
}

/// A snapshot that cannot be read (it passed intake, so this is rare).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} snapshot: {problem}")]
pub struct SnapshotError {
    pub what: &'static str,
    pub problem: String,
}

fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// `true`/`false`, also as text (as intake accepts them).
pub(crate) fn truth(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl DeviceSnapshot {
    /// Read a stored `device_inventory` record.
    pub fn from_json(raw: &str) -> Result<Self, SnapshotError> {
        let bad = |problem: &str| SnapshotError {
            what: "device",
            problem: problem.to_owned(),
        };
        let v: Value = serde_json::from_str(raw).map_err(|e| bad(&e.to_string()))?;
        let device = v
            .get("device")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("no device object"))?;
        let hostname = text(device, "hostname")
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(|| bad("no hostname"))?;
        Ok(DeviceSnapshot {
            hostname: hostname.trim().to_owned(),
            collected_at: v
                .get("collected_at")
                .and_then(Value::as_str)
                .and_then(|t| t.parse().ok()),
            sensor_health: text(device, "sensor_health").map(str::to_owned),
            tags: strings(device.get("tags")),
            posture: v
                .get("posture")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

impl IdentitySnapshot {
    /// Read a stored `identity_inventory` record.
    pub fn from_json(raw: &str) -> Result<Self, SnapshotError> {
        let bad = |problem: &str| SnapshotError {
            what: "identity",
            problem: problem.to_owned(),
        };
        let v: Value = serde_json::from_str(raw).map_err(|e| bad(&e.to_string()))?;
        let identity = v
            .get("identity")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("no identity object"))?;
        let upn = text(identity, "upn")
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| bad("no upn"))?;
        Ok(IdentitySnapshot {
            upn: upn.trim().to_owned(),
            sam_account_name: text(identity, "sam_account_name").map(str::to_owned),
            enabled: truth(identity.get("enabled")).unwrap_or(true),
            privileged: truth(identity.get("privileged")).unwrap_or(false),
            has_mailbox: truth(identity.get("has_mailbox")).unwrap_or(false),
            groups: strings(identity.get("groups")),
            posture: v
                .get("posture")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// The names telemetry may know this identity by (lowercase).
    pub fn names(&self) -> Vec<String> {
        let mut n = vec![self.upn.to_lowercase()];
        if let Some(sam) = &self.sam_account_name {
            n.push(sam.to_lowercase());
        }
        n
    }
}

/// The short name of a host (`ws-0042` for `ws-0042.corp.example`).
pub(crate) fn short_host(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_lowercase()
}

impl Facts {
    /// The devices of the inventory within the service's scope.
    pub fn devices_in_scope(&self) -> Vec<&DeviceSnapshot> {
        self.devices
            .iter()
            .filter(|d| match &self.settings.coverage {
                Coverage::All => true,
                Coverage::Scoped(assets) => assets.iter().any(|a| match a.kind {
                    AssetKind::Device => short_host(&a.name) == short_host(&d.hostname),
                    AssetKind::DeviceGroup => {
                        d.tags.iter().any(|t| t.eq_ignore_ascii_case(&a.name))
                    }
                    _ => false,
                }),
            })
            .collect()
    }

    /// The enabled identities of the inventory within the service's scope.
    pub fn identities_in_scope(&self) -> Vec<&IdentitySnapshot> {
        self.identities
            .iter()
            .filter(|i| i.enabled)
            .filter(|i| match &self.settings.coverage {
                Coverage::All => true,
                Coverage::Scoped(assets) => assets.iter().any(|a| match a.kind {
                    AssetKind::User => i.names().contains(&a.name.to_lowercase()),
                    AssetKind::UserGroup => {
                        i.groups.iter().any(|g| g.eq_ignore_ascii_case(&a.name))
                    }
                    _ => false,
                }),
            })
            .collect()
    }

    /// The newest telemetry from a device, matching full or short names
    /// (events may name `ws-0042` where the inventory says
    /// `WS-0042.corp.example`).
    pub fn device_last_seen(&self, hostname: &str) -> Option<Timestamp> {
        let full = hostname.to_lowercase();
        let short = short_host(hostname);
        // Names whose first label is `short`: `short` itself and the keys
        // from `short.` up to `short/` ('/' follows '.'), found by range.
        let dotted = format!("{short}.");
        let past = format!("{short}/");
        let exact = [&full, &short]
            .into_iter()
            .filter_map(|k| self.device_activity.get(k.as_str()).copied());
        let qualified = self
            .device_activity
            .range::<str, _>((
                std::ops::Bound::Included(dotted.as_str()),
                std::ops::Bound::Excluded(past.as_str()),
            ))
            .map(|(_, t)| *t);
        exact.chain(qualified).max()
    }

    /// The newest telemetry naming an identity, by any of its names.
    pub fn identity_last_seen(&self, identity: &IdentitySnapshot) -> Option<Timestamp> {
        identity
            .names()
            .iter()
            .filter_map(|n| self.identity_activity.get(n).copied())
            .max()
    }
}
