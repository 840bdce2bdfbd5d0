//! Notifications end to end: a response is published, the delivery worker
//! runs with the real senders, and real listeners started here (an SMTP
//! server, an HTTP receiver) get what Vigil sends. Time is the injected
//! clock: retries are driven by moving it, never by sleeping.

mod support;

use jiff::SignedDuration;
use vigil_core::notification::DeliveryStatus;
use vigil_core::signature;
use vigil_core::tenant::{Lifecycle, SettingChange, WebhookFormat};
use vigil_notify::Senders;

use support::{HookServer, contact, smtp_config, webhook, world};
use vigil_testkit::smtp::SmtpServer;

const SLACK_SECRET: &str = "slack-signing-secret-0001";
const TEAMS_SECRET: &str = "teams-signing-secret-0002";
const SOAR_SECRET: &str = "soar-signing-secret-00003";
/// The subject of the published response's notification.
const SUBJECT: &str = "Action required: CloudTrail Logging Stopped involving arn:aws:iam::111122223333:user/mallory (high)";

#[tokio::test]
async fn publishing_a_response_to_a_live_tenant_mails_each_incident_contact_with_the_absolute_link()
{
    let server = SmtpServer::start(&[]);
    let w = world(
        Lifecycle::Live,
        vec![
            contact("Ada", "ada@acme.example", 1),
            contact("Bob", "bob@acme.example", 2),
        ],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(Some(&smtp_config(server.port))).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!((report.sent, report.retrying, report.dead), (2, 0, 0));

    let mails = server.mails();
    let mut recipients: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, ["ada@acme.example", "bob@acme.example"]);
    for mail in &mails {
        assert_eq!(mail.to.len(), 1, "one mail per contact");
        assert_eq!(mail.from, "vigil@mdr.example");
        assert_eq!(mail.header("subject").as_deref(), Some(SUBJECT));
        let text = mail.part("text/plain").expect("a text part");
        assert!(
            text.contains(&format!("Open in Vigil: {}", w.incident_link())),
            "{text}"
        );
        assert!(text.contains("The experts have published their response"));
        let html = mail.part("text/html").expect("an HTML part");
        assert!(
            html.contains(&format!("<a href=\"{}\">", w.incident_link())),
            "{html}"
        );
    }
    for d in w.deliveries().await {
        assert_eq!(d.status, DeliveryStatus::Sent, "{d:?}");
        assert_eq!(d.attempts, 1);
        assert_eq!(d.next_attempt_at, None);
    }
    let again = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(again.attempted(), 0, "a sent delivery is not sent again");
    assert_eq!(server.mails().len(), 2);
}

#[tokio::test]
async fn a_recipient_the_smtp_server_refuses_is_dead_at_once_while_the_others_are_mailed() {
    let server = SmtpServer::start(&["gone@acme.example"]);
    let w = world(
        Lifecycle::Live,
        vec![
            contact("Ada", "ada@acme.example", 1),
            contact("Gone", "gone@acme.example", 2),
        ],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(Some(&smtp_config(server.port))).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!((report.sent, report.dead), (1, 1));
    let gone = w
        .deliveries()
        .await
        .into_iter()
        .find(|d| d.destination.to_string() == "email:gone@acme.example")
        .expect("delivery");
    assert_eq!(gone.status, DeliveryStatus::Dead);
    assert!(
        gone.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{gone:?}"
    );
    assert_eq!(server.mails().len(), 1);
}

#[tokio::test]
async fn generic_slack_and_teams_webhooks_arrive_signed_and_in_their_shapes() {
    let hooks = HookServer::start().await;
    let w = world(
        Lifecycle::Live,
        vec![
            webhook(
                "soar",
                hooks.url("soar"),
                WebhookFormat::Generic,
                SOAR_SECRET,
            ),
            webhook(
                "slack",
                hooks.url("slack/T000/B000/XXXX"),
                WebhookFormat::Slack,
                SLACK_SECRET,
            ),
            webhook(
                "teams",
                hooks.url("teams"),
                WebhookFormat::Teams,
                TEAMS_SECRET,
            ),
        ],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(None).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!((report.sent, report.retrying, report.dead), (3, 0, 0));
    let now = w.svc.now();
    for (path, secret) in [
        ("soar", SOAR_SECRET),
        ("slack/T000/B000/XXXX", SLACK_SECRET),
        ("teams", TEAMS_SECRET),
    ] {
        let calls = hooks.calls_to(path);
        assert_eq!(calls.len(), 1, "{path}");
        let hook = &calls[0];
        assert_eq!(hook.header("content-type"), "application/json");
        assert_eq!(
            signature::verify(
                secret.as_bytes(),
                hook.header(signature::TIMESTAMP_HEADER),
                hook.header(signature::SIGNATURE_HEADER),
                &hook.body,
                now,
            ),
            Ok(()),
            "{path}: the signature verifies with the channel's secret"
        );
        assert!(
            signature::verify(
                b"another-channels-secret",
                hook.header(signature::TIMESTAMP_HEADER),
                hook.header(signature::SIGNATURE_HEADER),
                &hook.body,
                now,
            )
            .is_err()
        );
        assert!(!hook.header(vigil_service::DELIVERY_HEADER).is_empty());
    }
    let generic = hooks.calls_to("soar")[0].json();
    assert_eq!(generic["kind"], "response_published");
    assert_eq!(generic["tenant"], "acme");
    assert_eq!(generic["link"], w.incident_link());
    assert_eq!(generic["incident"], w.incident.to_string());
    assert_eq!(generic["sent_at"], now.to_string());
    assert!(generic["notification_id"].is_string());
    assert_eq!(generic["subject"], SUBJECT);

    let slack = hooks.calls_to("slack/T000/B000/XXXX")[0].json();
    assert_eq!(slack["text"], SUBJECT);
    let blocks = slack["blocks"].as_array().expect("blocks");
    let kinds: Vec<&str> = blocks.iter().filter_map(|b| b["type"].as_str()).collect();
    assert_eq!(kinds, ["header", "section", "context", "actions"]);
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert_eq!(blocks[3]["elements"][0]["url"], w.incident_link());

    let teams = hooks.calls_to("teams")[0].json();
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["content"]["actions"][0]["url"], w.incident_link());
}

#[tokio::test]
async fn a_failing_webhook_is_retried_on_the_schedule_and_dead_lettered_with_its_last_error() {
    let hooks = HookServer::start().await;
    hooks.answer("fail/secret-path-token", 500);
    let w = world(
        Lifecycle::Live,
        vec![webhook(
            "soar",
            hooks.url("fail/secret-path-token"),
            WebhookFormat::Generic,
            SOAR_SECRET,
        )],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(None).expect("senders");
    let first = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(first.retrying, 1);
    assert_eq!(hooks.calls().len(), 1);
    let delays = [
        SignedDuration::from_secs(30),
        SignedDuration::from_mins(2),
        SignedDuration::from_mins(10),
        SignedDuration::from_mins(30),
        SignedDuration::from_hours(2),
    ];
    for (i, delay) in delays.iter().enumerate() {
        let d = &w.deliveries().await[0];
        assert_eq!(d.status, DeliveryStatus::Retrying);
        assert_eq!(d.attempts as usize, i + 1);
        assert_eq!(
            d.next_attempt_at,
            Some(w.svc.now().checked_add(*delay).expect("time"))
        );
        // One second early: nothing goes out.
        w.clock
            .advance(delay.checked_sub(SignedDuration::from_secs(1)).expect("d"));
        let early = w.svc.deliver_due(&senders, 100).await.expect("deliver");
        assert_eq!(early.attempted(), 0, "attempt {} is not due yet", i + 2);
        assert_eq!(hooks.calls().len(), i + 1);
        w.clock.advance(SignedDuration::from_secs(1));
        w.svc.deliver_due(&senders, 100).await.expect("deliver");
        assert_eq!(
            hooks.calls().len(),
            i + 2,
            "attempt {} is sent when due",
            i + 2
        );
    }
    let dead = w.deliveries().await.remove(0);
    assert_eq!(dead.status, DeliveryStatus::Dead);
    assert_eq!(dead.attempts, 6);
    assert_eq!(dead.next_attempt_at, None);
    let error = dead.last_error.clone().expect("the last error");
    assert!(error.contains("500"), "{error}");
    assert!(
        !error.contains("secret-path-token"),
        "no webhook URL in the log: {error}"
    );
    w.clock.advance(SignedDuration::from_hours(24));
    let after = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(
        after.attempted(),
        0,
        "the dead are not retried by themselves"
    );

    let view = w
        .svc
        .delivery(&w.op, "acme", dead.id)
        .await
        .expect("delivery");
    let outcomes: Vec<&str> = view.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["failed", "failed", "failed", "failed", "failed", "dead"]
    );
    assert!(
        view.attempts
            .iter()
            .all(|a| !a.detail.contains("secret-path-token"))
    );

    // Once the receiver is fixed, an admin requeues it and it goes out.
    hooks.answer("fail/secret-path-token", 204);
    let requeued = w
        .svc
        .retry_delivery(&w.op, "acme", dead.id)
        .await
        .expect("retry");
    assert_eq!(requeued.status, DeliveryStatus::Pending);
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(report.sent, 1);
    let sent = w.deliveries().await.remove(0);
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(sent.last_error, None);
    let audit = w
        .svc
        .audit_log(&w.op, Some("acme"), 0, 500)
        .await
        .expect("audit");
    let actions: Vec<&str> = audit
        .iter()
        .map(|r| r.action.as_str())
        .filter(|a| a.starts_with("notification."))
        .collect();
    assert_eq!(
        actions,
        [
            "notification.queue",
            "notification.dead",
            "notification.retry",
            "notification.sent"
        ]
    );
    assert!(
        audit
            .iter()
            .all(|r| !r.details.contains("secret-path-token")),
        "no webhook URL path in the audit log"
    );
}

#[tokio::test]
async fn a_webhook_answering_404_is_dead_at_once() {
    let hooks = HookServer::start().await;
    hooks.answer("missing", 404);
    let w = world(
        Lifecycle::Live,
        vec![webhook(
            "soar",
            hooks.url("missing"),
            WebhookFormat::Generic,
            SOAR_SECRET,
        )],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(None).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!((report.sent, report.retrying, report.dead), (0, 0, 1));
    let d = w.deliveries().await.remove(0);
    assert_eq!(d.status, DeliveryStatus::Dead);
    assert_eq!(d.attempts, 1);
    assert!(
        d.last_error.as_deref().unwrap_or_default().contains("404"),
        "{d:?}"
    );
}

#[tokio::test]
async fn a_delivery_to_a_removed_channel_is_dead_with_that_reason() {
    let hooks = HookServer::start().await;
    let w = world(
        Lifecycle::Live,
        vec![webhook(
            "soar",
            hooks.url("soar"),
            WebhookFormat::Generic,
            SOAR_SECRET,
        )],
    )
    .await;
    w.publish().await;
    w.svc
        .update_tenant(
            &w.op,
            "acme",
            &[SettingChange::RemoveChannel("soar".into())],
        )
        .await
        .expect("remove channel");
    let senders = Senders::new(None).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(report.dead, 1);
    let d = w.deliveries().await.remove(0);
    assert_eq!(d.status, DeliveryStatus::Dead);
    assert!(
        d.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("removed"),
        "{d:?}"
    );
    assert!(hooks.calls().is_empty());
}

#[tokio::test]
async fn while_the_tenant_is_monitoring_nothing_reaches_the_listeners_and_deliveries_show_held() {
    let server = SmtpServer::start(&[]);
    let hooks = HookServer::start().await;
    let w = world(
        Lifecycle::Monitoring,
        vec![
            contact("Ada", "ada@acme.example", 1),
            webhook(
                "slack",
                hooks.url("slack"),
                WebhookFormat::Slack,
                SLACK_SECRET,
            ),
        ],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(Some(&smtp_config(server.port))).expect("senders");
    for _ in 0..3 {
        let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
        assert_eq!(report.attempted(), 0);
        w.clock.advance(SignedDuration::from_hours(3));
    }
    assert!(server.mails().is_empty());
    assert!(hooks.calls().is_empty());
    let deliveries = w.deliveries().await;
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Held && d.attempts == 0)
    );
}

#[tokio::test]
async fn without_smtp_settings_email_waits_on_the_retry_schedule() {
    let w = world(Lifecycle::Live, vec![contact("Ada", "ada@acme.example", 1)]).await;
    w.publish().await;
    let senders = Senders::new(None).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(report.retrying, 1);
    let d = w.deliveries().await.remove(0);
    assert!(
        d.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("smtp.host"),
        "{d:?}"
    );
}

#[tokio::test]
async fn a_webhook_nobody_listens_on_is_retried_and_its_error_names_no_url() {
    let closed = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr")
    };
    let w = world(
        Lifecycle::Live,
        vec![webhook(
            "soar",
            format!("http://{closed}/hook/secret-path-token"),
            WebhookFormat::Generic,
            SOAR_SECRET,
        )],
    )
    .await;
    w.publish().await;
    let senders = Senders::new(None).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(report.retrying, 1, "a refused connection is transient");
    let d = w.deliveries().await.remove(0);
    let error = d.last_error.expect("an error");
    assert!(!error.contains("secret-path-token"), "{error}");
    assert!(!error.is_empty());
}

#[tokio::test]
async fn a_major_incident_reaches_the_contacts_the_ir_provider_and_the_webhooks_while_the_tenant_is_monitoring()
 {
    let server = SmtpServer::start(&[]);
    let hooks = HookServer::start().await;
    let w = world(
        Lifecycle::Monitoring,
        vec![
            contact("Ada", "ada@acme.example", 1),
            SettingChange::IrProvider(vigil_core::tenant::IrProvider {
                name: "Rapid IR".into(),
                contact: "hotline@rapid-ir.example".into(),
                engagement: "retainer RIR-42".into(),
            }),
            webhook(
                "slack",
                hooks.url("slack"),
                WebhookFormat::Slack,
                SLACK_SECRET,
            ),
        ],
    )
    .await;
    w.svc
        .set_major(
            &w.op,
            "acme",
            w.incident,
            true,
            "logging stopped across the estate",
        )
        .await
        .expect("raise major");
    let senders = Senders::new(Some(&smtp_config(server.port))).expect("senders");
    let report = w.svc.deliver_due(&senders, 100).await.expect("deliver");
    assert_eq!(report.attempted(), 3, "two mails and one webhook");
    let mut to: Vec<String> = server.mails().iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["ada@acme.example", "hotline@rapid-ir.example"]);
    for mail in server.mails() {
        let text = mail.part("text/plain").expect("a text part");
        assert!(text.contains(&w.incident_link()), "{text}");
    }
    let calls = hooks.calls_to("slack");
    assert_eq!(calls.len(), 1, "the webhook channel is called at once");
    let hook = &calls[0];
    signature::verify(
        SLACK_SECRET.as_bytes(),
        hook.header(signature::TIMESTAMP_HEADER),
        hook.header(signature::SIGNATURE_HEADER),
        &hook.body,
        w.svc.now(),
    )
    .expect("the webhook's signature verifies");
    assert!(
        w.deliveries()
            .await
            .iter()
            .all(|d| d.status == DeliveryStatus::Sent),
        "nothing is held for a major incident"
    );
}
