//! Posture recommendations end to end through the service, over a real
//! SQLite file: credential dumping seen in true-positive incidents raises
//! the LSASS-protection recommendation, linked to each incident; posture
//! snapshots complete it and reopen it; a risk acceptance expires.

use std::sync::Arc;

use jiff::SignedDuration;
use vigil_core::identity::{Principal, Role};
use vigil_core::incident::{Classification, IncidentStatus};
use vigil_core::recommendation::{CompletedBy, RecommendationStatus, VerificationState};
use vigil_core::rules::RuleFile;
use vigil_service::{
    At, FixedClock, IncidentChange, IncidentFilter, Intake, RecommendationUpdate, Record, Service,
    ServiceError,
};
use vigil_store::{SqliteStore, Store};

/// Process access to LSASS with a read right, as Sysmon event 10 records it.
const RULE: &str = "title: Test - Process Opened LSASS Memory
id: 3f0c7b7e-2f4e-4d7c-9a55-0c7e1d2b9a10
level: high
tags:
    - attack.credential_access
    - attack.t1003.001
logsource:
    product: windows
    category: process_access
detection:
    selection:
        TargetImage|endswith: '\\lsass.exe'
        GrantedAccess: '0x1010'
    condition: selection
";

fn lsass_access(host: &str, user: &str, time: &str, record: u32) -> Vec<u8> {
    serde_json::json!({
        "Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                "EventID": 10,
                "TimeCreated": {"#attributes": {"SystemTime": time}},
                "EventRecordID": record,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": host,
            },
            "EventData": {
                "SourceImage": "C:\\Users\\Public\\m.exe",
                "TargetImage": "C:\\Windows\\system32\\lsass.exe",
                "GrantedAccess": "0x1010",
                "SourceUser": user,
            }
        }
    })
    .to_string()
    .into_bytes()
}

fn device_snapshot(host: &str, collected_at: &str, lsass: bool) -> Vec<u8> {
    serde_json::json!({
        "type": "device_inventory",
        "schema_version": 1,
        "collected_at": collected_at,
        "device": {"hostname": host, "sensor_health": "active", "last_seen": collected_at},
        "posture": {"lsass_protection": lsass, "tamper_protection": true}
    })
    .to_string()
    .into_bytes()
}

struct World {
    svc: Service,
    clock: Arc<FixedClock>,
    op: Principal,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = Service::new(Arc::new(store), clock.clone());
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    svc.add_rule_pack(
        &op,
        "test",
        "inline",
        vec![RuleFile {
            pack: String::new(),
            path: "lsass.yml".into(),
            yaml: RULE.into(),
        }],
    )
    .await
    .expect("pack");
    World {
        svc,
        clock,
        op,
        _dir: dir,
    }
}

impl World {
    async fn send(&self, records: Vec<Vec<u8>>) {
        self.svc
            .ingest(
                &self.op,
                Some("acme"),
                Intake {
                    source: "test".into(),
                    records: records
                        .into_iter()
                        .enumerate()
                        .map(|(i, bytes)| Record {
                            at: At::Line(i + 1),
                            bytes,
                        })
                        .collect(),
                    ..Default::default()
                },
            )
            .await
            .expect("ingest");
        let (engine, _) = self.svc.detection_engine().await.expect("engine");
        self.svc.drain_detection(&engine).await.expect("detect");
    }

    /// Resolve every open incident as a true positive.
    async fn resolve_all_true_positive(&self) -> usize {
        let open = self
            .svc
            .list_incidents(
                &self.op,
                "acme",
                IncidentFilter {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .expect("incidents");
        let mut n = 0;
        for r in open
            .iter()
            .filter(|r| r.incident.status != IncidentStatus::Resolved)
        {
            self.svc
                .update_incident(
                    &self.op,
                    "acme",
                    r.incident.id,
                    IncidentChange {
                        status: Some(IncidentStatus::Resolved),
                        classification: Some(Some(Classification::TruePositive)),
                        ..Default::default()
                    },
                )
                .await
                .expect("resolve");
            n += 1;
        }
        n
    }

    async fn lsass(&self) -> vigil_core::recommendation::Recommendation {
        self.svc
            .list_recommendations(&self.op, "acme")
            .await
            .expect("list")
            .into_iter()
            .find(|r| r.kb_id == "device.lsass_protection")
            .expect("the LSASS recommendation is raised")
    }
}

#[tokio::test]
async fn credential_dumping_incidents_raise_lsass_protection_once_and_snapshots_complete_and_reopen_it()
 {
    let w = world().await;
    w.send(vec![lsass_access(
        "WS-0001",
        "CORP\\alice",
        "2026-11-27T09:00:00Z",
        1,
    )])
    .await;
    // Nothing is raised before an analyst calls it a true positive.
    assert!(
        w.svc
            .list_recommendations(&w.op, "acme")
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(w.resolve_all_true_positive().await, 1);
    let rec = w.lsass().await;
    assert_eq!(rec.status, RecommendationStatus::Open);
    assert_eq!(rec.incidents.len(), 1);
    assert_eq!(rec.incidents[0].reason, "technique T1003.001");
    assert!(
        rec.assets.iter().any(|e| e.value == "ws-0001"),
        "{:?}",
        rec.assets
    );
    assert_eq!(rec.verification.state, VerificationState::Unknown);

    // A second incident on another device adds a link, not a copy.
    w.clock.advance(SignedDuration::from_hours(1));
    w.send(vec![lsass_access(
        "WS-0002",
        "CORP\\bob",
        "2026-11-27T10:30:00Z",
        2,
    )])
    .await;
    assert_eq!(w.resolve_all_true_positive().await, 1);
    let all = w
        .svc
        .list_recommendations(&w.op, "acme")
        .await
        .expect("list");
    assert_eq!(
        all.iter()
            .filter(|r| r.kb_id == "device.lsass_protection")
            .count(),
        1
    );
    let rec = w.lsass().await;
    assert_eq!(rec.incidents.len(), 2);
    assert!(rec.assets.iter().any(|e| e.value == "ws-0002"));

    // Snapshots with the protection on complete it, by the system.
    w.clock.advance(SignedDuration::from_hours(1));
    w.send(vec![
        device_snapshot("WS-0001", "2026-11-27T13:00:00Z", true),
        device_snapshot("WS-0002", "2026-11-27T13:00:00Z", true),
    ])
    .await;
    let report = w.svc.run_due_recommendations().await.expect("round");
    assert!(report.completed >= 1, "{report:?}");
    let rec = w.lsass().await;
    assert_eq!(rec.status, RecommendationStatus::Completed);
    assert_eq!(rec.completed_by, Some(CompletedBy::System));
    assert_eq!(rec.verification.state, VerificationState::Passed);
    let score = w.svc.posture_score(&w.op, "acme").await.expect("score");
    assert!(score.current.achieved >= rec.points);
    assert!(score.trend.len() >= 3, "one point per change");

    // A second round with nothing new changes nothing.
    let again = w.svc.run_due_recommendations().await.expect("round");
    assert_eq!((again.completed, again.reopened), (0, 0));

    // Turning it off on one device reopens it, naming the device.
    w.clock.advance(SignedDuration::from_hours(1));
    w.send(vec![device_snapshot(
        "WS-0002",
        "2026-11-27T14:00:00Z",
        false,
    )])
    .await;
    let report = w.svc.run_due_recommendations().await.expect("round");
    assert_eq!(report.reopened, 1);
    let rec = w.lsass().await;
    assert_eq!(rec.status, RecommendationStatus::Open);
    assert_eq!(rec.verification.state, VerificationState::Failed);
    assert_eq!(rec.verification.failing, ["ws-0002"]);

    let view = w
        .svc
        .recommendation(&w.op, "acme", rec.id)
        .await
        .expect("view");
    let lines: Vec<&str> = view.history.iter().map(|h| h.change.as_str()).collect();
    assert!(
        lines[0].starts_with("raised: technique T1003.001"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("completed (verified by the system"))
    );
    assert!(lines.iter().any(|l| l.contains("regressed")), "{lines:?}");
    assert!(view.entry.is_some_and(|e| !e.how.is_empty()));
    let audit = w
        .svc
        .audit_log(&w.op, Some("acme"), 0, 500)
        .await
        .expect("audit");
    for action in ["recommendation.raise", "recommendation.verify"] {
        assert!(audit.iter().any(|r| r.action == action), "{action} audited");
    }
}

#[tokio::test]
async fn a_risk_acceptance_needs_a_reason_and_an_expiry_and_reopens_when_it_expires() {
    let w = world().await;
    w.send(vec![lsass_access(
        "WS-0001",
        "CORP\\alice",
        "2026-11-27T09:00:00Z",
        1,
    )])
    .await;
    w.resolve_all_true_positive().await;
    let rec = w.lsass().await;
    let refused = w
        .svc
        .update_recommendation(
            &w.op,
            "acme",
            rec.id,
            RecommendationUpdate {
                status: Some(RecommendationStatus::RiskAccepted),
                reason: Some("the legacy VPN client loads into LSASS".into()),
                ..Default::default()
            },
        )
        .await
        .expect_err("no expiry");
    assert!(
        matches!(&refused, ServiceError::Invalid(m) if m.contains("expiry")),
        "{refused}"
    );
    let view = w
        .svc
        .update_recommendation(
            &w.op,
            "acme",
            rec.id,
            RecommendationUpdate {
                status: Some(RecommendationStatus::RiskAccepted),
                reason: Some("the legacy VPN client loads into LSASS".into()),
                expires_at: Some("2026-12-27T12:00:00Z".parse().expect("time")),
                note: Some("replacing the VPN client in December".into()),
            },
        )
        .await
        .expect("accept");
    assert_eq!(
        view.recommendation.status,
        RecommendationStatus::RiskAccepted
    );
    assert_eq!(view.recommendation.notes.len(), 1);

    // Before the expiry nothing happens; after it, it reopens.
    w.clock.set("2026-12-27T11:59:59Z".parse().expect("time"));
    assert_eq!(
        w.svc
            .run_due_recommendations()
            .await
            .expect("round")
            .expired,
        0
    );
    w.clock.set("2026-12-27T12:00:00Z".parse().expect("time"));
    assert_eq!(
        w.svc
            .run_due_recommendations()
            .await
            .expect("round")
            .expired,
        1
    );
    let rec = w.lsass().await;
    assert_eq!(rec.status, RecommendationStatus::Open);
    assert_eq!(rec.expires_at, None);
    let view = w
        .svc
        .recommendation(&w.op, "acme", rec.id)
        .await
        .expect("view");
    assert!(
        view.history
            .iter()
            .any(|h| h.change.contains("risk acceptance expired") && h.actor == "system")
    );
}

#[tokio::test]
async fn completing_by_hand_is_marked_and_readers_may_not_change_anything() {
    let w = world().await;
    w.send(vec![lsass_access(
        "WS-0001",
        "CORP\\alice",
        "2026-11-27T09:00:00Z",
        1,
    )])
    .await;
    w.resolve_all_true_positive().await;
    let rec = w.lsass().await;
    let view = w
        .svc
        .update_recommendation(
            &w.op,
            "acme",
            rec.id,
            RecommendationUpdate {
                status: Some(RecommendationStatus::Completed),
                ..Default::default()
            },
        )
        .await
        .expect("complete");
    assert_eq!(view.recommendation.completed_by, Some(CompletedBy::Hand));
    assert!(view.history.iter().any(|h| h.change.contains("(by hand)")));

    let user = w
        .svc
        .create_user(
            &w.op,
            "reader@acme.example",
            Role::CustomerReader,
            Some("acme"),
            "correct horse battery staple",
        )
        .await
        .expect("user");
    let reader = Principal::user(&user);
    {
        let e = w
            .svc
            .update_recommendation(
                &reader,
                "acme",
                rec.id,
                RecommendationUpdate {
                    note: Some("x".into()),
                    ..Default::default()
                },
            )
            .await
            .expect_err("readers read");
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
    }
}

#[tokio::test]
async fn a_readiness_run_raises_what_its_failing_checks_and_posture_call_for_once() {
    let w = world().await;
    w.send(vec![
        device_snapshot("WS-0007", "2026-11-27T11:00:00Z", false),
        device_snapshot("WS-0008", "2026-11-27T11:00:00Z", true),
    ])
    .await;
    w.svc.run_readiness(&w.op, "acme").await.expect("readiness");
    let recs = w
        .svc
        .list_recommendations(&w.op, "acme")
        .await
        .expect("list");
    let lsass = recs
        .iter()
        .find(|r| r.kb_id == "device.lsass_protection")
        .expect("raised by the failing LSASS check or posture");
    assert!(lsass.incidents.is_empty());
    let view = w
        .svc
        .recommendation(&w.op, "acme", lsass.id)
        .await
        .expect("view");
    assert!(
        view.history[0]
            .change
            .starts_with("raised: check protection.lsass")
            || view.history[0].change.starts_with("raised: posture"),
        "{:?}",
        view.history
    );
    // No sign-in logs arrive: the data-source check raises its fix.
    let signin = recs
        .iter()
        .find(|r| r.kb_id == "identity.signin_logs")
        .expect("raised by sources.identity_signin");
    assert!(
        signin
            .checks
            .contains(&"sources.identity_signin".to_owned())
    );

    // Running again links nothing new and copies nothing.
    w.svc.run_readiness(&w.op, "acme").await.expect("readiness");
    let again = w
        .svc
        .list_recommendations(&w.op, "acme")
        .await
        .expect("list");
    assert_eq!(again.len(), recs.len());
    assert_eq!(again, recs);
}

#[tokio::test]
async fn the_mimikatz_evtx_sample_resolved_as_a_true_positive_raises_lsass_protection() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let w = world().await;
    // SigmaHQ's process-access rules, LSASS access among them.
    let dir = corpus.join("sigma/rules/windows/process_access");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).expect("rules").flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yml") {
            files.push(RuleFile {
                pack: String::new(),
                path: p.file_name().expect("name").to_string_lossy().into_owned(),
                yaml: std::fs::read_to_string(&p).expect("rule"),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    w.svc
        .add_rule_pack(&w.op, "sigmahq-process-access", "corpus", files)
        .await
        .expect("pack");
    let sample = corpus
        .join("evtx-attack-samples/Credential Access/sysmon_10_lsass_mimikatz_sekurlsa_logonpasswords.evtx");
    let mut records = Vec::new();
    vigil_formats::read_records(
        &sample,
        vigil_formats::FileKind::Evtx,
        1,
        &mut |r| {
            records.push(r.json);
        },
        &mut |e| panic!("{e:?}"),
    );
    assert!(!records.is_empty());
    w.send(records).await;
    assert!(w.resolve_all_true_positive().await >= 1);
    let rec = w.lsass().await;
    assert!(!rec.incidents.is_empty());
    assert!(
        rec.incidents
            .iter()
            .all(|l| l.reason.starts_with("technique T1003") || l.reason.starts_with("rule ")),
        "{:?}",
        rec.incidents
    );
}
