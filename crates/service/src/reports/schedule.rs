//! The monthly report: at the start of each month, every tenant in
//! service gets last month's report by email, through the notification
//! outbox, to its service-review contacts. The store records each
//! (tenant, month) in the same transaction as the notification, so a month
//! is sent once across restarts and concurrent runners.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::notification::{Audience, NewNotification, NotificationId, NotificationKind};
use vigil_core::tenant::{Lifecycle, Tenant};
use vigil_reports::{Period, ServiceReport, months};

use crate::{Result, Service};

/// One monthly report queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDelivery {
    pub tenant: String,
    /// `YYYY-MM`.
    pub month: String,
    pub notification: NotificationId,
}

/// A duration in words for email: `3 h 20 min`, `45 min`, `2 d 4 h`.
pub(crate) fn words(secs: Option<i64>) -> String {
    let Some(s) = secs else {
        return "n/a".into();
    };
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// The email's text: the headline figures; the full report is behind the
/// link.
fn summary(r: &ServiceReport, month: &str) -> String {
    let i = &r.incidents;
    let mut out = format!("Service report for {}, {month}.\n\n", r.tenant_name);
    let _ = writeln!(
        out,
        "Incidents investigated: {}; resolved: {} ({} by the experts, {} with your team's help).",
        i.investigated, i.resolved, i.resolved_by_experts, i.resolved_with_customer
    );
    let _ = writeln!(
        out,
        "Median time to resolve: {} (experts {}, your team {}).",
        words(r.times.to_resolve.median_secs),
        words(r.times.expert.median_secs),
        words(r.times.customer.median_secs)
    );
    let _ = writeln!(
        out,
        "SLA: {} met, {} breached{}.",
        r.sla.met,
        r.sla.breached,
        r.sla
            .compliance_percent
            .map(|p| format!(" ({p} % compliance)"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Tasks: {} completed, {} pending, {} skipped, {} failed; median completion {}.",
        r.tasks.completed,
        r.tasks.pending,
        r.tasks.skipped,
        r.tasks.failed,
        words(r.tasks.completion.median_secs)
    );
    if let Some(p) = r.recommendations.posture_percent {
        let _ = writeln!(out, "Posture score: {p} %.");
    }
    out.push_str(
        "\nThe full report, with charts, is at the link below (HTML; add format=pdf for a PDF).",
    );
    out
}

fn in_service(t: &Tenant) -> bool {
    matches!(t.lifecycle, Lifecycle::Monitoring | Lifecycle::Live)
}

impl Service {
    /// Queue last month's report for every tenant in service that has not
    /// had it yet. A tenant that fails is logged and retried next round.
    pub async fn run_due_reports(&self) -> Result<Vec<ReportDelivery>> {
        let now = self.clock.now();
        let Some((month, period)) = months::previous_month(now) else {
            return Ok(Vec::new());
        };
        let mut sent = Vec::new();
        for t in self.store.list_tenants().await? {
            if !in_service(&t) || self.store.report_delivered(t.id, &month).await? {
                continue;
            }
            match self.send_report(&t, &month, period).await {
                Ok(Some(notification)) => sent.push(ReportDelivery {
                    tenant: t.slug.to_string(),
                    month: month.clone(),
                    notification,
                }),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(tenant = %t.slug, %month, error = %e, "monthly report failed; will retry");
                }
            }
        }
        Ok(sent)
    }

    async fn send_report(
        &self,
        t: &Tenant,
        month: &str,
        period: Period,
    ) -> Result<Option<NotificationId>> {
        let report = self.report_for(t, period).await?;
        let link = format!(
            "/api/v1/tenants/{}/reports/service?from={}&to={}&format=html",
            t.slug, period.from, period.to
        );
        let n = NewNotification {
            kind: NotificationKind::ServiceReport,
            audience: Audience::ServiceReviewContacts,
            subject: format!("Service report for {}, {month}", t.name),
            body: summary(&report, month),
            link: Some(link),
            incident: None,
        };
        let (notification, deliveries) = self.prepare_notification(t, n).await?;
        let audit = AuditEntry::new(
            notification.created_at,
            &Actor::System,
            "report.send",
            Some(t.id),
            format!("report:{}:{month}", t.slug),
            json!({"notification": notification.id, "deliveries": deliveries.len()}),
        );
        let recorded = self
            .store
            .record_report_delivery(t.id, month, &notification, &deliveries, audit)
            .await?;
        if recorded.is_none() {
            return Ok(None);
        }
        tracing::info!(tenant = %t.slug, %month, deliveries = deliveries.len(), "monthly report queued");
        Ok(Some(notification.id))
    }

    /// Run [`Service::run_due_reports`] every `every` until `stop`.
    pub async fn run_report_schedule(&self, every: Duration, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.run_due_reports().await {
                Ok(sent) if !sent.is_empty() => {
                    tracing::info!(tenants = sent.len(), "monthly reports queued");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "report schedule failed; will retry"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_days_hours_and_minutes() {
        assert_eq!(words(None), "n/a");
        assert_eq!(words(Some(42)), "42 s");
        assert_eq!(words(Some(45 * 60)), "45 min");
        assert_eq!(words(Some(3 * 3600 + 20 * 60)), "3 h 20 min");
        assert_eq!(words(Some(2 * 86_400 + 4 * 3600 + 59)), "2 d 4 h");
    }
}
