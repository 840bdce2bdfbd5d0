//! Security headers (OWASP ASVS V14.4) on every kind of response: API JSON,
//! errors, portal pages, the style sheet, health; HSTS only when Vigil is
//! reached over TLS.

mod support;

use reqwest::StatusCode;
use support::{spawn_app, spawn_app_with};
use vigil_api::headers::{CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY};

const PATHS: [&str; 7] = [
    "/healthz",
    "/login",
    "/assets/portal.css",
    "/api/v1/tenants",
    "/api/v1/openapi.json",
    "/no/such/page",
    "/api/v1/ingest/events",
];

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_hsts_over_plain_http() {
    let app = spawn_app().await;
    for path in PATHS {
        let r = app.client().get(app.url(path)).send().await.expect(path);
        assert_eq!(
            header(&r, "content-security-policy"),
            Some(CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(
            header(&r, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&r, "referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(header(&r, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(header(&r, "strict-transport-security"), None, "{path}");
    }
}

#[tokio::test]
async fn the_policy_allows_no_inline_script_or_style_and_no_framing() {
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-eval"));
}

#[tokio::test]
async fn the_portal_pages_hold_no_inline_style_or_script_and_their_style_sheet_is_served() {
    let app = spawn_app().await;
    let page = app
        .client()
        .get(app.url("/login"))
        .send()
        .await
        .expect("login");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(!html.contains("<style"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains(" style="), "{html}");
    assert!(html.contains("href=\"/assets/portal.css?v="), "{html}");
    let css = app
        .client()
        .get(app.url("/assets/portal.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        header(&css, "content-type"),
        Some("text/css; charset=utf-8")
    );
}

#[tokio::test]
async fn hsts_is_sent_on_every_response_when_vigil_is_reached_over_tls() {
    let app = spawn_app_with(vigil_api::AppOptions {
        hsts: true,
        ..Default::default()
    })
    .await;
    for path in PATHS {
        let r = app.client().get(app.url(path)).send().await.expect(path);
        assert_eq!(
            header(&r, "strict-transport-security"),
            Some(STRICT_TRANSPORT_SECURITY),
            "{path}"
        );
        assert_eq!(header(&r, "x-frame-options"), Some("DENY"), "{path}");
    }
}
