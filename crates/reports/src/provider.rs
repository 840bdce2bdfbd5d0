//! The provider's view (PRODUCT.md §13): the same figures for every
//! tenant, one row each, so a delivery manager compares them at a glance.

use vigil_core::Timestamp;

use crate::{Period, ServiceReport};

/// One tenant's headline figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProviderRow {
    pub tenant: String,
    pub tenant_name: String,
    pub investigated: u64,
    pub resolved: u64,
    pub resolved_by_experts: u64,
    pub resolved_with_customer: u64,
    pub open: u64,
    pub high_or_critical: u64,
    pub median_acknowledge_secs: Option<i64>,
    pub median_resolve_secs: Option<i64>,
    pub median_expert_secs: Option<i64>,
    pub median_customer_secs: Option<i64>,
    pub sla_met: u64,
    pub sla_breached: u64,
    pub sla_compliance_percent: Option<f64>,
    pub tasks_completed: u64,
    pub tasks_pending: u64,
    pub tasks_skipped: u64,
    pub tasks_failed: u64,
    pub median_task_completion_secs: Option<i64>,
    /// The most affected asset, `kind:name`.
    pub top_asset: Option<String>,
    pub top_tactic: Option<String>,
    pub open_recommendations: u64,
    pub posture_percent: Option<f64>,
    pub readiness_score: Option<f64>,
    pub ready: Option<bool>,
}

/// Every tenant's row, in the order given (the service sorts by slug).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProviderReport {
    pub period: Period,
    pub generated_at: Timestamp,
    pub rows: Vec<ProviderRow>,
    /// Each tenant's full report, in the same order.
    pub reports: Vec<ServiceReport>,
}

fn row(r: &ServiceReport) -> ProviderRow {
    let i = &r.incidents;
    let high = i
        .by_severity
        .iter()
        .filter(|c| c.label == "high" || c.label == "critical")
        .map(|c| c.count)
        .sum();
    let open_recs = r
        .recommendations
        .by_status
        .iter()
        .filter(|c| c.label == "open" || c.label == "planned")
        .map(|c| c.count)
        .sum();
    ProviderRow {
        tenant: r.tenant.clone(),
        tenant_name: r.tenant_name.clone(),
        investigated: i.investigated,
        resolved: i.resolved,
        resolved_by_experts: i.resolved_by_experts,
        resolved_with_customer: i.resolved_with_customer,
        open: i.open,
        high_or_critical: high,
        median_acknowledge_secs: r.times.to_acknowledge.median_secs,
        median_resolve_secs: r.times.to_resolve.median_secs,
        median_expert_secs: r.times.expert.median_secs,
        median_customer_secs: r.times.customer.median_secs,
        sla_met: r.sla.met,
        sla_breached: r.sla.breached,
        sla_compliance_percent: r.sla.compliance_percent,
        tasks_completed: r.tasks.completed,
        tasks_pending: r.tasks.pending,
        tasks_skipped: r.tasks.skipped,
        tasks_failed: r.tasks.failed,
        median_task_completion_secs: r.tasks.completion.median_secs,
        top_asset: r
            .top_assets
            .first()
            .map(|a| format!("{}:{}", a.kind, a.name)),
        top_tactic: i.by_tactic.first().map(|c| c.label.clone()),
        open_recommendations: open_recs,
        posture_percent: r.recommendations.posture_percent,
        readiness_score: r.readiness.as_ref().map(|a| a.score),
        ready: r.readiness.as_ref().map(|a| a.ready),
    }
}

/// The provider's view over tenants' reports of the same period.
pub fn provider_report(
    period: Period,
    generated_at: Timestamp,
    reports: Vec<ServiceReport>,
) -> ProviderReport {
    ProviderReport {
        period,
        generated_at,
        rows: reports.iter().map(row).collect(),
        reports,
    }
}
