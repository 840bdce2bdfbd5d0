//! The facts of one tenant's report, read from the store.

use jiff::SignedDuration;
use vigil_core::EntityKind;
use vigil_core::incident::IncidentStatus;
use vigil_core::tenant::{Coverage, Tenant};
use vigil_reports::{
    CoverageScope, IncidentFacts, Period, ReportInput, ServiceReport, TaskFacts, compute, months,
};
use vigil_store::ReportIncident;

use crate::{Result, Service};

/// SLA timers are read by due time: a timer started in the window is due
/// at most this long after it (well past any SLA target).
const LONGEST_TARGET: SignedDuration = SignedDuration::from_hours(24 * 90);

/// The status a `status` activity entry moved to: `from → to`, perhaps
/// followed by `: why`.
fn moved_to(details: &str) -> Option<IncidentStatus> {
    let to = details.split(" → ").nth(1)?;
    to.split(':').next()?.trim().parse().ok()
}

fn facts(i: ReportIncident) -> IncidentFacts {
    let inc = i.record.incident;
    IncidentFacts {
        id: inc.id.to_string(),
        severity: inc.analyst_severity.unwrap_or(inc.alert_severity),
        classification: i.record.classification,
        determination: i.record.determination,
        tactics: inc.tactics,
        sources: i.sources,
        assets: inc
            .entities
            .into_iter()
            .filter(|e| matches!(e.kind, EntityKind::Device | EntityKind::User))
            .collect(),
        created_at: i.record.created_at,
        status: inc.status,
        moves: i
            .status_moves
            .iter()
            .filter_map(|(at, d)| moved_to(d).map(|s| (*at, s)))
            .collect(),
    }
}

impl Service {
    /// Gather and compute `t`'s report over `period` (no authorisation:
    /// callers have done it).
    pub(crate) async fn report_for(&self, t: &Tenant, period: Period) -> Result<ServiceReport> {
        let since = months::window_start(period);
        let incidents = self
            .store
            .report_incidents(t.id, since, period.to)
            .await?
            .into_iter()
            .map(facts)
            .collect();
        let tasks = self
            .store
            .report_tasks(t.id, since)
            .await?
            .into_iter()
            .map(|task| TaskFacts {
                status: task.status,
                created_at: task.created_at,
                closed_at: (!task.status.is_open()).then_some(task.updated_at),
            })
            .collect();
        let due_until = period.to.checked_add(LONGEST_TARGET).unwrap_or(period.to);
        let timers = self.store.sla_timers_due(t.id, since, due_until).await?;
        let recommendations = self.store.recommendations(t.id).await?;
        let posture = self.store.posture_scores(t.id, 10_000).await?;
        let readiness = self
            .store
            .assessments(t.id, None, 1)
            .await?
            .into_iter()
            .next();
        let input = ReportInput {
            tenant: t.slug.to_string(),
            tenant_name: t.name.to_string(),
            period,
            now: self.clock.now(),
            incidents,
            tasks,
            timers,
            recommendations,
            posture,
            readiness,
            coverage: match &t.settings.coverage {
                Coverage::All => CoverageScope::All,
                Coverage::Scoped(assets) => CoverageScope::Scoped(assets.len()),
            },
        };
        Ok(compute(&input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_entry_names_the_status_it_moved_to_with_or_without_a_reason() {
        assert_eq!(
            moved_to("new → in_progress"),
            Some(IncidentStatus::InProgress)
        );
        assert_eq!(
            moved_to("awaiting_customer → in_progress: every task is closed"),
            Some(IncidentStatus::InProgress)
        );
        assert_eq!(moved_to("garbled"), None);
    }
}
