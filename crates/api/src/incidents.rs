//! `/api/v1/tenants/{tenant}/incidents`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_core::Severity;
use vigil_service::{IncidentFilter, IncidentRecord};

use crate::error::ApiError;
use crate::{AppState, Caller};

use crate::paging::{bad, cursor, parse_cursor};

/// Filters of the incident list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// Comma-separated statuses (default: every status but `redirected`).
    pub status: Option<String>,
    /// Comma-separated severities.
    pub severity: Option<String>,
    /// Activity at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Words in the title.
    pub text: Option<String>,
    /// `analyst:EMAIL`, `experts`, `customer`, or `none` (unassigned).
    pub assigned: Option<String>,
    /// A classification, or `none` (unclassified).
    pub classification: Option<String>,
    /// `activity` (newest first, the default) or `severity` (highest
    /// first; one page only, without a cursor).
    pub sort: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
    /// `next` from the previous page.
    pub cursor: Option<String>,
}

fn incident_json(r: &IncidentRecord) -> Value {
    let i = &r.incident;
    json!({
        "id": i.id,
        "title": i.title,
        "severity": i.severity(),
        "status": i.status,
        "assigned_to": r.assigned_to,
        "classification": r.classification,
        "determination": r.determination,
        "tags": r.tags,
        "alert_count": i.alert_count,
        "entities": i.entities,
        "tactics": i.tactics,
        "techniques": i.techniques,
        "first_activity": i.first_activity,
        "last_activity": i.last_activity,
        "redirected_to": i.redirected_to,
        "merged": i.merged,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        // PRODUCT.md §11: major incidents are out of MDR scope.
        "major": r.major.as_ref().is_some_and(|m| m.major),
        "ir_recommended": r.major.as_ref().is_some_and(|m| m.ir_recommended),
        "out_of_mdr_scope": r.major.as_ref().is_some_and(|m| m.major),
        "major_criteria": r.major.as_ref().map(|m| m.criteria.as_slice()).unwrap_or_default(),
        "major_reason": r.major.as_ref().and_then(|m| m.reason.clone()),
        "ir_engagement": r.ir_engagement,
    })
}

fn cursor_of(r: &IncidentRecord) -> String {
    cursor(r.incident.last_activity, r.incident.id)
}

/// The tenant's incidents, newest activity first: `{"items":[…],"next":…}`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents", tag = "incidents", operation_id = "list_incidents",
    params(("tenant" = String, Path, description = "The tenant's slug"), IncidentQuery),
    responses((status = 200, description = "`{\"items\":[incident…],\"next\":cursor|null}`", body = serde_json::Value),
               (status = 400, description = "A filter is invalid (named)"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<IncidentQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let statuses = match &q.status {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<vigil_core::incident::IncidentStatus>()
                    .map(|st| st.as_str().to_owned())
                    .map_err(|e| bad("status", e))
            })
            .collect::<Result<_, _>>()?,
    };
    let severities = match &q.severity {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| s.trim().parse::<Severity>().map_err(|e| bad("severity", e)))
            .collect::<Result<_, _>>()?,
    };
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = q
        .limit
        .unwrap_or(50)
        .clamp(1, vigil_service::MAX_INCIDENT_PAGE);
    let filter = IncidentFilter {
        statuses,
        include_redirected: false,
        severities,
        since: q
            .since
            .as_deref()
            .map(|t| t.parse().map_err(|e| bad("since", e)))
            .transpose()?,
        text: q.text.clone(),
        assigned_to: q.assigned.clone(),
        by_severity: match q.sort.as_deref() {
            None | Some("activity") => false,
            Some("severity") => true,
            Some(other) => {
                return Err(bad(
                    "sort",
                    format!("{other:?}: expected activity or severity"),
                ));
            }
        },
        classification: match q.classification.as_deref() {
            None => None,
            Some("none") => Some("none".to_owned()),
            Some(c) => Some(
                c.parse::<vigil_core::incident::Classification>()
                    .map_err(|e| bad("classification", e))?
                    .as_str()
                    .to_owned(),
            ),
        },
        after,
        limit,
    };
    let items = s.service.list_incidents(&p, &tenant, filter).await?;
    let next = (items.len() == limit as usize && q.sort.as_deref() != Some("severity"))
        .then(|| items.last().map(cursor_of))
        .flatten();
    Ok(Json(json!({
        "items": items.iter().map(incident_json).collect::<Vec<_>>(),
        "next": next,
    })))
}

/// One incident with its alerts and its activity log (who, when, what,
/// why: the correlation names the entity that linked each alert).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}", tag = "incidents", operation_id = "get_incident",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "The incident, `alerts` and `activity`", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let view = s.service.incident(&p, &tenant, id).await?;
    Ok(Json(view_json(&view)))
}

pub(crate) fn view_json(view: &vigil_service::IncidentView) -> Value {
    let mut v = incident_json(&view.record);
    v["alerts"] = json!(view.alerts);
    v["activity"] = json!(view.activity);
    v["comments"] = json!(view.comments);
    v["verdicts"] = Value::Array(
        view.verdicts
            .iter()
            .map(|(e, verdict)| json!({"entity": e, "verdict": verdict}))
            .collect(),
    );
    v
}

pub(crate) fn incident_id(id: &str) -> Result<vigil_core::incident::IncidentId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id:?} not found"),
        )
    })
}

/// The body of `PATCH /api/v1/tenants/{tenant}/incidents/{id}`: what to
/// change; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// `new`, `active`, `in_progress`, `awaiting_customer`, `resolved`.
    pub status: Option<String>,
    /// `analyst:EMAIL`, `experts` or `customer`.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assigned_to: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub classification: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub determination: Option<Option<String>>,
    /// Overrides the alerts' highest severity; `null` goes back to it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub severity: Option<Option<String>>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
}

/// `null` and absent told apart.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

fn parse_opt<T: std::str::FromStr>(
    field: &str,
    v: Option<Option<String>>,
) -> Result<Option<Option<T>>, ApiError>
where
    T::Err: std::fmt::Display,
{
    v.map(|inner| {
        inner
            .map(|text| {
                text.parse::<T>().map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("{field}: {e}"))
                })
            })
            .transpose()
    })
    .transpose()
}

/// Triage an incident: status, assignment, classification and
/// determination, severity, tags. Every change goes to its activity log.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/incidents/{id}", tag = "incidents", operation_id = "update_incident",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = IncidentPatch,
    responses((status = 200, description = "The incident after the change", body = serde_json::Value),
               (status = 400, description = "An invalid value, or a determination outside its classification (named)"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "The lifecycle refuses the status move (the allowed moves are named)")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<IncidentPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let change = vigil_service::IncidentChange {
        status: b
            .status
            .as_deref()
            .map(|t| {
                t.parse().map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("status: {e}"))
                })
            })
            .transpose()?,
        assigned_to: b.assigned_to,
        classification: parse_opt("classification", b.classification)?,
        determination: parse_opt("determination", b.determination)?,
        severity: parse_opt("severity", b.severity)?,
        add_tags: b.add_tags,
        remove_tags: b.remove_tags,
    };
    let view = s.service.update_incident(&p, &tenant, id, change).await?;
    Ok(Json(view_json(&view)))
}

/// The body of `POST …/incidents/{id}/comments`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Up to 30,000 characters.
    pub text: String,
    /// The experts' own note (provider roles only): customer roles never
    /// see it.
    #[serde(default)]
    pub internal: bool,
}

/// Comment on an incident (the experts and the customer's SOC).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/comments", tag = "incidents", operation_id = "comment_incident",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = NewComment,
    responses((status = 201, description = "The comment", body = serde_json::Value),
               (status = 400, description = "Empty or over 30,000 characters"),
               (status = 403, description = "Your role may not comment, or not internally"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn comment(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<NewComment>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let c = s
        .service
        .add_comment(&p, &tenant, id, &b.text, b.internal)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

/// How many timeline events to return.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// At most this many (default 500, at most 5000).
    pub limit: Option<u32>,
}

/// The stored events naming the incident's key entities, from an hour
/// before its first activity to an hour after its last, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/timeline", tag = "incidents", operation_id = "incident_timeline",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id"), TimelineQuery),
    responses((status = 200, description = "`{\"items\":[event…]}`: time, shape, logsource, entities, the record as received", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn timeline(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let id = incident_id(&id)?;
    let events = s
        .service
        .incident_timeline(&p, &tenant, id, q.limit.unwrap_or(500))
        .await?;
    let items: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "time": e.event.time,
                "shape": e.event.shape,
                "logsource": {"product": e.event.product, "service": e.event.service, "category": e.event.category},
                "entities": e.event.entities,
                "raw": serde_json::from_str::<Value>(&e.event.raw).unwrap_or(Value::String(e.event.raw.clone())),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// The processes started on the incident's devices around it, as trees.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/process-tree", tag = "incidents", operation_id = "incident_process_tree",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[process…]}`, each with its `children`", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn process_tree(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let roots = s.service.incident_process_tree(&p, &tenant, id).await?;
    Ok(Json(json!({ "items": roots })))
}

/// Incidents, in any status, sharing a key entity with this one.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/related", tag = "incidents", operation_id = "related_incidents",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[incident…]}`", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn related(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let items = s.service.related_incidents(&p, &tenant, id).await?;
    Ok(Json(
        json!({ "items": items.iter().map(incident_json).collect::<Vec<_>>() }),
    ))
}

/// The body of `POST …/incidents/{id}/merge`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The incident to merge with this one.
    pub from: String,
}

/// Merge another incident with this one by hand: the older survives, the
/// other is `redirected` to it with its alerts.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/merge", tag = "incidents", operation_id = "merge_incidents",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = MergeBody,
    responses((status = 200, description = "The surviving incident", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "Refused: the same incident, or one already redirected (named)")))]
pub async fn merge(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<MergeBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let from = incident_id(&b.from)?;
    let view = s.service.merge_incidents(&p, &tenant, id, from).await?;
    Ok(Json(view_json(&view)))
}

/// The body of `POST /api/v1/tenants/{tenant}/verdicts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    /// `kind:value`, e.g. `file_hash:9f86d0…`.
    pub entity: String,
    /// `malicious`, `suspicious`, `clean` or `unknown`.
    pub verdict: String,
}

/// Set an analyst's verdict on an entity of the tenant.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/verdicts", tag = "incidents", operation_id = "set_verdict",
    params(("tenant" = String, Path, description = "The tenant's slug")),
    request_body = VerdictBody,
    responses((status = 204, description = "Set"),
               (status = 400, description = "Not kind:value, or not a verdict"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such tenant, or not yours")))]
pub async fn verdict(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    body: Result<Json<VerdictBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(b) = body?;
    let entity: vigil_core::Entity = b
        .entity
        .parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("entity: {e}")))?;
    let verdict: vigil_core::Verdict = b
        .verdict
        .parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("verdict: {e}")))?;
    s.service.set_verdict(&p, &tenant, &entity, verdict).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST …/incidents/{id}/alerts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveAlert {
    /// The alert to move into this incident.
    pub alert_id: String,
}

/// Move an alert into this incident by hand (from wherever it is).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/alerts", tag = "incidents", operation_id = "move_alert",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = MoveAlert,
    responses((status = 200, description = "The incident after the move", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident, alert or tenant, or not yours"),
               (status = 409, description = "Refused: already there, or the incident is closed (named)")))]
pub async fn move_alert(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<MoveAlert>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let alert = b.alert_id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("alert {:?} not found", b.alert_id),
        )
    })?;
    let view = s.service.move_alert(&p, &tenant, id, alert).await?;
    Ok(Json(view_json(&view)))
}

/// The body of `POST …/incidents/{id}/tags`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    /// 1 to 64 characters; an incident has at most 50.
    pub tag: String,
}

/// Tag an incident (a tag it already has answers 400: nothing to change).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/tags", tag = "incidents", operation_id = "add_incident_tag",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = TagBody,
    responses((status = 200, description = "The incident after the change", body = serde_json::Value),
               (status = 400, description = "An invalid tag, too many tags, or one it already has"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn add_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<TagBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let change = vigil_service::IncidentChange {
        add_tags: vec![b.tag],
        ..Default::default()
    };
    let view = s.service.update_incident(&p, &tenant, id, change).await?;
    Ok(Json(view_json(&view)))
}

/// Remove a tag from an incident.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/incidents/{id}/tags/{tag}", tag = "incidents", operation_id = "remove_incident_tag",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id"),
           ("tag" = String, Path, description = "The tag")),
    responses((status = 200, description = "The incident after the change", body = serde_json::Value),
               (status = 400, description = "The incident has no such tag"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn remove_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id, tag)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let change = vigil_service::IncidentChange {
        remove_tags: vec![tag],
        ..Default::default()
    };
    let view = s.service.update_incident(&p, &tenant, id, change).await?;
    Ok(Json(view_json(&view)))
}

/// The incident's investigation summary: provider roles see every version,
/// drafts included; customer roles see published versions only (404 until
/// one is published).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/summary", tag = "summaries", operation_id = "get_summary",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"current\":version,\"versions\":[…]}`", body = serde_json::Value),
               (status = 404, description = "No such incident, nothing you may see yet, or not yours")))]
pub async fn summary(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(json!(s.service.summary(&p, &tenant, id).await?)))
}

/// The body of `PUT …/summary`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveSummary {
    /// what_happened, scope_and_impact, root_cause, timeline_highlights,
    /// indicators, expert_actions, customer_actions.
    #[schema(value_type = Object)]
    pub summary: Value,
    /// Publish this version to the customer (default: save as a draft).
    #[serde(default)]
    pub publish: bool,
}

/// Save a new version of the summary: a draft, or published.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/incidents/{id}/summary", tag = "summaries", operation_id = "save_summary",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = SaveSummary,
    responses((status = 200, description = "The version saved", body = serde_json::Value),
               (status = 400, description = "A section is missing or too long (named)"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn save_summary(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<SaveSummary>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let summary: vigil_core::summary::Summary = serde_json::from_value(b.summary)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("summary: {e}")))?;
    let v = s
        .service
        .save_summary(&p, &tenant, id, summary, b.publish)
        .await?;
    Ok(Json(json!(v)))
}

/// Draft the summary from the incident's evidence (a new draft version).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/summary/draft", tag = "summaries", operation_id = "draft_summary",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "The draft", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn draft_summary(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(json!(s.service.draft_summary(&p, &tenant, id).await?)))
}

/// Publish the latest version to the customer.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/summary/publish", tag = "summaries", operation_id = "publish_summary",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "The published version", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "There is no draft to publish")))]
pub async fn publish_summary(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(json!(
        s.service.publish_summary(&p, &tenant, id).await?
    )))
}

/// The body of `POST …/incidents/{id}/tasks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// `isolate_device`, `disable_user`, `block_indicator`, `free_text`, …
    pub kind: String,
    /// `kind:value`, e.g. `device:ws1`; none for free-text tasks.
    pub target: Option<String>,
    pub rationale: String,
}

fn bad_body(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("{field}: {e}"))
}

/// Create a response task; it is managed only when the tenant authorised
/// managed response and the target is covered and not excluded, and due by
/// the tenant's SLA.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/tasks", tag = "tasks", operation_id = "create_task",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    request_body = NewTask,
    responses((status = 201, description = "The task", body = serde_json::Value),
               (status = 400, description = "Unknown type, a target of the wrong kind, no rationale (named)"),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn create_task(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
    body: Result<Json<NewTask>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = body?;
    let id = incident_id(&id)?;
    let kind: vigil_core::task::TaskType = b.kind.parse().map_err(|e| bad_body("kind", e))?;
    let target = b
        .target
        .as_deref()
        .map(|t| {
            t.parse::<vigil_core::Entity>()
                .map_err(|e| bad_body("target", e))
        })
        .transpose()?;
    let task = s
        .service
        .create_task(&p, &tenant, id, kind, target, &b.rationale)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(task))))
}

/// The incident's tasks.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/incidents/{id}/tasks", tag = "tasks", operation_id = "list_tasks",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "`{\"items\":[task…]}`", body = serde_json::Value),
               (status = 404, description = "No such incident or tenant, or not yours")))]
pub async fn list_tasks(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    Ok(Json(
        json!({ "items": s.service.tasks(&p, &tenant, id).await? }),
    ))
}

pub(crate) fn task_id(id: &str) -> Result<vigil_core::task::TaskId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("task {id:?} not found"),
        )
    })
}

/// One task with the history of every change.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/tasks/{task}", tag = "tasks", operation_id = "get_task",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("task" = String, Path, description = "The task's id")),
    responses((status = 200, description = "`{\"task\":…,\"history\":[[time, actor, change]…]}`", body = serde_json::Value),
               (status = 404, description = "No such task or tenant, or not yours")))]
pub async fn show_task(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, task)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let task = task_id(&task)?;
    Ok(Json(json!(s.service.task(&p, &tenant, task).await?)))
}

/// The body of `PATCH /api/v1/tenants/{tenant}/tasks/{task}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChange {
    /// `in_progress`, `completed`, `failed` (experts) or `skipped`.
    pub status: String,
    /// A completion note, or the reason for a skip (required) or failure.
    pub note: Option<String>,
}

/// Move a task on: experts any task, the customer's admins and responders
/// their guided tasks (start, complete, skip with a reason).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/tasks/{task}", tag = "tasks", operation_id = "update_task",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("task" = String, Path, description = "The task's id")),
    request_body = TaskChange,
    responses((status = 200, description = "The task with its history", body = serde_json::Value),
               (status = 400, description = "Unknown status"),
               (status = 403, description = "Your role may not act on this task"),
               (status = 404, description = "No such task or tenant, or not yours"),
               (status = 409, description = "The lifecycle refuses the move, or a skip without a reason (named)")))]
pub async fn update_task(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, task)): Path<(String, String)>,
    body: Result<Json<TaskChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    let task = task_id(&task)?;
    let to: vigil_core::task::TaskStatus = b.status.parse().map_err(|e| bad_body("status", e))?;
    let view = s
        .service
        .update_task(&p, &tenant, task, to, b.note.as_deref())
        .await?;
    Ok(Json(json!(view)))
}

/// Publish the response: the latest summary version goes to the customer,
/// the incident to `awaiting_customer`, assigned to the customer.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/incidents/{id}/response/publish", tag = "tasks", operation_id = "publish_response",
    params(("tenant" = String, Path, description = "The tenant's slug"),
           ("id" = String, Path, description = "The incident's id")),
    responses((status = 200, description = "The incident after publishing", body = serde_json::Value),
               (status = 403, description = "Your role may not work incidents"),
               (status = 404, description = "No such incident or tenant, or not yours"),
               (status = 409, description = "No summary to publish, or the lifecycle refuses the move (named)")))]
pub async fn publish_response(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = incident_id(&id)?;
    let view = s.service.publish_response(&p, &tenant, id).await?;
    Ok(Json(view_json(&view)))
}
