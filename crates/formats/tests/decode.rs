//! The decoders on realistic records of every shape: recognition,
//! logsource, time, the field names SigmaHQ's rules use (checked by
//! evaluating the rules themselves when the corpus is present), entities,
//! and bad input.

mod common;

use common::{assert_rule_matches, assert_rule_misses, decoded, fixture};
use vigil_formats::{
    DecodeErrorKind, Decoded, EntityKind, Shape, decode_record, decode_records, decode_value,
};

fn entities(d: &Decoded, kind: EntityKind) -> Vec<&str> {
    d.entities
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.value.as_str())
        .collect()
}

fn error(json: &str) -> String {
    match decode_record(json.as_bytes()) {
        Ok(d) => panic!("{json} decoded to {d:?}"),
        Err(e) => e.to_string(),
    }
}

// Windows, evtx_dump shape

#[test]
fn evtx_dump_records_keep_the_fields_vigil_scan_sees_and_classify_by_channel() {
    let events = decoded("windows_evtx.jsonl");
    assert_eq!(events.len(), 4);
    let sysmon = &events[0];
    assert_eq!(sysmon.shape, Shape::WindowsEvtx);
    assert_eq!(sysmon.logsource.product.as_deref(), Some("windows"));
    assert_eq!(sysmon.logsource.service.as_deref(), Some("sysmon"));
    assert_eq!(sysmon.time.as_deref(), Some("2026-11-27T07:00:00.123456Z"));
    let mut flat = vigil_formats::FlatEvent::new();
    vigil_formats::flatten_json(fixture("windows_evtx.jsonl")[0].as_bytes(), &mut flat)
        .expect("flattens");
    assert_eq!(sysmon.event, flat, "identical to the scan path");
    assert_eq!(events[1].logsource.service.as_deref(), Some("security"));
}

#[test]
fn sysmon_process_creation_yields_device_user_processes_and_hashes() {
    let d = &decoded("windows_evtx.jsonl")[0];
    assert_eq!(entities(d, EntityKind::Device), ["ws-0042.corp.example"]);
    assert_eq!(entities(d, EntityKind::User), ["corp\\alice"]);
    assert_eq!(
        entities(d, EntityKind::Process),
        [
            r"C:\Windows\System32\vssadmin.exe",
            r"C:\Windows\System32\cmd.exe"
        ]
    );
    assert_eq!(
        entities(d, EntityKind::FileHash),
        [
            "4b9a2d1c0e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ],
        "IMPHASH is not a file hash"
    );
    assert_rule_matches(
        "rules/windows/process_creation/proc_creation_win_susp_shadow_copies_deletion.yml",
        d,
    );
}

#[test]
fn a_failed_network_logon_names_the_target_user_and_the_canonical_source_ip() {
    let d = &decoded("windows_evtx.jsonl")[1];
    assert_eq!(
        entities(d, EntityKind::User),
        ["corp\\bob"],
        "the `-` subject is skipped"
    );
    assert_eq!(entities(d, EntityKind::Ip), ["203.0.113.50"]);
    assert_eq!(
        entities(d, EntityKind::Device),
        ["dc01.corp.example", "kali"]
    );
    assert_eq!(
        d.event.get("IpAddress"),
        Some("::ffff:203.0.113.50"),
        "fields stay as sent"
    );
}

#[test]
fn a_cleared_security_log_matches_sigmas_rule_through_user_data() {
    let d = &decoded("windows_evtx.jsonl")[2];
    assert_eq!(d.event.get("SubjectUserName"), Some("mallory"));
    assert_eq!(entities(d, EntityKind::User), ["corp\\mallory"]);
    assert_rule_matches(
        "rules/windows/builtin/security/win_security_audit_log_cleared.yml",
        d,
    );
}

#[test]
fn dns_queries_name_the_queried_domain_without_its_trailing_dot() {
    let d = &decoded("windows_evtx.jsonl")[3];
    assert_eq!(entities(d, EntityKind::Domain), ["paste.ee"]);
}

// Windows, Winlogbeat / ECS shape

#[test]
fn winlogbeat_records_get_the_evtx_field_names() {
    let d = &decoded("windows_ecs.jsonl")[0];
    assert_eq!(d.shape, Shape::WindowsEcs);
    assert_eq!(d.logsource.service.as_deref(), Some("sysmon"));
    assert_eq!(d.time.as_deref(), Some("2026-11-27T07:00:00.123000Z"));
    let e = &d.event;
    assert_eq!(e.channel(), Some("Microsoft-Windows-Sysmon/Operational"));
    assert_eq!(e.event_id(), Some(1));
    assert_eq!(e.record_id(), Some(48213));
    assert_eq!(e.computer(), Some("WS-0042.corp.example"));
    assert_eq!(e.provider(), Some("Microsoft-Windows-Sysmon"));
    assert_eq!(
        e.get("Level"),
        Some("4"),
        "log.level's name back to a number"
    );
    assert_eq!(
        e.get_all("ProcessID").collect::<Vec<_>>(),
        ["3012", "7720"],
        "winlog.process.pid, then the payload's own ProcessId"
    );
    assert_eq!(
        e.get("ProcessId"),
        Some("7720"),
        "the payload wins, as in evtx_dump"
    );
    assert_eq!(e.get("UserID"), Some("S-1-5-18"));
    assert_eq!(
        e.get("CommandLine"),
        Some("vssadmin.exe delete shadows /all /quiet")
    );
    assert_eq!(
        e.get("host.name"),
        None,
        "ECS fields outside winlog are not fields"
    );
    assert_eq!(e.get("message"), None);
    assert_rule_matches(
        "rules/windows/process_creation/proc_creation_win_susp_shadow_copies_deletion.yml",
        d,
    );
}

#[test]
fn winlogbeat_and_evtx_dump_agree_on_the_entities_of_the_same_event() {
    let ecs = &decoded("windows_ecs.jsonl")[0];
    let evtx = &decoded("windows_evtx.jsonl")[0];
    assert_eq!(ecs.entities, evtx.entities);
}

#[test]
fn elastic_agent_security_events_with_numeric_ids_and_keyword_lists_decode() {
    let d = &decoded("windows_ecs.jsonl")[1];
    assert_eq!(d.logsource.service.as_deref(), Some("security"));
    assert_eq!(d.event.event_id(), Some(4624));
    assert_eq!(d.event.record_id(), Some(991_300));
    assert_eq!(d.event.get("Keywords"), Some("Audit Success"));
    assert_eq!(entities(d, EntityKind::User), ["corp\\carol"]);
    assert_eq!(entities(d, EntityKind::Ip), ["198.51.100.23"]);
}

#[test]
fn winlogbeat_params_of_classic_powershell_events_join_back_into_data() {
    let d = &decoded("windows_ecs.jsonl")[2];
    assert_eq!(d.logsource.service.as_deref(), Some("powershell-classic"));
    let data = d.event.get("Data").expect("Data");
    assert!(data.starts_with("Available\nNone\n"), "{data}");
    assert!(data.contains("HostApplication=powershell.exe -nop -w hidden -enc"));
    assert_eq!(
        d.event.get("param1"),
        Some("Available"),
        "kept: providers name data so too"
    );
}

#[test]
fn a_winlogbeat_record_without_computer_name_takes_its_device_from_host_name() {
    let json = r#"{"@timestamp":"2026-11-27T07:00:00Z","host":{"name":"Laptop-9"},
        "winlog":{"channel":"Security","event_id":4688,"event_data":{"NewProcessName":"C:\\x.exe"}}}"#;
    let d = &decode_record(json.as_bytes()).expect("decodes")[0];
    assert_eq!(entities(d, EntityKind::Device), ["laptop-9"]);
    assert_eq!(entities(d, EntityKind::Process), [r"C:\x.exe"]);
}

// Entra ID sign-ins

#[test]
fn entra_sign_ins_classify_as_azure_signinlogs_in_every_export_shape() {
    let events = decoded("entra_signin.jsonl");
    assert_eq!(events.len(), 4);
    for d in &events {
        assert_eq!(d.shape, Shape::EntraSignIn);
        assert_eq!(d.logsource.product.as_deref(), Some("azure"));
        assert_eq!(d.logsource.service.as_deref(), Some("signinlogs"));
    }
    assert_eq!(
        events[0].time.as_deref(),
        Some("2026-11-27T07:10:11.345678Z"),
        "seven fractional digits truncate to microseconds"
    );
}

#[test]
fn a_successful_single_factor_sign_in_matches_sigmas_single_factor_rule() {
    let d = &decoded("entra_signin.jsonl")[0];
    assert_eq!(d.event.get("Status"), Some("Success"));
    assert_eq!(d.event.get("ResultType"), Some("0"));
    assert_eq!(d.event.get("properties.status.errorCode"), Some("0"));
    assert_eq!(d.event.get("LocationDetails.city"), Some("Oslo"));
    assert_eq!(
        d.event.get("location"),
        Some("NO"),
        "the envelope keeps its own location"
    );
    assert_eq!(d.event.get("NetworkLocationDetails"), Some("[]"));
    assert_eq!(entities(d, EntityKind::User), ["carol.jones@corp.example"]);
    assert_eq!(entities(d, EntityKind::Ip), ["198.51.100.23"]);
    assert_rule_matches(
        "rules/cloud/azure/signin_logs/azure_ad_only_single_factor_auth_required.yml",
        d,
    );
    assert_rule_matches(
        "rules/cloud/azure/signin_logs/azure_ad_sign_ins_from_unknown_devices.yml",
        d,
    );
    assert_rule_matches(
        "rules/cloud/azure/signin_logs/azure_ad_sign_ins_from_noncompliant_devices.yml",
        d,
    );
}

#[test]
fn a_spray_like_failure_carries_its_result_type_and_is_no_success() {
    let d = &decoded("entra_signin.jsonl")[1];
    assert_eq!(d.event.get("ResultType"), Some("50126"));
    assert!(
        d.event
            .get("Status")
            .is_some_and(|s| s.starts_with("Failure; Error validating"))
    );
    assert_eq!(
        d.event.get("ResultDescription"),
        Some("Error validating credentials due to invalid username or password.")
    );
    assert_eq!(d.event.get("userAgent"), Some("BAV2ROPC"));
    assert_rule_misses(
        "rules/cloud/azure/signin_logs/azure_ad_suspicious_signin_bypassing_mfa.yml",
        d,
    );
}

#[test]
fn graph_sign_ins_with_an_mfa_denial_match_sigmas_mfa_rules() {
    let d = &decoded("entra_signin.jsonl")[2];
    assert_eq!(d.event.get("ResultType"), Some("500121"));
    assert_eq!(
        d.event.get("status.additionalDetails"),
        Some("MFA denied; user declined the authentication")
    );
    assert_eq!(d.time.as_deref(), Some("2026-11-27T07:12:30.000000Z"));
    assert_rule_matches("rules/cloud/azure/signin_logs/azure_mfa_denies.yml", d);
    assert_rule_matches("rules/cloud/azure/signin_logs/azure_mfa_interrupted.yml", d);
    assert_eq!(entities(d, EntityKind::Ip), ["203.0.113.77"]);
}

#[test]
fn a_conditional_access_block_matches_sigmas_rules_and_names_the_device() {
    let d = &decoded("entra_signin.jsonl")[3];
    assert_rule_matches(
        "rules/cloud/azure/signin_logs/azure_conditional_access_failure.yml",
        d,
    );
    assert_rule_matches(
        "rules/cloud/azure/signin_logs/azure_user_login_blocked_by_conditional_access.yml",
        d,
    );
    assert_eq!(d.event.get("ClientApp"), Some("Exchange ActiveSync"));
    assert_eq!(entities(d, EntityKind::Device), ["frank-iphone"]);
    assert_eq!(
        entities(d, EntityKind::Ip),
        ["2001:db8:85a3::8a2e:370:7334"]
    );
}

// Okta

#[test]
fn okta_events_classify_as_okta_and_match_sigmas_okta_rules() {
    let events = decoded("okta.jsonl");
    assert!(events.iter().all(|d| d.shape == Shape::OktaSystemLog
        && d.logsource.product.as_deref() == Some("okta")
        && d.logsource.service.as_deref() == Some("okta")));
    let failed = &events[0];
    assert_eq!(failed.time.as_deref(), Some("2026-11-27T07:20:00.101000Z"));
    assert_eq!(failed.event.get("outcome.result"), Some("FAILURE"));
    assert_eq!(failed.event.get("eventtype"), Some("user.session.start"));
    assert_eq!(
        failed.event.get("client.geographicalContext.city"),
        Some("Amsterdam")
    );
    assert_eq!(
        entities(failed, EntityKind::User),
        ["grace.lee@corp.example"]
    );
    assert_eq!(entities(failed, EntityKind::Ip), ["203.0.113.50"]);
    assert_rule_misses(
        "rules/identity/okta/okta_user_session_start_via_anonymised_proxy.yml",
        failed,
    );
    assert_rule_matches(
        "rules/identity/okta/okta_user_session_start_via_anonymised_proxy.yml",
        &events[1],
    );
    assert_rule_matches(
        "rules/identity/okta/okta_new_behaviours_admin_console.yml",
        &events[2],
    );
    assert_rule_matches(
        "rules/identity/okta/okta_mfa_reset_or_deactivated.yml",
        &events[3],
    );
}

#[test]
fn okta_targets_are_each_a_field_value_and_an_entity() {
    let events = decoded("okta.jsonl");
    let d = &events[2];
    let names: Vec<&str> = d.event.get_all("target.displayName").collect();
    assert_eq!(names, ["Default Rule", "Okta Admin Console"]);
    assert_eq!(
        entities(d, EntityKind::CloudResource),
        ["rul1x2y3", "Okta Admin Console"]
    );
    assert_eq!(
        entities(&events[3], EntityKind::User),
        ["henry.ng@corp.example", "grace.lee@corp.example"]
    );
}

// CloudTrail

#[test]
fn a_cloudtrail_batch_yields_one_event_per_record() {
    let events = decoded("cloudtrail.json");
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|d| d.shape == Shape::CloudTrail
        && d.logsource.product.as_deref() == Some("aws")
        && d.logsource.service.as_deref() == Some("cloudtrail")));
    assert_eq!(
        events[0].time.as_deref(),
        Some("2026-11-27T07:30:00.000000Z")
    );
}

#[test]
fn stop_logging_matches_sigmas_rule_and_names_the_trail_and_the_role() {
    let d = &decoded("cloudtrail.json")[1];
    assert_eq!(d.event.get("eventSource"), Some("cloudtrail.amazonaws.com"));
    assert_eq!(d.event.get("eventName"), Some("StopLogging"));
    assert_eq!(d.event.get("userIdentity.type"), Some("AssumedRole"));
    assert_eq!(
        d.event
            .get("userIdentity.sessionContext.sessionIssuer.type"),
        Some("Role")
    );
    assert_eq!(d.event.get("errorCode"), None, "absent on success");
    assert_rule_matches(
        "rules/cloud/aws/cloudtrail/aws_cloudtrail_disable_logging.yml",
        d,
    );
    assert_eq!(
        entities(d, EntityKind::CloudResource),
        ["arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-trail"]
    );
    assert_eq!(
        entities(d, EntityKind::User),
        ["arn:aws:sts::123456789012:assumed-role/Admin/judy"]
    );
}

#[test]
fn cloudtrail_rules_on_whole_objects_and_nested_fields_match() {
    let events = decoded("cloudtrail.json");
    assert_rule_matches(
        "rules/cloud/aws/cloudtrail/aws_cloudtrail_console_login_failed_authentication.yml",
        &events[0],
    );
    assert_eq!(
        events[0].event.get("responseElements.ConsoleLogin"),
        Some("Failure")
    );
    assert_eq!(
        events[0].event.get("additionalEventData.MFAUsed"),
        Some("No")
    );
    assert_rule_matches(
        "rules/cloud/aws/cloudtrail/aws_disable_bucket_versioning.yml",
        &events[2],
    );
    assert_eq!(
        entities(&events[2], EntityKind::CloudResource),
        ["arn:aws:s3:::corp-backups"]
    );
    assert_rule_matches(
        "rules/cloud/aws/cloudtrail/aws_root_account_usage.yml",
        &events[3],
    );
    assert_rule_misses(
        "rules/cloud/aws/cloudtrail/aws_root_account_usage.yml",
        &events[0],
    );
}

#[test]
fn a_single_cloudtrail_record_decodes_alone() {
    let batch: serde_json::Value =
        serde_json::from_str(&fixture("cloudtrail.json")[0]).expect("json");
    let one = serde_json::to_vec(&batch["Records"][1]).expect("json");
    let d = decode_record(&one).expect("decodes");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].event.get("eventName"), Some("StopLogging"));
    assert_eq!(decode_value(&batch).expect("decodes").len(), 4);
}

// Microsoft 365

#[test]
fn an_inbox_rule_that_forwards_exposes_its_parameters_by_name_and_the_external_mailbox() {
    let d = &decoded("m365_audit.jsonl")[0];
    assert_eq!(d.shape, Shape::M365Audit);
    assert_eq!(d.logsource.product.as_deref(), Some("m365"));
    assert_eq!(d.logsource.service.as_deref(), Some("exchange"));
    assert_eq!(
        d.time.as_deref(),
        Some("2026-11-27T07:40:00.000000Z"),
        "no offset means UTC"
    );
    let e = &d.event;
    assert_eq!(e.get("Operation"), Some("New-InboxRule"));
    assert_eq!(
        e.get("Parameters.ForwardTo"),
        Some("exfil@attacker.example")
    );
    assert_eq!(e.get("Parameters.DeleteMessage"), Some("True"));
    assert_eq!(
        e.get("Parameters.Name"),
        Some("."),
        "a parameter called Name"
    );
    assert_eq!(e.get("eventSource"), Some("Exchange"));
    assert_eq!(e.get("eventName"), Some("New-InboxRule"));
    assert_eq!(e.get("status"), Some("success"));
    assert_eq!(entities(d, EntityKind::User), ["dave.smith@corp.example"]);
    assert_eq!(entities(d, EntityKind::Ip), ["2001:db8::50"]);
    assert_eq!(
        entities(d, EntityKind::Mailbox),
        ["dave.smith@corp.example", "exfil@attacker.example"]
    );
}

#[test]
fn a_redirecting_inbox_rule_names_every_redirect_target() {
    let d = &decoded("m365_audit.jsonl")[1];
    assert_eq!(
        d.event.get("Parameters.RedirectTo"),
        Some("SMTP:billing@attacker.example;payroll@corp.example")
    );
    assert_eq!(
        entities(d, EntityKind::Mailbox),
        [
            "dave.smith@corp.example",
            "billing@attacker.example",
            "payroll@corp.example"
        ]
    );
}

#[test]
fn m365_records_match_sigmas_audit_and_threat_management_rules() {
    let events = decoded("m365_audit.jsonl");
    assert_eq!(events[2].logsource.service.as_deref(), Some("audit"));
    assert_eq!(
        events[2].event.get("ExtendedProperties.RequestType"),
        Some("OAuth2:Authorize")
    );
    assert_rule_misses(
        "rules/cloud/m365/audit/microsoft365_bypass_conditional_access.yml",
        &events[2],
    );
    let alert = &events[3];
    assert_eq!(
        alert.logsource.service.as_deref(),
        Some("threat_management")
    );
    assert_eq!(
        alert.event.get("eventName"),
        Some("Suspicious inbox forwarding")
    );
    assert_eq!(alert.event.get("AlertStatus"), Some("Active"));
    assert_rule_matches(
        "rules/cloud/m365/threat_management/microsoft365_susp_inbox_forwarding.yml",
        alert,
    );
}

#[test]
fn sharepoint_records_name_their_urls() {
    let d = &decoded("m365_audit.jsonl")[4];
    assert_eq!(d.logsource.service.as_deref(), Some("audit"));
    assert_eq!(
        entities(d, EntityKind::Url),
        [
            "https://corp.sharepoint.com/sites/finance/",
            "https://corp.sharepoint.com/sites/finance/Shared Documents/Q4.xlsx"
        ]
    );
}

// Device inventory

#[test]
fn inventory_snapshots_expose_posture_as_fields_and_the_device_as_entities() {
    let events = decoded("device_inventory.jsonl");
    let d = &events[0];
    assert_eq!(d.shape, Shape::DeviceInventory);
    assert_eq!(d.logsource.product.as_deref(), Some("vigil"));
    assert_eq!(d.logsource.service.as_deref(), Some("inventory"));
    assert_eq!(d.time.as_deref(), Some("2026-11-27T06:00:00.000000Z"));
    assert_eq!(d.event.get("posture.tamper_protection"), Some("true"));
    assert_eq!(
        d.event
            .get("posture.asr_rules.block_credential_stealing_from_lsass"),
        Some("block")
    );
    assert_eq!(entities(d, EntityKind::Device), ["ws-0042.corp.example"]);
    assert_eq!(entities(d, EntityKind::Ip), ["10.0.4.17", "fe80::1"]);
    assert_eq!(
        entities(d, EntityKind::User),
        ["corp\\alice", "corp\\svc-backup"]
    );
    let weak = &events[1];
    assert_eq!(weak.event.get("posture.tamper_protection"), Some("false"));
    assert_eq!(weak.event.get("device.sensor_health"), Some("impaired"));
}

#[test]
fn inventory_snapshots_with_wrong_types_name_the_key() {
    let base = r#"{"type":"device_inventory","collected_at":"2026-11-27T06:00:00Z","device":{"hostname":"h"}"#;
    for (tail, want) in [
        (
            r#","posture":{"tamper_protection":"maybe"}}"#,
            "posture.tamper_protection is not a boolean",
        ),
        (
            r#","posture":{"av_mode":"sleepy"}}"#,
            "posture.av_mode \"sleepy\" is not one of",
        ),
        (
            r#","posture":{"asr_rules":{"x":1}}}"#,
            "posture.asr_rules.x is not a mode",
        ),
        (r#","posture":[]}"#, "posture is not an object but an array"),
        (
            r#","schema_version":2}"#,
            "schema_version 2 is not supported",
        ),
    ] {
        let msg = error(&format!("{base}{tail}"));
        assert!(msg.starts_with("device inventory: "), "{msg}");
        assert!(msg.contains(want), "{msg} should say {want}");
    }
    assert_eq!(
        error(r#"{"type":"device_inventory","collected_at":"2026-11-27T06:00:00Z"}"#),
        "device inventory: device is missing"
    );
    assert_eq!(
        error(
            r#"{"type":"device_inventory","device":{"hostname":"h","ip_addresses":["1.2.3.4",5]}}"#
        ),
        "device inventory: device.ip_addresses[1] is not a string"
    );
    assert_eq!(
        error(r#"{"type":"device_inventory","device":{"hostname":"h"}}"#),
        "device inventory: collected_at is missing"
    );
}

// Identity inventory

#[test]
fn identity_snapshots_expose_posture_as_fields_and_the_account_as_entities() {
    let events = decoded("identity_inventory.jsonl");
    let d = &events[0];
    assert_eq!(d.shape, Shape::IdentityInventory);
    assert_eq!(d.logsource.product.as_deref(), Some("vigil"));
    assert_eq!(d.logsource.service.as_deref(), Some("identity_inventory"));
    assert_eq!(d.time.as_deref(), Some("2026-11-27T06:00:00.000000Z"));
    assert_eq!(d.event.get("posture.mfa_enforced"), Some("true"));
    assert_eq!(d.event.get("identity.privileged"), Some("true"));
    assert_eq!(
        entities(d, EntityKind::User),
        ["alice@corp.example", "corp\\alice"]
    );
    let weak = &events[1];
    assert_eq!(weak.event.get("posture.legacy_auth_blocked"), Some("false"));
}

#[test]
fn identity_snapshots_with_wrong_types_name_the_key() {
    let base = r#"{"type":"identity_inventory","collected_at":"2026-11-27T06:00:00Z","identity":{"upn":"a@b.example"}"#;
    for (tail, want) in [
        (
            r#","posture":{"mfa_enforced":"maybe"}}"#,
            "posture.mfa_enforced is not a boolean",
        ),
        (
            r#","schema_version":2}"#,
            "schema_version 2 is not supported",
        ),
    ] {
        let msg = error(&format!("{base}{tail}"));
        assert!(msg.starts_with("identity inventory: "), "{msg}");
        assert!(msg.contains(want), "{msg} should say {want}");
    }
    assert_eq!(
        error(r#"{"type":"identity_inventory","collected_at":"2026-11-27T06:00:00Z"}"#),
        "identity inventory: identity is missing"
    );
    assert_eq!(
        error(r#"{"type":"identity_inventory","identity":{"upn":"a@b.example"}}"#),
        "identity inventory: collected_at is missing"
    );
    assert_eq!(
        error(
            r#"{"type":"identity_inventory","collected_at":"2026-11-27T06:00:00Z","identity":{"upn":"a@b.example","groups":[1]}}"#
        ),
        "identity inventory: identity.groups[0] is not a string"
    );
}

// Bad input

#[test]
fn a_bad_record_in_a_batch_is_named_by_its_index_and_field() {
    let json = r#"{"Records":[
        {"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"2026-11-27T07:00:00Z"},
        {"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"yesterday"},
        {"eventSource":"s3.amazonaws.com","eventName":42,"eventTime":"2026-11-27T07:00:00Z"},
        {"what":"ever"}
    ]}"#;
    let each = decode_records(json.as_bytes()).expect("a batch");
    assert_eq!(each.len(), 4);
    assert!(each[0].is_ok());
    let errors: Vec<String> = each
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    assert_eq!(
        errors[0],
        "CloudTrail Records[1]: eventTime is not a timestamp: \"yesterday\""
    );
    assert_eq!(
        errors[1],
        "CloudTrail Records[2]: eventName is not a string but a number"
    );
    assert!(errors[2].starts_with("Records[3]: unrecognised event shape: found keys what;"));
    let whole = decode_record(json.as_bytes()).expect_err("all or nothing");
    assert_eq!(whole.index(), Some(1));
    assert_eq!(whole.shape(), Some(Shape::CloudTrail));
}

#[test]
fn unknown_shapes_say_what_was_looked_for() {
    let msg = error(r#"{"foo":1,"bar":{"baz":2}}"#);
    assert!(
        msg.starts_with("unrecognised event shape: found keys foo, bar; looked for Event"),
        "{msg}"
    );
    for shape in [
        "winlog",
        "eventType with published",
        "eventSource with eventName and eventTime",
    ] {
        assert!(msg.contains(shape), "{msg} lacks {shape}");
    }
    assert!(error("{}").contains("found an empty object"));
}

#[test]
fn json_that_is_not_one_object_is_an_error_naming_what_it_is() {
    for (json, want) in [
        (
            "[1,2]",
            "unrecognised event shape: a record is one JSON object, found an array",
        ),
        (
            "\"text\"",
            "unrecognised event shape: a record is one JSON object, found a string",
        ),
        (
            "42",
            "unrecognised event shape: a record is one JSON object, found a number",
        ),
        (
            "null",
            "unrecognised event shape: a record is one JSON object, found null",
        ),
    ] {
        assert_eq!(error(json), want);
    }
    let e = decode_record(b"{\"eventType\":").expect_err("truncated");
    assert_eq!(e.kind(), DecodeErrorKind::Json);
    assert!(
        e.to_string()
            .starts_with("not valid JSON: EOF while parsing"),
        "{e}"
    );
    assert_eq!(
        decode_record(b"").expect_err("empty").kind(),
        DecodeErrorKind::Json
    );
    assert_eq!(
        decode_record(b"{} {}").expect_err("two").kind(),
        DecodeErrorKind::Json
    );
}

#[test]
fn required_fields_of_each_shape_are_named_when_missing_or_mistyped() {
    for (json, want) in [
        (
            r#"{"eventType":"user.session.start","published":12}"#,
            "Okta System Log event: published is not a string but a number",
        ),
        (
            r#"{"eventType":"user.session.start","published":"2026-11-27T07:00:00Z","actor":"bob"}"#,
            "Okta System Log event: actor is not an object but a string",
        ),
        (
            r#"{"eventType":"x","published":"2026-11-27T07:00:00Z","target":[1]}"#,
            "Okta System Log event: target[0] is not an object",
        ),
        (
            r#"{"eventSource":"iam.amazonaws.com","eventName":"X","eventTime":"2026-11-27T07:00:00Z","userIdentity":[]}"#,
            "CloudTrail: userIdentity is not an object but an array",
        ),
        (
            r#"{"Workload":"Exchange","Operation":"New-InboxRule","CreationTime":"2026-11-27T07:00:00","Parameters":[{"Name":"ForwardTo","Value":"a@b.c"},"oops"]}"#,
            "Microsoft 365 audit record: Parameters[1] is not an object but a string",
        ),
        (
            r#"{"Workload":"Exchange","Operation":"X","CreationTime":"soon"}"#,
            "Microsoft 365 audit record: CreationTime is not a timestamp: \"soon\"",
        ),
        (
            r#"{"category":"SignInLogs","time":"2026-11-27T07:00:00Z","properties":"x"}"#,
            "Entra ID sign-in: properties is not an object but a string",
        ),
        (
            r#"{"createdDateTime":"2026-11-27T07:00:00Z","userPrincipalName":"a@b.c","status":{"errorCode":[1]}}"#,
            "Entra ID sign-in: status.errorCode is not text or a number but an array",
        ),
        (
            r#"{"winlog":{"channel":"Security"}}"#,
            "Windows event (Winlogbeat/ECS): winlog.event_id is missing",
        ),
        (
            r#"{"winlog":{"channel":"Security","event_id":"four"}}"#,
            "Windows event (Winlogbeat/ECS): winlog.event_id is not an event id: \"four\"",
        ),
        (
            r#"{"winlog":{"channel":"Security","event_id":1,"process":{"pid":{"a":1}}}}"#,
            "Windows event (Winlogbeat/ECS): winlog.process.pid is not text or a number but an object",
        ),
        (
            r#"{"winlog":{"channel":"Security","event_id":1},"host":"h"}"#,
            "Windows event (Winlogbeat/ECS): host is not an object but a string",
        ),
    ] {
        assert_eq!(error(json), want, "{json}");
    }
}

#[test]
fn deep_nesting_is_an_error_or_kept_as_text_never_a_crash() {
    for depth in [20, 127, 200, 10_000] {
        let mut json = String::new();
        for _ in 0..depth {
            json.push_str(r#"{"a":"#);
        }
        json.push('1');
        json.push_str(&"}".repeat(depth));
        for wrap in [
            format!(
                r#"{{"eventType":"x","published":"2026-11-27T07:00:00Z","debugContext":{json}}}"#
            ),
            format!(r#"{{"Event":{{"System":{{"EventID":1}},"EventData":{json}}}}}"#),
            format!(
                r#"{{"winlog":{{"channel":"Security","event_id":1,"event_data":{{"x":{json}}}}}}}"#
            ),
            format!(
                r#"{{"Records":[{{"eventSource":"s","eventName":"n","eventTime":"2026-11-27T07:00:00Z","requestParameters":{json}}}]}}"#
            ),
        ] {
            match decode_record(wrap.as_bytes()) {
                Ok(_) => assert!(depth <= 127, "depth {depth} accepted: {}", &wrap[..60]),
                Err(e) => {
                    assert!(depth > 20, "depth {depth} refused: {e}");
                    assert!(e.to_string().contains("recursion limit"), "{e}");
                }
            }
        }
    }
}

#[test]
fn windows_records_with_bad_values_are_errors_not_panics() {
    for json in [
        r#"{"Event":{"System":{"EventID":1e999}}}"#,
        r#"{"Event":"text"}"#,
        r#"{"Event":{"System":[1,2,{"x":null}]}}"#,
        r#"{"winlog":{"channel":"Security","event_id":1,"event_data":{"param1":{"x":1}}}}"#,
        r#"{"winlog":{"channel":"Security","event_id":1,"keywords":[[1],{"a":[]}]}}"#,
        r#"{"winlog":{"channel":"Security","event_id":1,"event_data":"loose text"}}"#,
        r#"{"winlog":{"channel":"Security","event_id":1,"user_data":{"xml_name":"X","A":"b"}}}"#,
    ] {
        let _ = decode_records(json.as_bytes());
    }
    let loose = r#"{"winlog":{"channel":"Security","event_id":1,"event_data":"loose text"}}"#;
    let d = &decode_record(loose.as_bytes()).expect("decodes")[0];
    assert_eq!(
        d.event.get("EventData"),
        Some("loose text"),
        "as evtx_dump's would flatten"
    );
}

#[test]
fn times_that_do_not_parse_leave_windows_events_without_a_time() {
    let json = r##"{"Event":{"System":{"EventID":1,"Channel":"Security","TimeCreated":{"#attributes":{"SystemTime":"garbage"}}}}}"##;
    let d = &decode_record(json.as_bytes()).expect("decodes")[0];
    assert_eq!(d.time, None);
    assert_eq!(d.event.system_time(), Some("garbage"));
}

#[test]
fn every_shape_has_a_distinct_stable_name() {
    let mut names: Vec<&str> = Shape::ALL.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Shape::ALL.len());
}
