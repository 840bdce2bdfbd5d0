//! The latest posture snapshots as the verification reads them: one JSON
//! document per device (`device_inventory`) and per identity
//! (`identity_inventory`), as received (docs/formats/).
//!
//! A field `device.X` is looked up in the snapshot's `posture` object
//! first, then in its `device` object (so `device.sensor_health` works);
//! `identity.X` in `posture`, then `identity`. Disabled identities are
//! left out, as the readiness assessment leaves them out.

use serde_json::Value;

/// Which assets a field is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    Device,
    Identity,
}

impl AssetKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            AssetKind::Device => "device",
            AssetKind::Identity => "identity",
        }
    }
}

impl std::fmt::Display for AssetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One asset's latest snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Hostname or UPN, lowercase.
    pub name: String,
    pub kind: AssetKind,
    doc: Value,
}

fn dig<'a>(mut v: &'a Value, keys: &[String]) -> Option<&'a Value> {
    for k in keys {
        v = v.get(k)?;
    }
    (!v.is_null()).then_some(v)
}

impl Asset {
    /// A field by its keys below `device.` / `identity.`.
    pub fn field(&self, keys: &[String]) -> Option<&Value> {
        let own = self.kind.as_str();
        self.doc
            .get("posture")
            .and_then(|p| dig(p, keys))
            .or_else(|| self.doc.get(own).and_then(|d| dig(d, keys)))
    }
}

/// The tenant's latest snapshots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshots {
    pub devices: Vec<Asset>,
    pub identities: Vec<Asset>,
}

impl Snapshots {
    /// Read snapshots as stored. A record that cannot be read (it passed
    /// intake, so this is rare) is skipped: it cannot pass a verification.
    pub fn from_raw(devices: &[String], identities: &[String]) -> Self {
        let read = |raw: &String, kind: AssetKind, name_key: &str| -> Option<Asset> {
            let doc: Value = serde_json::from_str(raw).ok()?;
            let own = doc.get(kind.as_str())?;
            let name = own.get(name_key)?.as_str()?.trim().to_lowercase();
            if name.is_empty() {
                return None;
            }
            if kind == AssetKind::Identity && matches!(own.get("enabled"), Some(Value::Bool(false)))
            {
                return None;
            }
            Some(Asset { name, kind, doc })
        };
        let mut s = Snapshots {
            devices: devices
                .iter()
                .filter_map(|r| read(r, AssetKind::Device, "hostname"))
                .collect(),
            identities: identities
                .iter()
                .filter_map(|r| read(r, AssetKind::Identity, "upn"))
                .collect(),
        };
        s.devices.sort_by(|a, b| a.name.cmp(&b.name));
        s.identities.sort_by(|a, b| a.name.cmp(&b.name));
        s
    }

    pub fn of(&self, kind: AssetKind) -> &[Asset] {
        match kind {
            AssetKind::Device => &self.devices,
            AssetKind::Identity => &self.identities,
        }
    }
}
