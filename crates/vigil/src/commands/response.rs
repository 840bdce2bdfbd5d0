//! `vigil response publish|tasks`: publish an incident's response and
//! follow its tasks, as the operator (like `vigil incident`).

use serde_json::json;
use vigil_core::incident::IncidentId;
use vigil_service::{Principal, Service};

use crate::cli::{ResponseCommand, SpecError};
use crate::output::{emit, emit_json};

fn incident_id(id: &str) -> Result<IncidentId, SpecError> {
    id.parse().map_err(|_| SpecError {
        flag: "INCIDENT",
        value: id.to_owned(),
        reason: "not an incident id".into(),
    })
}

pub async fn run(c: ResponseCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    match c {
        ResponseCommand::Publish {
            slug,
            incident,
            out,
        } => {
            let id = incident_id(&incident)?;
            let view = svc.publish_response(p, &slug, id).await?;
            let i = &view.record.incident;
            if out.json {
                return emit_json(&json!({
                    "incident": i,
                    "assigned_to": view.record.assigned_to,
                }));
            }
            emit(&format!(
                "published the response to {}: {} is {}, assigned to {}",
                slug,
                i.id,
                i.status.as_str(),
                view.record.assigned_to.as_deref().unwrap_or("nobody")
            ))
        }
        ResponseCommand::Tasks {
            slug,
            incident,
            out,
        } => {
            let id = incident_id(&incident)?;
            let tasks = svc.tasks(p, &slug, id).await?;
            if out.json {
                return emit_json(&json!(tasks));
            }
            if tasks.is_empty() {
                return emit("no tasks");
            }
            let mut text = format!(
                "{:<36}  {:<11} {:<7} {:<20} {:<28} {}\n",
                "TASK", "STATUS", "MODE", "DUE", "TYPE", "TARGET"
            );
            for t in &tasks {
                text.push_str(&format!(
                    "{:<36}  {:<11} {:<7} {:<20} {:<28} {}\n",
                    t.id,
                    t.status.as_str(),
                    t.mode.as_str(),
                    t.due_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
                    t.kind.as_str(),
                    t.target
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), ToString::to_string),
                ));
            }
            emit(&text)
        }
    }
}
