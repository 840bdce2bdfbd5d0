//! Service reports: `GET /api/v1/tenants/{tenant}/reports/service` and the
//! provider's view `GET /api/v1/reports/provider`, as JSON, HTML or PDF.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vigil_service::reports::html;

use crate::error::ApiError;
use crate::paging::bad;
use crate::{AppState, Caller};

/// The period and shape of a report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Start: a date (UTC) or an RFC 3339 time (default: 30 days before `to`).
    pub from: Option<String>,
    /// End: a date (included whole) or an RFC 3339 time (default: now).
    pub to: Option<String>,
    /// `json` (default), `html` or `pdf`.
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
    Pdf,
}

fn format(q: &ReportQuery) -> Result<Format, ApiError> {
    match q.format.as_deref().map(str::trim) {
        None | Some("json") => Ok(Format::Json),
        Some("html") => Ok(Format::Html),
        Some("pdf") => Ok(Format::Pdf),
        Some(other) => Err(bad(
            "format",
            format!("{other:?}: expected json, html or pdf"),
        )),
    }
}

async fn respond<T: serde::Serialize>(
    s: &AppState,
    fmt: Format,
    report: &T,
    page: impl FnOnce(&T) -> String,
    file: &str,
) -> Result<Response, ApiError> {
    Ok(match fmt {
        Format::Json => Json(report).into_response(),
        Format::Html => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                // The page is self-contained: it may load nothing.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                ),
            ],
            page(report),
        )
            .into_response(),
        Format::Pdf => {
            let pdf = s
                .service
                .pdf_printer()
                .print(&page(report))
                .await
                .map_err(vigil_service::ServiceError::from)?;
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}.pdf\""),
                    ),
                ],
                pdf,
            )
                .into_response()
        }
    })
}

/// A tenant's service report (PRODUCT.md §13): incidents investigated and
/// resolved (by the experts or with the customer), time to acknowledge and
/// to resolve split into expert and customer time, incidents by severity,
/// category, ATT&CK tactic and source, the most affected assets, tasks by
/// outcome with the median completion time, SLA compliance,
/// recommendations and posture score, readiness and coverage, and a
/// six-month trend.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/reports/service", tag = "reports", operation_id = "service_report",
    params(("tenant" = String, Path, description = "The tenant's slug"), ReportQuery),
    responses((status = 200, description = "The report: JSON (`period`, `incidents`, `times`, `sla`, `tasks`, `top_assets`, `recommendations`, `readiness`, `coverage`, `trend`), a self-contained HTML page, or a PDF", body = serde_json::Value),
               (status = 400, description = "A bound or the format is invalid, or the period is backwards or over 366 days (named)"),
               (status = 404, description = "No such tenant, or not yours"),
               (status = 503, description = "PDF asked for and no headless Chromium is installed")))]
pub async fn service(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(tenant): Path<String>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let fmt = format(&q)?;
    let period = vigil_service::parse_period(q.from.as_deref(), q.to.as_deref(), s.service.now())?;
    let report = s.service.service_report(&p, &tenant, period).await?;
    let file = format!("vigil-report-{tenant}");
    respond(&s, fmt, &report, html::service_html, &file).await
}

/// The provider's view: the same figures for every tenant, one row each
/// (`rows`), with each tenant's full report (`reports`). Provider roles
/// only; each tenant read is audited.
#[utoipa::path(get, path = "/api/v1/reports/provider", tag = "reports", operation_id = "provider_report",
    params(ReportQuery),
    responses((status = 200, description = "`{period, generated_at, rows:[…], reports:[…]}` as JSON, an HTML page, or a PDF", body = serde_json::Value),
               (status = 400, description = "A bound or the format is invalid (named)"),
               (status = 403, description = "Customer roles have no provider view"),
               (status = 503, description = "PDF asked for and no headless Chromium is installed")))]
pub async fn provider(
    State(s): State<AppState>,
    Caller(p): Caller,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let fmt = format(&q)?;
    let period = vigil_service::parse_period(q.from.as_deref(), q.to.as_deref(), s.service.now())?;
    let report = s.service.provider_report(&p, period).await?;
    respond(
        &s,
        fmt,
        &report,
        html::provider_html,
        "vigil-provider-report",
    )
    .await
}
