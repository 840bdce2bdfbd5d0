//! `vigil sla`: run the SLA engine once, list a tenant's breaches.

use serde_json::json;
use vigil_core::Timestamp;
use vigil_service::{Principal, Service, ServiceError};

use crate::cli::SlaCommand;
use crate::output::{emit, emit_json};

/// The breach list's default period: the 30 days before `--to`.
const DEFAULT_PERIOD: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

fn time(flag: &str, v: Option<&str>) -> Result<Option<Timestamp>, ServiceError> {
    v.map(|t| {
        t.parse()
            .map_err(|e| ServiceError::Invalid(format!("{flag} {t:?}: {e} (want RFC 3339)")))
    })
    .transpose()
}

pub async fn run(command: SlaCommand, service: &Service, p: &Principal) -> anyhow::Result<()> {
    match command {
        SlaCommand::Run(out) => {
            let report = service.run_sla().await?;
            if out.json {
                emit_json(&json!(report))
            } else {
                emit(&format!(
                    "checked {} running timers: {} reminders, {} breaches, {} escalations, {} stale reminders passed over, {} stopped",
                    report.checked,
                    report.reminders,
                    report.breaches,
                    report.escalations,
                    report.passed_over,
                    report.stopped
                ))
            }
        }
        SlaCommand::Breaches {
            tenant,
            from,
            to,
            out,
        } => {
            let to = time("--to", to.as_deref())?.unwrap_or_else(|| service.now());
            let from = match time("--from", from.as_deref())? {
                Some(f) => f,
                None => to.checked_sub(DEFAULT_PERIOD).unwrap_or(Timestamp::MIN),
            };
            let breaches = service.sla_breaches(p, &tenant, from, to).await?;
            if out.json {
                let items: Vec<_> = breaches
                    .iter()
                    .map(|b| {
                        json!({
                            "incident": b.timer.incident_id,
                            "incident_title": b.incident_title,
                            "kind": b.timer.kind,
                            "target": format!("{:#}", b.timer.target),
                            "due_at": b.timer.due_at,
                            "stopped_at": b.timer.stopped_at,
                            "stop_reason": b.timer.stop_reason,
                            "open": b.open,
                            "over_seconds": b.over.as_secs(),
                        })
                    })
                    .collect();
                return emit_json(&json!({"from": from, "to": to, "items": items}));
            }
            let mut text = format!("{} breaches from {from} to {to}\n", breaches.len());
            for b in &breaches {
                let state = if b.open { "still open" } else { "stopped" };
                text.push_str(&format!(
                    "{}  {:<11}  {:#} over ({state})  {}  {}\n",
                    b.timer.due_at, b.timer.kind, b.over, b.timer.incident_id, b.incident_title
                ));
            }
            emit(&text)
        }
    }
}
