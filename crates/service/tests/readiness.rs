//! The readiness assessment end to end at the service boundary, over a
//! real SQLite file: telemetry and inventory snapshots go in through
//! intake as shippers send them, settings through the tenant use cases.

use std::sync::Arc;

use serde_json::json;
use vigil_core::identity::{Principal, Role};
use vigil_core::notification::NotificationKind;
use vigil_core::readiness::{Assessment, CheckStatus};
use vigil_core::tenant::{
    Contact, ContactKind, IrProvider, Lifecycle, ResponseAuthorisation, SettingChange,
};
use vigil_service::{FixedClock, Intake, Record, Service, ServiceError};
use vigil_store::{SqliteStore, Store};

const HOSTS: [&str; 3] = [
    "WS-01.corp.example",
    "WS-02.corp.example",
    "WS-03.corp.example",
];
const START: &str = "2026-11-27T12:00:00Z";

fn op() -> Principal {
    Principal::Operator("test".into())
}

struct World {
    svc: Service,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
    n: u32,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("vigil.db"))
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let clock = Arc::new(FixedClock::new(START.parse().expect("time")));
        let svc = Service::new(Arc::new(store), clock.clone());
        svc.create_tenant(&op(), "acme", "Acme")
            .await
            .expect("tenant");
        World {
            svc,
            clock,
            _dir: dir,
            n: 0,
        }
    }

    fn now(&self) -> jiff::Timestamp {
        self.svc.now()
    }

    /// The clock moves on by `hours`.
    fn advance(&self, hours: i64) {
        self.clock
            .set(self.now() + jiff::SignedDuration::from_hours(hours));
    }

    /// A minute ago, as shippers write times.
    fn recent(&self) -> String {
        (self.now() - jiff::SignedDuration::from_mins(1)).to_string()
    }

    async fn send(&mut self, records: Vec<serde_json::Value>) {
        let records = records
            .into_iter()
            .map(|v| {
                self.n += 1;
                Record {
                    at: vigil_service::At::Line(self.n as usize),
                    bytes: v.to_string().into_bytes(),
                }
            })
            .collect();
        let out = self
            .svc
            .ingest(
                &op(),
                Some("acme"),
                Intake {
                    source: "test".into(),
                    records,
                    ..Default::default()
                },
            )
            .await
            .expect("ingest");
        assert!(out.records.iter().all(Option::is_none), "{:?}", out.records);
    }

    /// Endpoint telemetry (a Sysmon event naming a process, a file and an
    /// address; a Security logon) from each of `hosts`.
    async fn endpoints(&mut self, hosts: &[&str]) {
        let t = self.recent();
        let mut records = Vec::new();
        for (i, h) in hosts.iter().enumerate() {
            let n = self.n + i as u32;
            records.push(json!({"Event": {
                "System": {"EventID": 1, "EventRecordID": n, "TimeCreated": {"#attributes": {"SystemTime": t}},
                           "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": h},
                "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "User": "CORP\\alice",
                              "TargetFilename": format!("C:\\Temp\\{n}.txt"), "DestinationIp": "192.0.2.10"}}}));
            records.push(json!({"Event": {
                "System": {"EventID": 4624, "EventRecordID": n, "TimeCreated": {"#attributes": {"SystemTime": t}},
                           "Channel": "Security", "Computer": h},
                "EventData": {"TargetUserName": "bob", "TargetDomainName": "CORP", "LogonType": 3}}}));
        }
        self.send(records).await;
    }

    /// Identity, email and cloud audit records.
    async fn cloud(&mut self) {
        let t = self.recent();
        let n = self.n;
        self.send(vec![
            json!({"id": format!("s{n}"), "createdDateTime": t, "userPrincipalName": "alice@corp.example",
                   "ipAddress": "198.51.100.7", "status": {"errorCode": 0}}),
            json!({"CreationTime": t.trim_end_matches('Z'), "Id": format!("m{n}"), "Operation": "MailItemsAccessed",
                   "Workload": "Exchange", "UserId": "alice@corp.example", "RecordType": 50}),
            json!({"eventVersion": "1.08", "eventID": format!("c{n}"), "eventTime": t,
                   "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "eu-west-1",
                   "userIdentity": {"type": "IAMUser", "userName": "deploy"}}),
        ])
        .await;
    }

    async fn device(&mut self, host: &str, tamper: bool) {
        let t = self.recent();
        self.send(vec![json!({
            "type": "device_inventory", "collected_at": t,
            "device": {"hostname": host, "sensor_health": "active"},
            "posture": {
                "realtime_protection": true, "cloud_protection": true, "tamper_protection": tamper,
                "edr_block_mode": true, "network_protection": "block", "pua_protection": "block",
                "firewall": true, "process_creation_auditing": true, "command_line_auditing": true,
                "script_block_logging": true, "lsass_protection": true,
                "asr_rules": {"block_credential_stealing_from_lsass": "block",
                              "block_office_child_processes": "block",
                              "block_executable_content_from_email": "block"}}
        })])
        .await;
    }

    async fn identities(&mut self) {
        let t = self.recent();
        self.send(vec![
            json!({"type": "identity_inventory", "collected_at": t,
                   "identity": {"upn": "alice@corp.example", "privileged": true, "has_mailbox": true},
                   "posture": {"mfa_enforced": true, "legacy_auth_blocked": true, "mailbox_auditing": true}}),
            json!({"type": "identity_inventory", "collected_at": t,
                   "identity": {"upn": "bob@corp.example", "sam_account_name": "CORP\\bob", "has_mailbox": true},
                   "posture": {"mfa_enforced": true, "legacy_auth_blocked": true, "mailbox_auditing": true}}),
        ])
        .await;
    }

    async fn settings(&self, with_contact: bool) {
        let mut changes = vec![
            SettingChange::Authorisation(ResponseAuthorisation::Guided),
            SettingChange::ExclusionsReviewed,
            SettingChange::IrProvider(IrProvider {
                name: "Respond Ltd".into(),
                contact: "ir@respond.example".into(),
                engagement: "retainer hotline".into(),
            }),
        ];
        if with_contact {
            changes.push(contact());
        }
        self.svc
            .update_tenant(&op(), "acme", &changes)
            .await
            .expect("settings");
    }

    /// Everything a well-run tenant sends and sets.
    async fn well_run(&mut self) {
        self.settings(true).await;
        for h in HOSTS {
            self.device(h, true).await;
        }
        self.identities().await;
        self.endpoints(&HOSTS).await;
        self.cloud().await;
    }

    async fn run(&self) -> Assessment {
        self.svc.run_readiness(&op(), "acme").await.expect("run")
    }
}

fn contact() -> SettingChange {
    SettingChange::AddContact(Contact {
        kind: ContactKind::Incident,
        name: "Alice".into(),
        email: Some("alice@corp.example".into()),
        phone: None,
        priority: 1,
    })
}

fn status(a: &Assessment, id: &str) -> CheckStatus {
    check(a, id).status
}

fn check<'a>(a: &'a Assessment, id: &str) -> &'a vigil_core::readiness::CheckResult {
    a.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn not_passing(a: &Assessment) -> Vec<(String, CheckStatus, String)> {
    a.checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .map(|c| (c.id.clone(), c.status, c.evidence.summary.clone()))
        .collect()
}

#[tokio::test]
async fn a_well_run_tenant_is_ready_and_its_overview_and_history_show_it() {
    let mut w = World::new().await;
    w.well_run().await;
    let a = w.run().await;
    assert!(not_passing(&a).is_empty(), "{:#?}", not_passing(&a));
    assert!(a.ready);
    assert!((a.score - 100.0).abs() < 1e-9);
    let cov = check(&a, "coverage.devices");
    assert_eq!(cov.evidence.measured["inventory"], 3.0);
    assert_eq!(
        check(&a, "coverage.identities").evidence.measured["covered"],
        2.0
    );

    let (_, latest) = w
        .svc
        .tenant_overview(&op(), "acme")
        .await
        .expect("overview");
    assert_eq!(latest.map(|l| l.id), Some(a.id));
    let history = w
        .svc
        .readiness_history(&op(), "acme", None, 10)
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
    let onboarding = w.svc.onboarding(&op(), "acme").await.expect("onboarding");
    assert!(onboarding.complete, "{onboarding:#?}");
}

#[tokio::test]
async fn gaps_fail_the_right_checks_naming_the_assets_and_fixing_them_passes() {
    let mut w = World::new().await;
    w.settings(false).await;
    for h in HOSTS {
        w.device(h, h != HOSTS[1]).await;
    }
    w.identities().await;
    // WS-03 never sends telemetry; no sign-ins, mail or cloud audit.
    w.endpoints(&HOSTS[..2]).await;

    let a = w.run().await;
    assert!(!a.ready);
    let missing = check(&a, "settings.incident_contact");
    assert_eq!(missing.status, CheckStatus::Fail);
    assert_eq!(missing.evidence.summary, "no incident contact is set");
    let tamper = check(&a, "protection.tamper");
    assert_eq!(tamper.status, CheckStatus::Fail);
    assert_eq!(tamper.evidence.assets, ["WS-02.corp.example"]);
    let coverage = check(&a, "coverage.devices");
    assert_eq!(coverage.status, CheckStatus::Fail);
    assert_eq!(coverage.evidence.assets, ["WS-03.corp.example"]);
    assert!(
        coverage.evidence.summary.contains("2 of 3 devices (66.7%)"),
        "{}",
        coverage.evidence.summary
    );
    let signin = check(&a, "sources.identity_signin");
    assert_eq!(signin.status, CheckStatus::Fail);
    assert!(
        signin.evidence.summary.contains("no events"),
        "{}",
        signin.evidence.summary
    );
    assert_eq!(
        a.blocking_failures(),
        [
            "sources.identity_signin",
            "coverage.devices",
            "protection.tamper",
            "settings.incident_contact"
        ]
    );
    let onboarding = w.svc.onboarding(&op(), "acme").await.expect("onboarding");
    assert!(!onboarding.complete);
    assert_eq!(onboarding.blocking_failures.len(), 4);

    // The customer fixes each gap; the next run passes.
    w.advance(1);
    w.svc
        .update_tenant(&op(), "acme", &[contact()])
        .await
        .expect("contact");
    w.device(HOSTS[1], true).await;
    w.endpoints(&HOSTS).await;
    w.cloud().await;
    let fixed = w.run().await;
    assert!(not_passing(&fixed).is_empty(), "{:#?}", not_passing(&fixed));
    assert!(fixed.ready);
    let history = w
        .svc
        .readiness_history(&op(), "acme", None, 10)
        .await
        .expect("history");
    assert_eq!(
        history.iter().map(|h| h.ready).collect::<Vec<_>>(),
        [true, false],
        "newest first: progress shows"
    );
}

#[tokio::test]
async fn monitoring_starts_only_when_ready_unless_a_provider_admin_overrides() {
    let mut w = World::new().await;
    w.svc
        .create_user(
            &op(),
            "dm@mdr.example",
            Role::DeliveryManager,
            None,
            "correct horse battery staple",
        )
        .await
        .expect("dm");
    let dm = w
        .svc
        .verify_password("dm@mdr.example", "correct horse battery staple")
        .await
        .expect("dm");
    let err = w
        .svc
        .transition_tenant(&dm, "acme", Lifecycle::Monitoring, None)
        .await
        .expect_err("not ready");
    assert!(
        matches!(err, ServiceError::TransitionRefused { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("settings.incident_contact"),
        "{err}"
    );
    w.well_run().await;
    let t = w
        .svc
        .transition_tenant(&dm, "acme", Lifecycle::Monitoring, None)
        .await
        .expect("ready: a delivery manager starts monitoring");
    assert_eq!(t.lifecycle, Lifecycle::Monitoring);
    let history = w
        .svc
        .readiness_history(&op(), "acme", None, 10)
        .await
        .expect("history");
    assert_eq!(history.len(), 2, "each attempt assessed afresh");
}

#[tokio::test]
async fn a_device_that_stops_reporting_after_go_live_notifies_once_not_on_every_run() {
    let mut w = World::new().await;
    w.well_run().await;
    w.svc
        .transition_tenant(&op(), "acme", Lifecycle::Monitoring, None)
        .await
        .expect("monitoring");
    w.svc
        .transition_tenant(
            &op(),
            "acme",
            Lifecycle::Live,
            Some("learning period waived in the test"),
        )
        .await
        .expect("live");
    assert!(
        w.svc.run_due_assessments().await.expect("due").is_empty(),
        "assessed at the move to monitoring: not due again for a day"
    );

    // A day later WS-03 has gone silent; everything else reports.
    for day in 1..=3 {
        w.advance(24);
        for h in HOSTS {
            w.device(h, true).await;
        }
        w.identities().await;
        w.endpoints(&HOSTS[..2]).await;
        w.cloud().await;
        let done = w.svc.run_due_assessments().await.expect("scheduled run");
        assert_eq!(done.len(), 1, "day {day}: the daily run");
        assert_eq!(
            status(&done[0], "sensors.silent_devices"),
            CheckStatus::Fail
        );
        assert_eq!(
            check(&done[0], "sensors.silent_devices").evidence.assets,
            ["WS-03.corp.example"]
        );
    }
    let regressions: Vec<_> = w
        .svc
        .notifications(&op(), "acme", None, 100)
        .await
        .expect("notifications")
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.kind == NotificationKind::ReadinessRegression)
        .collect();
    let silent: Vec<_> = regressions
        .iter()
        .filter(|n| n.body.contains("sensors.silent_devices"))
        .collect();
    assert_eq!(silent.len(), 1, "once, not on every run: {regressions:#?}");
    assert!(
        silent[0].body.contains("WS-03.corp.example"),
        "{}",
        silent[0].body
    );
    assert!(
        silent[0].subject.contains("Silent devices"),
        "{}",
        silent[0].subject
    );
    assert_eq!(
        silent[0].audience,
        vigil_core::notification::Audience::Roles(vec![Role::DeliveryManager, Role::CustomerAdmin])
    );
    // Coverage fell under target the same day: one notification for that too.
    assert_eq!(regressions.len(), 2, "{regressions:#?}");

    // The device comes back, then goes silent again: a new regression.
    w.advance(24);
    w.endpoints(&HOSTS).await;
    w.cloud().await;
    assert!(w.svc.run_due_assessments().await.expect("run")[0].ready);
    w.advance(48);
    w.endpoints(&HOSTS[..2]).await;
    w.cloud().await;
    w.svc.run_due_assessments().await.expect("run");
    let again = w
        .svc
        .notifications(&op(), "acme", None, 100)
        .await
        .expect("notifications")
        .into_iter()
        .filter(|(n, _)| n.body.contains("sensors.silent_devices"))
        .count();
    assert_eq!(again, 2);
}

#[tokio::test]
async fn checks_failing_since_before_go_live_are_not_regressions() {
    let w = World::new().await;
    w.settings(true).await;
    w.svc
        .transition_tenant(
            &op(),
            "acme",
            Lifecycle::Monitoring,
            Some("before readiness existed"),
        )
        .await
        .expect("monitoring");
    w.svc
        .transition_tenant(
            &op(),
            "acme",
            Lifecycle::Live,
            Some("before readiness existed"),
        )
        .await
        .expect("live");
    let before = w
        .svc
        .notifications(&op(), "acme", None, 100)
        .await
        .expect("notifications")
        .len();
    w.advance(25);
    let a = w.svc.run_due_assessments().await.expect("run");
    assert!(!a[0].ready, "nothing was ever sent");
    let after = w
        .svc
        .notifications(&op(), "acme", None, 100)
        .await
        .expect("notifications")
        .len();
    assert_eq!(
        after, before,
        "no telemetry ever came: these are not regressions"
    );
}
