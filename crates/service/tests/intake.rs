//! Intake and detection at the service boundary: retention, backpressure,
//! and per-tenant tuning of what alerts.

use std::sync::Arc;

use vigil_core::alert::AlertFilter;
use vigil_core::identity::Principal;
use vigil_core::rules::RuleFile;
use vigil_core::tenant::SettingChange;
use vigil_service::{FixedClock, Intake, IntakeLimits, Record, Service, ServiceError};

mod support;

fn op() -> Principal {
    Principal::Operator("test".into())
}

async fn service(limits: IntakeLimits) -> (Service, Arc<FixedClock>) {
    let store = support::memory_store().await;
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = support::service(store, clock.clone())
        .await
        .with_intake_limits(limits);
    svc.create_tenant(&op(), "acme", "Acme")
        .await
        .expect("tenant");
    (svc, clock)
}

fn trail(n: usize, time: &str, user: &str) -> Record {
    Record {
        at: vigil_service::At::Line(n),
        bytes: format!(
            r#"{{"eventVersion":"1.08","eventID":"e{n}","eventTime":"{time}","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","userName":"{user}"}}}}"#
        )
        .into_bytes(),
    }
}

async fn try_ingest(
    svc: &Service,
    records: Vec<Record>,
) -> Result<vigil_service::IngestOutcome, ServiceError> {
    svc.ingest(
        &op(),
        Some("acme"),
        Intake {
            source: "test".into(),
            records,
            ..Default::default()
        },
    )
    .await
}

async fn ingest(svc: &Service, records: Vec<Record>) -> vigil_service::IngestOutcome {
    try_ingest(svc, records).await.expect("ingest")
}

const STOP_LOGGING: &str = r#"
title: CloudTrail Logging Stopped
id: 6f3c1d52-9f5e-4a0f-9d55-1b2f0c3e8a01
status: test
level: high
tags:
    - attack.defense_evasion
    - attack.t1562.008
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventSource: cloudtrail.amazonaws.com
        eventName: StopLogging
    condition: selection
"#;

async fn with_rule(svc: &Service) {
    svc.add_rule_pack(
        &op(),
        "test",
        "inline",
        vec![RuleFile {
            pack: String::new(),
            path: "stop_logging.yml".into(),
            yaml: STOP_LOGGING.into(),
        }],
    )
    .await
    .expect("pack");
}

async fn alerts(svc: &Service) -> Vec<vigil_core::alert::Alert> {
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");
    svc.list_alerts(
        &op(),
        "acme",
        AlertFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .expect("alerts")
}

#[tokio::test]
async fn the_purge_deletes_only_telemetry_past_the_tenants_retention() {
    let (svc, _) = service(IntakeLimits::default()).await;
    svc.update_tenant(&op(), "acme", &[SettingChange::RetentionDays(30)])
        .await
        .expect("retention");
    ingest(
        &svc,
        vec![
            trail(1, "2026-10-01T00:00:00Z", "old"),
            trail(2, "2026-11-20T00:00:00Z", "recent"),
        ],
    )
    .await;
    let report = svc.purge_expired(&op()).await.expect("purge");
    assert_eq!(report.tenants, vec![("acme".to_owned(), 1)]);
    let stats = svc.telemetry_stats(&op(), "acme").await.expect("stats");
    assert_eq!(stats.events, 1);
    let again = svc.purge_expired(&op()).await.expect("purge");
    assert!(again.tenants.is_empty(), "nothing more to purge");
    let audit = svc
        .audit_log(&op(), Some("acme"), 0, 1000)
        .await
        .expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.action == "telemetry.purge")
            .count(),
        1
    );
}

#[tokio::test]
async fn intake_answers_busy_while_detection_is_too_far_behind() {
    let (svc, _) = service(IntakeLimits {
        max_backlog: 3,
        ..Default::default()
    })
    .await;
    let outcome = ingest(
        &svc,
        (0..3)
            .map(|n| trail(n, "2026-11-27T11:00:00Z", "u"))
            .collect(),
    )
    .await;
    assert_eq!(outcome.counts.accepted, 3);
    let refused = try_ingest(&svc, vec![trail(9, "2026-11-27T11:00:00Z", "u")])
        .await
        .expect_err("busy");
    assert!(
        matches!(refused, ServiceError::Busy { retry_after_secs, .. } if retry_after_secs > 0),
        "{refused}"
    );
    // Detection catching up opens intake again.
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");
    ingest(&svc, vec![trail(9, "2026-11-27T11:00:00Z", "u")]).await;
}

#[tokio::test]
async fn a_disabled_rule_or_an_exclusion_keeps_matches_from_alerting() {
    let (svc, _) = service(IntakeLimits::default()).await;
    with_rule(&svc).await;
    ingest(&svc, vec![trail(1, "2026-11-27T11:00:00Z", "alice")]).await;
    let first = alerts(&svc).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].rule_title, "CloudTrail Logging Stopped");
    assert_eq!(first[0].techniques, ["T1562.008"]);
    assert!(
        first[0]
            .entities
            .iter()
            .any(|e| e.to_string() == "ip:203.0.113.9"),
        "{:?}",
        first[0].entities
    );

    svc.add_exclusion(
        &op(),
        "acme",
        None,
        "field:userIdentity.userName",
        "bob",
        "bob's automation stops trails in the sandbox",
    )
    .await
    .expect("exclusion");
    ingest(&svc, vec![trail(2, "2026-11-27T11:10:00Z", "bob")]).await;
    assert_eq!(alerts(&svc).await.len(), 1, "bob's match is silenced");

    svc.set_rule_enabled(&op(), "acme", "6f3c1d52-9f5e-4a0f-9d55-1b2f0c3e8a01", false)
        .await
        .expect("disable");
    ingest(&svc, vec![trail(3, "2026-11-27T11:20:00Z", "carol")]).await;
    let after = alerts(&svc).await;
    assert_eq!(after.len(), 1, "disabled: no new alert");
    assert_eq!(after[0].count, 1);
    let rules = svc.list_rules(&op(), Some("acme")).await.expect("rules");
    assert!(rules.iter().any(|r| !r.enabled), "listed as off for acme");
}

#[tokio::test]
async fn repeated_matches_on_the_same_entities_fold_into_one_alert_with_a_count() {
    let (svc, _) = service(IntakeLimits::default()).await;
    with_rule(&svc).await;
    ingest(
        &svc,
        vec![
            trail(1, "2026-11-27T11:00:00Z", "alice"),
            trail(2, "2026-11-27T11:05:00Z", "alice"),
            trail(3, "2026-11-27T11:06:00Z", "alice"),
            trail(4, "2026-11-27T11:06:00Z", "dave"),
        ],
    )
    .await;
    let mut got: Vec<(u64, String)> = alerts(&svc)
        .await
        .into_iter()
        .map(|a| {
            (
                a.count,
                a.entities
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, 1);
    assert!(got[0].1.contains("dave"));
    assert_eq!(got[1].0, 3);
    assert!(got[1].1.contains("alice"));
}

/// Detection that holds every round until the gate opens.
#[derive(Debug)]
struct Gated {
    inner: Arc<dyn vigil_service::Detection>,
    open: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

struct GatedSession<'a> {
    inner: Box<dyn vigil_service::DetectionSession + 'a>,
    open: &'a (std::sync::Mutex<bool>, std::sync::Condvar),
}

impl vigil_service::DetectionSession for GatedSession<'_> {
    fn detect(&mut self, event: &vigil_formats::Decoded, out: &mut Vec<u32>) {
        let (open, changed) = self.open;
        let mut is_open = open.lock().expect("gate");
        while !*is_open {
            is_open = changed.wait(is_open).expect("gate");
        }
        drop(is_open);
        self.inner.detect(event, out);
    }
}

impl vigil_service::Detection for Gated {
    fn session(&self) -> Box<dyn vigil_service::DetectionSession + '_> {
        Box::new(GatedSession {
            inner: self.inner.session(),
            open: &self.open,
        })
    }
    fn rule(&self, index: u32) -> &vigil_sigma::RuleInfo {
        self.inner.rule(index)
    }
    fn alerts_alone(&self, index: u32) -> bool {
        self.inner.alerts_alone(index)
    }
    fn correlate(
        &self,
        tenant: vigil_core::TenantId,
        event: &vigil_formats::Decoded,
        matched: &[u32],
        epoch_secs: i64,
        out: &mut Vec<vigil_sigma::RuleInfo>,
    ) {
        self.inner
            .correlate(tenant, event, matched, epoch_secs, out);
    }
}

fn open_gate(gate: &(std::sync::Mutex<bool>, std::sync::Condvar)) {
    *gate.0.lock().expect("gate") = true;
    gate.1.notify_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_waits_while_detection_holds_its_hand_off_and_goes_on_when_detection_takes_it() {
    let (svc, _) = service(IntakeLimits {
        handoff: 2,
        queue_wait: std::time::Duration::from_millis(400),
        ..Default::default()
    })
    .await;
    with_rule(&svc).await;
    let (engine, _) = svc.detection_engine().await.expect("engine");
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let gated: Arc<dyn vigil_service::Detection> = Arc::new(Gated {
        inner: engine,
        open: gate.clone(),
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = {
        let svc = svc.clone();
        tokio::spawn(async move {
            svc.run_detection(gated, async {
                let _ = stop_rx.await;
            })
            .await;
        })
    };
    // The worker is running once intake waits for it.
    let first = ingest(
        &svc,
        (0..3)
            .map(|n| trail(n, "2026-11-27T11:00:00Z", "alice"))
            .collect(),
    )
    .await;
    assert_eq!(first.counts.accepted, 3);
    let mut refused = None;
    for _ in 0..50 {
        match try_ingest(&svc, vec![trail(10, "2026-11-27T11:00:00Z", "alice")]).await {
            Err(e) => {
                refused = Some(e);
                break;
            }
            // The worker had not started yet: that batch went in.
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let refused = refused.expect("a batch past the hand-off is refused while detection holds it");
    assert!(
        matches!(&refused, ServiceError::Busy { reason, retry_after_secs } if *retry_after_secs > 0 && reason.contains("wait for detection")),
        "{refused}"
    );
    // A batch that arrives now waits; detection taking the hand-off lets
    // it in.
    let waiting = {
        let svc = svc.clone();
        tokio::spawn(async move {
            try_ingest(&svc, vec![trail(11, "2026-11-27T11:00:00Z", "alice")]).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "the batch waits for room");
    open_gate(&gate);
    let outcome = waiting
        .await
        .expect("task")
        .expect("let in once detection took the hand-off");
    assert_eq!(outcome.counts.accepted, 1);
    let _ = stop_tx.send(());
    worker.await.expect("worker");
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("drain");
    let alerts = alerts(&svc).await;
    assert_eq!(alerts.len(), 1, "one alert for alice's trails");
    assert!(
        alerts[0].count >= 4,
        "every stored event was detected: {}",
        alerts[0].count
    );
}
