//! `vigil notifications`: the delivery log, and requeueing dead deliveries.

use std::fmt::Write as _;

use serde_json::json;
use vigil_core::notification::DeliveryId;
use vigil_service::{Principal, Service};

use crate::cli::{NotificationsCommand, SpecError};
use crate::output::{emit, emit_json};

pub async fn run(c: NotificationsCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    match c {
        NotificationsCommand::List { tenant, limit, out } => {
            let log = svc.notifications(p, &tenant, None, limit).await?;
            if out.json {
                let items: Vec<_> = log
                    .iter()
                    .map(|(n, ds)| {
                        let mut v = json!(n);
                        v["deliveries"] = json!(ds);
                        v
                    })
                    .collect();
                return emit_json(&json!(items));
            }
            if log.is_empty() {
                return emit("no notifications");
            }
            let mut text = String::new();
            for (n, ds) in &log {
                let _ = writeln!(text, "{}  {}  {}", n.created_at, n.kind, n.subject);
                if ds.is_empty() {
                    let _ = writeln!(text, "    (reached nobody: no contacts or channels)");
                }
                for d in ds {
                    let _ = write!(
                        text,
                        "    {:<8} {:<40} {} attempt(s)",
                        d.status.as_str(),
                        d.destination.to_string(),
                        d.attempts
                    );
                    if let Some(next) = d.next_attempt_at {
                        let _ = write!(text, ", next at {next}");
                    }
                    if let Some(e) = &d.last_error {
                        let _ = write!(text, ", last error: {e}");
                    }
                    let _ = writeln!(text, "  [{}]", d.id);
                }
            }
            emit(&text)
        }
        NotificationsCommand::Retry {
            tenant,
            delivery,
            out,
        } => {
            let id: DeliveryId = delivery.parse().map_err(|_| SpecError {
                flag: "DELIVERY",
                value: delivery.clone(),
                reason: "not a delivery id".into(),
            })?;
            let d = svc.retry_delivery(p, &tenant, id).await?;
            if out.json {
                return emit_json(&json!(d));
            }
            emit(&format!(
                "delivery {} to {} requeued: due now",
                d.id, d.destination
            ))
        }
    }
}
