use jiff::SignedDuration;
use vigil_core::incident::IncidentStatus as S;
use vigil_core::sla::{SlaKind, SlaTimer};
use vigil_core::task::TaskStatus;
use vigil_core::{Entity, EntityKind, Id, Severity, Timestamp};

use super::*;
use crate::{CoverageScope, IncidentFacts, Period, ReportInput, TaskFacts};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("time")
}

fn nov() -> Period {
    Period {
        from: ts("2026-11-01T00:00:00Z"),
        to: ts("2026-12-01T00:00:00Z"),
    }
}

fn incident(created: &str, moves: &[(&str, S)], users: &[&str]) -> IncidentFacts {
    IncidentFacts {
        id: created.into(),
        severity: Severity::High,
        classification: None,
        determination: None,
        tactics: vec!["defense_evasion".into()],
        sources: vec!["sigma".into()],
        assets: users
            .iter()
            .map(|u| Entity::new(EntityKind::User, *u))
            .chain([Entity::new(EntityKind::Ip, "10.0.0.1")])
            .collect(),
        created_at: ts(created),
        status: moves.last().map_or(S::New, |m| m.1),
        moves: moves.iter().map(|(at, s)| (ts(at), *s)).collect(),
    }
}

fn input(
    incidents: Vec<IncidentFacts>,
    tasks: Vec<TaskFacts>,
    timers: Vec<SlaTimer>,
) -> ReportInput {
    ReportInput {
        tenant: "acme".into(),
        tenant_name: "Acme".into(),
        period: nov(),
        now: ts("2026-12-01T00:00:00Z"),
        incidents,
        tasks,
        timers,
        recommendations: Vec::new(),
        posture: Vec::new(),
        readiness: None,
        coverage: CoverageScope::All,
    }
}

#[test]
fn customer_time_is_the_time_awaiting_the_customer_and_resolved_time_counts_for_nobody() {
    // Opened 00:00; with the customer 01:00-03:00; resolved 04:00;
    // reopened 10:00; resolved again 11:00.
    let i = incident(
        "2026-11-02T00:00:00Z",
        &[
            ("2026-11-02T01:00:00Z", S::AwaitingCustomer),
            ("2026-11-02T03:00:00Z", S::InProgress),
            ("2026-11-02T04:00:00Z", S::Resolved),
            ("2026-11-02T10:00:00Z", S::InProgress),
            ("2026-11-02T11:00:00Z", S::Resolved),
        ],
        &[],
    );
    let r = resolution(&i, nov()).expect("resolved in November");
    let h = 3_600_000_000;
    assert_eq!(r.at, ts("2026-11-02T11:00:00Z"));
    assert_eq!((r.total, r.expert, r.customer), (5 * h, 3 * h, 2 * h));
    let october = Period {
        from: ts("2026-10-01T00:00:00Z"),
        to: ts("2026-11-01T00:00:00Z"),
    };
    assert_eq!(resolution(&i, october), None);
}

fn timer(kind: SlaKind, start: &str, hours: i64) -> SlaTimer {
    let mut t = SlaTimer::start(
        Id::new_at(ts(start)),
        Id::new_at(ts(start)),
        kind,
        SignedDuration::from_hours(hours),
        ts(start),
    );
    t.id = Id::new_at(ts(start));
    t
}

#[test]
fn a_timer_is_met_when_stopped_in_time_and_breached_when_late_or_still_running_past_due() {
    let now = ts("2026-11-05T00:00:00Z");
    let mut t = timer(SlaKind::Acknowledge, "2026-11-02T00:00:00Z", 1);
    assert_eq!(
        timer_outcome(&t, ts("2026-11-02T00:30:00Z")),
        TimerOutcome::Running
    );
    assert_eq!(
        timer_outcome(&t, ts("2026-11-02T03:00:00Z")),
        TimerOutcome::Breached(2 * 3_600_000_000)
    );
    t.stopped_at = Some(ts("2026-11-02T01:00:00Z"));
    assert_eq!(
        timer_outcome(&t, now),
        TimerOutcome::Met,
        "on the dot is in time"
    );
    t.stopped_at = Some(ts("2026-11-02T01:30:00Z"));
    assert_eq!(
        timer_outcome(&t, now),
        TimerOutcome::Breached(1_800_000_000)
    );
}

#[test]
fn sla_compliance_is_met_over_met_and_breached_by_kind() {
    let mut met = timer(SlaKind::Acknowledge, "2026-11-02T00:00:00Z", 1);
    met.stopped_at = Some(ts("2026-11-02T00:10:00Z"));
    let late = timer(SlaKind::Complete, "2026-11-02T00:00:00Z", 4);
    let mut early = timer(SlaKind::Complete, "2026-10-31T00:00:00Z", 4);
    early.stopped_at = Some(ts("2026-10-31T01:00:00Z"));
    let r = compute(&input(Vec::new(), Vec::new(), vec![met, late, early]));
    assert_eq!((r.sla.met, r.sla.breached, r.sla.running), (1, 1, 0));
    assert_eq!(r.sla.compliance_percent, Some(50.0));
    assert_eq!(r.sla.acknowledge.met, 1);
    assert_eq!(r.sla.complete.breached, 1);
    assert_eq!(r.times.to_acknowledge.median_secs, Some(600));
}

#[test]
fn assets_count_each_incident_once_and_rank_by_count_then_name() {
    let r = compute(&input(
        vec![
            incident("2026-11-02T00:00:00Z", &[], &["bob", "Alice", "alice"]),
            incident("2026-11-03T00:00:00Z", &[], &["alice"]),
            incident("2026-11-04T00:00:00Z", &[], &["carol"]),
            incident("2026-10-04T00:00:00Z", &[], &["dave"]),
        ],
        Vec::new(),
        Vec::new(),
    ));
    let top: Vec<(&str, u64)> = r
        .top_assets
        .iter()
        .map(|a| (a.name.as_str(), a.incidents))
        .collect();
    assert_eq!(top, [("alice", 2), ("bob", 1), ("carol", 1)]);
    assert_eq!(r.incidents.investigated, 3);
    assert_eq!(r.incidents.by_tactic[0].count, 3);
    assert_eq!(r.trend[4].incidents, 1, "October's");
}

#[test]
fn tasks_count_by_status_and_the_median_completion_spans_created_to_completed() {
    let task = |status, created: &str, closed: Option<&str>| TaskFacts {
        status,
        created_at: ts(created),
        closed_at: closed.map(ts),
    };
    let r = compute(&input(
        Vec::new(),
        vec![
            task(
                TaskStatus::Completed,
                "2026-11-02T00:00:00Z",
                Some("2026-11-02T01:00:00Z"),
            ),
            task(
                TaskStatus::Completed,
                "2026-11-02T00:00:00Z",
                Some("2026-11-02T03:00:00Z"),
            ),
            task(
                TaskStatus::Skipped,
                "2026-11-02T00:00:00Z",
                Some("2026-11-02T00:05:00Z"),
            ),
            task(TaskStatus::InProgress, "2026-11-02T00:00:00Z", None),
            task(TaskStatus::Open, "2026-11-03T00:00:00Z", None),
            task(
                TaskStatus::Failed,
                "2026-11-03T00:00:00Z",
                Some("2026-11-03T00:01:00Z"),
            ),
            task(
                TaskStatus::Completed,
                "2026-10-02T00:00:00Z",
                Some("2026-10-02T09:00:00Z"),
            ),
        ],
        Vec::new(),
    ));
    let t = r.tasks;
    assert_eq!(
        (t.created, t.completed, t.pending, t.skipped, t.failed),
        (6, 2, 2, 1, 1)
    );
    assert_eq!(
        t.completion.median_secs,
        Some(2 * 3600),
        "mean of 1 h and 3 h"
    );
}
