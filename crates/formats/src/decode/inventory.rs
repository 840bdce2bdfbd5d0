//! Vigil's device inventory and posture snapshot: one JSON document per
//! device, sent by a collector whenever it reads the device's state
//! (PRODUCT.md §4, §5). The readiness assessment reads asset coverage,
//! sensor health and the protection baseline from these.
//!
//! `{"type":"device_inventory","schema_version":1,"collected_at":…,
//!   "device":{"hostname",…},"posture":{"tamper_protection",…}}`; see
//! `docs/formats/device-inventory.md` for every key. Known keys are
//! type-checked (an error names the key); unknown keys are kept as fields.
//! Fields: every key with dotted paths (`device.sensor_health`,
//! `posture.tamper_protection`, `posture.asr_rules.<rule>`).

use serde_json::{Map, Value};

use super::entity::Entities;
use super::fields::{Check, Fields};
use super::{DecodeError, Decoded, Shape, logsource, time};

fn bad(problem: String) -> DecodeError {
    DecodeError::invalid(Shape::DeviceInventory, problem)
}

/// The schema version this decoder reads.
pub const SCHEMA_VERSION: u64 = 1;

/// `device` keys holding text.
const DEVICE_TEXT: [&str; 8] = [
    "id",
    "hostname",
    "os",
    "os_version",
    "domain",
    "primary_user",
    "last_seen",
    "serial_number",
];

/// `device.sensor_health` values.
const SENSOR_HEALTH: [&str; 5] = [
    "active",
    "inactive",
    "impaired",
    "misconfigured",
    "no_sensor",
];

/// `posture` keys that are on or off.
const POSTURE_BOOLS: [&str; 11] = [
    "realtime_protection",
    "cloud_protection",
    "tamper_protection",
    "edr_block_mode",
    "firewall",
    "process_creation_auditing",
    "command_line_auditing",
    "script_block_logging",
    "lsass_protection",
    "disk_encryption",
    "local_admin_password_management",
];

/// `posture` keys with a mode, and the modes each allows.
const POSTURE_MODES: [(&str, &[&str]); 3] = [
    ("av_mode", &["active", "passive", "edr_block", "disabled"]),
    ("network_protection", &["block", "audit", "off"]),
    ("pua_protection", &["block", "audit", "off"]),
];

/// `posture.asr_rules.*` modes.
const ASR_MODES: [&str; 4] = ["block", "audit", "warn", "off"];

pub(super) fn decode(map: &Map<String, Value>) -> Result<Decoded, DecodeError> {
    let top = Check::new(map);
    if let Some(v) = map.get("schema_version")
        && v.as_u64() != Some(SCHEMA_VERSION)
    {
        return Err(bad(format!(
            "schema_version {v} is not supported (this Vigil reads {SCHEMA_VERSION})"
        )));
    }
    let Some(device) = top.child("device", "device").map_err(bad)? else {
        return Err(bad("device is missing".to_owned()));
    };
    for key in DEVICE_TEXT {
        device.opt_string(key).map_err(bad)?;
    }
    let hostname = device.string("hostname").map_err(bad)?;
    if hostname.trim().is_empty() {
        return Err(bad("device.hostname is empty".to_owned()));
    }
    if let Some(h) = device.opt_string("sensor_health").map_err(bad)?
        && !SENSOR_HEALTH.contains(&h)
    {
        return Err(bad(format!(
            "device.sensor_health {h:?} is not one of {}",
            SENSOR_HEALTH.join(", ")
        )));
    }
    let ips = string_list(&device, "ip_addresses")?;
    let users = string_list(&device, "users")?;
    string_list(&device, "mac_addresses")?;
    string_list(&device, "tags")?;
    if let Some(agent) = device.child("agent", "device.agent").map_err(bad)? {
        agent.opt_string("name").map_err(bad)?;
        agent.opt_string("version").map_err(bad)?;
    }
    if let Some(posture) = top.child("posture", "posture").map_err(bad)? {
        for key in POSTURE_BOOLS {
            posture.opt_bool(key).map_err(bad)?;
        }
        for (key, modes) in POSTURE_MODES {
            check_mode(
                posture.opt_string(key).map_err(bad)?,
                &format!("posture.{key}"),
                modes,
            )?;
        }
        if let Some(asr) = posture
            .child("asr_rules", "posture.asr_rules")
            .map_err(bad)?
        {
            for (rule, mode) in asr.map {
                let name = format!("posture.asr_rules.{rule}");
                let Value::String(mode) = mode else {
                    return Err(bad(format!("{name} is not a mode")));
                };
                check_mode(Some(mode), &name, &ASR_MODES)?;
            }
        }
    }
    let collected = top.opt_string("collected_at").map_err(bad)?;
    let last_seen = device.opt_string("last_seen").map_err(bad)?;
    let time = match collected {
        Some(t) => time::required("collected_at", Some(t)),
        None => time::required("collected_at", last_seen)
            .map_err(|_| "collected_at is missing".to_owned()),
    }
    .map_err(bad)?;
    if let Some(seen) = last_seen
        && time::normalise(seen).is_none()
    {
        return Err(bad(format!(
            "device.last_seen is not a timestamp: {seen:?}"
        )));
    }

    let mut entities = Entities::default();
    entities.device(hostname);
    for ip in ips {
        entities.ip(ip);
    }
    if let Some(u) = device.opt_string("primary_user").map_err(bad)? {
        entities.user(None, u);
    }
    for u in users {
        entities.user(None, u);
    }
    let mut f = Fields::default();
    f.flatten_object("", map, 0);
    Ok(Decoded {
        shape: Shape::DeviceInventory,
        logsource: logsource("vigil", Some("inventory")),
        time: Some(time),
        event: f.into_event(),
        entities: entities.into_vec(),
    })
}

fn string_list<'a>(c: &Check<'a>, key: &str) -> Result<Vec<&'a str>, DecodeError> {
    let Some(items) = c.opt_array(key).map_err(bad)? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .ok_or_else(|| bad(format!("device.{key}[{i}] is not a string")))
        })
        .collect()
}

fn check_mode(value: Option<&str>, name: &str, modes: &[&str]) -> Result<(), DecodeError> {
    match value {
        Some(v) if !modes.contains(&v) => Err(bad(format!(
            "{name} {v:?} is not one of {}",
            modes.join(", ")
        ))),
        _ => Ok(()),
    }
}
