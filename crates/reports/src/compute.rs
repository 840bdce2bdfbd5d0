//! From facts to figures (PRODUCT.md §13). Every figure is a pure function
//! of the [`ReportInput`], so the tests check them against hand-computed
//! values and every store backend yields the same report.

use std::collections::BTreeMap;

use vigil_core::incident::IncidentStatus;
use vigil_core::readiness::{Category, CheckStatus};
use vigil_core::recommendation::RecommendationStatus;
use vigil_core::sla::{SlaKind, SlaTimer};
use vigil_core::task::TaskStatus;
use vigil_core::{EntityKind, Severity, Timestamp};

use crate::model::*;
use crate::stats::{median, percent, percentile};
use crate::{IncidentFacts, Period, ReportInput, months};

/// The most assets a report lists.
pub const TOP_ASSETS: usize = 10;
/// The most open recommendations a report lists.
pub const TOP_RECOMMENDATIONS: usize = 5;

const MICROS: i64 = 1_000_000;

fn micros(from: Timestamp, to: Timestamp) -> i64 {
    to.as_microsecond() - from.as_microsecond()
}

/// How one incident's resolution went: when, and how its time from
/// opening to resolution split between the experts and the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub at: Timestamp,
    /// Opened → resolved, microseconds.
    pub total: i64,
    /// Time in any status but `awaiting_customer` (and not resolved).
    pub expert: i64,
    /// Time in `awaiting_customer`.
    pub customer: i64,
}

/// The incident's last resolution within `period`, or `None` if it was not
/// resolved then. Time before a reopening counts as well: an incident
/// resolved, reopened and resolved again is measured from its opening to
/// its last resolution, without the time it stayed resolved.
pub fn resolution(inc: &IncidentFacts, period: Period) -> Option<Resolution> {
    let at = inc
        .moves
        .iter()
        .filter(|(at, to)| *to == IncidentStatus::Resolved && period.contains(*at))
        .map(|(at, _)| *at)
        .max()?;
    let (mut expert, mut customer) = (0, 0);
    let mut state = IncidentStatus::New;
    let mut since = inc.created_at;
    for (when, to) in inc.moves.iter().filter(|(when, _)| *when <= at) {
        let spent = micros(since, *when).max(0);
        match state {
            IncidentStatus::AwaitingCustomer => customer += spent,
            IncidentStatus::Resolved | IncidentStatus::Redirected => {}
            _ => expert += spent,
        }
        state = *to;
        since = *when;
    }
    Some(Resolution {
        at,
        total: expert + customer,
        expert,
        customer,
    })
}

/// Whether a timer was met, breached (and by how long, in microseconds),
/// or is still running within its target at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerOutcome {
    Met,
    Breached(i64),
    Running,
}

pub fn timer_outcome(t: &SlaTimer, now: Timestamp) -> TimerOutcome {
    match t.stopped_at {
        Some(stop) if stop <= t.due_at => TimerOutcome::Met,
        Some(stop) => TimerOutcome::Breached(micros(t.due_at, stop)),
        None if t.breached_at.is_some() || now > t.due_at => {
            TimerOutcome::Breached(micros(t.due_at, now).max(0))
        }
        None => TimerOutcome::Running,
    }
}

fn summarise(micros: &[i64]) -> Durations {
    let secs: Vec<i64> = micros.iter().map(|m| m / MICROS).collect();
    Durations {
        count: secs.len() as u64,
        median_secs: median(&secs),
        p90_secs: percentile(&secs, 90),
        total_secs: micros.iter().sum::<i64>() / MICROS,
    }
}

fn counts(map: BTreeMap<String, u64>) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(label, count)| Count { label, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    v
}

fn tally<'a>(items: impl Iterator<Item = &'a str>) -> Vec<Count> {
    let mut map: BTreeMap<String, u64> = BTreeMap::new();
    for i in items {
        *map.entry(i.to_owned()).or_default() += 1;
    }
    counts(map)
}

/// Compute the whole report.
pub fn compute(input: &ReportInput) -> ServiceReport {
    let period = input.period;
    let opened: Vec<&IncidentFacts> = input
        .incidents
        .iter()
        .filter(|i| period.contains(i.created_at))
        .collect();
    let resolutions: Vec<Resolution> = input
        .incidents
        .iter()
        .filter_map(|i| resolution(i, period))
        .collect();
    ServiceReport {
        tenant: input.tenant.clone(),
        tenant_name: input.tenant_name.clone(),
        period,
        generated_at: input.now,
        incidents: incident_figures(&opened, &resolutions),
        times: TimeFigures {
            to_acknowledge: acknowledge_times(&input.timers, period),
            to_resolve: summarise(&resolutions.iter().map(|r| r.total).collect::<Vec<_>>()),
            expert: summarise(&resolutions.iter().map(|r| r.expert).collect::<Vec<_>>()),
            customer: summarise(&resolutions.iter().map(|r| r.customer).collect::<Vec<_>>()),
        },
        sla: sla_figures(&input.timers, period, input.now),
        tasks: task_figures(input, period),
        top_assets: top_assets(&opened),
        recommendations: recommendation_figures(input, period),
        readiness: readiness_figures(input),
        coverage: coverage_figures(input),
        trend: trend(input),
    }
}

fn incident_figures(opened: &[&IncidentFacts], resolutions: &[Resolution]) -> IncidentFigures {
    let by_experts = resolutions.iter().filter(|r| r.customer == 0).count() as u64;
    let mut severity: BTreeMap<Severity, u64> = BTreeMap::new();
    for i in opened {
        *severity.entry(i.severity).or_default() += 1;
    }
    IncidentFigures {
        investigated: opened.len() as u64,
        resolved: resolutions.len() as u64,
        resolved_by_experts: by_experts,
        resolved_with_customer: resolutions.len() as u64 - by_experts,
        open: opened.iter().filter(|i| i.status.is_open()).count() as u64,
        by_severity: Severity::ALL
            .iter()
            .rev()
            .map(|s| Count {
                label: s.to_string(),
                count: severity.get(s).copied().unwrap_or(0),
            })
            .collect(),
        by_classification: tally(
            opened
                .iter()
                .map(|i| i.classification.as_deref().unwrap_or("unclassified")),
        ),
        by_category: tally(
            opened
                .iter()
                .map(|i| i.determination.as_deref().unwrap_or("undetermined")),
        ),
        by_tactic: tally(
            opened
                .iter()
                .flat_map(|i| i.tactics.iter().map(String::as_str)),
        ),
        by_source: tally(
            opened
                .iter()
                .flat_map(|i| i.sources.iter().map(String::as_str)),
        ),
    }
}

fn acknowledge_times(timers: &[SlaTimer], period: Period) -> Durations {
    let spans: Vec<i64> = timers
        .iter()
        .filter(|t| t.kind == SlaKind::Acknowledge && period.contains(t.started_at))
        .filter_map(|t| t.stopped_at.map(|s| micros(t.started_at, s)))
        .collect();
    summarise(&spans)
}

fn sla_figures(timers: &[SlaTimer], period: Period, now: Timestamp) -> SlaFigures {
    let mut out = SlaFigures {
        met: 0,
        breached: 0,
        running: 0,
        compliance_percent: None,
        acknowledge: SlaKindFigures {
            met: 0,
            breached: 0,
        },
        complete: SlaKindFigures {
            met: 0,
            breached: 0,
        },
        overdue: Durations::default(),
    };
    let mut overdue = Vec::new();
    for t in timers.iter().filter(|t| period.contains(t.started_at)) {
        let kind = match t.kind {
            SlaKind::Acknowledge => &mut out.acknowledge,
            SlaKind::Complete => &mut out.complete,
        };
        match timer_outcome(t, now) {
            TimerOutcome::Met => {
                out.met += 1;
                kind.met += 1;
            }
            TimerOutcome::Breached(over) => {
                out.breached += 1;
                kind.breached += 1;
                overdue.push(over);
            }
            TimerOutcome::Running => out.running += 1,
        }
    }
    out.compliance_percent = percent(out.met, out.met + out.breached);
    out.overdue = summarise(&overdue);
    out
}

fn task_figures(input: &ReportInput, period: Period) -> TaskFigures {
    let created: Vec<_> = input
        .tasks
        .iter()
        .filter(|t| period.contains(t.created_at))
        .collect();
    let count = |s: TaskStatus| created.iter().filter(|t| t.status == s).count() as u64;
    let completion: Vec<i64> = created
        .iter()
        .filter(|t| t.status == TaskStatus::Completed)
        .filter_map(|t| t.closed_at.map(|c| micros(t.created_at, c)))
        .collect();
    TaskFigures {
        created: created.len() as u64,
        completed: count(TaskStatus::Completed),
        pending: created.iter().filter(|t| t.status.is_open()).count() as u64,
        skipped: count(TaskStatus::Skipped),
        failed: count(TaskStatus::Failed),
        completion: summarise(&completion),
    }
}

fn top_assets(opened: &[&IncidentFacts]) -> Vec<AssetCount> {
    let mut map: BTreeMap<(String, String), u64> = BTreeMap::new();
    for i in opened {
        let mut seen: Vec<(String, String)> = i
            .assets
            .iter()
            .filter(|e| matches!(e.kind, EntityKind::Device | EntityKind::User))
            .map(|e| (e.kind.to_string(), e.value.to_lowercase()))
            .collect();
        seen.sort();
        seen.dedup();
        for key in seen {
            *map.entry(key).or_default() += 1;
        }
    }
    let mut v: Vec<AssetCount> = map
        .into_iter()
        .map(|((kind, name), incidents)| AssetCount {
            kind,
            name,
            incidents,
        })
        .collect();
    v.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then_with(|| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)))
    });
    v.truncate(TOP_ASSETS);
    v
}

fn posture_at(
    input: &ReportInput,
    end: Timestamp,
) -> Option<&vigil_core::recommendation::PostureScore> {
    input
        .posture
        .iter()
        .filter(|s| s.at < end)
        .max_by_key(|s| s.at)
}

fn recommendation_figures(input: &ReportInput, period: Period) -> RecommendationFigures {
    let recs = &input.recommendations;
    let mut open: Vec<OpenRecommendation> = recs
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                RecommendationStatus::Open | RecommendationStatus::Planned
            )
        })
        .map(|r| OpenRecommendation {
            title: r.title.clone(),
            status: r.status,
            points: r.points,
        })
        .collect();
    open.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.title.cmp(&b.title)));
    open.truncate(TOP_RECOMMENDATIONS);
    let score = posture_at(input, period.to);
    RecommendationFigures {
        total: recs.len() as u64,
        by_status: tally(recs.iter().map(|r| r.status.as_str())),
        raised: recs.iter().filter(|r| period.contains(r.raised_at)).count() as u64,
        completed: recs
            .iter()
            .filter(|r| {
                r.status == RecommendationStatus::Completed && period.contains(r.updated_at)
            })
            .count() as u64,
        top_open: open,
        posture_percent: score.and_then(|s| s.percent),
        posture_achieved: score.map_or(0, |s| s.achieved),
        posture_possible: score.map_or(0, |s| s.possible),
    }
}

fn readiness_figures(input: &ReportInput) -> Option<ReadinessFigures> {
    let a = input.readiness.as_ref()?;
    let count = |s: CheckStatus| a.checks.iter().filter(|c| c.status == s).count() as u64;
    Some(ReadinessFigures {
        run_at: a.run_at,
        score: a.score,
        ready: a.ready,
        pass: count(CheckStatus::Pass),
        warn: count(CheckStatus::Warn),
        fail: count(CheckStatus::Fail),
        not_applicable: count(CheckStatus::NotApplicable),
        blocking_failures: a
            .checks
            .iter()
            .filter(|c| c.is_blocking_failure())
            .map(|c| c.id.clone())
            .collect(),
    })
}

fn coverage_figures(input: &ReportInput) -> CoverageFigures {
    CoverageFigures {
        scope: input.coverage,
        checks: input
            .readiness
            .iter()
            .flat_map(|a| a.checks.iter())
            .filter(|c| c.category == Category::AssetCoverage)
            .map(|c| CoverageCheck {
                id: c.id.clone(),
                title: c.title.clone(),
                status: c.status,
            })
            .collect(),
    }
}

fn trend(input: &ReportInput) -> Vec<MonthFigures> {
    months::trend_months(input.period)
        .into_iter()
        .map(|(month, m)| {
            let resolved: Vec<i64> = input
                .incidents
                .iter()
                .filter_map(|i| resolution(i, m))
                .map(|r| r.total / MICROS)
                .collect();
            let sla = sla_figures(&input.timers, m, input.now);
            MonthFigures {
                month,
                incidents: input
                    .incidents
                    .iter()
                    .filter(|i| m.contains(i.created_at))
                    .count() as u64,
                resolved: resolved.len() as u64,
                median_resolve_secs: median(&resolved),
                sla_compliance_percent: sla.compliance_percent,
                tasks_completed: input
                    .tasks
                    .iter()
                    .filter(|t| {
                        t.status == TaskStatus::Completed
                            && t.closed_at.is_some_and(|c| m.contains(c))
                    })
                    .count() as u64,
                posture_percent: posture_at(input, m.to).and_then(|s| s.percent),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "compute_tests.rs"]
mod tests;
