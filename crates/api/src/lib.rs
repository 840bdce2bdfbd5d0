//! Vigil's REST API.
//!
//! [`app`] builds the router (so tests run it with `oneshot`, no port);
//! handlers translate HTTP to service calls and back. This crate is the only
//! place that maps errors to HTTP status ([`error`]). Authorisation is not
//! decided here: every handler passes the caller's principal to the service,
//! which decides.

mod auth;
pub mod error;
mod identity;
mod middleware;
pub mod openapi;
mod tenants;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{MethodRouter, get, post};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use vigil_service::Service;

pub use auth::Caller;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Requests that take longer than this are answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared by every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub service: Service,
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<PrometheusHandle>,
}

/// Install the process-wide Prometheus recorder (once; later calls and
/// failures give `None`).
pub fn install_metrics() -> Option<PrometheusHandle> {
    PrometheusBuilder::new().install_recorder().ok()
}

/// Every REST route under `/api/v1`: method, path, handler. The router is
/// built from this list, and tests that must cover every route read it.
pub fn api_routes() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/tenants", get(tenants::list)),
        ("POST", "/tenants", post(tenants::create)),
        ("GET", "/tenants/{tenant}", get(tenants::show)),
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
            "POST",
            "/tenants/{tenant}/ingest-keys",
            post(identity::create_ingest_key),
        ),
        ("POST", "/tokens", post(identity::create_token)),
    ]
}

/// The whole HTTP surface, without `/metrics`.
pub fn app(service: Service) -> Router {
    app_with_metrics(service, None)
}

/// The whole HTTP surface, with `/metrics` rendered from `metrics`.
pub fn app_with_metrics(service: Service, metrics: Option<PrometheusHandle>) -> Router {
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
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .route("/api/v1/openapi.json", get(openapi::document))
        .nest("/api/v1", api)
        .fallback(error::not_found)
        .with_state(AppState { service, metrics });
    middleware::wrap(router).layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
