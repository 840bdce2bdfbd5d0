//! The report's figures: what the JSON output is, and what the HTML page
//! and PDF show. Durations are whole seconds.

use vigil_core::Timestamp;
use vigil_core::readiness::CheckStatus;
use vigil_core::recommendation::RecommendationStatus;

use crate::{CoverageScope, Period};

/// A label and how many.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub label: String,
    pub count: u64,
}

/// A set of durations, summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Durations {
    pub count: u64,
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
    pub total_secs: i64,
}

/// One tenant's service report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceReport {
    pub tenant: String,
    pub tenant_name: String,
    pub period: Period,
    pub generated_at: Timestamp,
    pub incidents: IncidentFigures,
    pub times: TimeFigures,
    pub sla: SlaFigures,
    pub tasks: TaskFigures,
    /// Devices and users by how many of the period's incidents name them,
    /// most first (at most ten).
    pub top_assets: Vec<AssetCount>,
    pub recommendations: RecommendationFigures,
    pub readiness: Option<ReadinessFigures>,
    pub coverage: CoverageFigures,
    /// The six calendar months ending with the period's last, oldest first.
    pub trend: Vec<MonthFigures>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IncidentFigures {
    /// Opened in the period (merged-away incidents not counted).
    pub investigated: u64,
    /// Resolved in the period (whenever opened).
    pub resolved: u64,
    /// Of those resolved: never handed to the customer.
    pub resolved_by_experts: u64,
    /// Of those resolved: the customer acted (it was awaiting them).
    pub resolved_with_customer: u64,
    /// Opened in the period and not resolved now.
    pub open: u64,
    pub by_severity: Vec<Count>,
    /// Classification (`true_positive`, …, `unclassified`).
    pub by_classification: Vec<Count>,
    /// Determination (`malware`, `phishing`, …, `undetermined`).
    pub by_category: Vec<Count>,
    pub by_tactic: Vec<Count>,
    pub by_source: Vec<Count>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TimeFigures {
    /// Published response → acknowledged, over acknowledge timers started
    /// in the period and stopped.
    pub to_acknowledge: Durations,
    /// Opened → resolved, over incidents resolved in the period.
    pub to_resolve: Durations,
    /// The part of each resolve time the experts held the incident.
    pub expert: Durations,
    /// The part of each resolve time it awaited the customer.
    pub customer: Durations,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SlaFigures {
    /// Timers started in the period and stopped by their due time.
    pub met: u64,
    /// Timers started in the period that passed their due time.
    pub breached: u64,
    /// Timers started in the period, still running and not yet due.
    pub running: u64,
    /// met ÷ (met + breached), one decimal; `None` with neither.
    pub compliance_percent: Option<f64>,
    pub acknowledge: SlaKindFigures,
    pub complete: SlaKindFigures,
    /// How far past due the breached timers went (stopped, or until now).
    pub overdue: Durations,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SlaKindFigures {
    pub met: u64,
    pub breached: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TaskFigures {
    /// Created in the period.
    pub created: u64,
    pub completed: u64,
    /// Open or in progress.
    pub pending: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Created → completed, over the completed ones.
    pub completion: Durations,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AssetCount {
    /// `device` or `user`.
    pub kind: String,
    pub name: String,
    pub incidents: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecommendationFigures {
    pub total: u64,
    pub by_status: Vec<Count>,
    /// Raised in the period.
    pub raised: u64,
    /// Completed in the period.
    pub completed: u64,
    /// The open and planned ones worth most points, at most five.
    pub top_open: Vec<OpenRecommendation>,
    /// The latest posture score at the period's end.
    pub posture_percent: Option<f64>,
    pub posture_achieved: u32,
    pub posture_possible: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenRecommendation {
    pub title: String,
    pub status: RecommendationStatus,
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReadinessFigures {
    pub run_at: Timestamp,
    pub score: f64,
    pub ready: bool,
    pub pass: u64,
    pub warn: u64,
    pub fail: u64,
    pub not_applicable: u64,
    /// Ids of blocking checks that fail.
    pub blocking_failures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CoverageFigures {
    pub scope: CoverageScope,
    /// The readiness assessment's asset-coverage checks.
    pub checks: Vec<CoverageCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CoverageCheck {
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
}

/// One calendar month of the trend.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    pub incidents: u64,
    pub resolved: u64,
    pub median_resolve_secs: Option<i64>,
    pub sla_compliance_percent: Option<f64>,
    pub tasks_completed: u64,
    /// The latest posture score by the month's end.
    pub posture_percent: Option<f64>,
}
