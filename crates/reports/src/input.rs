//! What a report is computed from: facts the service reads from the store
//! for one tenant, already narrowed to the period and its trend months.

use vigil_core::incident::IncidentStatus;
use vigil_core::readiness::Assessment;
use vigil_core::recommendation::{PostureScore, Recommendation};
use vigil_core::sla::SlaTimer;
use vigil_core::task::TaskStatus;
use vigil_core::{Entity, Severity, Timestamp};

/// A half-open interval of time, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }
}

/// One incident as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: String,
    pub severity: Severity,
    pub classification: Option<String>,
    pub determination: Option<String>,
    pub tactics: Vec<String>,
    /// Where its alerts came from (`sigma`, `correlation`, …), each once.
    pub sources: Vec<String>,
    /// Its devices and users (the assets the report ranks).
    pub assets: Vec<Entity>,
    pub created_at: Timestamp,
    /// Its status now.
    pub status: IncidentStatus,
    /// Every status move from its activity log, oldest first: when, and
    /// the status it moved to.
    pub moves: Vec<(Timestamp, IncidentStatus)>,
}

/// One response task as the report needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskFacts {
    pub status: TaskStatus,
    pub created_at: Timestamp,
    /// When it was completed, failed or skipped (`None` while open).
    pub closed_at: Option<Timestamp>,
}

/// Which assets the service covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "scope", content = "assets")]
pub enum CoverageScope {
    All,
    /// Only this many named assets (or groups).
    Scoped(usize),
}

/// Everything one tenant's report is computed from.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub tenant: String,
    pub tenant_name: String,
    pub period: Period,
    /// When the report is made: open timers past due by then are breached.
    pub now: Timestamp,
    /// Incidents created in the trend window or changed since its start
    /// (merged-away incidents left out).
    pub incidents: Vec<IncidentFacts>,
    pub tasks: Vec<TaskFacts>,
    pub timers: Vec<SlaTimer>,
    pub recommendations: Vec<Recommendation>,
    /// Posture scores, any order.
    pub posture: Vec<PostureScore>,
    /// The latest readiness assessment, if any was run.
    pub readiness: Option<Assessment>,
    pub coverage: CoverageScope,
}
