//! Response connectors over real HTTP: Vigil on a loopback port, and the
//! customer's SOAR played by a tiny axum server on another, recording what
//! it receives. Time is a `FixedClock` the test moves.

mod support;

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, spawn_app};
use vigil_core::identity::{Principal, Role};
use vigil_core::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};
use vigil_service::{At, Intake, Record};

const SECRET: &str = "soar-shared-secret-0123456789";

/// What the SOAR received: (timestamp header, signature header, body).
type Received = Arc<Mutex<Vec<(String, String, Bytes)>>>;

/// The customer's SOAR: records each request, answers with `status`.
struct Soar {
    url: String,
    received: Received,
    status: Arc<AtomicU16>,
}

async fn soar() -> Soar {
    let received: Received = Arc::default();
    let status = Arc::new(AtomicU16::new(202));
    let state = (received.clone(), status.clone());
    let app = axum::Router::new()
        .route(
            "/soar/vigil",
            axum::routing::post(
                |State((received, status)): State<(Received, Arc<AtomicU16>)>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    received.lock().expect("lock").push((
                        h(TIMESTAMP_HEADER),
                        h(SIGNATURE_HEADER),
                        body,
                    ));
                    let code = StatusCode::from_u16(status.load(Ordering::SeqCst))
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    (code, "soar says hello")
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("soar");
    });
    Soar {
        url: format!("http://{addr}/soar/vigil"),
        received,
        status,
    }
}

struct World {
    app: TestApp,
    soar: Soar,
    analyst: String,
    incident: String,
}

/// Acme authorised managed response and set its connector to the SOAR (as
/// its customer admin); one incident about mallory.
async fn world() -> World {
    let app = spawn_app().await;
    let soar = soar().await;
    let op = Principal::Operator("test".into());
    let svc = &app.service;
    vigil_fixtures::add_stop_logging_rule(svc, &op).await;
    for tenant in ["acme", "globex"] {
        svc.ingest(
            &op,
            Some(tenant),
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
    }
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");
    let incident = svc
        .list_incidents(
            &op,
            "acme",
            vigil_service::IncidentFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("incidents")[0]
        .incident
        .id
        .to_string();
    let admin = app
        .user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let analyst = app.user("analyst@mdr.example", Role::Analyst, None).await;
    let resp = app
        .client()
        .patch(app.url("/api/v1/tenants/acme/settings"))
        .bearer_auth(&admin)
        .json(&json!({"changes": [
            {"op": "set_authorisation", "mode": "managed"},
            {"op": "set_response_connector", "connector": {
                "kind": "signed_webhook", "url": soar.url, "secret": SECRET}},
        ]}))
        .send()
        .await
        .expect("settings");
    assert_eq!(resp.status(), 200);
    let shown = resp.text().await.expect("body");
    assert!(
        !shown.contains(SECRET),
        "the secret is never shown: {shown}"
    );
    assert!(shown.contains("signed_webhook"), "{shown}");
    World {
        app,
        soar,
        analyst,
        incident,
    }
}

impl World {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .app
            .client()
            .request(method.parse().expect("method"), self.app.url(path))
            .bearer_auth(&self.analyst);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A managed task: disable mallory.
    async fn managed_task(&self) -> String {
        let (status, task) = self
            .call(
                "POST",
                &format!("/api/v1/tenants/acme/incidents/{}/tasks", self.incident),
                Some(json!({"kind": "disable_user", "target": "user:mallory",
                            "rationale": "mallory stopped the trail"})),
            )
            .await;
        assert_eq!(status, 201, "{task}");
        assert_eq!(task["mode"], "managed", "{task}");
        task["id"].as_str().expect("id").to_owned()
    }

    async fn execute(&self, task: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/v1/tenants/acme/tasks/{task}/execute"),
            None,
        )
        .await
    }

    async fn task(&self, task: &str) -> Value {
        let (status, view) = self
            .call("GET", &format!("/api/v1/tenants/acme/tasks/{task}"), None)
            .await;
        assert_eq!(status, 200, "{view}");
        view
    }

    fn now(&self) -> i64 {
        self.app.service.now().as_second()
    }

    fn received(&self) -> Vec<(String, String, Bytes)> {
        self.soar.received.lock().expect("lock").clone()
    }

    /// POST a callback with the given headers (no bearer token).
    async fn callback(&self, task: &str, ts: i64, signature: &str, body: &str) -> (u16, Value) {
        let resp = self
            .app
            .client()
            .post(
                self.app
                    .url(&format!("/api/v1/tenants/acme/tasks/{task}/callback")),
            )
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_owned())
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn executing_a_managed_task_posts_a_webhook_signed_with_the_tenants_secret() {
    let w = world().await;
    let task = w.managed_task().await;
    let (status, view) = w.execute(&task).await;
    assert_eq!(status, 200, "{view}");
    let got = w.received();
    assert_eq!(got.len(), 1, "one delivery");
    let (ts, sig, body) = &got[0];
    assert_eq!(ts.parse::<i64>().expect("unix seconds"), w.now());
    verify(SECRET.as_bytes(), ts, sig, body, w.app.service.now())
        .expect("the signature verifies with the tenant's secret");
    assert!(
        verify(b"some-other-secret-123", ts, sig, body, w.app.service.now()).is_err(),
        "and with no other"
    );
    let payload: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(payload["task_id"], task.as_str());
    assert_eq!(payload["tenant"], "acme");
    assert_eq!(payload["incident"], w.incident.as_str());
    assert_eq!(payload["type"], "disable_user");
    assert_eq!(payload["target"], "user:mallory");
    assert_eq!(payload["rationale"], "mallory stopped the trail");
    assert_eq!(
        payload["callback_url"],
        w.app
            .url(&format!("/api/v1/tenants/acme/tasks/{task}/callback"))
    );
    // The task view shows the execution record.
    let view = w.task(&task).await;
    assert_eq!(view["task"]["status"], "in_progress");
    let lines = view["executions"].as_array().expect("executions");
    assert_eq!(lines.len(), 1, "{view}");
    assert_eq!(lines[0]["connector"], "signed_webhook");
    assert_eq!(lines[0]["attempt"], 1);
    assert_eq!(lines[0]["outcome"], "delivered");
    assert_eq!(lines[0]["next_attempt_at"], Value::Null);
    // Executing again is refused: the task is no longer open.
    let (status, err) = w.execute(&task).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(w.received().len(), 1, "nothing sent twice");
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_at_the_backoff_times_then_the_task_fails() {
    let w = world().await;
    w.soar.status.store(500, Ordering::SeqCst);
    let task = w.managed_task().await;
    let start = w.now();
    let (status, view) = w.execute(&task).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["executions"][0]["outcome"], "error", "{view}");
    assert!(
        view["executions"][0]["detail"]
            .as_str()
            .expect("detail")
            .contains("HTTP 500"),
        "{view}"
    );
    assert_eq!(view["executions"][1]["outcome"], "pending");
    let svc = &w.app.service;
    // Nothing is due until the clock reaches each retry time.
    for (wait, attempts_before) in [(30, 1), (120, 2), (600, 3), (1800, 4)] {
        w.app
            .clock
            .advance(jiff::SignedDuration::from_secs(wait - 1));
        assert_eq!(svc.run_due_executions().await.expect("run"), 0);
        assert_eq!(w.received().len(), attempts_before, "not yet");
        w.app.clock.advance(jiff::SignedDuration::from_secs(1));
        assert_eq!(svc.run_due_executions().await.expect("run"), 1);
    }
    let sent_at: Vec<i64> = w
        .received()
        .iter()
        .map(|(ts, _, _)| ts.parse::<i64>().expect("ts") - start)
        .collect();
    assert_eq!(
        sent_at,
        [0, 30, 150, 750, 2550],
        "30 s, 2, 10, 30 min apart"
    );
    let view = w.task(&task).await;
    assert_eq!(view["task"]["status"], "failed", "{view}");
    let note = view["task"]["note"].as_str().expect("note");
    assert!(
        note.contains("after 5 attempts") && note.contains("HTTP 500"),
        "{note}"
    );
    let history = view["history"].as_array().expect("history");
    let last = history.last().expect("a line");
    assert_eq!(last[1], "system");
    assert!(
        last[2].as_str().expect("change").contains("HTTP 500"),
        "{last}"
    );
    let outcomes: Vec<&str> = view["executions"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(outcomes, ["error", "error", "error", "error", "failed"]);
    // Nothing more is scheduled.
    w.app.clock.advance(jiff::SignedDuration::from_hours(24));
    assert_eq!(svc.run_due_executions().await.expect("run"), 0);
    assert_eq!(w.received().len(), 5);
}

#[tokio::test]
async fn a_signed_callback_completes_the_task_and_bad_or_stale_ones_change_nothing() {
    let w = world().await;
    let task = w.managed_task().await;
    w.execute(&task).await;
    let body = r#"{"status":"completed","detail":"mallory disabled in the directory"}"#;
    let now = w.now();
    let before = w.task(&task).await;

    // Wrong secret, stale timestamp, no signature: 401, each named.
    let forged = sign(b"not-the-tenant-secret", now, body.as_bytes());
    let (status, err) = w.callback(&task, now, &forged, body).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["error"]["code"], "bad_signature");
    assert!(
        err["error"]["message"]
            .as_str()
            .expect("message")
            .contains("does not match"),
        "{err}"
    );
    let stale_ts = now - 301;
    let stale = sign(SECRET.as_bytes(), stale_ts, body.as_bytes());
    let (status, err) = w.callback(&task, stale_ts, &stale, body).await;
    assert_eq!(status, 401, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .expect("message")
            .contains("301 s from now"),
        "{err}"
    );
    let signed = sign(SECRET.as_bytes(), now, body.as_bytes());
    let tampered = body.replace("completed", "failed");
    let (status, _) = w.callback(&task, now, &signed, &tampered).await;
    assert_eq!(status, 401, "a changed body does not verify");
    // A bearer token is no substitute for the signature.
    let resp = w
        .app
        .client()
        .post(
            w.app
                .url(&format!("/api/v1/tenants/acme/tasks/{task}/callback")),
        )
        .bearer_auth(&w.analyst)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        w.task(&task).await,
        before,
        "refused callbacks change nothing"
    );

    // The right signature: the task is completed.
    let (status, report) = w.callback(&task, now, &signed, body).await;
    assert_eq!(status, 200, "{report}");
    let view = w.task(&task).await;
    assert_eq!(view["task"]["status"], "completed");
    assert_eq!(view["task"]["note"], "mallory disabled in the directory");
    let last = view["history"]
        .as_array()
        .expect("history")
        .last()
        .expect("line")
        .clone();
    assert_eq!(last[1], "connector:acme");
    assert!(
        last[2]
            .as_str()
            .expect("change")
            .contains("in_progress → completed"),
        "{last}"
    );
    let lines = view["executions"].as_array().expect("executions");
    let outcome = lines.last().expect("line");
    assert_eq!(outcome["outcome"], "completed");
    assert_eq!(outcome["detail"], "mallory disabled in the directory");
    let audit = w
        .app
        .service
        .audit_log(&Principal::Operator("test".into()), Some("acme"), 0, 500)
        .await
        .expect("audit");
    let record = audit
        .iter()
        .find(|r| r.action == "task.callback")
        .expect("the callback is audited");
    assert_eq!(record.actor, "connector:acme");
    assert_eq!(record.target, format!("task:{task}"));
    assert!(
        audit.iter().all(|r| !r.details.contains(SECRET)),
        "no secret in the audit log"
    );
    // A replayed callback is refused: the task is closed.
    let (status, _) = w.callback(&task, now, &signed, body).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_guided_task_cannot_be_executed_and_another_tenants_task_is_not_found() {
    let w = world().await;
    let (status, task) = w
        .call(
            "POST",
            &format!("/api/v1/tenants/acme/incidents/{}/tasks", w.incident),
            Some(json!({"kind": "free_text", "rationale": "rotate the access keys"})),
        )
        .await;
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["mode"], "guided");
    let id = task["id"].as_str().expect("id");
    let (status, err) = w.execute(id).await;
    assert_eq!(status, 409, "{err}");
    let message = err["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("guided") && message.contains("free-text tasks are for the customer"),
        "{message}"
    );
    assert!(w.received().is_empty(), "nothing was sent");
    // Acme's managed task, asked for through globex: not found.
    let managed = w.managed_task().await;
    let (status, err) = w
        .call(
            "POST",
            &format!("/api/v1/tenants/globex/tasks/{managed}/execute"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{err}");
    let customer = w
        .app
        .user("admin@globex.example", Role::CustomerAdmin, Some("globex"))
        .await;
    let resp = w
        .app
        .client()
        .post(
            w.app
                .url(&format!("/api/v1/tenants/acme/tasks/{managed}/execute")),
        )
        .bearer_auth(&customer)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404, "another tenant's customer sees nothing");
    assert!(w.received().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_manual_connector_records_that_an_expert_took_the_task_up() {
    let w = world().await;
    let (status, _) = w
        .call(
            "PATCH",
            "/api/v1/tenants/acme/settings",
            Some(json!({"changes": [{"op": "set_response_connector",
                                     "connector": {"kind": "manual"}}]})),
        )
        .await;
    assert_eq!(status, 403, "the customer's setting, not the analyst's");
    let op = Principal::Operator("test".into());
    w.app
        .service
        .update_tenant(
            &op,
            "acme",
            &[vigil_core::tenant::SettingChange::ResponseConnector(
                vigil_core::tenant::ResponseConnector::Manual,
            )],
        )
        .await
        .expect("manual");
    let task = w.managed_task().await;
    let (status, view) = w.execute(&task).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["task"]["status"], "in_progress");
    assert_eq!(view["executions"][0]["connector"], "manual");
    assert_eq!(view["executions"][0]["outcome"], "started");
    assert!(w.received().is_empty(), "nothing is posted");
    let (status, view) = w
        .call(
            "PATCH",
            &format!("/api/v1/tenants/acme/tasks/{task}"),
            Some(json!({"status": "completed", "note": "disabled in the console"})),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["task"]["status"], "completed");
}
