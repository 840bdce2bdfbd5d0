//! The intake routes' answers to good and bad input, in-process.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use vigil_core::identity::{Principal, Role};
use vigil_service::{FixedClock, IntakeLimits};

mod support;

struct World {
    app: Router,
    key: String,
    other_key: String,
    admin: String,
}

async fn world(limits: IntakeLimits) -> World {
    let store = support::memory_store().await;
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = support::service(store, clock)
        .await
        .with_intake_limits(limits);
    world_over(svc).await
}

/// Tenants `acme` and `globex` with an ingest key each and a provider
/// admin, on `svc`.
async fn world_over(svc: vigil_service::Service) -> World {
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    svc.create_tenant(&op, "globex", "Globex")
        .await
        .expect("tenant");
    let (key, _) = svc.create_ingest_key(&op, "acme", "k").await.expect("key");
    let (other, _) = svc
        .create_ingest_key(&op, "globex", "k")
        .await
        .expect("key");
    svc.create_user(
        &op,
        "admin@mdr.example",
        Role::ProviderAdmin,
        None,
        "correct horse battery staple",
    )
    .await
    .expect("user");
    let (admin, _) = svc
        .create_token(&op, "admin@mdr.example", "t", None)
        .await
        .expect("token");
    World {
        app: vigil_api::app(svc),
        key: key.expose().to_owned(),
        other_key: other.expose().to_owned(),
        admin: admin.expose().to_owned(),
    }
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    auth: Option<String>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const TRAIL: &str = r#"{"eventVersion":"1.08","eventTime":"2026-11-27T11:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","userName":"mallory"}}"#;

#[tokio::test]
async fn good_lines_are_stored_and_bad_ones_dead_lettered_with_their_line() {
    let w = world(IntakeLimits::default()).await;
    let future = TRAIL.replace("2026-11-27T11:00:00Z", "2027-06-01T00:00:00Z");
    let body = format!("{TRAIL}\n{{oops\n\n{{\"hello\":\"world\"}}\n{future}\n");
    let (status, answer) = send(
        &w.app,
        "POST",
        "/api/v1/ingest/events",
        Some(format!("Bearer {}", w.key)),
        body.into_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["rejected"], 2);
    assert_eq!(answer["dead_lettered"], 2);
    assert_eq!(answer["flagged_future"], 1);
    let errors: Vec<&str> = answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        errors[0].starts_with("line 2: not valid JSON"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("line 4: unrecognised event shape"),
        "{errors:?}"
    );
    let (status, dead) = send(
        &w.app,
        "GET",
        "/api/v1/tenants/acme/dead-letters",
        Some(format!("Bearer {}", w.admin)),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items = dead["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["raw"], "{oops");
    assert_eq!(items[0]["source"], "api:events");
    let (_, stats) = send(
        &w.app,
        "GET",
        "/api/v1/tenants/globex/telemetry",
        Some(format!("Bearer {}", w.admin)),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(stats["events"], 0, "a key writes only to its own tenant");
}

#[tokio::test]
async fn intake_refuses_other_credentials_oversized_bodies_and_unknown_encodings() {
    let w = world(IntakeLimits::default()).await;
    for auth in [
        None,
        Some("Bearer vgk_forged".to_owned()),
        Some(format!("Bearer {}", w.admin)),
        Some("Digest abc".to_owned()),
    ] {
        let (status, _) = send(
            &w.app,
            "POST",
            "/api/v1/ingest/events",
            auth.clone(),
            TRAIL.into(),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    let (status, answer) = send(
        &w.app,
        "POST",
        "/services/collector/event",
        Some("Splunk vgk_forged".into()),
        TRAIL.into(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(answer["code"].is_number(), "Splunk-shaped: {answer}");
    let big = vec![b' '; vigil_api::MAX_INGEST_BODY_BYTES + 1];
    let (status, _) = send(
        &w.app,
        "POST",
        "/api/v1/ingest/events",
        Some(format!("Bearer {}", w.key)),
        big,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, answer) = send(
        &w.app,
        "POST",
        "/api/v1/ingest/events",
        Some(format!("Bearer {}", w.key)),
        TRAIL.into(),
        &[("content-encoding", "br")],
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
    let (status, _) = send(
        &w.app,
        "POST",
        "/api/v1/ingest/events",
        Some(format!("Bearer {}", w.key)),
        b"not gzip at all".to_vec(),
        &[("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An ingest key of another tenant cannot read, and reads nothing here.
    let (status, _) = send(
        &w.app,
        "GET",
        "/api/v1/tenants/globex/alerts",
        Some(format!("Bearer {}", w.other_key)),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bulk_answers_per_document_as_elasticsearch_does() {
    let w = world(IntakeLimits::default()).await;
    let body = format!(
        "{{\"create\":{{\"_index\":\"logs\",\"_id\":\"a\"}}}}\n{TRAIL}\n{{\"index\":{{}}}}\n{{\"nonsense\":1}}\n"
    );
    use base64::Engine as _;
    let api_key = base64::engine::general_purpose::STANDARD.encode(format!("shipper:{}", w.key));
    let (status, answer) = send(
        &w.app,
        "POST",
        "/api/v1/ingest/_bulk",
        Some(format!("ApiKey {api_key}")),
        body.into_bytes(),
        &[("content-type", "application/x-ndjson")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["errors"], true);
    assert_eq!(answer["items"][0]["create"]["status"], 201);
    assert_eq!(answer["items"][0]["create"]["_id"], "a");
    assert_eq!(answer["items"][1]["index"]["status"], 400);
    assert_eq!(
        answer["items"][1]["index"]["error"]["type"],
        "mapper_parsing_exception"
    );
    let (status, info) = send(&w.app, "GET", "/api/v1/ingest/", None, Vec::new(), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        info["version"]["number"]
            .as_str()
            .is_some_and(|v| v.starts_with('8'))
    );
}

#[tokio::test]
async fn a_full_detection_queue_answers_429_with_retry_after() {
    let w = world(IntakeLimits {
        max_backlog: 1,
        ..Default::default()
    })
    .await;
    let (status, _) = send(
        &w.app,
        "POST",
        "/api/v1/ingest/events",
        Some(format!("Bearer {}", w.key)),
        TRAIL.into(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/ingest/events")
        .header("authorization", format!("Bearer {}", w.key))
        .body(Body::from(TRAIL.replace("mallory", "eve")))
        .expect("request");
    let resp = w.app.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn every_intake_route_answers_503_with_retry_after_while_the_bus_is_down() {
    let mut nats = vigil_testkit::nats_or_skip!();
    let mut options = vigil_bus::NatsOptions::new(&nats.url());
    options.publish_timeout = std::time::Duration::from_secs(1);
    let bus = vigil_bus::NatsBus::connect(options).await.expect("bus");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = support::service(support::memory_store().await, clock)
        .await
        .with_bus(Arc::new(bus));
    let w = world_over(svc).await;
    nats.stop();
    let bulk = format!("{{\"create\":{{}}}}\n{TRAIL}\n");
    let hec = format!("{{\"event\":{TRAIL}}}");
    let routes = [
        (
            "/api/v1/ingest/events",
            format!("Bearer {}", w.key),
            TRAIL.to_owned(),
        ),
        ("/api/v1/ingest/_bulk", format!("Bearer {}", w.key), bulk),
        (
            "/services/collector/event",
            format!("Splunk {}", w.key),
            hec,
        ),
        (
            "/services/collector/raw",
            format!("Splunk {}", w.key),
            TRAIL.to_owned(),
        ),
    ];
    for (path, auth, body) in routes {
        // Another event each time, so no answer is a deduplicated replay.
        let body = body.replace("203.0.113.9", &format!("203.0.113.{}", path.len()));
        let resp = w
            .app
            .clone()
            .oneshot(
                Request::builder()
                    .method("POST")
                    .uri(path)
                    .header("authorization", auth)
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(
            retry.is_some_and(|s| s > 0),
            "{path}: Retry-After {retry:?}"
        );
    }
}
