//! The incident routes' answers to good and bad changes, in-process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use vigil_core::identity::{Principal, Role};
use vigil_service::{At, FixedClock, Intake, Record};

mod support;

#[tokio::test]
async fn bad_incident_changes_answer_400_or_409_naming_why() {
    let store = support::memory_store().await;
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = support::service(store, clock).await;
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    svc.create_user(
        &op,
        "analyst@mdr.example",
        Role::Analyst,
        None,
        "correct horse battery staple",
    )
    .await
    .expect("user");
    let (token, _) = svc
        .create_token(&op, "analyst@mdr.example", "t", None)
        .await
        .expect("token");
    vigil_fixtures::add_stop_logging_rule(&svc, &op).await;
    svc.ingest(
        &op,
        Some("acme"),
        Intake {
            source: "test".into(),
            records: vec![Record {
                at: At::Line(1),
                bytes: vigil_fixtures::STOP_LOGGING_TRAIL.as_bytes().to_vec(),
            }],
            ..Default::default()
        },
    )
    .await
    .expect("ingest");
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");
    let app = vigil_api::app(svc);
    let call = |method: &str, path: String, body: Option<&str>| {
        let app = app.clone();
        let token = token.expose().to_owned();
        let method = method.to_owned();
        let body = body.map(str::to_owned);
        async move {
            let mut req = Request::builder()
                .method(method.as_str())
                .uri(path)
                .header("authorization", format!("Bearer {token}"));
            if body.is_some() {
                req = req.header("content-type", "application/json");
            }
            let resp = app
                .oneshot(
                    req.body(Body::from(body.unwrap_or_default()))
                        .expect("request"),
                )
                .await
                .expect("response");
            let status = resp.status();
            let bytes = resp.into_body().collect().await.expect("body").to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, list) = call(
        "GET",
        "/api/v1/tenants/acme/incidents?sort=severity".into(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let id = list["items"][0]["id"].as_str().expect("id").to_owned();
    for field in [
        "id",
        "title",
        "severity",
        "status",
        "assigned_to",
        "classification",
        "determination",
        "alert_count",
        "entities",
        "tactics",
        "first_activity",
        "last_activity",
    ] {
        assert!(
            list["items"][0].get(field).is_some(),
            "incident without {field}"
        );
    }
    let path = format!("/api/v1/tenants/acme/incidents/{id}");
    let (status, body) = call(
        "PATCH",
        path.clone(),
        Some(r#"{"classification":"false_positive","determination":"malware"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("malware") && message.contains("false_positive"),
        "{message}"
    );
    let (status, body) = call("PATCH", path.clone(), Some(r#"{"status":"redirected"}"#)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("merging"),
        "{body}"
    );
    let (status, _) = call("PATCH", path.clone(), Some(r#"{"status":"sleeping"}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(
        "PATCH",
        path.clone(),
        Some(r#"{"status":"in_progress","assigned_to":"analyst:analyst@mdr.example"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in_progress");
    let (status, _) = call("GET", format!("{path}/timeline"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        "GET",
        "/api/v1/tenants/acme/incidents?sort=newest".into(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Major incidents: one stopped trail is not major; an analyst raises
    // it by hand with a reason, moves the IR engagement on, and downloads
    // the handoff bundle.
    let (_, body) = call("GET", path.clone(), None).await;
    assert_eq!(body["major"], false);
    assert_eq!(body["major_criteria"], serde_json::json!([]));
    assert_eq!(body["ir_engagement"], Value::Null);
    let (status, body) = call("POST", format!("{path}/major"), Some(r#"{"major":true}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no reason: {body}");
    let (status, body) = call(
        "POST",
        format!("{path}/major"),
        Some(r#"{"major":true,"reason":"trail stopped across every region"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["major"], true);
    assert_eq!(body["ir_recommended"], true);
    assert_eq!(body["out_of_mdr_scope"], true);
    assert_eq!(body["ir_engagement"]["status"], "requested");
    let (status, body) = call(
        "POST",
        format!("{path}/ir-engagement"),
        Some(r#"{"status":"paused"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(
        "POST",
        format!("{path}/ir-engagement"),
        Some(r#"{"status":"engaged","note":"retainer activated"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ir_engagement"]["status"], "engaged");
    assert_eq!(
        body["ir_engagement"]["notes"][0]["text"],
        "retainer activated"
    );
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("{path}/ir-bundle"))
                .header("authorization", format!("Bearer {}", token.expose()))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains(".zip")
    );
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip archive");
}
