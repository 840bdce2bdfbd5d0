//! `vigil demo` as a new user runs it: the real binary on a free port
//! with its own data directory; once it says it is ready, the analyst
//! signs in through the `/login` form and finds the major incident in the
//! REST API.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::Value;
use support::Server;

/// The value of cookie `name` that `resp` sets.
fn set_cookie(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|line| line.split(';').next())
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
}

/// Sign in through the portal's form; returns the session cookie.
fn sign_in(client: &Client, url: &str, email: &str, password: &str) -> String {
    let form = client.get(format!("{url}/login")).send().expect("form");
    assert_eq!(form.status(), StatusCode::OK);
    let csrf = set_cookie(&form, "vigil_login_csrf").expect("form cookie");
    let resp = client
        .post(format!("{url}/login"))
        .header(COOKIE, format!("vigil_login_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .expect("sign-in");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{email} signs in");
    set_cookie(&resp, "vigil_session").expect("session cookie")
}

#[test]
fn vigil_demo_comes_up_with_four_logins_and_the_analyst_sees_the_major_incident() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("demo-data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "--log-level",
            "warn",
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--json",
        ])
        .arg("--data-dir")
        .arg(&data)
        .current_dir(dir.path())
        .env_remove("VIGIL_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vigil demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let line = BufReader::new(stdout)
        .lines()
        .next()
        .expect("vigil demo reports ready")
        .expect("utf-8");
    let ready: Value = serde_json::from_str(&line).expect("one JSON line");
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["tenant"], "brightwater");
    assert_eq!(ready["major"], 1, "{ready}");
    assert!(
        data.join("vigil.db").exists(),
        "the data directory given is used"
    );
    let url = ready["url"].as_str().expect("url");
    let logins = ready["logins"].as_array().expect("logins");
    let roles: Vec<&str> = logins.iter().filter_map(|l| l["role"].as_str()).collect();
    assert_eq!(
        roles,
        [
            "provider_admin",
            "analyst",
            "customer_admin",
            "customer_responder"
        ]
    );

    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let analyst = &logins[1];
    let session = sign_in(
        &client,
        url,
        analyst["email"].as_str().expect("email"),
        analyst["password"].as_str().expect("password"),
    );
    let resp = client
        .get(format!("{url}/api/v1/tenants/brightwater/incidents"))
        .header(COOKIE, format!("vigil_session={session}"))
        .send()
        .expect("incidents");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().expect("json");
    let items = body["items"].as_array().expect("items");
    let major: Vec<&Value> = items.iter().filter(|i| i["major"] == true).collect();
    assert_eq!(major.len(), 1, "{body}");
    assert!(items.len() >= 2, "the identity attack too: {body}");

    // The customer's responder signs in too.
    let responder = &logins[3];
    sign_in(
        &client,
        url,
        responder["email"].as_str().expect("email"),
        responder["password"].as_str().expect("password"),
    );
    drop(server);
}

#[test]
fn vigil_demo_refuses_a_data_directory_that_already_holds_a_database() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("vigil.db"), b"").expect("db");
    let out = support::vigil(
        dir.path(),
        &["demo", "--listen", "127.0.0.1:0", "--data-dir", "."],
    );
    assert_eq!(out.status.code(), Some(5), "refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already holds a Vigil database"), "{err}");
}
