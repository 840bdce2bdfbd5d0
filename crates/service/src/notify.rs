//! Queueing notifications. Callers say what happened and to whom; the
//! destinations are planned here (see `vigil_core::notification::plan`) and
//! stored as deliveries for the delivery worker to send.

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::notification::{
    Audience, Delivery, DeliveryId, DeliveryStatus, NewNotification, Notification, NotificationId,
    plan,
};
use vigil_core::tenant::Tenant;

use crate::{Result, Service, ServiceError};

/// The longest subject line kept; longer ones are cut at a character boundary.
const MAX_SUBJECT: usize = 200;

impl Service {
    /// Queue a notification for delivery. A system action (no principal),
    /// audited. Deliveries to the customer's side are held while the tenant
    /// is onboarding or monitoring. A notification that reaches nobody (no
    /// contacts, channels or users for its audience) is still recorded, so
    /// the gap shows in the delivery log.
    pub async fn notify(&self, tenant: &Tenant, n: NewNotification) -> Result<NotificationId> {
        let (notification, deliveries) = self.prepare_notification(tenant, n).await?;
        let held = deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Held)
            .count();
        let audit = AuditEntry::new(
            notification.created_at,
            &Actor::System,
            "notification.queue",
            Some(tenant.id),
            format!("notification:{}", notification.id),
            json!({
                "kind": notification.kind,
                "incident": notification.incident,
                "deliveries": deliveries.len(),
                "held": held,
            }),
        );
        self.store
            .queue_notification(&notification, &deliveries, audit)
            .await?;
        tracing::info!(
            tenant = %tenant.slug,
            kind = %notification.kind,
            deliveries = deliveries.len(),
            held,
            "notification queued"
        );
        Ok(notification.id)
    }
}

impl Service {
    /// A notification and its deliveries, planned but not stored: for
    /// callers that queue it in the same transaction as another change
    /// (the SLA engine). [`Service::notify`] is this plus the store.
    pub(crate) async fn prepare_notification(
        &self,
        tenant: &Tenant,
        n: NewNotification,
    ) -> Result<(Notification, Vec<Delivery>)> {
        if n.subject.trim().is_empty() {
            return Err(ServiceError::Invalid("notification subject: empty".into()));
        }
        let now = self.clock.now();
        let users = match &n.audience {
            Audience::Roles(_) => {
                let mut users = self.store.list_users(Some(tenant.id)).await?;
                users.extend(
                    self.store
                        .list_users(None)
                        .await?
                        .into_iter()
                        .filter(|u| u.tenant_id.is_none()),
                );
                users
            }
            Audience::IncidentContacts
            | Audience::Contact(_)
            | Audience::IncidentContactsAndIrProvider
            | Audience::ServiceReviewContacts => Vec::new(),
        };
        let mut subject = n.subject.trim().replace(['\r', '\n'], " ");
        if subject.len() > MAX_SUBJECT {
            let cut = (0..=MAX_SUBJECT)
                .rev()
                .find(|&i| subject.is_char_boundary(i))
                .unwrap_or(0);
            subject.truncate(cut);
        }
        let notification = Notification {
            id: NotificationId::new_at(now),
            tenant_id: tenant.id,
            kind: n.kind,
            audience: n.audience,
            subject,
            body: n.body,
            link: n.link,
            incident: n.incident,
            created_at: now,
        };
        let deliveries: Vec<Delivery> =
            plan(tenant, notification.kind, &notification.audience, &users)
                .into_iter()
                .map(|(destination, status)| Delivery {
                    id: DeliveryId::new_at(now),
                    notification: notification.id,
                    tenant_id: tenant.id,
                    destination,
                    status,
                    attempts: 0,
                    next_attempt_at: (status == DeliveryStatus::Pending).then_some(now),
                    last_error: None,
                    updated_at: now,
                })
                .collect();
        Ok((notification, deliveries))
    }
}

impl Service {
    /// A tenant's notifications, newest first, each with its deliveries:
    /// the delivery log. Readable by whoever may read the tenant.
    pub async fn notifications(
        &self,
        p: &vigil_core::identity::Principal,
        tenant: &str,
        before: Option<NotificationId>,
        limit: u32,
    ) -> Result<Vec<(Notification, Vec<Delivery>)>> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(
            p,
            vigil_core::identity::Permission::ReadTenant,
            Some(&t),
            true,
        )
        .await?;
        Ok(self
            .store
            .notifications(Some(t.id), before, limit.clamp(1, MAX_NOTIFICATION_PAGE))
            .await?)
    }
}

/// The most notifications one page returns.
pub const MAX_NOTIFICATION_PAGE: u32 = 200;
