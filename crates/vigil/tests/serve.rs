//! `vigil serve` over a real socket: health, a token-authenticated request,
//! tenant isolation, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn vigil(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(dir)
        .env_remove("VIGIL_CONFIG")
        .output()
        .expect("vigil runs")
}

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// One HTTP/1.1 request; returns (status, body).
fn get(addr: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let auth = bearer
        .map(|b| format!("Authorization: Bearer {b}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[test]
fn the_server_answers_over_a_socket_isolates_tenants_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    json(&vigil(
        d,
        &[
            "tenant", "create", "--slug", "acme", "--name", "Acme", "--json",
        ],
    ));
    json(&vigil(
        d,
        &[
            "tenant", "create", "--slug", "globex", "--name", "Globex", "--json",
        ],
    ));
    json(&vigil(
        d,
        &[
            "user",
            "create",
            "--email",
            "r@acme.example",
            "--role",
            "customer_reader",
            "--tenant",
            "acme",
            "--generate",
            "--json",
        ],
    ));
    let token = json(&vigil(
        d,
        &["token", "create", "--user", "r@acme.example", "--json"],
    ));
    let token = token["token"].as_str().expect("token").to_owned();
    let key = json(&vigil(
        d,
        &["ingest-key", "create", "--tenant", "acme", "--json"],
    ));
    let key = key["key"].as_str().expect("key").to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--log-format", "json", "serve", "--listen", &addr])
        .current_dir(d)
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("server log").expect("utf-8");
        if line.contains("\"listening\"") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
    }

    assert_eq!(get(&addr, "/healthz", None).0, 200);
    assert_eq!(get(&addr, "/api/v1/tenants", None).0, 401);
    let (status, body) = get(&addr, "/api/v1/tenants", Some(&token));
    assert_eq!(status, 200, "{body}");
    let tenants: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        tenants.as_array().map(Vec::len),
        Some(1),
        "a customer sees its tenant only"
    );
    assert_eq!(get(&addr, "/api/v1/tenants/globex", Some(&token)).0, 404);
    assert_eq!(get(&addr, "/api/v1/tenants/acme", Some(&token)).0, 200);
    assert_eq!(
        get(&addr, "/api/v1/tenants/acme", Some(&key)).0,
        404,
        "an ingest key reads nothing"
    );

    let (status, metrics) = get(&addr, "/metrics", None);
    assert_eq!(status, 200);
    assert!(
        metrics.contains("vigil_http_requests_total")
            && metrics.contains("route=\"/api/v1/tenants/{tenant}\"")
            && metrics.contains("status=\"404\""),
        "{metrics}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.wait().expect("server exits");
    assert!(exit.success(), "graceful stop: {exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");
}
