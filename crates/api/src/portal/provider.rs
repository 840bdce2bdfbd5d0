//! The experts' pages: the tenant overview (`/` for provider roles) and
//! the triage queue across tenants (`/queue`).

use axum::extract::State;
use minijinja::{Value, context};
use vigil_core::Timestamp;
use vigil_core::incident::IncidentStatus;
use vigil_core::task::TaskMode;
use vigil_service::{IncidentFilter, IncidentRecord};

use super::page::{PageResult, PortalError, Viewer};
use super::views;
use crate::AppState;

/// Statuses still needing someone.
const OPEN: [IncidentStatus; 4] = [
    IncidentStatus::New,
    IncidentStatus::Active,
    IncidentStatus::InProgress,
    IncidentStatus::AwaitingCustomer,
];

/// A tenant's open incidents, highest severity first.
pub async fn open_incidents(
    s: &AppState,
    v: &Viewer,
    slug: &str,
) -> Result<Vec<IncidentRecord>, PortalError> {
    Ok(s.service
        .list_incidents(
            &v.principal,
            slug,
            IncidentFilter {
                statuses: OPEN.iter().map(ToString::to_string).collect(),
                by_severity: true,
                limit: 500,
                ..Default::default()
            },
        )
        .await?)
}

/// Since the Unix epoch: every breach on record.
fn dawn() -> Timestamp {
    Timestamp::UNIX_EPOCH
}

/// The tenant overview: per tenant its lifecycle, readiness, open
/// incidents by severity, tasks awaiting the customer and SLA breaches.
pub async fn overview(s: &AppState, v: &Viewer) -> PageResult {
    let now = s.service.now();
    let mut rows = Vec::new();
    for t in s.service.list_tenants(&v.principal).await? {
        let slug = t.slug.to_string();
        let (_, assessment) = s.service.tenant_overview(&v.principal, &slug).await?;
        let open = open_incidents(s, v, &slug).await?;
        let mut awaiting_tasks = 0;
        for r in open
            .iter()
            .filter(|r| r.incident.status == IncidentStatus::AwaitingCustomer)
        {
            awaiting_tasks += s
                .service
                .tasks(&v.principal, &slug, r.incident.id)
                .await?
                .iter()
                .filter(|t| t.mode == TaskMode::Guided && t.status.is_open())
                .count();
        }
        let until = now
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap_or(now);
        let breaches = s
            .service
            .sla_breaches(&v.principal, &slug, dawn(), until)
            .await?;
        rows.push(context! {
            slug,
            name => t.name.to_string(),
            lifecycle => t.lifecycle.to_string(),
            readiness => assessment.as_ref().map(|a| context! {
                score => format!("{:.0}", a.score),
                ready => a.ready,
                when => views::when(a.run_at),
            }),
            open => open.len(),
            counts => views::severity_counts(&open),
            awaiting_tasks,
            breaches => breaches.len(),
            open_breaches => breaches.iter().filter(|b| b.open).count(),
        });
    }
    v.render(
        "overview.html",
        "overview",
        context! { title => "Tenants", tenants => rows, live => true },
    )
}

/// `GET /queue`: open incidents of every tenant, highest severity first,
/// then the SLA clock nearest its end, then the newest activity.
pub async fn queue(State(s): State<AppState>, v: Viewer) -> PageResult {
    if !v.provider() {
        return Err(PortalError::not_found("page"));
    }
    let now = s.service.now();
    let mut items: Vec<(u8, Option<Timestamp>, Timestamp, Value)> = Vec::new();
    for t in s.service.list_tenants(&v.principal).await? {
        let slug = t.slug.to_string();
        for r in open_incidents(&s, &v, &slug).await? {
            // Clocks run only on published responses.
            let (due, clock) = if r.incident.status == IncidentStatus::AwaitingCustomer {
                let timers = s
                    .service
                    .incident_sla(&v.principal, &slug, r.incident.id)
                    .await?;
                let next = timers
                    .iter()
                    .filter(|t| t.is_running())
                    .min_by_key(|t| t.due_at);
                (next.map(|t| t.due_at), next.map(|t| views::sla(t, now)))
            } else {
                (None, None)
            };
            let rank = views::SEVERITIES
                .iter()
                .position(|x| *x == r.incident.severity())
                .unwrap_or(9) as u8;
            let row = context! { clock, tenant_name => t.name.to_string(), ..views::incident_row(&slug, &r) };
            items.push((rank, due, r.incident.last_activity, row));
        }
    }
    items.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| match (a.1, b.1) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.2.cmp(&a.2))
    });
    let rows: Vec<Value> = items.into_iter().map(|(_, _, _, v)| v).collect();
    v.render(
        "queue.html",
        "queue",
        context! { title => "Triage queue", incidents => rows, live => true },
    )
}
