//! Recommendations over a real socket: an analyst resolves a credential
//! dumping incident as a true positive through the REST API, the customer
//! reads the raised recommendation with its incident, assets and
//! verification, accepts the risk (reason and expiry required), and reads
//! the posture score and its trend.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::spawn_app;
use vigil_core::identity::{Principal, Role};
use vigil_core::rules::RuleFile;
use vigil_service::{At, Intake, Record};

const RULE: &str = "title: Test - Process Opened LSASS Memory
id: 3f0c7b7e-2f4e-4d7c-9a55-0c7e1d2b9a10
level: high
tags:
    - attack.credential_access
    - attack.t1003.001
logsource:
    product: windows
    category: process_access
detection:
    selection:
        TargetImage|endswith: '\\lsass.exe'
    condition: selection
";

const EVENT: &str = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":10,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-27T08:00:00Z"}},"EventRecordID":7,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS-0042"},"EventData":{"SourceImage":"C:\\Temp\\x.exe","TargetImage":"C:\\Windows\\system32\\lsass.exe","GrantedAccess":"0x1410"}}}"##;

#[tokio::test]
async fn a_resolved_true_positive_shows_up_as_a_recommendation_the_customer_can_accept() {
    let app = spawn_app().await;
    let op = Principal::Operator("test".into());
    app.service
        .add_rule_pack(
            &op,
            "test",
            "inline",
            vec![RuleFile {
                pack: String::new(),
                path: "lsass.yml".into(),
                yaml: RULE.into(),
            }],
        )
        .await
        .expect("pack");
    app.service
        .ingest(
            &op,
            Some("acme"),
            Intake {
                source: "test".into(),
                records: vec![Record {
                    at: At::Line(1),
                    bytes: EVENT.as_bytes().to_vec(),
                }],
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
    let (engine, _) = app.service.detection_engine().await.expect("engine");
    app.service.drain_detection(&engine).await.expect("detect");

    let analyst = app.user("analyst@mdr.example", Role::Analyst, None).await;
    let soc = app
        .user("soc@acme.example", Role::CustomerResponder, Some("acme"))
        .await;
    let reader = app
        .user("reader@acme.example", Role::CustomerReader, Some("acme"))
        .await;
    let other = app
        .user("admin@globex.example", Role::CustomerAdmin, Some("globex"))
        .await;
    let c = app.client();
    let get = |token: String, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).bearer_auth(token).send().await.expect("get");
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let patch = |token: String, path: String, body: Value| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c
                .patch(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("patch");
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let (_, incidents) = get(analyst.clone(), "/api/v1/tenants/acme/incidents".into()).await;
    let incident = incidents["items"][0]["id"]
        .as_str()
        .expect("incident")
        .to_owned();
    let (status, body) = patch(
        analyst.clone(),
        format!("/api/v1/tenants/acme/incidents/{incident}"),
        json!({"status": "resolved", "classification": "true_positive", "determination": "malware"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, list) = get(soc.clone(), "/api/v1/tenants/acme/recommendations".into()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let lsass = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["kb_id"] == "device.lsass_protection")
        .expect("raised")
        .clone();
    for field in [
        "id",
        "title",
        "category",
        "status",
        "points",
        "incidents",
        "assets",
        "verification",
    ] {
        assert!(lsass.get(field).is_some(), "recommendation without {field}");
    }
    assert_eq!(lsass["status"], "open");
    assert_eq!(lsass["incidents"][0]["id"], incident.as_str());
    assert!(
        lsass["assets"]
            .as_array()
            .expect("assets")
            .contains(&json!("device:ws-0042")),
        "{lsass}"
    );
    assert_eq!(
        lsass["verification"]["expression"],
        "all(device.lsass_protection)"
    );
    let id = lsass["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/tenants/acme/recommendations/{id}");

    let (status, one) = get(soc.clone(), path.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(one["how"].as_array().is_some_and(|h| !h.is_empty()));
    assert_eq!(one["mitigations"][0]["id"], "M1025");
    assert!(one["mitigations"][0]["name"].is_string());

    let (status, body) = patch(
        soc.clone(),
        path.clone(),
        json!({"status": "risk_accepted", "reason": "legacy VPN client"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expiry")),
        "{body}"
    );
    let (status, body) = patch(
        soc.clone(),
        path.clone(),
        json!({"status": "risk_accepted", "reason": "legacy VPN client", "expires_at": "2027-01-31T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "risk_accepted");
    assert_eq!(body["expires_at"], "2027-01-31T00:00:00Z");
    let (status, _) = patch(reader.clone(), path.clone(), json!({"note": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(other.clone(), path.replace("acme", "globex")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, score) = get(soc, "/api/v1/tenants/acme/posture-score".into()).await;
    assert_eq!(status, StatusCode::OK, "{score}");
    assert_eq!(score["current"]["achieved"], 0);
    assert!(
        score["current"]["possible"]
            .as_u64()
            .is_some_and(|p| p >= 10)
    );
    assert!(score["trend"].as_array().is_some_and(|t| !t.is_empty()));
}
