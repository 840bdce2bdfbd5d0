//! Vigil's identity inventory and posture snapshot: one JSON document per
//! identity (a person's or a service's account), sent by a collector that
//! reads the directory (Entra ID, Okta, Active Directory) (PRODUCT.md §4).
//! The readiness assessment reads identity coverage and the identity half
//! of the protection baseline (MFA for privileged accounts, legacy
//! authentication blocked, mailbox auditing) from these.
//!
//! `{"type":"identity_inventory","schema_version":1,"collected_at":…,
//!   "identity":{"upn",…},"posture":{"mfa_enforced",…}}`; see
//! `docs/formats/identity-inventory.md` for every key. Known keys are
//! type-checked (an error names the key); unknown keys are kept as fields.

use serde_json::{Map, Value};

use super::entity::Entities;
use super::fields::{Check, Fields};
use super::{DecodeError, Decoded, Shape, logsource, time};

fn bad(problem: String) -> DecodeError {
    DecodeError::invalid(Shape::IdentityInventory, problem)
}

/// The schema version this decoder reads.
pub const SCHEMA_VERSION: u64 = 1;

/// `identity` keys holding text.
const IDENTITY_TEXT: [&str; 6] = [
    "id",
    "upn",
    "display_name",
    "sam_account_name",
    "directory",
    "last_sign_in",
];

/// `identity` keys that are true or false.
const IDENTITY_BOOLS: [&str; 3] = ["enabled", "privileged", "has_mailbox"];

/// `posture` keys that are true or false.
const POSTURE_BOOLS: [&str; 4] = [
    "mfa_registered",
    "mfa_enforced",
    "legacy_auth_blocked",
    "mailbox_auditing",
];

pub(super) fn decode(map: &Map<String, Value>) -> Result<Decoded, DecodeError> {
    let top = Check::new(map);
    if let Some(v) = map.get("schema_version")
        && v.as_u64() != Some(SCHEMA_VERSION)
    {
        return Err(bad(format!(
            "schema_version {v} is not supported (this Vigil reads {SCHEMA_VERSION})"
        )));
    }
    let Some(identity) = top.child("identity", "identity").map_err(bad)? else {
        return Err(bad("identity is missing".to_owned()));
    };
    for key in IDENTITY_TEXT {
        identity.opt_string(key).map_err(bad)?;
    }
    for key in IDENTITY_BOOLS {
        identity.opt_bool(key).map_err(bad)?;
    }
    let upn = identity.string("upn").map_err(bad)?;
    if upn.trim().is_empty() {
        return Err(bad("identity.upn is empty".to_owned()));
    }
    if let Some(groups) = identity.opt_array("groups").map_err(bad)? {
        for (i, g) in groups.iter().enumerate() {
            if !g.is_string() {
                return Err(bad(format!("identity.groups[{i}] is not a string")));
            }
        }
    }
    if let Some(posture) = top.child("posture", "posture").map_err(bad)? {
        for key in POSTURE_BOOLS {
            posture.opt_bool(key).map_err(bad)?;
        }
    }
    let time = time::required("collected_at", top.opt_string("collected_at").map_err(bad)?)
        .map_err(bad)?;
    if let Some(seen) = identity.opt_string("last_sign_in").map_err(bad)?
        && time::normalise(seen).is_none()
    {
        return Err(bad(format!(
            "identity.last_sign_in is not a timestamp: {seen:?}"
        )));
    }

    let mut entities = Entities::default();
    entities.user(None, upn);
    if let Some(sam) = identity.opt_string("sam_account_name").map_err(bad)? {
        entities.user(None, sam);
    }
    let mut f = Fields::default();
    f.flatten_object("", map, 0);
    Ok(Decoded {
        shape: Shape::IdentityInventory,
        logsource: logsource("vigil", Some("identity_inventory")),
        time: Some(time),
        event: f.into_event(),
        entities: entities.into_vec(),
    })
}
