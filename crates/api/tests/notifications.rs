//! The delivery log over a real socket: a customer admin sees only its own
//! tenant's notifications, webhook destinations by channel name only, a
//! delivery's attempts, and can requeue a dead delivery; readers cannot.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::spawn_app;
use vigil_core::identity::{Principal, Role};
use vigil_core::notification::{Audience, NewNotification, NotificationKind};
use vigil_core::tenant::{
    Channel, ChannelKind, Contact, ContactKind, Lifecycle, Secret, SettingChange, WebhookFormat,
};
use vigil_service::{Outbound, SendError};

/// A receiver that refuses everything for good: deliveries die at once.
#[derive(Debug)]
struct Refuse;

#[async_trait::async_trait]
impl Outbound for Refuse {
    async fn send_email(&self, _: &str, _: &str, _: &str, _: &str) -> Result<(), SendError> {
        Err(SendError::Permanent("550 no such mailbox".into()))
    }
    async fn post_webhook(
        &self,
        _: &str,
        _: &[u8],
        _: &[(&'static str, String)],
    ) -> Result<(), SendError> {
        Err(SendError::Permanent(
            "the receiver answered 410 Gone".into(),
        ))
    }
}

const HOOK_URL: &str = "https://hooks.slack.example/services/T0/B0/SECRETPATH";

#[tokio::test]
async fn a_customer_admin_sees_only_its_tenants_delivery_log_and_can_requeue_a_dead_delivery() {
    let app = spawn_app().await;
    let op = Principal::Operator("test".into());
    let svc = &app.service;
    for tenant in ["acme", "globex"] {
        svc.update_tenant(
            &op,
            tenant,
            &[
                SettingChange::AddContact(Contact {
                    kind: ContactKind::Incident,
                    name: "Ada".into(),
                    email: Some(format!("ada@{tenant}.example")),
                    phone: None,
                    priority: 1,
                }),
                SettingChange::AddChannel(Channel {
                    name: "soc".into(),
                    kind: ChannelKind::Webhook {
                        url: HOOK_URL.into(),
                        format: WebhookFormat::Slack,
                        secret: Secret::new("0123456789abcdef"),
                    },
                }),
            ],
        )
        .await
        .expect("settings");
    }
    // acme is live (its deliveries go out, and fail); globex is still
    // onboarding (held).
    for step in [Lifecycle::Monitoring, Lifecycle::Live] {
        svc.transition_tenant(&op, "acme", step, Some("test"))
            .await
            .expect("lifecycle");
    }
    for tenant in ["acme", "globex"] {
        let t = svc.tenant(&op, tenant).await.expect("tenant");
        svc.notify(
            &t,
            NewNotification {
                kind: NotificationKind::Message,
                audience: Audience::IncidentContacts,
                subject: format!("{tenant} notice"),
                body: "Please read.".into(),
                link: Some(format!("/tenants/{tenant}")),
                incident: None,
            },
        )
        .await
        .expect("notify");
    }
    let report = svc.deliver_due(&Refuse, 100).await.expect("deliver");
    assert_eq!(report.dead, 2, "acme's email and webhook");

    let admin = app
        .user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let reader = app
        .user("reader@acme.example", Role::CustomerReader, Some("acme"))
        .await;
    let client = app.client();
    let get = |path: String, token: String| {
        let client = client.clone();
        let url = app.url(&path);
        async move {
            let resp = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("response");
            let status = resp.status();
            let text = resp.text().await.expect("body");
            (status, text)
        }
    };

    let (status, text) = get("/api/v1/tenants/acme/notifications".into(), admin.clone()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains("SECRETPATH") && !text.contains("hooks.slack.example"));
    let log: Value = serde_json::from_str(&text).expect("json");
    let items = log["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{log}");
    assert_eq!(items[0]["subject"], "acme notice");
    let deliveries = items[0]["deliveries"].as_array().expect("deliveries");
    let mut destinations: Vec<String> = deliveries
        .iter()
        .map(|d| d["destination"].to_string())
        .collect();
    destinations.sort();
    assert_eq!(
        destinations,
        [
            r#"{"kind":"email","to":"ada@acme.example"}"#,
            r#"{"kind":"webhook","channel":"soc"}"#,
        ]
    );
    for d in deliveries {
        assert_eq!(d["status"], "dead");
        assert_eq!(d["attempts"], 1);
        assert!(d["last_error"].is_string());
    }
    let dead = deliveries
        .iter()
        .find(|d| d["destination"]["kind"] == "webhook")
        .and_then(|d| d["id"].as_str())
        .expect("the webhook's delivery")
        .to_owned();

    // Another tenant's log, and its delivery under either tenant: not found.
    let globex_delivery = svc
        .notifications(&op, "globex", None, 1)
        .await
        .expect("globex log")[0]
        .1[0]
        .clone();
    assert_eq!(
        globex_delivery.status,
        vigil_core::notification::DeliveryStatus::Held
    );
    for path in [
        "/api/v1/tenants/globex/notifications".to_owned(),
        format!(
            "/api/v1/tenants/globex/notifications/deliveries/{}",
            globex_delivery.id
        ),
        format!(
            "/api/v1/tenants/acme/notifications/deliveries/{}",
            globex_delivery.id
        ),
    ] {
        let (status, text) = get(path.clone(), admin.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {text}");
        assert!(!text.contains("globex notice"));
    }

    let (status, text) = get(
        format!("/api/v1/tenants/acme/notifications/deliveries/{dead}"),
        reader.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let view: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(view["notification"]["subject"], "acme notice");
    assert_eq!(view["attempts"][0]["outcome"], "dead");
    assert!(!text.contains("SECRETPATH"));

    let retry = |token: String| {
        let client = client.clone();
        let url = app.url(&format!(
            "/api/v1/tenants/acme/notifications/deliveries/{dead}/retry"
        ));
        async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("response");
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, _) = retry(reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = retry(admin.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["attempts"], 0);
    let (status, body) = retry(admin).await;
    assert_eq!(status, StatusCode::CONFLICT, "only the dead: {body}");
    let audit = svc
        .audit_log(&op, Some("acme"), 0, 500)
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|r| r.action == "notification.retry" && r.actor == "user:admin@acme.example")
    );
}
