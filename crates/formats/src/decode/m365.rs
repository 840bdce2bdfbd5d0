//! Microsoft 365 unified audit log records (the Management Activity API,
//! `Search-UnifiedAuditLog`'s `AuditData`, Purview exports).
//!
//! Logsource: product `m365`, with the service SigmaHQ's `cloud/m365`
//! rules expect of the workload: `exchange` for `Workload: Exchange`,
//! `threat_management` for `SecurityComplianceCenter` (alerts), and
//! `audit` for every other workload.
//!
//! Fields: every key with dotted paths, except that `[{Name, Value}]`
//! lists (`Parameters`, `ExtendedProperties`, …) become one field per
//! entry named `<list>.<Name>` (`Parameters.ForwardTo`,
//! `Parameters.DeleteMessage`), and `ModifiedProperties` entries
//! `ModifiedProperties.<Name>.NewValue` / `.OldValue`; each list is also
//! its JSON text. Added for the SigmaHQ rules: `eventSource` (the
//! workload), `eventName` (the operation, or the alert's `Name` for
//! Security & Compliance alerts) and `status` (`success` or `failure` from
//! `ResultStatus`; `success` when absent, as the log records operations
//! that took place). An alert record's own `Status` (`Active`, …) is kept
//! as `AlertStatus`.

use serde_json::{Map, Value};

use super::entity::Entities;
use super::fields::{Check, Fields, kind_of, scalar_text};
use super::{DecodeError, Decoded, Shape, logsource, time};

fn bad(problem: String) -> DecodeError {
    DecodeError::invalid(Shape::M365Audit, problem)
}

/// Parameters whose values are mail addresses to forward or redirect to.
const FORWARDING: [&str; 6] = [
    "ForwardTo",
    "RedirectTo",
    "ForwardAsAttachmentTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "RedirectToRecipients",
];

pub(super) fn decode(map: &Map<String, Value>) -> Result<Decoded, DecodeError> {
    let top = Check::new(map);
    let workload = top.string("Workload").map_err(bad)?;
    let operation = top.string("Operation").map_err(bad)?;
    let created = top.opt_string("CreationTime").map_err(bad)?;
    let time = time::required("CreationTime", created).map_err(bad)?;
    let user = top.opt_string("UserId").map_err(bad)?;
    let client_ip = top.opt_string("ClientIP").map_err(bad)?;
    let result = top.opt_scalar("ResultStatus").map_err(bad)?;
    let object_id = top.opt_scalar("ObjectId").map_err(bad)?;

    let mut f = Fields::default();
    let mut named: Vec<(String, String)> = Vec::new();
    for (k, v) in map {
        match v {
            Value::Array(items) if is_name_value_list(items) => {
                f.push(k.as_str(), v.to_string());
                for (i, item) in items.iter().enumerate() {
                    let Value::Object(entry) = item else {
                        continue;
                    };
                    let Some(name) = entry.get("Name").and_then(scalar_text) else {
                        return Err(bad(format!("{k}[{i}].Name is not text")));
                    };
                    for (field, value) in entry {
                        if field == "Name" {
                            continue;
                        }
                        let full = if field == "Value" {
                            format!("{k}.{name}")
                        } else {
                            format!("{k}.{name}.{field}")
                        };
                        match value {
                            Value::Object(_) | Value::Array(_) => f.flatten(&full, value, 2),
                            other => {
                                if let Some(text) = scalar_text(other) {
                                    if k == "Parameters" {
                                        named.push((name.clone(), text.clone()));
                                    }
                                    f.push(full, text);
                                }
                            }
                        }
                    }
                }
            }
            Value::Array(items) if k == "Parameters" && !items.is_empty() => {
                let bad_item = items.iter().position(|i| !i.is_object());
                return Err(bad(match bad_item {
                    Some(i) => format!(
                        "Parameters[{i}] is not an object but {}",
                        kind_of(&items[i])
                    ),
                    None => "Parameters entries lack Name".to_owned(),
                }));
            }
            _ => f.flatten(k, v, 1),
        }
    }

    let service = match workload {
        w if w.eq_ignore_ascii_case("Exchange") => "exchange",
        w if w.eq_ignore_ascii_case("SecurityComplianceCenter") => "threat_management",
        _ => "audit",
    };
    let alert_name = top.opt_string("Name").map_err(bad)?;
    if service == "threat_management"
        && let Some(own) = f.get("Status").map(str::to_owned)
    {
        f.remove("Status");
        f.push("AlertStatus", own);
    }
    f.set_if_absent("eventSource", workload);
    let event_name = match alert_name {
        Some(n) if service == "threat_management" => n,
        _ => operation,
    };
    f.set_if_absent("eventName", event_name);
    let status = match result.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("failed" | "failure" | "false") => "failure",
        Some("partiallysucceeded") => "partial",
        _ => "success",
    };
    f.set_if_absent("status", status);

    let mut entities = Entities::default();
    if let Some(user) = user {
        entities.user(None, user);
    }
    if let Some(ip) = client_ip {
        entities.ip(ip);
    }
    for key in [
        "MailboxOwnerUPN",
        "SendAsUserSmtp",
        "SendOnBehalfOfUserSmtp",
    ] {
        if let Some(m) = map.get(key).and_then(Value::as_str) {
            entities.mailboxes(m);
        }
    }
    if service == "exchange"
        && let Some(user) = user
    {
        entities.mailboxes(user);
    }
    for (name, value) in &named {
        if FORWARDING.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            entities.mailboxes(value);
        }
    }
    for key in ["SiteUrl", "SourceRelativeUrl"] {
        if let Some(u) = map.get(key).and_then(Value::as_str) {
            entities.url(u);
        }
    }
    if let Some(id) = object_id {
        if id.starts_with("http://") || id.starts_with("https://") {
            entities.url(&id);
        } else {
            entities.cloud_resource(&id);
        }
    }
    Ok(Decoded {
        shape: Shape::M365Audit,
        logsource: logsource("m365", Some(service)),
        time: Some(time),
        event: f.into_event(),
        entities: entities.into_vec(),
    })
}

/// A non-empty list of objects that each have a `Name`.
fn is_name_value_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.as_object().is_some_and(|o| o.contains_key("Name")))
}
