//! Conversations over HTTP against a real server: incident chat, inquiries,
//! internal comments, the message centre (read state, filters, CSV) and the
//! live stream (docs/messages.md).

mod support;

use std::time::Duration;

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, spawn_app};
use vigil_core::identity::{Principal, Role};
use vigil_core::notification::{Audience, Destination, NotificationKind};
use vigil_service::{At, Intake, Record};

/// A server with an incident in each tenant and these users' tokens.
struct World {
    app: TestApp,
    analyst: String,
    acme_admin: String,
    acme_responder: String,
    acme_reader: String,
    globex_admin: String,
    /// Each tenant's incident id.
    acme_incident: String,
    globex_incident: String,
}

fn op() -> Principal {
    Principal::Operator("test".into())
}

async fn incident_in(app: &TestApp, tenant: &str) -> String {
    app.service
        .ingest(
            &op(),
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
    let (engine, _) = app.service.detection_engine().await.expect("engine");
    app.service.drain_detection(&engine).await.expect("detect");
    let list = app
        .service
        .list_incidents(
            &op(),
            tenant,
            vigil_service::IncidentFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("incidents");
    list[0].incident.id.to_string()
}

/// Publish the incident's response: its chat opens.
async fn publish(app: &TestApp, tenant: &str, incident: &str) {
    let id = incident.parse().expect("id");
    app.service
        .draft_summary(&op(), tenant, id)
        .await
        .expect("draft");
    app.service
        .publish_response(&op(), tenant, id)
        .await
        .expect("publish");
}

async fn world() -> World {
    let app = spawn_app().await;
    vigil_fixtures::add_stop_logging_rule(&app.service, &op()).await;
    let acme_incident = incident_in(&app, "acme").await;
    let globex_incident = incident_in(&app, "globex").await;
    World {
        analyst: app.user("analyst@mdr.example", Role::Analyst, None).await,
        acme_admin: app
            .user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
            .await,
        acme_responder: app
            .user("soc@acme.example", Role::CustomerResponder, Some("acme"))
            .await,
        acme_reader: app
            .user("reader@acme.example", Role::CustomerReader, Some("acme"))
            .await,
        globex_admin: app
            .user("admin@globex.example", Role::CustomerAdmin, Some("globex"))
            .await,
        acme_incident,
        globex_incident,
        app,
    }
}

impl World {
    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let resp = self
            .app
            .client()
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .app
            .client()
            .post(self.app.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    fn chat(&self, tenant: &str) -> String {
        let id = if tenant == "acme" {
            &self.acme_incident
        } else {
            &self.globex_incident
        };
        format!("/api/v1/tenants/{tenant}/incidents/{id}/messages")
    }

    /// Post and expect 201; returns the message.
    async fn say(&self, token: &str, path: &str, body: &str) -> Value {
        let (status, m) = self.post(token, path, json!({ "body": body })).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {m}");
        m
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_customer_never_sees_another_tenants_thread_or_inquiry() {
    let w = world().await;
    publish(&w.app, "acme", &w.acme_incident).await;
    publish(&w.app, "globex", &w.globex_incident).await;
    let theirs = w
        .say(
            &w.analyst,
            &w.chat("globex"),
            "Globex: we isolated the host.",
        )
        .await;
    let (status, inquiry) = w
        .post(
            &w.globex_admin,
            "/api/v1/tenants/globex/inquiries",
            json!({"subject": "Globex question", "body": "Is our VPN exposed?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inquiry}");
    let inquiry_id = inquiry["id"].as_str().expect("id");

    // Another tenant's thread and inquiry do not exist for acme's users,
    // whether asked under globex or under acme.
    for token in [&w.acme_admin, &w.acme_responder, &w.acme_reader] {
        // A reader may write nowhere in its own tenant, whatever the id: it
        // is refused before anything is looked up, so that reveals nothing.
        let own_refusal = if token == &w.acme_reader {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        };
        for path in [
            w.chat("globex"),
            format!("/api/v1/tenants/globex/inquiries/{inquiry_id}"),
            format!("/api/v1/tenants/acme/inquiries/{inquiry_id}"),
            "/api/v1/tenants/globex/inquiries".to_owned(),
            "/api/v1/messages?tenant=globex".to_owned(),
        ] {
            let (status, body) = w.get(token, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}: {body}");
        }
        for path in [
            w.chat("globex"),
            format!("/api/v1/tenants/globex/inquiries/{inquiry_id}/messages"),
            format!("/api/v1/tenants/acme/inquiries/{inquiry_id}/messages"),
        ] {
            let (status, body) = w.post(token, &path, json!({"body": "hello?"})).await;
            let want = if path.starts_with("/api/v1/tenants/acme") {
                own_refusal
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(status, want, "POST {path}: {body}");
        }
        let (status, _) = w
            .post(
                token,
                &format!("/api/v1/tenants/acme/inquiries/{inquiry_id}/close"),
                json!({}),
            )
            .await;
        assert_eq!(status, own_refusal);
        // The message centre lists none of globex's messages, and marking
        // one read says it does not exist.
        let (status, centre) = w.get(token, "/api/v1/messages").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            centre["items"]
                .as_array()
                .expect("items")
                .iter()
                .all(|m| m["tenant"] == "acme"),
            "{centre}"
        );
        let (status, _) = w
            .post(
                token,
                "/api/v1/messages/read",
                json!({"ids": [theirs["id"]]}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // The experts see both tenants' messages.
    let (_, centre) = w.get(&w.analyst, "/api/v1/messages").await;
    let tenants: Vec<&str> = centre["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["tenant"].as_str())
        .collect();
    assert!(tenants.contains(&"globex"), "{centre}");
}

#[tokio::test]
async fn posting_in_an_incident_chat_before_the_response_is_published_is_refused_with_409() {
    let w = world().await;
    let id: vigil_core::incident::IncidentId = w.acme_incident.parse().expect("id");
    // A draft is not a response.
    w.app
        .service
        .draft_summary(&op(), "acme", id)
        .await
        .expect("draft");
    for token in [&w.analyst, &w.acme_admin] {
        let (status, body) = w
            .post(token, &w.chat("acme"), json!({"body": "anyone there?"}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains("no published response"), "{message}");
        let (status, _) = w.get(token, &w.chat("acme")).await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
    w.app
        .service
        .publish_response(&op(), "acme", id)
        .await
        .expect("publish");
    w.say(&w.acme_responder, &w.chat("acme"), "We see it now.")
        .await;
    // Readers read; they do not write. Bodies are checked.
    let (status, _) = w
        .post(&w.acme_reader, &w.chat("acme"), json!({"body": "me too"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for bad in [json!({"body": "  "}), json!({"body": "x".repeat(10_001)})] {
        let (status, body) = w.post(&w.analyst, &w.chat("acme"), bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, list) = w.get(&w.acme_reader, &w.chat("acme")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["body"], "We see it now.");
    assert_eq!(list["items"][0]["side"], "customer");
    assert_eq!(list["items"][0]["author"], "user:soc@acme.example");
    assert_eq!(list["items"][0]["thread"]["kind"], "incident");
}

#[tokio::test]
async fn a_customer_never_sees_the_experts_internal_comments() {
    let w = world().await;
    publish(&w.app, "acme", &w.acme_incident).await;
    let incident = format!("/api/v1/tenants/acme/incidents/{}", w.acme_incident);
    let comments = format!("{incident}/comments");
    // Live streams open before anything is said.
    let mut customer = LiveStream::open(&w.app, &w.acme_reader).await;
    let mut expert = LiveStream::open(&w.app, &w.analyst).await;

    let (status, _) = w
        .post(
            &w.analyst,
            &comments,
            json!({"text": "INTERNAL: looks like the red team", "internal": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = w
        .post(
            &w.analyst,
            &comments,
            json!({"text": "We are on it.", "internal": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    w.say(
        &w.analyst,
        &w.chat("acme"),
        "Please confirm the change window.",
    )
    .await;
    // The customer cannot write internal comments.
    let (status, _) = w
        .post(
            &w.acme_admin,
            &comments,
            json!({"text": "sneaky", "internal": true}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let leaks = |v: &Value| v.to_string().contains("INTERNAL");
    for token in [&w.acme_admin, &w.acme_responder, &w.acme_reader] {
        for path in [
            incident.clone(),
            comments.clone(),
            w.chat("acme"),
            "/api/v1/messages".to_owned(),
        ] {
            let (status, body) = w.get(token, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(!leaks(&body), "{path} shows an internal comment: {body}");
        }
        let (_, view) = w.get(token, &incident).await;
        assert!(
            view["activity"]
                .as_array()
                .expect("activity")
                .iter()
                .all(|a| a["action"] != "internal_comment"),
            "{view}"
        );
        let (_, list) = w.get(token, &comments).await;
        assert_eq!(list["items"].as_array().expect("items").len(), 1);
    }
    // The experts see both.
    let (_, list) = w.get(&w.analyst, &comments).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    assert_eq!(list["items"][0]["internal"], true);

    // On the live stream the customer's first notice is the public
    // comment: the internal one, said first, never came.
    let (kind, _) = customer.next().await;
    assert_eq!(kind, "comment");
    let (kind, _) = customer.next().await;
    assert_eq!(kind, "message");
    let (kind, _) = expert.next().await;
    assert_eq!(kind, "internal_comment");
}

#[tokio::test]
async fn the_message_centre_keeps_read_state_filters_and_exports_csv() {
    let w = world().await;
    publish(&w.app, "acme", &w.acme_incident).await;
    publish(&w.app, "globex", &w.globex_incident).await;
    let tricky = "=HYPERLINK(\"http://evil.example\",\"click\"), then \"quote\"\nand a second line";
    let first = w.say(&w.analyst, &w.chat("acme"), tricky).await;
    w.app.clock.advance(SignedDuration::from_mins(10));
    let (status, inquiry) = w
        .post(
            &w.acme_responder,
            "/api/v1/tenants/acme/inquiries",
            json!({"subject": "@VPN, abroad", "body": "-Is travel expected?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inquiry}");
    let inquiry_id = inquiry["id"].as_str().expect("id").to_owned();
    w.app.clock.advance(SignedDuration::from_mins(10));
    let reply = w
        .say(
            &w.analyst,
            &format!("/api/v1/tenants/acme/inquiries/{inquiry_id}/messages"),
            "+Yes, the sales trip.",
        )
        .await;
    w.app.clock.advance(SignedDuration::from_mins(10));
    w.say(&w.analyst, &w.chat("globex"), "Globex only.").await;

    // Unread for the admin: the experts' two acme messages (the
    // responder's question is someone else's, so unread too).
    let (_, unread) = w.get(&w.acme_admin, "/api/v1/messages?status=unread").await;
    assert_eq!(
        unread["items"].as_array().expect("items").len(),
        3,
        "{unread}"
    );
    let (status, marked) = w
        .post(
            &w.acme_admin,
            "/api/v1/messages/read",
            json!({"ids": [first["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(marked["marked"], 1);
    let (_, read) = w.get(&w.acme_admin, "/api/v1/messages?status=read").await;
    assert_eq!(
        ids(&read),
        vec![first["id"].as_str().expect("id").to_owned()]
    );
    // A whole thread at once; read state is per user.
    let (_, marked) = w
        .post(
            &w.acme_admin,
            "/api/v1/messages/read",
            json!({"thread": format!("inquiry:{inquiry_id}")}),
        )
        .await;
    assert_eq!(marked["marked"], 2);
    let (_, unread) = w.get(&w.acme_admin, "/api/v1/messages?status=unread").await;
    assert!(ids(&unread).is_empty(), "{unread}");
    let (_, unread) = w
        .get(&w.acme_responder, "/api/v1/messages?status=unread")
        .await;
    assert_eq!(
        ids(&unread).len(),
        2,
        "the responder's own question is read"
    );
    let (_, again) = w
        .post(
            &w.acme_admin,
            "/api/v1/messages/read",
            json!({"ids": [reply["id"]], "unread": true}),
        )
        .await;
    assert_eq!(again["marked"], 1);
    let (_, unread) = w.get(&w.acme_admin, "/api/v1/messages?status=unread").await;
    assert_eq!(
        ids(&unread),
        vec![reply["id"].as_str().expect("id").to_owned()]
    );

    // Filters: submitter, incident, inquiry status, period, tenant.
    let count = |v: &Value| v["items"].as_array().expect("items").len();
    let (_, by) = w
        .get(&w.analyst, "/api/v1/messages?submitter=soc@acme.example")
        .await;
    assert_eq!(count(&by), 1);
    let (_, chat) = w
        .get(
            &w.analyst,
            &format!("/api/v1/messages?incident={}", w.acme_incident),
        )
        .await;
    assert_eq!(count(&chat), 1);
    let (_, answered) = w.get(&w.analyst, "/api/v1/messages?status=answered").await;
    assert_eq!(count(&answered), 2);
    let (_, open) = w.get(&w.analyst, "/api/v1/messages?status=open").await;
    assert_eq!(count(&open), 0);
    let (_, period) = w
        .get(
            &w.analyst,
            "/api/v1/messages?from=2026-11-27T09:05:00Z&to=2026-11-27T09:25:00Z",
        )
        .await;
    assert_eq!(count(&period), 2, "{period}");
    let (_, globex) = w.get(&w.analyst, "/api/v1/messages?tenant=globex").await;
    assert_eq!(count(&globex), 1);
    let (_, all) = w.get(&w.analyst, "/api/v1/messages").await;
    assert_eq!(count(&all), 4);
    let (_, page) = w.get(&w.analyst, "/api/v1/messages?limit=3").await;
    let next = page["next"].as_str().expect("a next page");
    let (_, rest) = w
        .get(
            &w.analyst,
            &format!("/api/v1/messages?limit=3&cursor={next}"),
        )
        .await;
    assert_eq!(count(&rest), 1);
    let (status, bad) = w.get(&w.analyst, "/api/v1/messages?status=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"]["message"]
            .as_str()
            .expect("m")
            .starts_with("status")
    );

    // CSV: both routes, parsed back.
    for path in ["/api/v1/messages.csv", "/api/v1/messages?format=csv"] {
        let resp = w
            .app
            .client()
            .get(w.app.url(&format!(
                "{path}{}tenant=acme",
                if path.contains('?') { "&" } else { "?" }
            )))
            .bearer_auth(&w.acme_admin)
            .send()
            .await
            .expect("csv");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/csv")
        );
        let text = resp.text().await.expect("body");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header[0], "id");
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let rows: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .expect("rows parse");
        assert_eq!(rows.len(), 3, "acme only: {text}");
        let by_id = |id: &Value| {
            rows.iter()
                .find(|r| r[col("id")] == *id.as_str().expect("id"))
                .expect("row")
                .clone()
        };
        let row = by_id(&first["id"]);
        // Commas, quotes and the newline survive; the formula is defused.
        assert_eq!(&row[col("body")], format!("'{tricky}"));
        assert_eq!(&row[col("thread_kind")], "incident");
        assert_eq!(&row[col("read")], "true");
        let row = by_id(&reply["id"]);
        assert_eq!(&row[col("body")], "'+Yes, the sales trip.");
        assert_eq!(&row[col("thread_title")], "'@VPN, abroad");
        assert_eq!(&row[col("inquiry_status")], "answered");
        assert_eq!(&row[col("read")], "false");
    }
}

#[tokio::test]
async fn an_inquiry_is_answered_by_the_experts_reopened_by_the_customer_and_closed_by_either() {
    let w = world().await;
    let (status, inquiry) = w
        .post(
            &w.acme_responder,
            "/api/v1/tenants/acme/inquiries",
            json!({"subject": "Phishing test next week", "body": "Should we tell you first?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inquiry}");
    assert_eq!(inquiry["status"], "open");
    let id = inquiry["id"].as_str().expect("id");
    let base = format!("/api/v1/tenants/acme/inquiries/{id}");
    // Only the customer asks.
    let (status, _) = w
        .post(
            &w.analyst,
            "/api/v1/tenants/acme/inquiries",
            json!({"subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w
        .post(
            &w.acme_reader,
            "/api/v1/tenants/acme/inquiries",
            json!({"subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let status_of = |v: &Value| v["status"].as_str().unwrap_or_default().to_owned();
    w.say(&w.analyst, &format!("{base}/messages"), "Yes, please.")
        .await;
    let (_, v) = w.get(&w.acme_reader, &base).await;
    assert_eq!(status_of(&v), "answered");
    w.say(
        &w.acme_admin,
        &format!("{base}/messages"),
        "Dates attached.",
    )
    .await;
    let (_, v) = w.get(&w.acme_reader, &base).await;
    assert_eq!(status_of(&v), "open");
    assert_eq!(v["messages"].as_array().expect("messages").len(), 3);
    let (_, list) = w
        .get(&w.analyst, "/api/v1/tenants/acme/inquiries?status=open")
        .await;
    assert_eq!(ids(&list), vec![id.to_owned()]);
    let (_, list) = w
        .get(
            &w.analyst,
            "/api/v1/tenants/acme/inquiries?submitter=soc@acme.example",
        )
        .await;
    assert_eq!(ids(&list), vec![id.to_owned()]);
    let (status, closed) = w
        .post(&w.acme_admin, &format!("{base}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_by"], "user:admin@acme.example");
    let (status, body) = w
        .post(
            &w.analyst,
            &format!("{base}/messages"),
            json!({"body": "late"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = w
        .post(&w.analyst, &format!("{base}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Closing is audited.
    let log = w
        .app
        .service
        .audit_log(&op(), Some("acme"), 0, 1000)
        .await
        .expect("audit");
    assert!(log.iter().any(|r| r.action == "inquiry.close"), "{log:?}");
}

#[tokio::test]
async fn a_customer_message_notifies_the_experts_and_an_expert_message_notifies_the_customer() {
    let w = world().await;
    publish(&w.app, "acme", &w.acme_incident).await;
    let before = notifications(&w.app).await.len();
    // Each step a minute later: the newest notification comes first.
    w.app.clock.advance(SignedDuration::from_mins(1));
    w.say(&w.acme_responder, &w.chat("acme"), "Host is isolated now.")
        .await;
    let after = notifications(&w.app).await;
    assert_eq!(after.len(), before + 1);
    let (n, deliveries) = &after[0];
    assert_eq!(n.kind, NotificationKind::Message);
    assert_eq!(n.audience, Audience::Roles(vec![Role::Analyst]));
    assert_eq!(
        n.link.as_deref(),
        Some(format!("/tenants/acme/incidents/{}", w.acme_incident).as_str())
    );
    assert!(n.body.contains("Host is isolated now."));
    let to: Vec<String> = deliveries
        .iter()
        .map(|d| d.destination.to_string())
        .collect();
    assert_eq!(to, vec!["email:analyst@mdr.example"], "{to:?}");

    w.app.clock.advance(SignedDuration::from_mins(1));
    w.say(&w.analyst, &w.chat("acme"), "Thanks, verifying.")
        .await;
    let after = notifications(&w.app).await;
    let (n, deliveries) = &after[0];
    assert_eq!(n.kind, NotificationKind::Message);
    assert_eq!(
        n.audience,
        Audience::Roles(vec![Role::CustomerAdmin, Role::CustomerResponder])
    );
    let mut to: Vec<String> = deliveries
        .iter()
        .filter_map(|d| match &d.destination {
            Destination::Email { to } => Some(to.clone()),
            Destination::Webhook { .. } => None,
        })
        .collect();
    to.sort();
    assert_eq!(to, vec!["admin@acme.example", "soc@acme.example"]);

    // An inquiry reaches the experts as an inquiry, linked to it.
    w.app.clock.advance(SignedDuration::from_mins(1));
    let (_, inquiry) = w
        .post(
            &w.acme_admin,
            "/api/v1/tenants/acme/inquiries",
            json!({"subject": "Firewall rules", "body": "Can you review them?"}),
        )
        .await;
    let after = notifications(&w.app).await;
    let (n, _) = &after[0];
    assert_eq!(n.kind, NotificationKind::Inquiry);
    assert_eq!(n.audience, Audience::Roles(vec![Role::Analyst]));
    assert_eq!(
        n.link.as_deref(),
        Some(
            format!(
                "/tenants/acme/inquiries/{}",
                inquiry["id"].as_str().expect("id")
            )
            .as_str()
        )
    );
}

async fn notifications(
    app: &TestApp,
) -> Vec<(
    vigil_core::notification::Notification,
    Vec<vigil_core::notification::Delivery>,
)> {
    app.service
        .notifications(&op(), "acme", None, 200)
        .await
        .expect("notifications")
}

#[tokio::test]
async fn the_live_stream_sends_a_tenants_message_to_its_users_and_not_to_another_tenants() {
    let w = world().await;
    publish(&w.app, "acme", &w.acme_incident).await;
    publish(&w.app, "globex", &w.globex_incident).await;
    let mut acme = LiveStream::open(&w.app, &w.acme_reader).await;
    let mut globex = LiveStream::open(&w.app, &w.globex_admin).await;
    // Acme's message is said first, globex's second: globex's first notice
    // being its own proves acme's never reached it.
    let said = w.say(&w.analyst, &w.chat("acme"), "For acme.").await;
    w.say(&w.analyst, &w.chat("globex"), "For globex.").await;
    let (kind, data) = acme.next().await;
    assert_eq!(kind, "message");
    assert_eq!(data["tenant"], "acme");
    assert_eq!(data["id"], said["id"]);
    assert_eq!(data["incident"], w.acme_incident.as_str());
    let (kind, data) = globex.next().await;
    assert_eq!(kind, "message");
    assert_eq!(data["tenant"], "globex", "{data}");

    // Without a credential there is no stream.
    let resp = w
        .app
        .client()
        .get(w.app.url("/api/v1/events/stream"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_live_stream_ends_when_its_token_is_revoked_and_sends_nothing_more() {
    let w = world().await;
    publish(&w.app, "acme", &w.acme_incident).await;
    let mut stream = LiveStream::open(&w.app, &w.acme_reader).await;
    let svc = &w.app.service;
    let tokens = svc
        .list_tokens(&op(), "reader@acme.example")
        .await
        .expect("tokens");
    for t in tokens {
        svc.revoke_token(&op(), "reader@acme.example", t.id)
            .await
            .expect("revoke");
    }
    w.say(&w.analyst, &w.chat("acme"), "Not for a revoked token.")
        .await;
    assert_eq!(
        stream.next_or_end().await,
        None,
        "the stream ends instead of sending the message"
    );
}

/// A reader of `/api/v1/events/stream`.
struct LiveStream {
    resp: reqwest::Response,
    buf: String,
}

impl LiveStream {
    async fn open(app: &TestApp, token: &str) -> LiveStream {
        let resp = app
            .client()
            .get(app.url("/api/v1/events/stream"))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/event-stream")
        );
        LiveStream {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (name and JSON data), skipping keep-alive comments.
    /// The time limit only keeps a broken server from hanging the test.
    async fn next(&mut self) -> (String, Value) {
        self.next_or_end().await.expect("the stream stays open")
    }

    /// The next event, or `None` when the server ends the stream first.
    async fn next_or_end(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if name.is_empty() {
                    continue;
                }
                return Some((name, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.resp.chunk())
                .await
                .expect("an event arrives")
                .expect("the stream reads")?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
