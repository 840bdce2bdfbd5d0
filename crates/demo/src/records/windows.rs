//! Windows events as `evtx_dump -o jsonl` writes them: Sysmon process,
//! network and file events, Security logons, privileges, Kerberos tickets
//! and log clearing, and Defender's "real-time protection turned off".

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{sysmon_utc, windows_time};
use crate::rng::file_digest;

const SYSMON: (&str, &str) = (
    "Microsoft-Windows-Sysmon",
    "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
);
const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";
const SECURITY: (&str, &str) = (
    "Microsoft-Windows-Security-Auditing",
    "{54849625-5478-4994-A5BA-3E3B0328C30D}",
);
const DEFENDER: (&str, &str) = (
    "Microsoft-Windows-Windows Defender",
    "{11CD958A-C507-4EF3-B3F2-5FD9DFBD2C78}",
);
const DEFENDER_CHANNEL: &str = "Microsoft-Windows-Windows Defender/Operational";
const AUDIT_SUCCESS: &str = "0x8020000000000000";
const AUDIT_FAILURE: &str = "0x8010000000000000";

/// Where and when an event was written.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The host's full name, as `Computer` holds it.
    pub computer: &'a str,
    pub time: Timestamp,
    /// The channel's running record number.
    pub record_id: u64,
}

/// A process as Sysmon describes it.
#[derive(Debug, Clone, Default)]
pub struct Proc {
    pub guid: String,
    pub pid: u32,
    pub image: String,
    pub command_line: String,
    /// `DOMAIN\name`, or `NT AUTHORITY\SYSTEM`.
    pub user: String,
    pub integrity: &'static str,
    pub logon_id: String,
    pub current_directory: String,
}

impl Proc {
    /// The file name of the image (`powershell.exe`).
    pub fn file_name(&self) -> &str {
        self.image.rsplit('\\').next().unwrap_or(&self.image)
    }
}

#[allow(clippy::too_many_arguments)]
fn envelope(
    provider: (&str, &str),
    channel: &str,
    event_id: u32,
    version: u32,
    task: u32,
    keywords: &str,
    o: &Origin<'_>,
    user_sid: Option<&str>,
    data: Value,
) -> Value {
    let security = match user_sid {
        Some(sid) => json!({"#attributes": {"UserID": sid}}),
        None => Value::Null,
    };
    json!({
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": provider.0, "Guid": provider.1}},
                "EventID": event_id,
                "Version": version,
                "Level": if channel == "Security" { 0 } else { 4 },
                "Task": task,
                "Opcode": 0,
                "Keywords": keywords,
                "TimeCreated": {"#attributes": {"SystemTime": windows_time(o.time)}},
                "EventRecordID": o.record_id,
                "Correlation": null,
                "Execution": {"#attributes": {"ProcessID": 3012, "ThreadID": 4040}},
                "Channel": channel,
                "Computer": o.computer,
                "Security": security,
            },
            "EventData": data,
        }
    })
}

fn sysmon(event_id: u32, version: u32, o: &Origin<'_>, data: Value) -> Value {
    envelope(
        SYSMON,
        SYSMON_CHANNEL,
        event_id,
        version,
        event_id,
        "0x8000000000000000",
        o,
        Some("S-1-5-18"),
        data,
    )
}

/// Sysmon 1: a process started.
pub fn process_create(o: &Origin<'_>, p: &Proc, parent: &Proc) -> Value {
    sysmon(
        1,
        5,
        o,
        json!({
            "RuleName": "-",
            "UtcTime": sysmon_utc(o.time),
            "ProcessGuid": p.guid,
            "ProcessId": p.pid,
            "Image": p.image,
            "OriginalFileName": p.file_name().to_ascii_uppercase(),
            "CommandLine": p.command_line,
            "CurrentDirectory": p.current_directory,
            "User": p.user,
            "LogonId": p.logon_id,
            "TerminalSessionId": if p.user.starts_with("NT AUTHORITY") { 0 } else { 1 },
            "IntegrityLevel": p.integrity,
            "Hashes": format!("SHA256={}", file_digest(&p.image)),
            "ParentProcessGuid": parent.guid,
            "ParentProcessId": parent.pid,
            "ParentImage": parent.image,
            "ParentCommandLine": parent.command_line,
            "ParentUser": parent.user,
        }),
    )
}

/// Where a connection went.
#[derive(Debug, Clone, Copy)]
pub struct Peer<'a> {
    pub source_ip: &'a str,
    pub source_port: u16,
    pub ip: &'a str,
    pub host: &'a str,
    pub port: u16,
}

/// Sysmon 3: an outbound TCP connection.
pub fn network_connect(o: &Origin<'_>, p: &Proc, to: &Peer<'_>) -> Value {
    sysmon(
        3,
        5,
        o,
        json!({
            "RuleName": "-",
            "UtcTime": sysmon_utc(o.time),
            "ProcessGuid": p.guid,
            "ProcessId": p.pid,
            "Image": p.image,
            "User": p.user,
            "Protocol": "tcp",
            "Initiated": true,
            "SourceIsIpv6": false,
            "SourceIp": to.source_ip,
            "SourceHostname": o.computer,
            "SourcePort": to.source_port,
            "DestinationIsIpv6": false,
            "DestinationIp": to.ip,
            "DestinationHostname": to.host,
            "DestinationPort": to.port,
            "DestinationPortName": if to.port == 443 { "https" } else { "-" },
        }),
    )
}

/// Sysmon 11: a file created or overwritten.
pub fn file_create(o: &Origin<'_>, p: &Proc, target: &str) -> Value {
    sysmon(
        11,
        2,
        o,
        json!({
            "RuleName": "-",
            "UtcTime": sysmon_utc(o.time),
            "ProcessGuid": p.guid,
            "ProcessId": p.pid,
            "Image": p.image,
            "TargetFilename": target,
            "CreationUtcTime": sysmon_utc(o.time),
            "User": p.user,
        }),
    )
}

/// Who logged on, from where.
#[derive(Debug, Clone, Copy)]
pub struct Logon<'a> {
    pub user: &'a str,
    pub domain: &'a str,
    /// 2 interactive, 3 network, 7 unlock, 10 remote interactive.
    pub logon_type: u32,
    pub ip: &'a str,
    pub workstation: &'a str,
    pub logon_id: &'a str,
}

/// Security 4624 (or 4625 when `ok` is false).
pub fn logon(o: &Origin<'_>, l: &Logon<'_>, ok: bool) -> Value {
    let network = l.logon_type == 3;
    let mut data = json!({
        "SubjectUserSid": if network { "S-1-0-0" } else { "S-1-5-18" },
        "SubjectUserName": if network { "-".to_owned() } else { format!("{}$", o.computer.split('.').next().unwrap_or("-")) },
        "SubjectDomainName": if network { "-" } else { l.domain },
        "SubjectLogonId": if network { "0x0" } else { "0x3e7" },
        "TargetUserSid": "S-1-5-21-3623811015-3361044348-30300820-1107",
        "TargetUserName": l.user,
        "TargetDomainName": l.domain,
        "LogonType": l.logon_type,
        "LogonProcessName": if network { "Kerberos" } else { "User32 " },
        "AuthenticationPackageName": if network { "Kerberos" } else { "Negotiate" },
        "WorkstationName": l.workstation,
        "ProcessName": if network { "-" } else { "C:\\Windows\\System32\\svchost.exe" },
        "IpAddress": l.ip,
        "IpPort": if l.ip == "-" { "-" } else { "49732" },
    });
    if ok {
        data["TargetLogonId"] = json!(l.logon_id);
        data["ImpersonationLevel"] = json!("%%1833");
        data["ElevatedToken"] = json!("%%1842");
    } else {
        data["Status"] = json!("0xc000006d");
        data["SubStatus"] = json!("0xc000006a");
        data["FailureReason"] = json!("%%2313");
    }
    let (id, keywords) = if ok {
        (4624, AUDIT_SUCCESS)
    } else {
        (4625, AUDIT_FAILURE)
    };
    envelope(SECURITY, "Security", id, 2, 12544, keywords, o, None, data)
}

/// Security 4672: special privileges assigned to a new logon (an
/// administrator's).
pub fn special_privileges(o: &Origin<'_>, user: &str, domain: &str, logon_id: &str) -> Value {
    envelope(
        SECURITY,
        "Security",
        4672,
        0,
        12548,
        AUDIT_SUCCESS,
        o,
        None,
        json!({
            "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-1107",
            "SubjectUserName": user,
            "SubjectDomainName": domain,
            "SubjectLogonId": logon_id,
            "PrivilegeList": "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeTakeOwnershipPrivilege\n\t\t\tSeDebugPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\tSeLoadDriverPrivilege\n\t\t\tSeImpersonatePrivilege",
        }),
    )
}

/// Security 4769: a Kerberos service ticket requested (domain controllers).
pub fn service_ticket(o: &Origin<'_>, user: &str, realm: &str, service: &str, ip: &str) -> Value {
    envelope(
        SECURITY,
        "Security",
        4769,
        0,
        14337,
        AUDIT_SUCCESS,
        o,
        None,
        json!({
            "TargetUserName": format!("{user}@{realm}"),
            "TargetDomainName": realm,
            "ServiceName": service,
            "ServiceSid": "S-1-5-21-3623811015-3361044348-30300820-1104",
            "TicketOptions": "0x40810000",
            "TicketEncryptionType": "0x12",
            "IpAddress": format!("::ffff:{ip}"),
            "IpPort": "50233",
            "Status": "0x0",
            "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
            "TransmittedServices": "-",
        }),
    )
}

/// Security 1102: the audit log was cleared.
pub fn security_log_cleared(o: &Origin<'_>, user: &str, domain: &str) -> Value {
    let mut v = envelope(
        (
            "Microsoft-Windows-Eventlog",
            "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}",
        ),
        "Security",
        1102,
        0,
        104,
        "0x4020000000000000",
        o,
        None,
        Value::Null,
    );
    if let Some(event) = v.get_mut("Event").and_then(Value::as_object_mut) {
        event.remove("EventData");
        event.insert(
            "UserData".into(),
            json!({"LogFileCleared": {
                "SubjectUserSid": "S-1-5-21-3623811015-3361044348-30300820-1107",
                "SubjectUserName": user,
                "SubjectDomainName": domain,
                "SubjectLogonId": "0x7a3f21",
            }}),
        );
    }
    v
}

/// Defender 5001: real-time protection was turned off.
pub fn realtime_protection_disabled(o: &Origin<'_>) -> Value {
    envelope(
        DEFENDER,
        DEFENDER_CHANNEL,
        5001,
        0,
        0,
        "0x8000000000000000",
        o,
        Some("S-1-5-18"),
        json!({
            "Product Name": "Microsoft Defender Antivirus",
            "Product Version": "4.18.24090.11",
        }),
    )
}
