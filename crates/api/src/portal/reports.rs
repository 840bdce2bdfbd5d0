//! Reports pages: a tenant's service report over a chosen period (both
//! sides; a customer sees its own tenant only), with its headline figures
//! in the page and links to the full HTML and PDF from the REST route; and
//! the provider's cross-tenant view. The service decides scope and audits
//! the provider's reads.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use minijinja::{Value, context};
use serde::Deserialize;

use super::incident::tenant_header;
use super::page::{PageResult, PortalError, Viewer};
use crate::AppState;

/// The period picker's fields: dates (UTC) or RFC 3339 times.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodParams {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

impl PeriodParams {
    /// Empty fields mean the default (the last 30 days).
    fn get(q: Result<Query<PeriodParams>, QueryRejection>) -> Result<Self, PortalError> {
        let Query(p) = q.map_err(|e| PortalError::bad_request(e.body_text()))?;
        let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        Ok(PeriodParams {
            from: keep(p.from),
            to: keep(p.to),
        })
    }

    /// The query string for the report links (`&from=…&to=…`).
    fn link(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if let Some(f) = &self.from {
            v.push(("from", f.clone()));
        }
        if let Some(t) = &self.to {
            v.push(("to", t.clone()));
        }
        v
    }
}

/// `GET /t/{tenant}/reports?from=&to=`
pub async fn tenant(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    q: Result<Query<PeriodParams>, QueryRejection>,
) -> PageResult {
    let p = PeriodParams::get(q)?;
    let tenant = tenant_header(&s, &v, &slug).await?;
    let period = vigil_service::parse_period(p.from.as_deref(), p.to.as_deref(), s.service.now())
        .map_err(PortalError::from)?;
    let report = s
        .service
        .service_report(&v.principal, &slug, period)
        .await?;
    v.render(
        "reports.html",
        "reports",
        context! {
            title => "Service report",
            tenant,
            period => Value::from_serialize(report.period),
            picked => Value::from_serialize(p.link()),
            report => Value::from_serialize(&report),
        },
    )
}

/// `GET /reports?from=&to=`: every tenant side by side (provider roles).
pub async fn provider(
    State(s): State<AppState>,
    v: Viewer,
    q: Result<Query<PeriodParams>, QueryRejection>,
) -> PageResult {
    let p = PeriodParams::get(q)?;
    let period = vigil_service::parse_period(p.from.as_deref(), p.to.as_deref(), s.service.now())
        .map_err(PortalError::from)?;
    let report = s.service.provider_report(&v.principal, period).await?;
    v.render(
        "provider_reports.html",
        "reports",
        context! {
            title => "Reports",
            period => Value::from_serialize(report.period),
            picked => Value::from_serialize(p.link()),
            rows => Value::from_serialize(&report.rows),
        },
    )
}
