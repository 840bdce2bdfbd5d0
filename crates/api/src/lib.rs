//! Vigil's REST API.
//!
//! [`app`] builds the router (so tests run it with `oneshot`, no port);
//! handlers translate HTTP to service calls and back. This crate is the only
//! place that maps errors to HTTP status ([`error`]). Authorisation is not
//! decided here: every handler passes the caller's principal to the service,
//! which decides.

mod audit;
mod auth;
mod connectors;
mod conversations;
mod cookies;
pub mod error;
pub mod headers;
mod hunting;
mod identity;
mod incidents;
mod ingest;
mod limit;
mod live;
mod major;
mod me;
mod message_centre;
mod middleware;
mod notifications;
pub mod openapi;
mod paging;
mod portal;
mod readiness;
mod recommendations;
mod reports;
mod sla;
mod telemetry;
mod tenants;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use vigil_service::Service;

pub use auth::{CSRF_HEADER, Caller};
pub use cookies::SESSION_COOKIE;
pub use ingest::MAX_INGEST_BODY_BYTES;
pub use limit::RateLimiter;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Requests that take longer than this are answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How the HTTP surface is set up.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<PrometheusHandle>,
    /// Mark cookies `Secure`: the portal is reached over TLS.
    pub secure_cookies: bool,
    /// Sign-in attempts allowed per client address per minute.
    pub logins_per_minute: u32,
    /// Send `Strict-Transport-Security`: browsers reach Vigil over TLS
    /// (`server.public_url` is `https://…`; TLS ends at a proxy in front).
    pub hsts: bool,
    /// Which routes this process serves (`vigil serve --role`).
    pub surface: Surface,
}

/// The part of the HTTP surface a process serves: everything, the API and
/// portal without the telemetry intake (`--role api`), or the intake alone
/// (`--role ingest`). Health and metrics are always served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Surface {
    #[default]
    All,
    Api,
    Ingest,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            metrics: None,
            secure_cookies: false,
            logins_per_minute: 10,
            hsts: false,
            surface: Surface::All,
        }
    }
}

/// Shared by every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub service: Service,
    pub metrics: Option<PrometheusHandle>,
    pub secure_cookies: bool,
    pub login_limiter: Arc<RateLimiter>,
}

/// Install the process-wide Prometheus recorder (once; later calls and
/// failures give `None`).
pub fn install_metrics() -> Option<PrometheusHandle> {
    // Detection lag as a cumulative histogram, so its quantiles cover the
    // whole run rather than a rolling window.
    const LAG_BUCKETS: [f64; 14] = [
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
    ];
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("vigil_detection_lag_seconds".into()),
            &LAG_BUCKETS,
        )
        .ok()?
        .install_recorder()
        .ok()
}

/// Every REST route under `/api/v1`: method, path, handler. The router is
/// built from this list, and tests that must cover every route read it.
pub fn api_routes() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/tenants", get(tenants::list)),
        ("POST", "/tenants", post(tenants::create)),
        ("GET", "/tenants/{tenant}", get(tenants::show)),
        (
            "PATCH",
            "/tenants/{tenant}/settings",
            patch(tenants::update_settings),
        ),
        (
            "POST",
            "/tenants/{tenant}/lifecycle",
            post(tenants::transition),
        ),
        ("GET", "/tenants/{tenant}/users", get(identity::list_users)),
        (
            "POST",
            "/tenants/{tenant}/users",
            post(identity::create_user),
        ),
        (
            "GET",
            "/tenants/{tenant}/ingest-keys",
            get(identity::list_ingest_keys),
        ),
        (
            "POST",
            "/tenants/{tenant}/ingest-keys",
            post(identity::create_ingest_key),
        ),
        (
            "DELETE",
            "/tenants/{tenant}/ingest-keys/{id}",
            delete(identity::revoke_ingest_key),
        ),
        ("GET", "/tenants/{tenant}/audit", get(audit::of_tenant)),
        ("GET", "/tenants/{tenant}/alerts", get(telemetry::alerts)),
        (
            "GET",
            "/tenants/{tenant}/alerts/{id}",
            get(telemetry::alert),
        ),
        ("GET", "/tenants/{tenant}/telemetry", get(telemetry::stats)),
        ("GET", "/tenants/{tenant}/incidents", get(incidents::list)),
        (
            "POST",
            "/tenants/{tenant}/verdicts",
            post(incidents::verdict),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}",
            get(incidents::show),
        ),
        (
            "PATCH",
            "/tenants/{tenant}/incidents/{id}",
            patch(incidents::update),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/comments",
            post(incidents::comment),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/merge",
            post(incidents::merge),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/alerts",
            post(incidents::move_alert),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/tasks",
            get(incidents::list_tasks),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/tasks",
            post(incidents::create_task),
        ),
        (
            "GET",
            "/tenants/{tenant}/tasks/{task}",
            get(incidents::show_task),
        ),
        (
            "PATCH",
            "/tenants/{tenant}/tasks/{task}",
            patch(incidents::update_task),
        ),
        (
            "POST",
            "/tenants/{tenant}/tasks/{task}/execute",
            post(connectors::execute),
        ),
        (
            "POST",
            "/tenants/{tenant}/tasks/{task}/callback",
            post(connectors::callback),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/summary",
            get(incidents::summary),
        ),
        (
            "PUT",
            "/tenants/{tenant}/incidents/{id}/summary",
            put(incidents::save_summary),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/summary/draft",
            post(incidents::draft_summary),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/summary/publish",
            post(incidents::publish_summary),
        ),
        // After the summary's own routes: the isolation matrix reads the
        // summary while it is still a draft.
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/response/publish",
            post(incidents::publish_response),
        ),
        // After publishing: acknowledging needs a published response.
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/response/acknowledge",
            post(sla::acknowledge),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/sla",
            get(sla::incident_sla),
        ),
        ("GET", "/tenants/{tenant}/sla/breaches", get(sla::breaches)),
        (
            "GET",
            "/tenants/{tenant}/reports/service",
            get(reports::service),
        ),
        ("GET", "/reports/provider", get(reports::provider)),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/tags",
            post(incidents::add_tag),
        ),
        (
            "DELETE",
            "/tenants/{tenant}/incidents/{id}/tags/{tag}",
            delete(incidents::remove_tag),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/timeline",
            get(incidents::timeline),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/process-tree",
            get(incidents::process_tree),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/related",
            get(incidents::related),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/major",
            post(major::set_major),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/major/evaluate",
            post(major::evaluate),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/ir-engagement",
            post(major::update_engagement),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/ir-bundle",
            get(major::bundle),
        ),
        (
            "GET",
            "/tenants/{tenant}/dead-letters",
            get(telemetry::dead_letters),
        ),
        (
            "GET",
            "/tenants/{tenant}/notifications",
            get(notifications::list),
        ),
        (
            "GET",
            "/tenants/{tenant}/notifications/deliveries/{id}",
            get(notifications::show),
        ),
        (
            "POST",
            "/tenants/{tenant}/notifications/deliveries/{id}/retry",
            post(notifications::retry),
        ),
        // Run first: the isolation matrix then reads an assessment.
        (
            "POST",
            "/tenants/{tenant}/readiness/run",
            post(readiness::run),
        ),
        ("GET", "/tenants/{tenant}/readiness", get(readiness::latest)),
        (
            "GET",
            "/tenants/{tenant}/readiness/history",
            get(readiness::history),
        ),
        (
            "GET",
            "/tenants/{tenant}/onboarding",
            get(readiness::onboarding),
        ),
        (
            "GET",
            "/tenants/{tenant}/recommendations",
            get(recommendations::list),
        ),
        (
            "GET",
            "/tenants/{tenant}/recommendations/{id}",
            get(recommendations::show),
        ),
        (
            "PATCH",
            "/tenants/{tenant}/recommendations/{id}",
            patch(recommendations::update),
        ),
        (
            "GET",
            "/tenants/{tenant}/posture-score",
            get(recommendations::posture_score),
        ),
        ("GET", "/audit", get(audit::all)),
        ("GET", "/tokens", get(identity::list_tokens)),
        ("POST", "/tokens", post(identity::create_token)),
        ("DELETE", "/tokens/{id}", delete(identity::revoke_token)),
        ("GET", "/me", get(me::show)),
        ("POST", "/me/password", post(me::change_password)),
        // Conversations (docs/messages.md). After the response routes: the
        // isolation matrix finds each incident's response published here.
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/comments",
            get(conversations::list_comments),
        ),
        (
            "GET",
            "/tenants/{tenant}/incidents/{id}/messages",
            get(conversations::list_incident_messages),
        ),
        (
            "POST",
            "/tenants/{tenant}/incidents/{id}/messages",
            post(conversations::post_incident_message),
        ),
        (
            "GET",
            "/tenants/{tenant}/inquiries",
            get(conversations::list_inquiries),
        ),
        (
            "POST",
            "/tenants/{tenant}/inquiries",
            post(conversations::create_inquiry),
        ),
        (
            "GET",
            "/tenants/{tenant}/inquiries/{id}",
            get(conversations::show_inquiry),
        ),
        (
            "POST",
            "/tenants/{tenant}/inquiries/{id}/messages",
            post(conversations::post_inquiry_message),
        ),
        (
            "POST",
            "/tenants/{tenant}/inquiries/{id}/close",
            post(conversations::close_inquiry),
        ),
        ("GET", "/messages", get(message_centre::list)),
        ("GET", "/messages.csv", get(message_centre::list_csv)),
        ("POST", "/messages/read", post(message_centre::mark_read)),
        ("GET", "/events/stream", get(live::stream)),
        ("POST", "/tenants/{tenant}/hunt", post(hunting::hunt)),
        ("POST", "/hunt", post(hunting::hunt_all)),
        ("GET", "/hunt/schema", get(hunting::schema)),
        ("GET", "/tenants/{tenant}/hunts", get(hunting::list_saved)),
        (
            "POST",
            "/tenants/{tenant}/hunts",
            post(hunting::create_saved),
        ),
        (
            "GET",
            "/tenants/{tenant}/hunts/{id}",
            get(hunting::show_saved),
        ),
        (
            "PUT",
            "/tenants/{tenant}/hunts/{id}",
            put(hunting::update_saved),
        ),
        (
            "DELETE",
            "/tenants/{tenant}/hunts/{id}",
            delete(hunting::delete_saved),
        ),
        (
            "POST",
            "/tenants/{tenant}/hunts/{id}/run",
            post(hunting::run_saved),
        ),
        (
            "GET",
            "/tenants/{tenant}/hunt-summaries",
            get(hunting::list_summaries),
        ),
        (
            "POST",
            "/tenants/{tenant}/hunt-summaries",
            post(hunting::create_summary),
        ),
    ]
}

/// The whole HTTP surface with default options (no `/metrics`).
pub fn app(service: Service) -> Router {
    app_with(service, AppOptions::default())
}

/// The whole HTTP surface: the portal's pages, the REST API, health and
/// metrics.
pub fn app_with(service: Service, options: AppOptions) -> Router {
    let mut by_path: Vec<(&str, MethodRouter<AppState>)> = Vec::new();
    for (_, path, handler) in api_routes() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    let mut api = Router::new();
    for (path, handler) in by_path {
        api = api.route(path, handler);
    }
    let api = api.layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).layer(
        tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES),
    );
    let portal = portal::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ));
    let ingest = ingest::routes().layer(tower_http::limit::RequestBodyLimitLayer::new(
        MAX_INGEST_BODY_BYTES,
    ));
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics));
    if options.surface != Surface::Ingest {
        router = router
            .route("/api/v1/openapi.json", get(openapi::document))
            .merge(portal)
            .nest("/api/v1", api);
    }
    if options.surface != Surface::Api {
        router = router.merge(ingest);
    }
    let router = router.fallback(error::not_found).with_state(AppState {
        service,
        metrics: options.metrics,
        secure_cookies: options.secure_cookies,
        login_limiter: Arc::new(RateLimiter::new(
            options.logins_per_minute,
            Duration::from_secs(60),
        )),
    });
    let router = middleware::wrap(router);
    // Outermost, so every response carries them: errors, timeouts, 404s.
    if options.hsts {
        router.layer(axum::middleware::from_fn(headers::with_hsts))
    } else {
        router.layer(axum::middleware::from_fn(headers::without_hsts))
    }
}

async fn render_metrics(State(state): State<AppState>) -> Result<String, error::ApiError> {
    state
        .metrics
        .as_ref()
        .map(PrometheusHandle::render)
        .ok_or_else(|| {
            error::ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                "metrics are not enabled",
            )
        })
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, error::ApiError> {
    state.service.ping().await?;
    Ok("ready")
}
