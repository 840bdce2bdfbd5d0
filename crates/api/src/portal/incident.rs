//! The incident pages: the list per tenant and the incident page (alerts,
//! entities with verdicts, timeline, process tree, related incidents, the
//! summary editor, tasks, chat, activity log, the major banner and the IR
//! engagement), and the forms it posts. Customers see what the service lets
//! them: published summaries, their tasks, the chat.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use minijinja::{Value, context};
use serde::Deserialize;
use vigil_core::incident::{IncidentId, IncidentStatus};
use vigil_core::major::IrStatus;
use vigil_core::summary::Summary;
use vigil_core::task::{TaskStatus, TaskType};
use vigil_core::{Entity, EntityKind};
use vigil_service::{IncidentChange, IncidentFilter, ProcessNode, ServiceError, draft_from};

use super::page::{PageResult, PortalError, Viewer, redirect};
use super::views::{self, when};
use crate::AppState;

/// Events shown in the timeline (the API pages further).
const TIMELINE_ROWS: u32 = 200;
/// Characters of a raw event shown before "…".
const RAW_CHARS: usize = 600;

fn parse_id<T>(id: &str, what: &str) -> Result<vigil_core::Id<T>, PortalError> {
    id.parse().map_err(|_| PortalError::not_found(what))
}

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, PortalError> {
    f.map(|Form(v)| v)
        .map_err(|e| PortalError::bad_request(e.body_text()))
}

fn incident_url(tenant: &str, id: IncidentId) -> String {
    format!("/t/{tenant}/incidents/{id}")
}

/// The tenant as the page header shows it (name and slug).
pub async fn tenant_header(s: &AppState, v: &Viewer, slug: &str) -> Result<Value, PortalError> {
    let t = s.service.tenant(&v.principal, slug).await?;
    Ok(
        context! { slug => t.slug.to_string(), name => t.name.to_string(), lifecycle => t.lifecycle.to_string() },
    )
}

/// `GET /t/{tenant}/incidents`: provider roles see every incident;
/// customers those with a published response.
pub async fn list(State(s): State<AppState>, v: Viewer, Path(slug): Path<String>) -> PageResult {
    let tenant = tenant_header(&s, &v, &slug).await?;
    let records = s
        .service
        .list_incidents(
            &v.principal,
            &slug,
            IncidentFilter {
                limit: 500,
                ..Default::default()
            },
        )
        .await?;
    let mut rows = Vec::new();
    for r in &records {
        if !v.provider() && summaries(&s, &v, &slug, r.incident.id).await?.is_empty() {
            continue;
        }
        rows.push(views::incident_row(&slug, r));
    }
    v.render(
        "incidents.html",
        "incidents",
        context! { title => "Incidents", tenant, incidents => rows, live => true, live_tenant => slug },
    )
}

fn process(n: &ProcessNode) -> Value {
    context! {
        device => n.device,
        time => when(n.time),
        image => n.image,
        command_line => n.command_line,
        user => n.user,
        children => n.children.iter().map(process).collect::<Vec<_>>(),
    }
}

fn lines(list: &[String]) -> String {
    list.join("\n")
}

fn summary_value(s: &Summary) -> Value {
    context! {
        what_happened => s.what_happened,
        scope_and_impact => s.scope_and_impact,
        root_cause => s.root_cause,
        timeline_highlights => s.timeline_highlights,
        indicators => s.indicators,
        expert_actions => s.expert_actions,
        customer_actions => s.customer_actions,
        timeline_text => lines(&s.timeline_highlights),
        indicators_text => lines(&s.indicators),
        expert_actions_text => lines(&s.expert_actions),
        customer_actions_text => lines(&s.customer_actions),
    }
}

/// The summary versions the viewer may see (none saved yet: none).
async fn summaries(
    s: &AppState,
    v: &Viewer,
    slug: &str,
    id: IncidentId,
) -> Result<Vec<vigil_core::summary::SummaryVersion>, PortalError> {
    match s.service.summary(&v.principal, slug, id).await {
        Ok(view) => Ok(view.versions),
        Err(ServiceError::NotFound {
            what: "summary", ..
        }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The chat thread, or why it is not open yet.
async fn chat(s: &AppState, v: &Viewer, slug: &str, id: IncidentId) -> Result<Value, PortalError> {
    match s.service.incident_messages(&v.principal, slug, id).await {
        Ok(messages) => Ok(context! {
            open => true,
            messages => messages.iter().map(|m| context! {
                id => m.id.to_string(),
                author => m.author,
                side => m.side.to_string(),
                body => m.body,
                at => when(m.created_at),
            }).collect::<Vec<_>>(),
        }),
        Err(ServiceError::Refused(why)) => Ok(context! { open => false, why }),
        Err(e) => Err(e.into()),
    }
}

/// `GET /t/{tenant}/incidents/{id}`
pub async fn show(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
) -> PageResult {
    let id: IncidentId = parse_id(&id, "incident")?;
    let p = &v.principal;
    let view = s.service.incident(p, &slug, id).await?;
    let tenant = tenant_header(&s, &v, &slug).await?;
    let now = s.service.now();
    let i = &view.record.incident;
    let versions = summaries(&s, &v, &slug, id).await?;
    let current = versions.last();
    let tasks = s.service.tasks(p, &slug, id).await?;
    let timers = s.service.incident_sla(p, &slug, id).await?;
    let chat = chat(&s, &v, &slug, id).await?;
    let expert = v.provider();
    let (timeline, tree, related) = if expert {
        let events = s
            .service
            .incident_timeline(p, &slug, id, TIMELINE_ROWS)
            .await?;
        let tree = s.service.incident_process_tree(p, &slug, id).await?;
        let related = s.service.related_incidents(p, &slug, id).await?;
        (
            events
                .iter()
                .map(|e| {
                    let raw: String = e.event.raw.chars().take(RAW_CHARS).collect();
                    context! {
                        time => when(e.event.time),
                        shape => e.event.shape,
                        source => [e.event.product.as_deref(), e.event.service.as_deref(), e.event.category.as_deref()]
                            .into_iter().flatten().collect::<Vec<_>>().join(" / "),
                        entities => e.event.entities.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                        raw,
                        cut => e.event.raw.chars().count() > RAW_CHARS,
                    }
                })
                .collect::<Vec<_>>(),
            tree.iter().map(process).collect::<Vec<_>>(),
            related
                .iter()
                .filter(|r| r.incident.id != id)
                .map(|r| views::incident_row(&slug, r))
                .collect::<Vec<_>>(),
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let editor = if expert {
        let draft = current.map_or_else(|| draft_from(&view), |c| c.summary.clone());
        Some(summary_value(&draft))
    } else {
        None
    };
    let status_moves: Vec<String> = if expert {
        i.status
            .successors()
            .iter()
            .map(ToString::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let major = view.record.major.as_ref().filter(|m| m.major).map(|m| {
        context! {
            criteria => m.criteria.iter().map(|c| format!("{}: {}", c.criterion, c.summary)).collect::<Vec<_>>(),
            set_by => m.set_by,
            reason => m.reason,
            at => when(m.changed_at),
        }
    });
    let engagement = view.record.ir_engagement.as_ref().map(|e| {
        context! {
            status => e.status.to_string(),
            provider => e.provider,
            requested => when(e.requested_at),
            engaged => e.engaged_at.map(when),
            closed => e.closed_at.map(when),
            notes => e.notes.iter().map(|n| context! { at => when(n.at), author => n.author, text => n.text }).collect::<Vec<_>>(),
            moves => e.status.successors().iter().map(ToString::to_string).collect::<Vec<_>>(),
        }
    });
    let task_kinds: Vec<(String, String)> = TaskType::ALL
        .iter()
        .map(|k| (k.to_string(), k.to_string().replace('_', " ")))
        .collect();
    let ctx = context! {
        title => i.title,
        tenant,
        live => true,
        live_incident => id.to_string(),
        incident => context! {
            url => incident_url(&slug, id),
            awaiting => i.status == IncidentStatus::AwaitingCustomer,
            classification => view.record.classification,
            determination => view.record.determination,
            tactics => i.tactics.join(", ").replace('_', " "),
            techniques => i.techniques.join(", "),
            ..views::incident_row(&slug, &view.record)
        },
        expert,
        major,
        engagement,
        alerts => view.alerts.iter().map(|a| context! {
            rule => a.rule_title,
            severity => a.severity.to_string(),
            source => a.source,
            count => a.count,
            first => when(a.first_activity),
            last => when(a.last_activity),
            techniques => a.techniques.join(", "),
        }).collect::<Vec<_>>(),
        entities => i.entities.iter().map(|e| views::entity(e, &view.verdicts)).collect::<Vec<_>>(),
        timeline,
        tree,
        related,
        summary => current.map(|c| context! {
            version => c.version,
            published => c.published,
            author => c.author,
            at => when(c.at),
            ..summary_value(&c.summary)
        }),
        versions => versions.len(),
        editor,
        status_moves,
        tasks => tasks.iter().map(|t| views::task(&v, t, now)).collect::<Vec<_>>(),
        task_kinds,
        targets => i.entities.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        clocks => timers.iter().map(|t| views::sla(t, now)).collect::<Vec<_>>(),
        chat,
        activity => view.activity.iter().rev().map(|a| context! {
            at => when(a.at), actor => a.actor, action => a.action, details => a.details,
        }).collect::<Vec<_>>(),
    };
    v.render("incident.html", "incidents", ctx)
}

#[derive(Debug, Deserialize)]
pub struct SummaryForm {
    csrf: String,
    /// `draft` (save) or `publish` (save and publish the response).
    action: String,
    what_happened: String,
    #[serde(default)]
    scope_and_impact: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    timeline_highlights: String,
    #[serde(default)]
    indicators: String,
    #[serde(default)]
    expert_actions: String,
    #[serde(default)]
    customer_actions: String,
}

fn list_of(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

/// `POST /t/{tenant}/incidents/{id}/summary`: save the edited summary as a
/// draft, or save it and publish the response (the incident goes to the
/// customer; see `Service::publish_response`).
pub async fn save_summary(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<SummaryForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    let summary = Summary {
        what_happened: f.what_happened.trim().to_owned(),
        scope_and_impact: f.scope_and_impact.trim().to_owned(),
        root_cause: f.root_cause.trim().to_owned(),
        timeline_highlights: list_of(&f.timeline_highlights),
        indicators: list_of(&f.indicators),
        expert_actions: list_of(&f.expert_actions),
        customer_actions: list_of(&f.customer_actions),
    };
    s.service
        .save_summary(&v.principal, &slug, id, summary, false)
        .await?;
    if f.action == "publish" {
        s.service.publish_response(&v.principal, &slug, id).await?;
    }
    Ok(redirect(&format!("{}#summary", incident_url(&slug, id))))
}

#[derive(Debug, Deserialize)]
pub struct TaskForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    target: String,
    rationale: String,
}

/// `kind:value` as the target select sends it.
fn target_of(text: &str) -> Result<Option<Entity>, PortalError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (kind, value) = text
        .split_once(':')
        .ok_or_else(|| PortalError::bad_request(format!("target {text:?}: expected kind:value")))?;
    let kind: EntityKind = kind
        .parse()
        .map_err(|_| PortalError::bad_request(format!("target {text:?}: unknown entity kind")))?;
    Ok(Some(Entity::new(kind, value)))
}

/// `POST /t/{tenant}/incidents/{id}/tasks`
pub async fn create_task(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<TaskForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    let kind: TaskType = f
        .kind
        .parse()
        .map_err(|_| PortalError::bad_request(format!("task type {:?} is unknown", f.kind)))?;
    let target = target_of(&f.target)?;
    s.service
        .create_task(&v.principal, &slug, id, kind, target, &f.rationale)
        .await?;
    Ok(redirect(&format!("{}#tasks", incident_url(&slug, id))))
}

#[derive(Debug, Deserialize)]
pub struct TaskMoveForm {
    csrf: String,
    to: String,
    #[serde(default)]
    note: String,
}

/// `POST /t/{tenant}/tasks/{task}`: start, complete (with an optional
/// note) or skip (with a reason).
pub async fn move_task(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, task)): Path<(String, String)>,
    f: Result<Form<TaskMoveForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let task = parse_id(&task, "task")?;
    let to: TaskStatus =
        f.to.parse()
            .map_err(|_| PortalError::bad_request(format!("task status {:?} is unknown", f.to)))?;
    let note = Some(f.note.trim()).filter(|n| !n.is_empty());
    let moved = s
        .service
        .update_task(&v.principal, &slug, task, to, note)
        .await?;
    Ok(redirect(&format!(
        "{}#tasks",
        incident_url(&slug, moved.task.incident_id)
    )))
}

#[derive(Debug, Deserialize)]
pub struct ChatForm {
    csrf: String,
    body: String,
}

/// `POST /t/{tenant}/incidents/{id}/messages`: from htmx, the chat list
/// again; from a plain form, back to the page.
pub async fn post_message(
    State(s): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<ChatForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    s.service
        .post_incident_message(&v.principal, &slug, id, &f.body)
        .await?;
    if headers.contains_key("hx-request") {
        let chat = chat(&s, &v, &slug, id).await?;
        return v.render("chat.html", "incidents", context! { chat });
    }
    Ok(redirect(&format!("{}#chat", incident_url(&slug, id))))
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

/// `POST /t/{tenant}/incidents/{id}/status`: the experts move an incident
/// on (the lifecycle decides which moves are allowed).
pub async fn set_status(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<StatusForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    let status: IncidentStatus = f
        .status
        .parse()
        .map_err(|_| PortalError::bad_request(format!("status {:?} is unknown", f.status)))?;
    let change = IncidentChange {
        status: Some(status),
        ..Default::default()
    };
    s.service
        .update_incident(&v.principal, &slug, id, change)
        .await?;
    Ok(redirect(&incident_url(&slug, id)))
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /t/{tenant}/incidents/{id}/acknowledge`: the customer has seen
/// the response (stops the acknowledge clock).
pub async fn acknowledge(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<CsrfOnly>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    s.service
        .acknowledge_response(&v.principal, &slug, id)
        .await?;
    Ok(redirect(&incident_url(&slug, id)))
}

#[derive(Debug, Deserialize)]
pub struct IrForm {
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
}

/// `POST /t/{tenant}/incidents/{id}/ir`: move the IR engagement on and/or
/// add a note.
pub async fn ir_engagement(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<IrForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    let to = match f.to.trim() {
        "" => None,
        t => Some(t.parse::<IrStatus>().map_err(|_| {
            PortalError::bad_request(format!("IR engagement status {t:?} is unknown"))
        })?),
    };
    let note = Some(f.note.trim()).filter(|n| !n.is_empty());
    s.service
        .update_ir_engagement(&v.principal, &slug, id, to, note)
        .await?;
    Ok(redirect(&format!("{}#major", incident_url(&slug, id))))
}

#[derive(Debug, Deserialize)]
pub struct VerdictForm {
    csrf: String,
    /// `kind:value`
    entity: String,
    verdict: String,
}

/// `POST /t/{tenant}/incidents/{id}/verdict`: an analyst's verdict on one
/// of the incident's entities (kept per tenant, shown wherever it appears).
pub async fn set_verdict(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<VerdictForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: IncidentId = parse_id(&id, "incident")?;
    let entity =
        target_of(&f.entity)?.ok_or_else(|| PortalError::bad_request("entity: say which"))?;
    let verdict: vigil_core::Verdict = f
        .verdict
        .parse()
        .map_err(|_| PortalError::bad_request(format!("verdict {:?} is unknown", f.verdict)))?;
    s.service
        .set_verdict(&v.principal, &slug, &entity, verdict)
        .await?;
    Ok(redirect(&format!("{}#entities", incident_url(&slug, id))))
}
