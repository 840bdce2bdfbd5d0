use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().expect("time")
}

/// An acknowledge timer with a 4 h target started at noon.
fn timer() -> SlaTimer {
    SlaTimer::start(
        TenantId::new_at(at("2026-11-27T00:00:00Z")),
        IncidentId::new_at(at("2026-11-27T00:00:00Z")),
        SlaKind::Acknowledge,
        SignedDuration::from_hours(4),
        at("2026-11-27T12:00:00Z"),
    )
}

/// Run the engine as a worker would: take what is due, record it.
fn run(t: &mut SlaTimer, contacts: &[u8], now: &str) -> Vec<SlaAction> {
    let now = at(now);
    let actions = due_actions(t, contacts, now);
    for a in &actions {
        t.record(*a, now);
    }
    actions
}

#[test]
fn nothing_is_due_before_half_the_target() {
    let t = timer();
    assert!(due_actions(&t, &[1, 2], at("2026-11-27T13:59:59Z")).is_empty());
}

#[test]
fn each_step_is_due_once_at_its_time() {
    let mut t = timer();
    assert_eq!(
        run(&mut t, &[1, 2, 3], "2026-11-27T14:00:00Z"),
        [SlaAction::RemindHalf]
    );
    assert!(run(&mut t, &[1, 2, 3], "2026-11-27T15:00:00Z").is_empty());
    assert_eq!(
        run(&mut t, &[1, 2, 3], "2026-11-27T16:00:00Z"),
        [
            SlaAction::Breach,
            SlaAction::Escalate {
                level: 1,
                priority: 2
            }
        ]
    );
    assert_eq!(t.breached_at, Some(at("2026-11-27T16:00:00Z")));
    assert!(run(&mut t, &[1, 2, 3], "2026-11-27T17:59:00Z").is_empty());
    assert_eq!(
        run(&mut t, &[1, 2, 3], "2026-11-27T18:00:00Z"),
        [SlaAction::Escalate {
            level: 2,
            priority: 3
        }]
    );
    assert!(
        run(&mut t, &[1, 2, 3], "2026-11-28T18:00:00Z").is_empty(),
        "the contacts ran out"
    );
    assert_eq!(t.escalation_level, 2);
}

#[test]
fn a_stale_half_reminder_is_passed_over_when_the_breach_is_due() {
    let mut t = timer();
    assert_eq!(
        run(&mut t, &[1], "2026-11-27T16:30:00Z"),
        [SlaAction::SkipHalf, SlaAction::Breach]
    );
    assert!(t.half_skipped && t.reminded_half_at.is_none());
    assert!(run(&mut t, &[1], "2026-11-27T20:00:00Z").is_empty());
}

#[test]
fn escalations_missed_while_stopped_each_come_once() {
    let mut t = timer();
    // Priorities with a gap: escalation follows call order, not numbers.
    assert_eq!(
        run(&mut t, &[1, 5, 7], "2026-11-28T00:00:00Z"),
        [
            SlaAction::SkipHalf,
            SlaAction::Breach,
            SlaAction::Escalate {
                level: 1,
                priority: 5
            },
            SlaAction::Escalate {
                level: 2,
                priority: 7
            },
        ]
    );
    assert!(run(&mut t, &[1, 5, 7], "2026-11-28T00:00:00Z").is_empty());
}

#[test]
fn a_stopped_timer_has_nothing_due() {
    let mut t = timer();
    assert!(t.stop(at("2026-11-27T13:00:00Z"), StopReason::Acknowledged));
    assert!(due_actions(&t, &[1, 2], at("2026-11-30T00:00:00Z")).is_empty());
    assert_eq!(t.breach(at("2026-11-30T00:00:00Z")), None);
    assert!(
        !t.stop(at("2026-11-27T14:00:00Z"), StopReason::Comment),
        "stopping twice changes nothing"
    );
    assert_eq!(t.stop_reason, Some(StopReason::Acknowledged));
}

#[test]
fn stopping_late_records_the_breach_and_its_duration() {
    let mut t = timer();
    t.stop(at("2026-11-27T17:30:00Z"), StopReason::Acknowledged);
    assert_eq!(t.breached_at, Some(at("2026-11-27T16:00:00Z")));
    assert_eq!(t.overdue, Some(SignedDuration::from_mins(90)));
    let b = t.breach(at("2026-11-30T00:00:00Z")).expect("breach");
    assert_eq!(b.over, SignedDuration::from_mins(90));
    assert_eq!(b.ended_at, Some(at("2026-11-27T17:30:00Z")));
}

#[test]
fn an_open_breach_grows_until_the_timer_stops() {
    let t = timer();
    let b = t.breach(at("2026-11-27T18:00:00Z")).expect("breach");
    assert_eq!(b.over, SignedDuration::from_hours(2));
    assert_eq!(b.ended_at, None);
    assert_eq!(t.breach(at("2026-11-27T15:00:00Z")), None);
}

#[test]
fn every_change_bumps_the_version() {
    let mut t = timer();
    run(&mut t, &[1, 2], "2026-11-27T16:00:00Z");
    assert_eq!(t.version, 3, "skip, breach, escalation");
    t.stop(at("2026-11-27T16:10:00Z"), StopReason::TasksClosed);
    assert_eq!(t.version, 4);
}
