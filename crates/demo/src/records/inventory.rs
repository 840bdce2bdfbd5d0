//! Vigil's inventory and posture snapshots (docs/formats/device-inventory.md,
//! docs/formats/identity-inventory.md), as an MDM or directory export job
//! sends them. The gaps in them are deliberate: they give readiness and
//! the recommendations something true to say.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::seconds_z;
use crate::estate::{DOMAIN, Estate, Host, NETBIOS, Person, Role};

/// Workstations from this number on have not had LSASS protection turned on.
const LSASS_ROLLOUT_DONE_BELOW: usize = 13;

/// One device's snapshot.
pub fn device(t: Timestamp, estate: &Estate, index: usize, host: &Host, id: &str) -> Value {
    let person = host.user.and_then(|u| estate.people.get(u));
    let users: Vec<String> = person.map(Person::windows).into_iter().collect();
    let workstation = host.role == Role::Workstation;
    let lsass = !workstation || index + 1 < LSASS_ROLLOUT_DONE_BELOW;
    let tags: Vec<&str> = match host.role {
        Role::Workstation => vec!["workstations"],
        Role::DomainController => vec!["servers", "tier0"],
        Role::FileServer | Role::AppServer => vec!["servers"],
    };
    let mut v = json!({
        "type": "device_inventory",
        "schema_version": 1,
        "collected_at": seconds_z(t),
        "device": {
            "id": id,
            "hostname": host.fqdn(),
            "os": "windows",
            "os_version": if workstation { "10.0.22631" } else { "10.0.20348" },
            "domain": DOMAIN,
            "primary_user": person.map(Person::windows),
            "users": users,
            "ip_addresses": [host.ip],
            "agent": {"name": "Microsoft Defender for Endpoint", "version": "10.8760.22621.1"},
            "sensor_health": "active",
            "last_seen": seconds_z(t),
            "tags": tags,
        },
        "posture": {
            "av_mode": "active",
            "realtime_protection": true,
            "cloud_protection": true,
            "tamper_protection": true,
            "edr_block_mode": true,
            "network_protection": if workstation { "audit" } else { "block" },
            "pua_protection": "block",
            "firewall": true,
            "asr_rules": {
                "block_credential_stealing_from_lsass": if lsass { "block" } else { "audit" },
                // Workstations still audit it: a line-of-business add-in
                // was feared to break.
                "block_office_child_processes": if workstation { "audit" } else { "block" },
                "block_executable_content_from_email": "block",
            },
            "process_creation_auditing": true,
            "command_line_auditing": true,
            "script_block_logging": true,
            "lsass_protection": lsass,
            "disk_encryption": true,
            "local_admin_password_management": host.role != Role::Workstation,
        }
    });
    // Servers have no primary user: the key is left out, not null.
    if person.is_none()
        && let Some(d) = v.get_mut("device").and_then(Value::as_object_mut)
    {
        d.remove("primary_user");
    }
    v
}

/// One identity's snapshot.
pub fn identity(t: Timestamp, index: usize, p: &Person, id: &str) -> Value {
    // MFA is enforced for everyone but the admin accounts (registered, not
    // enforced) and two finance users still on legacy mail clients.
    let legacy = matches!(p.sam.as_str(), "m.okafor" | "g.evans");
    let groups: Vec<String> = if p.privileged {
        vec!["Domain Admins".into(), "IT".into()]
    } else {
        vec![p.department.to_owned()]
    };
    json!({
        "type": "identity_inventory",
        "schema_version": 1,
        "collected_at": seconds_z(t),
        "identity": {
            "id": id,
            "upn": p.upn(),
            "display_name": p.display,
            "sam_account_name": format!("{NETBIOS}\\{}", p.sam),
            "directory": "entra_id",
            "enabled": true,
            "privileged": p.privileged,
            "has_mailbox": true,
            "groups": groups,
            "last_sign_in": seconds_z(t),
            "employee_number": index + 1001,
        },
        "posture": {
            "mfa_registered": true,
            "mfa_enforced": !p.privileged && !legacy,
            "legacy_auth_blocked": !legacy,
            "mailbox_auditing": true,
        }
    })
}
