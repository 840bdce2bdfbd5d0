//! Hunting pages (provider roles with `Permission::Hunt`): the editor and
//! its results table, saved and scheduled hunts, hunting summaries, the CSV
//! download and the provider-wide hunt. Queries go through the service's
//! `hunt` / `hunt_all`, which decide scope and audit the reads; a query
//! error is shown with its line and column, next to the query kept in the
//! editor.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use minijinja::{Value, context};
use serde::Deserialize;
use vigil_core::hunting::{HuntDetermination, HuntSchedule, SavedHuntId};
use vigil_service::{HuntDraft, HuntLimits, HuntResult, ServiceError, SummaryDraft};

use super::incident::tenant_header;
use super::page::{PageResult, PortalError, Viewer, redirect};
use super::views::when;
use crate::AppState;

/// Rows a page shows at most; the CSV download carries the full result.
const PAGE_ROWS: usize = 1_000;

/// The editor's query string: the query, whether across every tenant, and
/// a saved hunt to load into the editor.
#[derive(Debug, Default, Deserialize)]
pub struct HuntParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    all: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

fn params(q: Result<Query<HuntParams>, QueryRejection>) -> Result<HuntParams, PortalError> {
    q.map(|Query(p)| p)
        .map_err(|e| PortalError::bad_request(e.body_text()))
}

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, PortalError> {
    f.map(|Form(v)| v)
        .map_err(|e| PortalError::bad_request(e.body_text()))
}

fn result_view(r: &HuntResult) -> Value {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .take(PAGE_ROWS)
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    context! {
        columns => r.columns.iter().map(|c| context! { name => c.name, ty => c.ty }).collect::<Vec<_>>(),
        rows,
        shown => r.rows.len().min(PAGE_ROWS),
        stats => Value::from_serialize(&r.stats),
    }
}

fn schedule_text(s: &Option<HuntSchedule>) -> String {
    match s {
        Some(s) => format!(
            "every {} min over {} min",
            s.interval_secs / 60,
            s.lookback_secs / 60
        ),
        None => "not scheduled".into(),
    }
}

/// `GET /t/{tenant}/hunt`: the editor; with `q`, the query's results.
pub async fn editor(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    q: Result<Query<HuntParams>, QueryRejection>,
) -> PageResult {
    let p = params(q)?;
    // Tenant scope first: a customer of another tenant sees "not found".
    let tenant = tenant_header(&s, &v, &slug).await?;
    let saved = s.service.saved_hunts(&v.principal, &slug).await?;
    let mut query = p.q.clone().unwrap_or_default();
    if let Some(id) = p.saved.as_deref().filter(|_| query.is_empty())
        && let Some(h) = saved.iter().find(|h| h.id.to_string() == id)
    {
        query = h.query.clone();
    }
    let all = p.all.is_some();
    let (result, error) = if query.trim().is_empty() {
        (None, None)
    } else {
        let run = if all {
            s.service
                .hunt_all(&v.principal, &query, HuntLimits::default())
                .await
        } else {
            s.service
                .hunt(&v.principal, &slug, &query, HuntLimits::default())
                .await
        };
        match run {
            Ok(r) => (Some(result_view(&r)), None),
            // The message and where, shown under the editor.
            Err(ServiceError::Query(e)) => {
                let pos = e.pos();
                let error =
                    context! { message => e.message(), line => pos.line, column => pos.column };
                (None, Some(error))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let summaries = s.service.hunt_summaries(&v.principal, &slug, None).await?;
    v.render(
        "hunt.html",
        "hunt",
        context! {
            title => "Hunting",
            tenant,
            query,
            all,
            result,
            query_error => error,
            saved => saved.iter().map(|h| context! {
                id => h.id.to_string(),
                name => h.name,
                description => h.description,
                query => h.query,
                schedule => schedule_text(&h.schedule),
                last_run => h.last_run.map(when),
            }).collect::<Vec<_>>(),
            summaries => summaries.iter().map(|x| context! {
                what => x.what,
                why => x.why,
                result => x.result,
                determination => Value::from_serialize(x.determination),
                author => x.author,
                when => when(x.created_at),
            }).collect::<Vec<_>>(),
        },
    )
}

/// `GET /t/{tenant}/hunt.csv?q=…`: the whole result as CSV.
pub async fn csv(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    q: Result<Query<HuntParams>, QueryRejection>,
) -> Result<axum::response::Response, PortalError> {
    let p = params(q)?;
    let query = p.q.unwrap_or_default();
    let r = if p.all.is_some() {
        s.service
            .hunt_all(&v.principal, &query, HuntLimits::default())
            .await?
    } else {
        s.service
            .hunt(&v.principal, &slug, &query, HuntLimits::default())
            .await?
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"hunt.csv\"",
            ),
        ],
        vigil_service::hunt_csv(&r),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct SaveForm {
    csrf: String,
    name: String,
    query: String,
    #[serde(default)]
    description: String,
    /// Minutes between runs; empty: not scheduled.
    #[serde(default)]
    every: String,
    /// Minutes of history each run covers.
    #[serde(default)]
    lookback: String,
    /// The severity of the alerts a scheduled run raises (medium unless
    /// chosen).
    #[serde(default)]
    severity: Option<vigil_core::Severity>,
}

fn minutes(field: &str, text: &str) -> Result<i64, PortalError> {
    text.trim()
        .parse::<i64>()
        .map(|m| m.saturating_mul(60))
        .map_err(|_| PortalError::bad_request(format!("{field}: expected minutes, got {text:?}")))
}

/// `POST /t/{tenant}/hunts`: save the editor's query, optionally scheduled.
pub async fn save(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    f: Result<Form<SaveForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let schedule = if f.every.trim().is_empty() {
        None
    } else {
        let interval_secs = minutes("every", &f.every)?;
        let lookback_secs = if f.lookback.trim().is_empty() {
            interval_secs
        } else {
            minutes("lookback", &f.lookback)?
        };
        Some(HuntSchedule {
            interval_secs,
            lookback_secs,
            severity: f.severity.unwrap_or(vigil_core::Severity::Medium),
        })
    };
    let draft = HuntDraft {
        name: f.name,
        query: f.query,
        description: f.description,
        schedule,
    };
    let h = s
        .service
        .create_saved_hunt(&v.principal, &slug, &draft)
        .await?;
    Ok(redirect(&format!("/t/{slug}/hunt?saved={}", h.id)))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /t/{tenant}/hunts/{id}/delete`
pub async fn delete(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<CsrfForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id: SavedHuntId = id
        .parse()
        .map_err(|_| PortalError::not_found("saved hunt"))?;
    s.service.delete_saved_hunt(&v.principal, &slug, id).await?;
    Ok(redirect(&format!("/t/{slug}/hunt")))
}

#[derive(Debug, Deserialize)]
pub struct SummaryForm {
    csrf: String,
    what: String,
    why: String,
    result: String,
    determination: HuntDetermination,
    #[serde(default)]
    query: String,
}

/// `POST /t/{tenant}/hunt/summaries`: record what a hunt found.
pub async fn summarise(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    f: Result<Form<SummaryForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let draft = SummaryDraft {
        hunt_id: None,
        what: f.what,
        why: f.why,
        result: f.result,
        determination: f.determination,
        query: f.query,
    };
    s.service
        .add_hunt_summary(&v.principal, &slug, &draft)
        .await?;
    Ok(redirect(&format!("/t/{slug}/hunt")))
}

/// `GET /hunt`: the provider's entry: pick a tenant or hunt across all.
pub async fn index(State(s): State<AppState>, v: Viewer) -> PageResult {
    s.service.check_hunt(&v.principal).await?;
    let tenants = s.service.list_tenants(&v.principal).await?;
    v.render(
        "hunt_index.html",
        "hunt",
        context! {
            title => "Hunting",
            tenants => tenants.iter().map(|t| context! { slug => t.slug.to_string(), name => t.name.to_string() }).collect::<Vec<_>>(),
        },
    )
}
