//! The OpenAPI document: served without a credential, a valid OpenAPI 3
//! document, and describing every route the router serves.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use vigil_service::{FixedClock, Service};
use vigil_store::{SqliteStore, Store};

#[tokio::test]
async fn the_openapi_document_is_valid_and_describes_every_route() {
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new("2026-11-27T09:00:00Z".parse().expect("ts")));
    let app = vigil_api::app(Service::new(Arc::new(store), clock));
    let resp = app
        .oneshot(
            Request::builder()
                .uri("/api/v1/openapi.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");

    // Parses as an OpenAPI 3.1 document (typed, every required member).
    let spec = oas3::from_json(&text)
        .unwrap_or_else(|e| panic!("not a valid OpenAPI 3 document: {e}\n{text}"));
    assert!(spec.openapi.starts_with("3."), "{}", spec.openapi);
    let paths = spec.paths.as_ref().expect("paths");

    for (method, path, _) in vigil_api::api_routes() {
        let full = format!("/api/v1{path}");
        let item = paths
            .get(&full)
            .unwrap_or_else(|| panic!("{method} {full} is served but not documented"));
        let op = match method {
            "GET" => item.get.as_ref(),
            "POST" => item.post.as_ref(),
            "PUT" => item.put.as_ref(),
            "PATCH" => item.patch.as_ref(),
            "DELETE" => item.delete.as_ref(),
            other => panic!("method {other}"),
        };
        assert!(op.is_some(), "{method} {full} is served but not documented");
    }
    // Intake speaks shippers' protocols outside the REST list; each of its
    // routes is documented too.
    let intake = [
        "/api/v1/ingest/events",
        "/api/v1/ingest/_bulk",
        "/services/collector/event",
        "/services/collector/raw",
    ];
    for path in intake {
        assert!(
            paths.get(path).is_some_and(|i| i.post.is_some()),
            "POST {path} is served but not documented"
        );
    }
    // Intake refuses with 429 (detection behind) or 503 (the event bus
    // unreachable), each with `Retry-After`, and says so.
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    for path in intake {
        for status in ["429", "503"] {
            let response = &doc["paths"][path]["post"]["responses"][status];
            assert!(
                response["headers"]["Retry-After"].is_object(),
                "POST {path} documents {status} with Retry-After: {response}"
            );
        }
    }
    let documented: usize = paths
        .iter()
        .filter(|(path, _)| !intake.contains(&path.as_str()))
        .map(|(_, i)| {
            [
                i.get.is_some(),
                i.post.is_some(),
                i.put.is_some(),
                i.patch.is_some(),
                i.delete.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count()
        })
        .sum();
    assert_eq!(
        documented,
        vigil_api::api_routes().len(),
        "no documented route is missing from the router"
    );
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// The document passes the reference validator, `openapi-spec-validator`
/// (PyPI), which checks it against the OpenAPI Initiative's JSON Schema for
/// its version and more. `scripts/test` installs it; elsewhere the test
/// says it is skipped.
#[tokio::test]
async fn the_openapi_document_passes_the_reference_openapi_validator() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
            "openapi-spec-validator is required: python3 -m pip install openapi-spec-validator"
        );
        eprintln!(
            "skipped: openapi-spec-validator is not installed (pip install openapi-spec-validator)"
        );
        return;
    }
    let doc = serde_json::to_string_pretty(&vigil_api::openapi::document_value()).expect("json");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, doc).expect("write");
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output()
        .expect("validator runs");
    assert!(
        out.status.success(),
        "the OpenAPI document is invalid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
