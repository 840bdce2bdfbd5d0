//! Readiness (the latest assessment with each check's evidence and
//! remediation; the experts run it again) and posture recommendations (the
//! score and its trend as an SVG chart; plan, accept the risk, mark done).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use minijinja::{Value, context};
use serde::Deserialize;
use vigil_core::readiness::CheckStatus;
use vigil_core::recommendation::{PostureScore, RecommendationStatus};
use vigil_service::RecommendationUpdate;

use super::incident::tenant_header;
use super::page::{PageResult, PortalError, Viewer, redirect};
use super::views::when;
use crate::AppState;

fn form<T>(f: Result<Form<T>, FormRejection>) -> Result<T, PortalError> {
    f.map(|Form(v)| v)
        .map_err(|e| PortalError::bad_request(e.body_text()))
}

/// `GET /t/{tenant}/readiness`
pub async fn readiness(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
) -> PageResult {
    let tenant = tenant_header(&s, &v, &slug).await?;
    let latest = s.service.readiness(&v.principal, &slug).await?;
    let assessment = latest.map(|a| {
        let mut checks: Vec<_> = a.checks.iter().collect();
        // Blocking failures first, then failures, warnings, passes.
        checks.sort_by_key(|c| {
            (
                !c.is_blocking_failure(),
                match c.status {
                    CheckStatus::Fail => 0,
                    CheckStatus::Warn => 1,
                    _ => 2,
                },
            )
        });
        context! {
            score => format!("{:.0}", a.score),
            ready => a.ready,
            when => when(a.run_at),
            trigger => a.trigger.to_string(),
            blocking => a.blocking_failures().len(),
            checks => checks.iter().map(|c| context! {
                id => c.id,
                title => c.title,
                category => c.category.to_string().replace('_', " "),
                status => c.status.to_string(),
                blocking => c.blocking,
                evidence => c.evidence.summary,
                assets => c.evidence.assets,
                more_assets => c.evidence.more_assets,
                remediation => c.remediation,
                failing => c.status != CheckStatus::Pass,
            }).collect::<Vec<_>>(),
        }
    });
    v.render(
        "readiness.html",
        "readiness",
        context! { title => "Readiness", tenant, assessment },
    )
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /t/{tenant}/readiness/run`: the experts assess now.
pub async fn run(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
    f: Result<Form<CsrfForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    s.service.run_readiness(&v.principal, &slug).await?;
    Ok(redirect(&format!("/t/{slug}/readiness")))
}

/// The score trend, oldest to newest, as polyline points in a 300×80 box.
fn trend_points(trend: &[PostureScore]) -> String {
    let values: Vec<f64> = trend.iter().rev().filter_map(|s| s.percent).collect();
    let n = values.len();
    values
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = if n > 1 {
                i as f64 * 300.0 / (n - 1) as f64
            } else {
                150.0
            };
            let y = 78.0 - p.clamp(0.0, 100.0) * 0.76;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `GET /t/{tenant}/recommendations`
pub async fn recommendations(
    State(s): State<AppState>,
    v: Viewer,
    Path(slug): Path<String>,
) -> PageResult {
    let tenant = tenant_header(&s, &v, &slug).await?;
    let list = s.service.list_recommendations(&v.principal, &slug).await?;
    let kb = vigil_service::knowledge()?;
    let score = s.service.posture_score(&v.principal, &slug).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|rec| {
            let entry = kb.get(&rec.kb_id);
            let open = matches!(
                rec.status,
                RecommendationStatus::Open | RecommendationStatus::Planned
            );
            context! {
                id => rec.id.to_string(),
                title => rec.title,
                category => rec.category.to_string(),
                points => rec.points,
                status => rec.status.to_string().replace('_', " "),
                reason => rec.reason,
                expires => rec.expires_at.map(when),
                verification => rec.verification.detail,
                why => entry.map(|e| e.why.clone()),
                how => entry.map(|e| e.how.clone()),
                impact => entry.map(|e| format!("{:?}", e.impact).to_lowercase()),
                effort => entry.map(|e| format!("{:?}", e.effort).to_lowercase()),
                incidents => rec.incidents.len(),
                may_plan => rec.status == RecommendationStatus::Open,
                open,
            }
        })
        .collect();
    v.render(
        "recommendations.html",
        "recommendations",
        context! {
            title => "Recommendations",
            tenant,
            score => context! {
                percent => score.current.percent.map(|p| format!("{p:.1}")),
                achieved => score.current.achieved,
                possible => score.current.possible,
            },
            trend => trend_points(&score.trend),
            trend_len => score.trend.len(),
            recommendations => rows,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct RecForm {
    csrf: String,
    /// `plan`, `accept` (the risk) or `done`.
    action: String,
    #[serde(default)]
    reason: String,
    /// `YYYY-MM-DD`: when an accepted risk is looked at again.
    #[serde(default)]
    expires: String,
}

/// `POST /t/{tenant}/recommendations/{id}`
pub async fn update(
    State(s): State<AppState>,
    v: Viewer,
    Path((slug, id)): Path<(String, String)>,
    f: Result<Form<RecForm>, FormRejection>,
) -> PageResult {
    let f = form(f)?;
    v.check(&f.csrf)?;
    let id = id
        .parse()
        .map_err(|_| PortalError::not_found("recommendation"))?;
    let reason = Some(f.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let update = match f.action.as_str() {
        "plan" => RecommendationUpdate {
            status: Some(RecommendationStatus::Planned),
            ..Default::default()
        },
        "done" => RecommendationUpdate {
            status: Some(RecommendationStatus::Completed),
            ..Default::default()
        },
        "accept" => {
            let date: jiff::civil::Date = f.expires.trim().parse().map_err(|_| {
                PortalError::bad_request(format!(
                    "expires {:?}: give a date as YYYY-MM-DD",
                    f.expires
                ))
            })?;
            let expires = date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|e| PortalError::bad_request(format!("expires: {e}")))?
                .timestamp();
            RecommendationUpdate {
                status: Some(RecommendationStatus::RiskAccepted),
                reason,
                expires_at: Some(expires),
                ..Default::default()
            }
        }
        other => {
            return Err(PortalError::bad_request(format!(
                "action {other:?} is unknown"
            )));
        }
    };
    s.service
        .update_recommendation(&v.principal, &slug, id, update)
        .await?;
    Ok(redirect(&format!("/t/{slug}/recommendations#rec-{id}")))
}
