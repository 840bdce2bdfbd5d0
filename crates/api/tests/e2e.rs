//! The portal and the API over a real socket: sign-in with cookie sessions,
//! CSRF, session expiry, sign-out, password change, lockout after repeated
//! wrong passwords, per-address rate limiting, token revocation, and tenant
//! isolation as a running server answers it.

mod support;

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use support::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use vigil_core::identity::Role;

/// The value of cookie `name` set by `resp`, and the whole Set-Cookie line.
fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|line| {
            let value = line
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default();
            (value, line.to_owned())
        })
}

/// The hidden `csrf` field of a form page.
fn form_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[at..].split('"').next().expect("value").to_owned()
}

/// A browser's sign-in: fetch the form, post it. Returns the response to
/// the post.
async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let c = app.client();
    let form = c.get(app.url("/login")).send().await.expect("login form");
    assert_eq!(form.status(), StatusCode::OK);
    let (login_csrf, _) = set_cookie(&form, "vigil_login_csrf").expect("form cookie");
    let html = form.text().await.expect("html");
    assert_eq!(form_csrf(&html), login_csrf, "double-submit token");
    c.post(app.url("/login"))
        .header(COOKIE, format!("vigil_login_csrf={login_csrf}"))
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .expect("login post")
}

/// Sign in and return the session cookie's value.
async fn session(app: &TestApp, email: &str) -> String {
    let resp = sign_in(app, email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "signed in");
    set_cookie(&resp, "vigil_session")
        .expect("session cookie")
        .0
}

async fn me(app: &TestApp, session: &str) -> (StatusCode, Value) {
    let resp = app
        .client()
        .get(app.url("/api/v1/me"))
        .header(COOKIE, format!("vigil_session={session}"))
        .send()
        .await
        .expect("me");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn signing_in_sets_an_httponly_samesite_session_cookie_and_opens_the_portal() {
    let app = spawn_app().await;
    app.user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let resp = sign_in(&app, "Admin@Acme.Example", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/");
    let (secret, line) = set_cookie(&resp, "vigil_session").expect("session cookie");
    assert!(secret.starts_with("vgs_"), "{line}");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    assert!(
        !line.contains("Secure"),
        "plain HTTP without TLS configured: {line}"
    );

    let home = app
        .client()
        .get(app.url("/"))
        .header(COOKIE, format!("vigil_session={secret}"))
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("frame-ancestors 'none'")
    );
    let html = home.text().await.expect("html");
    assert!(html.contains("admin@acme.example"), "{html}");
    assert!(html.contains("<td>acme</td>"), "{html}");
    assert!(
        !html.contains("globex"),
        "a customer sees one tenant: {html}"
    );

    let (status, who) = me(&app, &secret).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(who["email"], "admin@acme.example");
    assert_eq!(who["role"], "customer_admin");
    assert!(who["csrf_token"].as_str().is_some_and(|t| t.len() == 64));

    // Without a session the portal sends the browser to sign in.
    let anon = app.client().get(app.url("/")).send().await.expect("home");
    assert_eq!(anon.status(), StatusCode::SEE_OTHER);
    assert_eq!(anon.headers()[LOCATION], "/login");
}

#[tokio::test]
async fn cookies_are_marked_secure_when_the_portal_is_served_over_tls() {
    let app = spawn_app_with(vigil_api::AppOptions {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    app.user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let resp = sign_in(&app, "admin@acme.example", PASSWORD).await;
    let (_, line) = set_cookie(&resp, "vigil_session").expect("session cookie");
    assert!(line.contains("; Secure"), "{line}");
}

#[tokio::test]
async fn form_posts_and_cookie_requests_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.user("admin@acme.example", Role::CustomerAdmin, Some("acme"))
        .await;
    let c = app.client();

    // Sign-in form posted from elsewhere: no form cookie, or a mismatch.
    let forged = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", "x"),
            ("email", "admin@acme.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&forged, "vigil_session").is_none());
    let mismatch = c
        .post(app.url("/login"))
        .header(COOKIE, "vigil_login_csrf=aaa")
        .form(&[
            ("csrf", "bbb"),
            ("email", "admin@acme.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(mismatch.status(), StatusCode::FORBIDDEN);

    let secret = session(&app, "admin@acme.example").await;
    let cookie = format!("vigil_session={secret}");

    // Sign-out with a wrong token does nothing.
    let logout = c
        .post(app.url("/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "0".repeat(64))])
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&app, &secret).await.0, StatusCode::OK, "still signed in");

    // The JSON API with the cookie: reads need no token, changes do.
    let create = |csrf: Option<String>| {
        let mut req = c
            .post(app.url("/api/v1/tenants/acme/ingest-keys"))
            .header(COOKIE, &cookie)
            .json(&json!({"name": "winlogbeat"}));
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    let refused = create(None).await.expect("post");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "csrf");
    let wrong = create(Some("f".repeat(64))).await.expect("post");
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let token = me(&app, &secret).await.1["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let made = create(Some(token.clone())).await.expect("post");
    assert_eq!(made.status(), StatusCode::CREATED);

    // The right token signs out.
    let logout = c
        .post(app.url("/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", token)])
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(logout.headers()[LOCATION], "/login");
    let (_, cleared) = set_cookie(&logout, "vigil_session").expect("cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(me(&app, &secret).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_expires_after_its_lifetime() {
    let app = spawn_app().await;
    app.user("analyst@mdr.example", Role::Analyst, None).await;
    let secret = session(&app, "analyst@mdr.example").await;
    let lifetime = app.service.login_policy().session_lifetime;
    app.clock.advance(
        lifetime
            .checked_sub(SignedDuration::from_secs(1))
            .expect("d"),
    );
    assert_eq!(me(&app, &secret).await.0, StatusCode::OK, "one second left");
    app.clock.advance(SignedDuration::from_secs(1));
    let (status, body) = me(&app, &secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "unauthenticated");
    let home = app
        .client()
        .get(app.url("/"))
        .header(COOKIE, format!("vigil_session={secret}"))
        .send()
        .await
        .expect("home");
    assert_eq!(home.headers()[LOCATION], "/login");
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_even_against_the_right_one() {
    // More attempts than the per-address limit allows: that limit is
    // another test's subject.
    let app = spawn_app_with(vigil_api::AppOptions {
        logins_per_minute: 100,
        ..Default::default()
    })
    .await;
    app.user("soc@acme.example", Role::CustomerResponder, Some("acme"))
        .await;
    for attempt in 1..=4 {
        let resp = sign_in(&app, "soc@acme.example", "wrong password!!").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        let html = resp.text().await.expect("html");
        assert!(html.contains("Wrong email or password."), "{html}");
    }
    let fifth = sign_in(&app, "soc@acme.example", "wrong password!!").await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    let right = sign_in(&app, "soc@acme.example", PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = right.headers()[RETRY_AFTER]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert_eq!(wait, 15 * 60);
    assert!(set_cookie(&right, "vigil_session").is_none());
    assert!(
        right.text().await.expect("html").contains("locked until"),
        "the page says why"
    );

    // Unknown accounts lock alike, so a lockout does not reveal accounts.
    for _ in 0..5 {
        sign_in(&app, "nobody@acme.example", "wrong password!!").await;
    }
    let ghost = sign_in(&app, "nobody@acme.example", "wrong password!!").await;
    assert_eq!(ghost.status(), StatusCode::TOO_MANY_REQUESTS);

    app.clock.advance(SignedDuration::from_mins(15));
    let after = sign_in(&app, "soc@acme.example", PASSWORD).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the lockout ends");

    let op = vigil_core::identity::Principal::Operator("test".into());
    let actions: Vec<String> = app
        .service
        .audit_log(&op, None, 0, 1000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.target == "login:soc@acme.example" || r.action == "session.create")
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "login.failed",
            "login.failed",
            "login.failed",
            "login.failed",
            "login.locked",
            "session.create"
        ]
    );
}

#[tokio::test]
async fn too_many_sign_in_attempts_from_one_address_are_slowed_down() {
    let app = spawn_app_with(vigil_api::AppOptions {
        logins_per_minute: 3,
        ..Default::default()
    })
    .await;
    for n in 0..3 {
        let resp = sign_in(&app, &format!("user{n}@acme.example"), "wrong password!!").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = sign_in(&app, "user9@acme.example", "wrong password!!").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key(RETRY_AFTER));
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = spawn_app().await;
    app.user("dm@mdr.example", Role::DeliveryManager, None)
        .await;
    let here = session(&app, "dm@mdr.example").await;
    let elsewhere = session(&app, "dm@mdr.example").await;
    let c = app.client();
    let form = c
        .get(app.url("/account/password"))
        .header(COOKIE, format!("vigil_session={here}"))
        .send()
        .await
        .expect("form");
    let csrf = form_csrf(&form.text().await.expect("html"));
    let post = |current: &'static str, new: &'static str, confirm: &'static str| {
        c.post(app.url("/account/password"))
            .header(COOKIE, format!("vigil_session={here}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current", current),
                ("new", new),
                ("confirm", confirm),
            ])
            .send()
    };
    let wrong = post(
        "not my password",
        "a brand new passphrase",
        "a brand new passphrase",
    )
    .await
    .expect("post");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .text()
            .await
            .expect("html")
            .contains("current password is wrong")
    );
    let short = post(PASSWORD, "short", "short").await.expect("post");
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let differ = post(PASSWORD, "a brand new passphrase", "another passphrase")
        .await
        .expect("post");
    assert_eq!(differ.status(), StatusCode::BAD_REQUEST);
    let ok = post(PASSWORD, "a brand new passphrase", "a brand new passphrase")
        .await
        .expect("post");
    assert_eq!(ok.status(), StatusCode::OK);

    assert_eq!(
        me(&app, &here).await.0,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        me(&app, &elsewhere).await.0,
        StatusCode::UNAUTHORIZED,
        "others end"
    );
    let old = sign_in(&app, "dm@mdr.example", PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = sign_in(&app, "dm@mdr.example", "a brand new passphrase").await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_revoked_or_expired_token_is_refused_from_then_on() {
    let app = spawn_app().await;
    let bearer = app
        .user("admin@mdr.example", Role::ProviderAdmin, None)
        .await;
    let c = app.client();
    app.clock.advance(SignedDuration::from_secs(1));
    let made: Value = c
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&bearer)
        .json(&json!({"name": "script", "expires_in": "1h"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let script = made["token"].as_str().expect("secret").to_owned();
    let id = made["id"].as_str().expect("id").to_owned();
    let tenants = |secret: String| c.get(app.url("/api/v1/tenants")).bearer_auth(secret).send();
    assert_eq!(
        tenants(script.clone()).await.expect("get").status(),
        StatusCode::OK
    );

    let listed: Value = c
        .get(app.url("/api/v1/tokens"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["script", "test"], "newest first");
    assert!(
        listed.to_string().find("vgt_").is_none(),
        "secrets are never listed"
    );

    let revoked = c
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let answer = tenants(script.clone()).await.expect("get");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let again = c
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("revoke");
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "already revoked");

    // A token past its lifetime is refused the same way.
    let made: Value = c
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&bearer)
        .json(&json!({"name": "short", "expires_in": "1h"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let short = made["token"].as_str().expect("secret").to_owned();
    assert_eq!(
        tenants(short.clone()).await.expect("get").status(),
        StatusCode::OK
    );
    app.clock.advance(SignedDuration::from_hours(1));
    assert_eq!(
        tenants(short).await.expect("get").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(tenants(bearer).await.expect("get").status(), StatusCode::OK);
}

#[tokio::test]
async fn a_running_server_hides_other_tenants_and_gives_ingest_keys_nothing_to_read() {
    let app = spawn_app().await;
    let reader = app
        .user("reader@acme.example", Role::CustomerReader, Some("acme"))
        .await;
    let op = vigil_core::identity::Principal::Operator("test".into());
    let (key, _) = app
        .service
        .create_ingest_key(&op, "acme", "shipper")
        .await
        .expect("key");
    let c = app.client();
    let get = |path: String, secret: String| c.get(app.url(&path)).bearer_auth(secret).send();
    let mut checked = 0;
    for (method, path, _) in vigil_api::api_routes() {
        if method != "GET" {
            continue;
        }
        let concrete = format!("/api/v1{}", path.replace("{tenant}", "globex"));
        let resp = get(concrete.clone(), reader.clone()).await.expect("get");
        if path.contains("{tenant}") {
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "reader: {concrete}");
        }
        let own = format!("/api/v1{}", path.replace("{tenant}", "acme"));
        let resp = get(own.clone(), key.expose().to_owned())
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "ingest key: {own}");
        checked += 1;
    }
    assert!(checked >= 6, "GET routes checked: {checked}");
    let own = get("/api/v1/tenants/acme".into(), reader)
        .await
        .expect("get");
    assert_eq!(own.status(), StatusCode::OK);
}
