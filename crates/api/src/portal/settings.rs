//! A tenant's settings as its people see them: response authorisation,
//! SLA policy, contacts, channels (webhook addresses and secrets are never
//! shown: they carry credentials), the IR provider, and the users; the
//! admins add and remove contacts and email channels, and add users.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use minijinja::context;
use serde::Deserialize;
use vigil_core::identity::Role;
use vigil_core::tenant::{Channel, ChannelKind, Contact, SettingChange};

use super::incident::tenant_header;
use super::page::{PageResult, PortalError, Viewer, redirect};
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

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    csrf: String,
    /// `add_contact`, `remove_contact`, `add_channel`, `remove_channel`,
    /// `add_user`.
    action: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    priority: String,
    /// An email channel's recipients, separated by commas.
    #[serde(default)]
    to: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /t/{tenant}/settings`: add or remove a contact or an email
/// channel, or add a user. The service checks the role may (customer and
/// provider admins) and audits the change. Webhook channels carry a secret
/// and are added through the API or the CLI.
pub async fn change(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    f: Result<Form<SettingsForm>, FormRejection>,
) -> PageResult {
    let f = f
        .map(|Form(f)| f)
        .map_err(|e| PortalError::bad_request(e.body_text()))?;
    v.check(&f.csrf)?;
    let bad =
        |what: &str, e: &dyn std::fmt::Display| PortalError::bad_request(format!("{what}: {e}"));
    let change = match f.action.as_str() {
        "add_contact" => SettingChange::AddContact(Contact {
            kind: f.kind.parse().map_err(|e| bad("kind", &e))?,
            name: f.name.trim().to_owned(),
            email: text(&f.email),
            phone: text(&f.phone),
            priority: f.priority.trim().parse().map_err(|e| bad("priority", &e))?,
        }),
        "remove_contact" => SettingChange::RemoveContact(f.name.trim().to_owned()),
        "add_channel" => SettingChange::AddChannel(Channel {
            name: f.name.trim().to_owned(),
            kind: ChannelKind::Email {
                to: f.to.split(',').filter_map(text).collect(),
            },
        }),
        "remove_channel" => SettingChange::RemoveChannel(f.name.trim().to_owned()),
        "add_user" => {
            let role: Role = f.role.parse().map_err(|e| bad("role", &e))?;
            s.service
                .create_user(&v.principal, f.email.trim(), role, Some(&slug), &f.password)
                .await?;
            return Ok(redirect(&format!("/t/{slug}/settings#users")));
        }
        other => {
            return Err(PortalError::bad_request(format!(
                "action {other:?} is unknown"
            )));
        }
    };
    s.service
        .update_tenant(&v.principal, &slug, &[change])
        .await?;
    Ok(redirect(&format!("/t/{slug}/settings")))
}
