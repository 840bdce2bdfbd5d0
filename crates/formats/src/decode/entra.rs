//! Entra ID (Azure AD) sign-in logs, in the three shapes they leave Azure:
//!
//! - diagnostic settings (Event Hub, storage): `category: "SignInLogs"`
//!   (or `NonInteractiveUserSignInLogs`, `ServicePrincipalSignInLogs`,
//!   `ManagedIdentitySignInLogs`) with the sign-in in `properties`;
//! - Log Analytics rows (`Category: "SignInLogs"`, the columns at the top);
//! - Microsoft Graph `signIn` resources (`createdDateTime`,
//!   `userPrincipalName`, `status{errorCode,…}`, …).
//!
//! Fields: every key with dotted paths (`status.errorCode`,
//! `deviceDetail.isCompliant`); in the diagnostic shape `properties.*` as
//! well as the properties un-prefixed (the envelope's own keys win, so
//! `location` stays the country code). Then the names SigmaHQ's
//! `azure/signin_logs` rules use, where the record lacks them:
//! `ResultType` (`status.errorCode`), `ResultDescription`
//! (`status.failureReason`), `Status` (`Success`, or `Failure; <reason>;
//! <details>`), `ClientApp` (`clientAppUsed`), `Username`
//! (`userPrincipalName`) and `LocationDetails.*` (`location.*`). Names
//! compare case-insensitively, so `userAgent`, `RiskState` or
//! `conditionalAccessStatus` need nothing more.

use serde_json::{Map, Value};

use super::entity::Entities;
use super::fields::{Check, Fields, scalar_text};
use super::{DecodeError, Decoded, Shape, logsource, time};

fn bad(problem: String) -> DecodeError {
    DecodeError::invalid(Shape::EntraSignIn, problem)
}

pub(super) fn decode(map: &Map<String, Value>) -> Result<Decoded, DecodeError> {
    let top = Check::new(map);
    // The sign-in itself: `properties` in the diagnostic shape.
    let diagnostic = top.opt_object("properties").map_err(bad)?;
    let (signin, prefix) = match diagnostic {
        Some(p) => (
            Check {
                map: p,
                path: "properties",
            },
            "properties.",
        ),
        None => (Check::new(map), ""),
    };

    let upn = signin.opt_string("userPrincipalName").map_err(bad)?;
    let ip = signin.opt_string("ipAddress").map_err(bad)?;
    let status = signin
        .child(
            "status",
            if diagnostic.is_some() {
                "properties.status"
            } else {
                "status"
            },
        )
        .map_err(bad)?;
    let error_code = match &status {
        Some(s) => s.opt_scalar("errorCode").map_err(bad)?,
        None => None,
    };
    let failure_reason = match &status {
        Some(s) => s.opt_string("failureReason").map_err(bad)?,
        None => None,
    };
    let details = match &status {
        Some(s) => s.opt_string("additionalDetails").map_err(bad)?,
        None => None,
    };
    let device = signin.child("deviceDetail", "deviceDetail").map_err(bad)?;
    let device_name = match &device {
        Some(d) => d.opt_string("displayName").map_err(bad)?,
        None => None,
    };
    let location_is_object = signin.opt_object("location").ok().flatten().is_some();

    let time_text = [
        "time",
        "TimeGenerated",
        "createdDateTime",
        "CreatedDateTime",
    ]
    .iter()
    .find_map(|k| map.get(*k).and_then(Value::as_str))
    .or_else(|| signin.map.get("createdDateTime").and_then(Value::as_str));
    let time = time::required("createdDateTime", time_text).map_err(bad)?;

    let mut f = Fields::default();
    f.flatten_object("", map, 0);
    if let Some(props) = diagnostic {
        for (k, v) in props {
            if !map.keys().any(|top| top.eq_ignore_ascii_case(k)) {
                f.flatten(k, v, 1);
            }
        }
    }
    if let Some(code) = &error_code {
        f.set_if_absent("ResultType", code.clone());
        let text = if code == "0" {
            "Success".to_owned()
        } else {
            let mut text = "Failure".to_owned();
            for part in [failure_reason, details].into_iter().flatten() {
                if !part.is_empty() {
                    text.push_str("; ");
                    text.push_str(part);
                }
            }
            text
        };
        f.set("Status", text);
    }
    if let Some(reason) = failure_reason {
        f.set_if_absent("ResultDescription", reason);
    }
    if let Some(app) = signin.map.get("clientAppUsed").and_then(scalar_text) {
        f.set_if_absent("ClientApp", app);
    }
    if let Some(upn) = upn {
        f.set_if_absent("Username", upn);
    }
    if location_is_object {
        f.alias_prefix(&format!("{prefix}location"), "LocationDetails");
    }

    let mut entities = Entities::default();
    if let Some(upn) = upn {
        entities.user(None, upn);
    }
    if let Some(ip) = ip.or_else(|| map.get("callerIpAddress").and_then(Value::as_str)) {
        entities.ip(ip);
    }
    if let Some(name) = device_name {
        entities.device(name);
    }
    Ok(Decoded {
        shape: Shape::EntraSignIn,
        logsource: logsource("azure", Some("signinlogs")),
        time: Some(time),
        event: f.into_event(),
        entities: entities.into_vec(),
    })
}
