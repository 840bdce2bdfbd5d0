//! `vigil serve --role api|ingest`: each process serves its part of the
//! HTTP surface and answers 404 for the rest; health is always served.

mod support;

use support::spawn_app_with;
use vigil_api::{AppOptions, Surface};

async fn status(base: &str, method: reqwest::Method, path: &str) -> u16 {
    reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("content-type", "application/x-ndjson")
        .body("{}\n")
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_api_process_serves_no_intake_and_an_ingest_process_serves_nothing_else() {
    let api = spawn_app_with(AppOptions {
        surface: Surface::Api,
        ..Default::default()
    })
    .await;
    let ingest = spawn_app_with(AppOptions {
        surface: Surface::Ingest,
        ..Default::default()
    })
    .await;
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    // Unauthenticated: 401 where the route exists, 404 where it does not.
    assert_eq!(
        status(&api.base, post.clone(), "/api/v1/ingest/events").await,
        404
    );
    assert_eq!(status(&api.base, get.clone(), "/api/v1/tenants").await, 401);
    assert_eq!(
        status(&ingest.base, post, "/api/v1/ingest/events").await,
        401
    );
    assert_eq!(
        status(&ingest.base, get.clone(), "/api/v1/tenants").await,
        404
    );
    assert_eq!(status(&ingest.base, get.clone(), "/login").await, 404);
    for base in [&api.base, &ingest.base] {
        assert_eq!(status(base, get.clone(), "/healthz").await, 200);
    }
}
