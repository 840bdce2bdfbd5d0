//! Executing managed tasks through the tenant's response connector: the
//! expert's request, the delivery attempts and their retries (driven by due
//! times in the store, so they survive restarts), and the connector's
//! signed callback with the outcome.

use std::future::Future;
use std::time::Duration;

use serde_json::json;
use vigil_core::audit::{Actor, AuditEntry};
use vigil_core::identity::{Permission, Principal};
use vigil_core::task::{
    Execution, ExecutionOutcome, Task, TaskId, TaskMode, TaskStatus, check_task_status, retry_delay,
};
use vigil_core::tenant::{ResponseConnector, Tenant, TenantSlug};

use crate::connectors::{Sent, TaskPayload};
use crate::{Result, Service, ServiceError, TaskView};

/// Pending attempts taken per round of [`Service::run_due_executions`].
const DUE_BATCH: u32 = 50;

/// What a callback did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallbackReport {
    pub task: Task,
    pub executions: Vec<Execution>,
}

/// The body a connector calls back with.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    status: String,
    #[serde(default)]
    detail: Option<String>,
}

impl Service {
    /// Execute a managed, open task through the tenant's connector. The
    /// manual connector records that an expert took it up; the signed
    /// webhook schedules a delivery and makes the first attempt now.
    pub async fn execute_task(&self, p: &Principal, tenant: &str, id: TaskId) -> Result<TaskView> {
        let t = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::WorkIncidents, Some(&t), false)
            .await?;
        let (mut task, _) =
            self.store
                .task(t.id, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "task",
                    key: id.to_string(),
                })?;
        if task.mode == TaskMode::Guided {
            return Err(ServiceError::Refused(format!(
                "task {id} is guided ({}): the customer carries it out, so it cannot be executed through a connector",
                task.mode_reason
            )));
        }
        if task.status != TaskStatus::Open {
            return Err(ServiceError::Refused(format!(
                "task {id} is {}: only open tasks can be executed",
                task.status
            )));
        }
        let now = self.clock.now();
        let connector = self.connectors.for_setting(&t.settings.response_connector);
        let mut line = Execution {
            id: 0,
            task_id: id,
            tenant_id: t.id,
            connector: connector.name().to_owned(),
            attempt: 1,
            at: now,
            outcome: ExecutionOutcome::Pending,
            detail: "scheduled".into(),
            next_attempt_at: Some(now),
        };
        let change = match &t.settings.response_connector {
            ResponseConnector::Manual => {
                let (Sent::Started(detail) | Sent::Delivered(detail) | Sent::Failed(detail)) =
                    connector.send(&t, &self.payload(&t, &task), now).await;
                line.outcome = ExecutionOutcome::Started;
                line.detail = detail;
                line.next_attempt_at = None;
                "open → in_progress: executed by hand (manual connector)"
            }
            ResponseConnector::SignedWebhook { .. } => {
                "open → in_progress: sent to the customer's system (signed webhook)"
            }
        };
        task.status = TaskStatus::InProgress;
        task.updated_at = now;
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "task.execute",
            Some(t.id),
            format!("task:{id}"),
            json!({"connector": line.connector}),
        );
        self.store
            .save_execution(Some((&task, change, &p.actor().to_text())), &[line], audit)
            .await?;
        self.execute_due(Some(id)).await?;
        self.task(p, tenant, id).await
    }

    /// Make every delivery attempt that is due now (all tenants). The
    /// `serve` worker calls this every few seconds; returns how many
    /// attempts were made.
    pub async fn run_due_executions(&self) -> Result<usize> {
        self.execute_due(None).await
    }

    /// [`Service::run_due_executions`] every `every`, until `stop` resolves.
    pub async fn run_connectors(&self, every: Duration, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.run_due_executions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(attempts = n, "made task deliveries"),
                Err(e) => tracing::error!(error = %e, "task deliveries failed; will retry"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// The due attempts, of one task or all, one at a time under the
    /// delivery lock.
    async fn execute_due(&self, only: Option<TaskId>) -> Result<usize> {
        let _held = self.deliveries.lock().await;
        let now = self.clock.now();
        let mut made = 0;
        for line in self.store.due_executions(now, DUE_BATCH).await? {
            if only.is_some_and(|id| id != line.task_id) {
                continue;
            }
            self.execution_attempt(line).await?;
            made += 1;
        }
        Ok(made)
    }

    fn payload(&self, t: &Tenant, task: &Task) -> TaskPayload {
        TaskPayload {
            task_id: task.id.to_string(),
            tenant: t.slug.to_string(),
            incident: task.incident_id.to_string(),
            kind: task.kind.to_string(),
            target: task.target.as_ref().map(ToString::to_string),
            rationale: task.rationale.clone(),
            callback_url: format!(
                "{}/api/v1/tenants/{}/tasks/{}/callback",
                self.public_url, t.slug, task.id
            ),
        }
    }

    /// One pending attempt: send it, record the outcome, schedule the next
    /// attempt or, after the last, fail the task with the reason.
    async fn execution_attempt(&self, mut line: Execution) -> Result<()> {
        let now = self.clock.now();
        let tenant = self.store.tenant_by_id(line.tenant_id).await?;
        let task = self.store.task(line.tenant_id, line.task_id).await?;
        let (Some(t), Some((mut task, _))) = (tenant, task) else {
            return Err(ServiceError::NotFound {
                what: "task",
                key: line.task_id.to_string(),
            });
        };
        line.at = now;
        line.next_attempt_at = None;
        let audit = |action: &str, details: serde_json::Value| {
            AuditEntry::new(
                now,
                &Actor::System,
                action,
                Some(t.id),
                format!("task:{}", task.id),
                details,
            )
        };
        if task.status != TaskStatus::InProgress {
            line.outcome = ExecutionOutcome::Failed;
            line.detail = format!("not sent: the task is {}", task.status);
            let a = audit(
                "task.delivery",
                json!({"attempt": line.attempt, "outcome": "cancelled"}),
            );
            self.store.save_execution(None, &[line], a).await?;
            return Ok(());
        }
        let connector = self.connectors.for_setting(&t.settings.response_connector);
        let sent = if connector.name() == line.connector {
            connector.send(&t, &self.payload(&t, &task), now).await
        } else {
            Sent::Failed(format!(
                "the tenant's connector changed from {} to {}",
                line.connector,
                connector.name()
            ))
        };
        let (outcome, detail) = match sent {
            Sent::Started(d) | Sent::Delivered(d) => (ExecutionOutcome::Delivered, d),
            Sent::Failed(d) => (ExecutionOutcome::Failed, d),
        };
        line.detail = detail.clone();
        if outcome == ExecutionOutcome::Delivered {
            line.outcome = outcome;
            let a = audit(
                "task.delivery",
                json!({"attempt": line.attempt, "outcome": "delivered"}),
            );
            self.store.save_execution(None, &[line], a).await?;
            return Ok(());
        }
        if let Some(wait) = retry_delay(line.attempt) {
            line.outcome = ExecutionOutcome::Error;
            let next = Execution {
                id: 0,
                attempt: line.attempt + 1,
                at: now,
                outcome: ExecutionOutcome::Pending,
                detail: format!("retry after attempt {} failed", line.attempt),
                next_attempt_at: Some(now.checked_add(wait).unwrap_or(now)),
                ..line.clone()
            };
            tracing::warn!(task = %task.id, attempt = line.attempt, error = %detail, "task delivery failed; will retry");
            let a = audit(
                "task.delivery",
                json!({"attempt": line.attempt, "outcome": "error", "next_attempt_at": next.next_attempt_at}),
            );
            self.store.save_execution(None, &[line, next], a).await?;
            return Ok(());
        }
        tracing::warn!(task = %task.id, attempt = line.attempt, error = %detail, "task delivery failed for good");
        line.outcome = ExecutionOutcome::Failed;
        let reason = format!("delivery failed after {} attempts: {detail}", line.attempt);
        let from = task.status;
        task.status = TaskStatus::Failed;
        task.note = Some(reason.clone());
        task.updated_at = now;
        let change = format!("{from} → failed: {reason}");
        let a = audit(
            "task.update",
            json!({"from": from, "to": "failed", "attempts": line.attempt}),
        );
        self.store
            .save_execution(Some((&task, &change, "system")), &[line], a)
            .await?;
        self.return_when_done(&Actor::System, &t, task.incident_id)
            .await
    }

    /// A connector reports a task's outcome. Authenticated only by the
    /// signature headers over the raw body with the tenant's connector
    /// secret (`now` within 5 minutes of the signed timestamp); audited as
    /// `connector:<tenant>`.
    pub async fn task_callback(
        &self,
        tenant: &str,
        task: &str,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CallbackReport> {
        let now = self.clock.now();
        // The same answer for an unknown tenant and one without a signed
        // webhook: nothing is learnt without the secret.
        let not_ours = || {
            ServiceError::BadSignature(
                "no signed-webhook connector with that secret is set up for this tenant".into(),
            )
        };
        let slug = TenantSlug::parse(tenant).map_err(|_| not_ours())?;
        let t = self
            .store
            .tenant_by_slug(&slug)
            .await?
            .ok_or_else(not_ours)?;
        let ResponseConnector::SignedWebhook { secret, .. } = &t.settings.response_connector else {
            return Err(not_ours());
        };
        vigil_core::signature::verify(
            secret.expose().as_bytes(),
            timestamp.unwrap_or_default(),
            signature.unwrap_or_default(),
            body,
            now,
        )
        .map_err(|e| ServiceError::BadSignature(e.to_string()))?;
        let b: CallbackBody = serde_json::from_slice(body)
            .map_err(|e| ServiceError::Invalid(format!("callback body: {e}")))?;
        let to = match b.status.as_str() {
            "completed" => TaskStatus::Completed,
            "failed" => TaskStatus::Failed,
            other => {
                return Err(ServiceError::Invalid(format!(
                    "status: {other:?} is not completed or failed"
                )));
            }
        };
        let detail = b
            .detail
            .map(|d| d.trim().chars().take(2000).collect::<String>())
            .filter(|d| !d.is_empty());
        let id: TaskId = task.parse().map_err(|_| ServiceError::NotFound {
            what: "task",
            key: task.to_owned(),
        })?;
        let (mut task, _) =
            self.store
                .task(t.id, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "task",
                    key: id.to_string(),
                })?;
        if task.mode != TaskMode::Managed {
            return Err(ServiceError::Refused(format!(
                "task {id} is guided: no connector carries it out"
            )));
        }
        check_task_status(task.status, to, detail.as_deref()).map_err(ServiceError::Refused)?;
        let mut lines = self.store.executions(id).await?;
        let attempt = lines.iter().map(|l| l.attempt).max().unwrap_or(1);
        // A retry still pending is not needed any more.
        lines.retain(|l| l.next_attempt_at.is_some());
        for l in &mut lines {
            l.outcome = ExecutionOutcome::Failed;
            l.detail = "not sent: the connector reported the outcome".into();
            l.next_attempt_at = None;
            l.at = now;
        }
        lines.push(Execution {
            id: 0,
            task_id: id,
            tenant_id: t.id,
            connector: "signed_webhook".into(),
            attempt,
            at: now,
            outcome: if to == TaskStatus::Completed {
                ExecutionOutcome::Completed
            } else {
                ExecutionOutcome::Failed
            },
            detail: detail.clone().unwrap_or_else(|| format!("reported {to}")),
            next_attempt_at: None,
        });
        let actor = Actor::Connector(t.slug.to_string());
        let from = task.status;
        task.status = to;
        task.note = detail.clone();
        task.updated_at = now;
        let change = match &detail {
            Some(d) => format!("{from} → {to}: {d} (reported by the connector)"),
            None => format!("{from} → {to} (reported by the connector)"),
        };
        let audit = AuditEntry::new(
            now,
            &actor,
            "task.callback",
            Some(t.id),
            format!("task:{id}"),
            json!({"from": from, "to": to}),
        );
        self.store
            .save_execution(Some((&task, &change, &actor.to_text())), &lines, audit)
            .await?;
        self.return_when_done(&actor, &t, task.incident_id).await?;
        Ok(CallbackReport {
            executions: self.store.executions(id).await?,
            task,
        })
    }
}
