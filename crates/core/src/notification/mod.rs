//! Notifications (PRODUCT.md §3, §9): what Vigil tells people, and to whom.
//!
//! A notification is queued once and fans out into deliveries, one per
//! destination (an email address or a webhook channel). Deliveries are the
//! unit of sending, retrying and dead-lettering, so one bad address never
//! holds up the others. Which destinations an [`Audience`] reaches is
//! decided here, from the tenant's settings, lifecycle and users.

use jiff::SignedDuration;

use crate::identity::{Role, User};
use crate::incident::IncidentId;
use crate::tenant::{ChannelKind, Lifecycle, Tenant};
use crate::{Id, TenantId, Timestamp};

pub type NotificationId = Id<Notification>;
pub type DeliveryId = Id<Delivery>;

words!(
    /// Why Vigil is notifying.
    NotificationKind, "notification kind" {
        ResponsePublished => "response_published",
        SlaReminder => "sla_reminder",
        SlaBreach => "sla_breach",
        Message => "message",
        Inquiry => "inquiry",
        ReadinessRegression => "readiness_regression",
        MajorIncident => "major_incident",
        TaskUpdate => "task_update",
        ServiceReport => "service_report",
    }
);

words!(
    /// Where a delivery stands.
    DeliveryStatus, "delivery status" {
        /// Waiting for its first attempt.
        Pending => "pending",
        /// Not sent: the tenant was onboarding or monitoring, when customer
        /// notifications are held (PRODUCT.md §3). Kept for the log.
        Held => "held",
        Sent => "sent",
        /// An attempt failed; another is due at `next_attempt_at`.
        Retrying => "retrying",
        /// Every attempt failed: the dead-letter.
        Dead => "dead",
    }
);

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "audience", content = "value")]
pub enum Audience {
    /// Every incident contact (email) and every channel of the tenant.
    IncidentContacts,
    /// One incident contact, by call priority (email), and every webhook channel.
    Contact(u8),
    /// Users holding one of these roles: this tenant's customer users and
    /// the provider's users (email).
    Roles(Vec<Role>),
    /// The tenant's IR provider (its contact, when that is an email
    /// address), every incident contact and every channel.
    IncidentContactsAndIrProvider,
    /// The tenant's service-review contacts (email): the monthly report.
    ServiceReviewContacts,
}

/// What a caller asks to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub audience: Audience,
    /// One line, plain text.
    pub subject: String,
    /// Plain text; each channel renders it in its own shape.
    pub body: String,
    /// A portal path such as `/tenants/acme/incidents/<id>`; made absolute
    /// with the server's public URL at delivery.
    pub link: Option<String>,
    pub incident: Option<IncidentId>,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub tenant_id: TenantId,
    pub kind: NotificationKind,
    pub audience: Audience,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub incident: Option<IncidentId>,
    pub created_at: Timestamp,
}

/// Where one delivery goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Destination {
    Email {
        to: String,
    },
    /// A webhook channel of the tenant, by name; its URL, shape and secret
    /// are read from the settings when sending.
    Webhook {
        channel: String,
    },
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Email { to } => write!(f, "email:{to}"),
            Destination::Webhook { channel } => write!(f, "webhook:{channel}"),
        }
    }
}

/// One notification to one destination, and how sending it went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub notification: NotificationId,
    pub tenant_id: TenantId,
    pub destination: Destination,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending and retrying deliveries).
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// The pause before the next attempt after `attempts` failed ones, or `None`
/// when the delivery is dead: 30 s, 2 min, 10 min, 30 min, 2 h, then give up.
pub fn retry_delay(attempts: u32) -> Option<SignedDuration> {
    const DELAYS: [SignedDuration; 5] = [
        SignedDuration::from_secs(30),
        SignedDuration::from_mins(2),
        SignedDuration::from_mins(10),
        SignedDuration::from_mins(30),
        SignedDuration::from_hours(2),
    ];
    let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
    DELAYS.get(i).copied()
}

/// Whether the tenant's customer-side notifications of this kind are held.
/// A major incident is never held: the customer must engage its IR
/// provider at once, learning period or not (PRODUCT.md §11).
pub fn customer_notifications_held(lifecycle: Lifecycle, kind: NotificationKind) -> bool {
    kind != NotificationKind::MajorIncident
        && matches!(lifecycle, Lifecycle::Onboarding | Lifecycle::Monitoring)
}

/// The destinations an audience reaches, each with its first status
/// (`pending`, or `held` for the customer's side of a tenant not yet live).
/// Addresses are deduplicated case-insensitively; disabled users are skipped.
pub fn plan(
    tenant: &Tenant,
    kind: NotificationKind,
    audience: &Audience,
    users: &[User],
) -> Vec<(Destination, DeliveryStatus)> {
    let held = if customer_notifications_held(tenant.lifecycle, kind) {
        DeliveryStatus::Held
    } else {
        DeliveryStatus::Pending
    };
    let s = &tenant.settings;
    let mut out: Vec<(Destination, DeliveryStatus)> = Vec::new();
    let mut push = |d: Destination, status: DeliveryStatus| {
        let dup = out.iter().any(|(o, _)| match (o, &d) {
            (Destination::Email { to: a }, Destination::Email { to: b }) => {
                a.eq_ignore_ascii_case(b)
            }
            (a, b) => a == b,
        });
        if !dup {
            out.push((d, status));
        }
    };
    let webhooks = || {
        s.channels.iter().filter_map(|c| match &c.kind {
            ChannelKind::Webhook { .. } => Some(Destination::Webhook {
                channel: c.name.clone(),
            }),
            ChannelKind::Email { .. } => None,
        })
    };
    match audience {
        Audience::IncidentContacts | Audience::IncidentContactsAndIrProvider => {
            if *audience == Audience::IncidentContactsAndIrProvider
                && let Some(ir) = &s.ir_provider
                && crate::tenant::validate_email(ir.contact.trim()).is_ok()
            {
                push(
                    Destination::Email {
                        to: ir.contact.trim().to_owned(),
                    },
                    held,
                );
            }
            for c in s.incident_contacts() {
                if let Some(to) = &c.email {
                    push(Destination::Email { to: to.clone() }, held);
                }
            }
            for c in &s.channels {
                if let ChannelKind::Email { to } = &c.kind {
                    for to in to {
                        push(Destination::Email { to: to.clone() }, held);
                    }
                }
            }
            webhooks().for_each(|d| push(d, held));
        }
        Audience::Contact(priority) => {
            if let Some(to) = s
                .incident_contacts()
                .into_iter()
                .find(|c| c.priority == *priority)
                .and_then(|c| c.email.clone())
            {
                push(Destination::Email { to }, held);
            }
            webhooks().for_each(|d| push(d, held));
        }
        Audience::ServiceReviewContacts => {
            for c in s
                .contacts
                .iter()
                .filter(|c| c.kind == crate::tenant::ContactKind::ServiceReview)
            {
                if let Some(to) = &c.email {
                    push(Destination::Email { to: to.clone() }, held);
                }
            }
        }
        Audience::Roles(roles) => {
            for u in users
                .iter()
                .filter(|u| !u.disabled && roles.contains(&u.role))
            {
                if u.role.is_provider() && u.tenant_id.is_none() {
                    push(
                        Destination::Email {
                            to: u.email.clone(),
                        },
                        DeliveryStatus::Pending,
                    );
                } else if u.tenant_id == Some(tenant.id) {
                    push(
                        Destination::Email {
                            to: u.email.clone(),
                        },
                        held,
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
