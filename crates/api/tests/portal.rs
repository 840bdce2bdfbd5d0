//! The portal's pages over HTTP (no browser): the content security policy
//! and the markup it needs, CSRF on every form, tenant scope (404), static
//! files, and sign-in. The browser journeys are in `portal_browser.rs`.

mod support;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION};
use support::{PASSWORD, TestApp, spawn_app};
use vigil_core::identity::{Principal, Role};
use vigil_core::incident::IncidentId;
use vigil_core::task::TaskType;

const ANALYST: &str = "analyst@provider.example";
const CUSTOMER: &str = "soc@acme.example";

fn op() -> Principal {
    Principal::Operator("test".into())
}

/// A signed-in session: (cookie header, CSRF token).
async fn session(app: &TestApp, email: &str) -> (String, String) {
    let signed = app
        .service
        .login(email, PASSWORD, "test")
        .await
        .expect("login");
    let secret = signed.secret.expose().to_owned();
    (
        format!("vigil_session={secret}"),
        vigil_service::csrf_token(&secret),
    )
}

/// Incidents in acme (published, with a free-text task) and globex.
async fn seeded() -> (TestApp, IncidentId, IncidentId) {
    let app = spawn_app().await;
    let ids =
        vigil_fixtures::stop_logging_incidents(&app.service, &op(), &["acme", "globex"]).await;
    app.user(ANALYST, Role::Analyst, None).await;
    app.user(CUSTOMER, Role::CustomerResponder, Some("acme"))
        .await;
    app.service
        .create_task(
            &op(),
            "acme",
            ids[0],
            TaskType::FreeText,
            None,
            "rotate the keys",
        )
        .await
        .expect("task");
    app.service
        .draft_summary(&op(), "acme", ids[0])
        .await
        .expect("draft");
    app.service
        .publish_response(&op(), "acme", ids[0])
        .await
        .expect("publish");
    app.service
        .run_readiness(&op(), "acme")
        .await
        .expect("readiness");
    (app, ids[0], ids[1])
}

/// `on…=` event handler attributes in markup.
fn inline_handlers(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(" on") {
        let tail = &rest[at + 3..];
        let name: String = tail.chars().take_while(char::is_ascii_lowercase).collect();
        if !name.is_empty() && tail[name.len()..].starts_with('=') {
            found.push(format!("on{name}"));
        }
        rest = tail;
    }
    found
}

#[tokio::test]
async fn every_portal_page_carries_the_strict_policy_and_no_inline_script_handler_or_style() {
    let (app, id, _) = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let (customer, _) = session(&app, CUSTOMER).await;
    let mut pages: Vec<(String, String)> = [
        "/",
        "/queue",
        "/messages",
        "/t/acme/incidents",
        "/t/acme/readiness",
        "/t/acme/recommendations",
        "/t/acme/settings",
        "/t/acme/inquiries",
    ]
    .iter()
    .map(|p| (analyst.clone(), (*p).to_owned()))
    .collect();
    pages.push((analyst.clone(), format!("/t/acme/incidents/{id}")));
    for p in [
        "/",
        "/messages",
        "/t/acme/incidents",
        "/t/acme/readiness",
        "/t/acme/recommendations",
        "/t/acme/settings",
        "/t/acme/inquiries",
    ] {
        pages.push((customer.clone(), p.to_owned()));
    }
    pages.push((customer.clone(), format!("/t/acme/incidents/{id}")));
    pages.push((String::new(), "/login".to_owned()));
    for (cookie, path) in pages {
        let resp = app
            .client()
            .get(app.url(&path))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let csp = resp.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("style-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let html = resp.text().await.expect("html");
        assert!(!html.contains(" style="), "{path}: a style attribute");
        assert!(!html.contains("<style"), "{path}: a style element");
        assert!(!html.contains("<script>"), "{path}: an inline script");
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/assets/").count(),
            "{path}: scripts come from /assets"
        );
        assert!(
            inline_handlers(&html).is_empty(),
            "{path}: {:?}",
            inline_handlers(&html)
        );
    }
}

#[tokio::test]
async fn a_portal_form_without_the_sessions_csrf_token_changes_nothing() {
    let (app, id, _) = seeded().await;
    let (customer, _) = session(&app, CUSTOMER).await;
    let (analyst, _) = session(&app, ANALYST).await;
    let tasks = app.service.tasks(&op(), "acme", id).await.expect("tasks");
    let posts = [
        (
            customer.clone(),
            format!("/t/acme/incidents/{id}/messages"),
            vec![("body", "hello")],
        ),
        (
            customer.clone(),
            format!("/t/acme/tasks/{}", tasks[0].id),
            vec![("to", "completed")],
        ),
        (
            analyst.clone(),
            format!("/t/acme/incidents/{id}/tasks"),
            vec![("kind", "free_text"), ("rationale", "x")],
        ),
        (
            customer.clone(),
            "/t/acme/inquiries".to_owned(),
            vec![("subject", "s"), ("body", "b")],
        ),
    ];
    for (cookie, path, mut fields) in posts {
        fields.push(("csrf", "not-the-token"));
        let resp = app
            .client()
            .post(app.url(&path))
            .header(COOKIE, cookie)
            .form(&fields)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        app.service
            .incident_messages(&op(), "acme", id)
            .await
            .expect("chat")
            .is_empty()
    );
    let after = app.service.tasks(&op(), "acme", id).await.expect("tasks");
    assert_eq!(after, tasks, "no task moved or added");
}

#[tokio::test]
async fn a_customer_gets_404_for_every_page_and_form_of_another_tenant() {
    let (app, _, theirs) = seeded().await;
    let (customer, csrf) = session(&app, CUSTOMER).await;
    for path in [
        format!("/t/globex/incidents/{theirs}"),
        "/t/globex/incidents".to_owned(),
        "/t/globex/readiness".to_owned(),
        "/t/globex/recommendations".to_owned(),
        "/t/globex/settings".to_owned(),
        "/t/globex/inquiries".to_owned(),
        "/t/nonexistent/incidents".to_owned(),
        "/queue".to_owned(),
    ] {
        let resp = app
            .client()
            .get(app.url(&path))
            .header(COOKIE, &customer)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let resp = app
        .client()
        .post(app.url(&format!("/t/globex/incidents/{theirs}/messages")))
        .header(COOKIE, &customer)
        .form(&[("csrf", csrf.as_str()), ("body", "hello")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_signed_out_visitor_of_a_portal_page_is_sent_to_sign_in() {
    let (app, id, _) = seeded().await;
    for path in [
        "/queue".to_owned(),
        format!("/t/acme/incidents/{id}"),
        "/messages".to_owned(),
    ] {
        let resp = app.client().get(app.url(&path)).send().await.expect("get");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.headers()[LOCATION], "/login", "{path}");
    }
}

#[tokio::test]
async fn the_static_files_come_from_the_binary_with_long_cache_headers() {
    let app = spawn_app().await;
    for (name, kind) in [
        ("portal.css", "text/css"),
        ("portal.js", "text/javascript"),
        ("htmx.min.js", "text/javascript"),
    ] {
        let resp = app
            .client()
            .get(app.url(&format!("/assets/{name}")))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert!(
            resp.headers()[CONTENT_TYPE]
                .to_str()
                .expect("type")
                .starts_with(kind)
        );
        assert!(
            resp.headers()[CACHE_CONTROL]
                .to_str()
                .expect("cache")
                .contains("max-age=31536000")
        );
    }
    let missing = app
        .client()
        .get(app.url("/assets/other.js"))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_customer_completes_a_guided_task_and_the_incident_returns_to_the_experts() {
    let (app, id, _) = seeded().await;
    let (customer, csrf) = session(&app, CUSTOMER).await;
    let task = app.service.tasks(&op(), "acme", id).await.expect("tasks")[0].id;
    let resp = app
        .client()
        .post(app.url(&format!("/t/acme/tasks/{task}")))
        .header(COOKIE, &customer)
        .form(&[
            ("csrf", csrf.as_str()),
            ("to", "completed"),
            ("note", "rotated"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()[LOCATION],
        format!("/t/acme/incidents/{id}#tasks")
    );
    let view = app
        .service
        .incident(&op(), "acme", id)
        .await
        .expect("incident");
    assert_eq!(view.record.incident.status.to_string(), "in_progress");
    let log = app
        .service
        .audit_log(&op(), None, 0, 1000)
        .await
        .expect("audit");
    assert!(
        log.iter().any(|r| r.action == "task.update"
            && r.actor == format!("user:{CUSTOMER}")
            && r.target == format!("task:{task}")),
        "the change is audited as the customer"
    );
}

#[tokio::test]
async fn a_customer_admin_adds_a_contact_an_email_channel_and_a_user_from_the_settings_page() {
    let (app, _, _) = seeded().await;
    app.user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let (admin, csrf) = session(&app, "admin@acme.example").await;
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let mut fields = fields;
        fields.push(("csrf", csrf.as_str()));
        app.client()
            .post(app.url("/t/acme/settings"))
            .header(COOKIE, &admin)
            .form(&fields)
            .send()
    };
    for fields in [
        vec![
            ("action", "add_contact"),
            ("kind", "incident"),
            ("name", "Night desk"),
            ("email", "night@acme.example"),
            ("priority", "1"),
        ],
        vec![
            ("action", "add_channel"),
            ("name", "soc-mail"),
            ("to", "soc@acme.example, ciso@acme.example"),
        ],
        vec![
            ("action", "add_user"),
            ("email", "new@acme.example"),
            ("role", "customer_reader"),
            ("password", "a long enough password"),
        ],
    ] {
        let resp = post(fields).await.expect("post");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let t = app.service.tenant(&op(), "acme").await.expect("acme");
    assert!(
        t.settings
            .contacts
            .iter()
            .any(|c| c.email.as_deref() == Some("night@acme.example"))
    );
    assert!(t.settings.channels.iter().any(|c| c.name == "soc-mail"));
    let users = app
        .service
        .list_users(&op(), Some("acme"))
        .await
        .expect("users");
    assert!(
        users
            .iter()
            .any(|u| u.email == "new@acme.example" && u.role == Role::CustomerReader)
    );

    // A responder may not: refused, and nothing changes.
    let (responder, rcsrf) = session(&app, CUSTOMER).await;
    let resp = app
        .client()
        .post(app.url("/t/acme/settings"))
        .header(COOKIE, &responder)
        .form(&[
            ("csrf", rcsrf.as_str()),
            ("action", "remove_channel"),
            ("name", "soc-mail"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let t = app.service.tenant(&op(), "acme").await.expect("acme");
    assert!(t.settings.channels.iter().any(|c| c.name == "soc-mail"));
}

#[tokio::test]
async fn an_analyst_sets_a_verdict_on_an_incident_entity_from_its_page() {
    let (app, id, _) = seeded().await;
    let (analyst, csrf) = session(&app, ANALYST).await;
    let resp = app
        .client()
        .post(app.url(&format!("/t/acme/incidents/{id}/verdict")))
        .header(COOKIE, &analyst)
        .form(&[
            ("csrf", csrf.as_str()),
            ("entity", "ip:203.0.113.9"),
            ("verdict", "malicious"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let view = app
        .service
        .incident(&op(), "acme", id)
        .await
        .expect("incident");
    assert!(
        view.verdicts
            .iter()
            .any(|(e, v)| e.value == "203.0.113.9" && *v == vigil_core::Verdict::Malicious)
    );
    let page = app
        .client()
        .get(app.url(&format!("/t/acme/incidents/{id}")))
        .header(COOKIE, &analyst)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("<option value=\"malicious\" selected>"),
        "the page shows the verdict"
    );
}

#[tokio::test]
async fn a_customer_reader_is_offered_no_form_it_may_not_send() {
    let (app, id, _) = seeded().await;
    app.user("reader@acme.example", Role::CustomerReader, Some("acme"))
        .await;
    let (reader, _) = session(&app, "reader@acme.example").await;
    let page = app
        .client()
        .get(app.url(&format!("/t/acme/incidents/{id}")))
        .header(COOKIE, &reader)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("rotate the keys"), "the reader sees the task");
    for form in [
        "/t/acme/tasks/",
        "/messages\" hx-post",
        "/acknowledge",
        "/summary",
        "/verdict",
    ] {
        assert!(
            !html.contains(&format!("action=\"/t/acme/incidents/{id}{form}"))
                && !html.contains(&format!("action=\"{form}")),
            "{form}"
        );
    }
    assert!(
        !html.contains("name=\"to\" value=\"completed\""),
        "no task action"
    );
    assert!(!html.contains("id=\"chat-body\""), "no chat form");
}
