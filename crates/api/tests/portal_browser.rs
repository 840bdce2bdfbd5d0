//! The portal in a real headless Chromium, driven over WebDriver
//! (chromedriver, started by each test on a free port) against a real
//! server (`spawn_app`): the journeys of issue 12, screenshots of the main
//! pages under `$CARGO_TARGET_DIR/portal-screenshots/`, and no console
//! errors (portal.js keeps every error, rejected promise, CSP violation and
//! `console.error` of the tab in sessionStorage; each test reads it back).
//!
//! Skipped with a message when chromium or chromedriver is missing; a
//! failure when `VIGIL_REQUIRE_TOOLS` is set (`scripts/test` installs them).

mod support;

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::{PASSWORD, TestApp, spawn_app};
use vigil_core::identity::{Principal, Role};
use vigil_core::incident::IncidentId;
use vigil_core::task::{TaskStatus, TaskType};
use vigil_core::{Entity, EntityKind};

const ANALYST: &str = "analyst@provider.example";
const CUSTOMER: &str = "soc@acme.example";
/// The fixture's user entity (the trail names mallory by ARN).
const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";

fn op() -> Principal {
    Principal::Operator("test".into())
}

/// A chromedriver process and a browser session through it. chromedriver
/// runs in a process group of its own, with the Chromium it starts; the
/// group is killed when this is dropped (a failed test included), so no
/// browser outlives its test.
struct Browser {
    client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium under chromedriver, or `None` (skip) when either is missing.
async fn browser() -> Option<Browser> {
    let chromium = tool("chromium").or_else(|| tool("chromium-browser"));
    let (Some(chromium), Some(driver)) = (chromium, tool("chromedriver")) else {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
            "chromium and chromedriver are required: apt-get install chromium chromium-driver"
        );
        eprintln!(
            "skipped: chromium or chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(driver)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-dev-shm-usage", "--disable-breakpad"],
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!("an object")
    };
    let url = format!("http://127.0.0.1:{port}");
    // chromedriver takes a moment to listen: try until it answers.
    let mut last = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    driver: child,
                });
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer: {last:?}");
}

/// Where screenshots go (printed by each test).
fn shots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("portal-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let path = shots_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("no element {selector}: {e}"))
}

async fn sign_in(app: &TestApp, c: &Client, email: &str) {
    sign_in_with(app, c, email, PASSWORD).await;
}

async fn sign_in_with(app: &TestApp, c: &Client, email: &str, password: &str) {
    c.goto(&app.url("/login")).await.expect("login page");
    css(c, "#email")
        .await
        .send_keys(email)
        .await
        .expect("email");
    css(c, "#password")
        .await
        .send_keys(password)
        .await
        .expect("password");
    css(c, "button[type=submit]")
        .await
        .click()
        .await
        .expect("sign in");
    css(c, "#who").await;
}

/// The errors portal.js collected in this tab, across its pages.
async fn console_errors(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return sessionStorage.getItem('vigil-errors') || '[]';",
            vec![],
        )
        .await
        .expect("read errors");
    serde_json::from_str(v.as_str().unwrap_or("[]")).unwrap_or_default()
}

async fn assert_no_console_errors(c: &Client) {
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The page's h1 once it reads `want`, or the last one read after 20 s.
/// After a click that navigates, the old page's h1 can be found first,
/// or go stale while it is read: wait for the new page instead.
async fn h1_becomes(c: &Client, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(e) = c.find(Locator::Css("h1")).await
            && let Ok(text) = e.text().await
        {
            if text == want {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

async fn body_text(c: &Client) -> String {
    css(c, "body").await.text().await.expect("text")
}

/// The StopLogging incident in acme and in globex, an analyst and a
/// customer responder of acme.
async fn seeded() -> (TestApp, IncidentId, IncidentId) {
    let app = spawn_app().await;
    let ids =
        vigil_fixtures::stop_logging_incidents(&app.service, &op(), &["acme", "globex"]).await;
    app.user(ANALYST, Role::Analyst, None).await;
    app.user(CUSTOMER, Role::CustomerResponder, Some("acme"))
        .await;
    (app, ids[0], ids[1])
}

/// Two guided tasks and a published response, as the experts would make.
async fn published(app: &TestApp, id: IncidentId) {
    let svc = &app.service;
    svc.create_task(
        &op(),
        "acme",
        id,
        TaskType::DisableUser,
        Some(Entity::new(EntityKind::User, MALLORY)),
        "mallory stopped the audit trail",
    )
    .await
    .expect("task");
    svc.create_task(
        &op(),
        "acme",
        id,
        TaskType::BlockIndicator,
        Some(Entity::new(EntityKind::Ip, "203.0.113.9")),
        "the address mallory came from",
    )
    .await
    .expect("task");
    svc.draft_summary(&op(), "acme", id).await.expect("draft");
    svc.publish_response(&op(), "acme", id)
        .await
        .expect("publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_opens_the_top_incident_and_publishes_a_summary_with_two_tasks() {
    let Some(b) = browser().await else { return };
    let (app, id, _) = seeded().await;
    // Acme's incident is raised to critical: the top of the queue.
    app.service
        .update_incident(
            &op(),
            "acme",
            id,
            vigil_service::IncidentChange {
                severity: Some(Some(vigil_core::Severity::Critical)),
                ..Default::default()
            },
        )
        .await
        .expect("raise");
    let c = &b.client;
    sign_in(&app, c, ANALYST).await;
    screenshot(c, "provider-overview").await;
    c.goto(&app.url("/queue")).await.expect("queue");
    screenshot(c, "provider-queue").await;
    css(c, ".incident-link")
        .await
        .click()
        .await
        .expect("open top incident");
    css(c, "#summary-editor").await;
    assert!(
        c.current_url()
            .await
            .expect("url")
            .path()
            .ends_with(&id.to_string()),
        "the top incident is open"
    );
    let mallory = format!("user:{MALLORY}");
    let tasks = [
        (
            "disable_user",
            mallory.as_str(),
            "mallory stopped the audit trail",
        ),
        (
            "block_indicator",
            "ip:203.0.113.9",
            "the address the trail was stopped from",
        ),
    ];
    for (n, (kind, target, why)) in tasks.into_iter().enumerate() {
        css(c, "#new-task summary")
            .await
            .click()
            .await
            .expect("open task form");
        css(c, "#task-kind")
            .await
            .select_by_value(kind)
            .await
            .expect("kind");
        css(c, "#task-target")
            .await
            .select_by_value(target)
            .await
            .expect("target");
        css(c, "#task-rationale")
            .await
            .send_keys(why)
            .await
            .expect("rationale");
        css(c, "#add-task").await.click().await.expect("add task");
        // The page after the post shows one more task.
        css(c, &format!("#task-list .task:nth-child({})", n + 1)).await;
    }
    let what = css(c, "#what_happened").await;
    what.clear().await.expect("clear");
    what.send_keys("mallory stopped CloudTrail logging in eu-west-1 from 203.0.113.9.")
        .await
        .expect("edit");
    css(c, "#publish").await.click().await.expect("publish");
    css(c, "#summary-current .pass").await;
    let text = body_text(c).await;
    assert!(text.contains("published"), "{text}");
    assert!(
        text.contains("mallory stopped CloudTrail logging in eu-west-1"),
        "{text}"
    );
    assert_eq!(
        css(c, "#incident-status")
            .await
            .text()
            .await
            .expect("status"),
        "awaiting_customer"
    );
    screenshot(c, "provider-incident").await;

    let tasks = app.service.tasks(&op(), "acme", id).await.expect("tasks");
    assert_eq!(tasks.len(), 2);
    let summary = app
        .service
        .summary(&op(), "acme", id)
        .await
        .expect("summary");
    assert!(summary.current.published);
    assert!(
        summary
            .current
            .summary
            .what_happened
            .starts_with("mallory stopped CloudTrail")
    );
    assert_no_console_errors(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_skips_one_task_with_a_reason_completes_the_other_and_sends_a_chat_message() {
    let Some(b) = browser().await else { return };
    let (app, id, _) = seeded().await;
    published(&app, id).await;
    let c = &b.client;
    sign_in(&app, c, CUSTOMER).await;
    let home = body_text(c).await;
    assert!(home.contains("Awaiting your action (1)"), "{home}");
    assert!(home.contains("disable user"), "{home}");
    screenshot(c, "customer-home").await;
    css(c, ".incident-link")
        .await
        .click()
        .await
        .expect("open incident");
    css(c, "#task-list").await;
    screenshot(c, "customer-incident").await;

    // Skip the first with a reason.
    let first = css(c, "#task-list .task").await;
    let task_id = first.attr("id").await.expect("id").expect("task id");
    first
        .find(Locator::Css("input[name=note][required]"))
        .await
        .expect("reason field")
        .send_keys("mallory's account was already disabled by HR")
        .await
        .expect("reason");
    first
        .find(Locator::Css("button.skip-task"))
        .await
        .expect("skip")
        .click()
        .await
        .expect("skip");
    css(c, &format!("#{task_id} .task-status")).await;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&format!(
            "//div[@id='{task_id}']//span[contains(@class, 'task-status')][text()='skipped']"
        )))
        .await
        .expect("the task shows as skipped");
    // Complete the other.
    let other = css(c, &format!("#task-list .task:not(#{task_id})")).await;
    other
        .find(Locator::Css("button.complete"))
        .await
        .expect("complete")
        .click()
        .await
        .expect("complete");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//span[contains(@class, 'task-status')][text()='completed']",
        ))
        .await
        .expect("the other shows as completed");
    let statuses: Vec<String> = {
        let mut out = Vec::new();
        for e in c
            .find_all(Locator::Css(".task-status"))
            .await
            .expect("statuses")
        {
            out.push(e.text().await.expect("text"));
        }
        out
    };
    assert!(statuses.contains(&"skipped".to_owned()), "{statuses:?}");
    assert!(statuses.contains(&"completed".to_owned()), "{statuses:?}");

    css(c, "#chat-body")
        .await
        .send_keys("Both done. Do you need the HR ticket?")
        .await
        .expect("message");
    css(c, "#send-message").await.click().await.expect("send");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//div[@id='chat-thread']//div[contains(., 'Do you need the HR ticket?')]",
        ))
        .await
        .expect("the message shows in the chat");
    screenshot(c, "customer-chat").await;

    let tasks = app.service.tasks(&op(), "acme", id).await.expect("tasks");
    let skipped = tasks
        .iter()
        .find(|t| t.status == TaskStatus::Skipped)
        .expect("a skipped task");
    assert_eq!(
        skipped.note.as_deref(),
        Some("mallory's account was already disabled by HR")
    );
    assert!(tasks.iter().any(|t| t.status == TaskStatus::Completed));
    let chat = app
        .service
        .incident_messages(&op(), "acme", id)
        .await
        .expect("chat");
    assert_eq!(chat.len(), 1);
    assert_eq!(chat[0].author, format!("user:{CUSTOMER}"));
    assert_no_console_errors(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analyst_sees_a_customer_chat_message_arrive_without_reloading() {
    let Some(b) = browser().await else { return };
    let (app, id, _) = seeded().await;
    published(&app, id).await;
    let c = &b.client;
    sign_in(&app, c, ANALYST).await;
    c.goto(&app.url(&format!("/t/acme/incidents/{id}")))
        .await
        .expect("incident page");
    css(c, "#chat-thread").await;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath("//span[@id='live-status'][text()='live']"))
        .await
        .expect("the live stream is connected");
    // A mark on this document: a reload would lose it.
    c.execute("window.vigilSameDocument = 'yes';", vec![])
        .await
        .expect("mark");

    let customer = Principal::User {
        id: app
            .service
            .list_users(&op(), Some("acme"))
            .await
            .expect("users")
            .into_iter()
            .find(|u| u.email == CUSTOMER)
            .expect("customer")
            .id,
        email: CUSTOMER.into(),
        role: Role::CustomerResponder,
        tenant_id: Some(app.service.tenant(&op(), "acme").await.expect("acme").id),
    };
    app.service
        .post_incident_message(&customer, "acme", id, "Is the trail back on?")
        .await
        .expect("the customer writes");

    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//div[@id='chat-thread']//div[contains(., 'Is the trail back on?')]",
        ))
        .await
        .expect("the message arrives live");
    let same = c
        .execute("return window.vigilSameDocument || 'reloaded';", vec![])
        .await
        .expect("mark");
    assert_eq!(
        same,
        Value::String("yes".into()),
        "the page was not reloaded"
    );
    screenshot(c, "provider-chat-live").await;
    assert_no_console_errors(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_cannot_open_another_tenants_page() {
    let Some(b) = browser().await else { return };
    let (app, _, theirs) = seeded().await;
    let c = &b.client;
    sign_in(&app, c, CUSTOMER).await;
    for path in [
        format!("/t/globex/incidents/{theirs}"),
        "/t/globex/incidents".to_owned(),
        "/t/globex/settings".to_owned(),
        "/t/globex/recommendations".to_owned(),
    ] {
        c.goto(&app.url(&path)).await.expect("page");
        let heading = css(c, "h1").await.text().await.expect("h1");
        assert_eq!(heading, "Not found", "{path}");
        // The status too, with the browser's own session.
        let cookie = c
            .get_named_cookie("vigil_session")
            .await
            .expect("session cookie");
        let resp = app
            .client()
            .get(app.url(&path))
            .header("cookie", format!("vigil_session={}", cookie.value()))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
    }
    screenshot(c, "customer-not-found").await;
    assert_no_console_errors(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_renders_for_both_sides_without_console_errors() {
    let Some(b) = browser().await else { return };
    let (app, id, _) = seeded().await;
    published(&app, id).await;
    app.service
        .run_readiness(&op(), "acme")
        .await
        .expect("readiness");
    let c = &b.client;
    sign_in(&app, c, ANALYST).await;
    let provider_pages = [
        ("provider-overview", "/".to_owned()),
        ("provider-queue", "/queue".to_owned()),
        ("provider-incident", format!("/t/acme/incidents/{id}")),
        ("provider-incidents", "/t/acme/incidents".to_owned()),
        ("provider-readiness", "/t/acme/readiness".to_owned()),
        (
            "provider-recommendations",
            "/t/acme/recommendations".to_owned(),
        ),
        ("provider-messages", "/messages".to_owned()),
        ("provider-settings", "/t/acme/settings".to_owned()),
    ];
    for (name, path) in &provider_pages {
        c.goto(&app.url(path)).await.expect("page");
        let h1 = css(c, "h1").await.text().await.expect("h1");
        for bad in ["Not found", "Not allowed", "Error", "Refused", "Invalid"] {
            assert_ne!(h1, bad, "{path}");
        }
        screenshot(c, name).await;
    }
    // Sign out through the header's button, then in as the customer.
    css(c, "form[action='/logout'] button")
        .await
        .click()
        .await
        .expect("sign out");
    css(c, "#email").await;
    sign_in(&app, c, CUSTOMER).await;
    for (name, path) in [
        ("customer-home", "/"),
        ("customer-incidents", "/t/acme/incidents"),
        ("customer-messages", "/messages"),
        ("customer-inquiries", "/t/acme/inquiries"),
        ("customer-recommendations", "/t/acme/recommendations"),
        ("customer-readiness", "/t/acme/readiness"),
        ("customer-settings", "/t/acme/settings"),
    ] {
        c.goto(&app.url(path)).await.expect("page");
        let h1 = css(c, "h1").await.text().await.expect("h1");
        for bad in ["Not found", "Not allowed", "Error", "Refused", "Invalid"] {
            assert_ne!(h1, bad, "{path}");
        }
        screenshot(c, name).await;
    }
    // Ask the experts from the inquiries page.
    c.goto(&app.url("/t/acme/inquiries"))
        .await
        .expect("inquiries");
    css(c, "#subject")
        .await
        .send_keys("Exclusions for the build servers")
        .await
        .expect("subject");
    css(c, "#ask-body")
        .await
        .send_keys("Can build-01 be excluded from isolation?")
        .await
        .expect("body");
    css(c, "form.card button[type=submit]")
        .await
        .click()
        .await
        .expect("ask");
    let want = "Exclusions for the build servers";
    assert_eq!(h1_becomes(c, want).await, want);
    assert_no_console_errors(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_check_catches_errors_and_policy_violations() {
    let Some(b) = browser().await else { return };
    let (app, _, _) = seeded().await;
    let c = &b.client;
    sign_in(&app, c, CUSTOMER).await;
    assert_no_console_errors(c).await;
    // Markup with a style attribute, as a careless template would emit: the
    // policy refuses it and the collector must report it; so must an
    // uncaught exception.
    c.execute(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>'); setTimeout(function () { throw new Error('boom'); }, 0);",
        vec![],
    )
    .await
    .expect("inject");
    let mut errors = Vec::new();
    for _ in 0..100 {
        errors = console_errors(c).await;
        if errors.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        errors.iter().any(|e| e.starts_with("csp: style-src")),
        "{errors:?}"
    );
    // (Chromium reports an exception thrown by WebDriver's script as
    // "Script error."; a page's own keeps its message.)
    assert!(
        errors.iter().any(|e| e.starts_with("error: ")),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_page_fits_a_narrow_screen() {
    let Some(b) = browser().await else { return };
    let (app, id, _) = seeded().await;
    published(&app, id).await;
    let c = &b.client;
    c.set_window_size(390, 844).await.expect("narrow window");
    sign_in(&app, c, CUSTOMER).await;
    c.goto(&app.url(&format!("/t/acme/incidents/{id}")))
        .await
        .expect("incident");
    css(c, "#task-list").await;
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("widths");
    let wide = c
        .execute(
            "var w = document.documentElement.clientWidth; return Array.from(document.querySelectorAll('body *')).filter(function (e) { return e.getBoundingClientRect().right > w + 1; }).slice(0, 8).map(function (e) { return e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right); });",
            vec![],
        )
        .await
        .expect("wide elements");
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "wider than the screen: {wide}"
    );
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "the page scrolls sideways by {overflow}px"
    );
    screenshot(c, "customer-incident-narrow").await;
    assert_no_console_errors(c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_runs_a_hunt_in_the_editor_and_sees_the_results_table() {
    let Some(b) = browser().await else { return };
    let (app, _, _) = seeded().await;
    let c = &b.client;
    sign_in(&app, c, ANALYST).await;
    // From the navigation, as an analyst would.
    css(c, "a[href='/hunt']")
        .await
        .click()
        .await
        .expect("hunting");
    css(c, "a[href='/t/acme/hunt']")
        .await
        .click()
        .await
        .expect("acme");
    // Type the query and run it from the keyboard (Ctrl+Enter).
    let editor = css(c, "#hunt-query").await;
    editor
        .send_keys("CloudAppEvents | project ActionType, IPAddress")
        .await
        .expect("type");
    editor
        .send_keys("\u{E009}\u{E007}")
        .await
        .expect("ctrl+enter");
    let table = css(c, "#hunt-results").await;
    let text = table.text().await.expect("table");
    assert!(text.contains("ActionType"), "{text}");
    assert!(text.contains("StopLogging"), "{text}");
    assert!(text.contains("203.0.113.9"), "{text}");
    let stats = css(c, "#hunt-stats").await.text().await.expect("stats");
    assert!(stats.contains("1 row(s)"), "{stats}");
    screenshot(c, "provider-hunt").await;
    // A mistake is shown with where it is.
    let editor = css(c, "#hunt-query").await;
    editor.clear().await.expect("clear");
    editor
        .send_keys("CloudAppEvents | summarize count() IPAddress")
        .await
        .expect("type");
    css(c, "#hunt-run").await.click().await.expect("run");
    let error = css(c, "#hunt-error").await.text().await.expect("error");
    assert!(error.contains("line 1, column"), "{error}");
    assert_no_console_errors(c).await;
}

/// Every main page of both sides on the demo's data (`vigil_demo::seed`),
/// with screenshots; the analyst's page of the major incident is taken at
/// 1280×800 for the README (`docs/img/portal-incident.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_pages_render_on_the_demo_data_without_console_errors() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let world = vigil_demo::seed(&app.service, &vigil_demo::DemoOptions::default())
        .await
        .expect("the demo seeds");
    let t = world.tenant.clone();
    let major = world
        .major()
        .next()
        .expect("the demo has a major incident")
        .incident
        .id;
    let analyst = world.login(Role::Analyst).expect("an analyst").clone();
    let customer = world
        .login(Role::CustomerAdmin)
        .expect("a customer admin")
        .clone();
    let c = &b.client;
    // Headless Chromium keeps 139 pixels of its window for the (invisible)
    // browser frame: this makes the page's viewport 1280×800.
    c.set_window_size(1280, 939).await.expect("window size");
    sign_in_with(&app, c, &analyst.email, &analyst.password).await;
    c.goto(&app.url(&format!("/t/{t}/incidents/{major}")))
        .await
        .expect("incident");
    css(c, "h1").await;
    screenshot(c, "demo-incident").await;
    for (name, path) in [
        ("demo-provider-overview", "/".to_owned()),
        ("demo-provider-queue", "/queue".to_owned()),
        ("demo-provider-incidents", format!("/t/{t}/incidents")),
        ("demo-provider-readiness", format!("/t/{t}/readiness")),
        (
            "demo-provider-recommendations",
            format!("/t/{t}/recommendations"),
        ),
        (
            "demo-provider-hunt",
            format!("/t/{t}/hunt?q=DeviceProcessEvents+%7C+summarize+count%28%29+by+DeviceName"),
        ),
        ("demo-provider-reports", "/reports".to_owned()),
        ("demo-provider-report", format!("/t/{t}/reports")),
        ("demo-provider-messages", "/messages".to_owned()),
    ] {
        c.goto(&app.url(&path)).await.expect("page");
        let h1 = css(c, "h1").await.text().await.expect("h1");
        for bad in ["Not found", "Not allowed", "Error", "Refused", "Invalid"] {
            assert_ne!(h1, bad, "{path}");
        }
        screenshot(c, name).await;
    }
    c.goto(&app.url("/reports")).await.expect("reports");
    let rows = css(c, "#provider-report").await;
    assert!(rows.text().await.expect("rows").contains("Brightwater"));
    assert_no_console_errors(c).await;
    css(c, "form[action='/logout'] button")
        .await
        .click()
        .await
        .expect("sign out");
    css(c, "#email").await;
    sign_in_with(&app, c, &customer.email, &customer.password).await;
    for (name, path) in [
        ("demo-customer-home", "/".to_owned()),
        ("demo-customer-incidents", format!("/t/{t}/incidents")),
        (
            "demo-customer-recommendations",
            format!("/t/{t}/recommendations"),
        ),
        ("demo-customer-readiness", format!("/t/{t}/readiness")),
        ("demo-customer-reports", format!("/t/{t}/reports")),
        ("demo-customer-settings", format!("/t/{t}/settings")),
    ] {
        c.goto(&app.url(&path)).await.expect("page");
        let h1 = css(c, "h1").await.text().await.expect("h1");
        for bad in ["Not found", "Not allowed", "Error", "Refused", "Invalid"] {
            assert_ne!(h1, bad, "{path}");
        }
        screenshot(c, name).await;
    }
    assert_no_console_errors(c).await;
}
