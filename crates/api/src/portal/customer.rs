//! The customer's home (`/` for customer roles): incidents awaiting their
//! action with their SLA clocks and open tasks, unread messages.

use minijinja::context;
use vigil_core::incident::IncidentStatus;
use vigil_core::task::TaskMode;
use vigil_service::{IncidentFilter, MessageQuery};

use super::page::{PageResult, PortalError, Viewer};
use super::views;
use crate::AppState;

/// Unread messages listed on the home page.
const UNREAD_SHOWN: u32 = 20;

pub async fn home(s: &AppState, v: &Viewer) -> PageResult {
    let slug = v
        .home_tenant
        .clone()
        .ok_or_else(|| PortalError::not_found("tenant"))?;
    let p = &v.principal;
    let now = s.service.now();
    let t = s.service.tenant(p, &slug).await?;
    let awaiting = s
        .service
        .list_incidents(
            p,
            &slug,
            IncidentFilter {
                statuses: vec![IncidentStatus::AwaitingCustomer.to_string()],
                by_severity: true,
                limit: 200,
                ..Default::default()
            },
        )
        .await?;
    let mut rows = Vec::new();
    for r in &awaiting {
        let id = r.incident.id;
        let tasks = s.service.tasks(p, &slug, id).await?;
        let open: Vec<_> = tasks
            .iter()
            .filter(|t| t.mode == TaskMode::Guided && t.status.is_open())
            .map(|t| views::task(v, t, now))
            .collect();
        let clocks: Vec<_> = s
            .service
            .incident_sla(p, &slug, id)
            .await?
            .iter()
            .filter(|t| t.is_running())
            .map(|t| views::sla(t, now))
            .collect();
        rows.push(context! { tasks => open, clocks, ..views::incident_row(&slug, r) });
    }
    let unread = s
        .service
        .message_centre(
            p,
            MessageQuery {
                read: Some(false),
                limit: UNREAD_SHOWN,
                ..Default::default()
            },
        )
        .await?;
    let messages: Vec<_> = unread.iter().map(super::messages::entry).collect();
    v.render(
        "home.html",
        "home",
        context! {
            title => "Home",
            org => context! { slug, name => t.name.to_string(), lifecycle => t.lifecycle.to_string() },
            awaiting => rows,
            unread => messages,
            live => true,
        },
    )
}
