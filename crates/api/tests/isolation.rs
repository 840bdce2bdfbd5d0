//! Tenant isolation over HTTP: every route × every principal × own / other
//! tenant, built from the router's own route list, plus the bad-input
//! answers. Runs the router in-process (`oneshot`), no port.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use vigil_core::identity::{Principal, Role};
use vigil_service::{FixedClock, Service};
use vigil_store::{SqliteStore, Store};

const PASSWORD: &str = "correct horse battery staple";

struct World {
    app: Router,
    svc: Service,
    /// A customer responder of each tenant, who asks the inquiries.
    askers: Vec<(&'static str, Principal)>,
    /// name → bearer secret
    callers: Vec<(&'static str, String)>,
}

async fn world() -> World {
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new("2026-11-27T09:00:00Z".parse().expect("ts")));
    let svc = Service::new(Arc::new(store), clock);
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme").await.expect("acme");
    svc.create_tenant(&op, "globex", "Globex")
        .await
        .expect("globex");
    let mut callers = Vec::new();
    for (name, email, role, tenant) in [
        (
            "provider_admin",
            "admin@mdr.example",
            Role::ProviderAdmin,
            None,
        ),
        ("analyst", "analyst@mdr.example", Role::Analyst, None),
        (
            "delivery_manager",
            "dm@mdr.example",
            Role::DeliveryManager,
            None,
        ),
        (
            "customer_admin",
            "admin@acme.example",
            Role::CustomerAdmin,
            Some("acme"),
        ),
        (
            "customer_responder",
            "soc@acme.example",
            Role::CustomerResponder,
            Some("acme"),
        ),
        (
            "customer_reader",
            "reader@acme.example",
            Role::CustomerReader,
            Some("acme"),
        ),
    ] {
        svc.create_user(&op, email, role, tenant, PASSWORD)
            .await
            .expect("user");
        let (secret, _) = svc
            .create_token(&op, email, "test", None)
            .await
            .expect("token");
        callers.push((name, secret.expose().to_owned()));
    }
    let (key, _) = svc
        .create_ingest_key(&op, "acme", "test")
        .await
        .expect("key");
    callers.push(("ingest_key", key.expose().to_owned()));
    // An alert in each tenant.
    svc.add_rule_pack(
        &op,
        "test",
        "inline",
        vec![vigil_core::rules::RuleFile {
            pack: String::new(),
            path: "stop.yml".into(),
            yaml: vigil_fixtures::STOP_LOGGING_RULE.into(),
        }],
    )
    .await
    .expect("pack");
    for tenant in ["acme", "globex"] {
        svc.ingest(
            &op,
            Some(tenant),
            vigil_service::Intake {
                source: "test".into(),
                records: vec![vigil_service::Record {
                    at: vigil_service::At::Line(1),
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
    // A draft summary on each tenant's incident.
    for tenant in ["acme", "globex"] {
        let incident = svc
            .list_incidents(
                &op,
                tenant,
                vigil_service::IncidentFilter {
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .expect("incidents")[0]
            .incident
            .id;
        svc.draft_summary(&op, tenant, incident)
            .await
            .expect("draft");
    }
    // Recommendations in each tenant: a readiness run raises those its
    // failing checks call for (no sign-in logs arrive).
    for tenant in ["acme", "globex"] {
        svc.run_readiness(&op, tenant).await.expect("readiness");
        assert!(
            !svc.list_recommendations(&op, tenant)
                .await
                .expect("recommendations")
                .is_empty()
        );
    }
    // Owners of the tokens that callers try to revoke: someone else in
    // each tenant.
    for tenant in ["acme", "globex"] {
        svc.create_user(
            &op,
            &format!("owner@{tenant}.example"),
            Role::CustomerReader,
            Some(tenant),
            PASSWORD,
        )
        .await
        .expect("owner");
    }
    // A notification in each tenant, to its readers (held: the tenants are
    // onboarding).
    for tenant in ["acme", "globex"] {
        let t = svc.tenant(&op, tenant).await.expect("tenant");
        svc.notify(
            &t,
            vigil_core::notification::NewNotification {
                kind: vigil_core::notification::NotificationKind::Message,
                audience: vigil_core::notification::Audience::Roles(vec![Role::CustomerReader]),
                subject: "A message from the experts".into(),
                body: "Please read.".into(),
                link: None,
                incident: None,
            },
        )
        .await
        .expect("notification");
    }
    let mut askers = Vec::new();
    for tenant in ["acme", "globex"] {
        let user = svc
            .create_user(
                &op,
                &format!("asker@{tenant}.example"),
                Role::CustomerResponder,
                Some(tenant),
                PASSWORD,
            )
            .await
            .expect("asker");
        askers.push((tenant, Principal::user(&user)));
    }
    World {
        app: vigil_api::app(svc.clone()),
        svc,
        askers,
        callers,
    }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<(&str, String)>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(b) = bearer {
        req = req.header("authorization", format!("Bearer {b}"));
    }
    let req = match body {
        Some((content_type, text)) => req
            .header("content-type", content_type)
            .body(Body::from(text)),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    // A live stream never ends: its answer is the status.
    if resp
        .headers()
        .get("content-type")
        .is_some_and(|c| c.as_bytes().starts_with(b"text/event-stream"))
    {
        return (status, Value::Null);
    }
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

/// What each principal gets on each route, for its own tenant (acme) and
/// another (globex). Customers are scoped to acme; providers see both.
fn expected(method: &str, path: &str, who: &str, own: bool) -> StatusCode {
    let provider = matches!(who, "provider_admin" | "analyst" | "delivery_manager");
    let customer = who.starts_with("customer");
    // Outside the caller's scope nothing exists.
    let hidden = who == "ingest_key" || (customer && !own);
    match (method, path) {
        ("GET", "/tenants") => match who {
            "ingest_key" => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        },
        ("POST", "/tenants") => match who {
            "provider_admin" => StatusCode::CREATED,
            "analyst" | "delivery_manager" => StatusCode::FORBIDDEN,
            _ => StatusCode::NOT_FOUND,
        },
        ("GET", "/tenants/{tenant}") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () if provider || own => StatusCode::OK,
            () => StatusCode::NOT_FOUND,
        },
        // The body asks for `onboarding`, where the tenant already is: those
        // allowed to activate get the refusal of the move itself.
        ("POST", "/tenants/{tenant}/lifecycle") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "delivery_manager" => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/users") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "customer_admin" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/users") | ("POST", "/tenants/{tenant}/ingest-keys") => {
            match who {
                _ if hidden => StatusCode::NOT_FOUND,
                "provider_admin" | "customer_admin" => StatusCode::CREATED,
                _ => StatusCode::FORBIDDEN,
            }
        }
        ("PATCH", "/tenants/{tenant}/settings") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "delivery_manager" | "customer_admin" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/alerts")
        | ("GET", "/tenants/{tenant}/alerts/{id}")
        | ("GET", "/tenants/{tenant}/incidents")
        | ("GET", "/tenants/{tenant}/incidents/{id}")
        | ("GET", "/tenants/{tenant}/incidents/{id}/timeline")
        | ("GET", "/tenants/{tenant}/incidents/{id}/process-tree")
        | ("GET", "/tenants/{tenant}/incidents/{id}/related")
        | ("GET", "/tenants/{tenant}/incidents/{id}/sla")
        | ("GET", "/tenants/{tenant}/sla/breaches")
        | ("GET", "/tenants/{tenant}/reports/service")
        | ("GET", "/tenants/{tenant}/telemetry") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        ("GET", "/tenants/{tenant}/ingest-keys")
        | ("GET", "/tenants/{tenant}/audit")
        | ("GET", "/tenants/{tenant}/dead-letters") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "customer_admin" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("DELETE", "/tenants/{tenant}/ingest-keys/{id}") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "customer_admin" => StatusCode::NO_CONTENT,
            _ => StatusCode::FORBIDDEN,
        },
        // The whole log: provider admins; other provider roles are refused;
        // customers have no such thing.
        ("GET", "/audit") => match who {
            "provider_admin" => StatusCode::OK,
            "analyst" | "delivery_manager" => StatusCode::FORBIDDEN,
            _ => StatusCode::NOT_FOUND,
        },
        ("GET", "/tokens") | ("GET", "/me") => match who {
            "ingest_key" => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        },
        ("POST", "/tokens") => match who {
            "ingest_key" => StatusCode::NOT_FOUND,
            _ => StatusCode::CREATED,
        },
        // The token of another user of acme ("own") or of globex ("other").
        ("PATCH", "/tenants/{tenant}/incidents/{id}") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/verdicts") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::NO_CONTENT,
            _ => StatusCode::FORBIDDEN,
        },
        // Moving an incident's own alert into it: allowed roles get the
        // refusal of the move itself.
        ("POST", "/tenants/{tenant}/incidents/{id}/alerts") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/incidents/{id}/tasks")
        | ("GET", "/tenants/{tenant}/tasks/{task}") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        ("POST", "/tenants/{tenant}/incidents/{id}/response/publish") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        // The response was published just before (its route comes first):
        // only the customer's admins and responders acknowledge, again and
        // again alike.
        ("POST", "/tenants/{tenant}/incidents/{id}/response/acknowledge") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "customer_admin" | "customer_responder" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/incidents/{id}/tasks") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::CREATED,
            _ => StatusCode::FORBIDDEN,
        },
        // A fresh guided task each time: the customer's admins and
        // responders may act on it, readers and delivery managers not.
        ("PATCH", "/tenants/{tenant}/tasks/{task}") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" | "customer_admin" | "customer_responder" => {
                StatusCode::OK
            }
            _ => StatusCode::FORBIDDEN,
        },
        // The task is a fresh free-text one, so guided: experts are told it
        // cannot be executed.
        ("POST", "/tenants/{tenant}/tasks/{task}/execute") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        },
        // Only the connector's signature counts, never a bearer token: no
        // caller here signs, so every one is refused.
        ("POST", "/tenants/{tenant}/tasks/{task}/callback") => StatusCode::UNAUTHORIZED,
        // Only a draft exists: customers see nothing yet.
        ("GET", "/tenants/{tenant}/incidents/{id}/summary") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" | "delivery_manager" => StatusCode::OK,
            _ => StatusCode::NOT_FOUND,
        },
        ("PUT", "/tenants/{tenant}/incidents/{id}/summary")
        | ("POST", "/tenants/{tenant}/incidents/{id}/summary/draft")
        | ("POST", "/tenants/{tenant}/incidents/{id}/summary/publish") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/incidents/{id}/tags") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        // The tag is not there: allowed roles learn there is nothing to
        // remove.
        ("DELETE", "/tenants/{tenant}/incidents/{id}/tags/{tag}") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::BAD_REQUEST,
            _ => StatusCode::FORBIDDEN,
        },
        // The incident is not major: clearing the flag is refused, and
        // there is no IR engagement to move on.
        ("POST", "/tenants/{tenant}/incidents/{id}/major")
        | ("POST", "/tenants/{tenant}/incidents/{id}/ir-engagement") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/incidents/{id}/major/evaluate") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/incidents/{id}/ir-bundle") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        ("POST", "/tenants/{tenant}/incidents/{id}/merge") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/incidents/{id}/comments")
        | ("GET", "/tenants/{tenant}/incidents/{id}/messages")
        | ("GET", "/tenants/{tenant}/inquiries")
        | ("GET", "/tenants/{tenant}/inquiries/{id}") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        // The response is published by now (an earlier route): the chat is
        // open to those who may write in it.
        ("POST", "/tenants/{tenant}/incidents/{id}/messages")
        | ("POST", "/tenants/{tenant}/inquiries/{id}/messages") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" | "customer_admin" | "customer_responder" => {
                StatusCode::CREATED
            }
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/inquiries") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "customer_admin" | "customer_responder" => StatusCode::CREATED,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/inquiries/{id}/close") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" | "customer_admin" | "customer_responder" => {
                StatusCode::OK
            }
            _ => StatusCode::FORBIDDEN,
        },
        // No tenant in the path: everyone but an ingest key has a message
        // centre and a live stream (scoped to what they may see).
        ("GET", "/messages")
        | ("GET", "/messages.csv")
        | ("POST", "/messages/read")
        | ("GET", "/events/stream") => match who {
            "ingest_key" => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        },
        ("POST", "/tenants/{tenant}/incidents/{id}/comments") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" | "customer_admin" | "customer_responder" => {
                StatusCode::CREATED
            }
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/notifications")
        | ("GET", "/tenants/{tenant}/notifications/deliveries/{id}") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        // The delivery is held, not dead: admins get the refusal itself.
        ("POST", "/tenants/{tenant}/notifications/deliveries/{id}/retry") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "customer_admin" => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        },
        ("DELETE", "/tokens/{id}") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "customer_admin" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("GET", "/tenants/{tenant}/recommendations")
        | ("GET", "/tenants/{tenant}/recommendations/{id}")
        | ("GET", "/tenants/{tenant}/posture-score") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        // A note each time: the provider's admins and delivery managers,
        // the customer's admins and responders.
        ("PATCH", "/tenants/{tenant}/recommendations/{id}") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "delivery_manager" | "customer_admin" | "customer_responder" => {
                StatusCode::OK
            }
            _ => StatusCode::FORBIDDEN,
        },
        // The body gives a wrong current password: users get that answer.
        ("POST", "/me/password") => match who {
            "ingest_key" => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        },
        // Readiness: anyone who sees the tenant reads it (the run before
        // leaves an assessment to read); running it is for provider admins,
        // delivery managers and the customer's admins.
        ("GET", "/tenants/{tenant}/readiness")
        | ("GET", "/tenants/{tenant}/readiness/history")
        | ("GET", "/tenants/{tenant}/onboarding") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        ("POST", "/tenants/{tenant}/readiness/run") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "delivery_manager" | "customer_admin" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        // The provider's view across tenants: provider roles only.
        ("GET", "/reports/provider") => match who {
            "ingest_key" => StatusCode::NOT_FOUND,
            _ if provider => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        // Hunting is the experts' work: provider admins and analysts.
        ("POST", "/tenants/{tenant}/hunt")
        | ("GET", "/tenants/{tenant}/hunts")
        | ("GET", "/tenants/{tenant}/hunts/{id}")
        | ("PUT", "/tenants/{tenant}/hunts/{id}")
        | ("DELETE", "/tenants/{tenant}/hunts/{id}")
        | ("POST", "/tenants/{tenant}/hunts/{id}/run") => match who {
            _ if hidden => StatusCode::NOT_FOUND,
            "provider_admin" | "analyst" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/tenants/{tenant}/hunts") | ("POST", "/tenants/{tenant}/hunt-summaries") => {
            match who {
                _ if hidden => StatusCode::NOT_FOUND,
                "provider_admin" | "analyst" => StatusCode::CREATED,
                _ => StatusCode::FORBIDDEN,
            }
        }
        // Customers read the hunting summaries written for them.
        ("GET", "/tenants/{tenant}/hunt-summaries") => match () {
            () if hidden => StatusCode::NOT_FOUND,
            () => StatusCode::OK,
        },
        // Across tenants: provider roles only; a customer sees nothing.
        ("POST", "/hunt") | ("GET", "/hunt/schema") => match who {
            "provider_admin" | "analyst" => StatusCode::OK,
            "delivery_manager" => StatusCode::FORBIDDEN,
            _ => StatusCode::NOT_FOUND,
        },
        _ => panic!("route {method} {path} has no entry in the isolation matrix"),
    }
}

/// A valid body for each POST route (unique where it must be).
fn body_for(path: &str, n: usize) -> String {
    match path {
        "/tenants" => format!(r#"{{"slug":"new{n}","name":"New"}}"#),
        "/tenants/{tenant}/lifecycle" => r#"{"to":"onboarding"}"#.to_owned(),
        "/tenants/{tenant}/users" => format!(
            r#"{{"email":"user{n}@acme.example","role":"customer_reader","password":"{PASSWORD}"}}"#
        ),
        "/tenants/{tenant}/ingest-keys" => r#"{"name":"shipper"}"#.to_owned(),
        "/tokens" => r#"{"name":"script","expires_in":"1d"}"#.to_owned(),
        "/tenants/{tenant}/settings" => {
            format!(r#"{{"changes":[{{"op":"add_exclusion","asset":"device:HOST{n}"}}]}}"#)
        }
        "/tenants/{tenant}/incidents/{id}" => format!(r#"{{"add_tags":["t{n}"]}}"#),
        "/tenants/{tenant}/incidents/{id}/tags" => format!(r#"{{"tag":"tag{n}"}}"#),
        "/tenants/{tenant}/incidents/{id}/tasks" => {
            r#"{"kind":"disable_user","target":"user:mallory","rationale":"stopped the trail"}"#.to_owned()
        }
        "/tenants/{tenant}/tasks/{task}" => r#"{"status":"in_progress"}"#.to_owned(),
        "/tenants/{tenant}/tasks/{task}/execute" => String::new(),
        "/tenants/{tenant}/tasks/{task}/callback" => {
            r#"{"status":"completed","detail":"done"}"#.to_owned()
        }
        "/tenants/{tenant}/incidents/{id}/summary" => {
            r#"{"summary":{"what_happened":"Trail stopped by mallory.","scope_and_impact":"","root_cause":""}}"#.to_owned()
        }
        "/tenants/{tenant}/incidents/{id}/major" => {
            r#"{"major":false,"reason":"not a breach"}"#.to_owned()
        }
        "/tenants/{tenant}/incidents/{id}/ir-engagement" => r#"{"status":"engaged"}"#.to_owned(),
        "/tenants/{tenant}/incidents/{id}/response/publish"
        | "/tenants/{tenant}/incidents/{id}/response/acknowledge"
        | "/tenants/{tenant}/incidents/{id}/major/evaluate"
        | "/tenants/{tenant}/incidents/{id}/summary/draft"
        | "/tenants/{tenant}/incidents/{id}/summary/publish"
        | "/tenants/{tenant}/notifications/deliveries/{id}/retry" => String::new(),
        "/tenants/{tenant}/verdicts" => {
            r#"{"entity":"ip:203.0.113.9","verdict":"malicious"}"#.to_owned()
        }
        "/tenants/{tenant}/incidents/{id}/comments" => {
            r#"{"text":"Isolated the host; please confirm."}"#.to_owned()
        }
        "/tenants/{tenant}/incidents/{id}/messages" | "/tenants/{tenant}/inquiries/{id}/messages" => {
            format!(r#"{{"body":"Message {n}, please look."}}"#)
        }
        "/tenants/{tenant}/inquiries" => {
            format!(r#"{{"subject":"Question {n}","body":"Is the VPN login from abroad expected?"}}"#)
        }
        "/tenants/{tenant}/inquiries/{id}/close" => String::new(),
        // A thread with no messages: nothing to mark, but the route answers.
        "/messages/read" => r#"{"thread":"inquiry:019ac4c0-0000-7000-8000-000000000000"}"#.to_owned(),
        "/me/password" => {
            r#"{"current":"not the password","new":"another long password"}"#.to_owned()
        }
        "/tenants/{tenant}/readiness/run" => String::new(),
        "/tenants/{tenant}/recommendations/{id}" => format!(r#"{{"note":"note {n}"}}"#),
        "/tenants/{tenant}/hunt" | "/hunt" => {
            r#"{"query":"DeviceProcessEvents | summarize count() by DeviceName"}"#.to_owned()
        }
        "/tenants/{tenant}/hunts" | "/tenants/{tenant}/hunts/{id}" => format!(
            r#"{{"name":"hunt {n}","query":"CloudAppEvents | where ActionType == 'StopLogging'"}}"#
        ),
        "/tenants/{tenant}/hunts/{id}/run" => String::new(),
        "/tenants/{tenant}/hunt-summaries" => {
            r#"{"what":"trail tampering","why":"sector report","result":"one StopLogging","determination":"threat_found"}"#.to_owned()
        }
        other => panic!("no body for {other}"),
    }
}

#[tokio::test]
async fn every_route_answers_every_principal_as_the_isolation_matrix_says() {
    let w = world().await;
    let mut failures = Vec::new();
    let mut n = 0;
    let op = Principal::Operator("test".into());
    for (method, path, _) in vigil_api::api_routes() {
        for (who, secret) in &w.callers {
            for (own, tenant) in [(true, "acme"), (false, "globex")] {
                let mut concrete = path
                    .replace("{tenant}", tenant)
                    .replace("{tag}", "absent-tag");
                // The tenant's one alert (its incident's).
                let tenant_alert = w
                    .svc
                    .list_alerts(
                        &op,
                        tenant,
                        vigil_core::alert::AlertFilter {
                            limit: 1,
                            ..Default::default()
                        },
                    )
                    .await
                    .expect("alerts")[0]
                    .id;
                // A fresh live object of the tenant for each removal.
                if path.ends_with("/ingest-keys/{id}") {
                    let (_, key) = w
                        .svc
                        .create_ingest_key(&op, tenant, "doomed")
                        .await
                        .expect("key");
                    concrete = concrete.replace("{id}", &key.id.to_string());
                } else if path.ends_with("/alerts/{id}") {
                    let alerts = w
                        .svc
                        .list_alerts(
                            &op,
                            tenant,
                            vigil_core::alert::AlertFilter {
                                limit: 1,
                                ..Default::default()
                            },
                        )
                        .await
                        .expect("alerts");
                    concrete = concrete.replace("{id}", &alerts[0].id.to_string());
                } else if path.contains("/tasks/{task}") {
                    let incident = w
                        .svc
                        .list_incidents(
                            &op,
                            tenant,
                            vigil_service::IncidentFilter {
                                limit: 1,
                                ..Default::default()
                            },
                        )
                        .await
                        .expect("incidents")[0]
                        .incident
                        .id;
                    let task = w
                        .svc
                        .create_task(
                            &op,
                            tenant,
                            incident,
                            vigil_core::task::TaskType::FreeText,
                            None,
                            "rotate the access keys",
                        )
                        .await
                        .expect("task");
                    concrete = concrete.replace("{task}", &task.id.to_string());
                } else if path.contains("/inquiries/{id}") {
                    // A fresh open inquiry, asked by the tenant's own
                    // customer.
                    let asker = w
                        .askers
                        .iter()
                        .find(|(t, _)| *t == tenant)
                        .map(|(_, p)| p)
                        .expect("asker");
                    let inquiry = w
                        .svc
                        .create_inquiry(asker, tenant, "VPN logins", "Expected?")
                        .await
                        .expect("inquiry");
                    concrete = concrete.replace("{id}", &inquiry.inquiry.id.to_string());
                } else if path.contains("/incidents/{id}") {
                    let incidents = w
                        .svc
                        .list_incidents(
                            &op,
                            tenant,
                            vigil_service::IncidentFilter {
                                limit: 1,
                                ..Default::default()
                            },
                        )
                        .await
                        .expect("incidents");
                    concrete = concrete.replace("{id}", &incidents[0].incident.id.to_string());
                } else if path.contains("/deliveries/{id}") {
                    let log = w
                        .svc
                        .notifications(&op, tenant, None, 50)
                        .await
                        .expect("delivery log");
                    // Published responses add notifications that reach
                    // nobody (no contacts): take the readers'.
                    let delivery = log
                        .iter()
                        .find_map(|(_, ds)| ds.first())
                        .expect("a delivery");
                    concrete = concrete.replace("{id}", &delivery.id.to_string());
                } else if path.contains("/recommendations/{id}") {
                    let recs = w
                        .svc
                        .list_recommendations(&op, tenant)
                        .await
                        .expect("recommendations");
                    concrete = concrete.replace("{id}", &recs[0].id.to_string());
                } else if path.contains("/hunts/{id}") {
                    // A fresh saved hunt of the tenant's.
                    n += 1;
                    let h = w
                        .svc
                        .create_saved_hunt(
                            &op,
                            tenant,
                            &vigil_service::HuntDraft {
                                name: format!("saved {n}"),
                                query: "DeviceProcessEvents | take 1".into(),
                                description: String::new(),
                                schedule: None,
                            },
                        )
                        .await
                        .expect("saved hunt");
                    concrete = concrete.replace("{id}", &h.id.to_string());
                } else if path == "/tokens/{id}" {
                    let owner = format!("owner@{tenant}.example");
                    let (_, token) = w
                        .svc
                        .create_token(&op, &owner, "doomed", None)
                        .await
                        .expect("token");
                    concrete = concrete.replace("{id}", &token.id.to_string());
                }
                let body = matches!(method, "POST" | "PATCH" | "PUT").then(|| {
                    n += 1;
                    if path.ends_with("/incidents/{id}/alerts") {
                        return (
                            "application/json",
                            format!(r#"{{"alert_id":"{tenant_alert}"}}"#),
                        );
                    }
                    if path.ends_with("/merge") {
                        // Merging an incident with itself: allowed roles
                        // get the refusal of the merge itself.
                        let id = concrete.split('/').nth(4).unwrap_or_default();
                        return ("application/json", format!(r#"{{"from":"{id}"}}"#));
                    }
                    ("application/json", body_for(path, n))
                });
                let (status, json) = call(
                    &w.app,
                    method,
                    &format!("/api/v1{concrete}"),
                    Some(secret),
                    body,
                )
                .await;
                let want = expected(method, path, who, own);
                if status != want {
                    failures.push(format!(
                        "{method} {concrete} as {who}: {status} (want {want}) {json}"
                    ));
                }
                if status == StatusCode::OK && method == "GET" && path == "/tenants" {
                    let slugs: Vec<&str> = json
                        .as_array()
                        .expect("list")
                        .iter()
                        .filter_map(|t| t["slug"].as_str())
                        .collect();
                    let customer = who.starts_with("customer");
                    assert!(!customer || slugs == ["acme"], "{who} lists {slugs:?}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn requests_without_a_valid_credential_are_unauthenticated() {
    let w = world().await;
    for bearer in [None, Some("vgt_forged"), Some("vgk_forged"), Some("")] {
        let (status, json) = call(&w.app, "GET", "/api/v1/tenants", bearer, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert_eq!(json["error"]["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn bad_bodies_get_clear_errors() {
    let w = world().await;
    let admin = &w.callers[0].1;
    let post = |body: (&'static str, String)| {
        call(&w.app, "POST", "/api/v1/tenants", Some(admin), Some(body))
    };
    let (status, json) = post(("application/json", "{\"slug\": 5}".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json["error"]["message"]
            .as_str()
            .expect("message")
            .contains("slug"),
        "{json}"
    );
    let (status, json) = post((
        "application/json",
        r#"{"slug":"x1","name":"X","colour":"red"}"#.into(),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json["error"]["message"]
            .as_str()
            .expect("message")
            .contains("colour"),
        "{json}"
    );
    let (status, _) = post(("application/json", "{not json".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, json) = post(("text/plain", r#"{"slug":"x2","name":"X"}"#.into())).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{json}");
    let big = format!(
        r#"{{"slug":"x3","name":"{}"}}"#,
        "a".repeat(vigil_api::MAX_BODY_BYTES + 10)
    );
    let (status, _) = post(("application/json", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, json) = post((
        "application/json",
        r#"{"slug":"Bad Slug","name":"X"}"#.into(),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"]["code"], "invalid");
    let (status, json) = post((
        "application/json",
        r#"{"slug":"acme","name":"Again"}"#.into(),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{json}");
}

#[tokio::test]
async fn responses_carry_a_request_id_and_health_needs_no_credential() {
    let w = world().await;
    let resp = w
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/healthz")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("resp");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key("x-request-id"));
    let resp = w
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/readyz")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("resp");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let (status, json) = call(&w.app, "GET", "/nowhere", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["error"]["code"], "not_found");
}
