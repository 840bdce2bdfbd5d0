//! The delivery worker and the delivery log: due deliveries are rendered,
//! signed (webhooks) and handed to an [`Outbound`]; every attempt is
//! recorded, failures are retried on `vigil_core::notification::retry_delay`
//! and end in the dead-letter, from which an admin can requeue them.
//!
//! Webhook URLs and secrets are read from the tenant's settings at send
//! time (a delivery names its channel only), and never written to the
//! delivery log, the audit log or the logs: `redact_webhook_url` shows
//! the host alone.

use std::collections::HashMap;

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::identity::{Permission, Principal};
use vigil_core::notification::{
    Delivery, DeliveryId, DeliveryStatus, Destination, Notification, NotificationId, retry_delay,
};
use vigil_core::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use vigil_core::tenant::{ChannelKind, Tenant, redact_webhook_url};
use vigil_core::{TenantId, Timestamp};

use crate::outbound::{Outbound, SendError};
use crate::render::{self, MessageParts};
use crate::{Result, Service, ServiceError};

/// The header naming the delivery, so receivers can drop repeats (a
/// delivery is sent at least once: a crash between sending and recording
/// sends it again).
pub const DELIVERY_HEADER: &str = "X-Vigil-Delivery";

/// Deliveries one round of the worker takes at most.
const DELIVERY_BATCH: u32 = 50;

/// What one round of [`Service::deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    pub sent: u32,
    /// Failed, another attempt scheduled.
    pub retrying: u32,
    /// Failed for good: dead-lettered.
    pub dead: u32,
}

impl DeliveryReport {
    pub fn attempted(&self) -> u32 {
        self.sent + self.retrying + self.dead
    }
}

/// One attempt in a delivery's log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryAttempt {
    pub at: Timestamp,
    /// `sent`, `failed` (retry scheduled), `dead` or `requeued`.
    pub outcome: String,
    pub detail: String,
}

/// A delivery with its notification and every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryView {
    pub notification: Notification,
    pub delivery: Delivery,
    pub attempts: Vec<DeliveryAttempt>,
}

/// What a delivery's destination resolved to at send time.
enum Target {
    Email(String),
    Webhook {
        channel: String,
        url: String,
        format: vigil_core::tenant::WebhookFormat,
        secret: vigil_core::tenant::Secret,
    },
}

impl Target {
    /// For the audit log and the logs: never the URL's path or a secret.
    fn describe(&self) -> serde_json::Value {
        match self {
            Target::Email(to) => json!({"email": to}),
            Target::Webhook { channel, url, .. } => {
                json!({"webhook": channel, "url": redact_webhook_url(url)})
            }
        }
    }
}

fn resolve(tenant: &Tenant, destination: &Destination) -> Result<Target, SendError> {
    match destination {
        Destination::Email { to } => Ok(Target::Email(to.clone())),
        Destination::Webhook { channel } => {
            match tenant
                .settings
                .channels
                .iter()
                .find(|c| c.name == *channel)
                .map(|c| &c.kind)
            {
                Some(ChannelKind::Webhook {
                    url,
                    format,
                    secret,
                }) => Ok(Target::Webhook {
                    channel: channel.clone(),
                    url: url.clone(),
                    format: *format,
                    secret: secret.clone(),
                }),
                Some(ChannelKind::Email { .. }) => Err(SendError::Permanent(format!(
                    "channel {channel:?} is no longer a webhook channel"
                ))),
                None => Err(SendError::Permanent(format!(
                    "channel {channel:?} was removed from the tenant's settings"
                ))),
            }
        }
    }
}

impl Service {
    /// Send every delivery due now (at most `limit`), oldest due first, and
    /// record how each went: `sent`; `retrying` with the next attempt after
    /// the back-off delay; or `dead` after the last retry, on a permanent
    /// failure, or when its webhook channel was removed. Sent and dead
    /// deliveries are audited. Only a store failure stops the round.
    pub async fn deliver_due(&self, out: &dyn Outbound, limit: u32) -> Result<DeliveryReport> {
        let due = self.store.due_deliveries(self.clock.now(), limit).await?;
        let mut report = DeliveryReport::default();
        let mut tenants: HashMap<TenantId, Option<Tenant>> = HashMap::new();
        let mut notes: HashMap<NotificationId, Option<Notification>> = HashMap::new();
        for d in due {
            if let std::collections::hash_map::Entry::Vacant(e) = tenants.entry(d.tenant_id) {
                e.insert(self.store.tenant_by_id(d.tenant_id).await?);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = notes.entry(d.notification) {
                e.insert(self.store.notification(d.notification).await?);
            }
            let tenant = tenants.get(&d.tenant_id).and_then(Option::as_ref);
            let note = notes.get(&d.notification).and_then(Option::as_ref);
            let status = self.attempt(out, d, tenant, note).await?;
            match status {
                DeliveryStatus::Sent => report.sent += 1,
                DeliveryStatus::Retrying => report.retrying += 1,
                _ => report.dead += 1,
            }
        }
        if report.attempted() > 0 {
            tracing::info!(
                sent = report.sent,
                retrying = report.retrying,
                dead = report.dead,
                "notification deliveries attempted"
            );
        }
        Ok(report)
    }

    /// Deliver what is due every `every` until `stop` completes: the
    /// worker `vigil serve` runs. The store holds every due time, so a
    /// restart picks up where the last run stopped; a store failure is
    /// logged and the next round tries again.
    pub async fn run_deliveries(
        &self,
        out: &dyn Outbound,
        every: std::time::Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            loop {
                match self.deliver_due(out, DELIVERY_BATCH).await {
                    // A full batch: more may be due at once.
                    Ok(r) if r.attempted() >= DELIVERY_BATCH => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "notification delivery failed; will retry");
                        break;
                    }
                }
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Send one delivery and record the attempt; returns its new status.
    async fn attempt(
        &self,
        out: &dyn Outbound,
        mut d: Delivery,
        tenant: Option<&Tenant>,
        note: Option<&Notification>,
    ) -> Result<DeliveryStatus> {
        let now = self.clock.now();
        let (target, result) = match (tenant, note) {
            (Some(t), Some(n)) => match resolve(t, &d.destination) {
                Ok(target) => {
                    let r = self.send(out, &d, t, n, &target, now).await;
                    (Some(target), r)
                }
                Err(e) => (None, Err(e)),
            },
            (None, _) => (
                None,
                Err(SendError::Permanent("the tenant no longer exists".into())),
            ),
            (_, None) => (
                None,
                Err(SendError::Permanent(format!(
                    "notification {} is missing",
                    d.notification
                ))),
            ),
        };
        d.attempts += 1;
        d.updated_at = now;
        let where_to = target
            .as_ref()
            .map_or_else(|| json!(d.destination.to_string()), Target::describe);
        let audit = |action: &str, extra: serde_json::Value| {
            let mut details = json!({
                "notification": d.notification,
                "destination": where_to,
                "attempts": d.attempts,
            });
            if let (Some(obj), Some(more)) = (details.as_object_mut(), extra.as_object()) {
                obj.extend(more.clone());
            }
            AuditEntry::new(
                now,
                &Actor::System,
                action,
                Some(d.tenant_id),
                format!("delivery:{}", d.id),
                details,
            )
        };
        let (outcome, detail, entry) = match result {
            Ok(()) => {
                d.status = DeliveryStatus::Sent;
                d.next_attempt_at = None;
                d.last_error = None;
                let entry = audit("notification.sent", json!({}));
                ("sent", format!("sent to {}", d.destination), Some(entry))
            }
            Err(e) => {
                let delay = if e.is_permanent() {
                    None
                } else {
                    retry_delay(d.attempts)
                };
                let next = delay.and_then(|delay| now.checked_add(delay).ok());
                d.last_error = Some(e.to_string());
                match next {
                    Some(next) => {
                        d.status = DeliveryStatus::Retrying;
                        d.next_attempt_at = Some(next);
                        (
                            "failed",
                            format!("attempt {} failed: {e}; next attempt at {next}", d.attempts),
                            None,
                        )
                    }
                    None => {
                        d.status = DeliveryStatus::Dead;
                        d.next_attempt_at = None;
                        let why = if e.is_permanent() {
                            "permanent failure"
                        } else {
                            "no attempts left"
                        };
                        let entry = audit(
                            "notification.dead",
                            json!({"error": e.to_string(), "reason": why}),
                        );
                        (
                            "dead",
                            format!("{why} after attempt {}: {e}", d.attempts),
                            Some(entry),
                        )
                    }
                }
            }
        };
        self.store
            .record_attempt(&d, outcome, &detail, entry)
            .await?;
        let result = match d.status {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Retrying => "retrying",
            _ => "dead",
        };
        metrics::counter!("vigil_notification_deliveries_total", "result" => result).increment(1);
        tracing::debug!(
            delivery = %d.id,
            destination = %d.destination,
            attempts = d.attempts,
            result,
            error = d.last_error.as_deref().unwrap_or(""),
            "notification delivery attempted"
        );
        Ok(d.status)
    }

    /// Render the message for the target and hand it to the outbound.
    async fn send(
        &self,
        out: &dyn Outbound,
        d: &Delivery,
        tenant: &Tenant,
        n: &Notification,
        target: &Target,
        now: Timestamp,
    ) -> Result<(), SendError> {
        let link = n
            .link
            .as_deref()
            .map(|l| render::absolute_link(&self.public_url, l));
        let parts = MessageParts {
            notification: n,
            tenant: tenant.slug.as_str(),
            tenant_name: tenant.name.as_str(),
            link: link.as_deref(),
        };
        match target {
            Target::Email(to) => {
                let text = render::email_text(&parts);
                let html = render::email_html(&parts);
                out.send_email(to, &n.subject, &text, &html).await
            }
            Target::Webhook {
                url,
                format,
                secret,
                ..
            } => {
                let body = serde_json::to_vec(&render::webhook_body(*format, &parts, now))
                    .map_err(|e| SendError::Permanent(format!("cannot encode the message: {e}")))?;
                let ts = now.as_second();
                let headers = [
                    (TIMESTAMP_HEADER, ts.to_string()),
                    (
                        SIGNATURE_HEADER,
                        sign(secret.expose().as_bytes(), ts, &body),
                    ),
                    (DELIVERY_HEADER, d.id.to_string()),
                ];
                out.post_webhook(url, &body, &headers).await
            }
        }
    }
}

impl Service {
    /// One delivery of the tenant, with its notification and attempts.
    /// Readable by whoever may read the tenant.
    pub async fn delivery(
        &self,
        p: &Principal,
        tenant: &str,
        id: DeliveryId,
    ) -> Result<DeliveryView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        let delivery = self.tenant_delivery(&t, id).await?;
        let notification = self
            .store
            .notification(delivery.notification)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "notification",
                key: delivery.notification.to_string(),
            })?;
        let attempts = self
            .store
            .delivery_attempts(id)
            .await?
            .into_iter()
            .map(|(at, outcome, detail)| DeliveryAttempt {
                at,
                outcome,
                detail,
            })
            .collect();
        Ok(DeliveryView {
            notification,
            delivery,
            attempts,
        })
    }

    /// Requeue a dead delivery: due now, with the whole retry schedule
    /// ahead of it again (its earlier attempts stay in its log). Provider
    /// and customer admins; audited.
    pub async fn retry_delivery(
        &self,
        p: &Principal,
        tenant: &str,
        id: DeliveryId,
    ) -> Result<Delivery> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::RetryDeliveries, Some(&t), false)
            .await?;
        let mut d = self.tenant_delivery(&t, id).await?;
        if d.status != DeliveryStatus::Dead {
            return Err(ServiceError::Conflict(format!(
                "delivery {id} is {}: only dead deliveries can be retried",
                d.status
            )));
        }
        let now = self.clock.now();
        let previous = d.attempts;
        d.status = DeliveryStatus::Pending;
        d.attempts = 0;
        d.next_attempt_at = Some(now);
        d.updated_at = now;
        let actor = p.actor();
        let audit = AuditEntry::new(
            now,
            &actor,
            "notification.retry",
            Some(t.id),
            format!("delivery:{id}"),
            json!({
                "notification": d.notification,
                "destination": d.destination.to_string(),
                "previous_attempts": previous,
                "last_error": d.last_error,
            }),
        );
        self.store
            .record_attempt(
                &d,
                "requeued",
                &format!("requeued by {} after {previous} attempts", actor.to_text()),
                Some(audit),
            )
            .await?;
        Ok(d)
    }

    /// A delivery of this tenant; another tenant's is "not found".
    async fn tenant_delivery(&self, t: &Tenant, id: DeliveryId) -> Result<Delivery> {
        self.store
            .delivery(id)
            .await?
            .filter(|d| d.tenant_id == t.id)
            .ok_or_else(|| ServiceError::NotFound {
                what: "delivery",
                key: id.to_string(),
            })
    }
}
