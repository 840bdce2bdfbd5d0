//! Domain objects as the templates see them: plain values, times and
//! durations written for people, and what the viewer may do.

use jiff::SignedDuration;
use minijinja::{Value, context};
use vigil_core::Severity;
use vigil_core::sla::SlaTimer;
use vigil_core::task::{Task, TaskMode};
use vigil_core::{Entity, Timestamp, Verdict};
use vigil_service::IncidentRecord;

use super::page::Viewer;

/// `2026-11-27 09:00 UTC`
pub fn when(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `3 h 20 min`, `45 min`, `2 d 4 h`.
pub fn span(d: SignedDuration) -> String {
    let mins = d.as_secs().unsigned_abs() / 60;
    let (days, hours, m) = (mins / 1440, (mins / 60) % 24, mins % 60);
    match (days, hours) {
        (0, 0) => format!("{m} min"),
        (0, h) => format!("{h} h {m} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// Highest first.
pub const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Informational,
];

fn color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#6e0f1f",
        Severity::High => "#a40e26",
        Severity::Medium => "#9a6700",
        Severity::Low => "#0b57d0",
        Severity::Informational => "#57606a",
    }
}

/// Counts of open incidents per severity, with bar heights for the chart.
pub fn severity_counts(records: &[IncidentRecord]) -> Vec<Value> {
    let counts: Vec<(Severity, usize)> = SEVERITIES
        .iter()
        .map(|s| {
            let n = records
                .iter()
                .filter(|r| r.incident.severity() == *s)
                .count();
            (*s, n)
        })
        .collect();
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    counts
        .into_iter()
        .map(|(s, n)| {
            context! {
                severity => s.to_string(),
                label => s.as_str()[..1].to_uppercase(),
                count => n,
                height => n * 40 / max,
                color => color(s),
            }
        })
        .collect()
}

pub fn incident_row(slug: &str, r: &IncidentRecord) -> Value {
    let i = &r.incident;
    context! {
        tenant => slug,
        id => i.id.to_string(),
        title => i.title,
        severity => i.severity().to_string(),
        status => i.status.to_string(),
        assigned => r.assigned_to,
        alerts => i.alert_count,
        first => when(i.first_activity),
        last => when(i.last_activity),
        major => r.major.as_ref().is_some_and(|m| m.major),
        tags => r.tags,
    }
}

/// A task, and whether this viewer may move it on.
pub fn task(v: &Viewer, t: &Task, now: Timestamp) -> Value {
    let open = t.status.is_open();
    let comment = v.may(vigil_core::identity::Permission::CommentIncidents);
    let work = v.may(vigil_core::identity::Permission::WorkIncidents);
    let customer_may = !v.provider() && comment && t.mode == TaskMode::Guided && open;
    context! {
        id => t.id.to_string(),
        kind => t.kind.to_string().replace('_', " "),
        target => t.target.as_ref().map(ToString::to_string),
        rationale => t.rationale,
        mode => t.mode.to_string(),
        mode_reason => t.mode_reason,
        status => t.status.to_string(),
        note => t.note,
        due => when(t.due_at),
        overdue => open && t.due_at < now,
        open,
        may_act => customer_may || (work && open),
        created_by => t.created_by,
    }
}

/// An SLA clock: how far along it is, and whether it is late.
pub fn sla(t: &SlaTimer, now: Timestamp) -> Value {
    let end = t.stopped_at.unwrap_or(now);
    let total = t.due_at.duration_since(t.started_at).as_secs().max(1);
    let used = end.duration_since(t.started_at).as_secs().max(0);
    let pct = (used.saturating_mul(100) / total).clamp(0, 100);
    let late = end >= t.due_at;
    let left = t.due_at.duration_since(end);
    context! {
        kind => t.kind.to_string(),
        running => t.is_running(),
        due => when(t.due_at),
        started => when(t.started_at),
        late,
        text => if late { format!("{} over", span(left)) } else { format!("{} left", span(left)) },
        width => pct * 2,
        color => if late { "#a40e26" } else if pct >= 50 { "#9a6700" } else { "#1a7f37" },
        stop_reason => t.stop_reason.map(|r| r.to_string()),
    }
}

pub fn entity(e: &Entity, verdicts: &[(Entity, Verdict)]) -> Value {
    let verdict = verdicts
        .iter()
        .find(|(x, _)| x == e)
        .map_or("unknown", |(_, v)| v.as_str());
    context! {
        kind => e.kind.as_str(),
        value => e.value,
        key => e.to_string(),
        verdict,
    }
}
