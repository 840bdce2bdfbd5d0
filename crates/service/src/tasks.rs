//! Response tasks: created by the experts for an incident, managed or
//! guided by the tenant's authorisation and exclusions, due by the
//! tenant's SLA, every change kept in the task's history.

use serde_json::json;
use vigil_core::Entity;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Permission, Principal};
use vigil_core::incident::IncidentId;
use vigil_core::task::{Task, TaskId, TaskMode, TaskStatus, TaskType, check_task_status, mode_for};

use crate::{Result, Service, ServiceError};

/// A task with its history: (when, who, what changed), and its execution
/// record (managed tasks executed through a connector).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskView {
    pub task: Task,
    pub history: Vec<(vigil_core::Timestamp, String, String)>,
    pub executions: Vec<vigil_core::task::Execution>,
}

impl Service {
    /// Create a task for an incident. Its mode follows the tenant's
    /// authorisation, exclusions and coverage; it is due by the SLA's time
    /// to complete for the incident's severity.
    pub async fn create_task(
        &self,
        p: &Principal,
        tenant: &str,
        incident: IncidentId,
        kind: TaskType,
        target: Option<Entity>,
        rationale: &str,
    ) -> Result<Task> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        kind.check_target(target.as_ref())
            .map_err(ServiceError::Invalid)?;
        if rationale.trim().is_empty() {
            return Err(ServiceError::Invalid("rationale: say why".into()));
        }
        let (record, _, _) = self.stored_incident(t.id, incident).await?;
        let now = self.clock.now();
        let sla = t.settings.sla.for_severity(record.incident.severity());
        let (mode, mode_reason) = mode_for(&t.settings, kind, target.as_ref());
        let task = Task {
            id: TaskId::new_at(now),
            tenant_id: t.id,
            incident_id: incident,
            kind,
            target,
            rationale: rationale.trim().to_owned(),
            mode,
            mode_reason,
            status: TaskStatus::Open,
            note: None,
            due_at: now.checked_add(sla.complete).unwrap_or(now),
            created_at: now,
            created_by: p.actor().to_text(),
            updated_at: now,
        };
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "task.create",
            Some(t.id),
            format!("task:{}", task.id),
            json!({"incident": incident, "kind": kind, "mode": mode, "due_at": task.due_at}),
        );
        self.store
            .put_task(
                &task,
                &format!("created ({mode}: {})", task.mode_reason),
                &task.created_by,
                audit,
            )
            .await?;
        // A task added to a response already in the customer's hands starts
        // the complete timer if none runs (publishing started none when no
        // task was open).
        if record.incident.status == vigil_core::incident::IncidentStatus::AwaitingCustomer {
            self.start_sla(p, &t, &record, &[vigil_core::sla::SlaKind::Complete])
                .await?;
        }
        self.publish(crate::LiveEvent::task(&task));
        Ok(task)
    }

    /// An incident's tasks.
    pub async fn tasks(
        &self,
        p: &Principal,
        tenant: &str,
        incident: IncidentId,
    ) -> Result<Vec<Task>> {
        self.incident(p, tenant, incident).await?;
        Ok(self.store.tasks(incident).await?)
    }

    /// One task with its history.
    pub async fn task(&self, p: &Principal, tenant: &str, id: TaskId) -> Result<TaskView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&t), true)
            .await?;
        let (task, history) =
            self.store
                .task(t.id, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "task",
                    key: id.to_string(),
                })?;
        let executions = self.store.executions(id).await?;
        Ok(TaskView {
            task,
            history,
            executions,
        })
    }

    /// Move a task on. The experts may make any move the lifecycle allows;
    /// the customer's admins and responders act on guided tasks: start,
    /// complete (with an optional note) or skip (with a reason).
    pub async fn update_task(
        &self,
        p: &Principal,
        tenant: &str,
        id: TaskId,
        to: TaskStatus,
        note: Option<&str>,
    ) -> Result<TaskView> {
        let t = self.load_tenant(tenant).await?;
        let expert = self
            .authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await;
        let expert = match expert {
            Ok(()) => true,
            Err(ServiceError::Forbidden(_)) => {
                self.authorize(p, Permission::CommentIncidents, Some(&t), false)
                    .await?;
                false
            }
            Err(e) => return Err(e),
        };
        let (mut task, _) =
            self.store
                .task(t.id, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "task",
                    key: id.to_string(),
                })?;
        if !expert && (task.mode == TaskMode::Managed || to == TaskStatus::Failed) {
            return Err(ServiceError::Forbidden(
                "act on a managed task (the experts carry those out)",
            ));
        }
        check_task_status(task.status, to, note).map_err(ServiceError::Refused)?;
        let now = self.clock.now();
        let from = task.status;
        task.status = to;
        task.note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        task.updated_at = now;
        let change = match &task.note {
            Some(n) => format!("{from} → {to}: {n}"),
            None => format!("{from} → {to}"),
        };
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "task.update",
            Some(t.id),
            format!("task:{id}"),
            json!({"from": from, "to": to}),
        );
        self.store
            .put_task(&task, &change, &p.actor().to_text(), audit)
            .await?;
        self.publish(crate::LiveEvent::task(&task));
        self.acknowledged_by_action(
            p,
            &t,
            task.incident_id,
            vigil_core::sla::StopReason::TaskAction,
        )
        .await?;
        if !to.is_open() {
            self.return_when_done(&p.actor(), &t, task.incident_id)
                .await?;
        }
        self.task(p, tenant, id).await
    }

    /// When every task of an incident awaiting the customer is closed, the
    /// incident goes back to the experts to verify and resolve.
    pub(crate) async fn return_when_done(
        &self,
        actor: &vigil_core::audit::Actor,
        t: &vigil_core::tenant::Tenant,
        incident: IncidentId,
    ) -> Result<()> {
        let tasks = self.store.tasks(incident).await?;
        if tasks.iter().any(|t| t.status.is_open()) {
            return Ok(());
        }
        self.stop_sla(
            actor,
            t,
            incident,
            vigil_core::sla::SlaKind::Complete,
            vigil_core::sla::StopReason::TasksClosed,
        )
        .await?;
        let Some((mut record, _, _)) = self.store.incident(t.id, incident).await? else {
            return Ok(());
        };
        if record.incident.status != vigil_core::incident::IncidentStatus::AwaitingCustomer {
            return Ok(());
        }
        let expected = record.version;
        let now = self.clock.now();
        record.incident.status = vigil_core::incident::IncidentStatus::InProgress;
        record.assigned_to = Some("experts".into());
        record.updated_at = now;
        let activity = vec![crate::IncidentActivity {
            incident,
            at: now,
            actor: "system".into(),
            action: "status".into(),
            details: "awaiting_customer → in_progress: every task is closed; back to the experts to verify and resolve".into(),
        }];
        let audit = AuditEntry::new(
            now,
            actor,
            "incident.returned",
            Some(t.id),
            format!("incident:{incident}"),
            json!({"reason": "every task closed"}),
        );
        self.store
            .update_incident(&record, expected, &activity, false, audit)
            .await?;
        self.publish(crate::LiveEvent::incident(t.id, incident));
        Ok(())
    }

    /// Publish the response: the latest summary version is published, the
    /// incident goes to `awaiting_customer`, is assigned to the customer, its
    /// SLA timers start (acknowledge; complete when a task is open), and
    /// the tenant's incident contacts are notified on every channel.
    pub async fn publish_response(
        &self,
        p: &Principal,
        tenant: &str,
        incident: IncidentId,
    ) -> Result<crate::IncidentView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        self.publish_summary(p, tenant, incident).await?;
        let view = self.incident(p, tenant, incident).await?;
        if view.record.incident.status == vigil_core::incident::IncidentStatus::AwaitingCustomer {
            return Ok(view);
        }
        let change = crate::IncidentChange {
            status: Some(vigil_core::incident::IncidentStatus::AwaitingCustomer),
            assigned_to: Some(Some("customer".into())),
            ..Default::default()
        };
        let view = self.update_incident(p, tenant, incident, change).await?;
        let tasks = self.store.tasks(incident).await?;
        let kinds: &[vigil_core::sla::SlaKind] = if tasks.iter().any(|t| t.status.is_open()) {
            &[
                vigil_core::sla::SlaKind::Acknowledge,
                vigil_core::sla::SlaKind::Complete,
            ]
        } else {
            &[vigil_core::sla::SlaKind::Acknowledge]
        };
        self.start_sla(p, &t, &view.record, kinds).await?;
        self.notify(&t, response_notification(&t, &view, &tasks))
            .await?;
        Ok(view)
    }
}

/// What the incident contacts are told when a response is published: the
/// incident, and each task with its mode and due time.
fn response_notification(
    t: &vigil_core::tenant::Tenant,
    view: &crate::IncidentView,
    tasks: &[Task],
) -> vigil_core::notification::NewNotification {
    use std::fmt::Write as _;
    let i = &view.record.incident;
    let severity = i.severity();
    let mut body = format!(
        "The experts have published their response to incident \"{}\" ({severity}).\n",
        i.title
    );
    let open = |mode: TaskMode| -> Vec<&Task> {
        tasks
            .iter()
            .filter(|t| t.mode == mode && t.status.is_open())
            .collect()
    };
    for (mode, who) in [
        (TaskMode::Guided, "Your team must act on"),
        (TaskMode::Managed, "The experts carry out"),
    ] {
        let list = open(mode);
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(body, "\n{who} {} task(s):", list.len());
        for task in list {
            let target = task
                .target
                .as_ref()
                .map(|e| format!(" on {}", e.value))
                .unwrap_or_default();
            let _ = writeln!(body, "- {}{target}, due {}", task.kind, task.due_at);
        }
    }
    vigil_core::notification::NewNotification {
        kind: vigil_core::notification::NotificationKind::ResponsePublished,
        audience: vigil_core::notification::Audience::IncidentContacts,
        subject: format!("Action required: {} ({severity})", i.title),
        body,
        link: Some(format!("/tenants/{}/incidents/{}", t.slug, i.id)),
        incident: Some(i.id),
    }
}
