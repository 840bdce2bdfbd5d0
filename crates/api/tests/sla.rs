//! SLA routes over real HTTP: the incident's timers, the customer's
//! acknowledgement, and the breach list with its period filter.

mod support;

use jiff::SignedDuration;
use serde_json::Value;
use vigil_core::identity::{Principal, Role};

#[tokio::test]
async fn the_customer_acknowledges_over_http_and_breaches_list_by_period() {
    let app = support::spawn_app().await;
    let svc = &app.service;
    let op = Principal::Operator("test".into());
    let incident = vigil_fixtures::stop_logging_incidents(svc, &op, &["acme"]).await[0];
    svc.create_task(
        &op,
        "acme",
        incident,
        vigil_core::task::TaskType::FreeText,
        None,
        "rotate the keys",
    )
    .await
    .expect("task");
    svc.draft_summary(&op, "acme", incident)
        .await
        .expect("draft");
    let analyst = app.user("analyst@mdr.example", Role::Analyst, None).await;
    let soc = app
        .user("soc@acme.example", Role::CustomerResponder, Some("acme"))
        .await;
    let reader = app
        .user("reader@acme.example", Role::CustomerReader, Some("acme"))
        .await;
    let client = app.client();
    let base = format!("/api/v1/tenants/acme/incidents/{incident}");
    let send = |method: reqwest::Method, path: String, token: &str| {
        client
            .request(method, app.url(&path))
            .bearer_auth(token)
            .send()
    };
    let resp = send(
        reqwest::Method::POST,
        format!("{base}/response/acknowledge"),
        &soc,
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), 409, "nothing published yet");
    let resp = send(
        reqwest::Method::POST,
        format!("{base}/response/publish"),
        &analyst,
    )
    .await
    .expect("publish");
    assert_eq!(resp.status(), 200);

    let resp = send(reqwest::Method::GET, format!("{base}/sla"), &reader)
        .await
        .expect("sla");
    assert_eq!(resp.status(), 200);
    let timers: Value = resp.json().await.expect("json");
    let items = timers["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{timers}");
    assert_eq!(items[0]["kind"], "acknowledge");
    assert_eq!(items[0]["target"], "1h");
    assert_eq!(items[0]["due_at"], "2026-11-27T10:00:00Z");
    assert_eq!(items[1]["kind"], "complete");
    assert_eq!(items[1]["due_at"], "2026-11-27T13:00:00Z");

    let resp = send(
        reqwest::Method::POST,
        format!("{base}/response/acknowledge"),
        &reader,
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), 403, "readers only read");
    app.clock.advance(SignedDuration::from_mins(10));
    let mut answers = Vec::new();
    for _ in 0..2 {
        let resp = send(
            reqwest::Method::POST,
            format!("{base}/response/acknowledge"),
            &soc,
        )
        .await
        .expect("acknowledge");
        assert_eq!(resp.status(), 200);
        answers.push(resp.json::<Value>().await.expect("json"));
    }
    assert_eq!(
        answers[0], answers[1],
        "acknowledging again answers the same"
    );
    let ack = &answers[0]["items"][0];
    assert_eq!(ack["state"], "stopped");
    assert_eq!(ack["stop_reason"], "acknowledged");
    assert_eq!(ack["stopped_at"], "2026-11-27T09:10:00Z");

    // 14:00: an hour past the time to complete.
    app.clock.advance(SignedDuration::from_mins(290));
    let resp = send(
        reqwest::Method::GET,
        "/api/v1/tenants/acme/sla/breaches?from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z"
            .into(),
        &reader,
    )
    .await
    .expect("breaches");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["kind"], "complete");
    assert_eq!(items[0]["open"], true);
    assert_eq!(items[0]["over"], "1h");
    assert_eq!(items[0]["over_seconds"], 3600);
    assert_eq!(items[0]["incident"], incident.to_string());
    let resp = send(
        reqwest::Method::GET,
        "/api/v1/tenants/acme/sla/breaches?from=2026-11-27T13:00:01Z".into(),
        &reader,
    )
    .await
    .expect("breaches");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        body["items"],
        Value::Array(Vec::new()),
        "outside the period"
    );
    let resp = send(
        reqwest::Method::GET,
        "/api/v1/tenants/acme/sla/breaches?from=yesterday".into(),
        &reader,
    )
    .await
    .expect("breaches");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("from:")),
        "{body}"
    );
}
