//! Identity, mail and cloud records: Entra ID sign-in logs (the
//! diagnostic-settings export), the Microsoft 365 unified audit log
//! (Exchange, SharePoint, Defender for Office 365's `TIMailData`) and AWS
//! CloudTrail.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{m365_time, seconds_z, windows_time};
use crate::estate::{AWS_ACCOUNT, DOMAIN, ENTRA_TENANT};

/// Where a sign-in came from.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub ip: &'a str,
    pub city: &'a str,
    pub country: &'a str,
    pub lat: f64,
    pub lon: f64,
}

/// One Entra ID sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    pub id: &'a str,
    pub correlation: &'a str,
    pub upn: &'a str,
    pub display: &'a str,
    pub user_id: &'a str,
    pub app: (&'a str, &'a str),
    /// 0 for success; 50126 a wrong password; 50074 MFA required.
    pub error_code: u32,
    pub place: Place<'a>,
    pub user_agent: &'a str,
    /// The managed device signing in (`""`: none).
    pub device: &'a str,
    pub mfa: bool,
}

fn failure_reason(code: u32) -> &'static str {
    match code {
        0 => "Other.",
        50126 => "Error validating credentials due to invalid username or password.",
        50074 => "Strong Authentication is required.",
        50053 => {
            "Account is locked because user tried to sign in too many times with an incorrect user ID or password."
        }
        _ => "Other.",
    }
}

/// A sign-in as diagnostic settings stream it to an event hub.
pub fn entra_signin(t: Timestamp, s: &SignIn<'_>) -> Value {
    let status = if s.error_code == 0 {
        json!({"errorCode": 0})
    } else {
        json!({"errorCode": s.error_code, "failureReason": failure_reason(s.error_code)})
    };
    json!({
        "time": windows_time(t),
        "resourceId": format!("/tenants/{ENTRA_TENANT}/providers/Microsoft.aadiam"),
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "SignInLogs",
        "tenantId": ENTRA_TENANT,
        "resultType": s.error_code.to_string(),
        "resultSignature": "None",
        "resultDescription": if s.error_code == 0 { "" } else { failure_reason(s.error_code) },
        "durationMs": 0,
        "callerIpAddress": s.place.ip,
        "correlationId": s.correlation,
        "identity": s.display,
        "Level": 4,
        "location": s.place.country,
        "properties": {
            "id": s.id,
            "createdDateTime": windows_time(t).replace('Z', "+00:00"),
            "userDisplayName": s.display,
            "userPrincipalName": s.upn,
            "userId": s.user_id,
            "appId": s.app.0,
            "appDisplayName": s.app.1,
            "ipAddress": s.place.ip,
            "status": status,
            "clientAppUsed": "Browser",
            "userAgent": s.user_agent,
            "deviceDetail": {
                "deviceId": "",
                "displayName": s.device,
                "operatingSystem": "Windows10",
                "browser": "Edge 131.0.0",
                "isCompliant": !s.device.is_empty(),
                "isManaged": !s.device.is_empty(),
                "trustType": if s.device.is_empty() { "" } else { "Hybrid Azure AD joined" },
            },
            "location": {
                "city": s.place.city,
                "state": s.place.city,
                "countryOrRegion": s.place.country,
                "geoCoordinates": {"latitude": s.place.lat, "longitude": s.place.lon},
            },
            "conditionalAccessStatus": if s.mfa { "success" } else { "notApplied" },
            "appliedConditionalAccessPolicies": [],
            "authenticationRequirement": if s.mfa { "multiFactorAuthentication" } else { "singleFactorAuthentication" },
            "isInteractive": true,
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskEventTypes_v2": [],
            "resourceDisplayName": s.app.1,
            "networkLocationDetails": [],
            "tokenIssuerType": "AzureAD",
        }
    })
}

/// The fields every unified audit record carries.
fn audit_base(t: Timestamp, id: &str, workload: &str, operation: &str, record_type: u32) -> Value {
    json!({
        "CreationTime": m365_time(t),
        "Id": id,
        "Operation": operation,
        "OrganizationId": ENTRA_TENANT,
        "RecordType": record_type,
        "ResultStatus": "Succeeded",
        "Version": 1,
        "Workload": workload,
    })
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// Exchange: a message sent from a mailbox.
pub fn exchange_send(t: Timestamp, id: &str, upn: &str, ip: &str, subject: &str) -> Value {
    merge(
        audit_base(t, id, "Exchange", "Send", 2),
        json!({
            "UserId": upn,
            "UserKey": upn,
            "UserType": 0,
            "ClientIP": ip,
            "ClientIPAddress": ip,
            "ClientInfoString": "Client=OutlookService;Outlook-Windows/16.0",
            "ExternalAccess": false,
            "LogonType": 0,
            "MailboxOwnerUPN": upn,
            "ObjectId": "",
            "Item": {"Subject": subject, "ParentFolder": {"Path": "\\Sent Items"}},
        }),
    )
}

/// Exchange: mail items read through a client (sync or bind).
pub fn exchange_mail_accessed(t: Timestamp, id: &str, upn: &str, ip: &str, access: &str) -> Value {
    merge(
        audit_base(t, id, "Exchange", "MailItemsAccessed", 50),
        json!({
            "UserId": upn,
            "UserKey": upn,
            "UserType": 0,
            "ClientIP": ip,
            "ClientIPAddress": ip,
            "ClientInfoString": "Client=REST;Client=RESTSystem;",
            "ExternalAccess": false,
            "LogonType": 0,
            "MailboxOwnerUPN": upn,
            "OperationProperties": [
                {"Name": "MailAccessType", "Value": access},
                {"Name": "IsThrottled", "Value": "False"},
            ],
        }),
    )
}

/// Exchange: an inbox rule created (`New-InboxRule`) with these parameters.
pub fn new_inbox_rule(
    t: Timestamp,
    id: &str,
    upn: &str,
    ip: &str,
    params: &[(&str, &str)],
) -> Value {
    let mut parameters = vec![
        json!({"Name": "AlwaysDeleteOutlookRulesBlob", "Value": "False"}),
        json!({"Name": "Force", "Value": "False"}),
    ];
    parameters.extend(
        params
            .iter()
            .map(|(name, value)| json!({"Name": name, "Value": value})),
    );
    let sam = upn.split('@').next().unwrap_or(upn);
    merge(
        audit_base(t, id, "Exchange", "New-InboxRule", 1),
        json!({
            "UserId": upn,
            "UserKey": "10032002A1B2C3D4",
            "UserType": 2,
            "ClientIP": format!("{ip}:51532"),
            "ObjectId": format!("{DOMAIN}/Users/{sam}\\."),
            "AppId": "00000002-0000-0ff1-ce00-000000000000",
            "ClientAppId": "",
            "ExternalAccess": false,
            "OrganizationName": "brightwater.onmicrosoft.com",
            "OriginatingServer": "AM0PR01MB1234 (15.20.8000.000)",
            "Parameters": parameters,
            "SessionId": id,
        }),
    )
}

/// SharePoint / OneDrive: a file opened.
pub fn sharepoint_file_accessed(t: Timestamp, id: &str, upn: &str, ip: &str, file: &str) -> Value {
    let site = "https://brightwater.sharepoint.example/sites/Operations";
    merge(
        audit_base(t, id, "SharePoint", "FileAccessed", 6),
        json!({
            "UserId": upn,
            "UserKey": format!("i:0h.f|membership|{upn}"),
            "UserType": 0,
            "ClientIP": ip,
            "ObjectId": format!("{site}/Shared Documents/{file}"),
            "SiteUrl": format!("{site}/"),
            "SourceFileName": file,
            "SourceRelativeUrl": "Shared Documents",
            "ItemType": "File",
            "EventSource": "SharePoint",
            "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        }),
    )
}

/// A mail as Defender for Office 365 records its delivery (`TIMailData`).
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    pub id: &'a str,
    pub message_id: &'a str,
    pub sender: &'a str,
    pub sender_ip: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub attachment: &'a str,
    pub attachment_sha256: &'a str,
}

pub fn mail_delivered(t: Timestamp, m: &Mail<'_>) -> Value {
    merge(
        audit_base(t, m.id, "ThreatIntelligence", "TIMailData", 28),
        json!({
            "UserId": "ThreatIntel",
            "UserKey": "ThreatIntel",
            "UserType": 4,
            "ObjectId": m.message_id,
            "AttachmentData": [{
                "FileName": m.attachment,
                "FileType": "docm",
                "FileVerdict": 0,
                "SHA256": m.attachment_sha256,
            }],
            "DeliveryAction": "Delivered",
            "DetectionMethod": "",
            "DetectionType": "Inline",
            "InternetMessageId": m.message_id,
            "MessageTime": windows_time(t),
            "NetworkMessageId": m.id,
            "P1Sender": m.sender,
            "P2Sender": m.sender,
            "Policy": 0,
            "Recipients": [m.recipient],
            "SenderIp": m.sender_ip,
            "Subject": m.subject,
            "Verdict": "NotSpam",
        }),
    )
}

/// A read-only CloudTrail management event by an IAM user.
pub fn cloudtrail(t: Timestamp, id: &str, user: &str, ip: &str, source: &str, name: &str) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEPRINCIPAL",
            "arn": format!("arn:aws:iam::{AWS_ACCOUNT}:user/{user}"),
            "accountId": AWS_ACCOUNT,
            "userName": user,
        },
        "eventTime": seconds_z(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-2",
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.17.0 Python/3.11.9 Windows/10 exe/AMD64",
        "requestParameters": null,
        "responseElements": null,
        "requestID": id,
        "eventID": id,
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": AWS_ACCOUNT,
        "eventCategory": "Management",
    })
}
