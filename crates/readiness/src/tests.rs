//! The assessment over constructed facts: a well-run tenant is ready, and
//! each kind of gap fails the right check with evidence naming the assets.

use std::collections::BTreeMap;

use serde_json::json;
use vigil_core::readiness::{Assessment, CheckResult, CheckStatus, StreamActivity, Trigger};
use vigil_core::tenant::{
    AssetRef, Contact, ContactKind, Coverage, IrProvider, ResponseAuthorisation, TenantSettings,
};
use vigil_core::{TenantId, Timestamp};

use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().expect("time")
}

const NOW: &str = "2026-11-27T12:00:00Z";
const HOSTS: [&str; 3] = [
    "WS-01.corp.example",
    "WS-02.corp.example",
    "DC-01.corp.example",
];

fn stream(shape: &str, product: &str, service: &str, entity: Option<&str>) -> StreamActivity {
    StreamActivity {
        shape: shape.into(),
        product: Some(product.into()),
        service: Some(service.into()),
        entity: entity.map(str::to_owned),
        events_last_day: 120,
        last_event: at("2026-11-27T11:50:00Z"),
    }
}

fn device(host: &str) -> DeviceSnapshot {
    let raw = json!({
        "type": "device_inventory",
        "collected_at": "2026-11-27T06:00:00Z",
        "device": {"hostname": host, "sensor_health": "active", "tags": ["finance"]},
        "posture": {
            "realtime_protection": true, "cloud_protection": true, "tamper_protection": true,
            "edr_block_mode": true, "network_protection": "block", "pua_protection": "block",
            "firewall": true, "process_creation_auditing": true, "command_line_auditing": "true",
            "script_block_logging": true, "lsass_protection": true,
            "asr_rules": {
                "block_credential_stealing_from_lsass": "block",
                "D4F940AB-401B-4EFC-AADC-AD5F3C50688A": "block",
                "block_executable_content_from_email": "block"
            }
        }
    });
    DeviceSnapshot::from_json(&raw.to_string()).expect("device")
}

fn identity(upn: &str, privileged: bool) -> IdentitySnapshot {
    let raw = json!({
        "type": "identity_inventory",
        "collected_at": "2026-11-27T06:00:00Z",
        "identity": {"upn": upn, "privileged": privileged, "has_mailbox": true, "enabled": true},
        "posture": {"mfa_enforced": true, "legacy_auth_blocked": true, "mailbox_auditing": true}
    });
    IdentitySnapshot::from_json(&raw.to_string()).expect("identity")
}

fn good_settings() -> TenantSettings {
    TenantSettings {
        authorisation: Some(ResponseAuthorisation::Managed),
        exclusions_reviewed_at: Some(at("2026-11-20T09:00:00Z")),
        contacts: vec![Contact {
            kind: ContactKind::Incident,
            name: "Alice".into(),
            email: Some("alice@corp.example".into()),
            phone: None,
            priority: 1,
        }],
        ir_provider: Some(IrProvider {
            name: "Respond Ltd".into(),
            contact: "+44 20 7946 0000".into(),
            engagement: "call the hotline".into(),
        }),
        ..TenantSettings::default()
    }
}

/// A tenant with full coverage and a good baseline.
fn good() -> Facts {
    let seen = at("2026-11-27T11:30:00Z");
    Facts {
        now: at(NOW),
        settings: good_settings(),
        streams: vec![
            stream("windows_evtx", "windows", "sysmon", None),
            stream("windows_evtx", "windows", "sysmon", Some("process")),
            stream("windows_evtx", "windows", "sysmon", Some("ip")),
            stream("windows_evtx", "windows", "sysmon", Some("file")),
            stream("windows_evtx", "windows", "security", None),
            stream("entra_signin", "azure", "signinlogs", None),
            stream("m365_audit", "m365", "exchange", None),
            stream("cloudtrail", "aws", "cloudtrail", None),
        ],
        device_activity: HOSTS.iter().map(|h| (h.to_lowercase(), seen)).collect(),
        identity_activity: [("alice@corp.example", seen), ("bob@corp.example", seen)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        clock_ahead: BTreeMap::new(),
        events_last_day: 1000,
        dead_letters_last_day: 2,
        devices: HOSTS.iter().map(|h| device(h)).collect(),
        identities: vec![
            identity("Alice@corp.example", true),
            identity("bob@corp.example", false),
        ],
    }
}

fn run(f: &Facts) -> Assessment {
    let c = Catalogue::builtin().expect("catalogue");
    assess(&c, f, TenantId::new_at(f.now), Trigger::OnDemand)
}

fn check<'a>(a: &'a Assessment, id: &str) -> &'a CheckResult {
    a.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

#[test]
fn full_coverage_and_a_good_baseline_is_ready_with_every_check_passing() {
    let a = run(&good());
    let not_passing: Vec<_> = a
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .map(|c| (c.id.as_str(), c.status, c.evidence.summary.as_str()))
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:#?}");
    assert!(a.ready);
    assert!((a.score - 100.0).abs() < 1e-9);
    let cov = check(&a, "coverage.devices");
    assert_eq!(cov.evidence.measured["inventory"], 3.0);
    assert!(cov.remediation.contains("sensor"));
}

#[test]
fn a_silent_source_fails_its_check_with_its_age_and_passes_once_it_delivers_again() {
    let mut f = good();
    for s in &mut f.streams {
        if s.shape == "entra_signin" {
            s.events_last_day = 0;
            s.last_event = at("2026-11-25T08:00:00Z");
        }
    }
    let a = run(&f);
    let c = check(&a, "sources.identity_signin");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.blocking);
    assert!(!a.ready);
    assert!(
        c.evidence.summary.contains("2026-11-25T08:00:00Z"),
        "{}",
        c.evidence.summary
    );
    assert_eq!(c.evidence.measured["hours_since_last_event"], 52.0);
    assert_eq!(c.evidence.assets, ["azure/signinlogs"]);
    assert_eq!(a.blocking_failures(), ["sources.identity_signin"]);

    let fixed = run(&good());
    assert_eq!(
        check(&fixed, "sources.identity_signin").status,
        CheckStatus::Pass
    );
    assert!(fixed.ready);
}

#[test]
fn a_stale_but_delivering_source_warns() {
    let mut f = good();
    for s in &mut f.streams {
        if s.product.as_deref() == Some("aws") {
            s.last_event = at("2026-11-27T02:00:00Z");
        }
    }
    assert_eq!(
        check(&run(&f), "sources.cloud_audit").status,
        CheckStatus::Warn
    );
}

#[test]
fn a_source_never_seen_fails() {
    let mut f = good();
    f.streams.retain(|s| s.product.as_deref() != Some("m365"));
    let c = run(&f)
        .checks
        .into_iter()
        .find(|c| c.id == "sources.email")
        .expect("check");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(
        c.evidence.summary.contains("no events"),
        "{}",
        c.evidence.summary
    );
}

#[test]
fn coverage_under_target_fails_and_lists_the_uncovered_devices() {
    let mut f = good();
    f.device_activity.remove("ws-02.corp.example");
    f.device_activity.remove("dc-01.corp.example");
    let a = run(&f);
    let c = check(&a, "coverage.devices");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(
        c.evidence.assets,
        ["DC-01.corp.example", "WS-02.corp.example"]
    );
    assert_eq!(c.evidence.measured["covered"], 1.0);
    assert_eq!(c.evidence.measured["percent"], 33.3);
    assert!(
        c.evidence.summary.contains("1 of 3 devices"),
        "{}",
        c.evidence.summary
    );
    assert!(!a.ready);
    // Never seen is uncovered, not silent.
    assert_eq!(
        check(&a, "sensors.silent_devices").status,
        CheckStatus::Pass
    );
}

#[test]
fn events_naming_a_short_host_name_cover_the_inventoried_full_name() {
    let mut f = good();
    let seen = f
        .device_activity
        .remove("ws-01.corp.example")
        .expect("seen");
    f.device_activity.insert("ws-01".into(), seen);
    assert_eq!(
        check(&run(&f), "coverage.devices").status,
        CheckStatus::Pass
    );
}

#[test]
fn scoped_coverage_counts_only_the_devices_in_scope() {
    let mut f = good();
    f.device_activity.remove("dc-01.corp.example");
    f.settings.coverage = Coverage::Scoped(vec![
        "device:WS-01".parse::<AssetRef>().expect("asset"),
        "device:ws-02.corp.example".parse().expect("asset"),
    ]);
    let c = run(&f);
    let c = check(&c, "coverage.devices");
    assert_eq!(c.status, CheckStatus::Pass, "{}", c.evidence.summary);
    assert_eq!(c.evidence.measured["inventory"], 2.0);
}

#[test]
fn a_device_that_stopped_reporting_is_listed_as_silent() {
    let mut f = good();
    f.device_activity
        .insert("ws-02.corp.example".into(), at("2026-11-25T10:00:00Z"));
    let a = run(&f);
    let c = check(&a, "sensors.silent_devices");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.evidence.assets, ["WS-02.corp.example"]);
    assert_eq!(
        check(&a, "coverage.devices").evidence.assets,
        ["WS-02.corp.example"]
    );
}

#[test]
fn a_missing_incident_contact_fails_a_blocking_check_and_adding_one_passes() {
    let mut f = good();
    f.settings.contacts.clear();
    let a = run(&f);
    let c = check(&a, "settings.incident_contact");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.evidence.summary, "no incident contact is set");
    assert!(!a.ready);
    let fixed = run(&good());
    let c = check(&fixed, "settings.incident_contact");
    assert_eq!(c.status, CheckStatus::Pass);
    assert!(c.evidence.summary.contains("Alice (priority 1)"));
}

#[test]
fn tamper_protection_off_fails_and_names_the_devices() {
    let mut f = good();
    f.devices[1]
        .posture
        .insert("tamper_protection".into(), json!(false));
    f.devices[2].posture.remove("tamper_protection");
    let a = run(&f);
    let c = check(&a, "protection.tamper");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(
        c.evidence.assets,
        ["DC-01.corp.example", "WS-02.corp.example"]
    );
    assert_eq!(c.evidence.measured["not_reported"], 1.0);
    assert!(
        c.evidence.summary.contains("1 of 3 devices"),
        "{}",
        c.evidence.summary
    );
    assert!(!a.ready, "tamper protection blocks");
    assert_eq!(check(&a, "protection.realtime").status, CheckStatus::Pass);
}

#[test]
fn asr_rules_are_found_by_name_or_guid_and_audit_mode_is_not_enough() {
    let mut f = good();
    f.devices[0].posture.insert(
        "asr_rules".into(),
        json!({"9E6C4E1F-7D60-472F-BA1A-A39EF669E4B2": "audit"}),
    );
    let c = run(&f);
    let c = check(&c, "protection.asr_rules");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.evidence.assets, ["WS-01.corp.example"]);
    assert_eq!(
        c.evidence.measured["not_blocking.block_credential_stealing_from_lsass"],
        1.0
    );
}

#[test]
fn privileged_accounts_without_mfa_are_named() {
    let mut f = good();
    f.identities[0]
        .posture
        .insert("mfa_enforced".into(), json!(false));
    let a = run(&f);
    let c = check(&a, "protection.privileged_mfa");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.evidence.assets, ["Alice@corp.example"]);
}

#[test]
fn identities_unseen_in_telemetry_lower_identity_coverage() {
    let mut f = good();
    f.identity_activity.remove("bob@corp.example");
    let a = run(&f);
    let c = check(&a, "coverage.identities");
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.evidence.assets, ["bob@corp.example"]);
}

#[test]
fn without_any_inventory_coverage_fails_and_says_why_rather_than_inventing_numbers() {
    let mut f = good();
    f.devices.clear();
    f.identities.clear();
    let a = run(&f);
    let c = check(&a, "coverage.devices");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.evidence.summary.contains("no device inventory"));
    assert!(c.evidence.measured.is_empty());
    assert_eq!(check(&a, "protection.tamper").status, CheckStatus::Fail);
    assert_eq!(check(&a, "coverage.identities").status, CheckStatus::Warn);
    assert_eq!(
        check(&a, "sensors.silent_devices").status,
        CheckStatus::NotApplicable
    );
}

#[test]
fn clocks_ahead_and_parse_errors_are_measured() {
    let mut f = good();
    f.clock_ahead.insert("ws-01.corp.example".into(), 3600);
    f.dead_letters_last_day = 100;
    let a = run(&f);
    let c = check(&a, "sensors.clock_skew");
    assert_eq!(c.status, CheckStatus::Warn);
    assert_eq!(c.evidence.assets, ["ws-01.corp.example (+60 min)"]);
    let p = check(&a, "sensors.parse_errors");
    assert_eq!(p.status, CheckStatus::Fail);
    assert_eq!(p.evidence.measured["percent"], 9.1);
}

#[test]
fn host_names_match_by_first_label_and_never_by_a_longer_name() {
    let mut f = good();
    f.devices[0].hostname = "WS-01".into();
    assert_eq!(
        f.device_last_seen("WS-01"),
        Some(at("2026-11-27T11:30:00Z"))
    );
    f.device_activity.remove("ws-01.corp.example");
    f.device_activity
        .insert("ws-011.corp.example".into(), at("2026-11-27T11:30:00Z"));
    f.device_activity
        .insert("ws-01x".into(), at("2026-11-27T11:30:00Z"));
    assert_eq!(f.device_last_seen("WS-01"), None);
    let a = run(&f);
    assert_eq!(check(&a, "coverage.devices").evidence.assets, ["WS-01"]);
}
