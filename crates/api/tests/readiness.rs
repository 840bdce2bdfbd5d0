//! The readiness assessment and onboarding over a real socket: the latest
//! result, runs, history, the tenant's overview, the onboarding checklist
//! and the readiness gate on `onboarding` → `monitoring`.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::spawn_app;
use vigil_core::identity::Role;

async fn get(app: &support::TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let resp = app
        .client()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(app: &support::TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = app
        .client()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_customer_runs_the_assessment_reads_why_it_fails_and_sees_progress() {
    let app = spawn_app().await;
    let admin = app
        .user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;

    let (status, body) = get(&app, &admin, "/api/v1/tenants/acme/readiness").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_assessed");

    let (status, first) = post(
        &app,
        &admin,
        "/api/v1/tenants/acme/readiness/run",
        json!(null),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["ready"], false);
    let checks = first["checks"].as_array().expect("checks");
    let contact = checks
        .iter()
        .find(|c| c["id"] == "settings.incident_contact")
        .expect("contact check");
    assert_eq!(contact["category"], "service_settings");
    assert_eq!(contact["status"], "fail");
    assert_eq!(contact["blocking"], true);
    assert_eq!(contact["evidence"]["summary"], "no incident contact is set");
    assert!(
        contact["remediation"]
            .as_str()
            .expect("text")
            .contains("incident contact")
    );
    assert!(
        first["blocking_failures"]
            .as_array()
            .expect("list")
            .contains(&json!("settings.incident_contact"))
    );

    // The customer adds an incident contact and runs it again.
    let resp = app
        .client()
        .patch(app.url("/api/v1/tenants/acme/settings"))
        .bearer_auth(&admin)
        .json(&json!({"changes": [{"op": "add_contact", "contact": {
            "kind": "incident", "name": "Alice", "email": "alice@acme.example", "phone": null, "priority": 1}}]}))
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, second) = post(
        &app,
        &admin,
        "/api/v1/tenants/acme/readiness/run",
        json!(null),
    )
    .await;
    let contact = second["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "settings.incident_contact")
        .cloned()
        .expect("check");
    assert_eq!(contact["status"], "pass");
    assert!(second["score"].as_f64() > first["score"].as_f64());

    let (_, latest) = get(&app, &admin, "/api/v1/tenants/acme/readiness").await;
    assert_eq!(latest["id"], second["id"]);
    let (_, history) = get(
        &app,
        &admin,
        "/api/v1/tenants/acme/readiness/history?limit=1",
    )
    .await;
    assert_eq!(history["items"][0]["id"], second["id"]);
    let next = history["next"].as_str().expect("a next page").to_owned();
    let (_, older) = get(
        &app,
        &admin,
        &format!("/api/v1/tenants/acme/readiness/history?limit=1&cursor={next}"),
    )
    .await;
    assert_eq!(older["items"][0]["id"], first["id"]);
    let (status, _) = get(
        &app,
        &admin,
        "/api/v1/tenants/acme/readiness/history?cursor=nope",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The tenant's overview shows the latest result.
    let (_, tenant) = get(&app, &admin, "/api/v1/tenants/acme").await;
    assert_eq!(tenant["readiness"]["id"], second["id"]);
    assert_eq!(tenant["readiness"]["ready"], false);
    let failing = tenant["readiness"]["failing"].as_array().expect("failing");
    assert!(failing.iter().any(|f| f["id"] == "coverage.devices"));
    assert!(
        !failing
            .iter()
            .any(|f| f["id"] == "settings.incident_contact")
    );
}

#[tokio::test]
async fn onboarding_lists_the_steps_and_monitoring_waits_for_readiness_unless_a_provider_admin_overrides()
 {
    let app = spawn_app().await;
    let dm = app
        .user("dm@mdr.example", Role::DeliveryManager, None)
        .await;
    let pa = app.user("pa@mdr.example", Role::ProviderAdmin, None).await;

    let (status, onboarding) = get(&app, &dm, "/api/v1/tenants/acme/onboarding").await;
    assert_eq!(status, StatusCode::OK);
    let steps: Vec<&str> = onboarding["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "authorisation",
            "exclusions",
            "coverage",
            "contacts",
            "channels",
            "sla",
            "ir_provider",
            "readiness"
        ]
    );
    assert_eq!(onboarding["complete"], false);
    assert_eq!(onboarding["steps"][0]["done"], false);

    let (status, err) = post(
        &app,
        &dm,
        "/api/v1/tenants/acme/lifecycle",
        json!({"to": "monitoring"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let msg = err["error"]["message"].as_str().expect("message");
    assert!(
        msg.contains("blocking failures") && msg.contains("coverage.devices"),
        "{msg}"
    );
    let (status, err) = post(
        &app,
        &dm,
        "/api/v1/tenants/acme/lifecycle",
        json!({"to": "monitoring", "override_reason": "pilot"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["error"]["message"]
            .as_str()
            .expect("message")
            .contains("only a provider admin")
    );
    let (status, tenant) = post(
        &app,
        &pa,
        "/api/v1/tenants/acme/lifecycle",
        json!({"to": "monitoring", "override_reason": "pilot: sensors roll out next week"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tenant}");
    assert_eq!(tenant["lifecycle"], "monitoring");
    let (_, audit) = get(&app, &pa, "/api/v1/tenants/acme/audit").await;
    let text = audit.to_string();
    assert!(
        text.contains("pilot: sensors roll out next week") && text.contains("\"overridden\":true"),
        "{text}"
    );
}
