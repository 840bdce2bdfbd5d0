use std::collections::BTreeMap;

use vigil_core::Severity;
use vigil_core::major::{Criterion, MajorThresholds};

use super::*;
use crate::testing::{alert, at, id};

fn event(seq: i64, fields: &[(&str, &str)]) -> EventFacts {
    let mut e = FlatEvent::new();
    for (n, v) in fields {
        e.push(n, v, false);
    }
    EventFacts::read(seq, at(seq), &e)
}

fn fired(
    alerts: &[Alert],
    events: &[EventFacts],
    compromised: &[String],
    thresholds: &MajorThresholds,
) -> Vec<Criterion> {
    let incident = crate::open(id(1), &alerts[0]);
    let alert_events: BTreeMap<String, Vec<i64>> = alerts
        .iter()
        .map(|a| (a.id.to_string(), events.iter().map(|e| e.seq).collect()))
        .collect();
    evaluate(
        MajorInput {
            incident: &incident,
            alerts,
            alert_events: &alert_events,
            events,
            compromised_users: compromised,
            thresholds,
        },
        at(0),
    )
    .into_iter()
    .map(|f| f.criterion)
    .collect()
}

#[test]
fn one_rule_on_five_hosts_is_major_and_on_four_is_not() {
    let t = MajorThresholds::default();
    let on = |n: u32| -> Vec<Alert> {
        (0..n)
            .map(|i| {
                alert(
                    i + 1,
                    "Lateral tool",
                    Severity::High,
                    &[&format!("device:ws{i}"), "user:acme\\mallory"],
                    1,
                )
            })
            .collect()
    };
    assert_eq!(fired(&on(5), &[], &[], &t), vec![Criterion::ManyHosts]);
    assert!(fired(&on(4), &[], &[], &t).is_empty());
    let lower = MajorThresholds {
        hosts: 3,
        ..MajorThresholds::default()
    };
    assert_eq!(fired(&on(3), &[], &[], &lower), vec![Criterion::ManyHosts]);
}

#[test]
fn a_compromised_account_is_major_only_when_privileged() {
    let t = MajorThresholds::default();
    let a = [alert(1, "Logon", Severity::Medium, &["user:alice"], 1)];
    assert!(fired(&a, &[], &["alice".into()], &t).is_empty());
    assert_eq!(
        fired(&a, &[], &["ACME\\Administrator".into()], &t),
        vec![Criterion::PrivilegedAccount]
    );
    // Admin-group membership in the incident's events makes alice privileged.
    let added = event(
        1,
        &[
            ("Channel", "Security"),
            ("EventID", "4728"),
            ("TargetUserName", "Domain Admins"),
            ("MemberName", "CN=alice,CN=Users,DC=acme,DC=local"),
        ],
    );
    assert_eq!(
        fired(&a, &[added], &["alice".into()], &t),
        vec![Criterion::PrivilegedAccount]
    );
}

#[test]
fn exfiltration_counts_only_the_bytes_behind_exfiltration_alerts_against_the_threshold() {
    let mut a = alert(1, "Upload", Severity::High, &["user:alice"], 1);
    a.tactics = vec!["exfiltration".into()];
    let big = [
        event(1, &[("bytesTransferredOut", "700000000")]),
        event(2, &[("bytesTransferredOut", "700000000")]),
    ];
    let t = MajorThresholds::default();
    assert_eq!(
        fired(std::slice::from_ref(&a), &big, &[], &t),
        vec![Criterion::Exfiltration]
    );
    assert!(fired(std::slice::from_ref(&a), &big[..1], &[], &t).is_empty());
    let mut other = a.clone();
    other.tactics = vec!["collection".into()];
    assert!(fired(&[other], &big, &[], &t).is_empty());
}

#[test]
fn one_cleared_log_is_not_major_but_two_or_a_deleted_backup_catalogue_is() {
    let t = MajorThresholds::default();
    let a = [alert(1, "Cleared", Severity::High, &["device:ws1"], 1)];
    let cleared = |seq, host: &str| {
        event(
            seq,
            &[
                ("Computer", host),
                ("Channel", "Security"),
                ("EventID", "1102"),
            ],
        )
    };
    assert!(fired(&a, &[cleared(1, "ws1")], &[], &t).is_empty());
    assert_eq!(
        fired(&a, &[cleared(1, "ws1"), cleared(2, "ws2")], &[], &t),
        vec![Criterion::LogAndBackupDestruction]
    );
    let wbadmin = event(3, &[("CommandLine", "wbadmin delete catalog -quiet")]);
    assert_eq!(
        fired(&a, &[wbadmin], &[], &t),
        vec![Criterion::Ransomware, Criterion::LogAndBackupDestruction]
    );
}

#[test]
fn credential_dumping_is_major_on_a_domain_controller_only() {
    let a = [alert(1, "Mimikatz", Severity::High, &["device:dc01"], 1)];
    let dump = |host: &str| {
        event(
            1,
            &[
                ("Computer", host),
                ("CommandLine", "mimikatz sekurlsa::logonpasswords"),
            ],
        )
    };
    let t = MajorThresholds::default();
    assert!(fired(&a, &[dump("ws1.acme.local")], &[], &t).is_empty());
    let configured = MajorThresholds {
        domain_controllers: vec!["DC01".into()],
        ..MajorThresholds::default()
    };
    assert_eq!(
        fired(&a, &[dump("dc01.acme.local")], &[], &configured),
        vec![Criterion::DomainCredentialTheft]
    );
    let kerberos = event(
        2,
        &[
            ("Computer", "dc02.acme.local"),
            ("Channel", "Security"),
            ("EventID", "4769"),
        ],
    );
    assert_eq!(
        fired(&a, &[dump("dc02.acme.local"), kerberos], &[], &t),
        vec![Criterion::DomainCredentialTheft]
    );
}

#[test]
fn mass_encryption_fires_at_the_threshold_on_one_host() {
    let a = [alert(1, "Files", Severity::High, &["device:ws1"], 1)];
    let files = |n: i64| -> Vec<EventFacts> {
        (0..n)
            .map(|i| {
                event(
                    i,
                    &[
                        ("Computer", "ws1"),
                        ("TargetFilename", &format!("C:\\data\\f{i}.xlsx.locked")),
                    ],
                )
            })
            .collect()
    };
    let t = MajorThresholds::default();
    assert!(fired(&a, &files(49), &[], &t).is_empty());
    assert_eq!(fired(&a, &files(50), &[], &t), vec![Criterion::Ransomware]);
}
