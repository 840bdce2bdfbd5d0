//! Each decoded event's row in the hunting tables, computed once at intake
//! and stored beside the event: hunts read typed columns, never raw JSON.
//! Which table and which field fills which column, per shape (the field
//! names are those `vigil-formats` gives: docs/formats/).

use vigil_core::hunting::{HuntColumn as P, HuntRow, HuntValue};
use vigil_formats::{Decoded, FlatEvent, Shape};

use crate::schema::code;

/// `AdditionalFields`/`RawEventData` keep at most this much JSON.
const MAX_ADDITIONAL: usize = 16 * 1024;

/// The event's hunting row, every column filled; `None` for shapes no
/// hunting table holds (inventory snapshots).
pub fn project(d: &Decoded) -> Option<HuntRow> {
    project_with(d, true)
}

/// The event's hunting row without `AdditionalFields`: for a store that
/// makes it from the event's record when a hunt reads it, through
/// [`additional_of_record`]. It is the costliest column to make (the whole
/// event as JSON) and the one hunts read least.
pub fn project_lean(d: &Decoded) -> Option<HuntRow> {
    project_with(d, false)
}

/// The `AdditionalFields` that [`project`] gives the event whose record
/// (one JSON object, as received) is `record`; `None` when it gives none
/// or the record is not one event.
pub fn additional_of_record(record: &[u8]) -> Option<String> {
    let mut decoded = vigil_formats::decode_records(record).ok()?;
    if decoded.len() != 1 {
        return None;
    }
    let d = decoded.pop()?.ok()?;
    match project_with(&d, true)?.get(P::Additional)? {
        HuntValue::Text(t) => Some(t.to_owned()),
        HuntValue::Int(n) => Some(n.to_string()),
    }
}

fn project_with(d: &Decoded, with_additional: bool) -> Option<HuntRow> {
    let ev = &d.event;
    let a = with_additional;
    match d.shape {
        Shape::WindowsEvtx | Shape::WindowsEcs => Some(windows(ev, a)),
        Shape::EntraSignIn => Some(entra(ev, a)),
        Shape::OktaSystemLog => Some(okta(ev, a)),
        Shape::CloudTrail => Some(cloudtrail(ev, a)),
        Shape::M365Audit => Some(m365(ev, a)),
        Shape::DeviceInventory | Shape::IdentityInventory => None,
    }
}

fn first<'a>(ev: &'a FlatEvent, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| ev.get(n).filter(|v| !v.is_empty() && *v != "-"))
}

fn put(row: &mut HuntRow, col: P, ev: &FlatEvent, names: &[&str]) {
    if let Some(v) = first(ev, names) {
        row.set(col, v);
    }
}

/// `C:\Windows\System32\cmd.exe` → (`cmd.exe`, the whole path).
fn path(row: &mut HuntRow, name: P, folder: P, value: Option<&str>) {
    if let Some(v) = value {
        let base = v.rsplit(['\\', '/']).next().unwrap_or(v);
        row.set(name, base);
        row.set(folder, v);
    }
}

/// `CORP\alice` → (`alice`, `CORP`).
fn account(row: &mut HuntRow, value: Option<&str>, domain: Option<&str>) {
    let Some(v) = value else { return };
    match v.split_once('\\') {
        Some((d, n)) => {
            row.set(P::AccountName, n);
            row.set(P::AccountDomain, d);
        }
        None => {
            row.set(P::AccountName, v);
            if let Some(d) = domain {
                row.set(P::AccountDomain, d);
            }
        }
    }
}

/// `SHA1=…,MD5=…,SHA256=…` into the hash columns.
fn hashes(row: &mut HuntRow, ev: &FlatEvent) {
    for field in ["Hashes", "Hash"] {
        let Some(v) = ev.get(field) else { continue };
        for part in v.split(',') {
            let Some((k, h)) = part.split_once('=') else {
                continue;
            };
            let h = h.trim().to_ascii_lowercase();
            match k.trim().to_ascii_uppercase().as_str() {
                "SHA256" => row.set(P::Sha256, &h),
                "SHA1" => row.set(P::Sha1, &h),
                "MD5" => row.set(P::Md5, &h),
                _ => {}
            }
        }
    }
}

/// `AdditionalFields`: the whole event as JSON, when `with` (see
/// [`project_lean`]).
fn additional(row: &mut HuntRow, ev: &FlatEvent, with: bool) {
    if !with {
        return;
    }
    // The text, quotes, colons and commas: escapes aside, all it needs.
    let mut json = String::with_capacity(ev.text_len() + 6 * ev.len() + 2);
    ev.write_json(&mut json);
    if json.len() <= MAX_ADDITIONAL {
        row.set(P::Additional, &json);
    }
}

fn acting_process(row: &mut HuntRow, ev: &FlatEvent, names: &[&str]) {
    path(
        row,
        P::ParentFileName,
        P::ParentFolderPath,
        first(ev, names),
    );
    put(row, P::ParentProcessId, ev, &["ProcessId", "ProcessID"]);
    if let Some(u) = first(ev, &["User", "SubjectUserName"]) {
        let name = u.rsplit('\\').next().unwrap_or(u);
        row.set(P::ParentAccountName, name);
    }
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn logon_type(n: &str) -> &str {
    match n.trim() {
        "2" => "Interactive",
        "3" => "Network",
        "4" => "Batch",
        "5" => "Service",
        "7" => "Unlock",
        "8" => "NetworkCleartext",
        "9" => "NewCredentials",
        "10" => "RemoteInteractive",
        "11" => "CachedInteractive",
        other => other,
    }
}

fn failure_reason(code: &str) -> &str {
    match code
        .trim()
        .trim_start_matches("0x")
        .to_ascii_lowercase()
        .as_str()
    {
        "c000006a" => "WrongPassword",
        "c0000064" => "UnknownUser",
        "c0000234" => "AccountLocked",
        "c0000072" => "AccountDisabled",
        "c000006f" => "OutsideAllowedHours",
        "c0000070" => "WorkstationRestriction",
        "c0000071" | "c0000224" => "PasswordExpired",
        "c0000193" => "AccountExpired",
        "c000015b" => "LogonTypeNotGranted",
        _ => code,
    }
}

fn windows(ev: &FlatEvent, with_additional: bool) -> HuntRow {
    let id = ev.event_id().unwrap_or(0);
    let channel = ev.channel().unwrap_or("");
    let sysmon = channel.eq_ignore_ascii_case(SYSMON);
    let security = channel.eq_ignore_ascii_case("Security");
    let table = match (sysmon, security, id) {
        (true, _, 1) | (_, true, 4688) => code::PROCESS,
        (true, _, 3 | 22) | (_, true, 5156) => code::NETWORK,
        (true, _, 2 | 11 | 15 | 23 | 26) => code::FILE,
        (true, _, 12..=14) | (_, true, 4657) => code::REGISTRY,
        (_, true, 4624 | 4625 | 4634 | 4647 | 4648) => code::LOGON,
        _ => code::DEVICE,
    };
    // Columns copy some of the event's values, and `AdditionalFields` all
    // of them as JSON: twice its text and some is room for both. Without
    // it, a small row that seldom grows: allocating room for the JSON
    // (4 KB and more) took the allocator's slow path, 1.4 % of the server.
    let room = if with_additional {
        2 * ev.text_len() + 256
    } else {
        512
    };
    let mut row = HuntRow::with_capacity(table, room);
    put(&mut row, P::DeviceName, ev, &["Computer", "Hostname"]);
    let action: String = match (sysmon, security, id) {
        (true, _, 1) | (_, true, 4688) => "ProcessCreated".into(),
        (true, _, 3) | (_, true, 5156) => "ConnectionSuccess".into(),
        (true, _, 22) => "DnsQuery".into(),
        (true, _, 11) => "FileCreated".into(),
        (true, _, 2) => "FileTimestampModified".into(),
        (true, _, 15) => "FileStreamCreated".into(),
        (true, _, 23 | 26) => "FileDeleted".into(),
        (true, _, 12) => match ev.get("EventType").unwrap_or("") {
            "DeleteKey" => "RegistryKeyDeleted".into(),
            "DeleteValue" => "RegistryValueDeleted".into(),
            _ => "RegistryKeyCreated".into(),
        },
        (true, _, 13) | (_, true, 4657) => "RegistryValueSet".into(),
        (true, _, 14) => "RegistryKeyRenamed".into(),
        (true, _, 5) => "ProcessTerminated".into(),
        (true, _, 6) => "DriverLoaded".into(),
        (true, _, 7) => "ImageLoaded".into(),
        (true, _, 8) => "CreateRemoteThreadApiCall".into(),
        (true, _, 10) => "OpenProcessApiCall".into(),
        (true, _, 17 | 18) => "NamedPipeEvent".into(),
        (true, _, 25) => "ProcessTampering".into(),
        (_, true, 4624) => "LogonSuccess".into(),
        (_, true, 4625) => "LogonFailed".into(),
        (_, true, 4634 | 4647) => "Logoff".into(),
        (_, true, 4648) => "LogonAttempted".into(),
        (_, true, 4698) => "ScheduledTaskCreated".into(),
        (_, true, 4720) => "UserAccountCreated".into(),
        (_, true, 4732) => "UserAccountAddedToLocalGroup".into(),
        (_, true, 1102) => "SecurityLogCleared".into(),
        (_, _, 7045) | (_, true, 4697) => "ServiceInstalled".into(),
        (_, _, 4104) => "PowerShellCommand".into(),
        _ => format!("Event{id}"),
    };
    row.set(P::ActionType, &action);
    match table {
        code::PROCESS => {
            path(
                &mut row,
                P::FileName,
                P::FolderPath,
                first(ev, &["Image", "NewProcessName"]),
            );
            put(&mut row, P::CommandLine, ev, &["CommandLine"]);
            hashes(&mut row, ev);
            if security {
                put(&mut row, P::ProcessId, ev, &["NewProcessId"]);
                path(
                    &mut row,
                    P::ParentFileName,
                    P::ParentFolderPath,
                    first(ev, &["ParentProcessName"]),
                );
                put(&mut row, P::ParentProcessId, ev, &["ProcessId"]);
                let user = first(ev, &["TargetUserName"])
                    .filter(|u| *u != "-")
                    .or(first(ev, &["SubjectUserName"]));
                account(
                    &mut row,
                    user,
                    first(ev, &["TargetDomainName", "SubjectDomainName"]),
                );
                put(
                    &mut row,
                    P::AccountSid,
                    ev,
                    &["TargetUserSid", "SubjectUserSid"],
                );
                put(&mut row, P::ParentAccountName, ev, &["SubjectUserName"]);
            } else {
                put(&mut row, P::ProcessId, ev, &["ProcessId"]);
                path(
                    &mut row,
                    P::ParentFileName,
                    P::ParentFolderPath,
                    first(ev, &["ParentImage"]),
                );
                put(&mut row, P::ParentCommandLine, ev, &["ParentCommandLine"]);
                put(&mut row, P::ParentProcessId, ev, &["ParentProcessId"]);
                account(&mut row, first(ev, &["User"]), None);
                if let Some(u) = first(ev, &["ParentUser", "User"]) {
                    row.set(P::ParentAccountName, u.rsplit('\\').next().unwrap_or(u));
                }
            }
        }
        code::NETWORK => {
            if id == 22 {
                put(&mut row, P::RemoteUrl, ev, &["QueryName"]);
            } else {
                put(&mut row, P::RemoteIp, ev, &["DestinationIp", "DestAddress"]);
                put(
                    &mut row,
                    P::RemotePort,
                    ev,
                    &["DestinationPort", "DestPort"],
                );
                put(&mut row, P::RemoteUrl, ev, &["DestinationHostname"]);
                put(&mut row, P::LocalIp, ev, &["SourceIp", "SourceAddress"]);
                put(&mut row, P::LocalPort, ev, &["SourcePort"]);
                if let Some(p) = first(ev, &["Protocol"]) {
                    let p = match p {
                        "6" => "tcp",
                        "17" => "udp",
                        other => other,
                    };
                    row.set(P::Protocol, &p.to_ascii_lowercase());
                }
            }
            acting_process(&mut row, ev, &["Image", "Application"]);
        }
        code::FILE => {
            path(
                &mut row,
                P::FileName,
                P::FolderPath,
                first(ev, &["TargetFilename"]),
            );
            hashes(&mut row, ev);
            acting_process(&mut row, ev, &["Image"]);
        }
        code::REGISTRY => {
            let key = first(ev, &["TargetObject", "ObjectName"]);
            if id == 13 {
                if let Some(k) = key {
                    match k.rsplit_once('\\') {
                        Some((parent, value)) => {
                            row.set(P::RegistryKey, parent);
                            row.set(P::RegistryValueName, value);
                        }
                        None => row.set(P::RegistryKey, k),
                    }
                }
            } else if let Some(k) = key {
                row.set(P::RegistryKey, k);
            }
            put(&mut row, P::RegistryValueName, ev, &["ObjectValueName"]);
            put(&mut row, P::RegistryValueData, ev, &["Details", "NewValue"]);
            acting_process(&mut row, ev, &["Image", "ProcessName"]);
        }
        code::LOGON => {
            account(
                &mut row,
                first(ev, &["TargetUserName"]),
                first(ev, &["TargetDomainName"]),
            );
            put(&mut row, P::AccountSid, ev, &["TargetUserSid"]);
            if let Some(t) = first(ev, &["LogonType"]) {
                row.set(P::LogonType, logon_type(t));
            }
            put(&mut row, P::RemoteIp, ev, &["IpAddress"]);
            put(&mut row, P::RemotePort, ev, &["IpPort"]);
            put(&mut row, P::ObjectName, ev, &["WorkstationName"]);
            if id == 4625 {
                if let Some(code) = first(ev, &["SubStatus", "Status"]).filter(|c| *c != "0x0") {
                    row.set(P::FailureReason, failure_reason(code));
                } else {
                    put(&mut row, P::FailureReason, ev, &["FailureReason"]);
                }
            }
            path(
                &mut row,
                P::ParentFileName,
                P::ParentFolderPath,
                first(ev, &["ProcessName"]),
            );
            put(&mut row, P::ParentProcessId, ev, &["ProcessId"]);
        }
        _ => {
            path(
                &mut row,
                P::FileName,
                P::FolderPath,
                first(
                    ev,
                    &[
                        "TargetFilename",
                        "ImageLoaded",
                        "ImagePath",
                        "ServiceFileName",
                        "Path",
                    ],
                ),
            );
            hashes(&mut row, ev);
            put(
                &mut row,
                P::CommandLine,
                ev,
                &["CommandLine", "ScriptBlockText", "TaskContent"],
            );
            let user = first(
                ev,
                &["User", "TargetUserName", "SubjectUserName", "AccountName"],
            );
            account(
                &mut row,
                user,
                first(ev, &["TargetDomainName", "SubjectDomainName"]),
            );
            put(&mut row, P::RemoteIp, ev, &["DestinationIp", "IpAddress"]);
            put(&mut row, P::RemotePort, ev, &["DestinationPort"]);
            put(
                &mut row,
                P::RemoteUrl,
                ev,
                &["DestinationHostname", "QueryName"],
            );
            put(&mut row, P::RegistryKey, ev, &["TargetObject"]);
            acting_process(&mut row, ev, &["Image", "SourceImage", "ProcessName"]);
            additional(&mut row, ev, with_additional);
        }
    }
    row
}

fn entra(ev: &FlatEvent, with_additional: bool) -> HuntRow {
    let mut row = HuntRow::new(code::IDENTITY_LOGON);
    let code = first(ev, &["status.errorCode", "ResultType"]).unwrap_or("0");
    let ok = code.trim() == "0";
    row.set(
        P::ActionType,
        if ok { "LogonSuccess" } else { "LogonFailed" },
    );
    if !ok {
        match first(ev, &["status.failureReason", "ResultDescription"]) {
            Some(r) => row.set(P::FailureReason, r),
            None => row.set(P::FailureReason, code),
        }
    }
    if let Some(upn) = first(ev, &["userPrincipalName"]) {
        row.set(P::AccountUpn, &upn.to_lowercase());
        match upn.split_once('@') {
            Some((n, d)) => {
                row.set(P::AccountName, n);
                row.set(P::AccountDomain, d);
            }
            None => row.set(P::AccountName, upn),
        }
    }
    put(
        &mut row,
        P::Application,
        ev,
        &["appDisplayName", "resourceDisplayName"],
    );
    put(&mut row, P::LogonType, ev, &["clientAppUsed"]);
    put(&mut row, P::RemoteIp, ev, &["ipAddress", "callerIpAddress"]);
    let country = first(ev, &["location.countryOrRegion", "location"]);
    let city = first(ev, &["location.city"]);
    match (country, city) {
        (Some(c), Some(t)) if !c.starts_with('{') => row.set(P::Location, &format!("{c}, {t}")),
        (Some(c), _) if !c.starts_with('{') => row.set(P::Location, c),
        (_, Some(t)) => row.set(P::Location, t),
        _ => {}
    }
    put(&mut row, P::DeviceName, ev, &["deviceDetail.displayName"]);
    additional(&mut row, ev, with_additional);
    row
}

fn okta(ev: &FlatEvent, with_additional: bool) -> HuntRow {
    let event_type = first(ev, &["eventType"]).unwrap_or("");
    let sign_in = event_type.starts_with("user.session.start")
        || event_type.starts_with("user.authentication");
    let mut row = HuntRow::new(if sign_in {
        code::IDENTITY_LOGON
    } else {
        code::CLOUD_APP
    });
    let ok = first(ev, &["outcome.result"]).is_none_or(|r| r.eq_ignore_ascii_case("SUCCESS"));
    if sign_in {
        row.set(
            P::ActionType,
            if ok { "LogonSuccess" } else { "LogonFailed" },
        );
        if !ok {
            put(
                &mut row,
                P::FailureReason,
                ev,
                &["outcome.reason", "outcome.result"],
            );
        }
    } else {
        row.set(P::ActionType, event_type);
    }
    row.set(P::Application, "Okta");
    if let Some(upn) = first(ev, &["actor.alternateId"]) {
        row.set(P::AccountUpn, &upn.to_lowercase());
        row.set(P::AccountName, upn.split('@').next().unwrap_or(upn));
    }
    put(&mut row, P::RemoteIp, ev, &["client.ipAddress"]);
    put(
        &mut row,
        P::Location,
        ev,
        &["client.geographicalContext.country"],
    );
    put(&mut row, P::ObjectName, ev, &["target.displayName"]);
    additional(&mut row, ev, with_additional);
    row
}

fn cloudtrail(ev: &FlatEvent, with_additional: bool) -> HuntRow {
    let mut row = HuntRow::new(code::CLOUD_APP);
    put(&mut row, P::ActionType, ev, &["eventName"]);
    row.set(P::Application, "Amazon Web Services");
    put(
        &mut row,
        P::AccountUpn,
        ev,
        &["userIdentity.arn", "userIdentity.principalId"],
    );
    put(
        &mut row,
        P::AccountName,
        ev,
        &[
            "userIdentity.userName",
            "userIdentity.sessionContext.sessionIssuer.userName",
            "userIdentity.principalId",
        ],
    );
    put(&mut row, P::RemoteIp, ev, &["sourceIPAddress"]);
    put(&mut row, P::Location, ev, &["awsRegion"]);
    put(&mut row, P::ObjectName, ev, &["eventSource"]);
    additional(&mut row, ev, with_additional);
    row
}

fn m365(ev: &FlatEvent, with_additional: bool) -> HuntRow {
    let operation = first(ev, &["Operation"]).unwrap_or("");
    let workload = first(ev, &["Workload"]).unwrap_or("");
    let send = workload.eq_ignore_ascii_case("Exchange")
        && matches!(operation, "Send" | "SendAs" | "SendOnBehalf");
    let mut row = HuntRow::new(if send { code::EMAIL } else { code::CLOUD_APP });
    row.set(P::ActionType, operation);
    if send {
        put(&mut row, P::Sender, ev, &["UserId"]);
        put(&mut row, P::Subject, ev, &["Item.Subject"]);
        put(
            &mut row,
            P::Recipient,
            ev,
            &["Item.Recipients", "Recipients"],
        );
        put(&mut row, P::RemoteIp, ev, &["ClientIP", "ClientIPAddress"]);
        return row;
    }
    row.set(P::Application, &format!("Microsoft 365 {workload}"));
    put(&mut row, P::AccountUpn, ev, &["UserId"]);
    put(&mut row, P::AccountName, ev, &["UserId"]);
    put(
        &mut row,
        P::RemoteIp,
        ev,
        &["ClientIP", "ClientIPAddress", "ActorIpAddress"],
    );
    put(&mut row, P::ObjectName, ev, &["ObjectId"]);
    additional(&mut row, ev, with_additional);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event of the hunting fixture (every shape with a table).
    fn fixture() -> Vec<(String, Decoded)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/events.jsonl");
        let text = std::fs::read_to_string(path).expect("fixture");
        text.lines()
            .map(|line| {
                let mut decoded = vigil_formats::decode_records(line.as_bytes()).expect("decodes");
                let d = decoded.pop().expect("one event").expect("event");
                (line.to_owned(), d)
            })
            .collect()
    }

    #[test]
    fn additional_made_from_the_record_is_what_projection_gives() {
        let mut with_text = 0;
        for (line, d) in fixture() {
            let Some(row) = project(&d) else { continue };
            let projected = row.get(P::Additional).map(|v| match v {
                HuntValue::Text(t) => t.to_owned(),
                HuntValue::Int(n) => n.to_string(),
            });
            with_text += usize::from(projected.is_some());
            assert_eq!(additional_of_record(line.as_bytes()), projected, "{line}");
        }
        assert!(
            with_text > 5,
            "the fixture has events with AdditionalFields"
        );
    }

    #[test]
    fn a_lean_row_lacks_additional_and_has_every_other_column() {
        for (line, d) in fixture() {
            let (Some(full), Some(lean)) = (project(&d), project_lean(&d)) else {
                assert!(project_lean(&d).is_none(), "{line}");
                continue;
            };
            assert_eq!(lean.get(P::Additional), None, "{line}");
            for c in P::ALL.iter().filter(|c| **c != P::Additional) {
                assert_eq!(lean.get(*c), full.get(*c), "{c:?} of {line}");
            }
            assert_eq!(lean.table, full.table, "{line}");
        }
    }

    #[test]
    fn a_record_that_is_not_one_event_has_no_additional() {
        assert_eq!(additional_of_record(b"not json"), None);
        assert_eq!(additional_of_record(b"[]"), None);
        assert_eq!(additional_of_record(&[0xff, 0xfe, b'{']), None);
    }
}
