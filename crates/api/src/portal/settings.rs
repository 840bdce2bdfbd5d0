//! A tenant's settings as its people see them: response authorisation,
//! SLA policy, contacts, channels (webhook addresses and secrets are never
//! shown: they carry credentials), the IR provider, and the users.

use axum::extract::{Path, State};
use minijinja::context;
use vigil_core::tenant::ChannelKind;

use super::incident::tenant_header;
use super::page::{PageResult, Viewer};
use super::views::{span, when};
use crate::AppState;

/// `GET /t/{tenant}/settings`
pub async fn show(State(s): State<AppState>, v: Viewer, Path(slug): Path<String>) -> PageResult {
    let tenant = tenant_header(&s, &v, &slug).await?;
    let t = s.service.tenant(&v.principal, &slug).await?;
    // Who the users are is for those who manage them.
    let users = match s.service.list_users(&v.principal, Some(&slug)).await {
        Ok(users) => Some(users),
        Err(vigil_service::ServiceError::Forbidden(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let st = &t.settings;
    let sla = [
        ("critical", &st.sla.critical),
        ("high", &st.sla.high),
        ("medium", &st.sla.medium),
        ("low", &st.sla.low),
    ]
    .iter()
    .map(|(sev, t)| context! { severity => sev, acknowledge => span(t.acknowledge), complete => span(t.complete) })
    .collect::<Vec<_>>();
    let mut contacts: Vec<_> = st.contacts.iter().collect();
    contacts.sort_by_key(|c| (c.kind.as_str(), c.priority));
    v.render(
        "settings.html",
        "settings",
        context! {
            title => "Settings",
            tenant,
            authorisation => st.authorisation.map_or_else(|| "not decided".to_owned(), |a| a.to_string()),
            exclusions => st.exclusions.iter().map(ToString::to_string).collect::<Vec<_>>(),
            sla,
            contacts => contacts.iter().map(|c| context! {
                kind => c.kind.as_str().replace('_', " "),
                name => c.name,
                email => c.email,
                phone => c.phone,
                priority => c.priority,
            }).collect::<Vec<_>>(),
            channels => st.channels.iter().map(|c| {
                let (kind, detail) = match &c.kind {
                    ChannelKind::Email { to } => ("email".to_owned(), to.join(", ")),
                    ChannelKind::Webhook { format, .. } => (format!("webhook ({format})"), "signed with HMAC-SHA256".to_owned()),
                };
                context! { name => c.name, kind, detail }
            }).collect::<Vec<_>>(),
            ir => st.ir_provider.as_ref().map(|i| context! { name => i.name, contact => i.contact, engagement => i.engagement }),
            users => users.map(|users| users.iter().map(|u| context! {
                email => u.email,
                role => u.role.as_str(),
                disabled => u.disabled,
                since => when(u.created_at),
            }).collect::<Vec<_>>()),
        },
    )
}
