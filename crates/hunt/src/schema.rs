//! The hunting tables, named as in Defender's advanced hunting, and their
//! columns: each an analyst-facing name and type over a physical column
//! of the projection (`hunt_events`), or over the alert tables.

use vigil_core::hunting::HuntColumn as P;

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    String,
    Long,
    Real,
    Bool,
    /// Stored as microseconds since the epoch; shown as RFC 3339.
    DateTime,
    /// Microseconds.
    Timespan,
    /// JSON (`parse_json`, `make_set`).
    Dynamic,
}

impl Type {
    pub fn as_str(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Long => "long",
            Type::Real => "real",
            Type::Bool => "bool",
            Type::DateTime => "datetime",
            Type::Timespan => "timespan",
            Type::Dynamic => "dynamic",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Long | Type::Real)
    }
}

/// Where a column's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A projection column.
    Physical(P),
    /// The event time (`ts`).
    Time,
    /// The tenant (`tenant_id`).
    Tenant,
    /// The event's `seq`.
    Seq,
    /// A fixed SQL expression over the alert tables (`a` = alerts,
    /// `e` = alert_entities); written here, never from query text.
    Alert(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: Type,
    pub source: Source,
    pub description: &'static str,
}

/// What a table reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// Rows of `hunt_events` with this table code.
    Events(i64),
    /// One row per alert.
    Alerts,
    /// One row per alert entity.
    AlertEntities,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    pub name: &'static str,
    pub backing: Backing,
    pub description: &'static str,
    pub columns: &'static [ColumnDef],
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&'static ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(name: &'static str, ty: Type, source: Source, description: &'static str) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        source,
        description,
    }
}

const fn s(name: &'static str, p: P, description: &'static str) -> ColumnDef {
    col(name, Type::String, Source::Physical(p), description)
}

const fn l(name: &'static str, p: P, description: &'static str) -> ColumnDef {
    col(name, Type::Long, Source::Physical(p), description)
}

const TIMESTAMP: ColumnDef = col(
    "Timestamp",
    Type::DateTime,
    Source::Time,
    "when the event happened (UTC)",
);
const TENANT: ColumnDef = col("TenantId", Type::String, Source::Tenant, "the tenant's id");
const REPORT: ColumnDef = col(
    "ReportId",
    Type::Long,
    Source::Seq,
    "the stored event's id (its sequence number)",
);
const DEVICE: ColumnDef = s("DeviceName", P::DeviceName, "the computer's name");
const ACTION: ColumnDef = s("ActionType", P::ActionType, "what happened");
const IP_FILE: ColumnDef = s(
    "InitiatingProcessFileName",
    P::ParentFileName,
    "the acting process's file name",
);
const IP_PATH: ColumnDef = s(
    "InitiatingProcessFolderPath",
    P::ParentFolderPath,
    "the acting process's path",
);
const IP_CMD: ColumnDef = s(
    "InitiatingProcessCommandLine",
    P::ParentCommandLine,
    "the acting process's command line",
);
const IP_ID: ColumnDef = l(
    "InitiatingProcessId",
    P::ParentProcessId,
    "the acting process's id",
);
const IP_ACCOUNT: ColumnDef = s(
    "InitiatingProcessAccountName",
    P::ParentAccountName,
    "the acting process's account",
);
const FILE: ColumnDef = s("FileName", P::FileName, "file name without the folder");
const FOLDER: ColumnDef = s("FolderPath", P::FolderPath, "full path of the file");
const SHA256: ColumnDef = s("SHA256", P::Sha256, "SHA-256 of the file");
const SHA1: ColumnDef = s("SHA1", P::Sha1, "SHA-1 of the file");
const MD5: ColumnDef = s("MD5", P::Md5, "MD5 of the file");
const ACCOUNT: ColumnDef = s(
    "AccountName",
    P::AccountName,
    "user name without the domain",
);
const DOMAIN: ColumnDef = s("AccountDomain", P::AccountDomain, "the account's domain");
const SID: ColumnDef = s(
    "AccountSid",
    P::AccountSid,
    "the account's security identifier",
);
const REMOTE_IP: ColumnDef = s("RemoteIP", P::RemoteIp, "the other end's address");
const REMOTE_PORT: ColumnDef = l("RemotePort", P::RemotePort, "the other end's port");
const REMOTE_URL: ColumnDef = s("RemoteUrl", P::RemoteUrl, "the host name or URL reached");

/// Table codes in `hunt_events.tbl` (stable: stored).
pub mod code {
    pub const PROCESS: i64 = 1;
    pub const NETWORK: i64 = 2;
    pub const FILE: i64 = 3;
    pub const REGISTRY: i64 = 4;
    pub const LOGON: i64 = 5;
    pub const DEVICE: i64 = 6;
    pub const IDENTITY_LOGON: i64 = 7;
    pub const EMAIL: i64 = 8;
    pub const CLOUD_APP: i64 = 9;
}

pub static TABLES: &[TableDef] = &[
    TableDef {
        name: "DeviceProcessEvents",
        backing: Backing::Events(code::PROCESS),
        description: "process creation (Sysmon 1, Security 4688)",
        columns: &[
            TIMESTAMP,
            DEVICE,
            ACTION,
            FILE,
            FOLDER,
            SHA256,
            SHA1,
            MD5,
            l("ProcessId", P::ProcessId, "the new process's id"),
            s(
                "ProcessCommandLine",
                P::CommandLine,
                "the new process's command line",
            ),
            ACCOUNT,
            DOMAIN,
            SID,
            IP_FILE,
            IP_PATH,
            IP_CMD,
            IP_ID,
            IP_ACCOUNT,
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "DeviceNetworkEvents",
        backing: Backing::Events(code::NETWORK),
        description: "network connections and DNS queries (Sysmon 3 and 22, Security 5156)",
        columns: &[
            TIMESTAMP,
            DEVICE,
            ACTION,
            REMOTE_IP,
            REMOTE_PORT,
            REMOTE_URL,
            s("LocalIP", P::LocalIp, "this end's address"),
            l("LocalPort", P::LocalPort, "this end's port"),
            s("Protocol", P::Protocol, "tcp, udp, …"),
            IP_FILE,
            IP_PATH,
            IP_ID,
            IP_ACCOUNT,
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "DeviceFileEvents",
        backing: Backing::Events(code::FILE),
        description: "file creation, deletion and changes (Sysmon 2, 11, 15, 23, 26)",
        columns: &[
            TIMESTAMP, DEVICE, ACTION, FILE, FOLDER, SHA256, SHA1, MD5, IP_FILE, IP_PATH, IP_ID,
            IP_ACCOUNT, REPORT, TENANT,
        ],
    },
    TableDef {
        name: "DeviceRegistryEvents",
        backing: Backing::Events(code::REGISTRY),
        description: "registry keys and values (Sysmon 12, 13, 14; Security 4657)",
        columns: &[
            TIMESTAMP,
            DEVICE,
            ACTION,
            s("RegistryKey", P::RegistryKey, "the key"),
            s(
                "RegistryValueName",
                P::RegistryValueName,
                "the value's name",
            ),
            s(
                "RegistryValueData",
                P::RegistryValueData,
                "the value's data",
            ),
            IP_FILE,
            IP_PATH,
            IP_ID,
            IP_ACCOUNT,
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "DeviceLogonEvents",
        backing: Backing::Events(code::LOGON),
        description: "sign-ins to devices (Security 4624, 4625, 4634, 4648)",
        columns: &[
            TIMESTAMP,
            DEVICE,
            ACTION,
            ACCOUNT,
            DOMAIN,
            SID,
            s(
                "LogonType",
                P::LogonType,
                "Interactive, Network, RemoteInteractive, …",
            ),
            REMOTE_IP,
            REMOTE_PORT,
            s(
                "RemoteDeviceName",
                P::ObjectName,
                "the workstation the sign-in came from",
            ),
            s("FailureReason", P::FailureReason, "why a sign-in failed"),
            IP_FILE,
            IP_PATH,
            IP_ID,
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "DeviceEvents",
        backing: Backing::Events(code::DEVICE),
        description: "other Windows events: services, tasks, PowerShell, image loads, …",
        columns: &[
            TIMESTAMP,
            DEVICE,
            ACTION,
            FILE,
            FOLDER,
            SHA256,
            s(
                "ProcessCommandLine",
                P::CommandLine,
                "a command line the event names",
            ),
            ACCOUNT,
            DOMAIN,
            REMOTE_IP,
            REMOTE_PORT,
            REMOTE_URL,
            s(
                "RegistryKey",
                P::RegistryKey,
                "a registry key the event names",
            ),
            IP_FILE,
            IP_PATH,
            IP_ID,
            col(
                "AdditionalFields",
                Type::Dynamic,
                Source::Physical(P::Additional),
                "every field of the event, as JSON",
            ),
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "IdentityLogonEvents",
        backing: Backing::Events(code::IDENTITY_LOGON),
        description: "cloud identity sign-ins (Entra ID, Okta)",
        columns: &[
            TIMESTAMP,
            ACTION,
            s(
                "Application",
                P::Application,
                "the application signed in to",
            ),
            s(
                "LogonType",
                P::LogonType,
                "the client application or protocol",
            ),
            s("AccountUpn", P::AccountUpn, "the user principal name"),
            ACCOUNT,
            DOMAIN,
            s("IPAddress", P::RemoteIp, "the address signed in from"),
            s("Location", P::Location, "country, city"),
            s("FailureReason", P::FailureReason, "why a sign-in failed"),
            DEVICE,
            col(
                "AdditionalFields",
                Type::Dynamic,
                Source::Physical(P::Additional),
                "every field of the record, as JSON",
            ),
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "EmailEvents",
        backing: Backing::Events(code::EMAIL),
        description: "mail sent and received (Microsoft 365 Exchange send operations)",
        columns: &[
            TIMESTAMP,
            s("SenderFromAddress", P::Sender, "the sender"),
            s("RecipientEmailAddress", P::Recipient, "the recipients"),
            s("Subject", P::Subject, "the subject"),
            s("SenderIPv4", P::RemoteIp, "the sending client's address"),
            ACTION,
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "CloudAppEvents",
        backing: Backing::Events(code::CLOUD_APP),
        description: "cloud activity (AWS CloudTrail, Microsoft 365 audit)",
        columns: &[
            TIMESTAMP,
            ACTION,
            s("Application", P::Application, "the cloud service"),
            s("AccountId", P::AccountUpn, "the acting identity (ARN, UPN)"),
            s(
                "AccountDisplayName",
                P::AccountName,
                "the acting identity's name",
            ),
            s("IPAddress", P::RemoteIp, "the client's address"),
            s("CountryCode", P::Location, "the client's country or region"),
            s("ObjectName", P::ObjectName, "the object acted on"),
            col(
                "RawEventData",
                Type::Dynamic,
                Source::Physical(P::Additional),
                "the record's fields, as JSON",
            ),
            REPORT,
            TENANT,
        ],
    },
    TableDef {
        name: "AlertInfo",
        backing: Backing::Alerts,
        description: "alerts raised by Vigil's rules and scheduled hunts",
        columns: &[
            col(
                "Timestamp",
                Type::DateTime,
                Source::Alert("a.last_activity"),
                "the alert's last activity",
            ),
            col(
                "AlertId",
                Type::String,
                Source::Alert("a.id"),
                "the alert's id",
            ),
            col(
                "Title",
                Type::String,
                Source::Alert("a.rule_title"),
                "the rule's title",
            ),
            col(
                "Severity",
                Type::String,
                Source::Alert("a.severity"),
                "informational … critical",
            ),
            col(
                "DetectionSource",
                Type::String,
                Source::Alert("a.source"),
                "sigma, correlation or hunt",
            ),
            col(
                "RuleId",
                Type::String,
                Source::Alert("a.rule_id"),
                "the rule or hunt id",
            ),
            col(
                "Category",
                Type::Dynamic,
                Source::Alert("a.tactics"),
                "ATT&CK tactics",
            ),
            col(
                "AttackTechniques",
                Type::Dynamic,
                Source::Alert("a.techniques"),
                "ATT&CK technique ids",
            ),
            col(
                "FirstActivity",
                Type::DateTime,
                Source::Alert("a.first_activity"),
                "the alert's first activity",
            ),
            col(
                "Count",
                Type::Long,
                Source::Alert("a.count"),
                "matching events",
            ),
            col(
                "IncidentId",
                Type::String,
                Source::Alert("a.incident_id"),
                "the incident it belongs to",
            ),
            col(
                "TenantId",
                Type::String,
                Source::Alert("a.tenant_id"),
                "the tenant's id",
            ),
        ],
    },
    TableDef {
        name: "AlertEvidence",
        backing: Backing::AlertEntities,
        description: "the entities of each alert",
        columns: &[
            col(
                "Timestamp",
                Type::DateTime,
                Source::Alert("a.last_activity"),
                "the alert's last activity",
            ),
            col(
                "AlertId",
                Type::String,
                Source::Alert("a.id"),
                "the alert's id",
            ),
            col(
                "Title",
                Type::String,
                Source::Alert("a.rule_title"),
                "the rule's title",
            ),
            col(
                "Severity",
                Type::String,
                Source::Alert("a.severity"),
                "informational … critical",
            ),
            col(
                "DetectionSource",
                Type::String,
                Source::Alert("a.source"),
                "sigma, correlation or hunt",
            ),
            col(
                "EntityType",
                Type::String,
                Source::Alert("e.kind"),
                "device, user, ip, process, file, file_hash, url, domain, mailbox, cloud_resource",
            ),
            col(
                "EntityValue",
                Type::String,
                Source::Alert("e.value"),
                "the entity",
            ),
            col(
                "DeviceName",
                Type::String,
                Source::Alert("CASE WHEN e.kind = 'device' THEN e.value END"),
                "for device entities",
            ),
            col(
                "AccountName",
                Type::String,
                Source::Alert("CASE WHEN e.kind = 'user' THEN e.value END"),
                "for user entities",
            ),
            col(
                "RemoteIP",
                Type::String,
                Source::Alert("CASE WHEN e.kind = 'ip' THEN e.value END"),
                "for IP entities",
            ),
            col(
                "FileName",
                Type::String,
                Source::Alert("CASE WHEN e.kind IN ('file', 'process') THEN e.value END"),
                "for file and process entities",
            ),
            col(
                "SHA256",
                Type::String,
                Source::Alert(
                    "CASE WHEN e.kind = 'file_hash' AND length(e.value) = 64 THEN e.value END",
                ),
                "for SHA-256 entities",
            ),
            col(
                "RemoteUrl",
                Type::String,
                Source::Alert("CASE WHEN e.kind IN ('url', 'domain') THEN e.value END"),
                "for URL and domain entities",
            ),
            col(
                "TenantId",
                Type::String,
                Source::Alert("a.tenant_id"),
                "the tenant's id",
            ),
        ],
    },
];

/// The table called `name` (exact, as KQL is case-sensitive).
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}
