//! `vigil serve` over PostgreSQL end to end: `database.url` names a real
//! PostgreSQL (`vigil_testkit::postgres`), telemetry goes in through
//! `POST /api/v1/ingest/events`, and its alert and incident come out of
//! the API, with nothing written to a SQLite file.

mod support;

use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;
use support::{admin_token, free_port, ingest_key, json, serve};

/// GET a list route until it has an item (the server detects on its own
/// clock); its items.
fn first_items(client: &Client, url: &str, token: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .expect("list")
            .json()
            .expect("json");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            return items;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing at {url}: {page}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn vigil_serve_over_postgres_turns_ingested_telemetry_into_an_incident() {
    let url = vigil_testkit::postgres_or_skip!();
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    std::fs::write(
        d.join("vigil.toml"),
        format!("[database]\nurl = \"{url}\"\n"),
    )
    .expect("config");
    json(
        d,
        &[
            "tenant", "create", "--slug", "acme", "--name", "Acme", "--json",
        ],
    );
    std::fs::create_dir(d.join("pack")).expect("pack dir");
    std::fs::write(d.join("pack/stop.yml"), vigil_fixtures::STOP_LOGGING_RULE).expect("rule");
    json(d, &["rules", "add", "pack", "--name", "test", "--json"]);
    let token = admin_token(d);
    let key = ingest_key(d, "acme");

    let addr = format!("127.0.0.1:{}", free_port());
    let _server = serve(d, &addr);
    let base = format!("http://{addr}");
    let client = Client::new();
    let answer: Value = client
        .post(format!("{base}/api/v1/ingest/events"))
        .bearer_auth(&key)
        .header("content-type", "application/x-ndjson")
        .body(format!("{}\n", vigil_fixtures::STOP_LOGGING_TRAIL))
        .send()
        .expect("ingest")
        .json()
        .expect("json");
    assert_eq!(answer["accepted"], 1, "{answer}");

    let alerts = first_items(
        &client,
        &format!("{base}/api/v1/tenants/acme/alerts"),
        &token,
    );
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule_title"], "CloudTrail Logging Stopped");
    assert_eq!(alerts[0]["severity"], "high");
    let incidents = first_items(
        &client,
        &format!("{base}/api/v1/tenants/acme/incidents"),
        &token,
    );
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["severity"], "high");
    assert!(
        !d.join("vigil-data").join("vigil.db").exists(),
        "everything went to PostgreSQL, nothing to SQLite"
    );
}
