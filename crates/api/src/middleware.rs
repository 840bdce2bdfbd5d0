//! Layers every request passes: a request id (given or made) in the logs
//! and the response, a trace span and a timeout. (Body limits are set per
//! group of routes: small for the API, large for intake.)

use std::time::Instant;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::REQUEST_TIMEOUT;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy, Debug, Default)]
struct UuidV7;

impl MakeRequestId for UuidV7 {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        uuid::Uuid::now_v7()
            .to_string()
            .parse()
            .ok()
            .map(RequestId::new)
    }
}

/// Count requests and time them, by method, route template and status.
async fn track(req: Request<axum::body::Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("vigil_http_requests_total", &labels).increment(1);
    metrics::histogram!("vigil_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

pub fn wrap(router: Router) -> Router {
    router
        .route_layer(axum::middleware::from_fn(track))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, UuidV7))
}
