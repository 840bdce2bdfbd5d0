//! The SLA engine end to end over a real SQLite file (or PostgreSQL +
//! NATS: `tests/support`), with a clock the tests move: a high-severity incident (acknowledge 1 h, complete 4 h)
//! whose response is published at noon, with two incident contacts.

use std::path::Path;
use std::sync::Arc;

use jiff::SignedDuration;
use vigil_core::identity::{Principal, Role};
use vigil_core::incident::IncidentId;
use vigil_core::notification::{
    Audience, Delivery, DeliveryStatus, Notification, NotificationKind,
};
use vigil_core::sla::{SlaKind, StopReason};
use vigil_core::tenant::{Contact, ContactKind, Lifecycle, SettingChange};
use vigil_service::{FixedClock, Service, ServiceError};

mod support;

const PASSWORD: &str = "correct horse battery staple";

fn op() -> Principal {
    Principal::Operator("test".into())
}

/// A service over the SQLite file at `path` (on PostgreSQL, the database
/// that path stands for), migrated, on `clock`.
async fn open(path: &Path, clock: &Arc<FixedClock>) -> Service {
    support::service(support::store_at(path).await, clock.clone()).await
}

struct World {
    svc: Service,
    clock: Arc<FixedClock>,
    incident: IncidentId,
    /// The customer's responder.
    soc: Principal,
    dir: tempfile::TempDir,
}

/// Tenant `acme` in `lifecycle` with contacts Ada (priority 1) and Bob
/// (priority 2), an analyst, a responder, and an incident with one open
/// guided task whose response is published at noon.
async fn world(lifecycle: Lifecycle) -> World {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = open(&dir.path().join("vigil.db"), &clock).await;
    let op = op();
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    for (name, email, priority) in [
        ("Ada", "ada@acme.example", 1),
        ("Bob", "bob@acme.example", 2),
    ] {
        svc.update_tenant(
            &op,
            "acme",
            &[SettingChange::AddContact(Contact {
                kind: ContactKind::Incident,
                name: name.into(),
                email: Some(email.into()),
                phone: None,
                priority,
            })],
        )
        .await
        .expect("contact");
    }
    if lifecycle != Lifecycle::Onboarding {
        svc.transition_tenant(
            &op,
            "acme",
            Lifecycle::Monitoring,
            Some("readiness is not under test here"),
        )
        .await
        .expect("monitoring");
    }
    if lifecycle == Lifecycle::Live {
        svc.transition_tenant(
            &op,
            "acme",
            Lifecycle::Live,
            Some("test: no learning period"),
        )
        .await
        .expect("live");
    }
    svc.create_user(&op, "analyst@mdr.example", Role::Analyst, None, PASSWORD)
        .await
        .expect("analyst");
    let soc = user(&svc, "soc@acme.example", Role::CustomerResponder).await;
    let incident = vigil_fixtures::published_stop_logging_incident(
        &svc,
        &op,
        "acme",
        "rotate mallory's access keys",
    )
    .await;
    World {
        svc,
        clock,
        incident,
        soc,
        dir,
    }
}

/// A user of `acme` (or a provider user) as a principal, through a token.
async fn user(svc: &Service, email: &str, role: Role) -> Principal {
    let tenant = (!role.is_provider()).then_some("acme");
    svc.create_user(&op(), email, role, tenant, PASSWORD)
        .await
        .expect("user");
    let (secret, _) = svc
        .create_token(&op(), email, "t", None)
        .await
        .expect("token");
    svc.authenticate_token(secret.expose())
        .await
        .expect("principal")
}

/// The SLA notifications queued so far, oldest first.
async fn sla_log(svc: &Service) -> Vec<(Notification, Vec<Delivery>)> {
    let mut log = svc
        .notifications(&op(), "acme", None, 200)
        .await
        .expect("log");
    log.retain(|(n, _)| {
        matches!(
            n.kind,
            NotificationKind::SlaReminder | NotificationKind::SlaBreach
        )
    });
    // Ids of one instant are not ordered among themselves: order each
    // instant's notifications by kind and audience.
    log.sort_by_key(|(n, _)| (n.created_at, format!("{:?} {:?}", n.kind, n.audience)));
    log
}

/// (kind, audience) of each SLA notification, oldest first.
async fn steps(svc: &Service) -> Vec<(NotificationKind, Audience)> {
    sla_log(svc)
        .await
        .into_iter()
        .map(|(n, _)| (n.kind, n.audience))
        .collect()
}

fn destinations(d: &[Delivery]) -> Vec<String> {
    let mut out: Vec<String> = d.iter().map(|d| d.destination.to_string()).collect();
    out.sort();
    out
}

fn experts() -> Audience {
    Audience::Roles(vec![Role::Analyst])
}

#[tokio::test]
async fn reminders_come_at_half_and_all_of_each_target_once_each() {
    let w = world(Lifecycle::Live).await;
    let run_twice = || async {
        let first = w.svc.run_sla().await.expect("run");
        let second = w.svc.run_sla().await.expect("run again");
        assert_eq!(second.reminders + second.breaches + second.escalations, 0);
        assert_eq!(second.conflicts, 0);
        first
    };
    run_twice().await;
    assert!(steps(&w.svc).await.is_empty(), "nothing due at publication");
    w.clock.advance(SignedDuration::from_mins(29));
    run_twice().await;
    assert!(steps(&w.svc).await.is_empty());
    // 12:30: half the hour to acknowledge.
    w.clock.advance(SignedDuration::from_mins(1));
    let report = run_twice().await;
    assert_eq!(report.reminders, 1);
    let log = sla_log(&w.svc).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].0.kind, NotificationKind::SlaReminder);
    assert_eq!(log[0].0.audience, Audience::IncidentContacts);
    assert!(
        log[0].0.subject.starts_with("Reminder: acknowledge"),
        "{}",
        log[0].0.subject
    );
    assert_eq!(
        log[0].0.link.as_deref(),
        Some(format!("/tenants/acme/incidents/{}", w.incident).as_str())
    );
    assert_eq!(
        destinations(&log[0].1),
        ["email:ada@acme.example", "email:bob@acme.example"]
    );
    // 13:00: the acknowledge target: contacts, experts, second contact.
    w.clock.advance(SignedDuration::from_mins(30));
    let report = run_twice().await;
    assert_eq!((report.breaches, report.escalations), (1, 1));
    // 14:00: half the four hours to complete.
    w.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(run_twice().await.reminders, 1);
    // 16:00: the complete target.
    w.clock.advance(SignedDuration::from_hours(2));
    run_twice().await;
    w.clock.advance(SignedDuration::from_hours(24));
    run_twice().await;
    assert_eq!(
        steps(&w.svc).await,
        [
            // 12:30
            (NotificationKind::SlaReminder, Audience::IncidentContacts),
            // 13:00
            (NotificationKind::SlaBreach, Audience::Contact(2)),
            (NotificationKind::SlaBreach, experts()),
            (NotificationKind::SlaReminder, Audience::IncidentContacts),
            // 14:00
            (NotificationKind::SlaReminder, Audience::IncidentContacts),
            // 16:00
            (NotificationKind::SlaBreach, Audience::Contact(2)),
            (NotificationKind::SlaBreach, experts()),
            (NotificationKind::SlaReminder, Audience::IncidentContacts),
        ],
        "each step once; the contacts ran out after the second"
    );
    let subjects: Vec<String> = sla_log(&w.svc)
        .await
        .into_iter()
        .map(|(n, _)| n.subject)
        .collect();
    assert!(
        subjects[3].starts_with("Overdue: acknowledge"),
        "{subjects:?}"
    );
    assert!(
        subjects[4].starts_with("Reminder: complete"),
        "{subjects:?}"
    );
    assert!(subjects[7].starts_with("Overdue: complete"), "{subjects:?}");
}

#[tokio::test]
async fn after_a_breach_the_second_incident_contact_is_called_on() {
    let w = world(Lifecycle::Live).await;
    w.clock.advance(SignedDuration::from_hours(1));
    w.svc.run_sla().await.expect("run");
    let log = sla_log(&w.svc).await;
    let (escalation, deliveries) = log
        .iter()
        .find(|(n, _)| n.audience == Audience::Contact(2))
        .expect("the second contact is called on");
    assert_eq!(escalation.kind, NotificationKind::SlaBreach);
    assert!(
        escalation.body.contains("incident contact 2 in call order"),
        "{}",
        escalation.body
    );
    assert_eq!(destinations(deliveries), ["email:bob@acme.example"]);
    assert_eq!(deliveries[0].status, DeliveryStatus::Pending);
    let (_, to_experts) = log
        .iter()
        .find(|(n, _)| n.audience == experts())
        .expect("the experts are told");
    assert_eq!(destinations(to_experts), ["email:analyst@mdr.example"]);
    // The breach is recorded, starting at the due time, and still open.
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    let ack = timers
        .iter()
        .find(|t| t.kind == SlaKind::Acknowledge)
        .expect("ack");
    assert_eq!(
        ack.breached_at,
        Some("2026-11-27T13:00:00Z".parse().expect("time"))
    );
    assert_eq!(ack.escalation_level, 1);
    w.clock.advance(SignedDuration::from_mins(45));
    let breaches = w
        .svc
        .sla_breaches(
            &op(),
            "acme",
            "2026-11-27T00:00:00Z".parse().expect("from"),
            "2026-11-28T00:00:00Z".parse().expect("to"),
        )
        .await
        .expect("breaches");
    assert_eq!(breaches.len(), 1, "the complete timer is not due yet");
    assert!(breaches[0].open);
    assert_eq!(breaches[0].over, SignedDuration::from_mins(45));
    assert!(
        breaches[0]
            .incident_title
            .starts_with("CloudTrail Logging Stopped"),
        "{}",
        breaches[0].incident_title
    );
}

#[tokio::test]
async fn nothing_is_sent_while_the_tenant_is_monitoring() {
    let w = world(Lifecycle::Monitoring).await;
    for _ in 0..3 {
        w.clock.advance(SignedDuration::from_hours(2));
        w.svc.run_sla().await.expect("run");
    }
    let log = w
        .svc
        .notifications(&op(), "acme", None, 200)
        .await
        .expect("log");
    let sla: Vec<_> = steps(&w.svc).await;
    assert!(
        sla.contains(&(NotificationKind::SlaBreach, Audience::Contact(2))),
        "{sla:?}"
    );
    assert!(
        !sla.iter().any(|(_, a)| *a == experts()),
        "no breach copy to the experts for a response the customer was never sent"
    );
    let deliveries: Vec<&Delivery> = log.iter().flat_map(|(_, d)| d).collect();
    assert!(!deliveries.is_empty());
    assert!(
        deliveries.iter().all(|d| d.status == DeliveryStatus::Held),
        "{deliveries:?}"
    );
    assert!(
        !deliveries
            .iter()
            .any(|d| d.status == DeliveryStatus::Pending)
    );
}

#[tokio::test]
async fn timers_due_while_the_server_was_stopped_fire_once_after_restart() {
    let w = world(Lifecycle::Live).await;
    let path = w.dir.path().join("vigil.db");
    w.svc.run_sla().await.expect("run before the stop");
    let (clock, incident, dir) = (w.clock.clone(), w.incident, w.dir);
    drop(w.svc);
    // Down from 12:00 to 13:40: past half and all of the hour to acknowledge.
    clock.advance(SignedDuration::from_mins(100));
    let svc = open(&path, &clock).await;
    let first = svc.run_sla().await.expect("first run after restart");
    let second = svc.run_sla().await.expect("second run");
    assert_eq!(
        (
            first.reminders,
            first.passed_over,
            first.breaches,
            first.escalations
        ),
        (0, 1, 1, 1)
    );
    assert_eq!(
        second,
        vigil_service::SlaReport {
            checked: 2,
            ..Default::default()
        }
    );
    assert_eq!(
        steps(&svc).await,
        [
            (NotificationKind::SlaBreach, Audience::Contact(2)),
            (NotificationKind::SlaBreach, experts()),
            (NotificationKind::SlaReminder, Audience::IncidentContacts),
        ],
        "one notice per due step; the stale half-time reminder is passed over"
    );
    assert!(
        sla_log(&svc).await[2]
            .0
            .subject
            .starts_with("Overdue: acknowledge")
    );
    let timers = svc
        .incident_sla(&op(), "acme", incident)
        .await
        .expect("timers");
    let ack = timers
        .iter()
        .find(|t| t.kind == SlaKind::Acknowledge)
        .expect("ack");
    assert!(ack.half_skipped && ack.reminded_half_at.is_none());
    // Another stop and start across the complete timer's half time.
    drop(svc);
    clock.advance(SignedDuration::from_mins(30));
    let svc = open(&path, &clock).await;
    svc.run_sla().await.expect("run");
    svc.run_sla().await.expect("run");
    assert_eq!(
        steps(&svc).await.len(),
        4,
        "the complete timer's 50 % reminder, once"
    );
    drop(dir);
}

#[tokio::test]
async fn acknowledging_stops_the_acknowledge_timer_once_and_only_for_the_customer() {
    let w = world(Lifecycle::Live).await;
    let analyst = user(&w.svc, "ana@mdr.example", Role::Analyst).await;
    let refused = w
        .svc
        .acknowledge_response(&analyst, "acme", w.incident)
        .await
        .expect_err("the experts do not acknowledge for the customer");
    assert!(matches!(refused, ServiceError::Forbidden(_)), "{refused}");
    w.clock.advance(SignedDuration::from_mins(20));
    let timers = w
        .svc
        .acknowledge_response(&w.soc, "acme", w.incident)
        .await
        .expect("acknowledge");
    let again = w
        .svc
        .acknowledge_response(&w.soc, "acme", w.incident)
        .await
        .expect("acknowledge again");
    assert_eq!(timers, again, "idempotent");
    let ack = timers
        .iter()
        .find(|t| t.kind == SlaKind::Acknowledge)
        .expect("ack");
    assert_eq!(ack.stop_reason, Some(StopReason::Acknowledged));
    assert_eq!(
        ack.stopped_at,
        Some("2026-11-27T12:20:00Z".parse().expect("time"))
    );
    assert_eq!((ack.breached_at, ack.overdue), (None, None));
    let stops = w
        .svc
        .audit_log(&op(), Some("acme"), 0, 500)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action == "sla.stop")
        .count();
    assert_eq!(stops, 1, "the repeat wrote nothing");
    w.clock.advance(SignedDuration::from_hours(1));
    w.svc.run_sla().await.expect("run");
    assert!(
        steps(&w.svc)
            .await
            .iter()
            .all(|(k, _)| *k == NotificationKind::SlaReminder),
        "an acknowledged response never breaches; only the complete timer reminds"
    );
}

#[tokio::test]
async fn a_customers_first_comment_counts_as_acknowledgement_and_an_experts_does_not() {
    let w = world(Lifecycle::Live).await;
    w.svc
        .comment_incident(&op(), "acme", w.incident, "Please rotate the keys first.")
        .await
        .expect("expert comment");
    let running = |timers: &[vigil_core::sla::SlaTimer]| {
        timers
            .iter()
            .find(|t| t.kind == SlaKind::Acknowledge)
            .expect("ack")
            .is_running()
    };
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    assert!(running(&timers));
    w.svc
        .comment_incident(&w.soc, "acme", w.incident, "On it.")
        .await
        .expect("customer comment");
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    assert!(!running(&timers));
    let ack = timers
        .iter()
        .find(|t| t.kind == SlaKind::Acknowledge)
        .expect("ack");
    assert_eq!(ack.stop_reason, Some(StopReason::Comment));
}

#[tokio::test]
async fn closing_every_task_late_stops_the_complete_timer_and_records_the_breach() {
    let w = world(Lifecycle::Live).await;
    let task = w.svc.tasks(&op(), "acme", w.incident).await.expect("tasks")[0].id;
    // Five hours later, one past the target, with no engine run between.
    w.clock.advance(SignedDuration::from_hours(5));
    w.svc
        .update_task(
            &w.soc,
            "acme",
            task,
            vigil_core::task::TaskStatus::Completed,
            Some("keys rotated"),
        )
        .await
        .expect("complete");
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    let ack = timers
        .iter()
        .find(|t| t.kind == SlaKind::Acknowledge)
        .expect("ack");
    let complete = timers
        .iter()
        .find(|t| t.kind == SlaKind::Complete)
        .expect("complete");
    assert_eq!(
        ack.stop_reason,
        Some(StopReason::TaskAction),
        "the first task action acknowledges"
    );
    assert_eq!(complete.stop_reason, Some(StopReason::TasksClosed));
    assert_eq!(
        complete.breached_at,
        Some("2026-11-27T16:00:00Z".parse().expect("time"))
    );
    assert_eq!(complete.overdue, Some(SignedDuration::from_hours(1)));
    assert_eq!(ack.overdue, Some(SignedDuration::from_hours(4)));
    let report = w.svc.run_sla().await.expect("run");
    assert_eq!(report.checked, 0, "stopped timers are not stepped");
    assert!(
        steps(&w.svc).await.is_empty(),
        "nothing queued for stopped timers"
    );
    let breaches = w
        .svc
        .sla_breaches(
            &op(),
            "acme",
            "2026-11-27T00:00:00Z".parse().expect("from"),
            "2026-11-28T00:00:00Z".parse().expect("to"),
        )
        .await
        .expect("breaches");
    let overs: Vec<(SlaKind, bool, SignedDuration)> = breaches
        .iter()
        .map(|b| (b.timer.kind, b.open, b.over))
        .collect();
    assert_eq!(
        overs,
        [
            (SlaKind::Acknowledge, false, SignedDuration::from_hours(4)),
            (SlaKind::Complete, false, SignedDuration::from_hours(1)),
        ]
    );
}

#[tokio::test]
async fn timers_of_a_resolved_incident_stop_without_notices() {
    let w = world(Lifecycle::Live).await;
    w.svc
        .update_incident(
            &op(),
            "acme",
            w.incident,
            vigil_service::IncidentChange {
                status: Some(vigil_core::incident::IncidentStatus::Resolved),
                classification: Some(Some(vigil_core::incident::Classification::TruePositive)),
                determination: Some(Some(
                    vigil_core::incident::Determination::MaliciousUserActivity,
                )),
                ..Default::default()
            },
        )
        .await
        .expect("resolve");
    w.clock.advance(SignedDuration::from_hours(2));
    let report = w.svc.run_sla().await.expect("run");
    assert_eq!(report.stopped, 2);
    assert!(steps(&w.svc).await.is_empty());
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    assert!(
        timers
            .iter()
            .all(|t| t.stop_reason == Some(StopReason::IncidentClosed))
    );
}

#[tokio::test]
async fn a_task_added_to_a_response_without_open_tasks_starts_the_complete_timer() {
    let w = world(Lifecycle::Live).await;
    let task = w.svc.tasks(&op(), "acme", w.incident).await.expect("tasks")[0].id;
    // The customer closes the only task: the response goes back to the
    // experts, who publish again with nothing open.
    w.svc
        .update_task(
            &w.soc,
            "acme",
            task,
            vigil_core::task::TaskStatus::Completed,
            Some("keys rotated"),
        )
        .await
        .expect("complete");
    w.clock.advance(SignedDuration::from_hours(1));
    w.svc
        .publish_response(&op(), "acme", w.incident)
        .await
        .expect("republish");
    let running = |timers: &[vigil_core::sla::SlaTimer], kind| {
        timers
            .iter()
            .filter(|t| t.kind == kind && t.stopped_at.is_none())
            .count()
    };
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    assert_eq!(running(&timers, SlaKind::Complete), 0, "no task is open");
    // Now the experts add a task: the customer's clock to complete starts.
    w.clock.advance(SignedDuration::from_mins(30));
    w.svc
        .create_task(
            &op(),
            "acme",
            w.incident,
            vigil_core::task::TaskType::FreeText,
            None,
            "reset mallory's console password",
        )
        .await
        .expect("task");
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    let complete: Vec<_> = timers
        .iter()
        .filter(|t| t.kind == SlaKind::Complete && t.stopped_at.is_none())
        .collect();
    assert_eq!(complete.len(), 1);
    assert_eq!(
        complete[0].due_at,
        "2026-11-27T17:30:00Z".parse().expect("time"),
        "high severity: 4 hours from the task's creation at 13:30"
    );
    // A second task keeps the running timer.
    w.svc
        .create_task(
            &op(),
            "acme",
            w.incident,
            vigil_core::task::TaskType::FreeText,
            None,
            "review the trail's other regions",
        )
        .await
        .expect("task");
    let timers = w
        .svc
        .incident_sla(&op(), "acme", w.incident)
        .await
        .expect("timers");
    assert_eq!(running(&timers, SlaKind::Complete), 1);
}
