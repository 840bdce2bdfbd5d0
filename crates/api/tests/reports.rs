//! Service report routes over real HTTP: the tenant's report as JSON, HTML
//! and PDF, the provider's view, and the answers to bad input.

mod support;

use serde_json::Value;
use vigil_core::identity::{Principal, Role};

#[tokio::test]
async fn a_tenants_report_comes_as_json_html_or_pdf_and_bad_input_is_named() {
    let app = support::spawn_app().await;
    let op = Principal::Operator("test".into());
    vigil_fixtures::stop_logging_incidents(&app.service, &op, &["acme"]).await;
    let reader = app
        .user("reader@acme.example", Role::CustomerReader, Some("acme"))
        .await;
    let client = app.client();
    let get = |path: &str| client.get(app.url(path)).bearer_auth(&reader).send();

    let resp = get("/api/v1/tenants/acme/reports/service?from=2026-11-01&to=2026-11-30")
        .await
        .expect("json");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("body");
    assert_eq!(v["incidents"]["investigated"], 1);
    assert_eq!(v["incidents"]["by_source"][0]["label"], "sigma");
    assert_eq!(v["period"]["from"], "2026-11-01T00:00:00Z");
    assert_eq!(v["period"]["to"], "2026-12-01T00:00:00Z");
    assert_eq!(v["trend"].as_array().map(Vec::len), Some(6));

    let resp = get("/api/v1/tenants/acme/reports/service?format=html")
        .await
        .expect("html");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .starts_with("default-src 'none'")
    );
    let html = resp.text().await.expect("page");
    assert!(html.contains("Service report: Acme"));
    assert!(!html.contains("https://") && !html.contains("http://"));

    let chromium = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok();
    if chromium {
        let resp = get("/api/v1/tenants/acme/reports/service?format=pdf")
            .await
            .expect("pdf");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/pdf");
        let bytes = resp.bytes().await.expect("bytes");
        assert!(bytes.starts_with(b"%PDF-"));
    } else {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
            "chromium is required for PDF reports"
        );
        eprintln!("skipped the PDF answer: chromium is not installed");
    }

    for (query, named) in [
        ("format=docx", "format"),
        ("from=yesterday", "from"),
        ("from=2026-11-02&to=2026-11-01", "must end after"),
        ("from=2024-01-01&to=2026-01-01", "366 days"),
    ] {
        let resp = get(&format!("/api/v1/tenants/acme/reports/service?{query}"))
            .await
            .expect("bad");
        assert_eq!(resp.status(), 400, "{query}");
        let v: Value = resp.json().await.expect("error");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{query}: {message}");
    }
    let resp = get("/api/v1/tenants/globex/reports/service")
        .await
        .expect("other");
    assert_eq!(resp.status(), 404, "another tenant's report does not exist");
}

#[tokio::test]
async fn the_provider_view_lists_every_tenant_for_provider_roles_only() {
    let app = support::spawn_app().await;
    let op = Principal::Operator("test".into());
    vigil_fixtures::stop_logging_incidents(&app.service, &op, &["acme", "globex"]).await;
    let dm = app
        .user("dm@mdr.example", Role::DeliveryManager, None)
        .await;
    let admin = app
        .user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let client = app.client();
    let resp = client
        .get(app.url("/api/v1/reports/provider?from=2026-11-01&to=2026-11-30"))
        .bearer_auth(&dm)
        .send()
        .await
        .expect("provider");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("body");
    let rows = v["rows"].as_array().expect("rows");
    let tenants: Vec<&str> = rows.iter().filter_map(|r| r["tenant"].as_str()).collect();
    assert_eq!(tenants, ["acme", "globex"]);
    assert!(rows.iter().all(|r| r["investigated"] == 1));
    assert_eq!(v["reports"].as_array().map(Vec::len), Some(2));

    let resp = client
        .get(app.url("/api/v1/reports/provider?format=html"))
        .bearer_auth(&dm)
        .send()
        .await
        .expect("html");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("page");
    assert!(html.contains("<td>Globex</td>"));

    let resp = client
        .get(app.url("/api/v1/reports/provider"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("customer");
    assert_eq!(resp.status(), 403);
}
