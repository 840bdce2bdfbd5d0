//! `vigil response publish|tasks` end to end: the binary over a data
//! directory whose incident (from `vigil ingest`) has tasks created through
//! the service, as the API would.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use vigil_core::identity::Principal;
use vigil_core::task::TaskType;
use vigil_core::{Entity, EntityKind};
use vigil_service::{Service, SystemClock};
use vigil_store::{SqliteStore, Store};

const RULE: &str = "title: CloudTrail Logging Stopped
id: 6f3c1d52-9f5e-4a0f-9d55-1b2f0c3e8a01
level: high
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: StopLogging
    condition: selection
";

const TRAIL: &str = r#"{"eventVersion":"1.08","eventTime":"2026-11-27T08:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","userName":"mallory"}}"#;

fn vigil(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIL_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.output().expect("vigil runs")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = vigil(dir, args);
    assert!(
        out.status.success(),
        "vigil {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A tenant with one incident (mallory stopped the trail), two tasks on it
/// and a draft summary. Returns the incident's id.
fn world(dir: &Path) -> String {
    ok(
        dir,
        &["tenant", "create", "--slug", "acme", "--name", "Acme"],
    );
    std::fs::create_dir(dir.join("pack")).expect("pack dir");
    std::fs::write(dir.join("pack/stop.yml"), RULE).expect("rule");
    std::fs::write(dir.join("trail.jsonl"), format!("{TRAIL}\n")).expect("trail");
    ok(dir, &["rules", "add", "pack", "--name", "test"]);
    ok(
        dir,
        &["ingest", "--tenant", "acme", "--no-progress", "trail.jsonl"],
    );
    let list: Value = serde_json::from_str(&ok(
        dir,
        &["incident", "list", "--tenant", "acme", "--json"],
    ))
    .expect("json");
    let incident = list[0]["id"].as_str().expect("an incident").to_owned();
    let db = dir.join("vigil-data").join("vigil.db");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = SqliteStore::open(&db).await.expect("store");
        store.migrate().await.expect("migrate");
        let svc = Service::new(Arc::new(store), Arc::new(SystemClock));
        let op = Principal::Operator("test".into());
        let id = incident.parse().expect("id");
        svc.create_task(
            &op,
            "acme",
            id,
            TaskType::DisableUser,
            Some(Entity::new(EntityKind::User, "mallory")),
            "mallory stopped the trail",
        )
        .await
        .expect("task");
        svc.create_task(&op, "acme", id, TaskType::FreeText, None, "rotate keys")
            .await
            .expect("task");
        svc.draft_summary(&op, "acme", id).await.expect("draft");
    });
    incident
}

#[test]
fn response_tasks_lists_the_tasks_and_its_json_parses() {
    let dir = tempfile::tempdir().expect("dir");
    let incident = world(dir.path());
    let text = ok(dir.path(), &["response", "tasks", "acme", &incident]);
    assert!(text.contains("STATUS") && text.contains("TARGET"), "{text}");
    assert!(text.contains("disable_user"), "{text}");
    assert!(text.contains("user:mallory"), "{text}");
    assert!(text.contains("free_text"), "{text}");
    assert!(text.contains("guided") && text.contains("open"), "{text}");
    let json: Value = serde_json::from_str(&ok(
        dir.path(),
        &["response", "tasks", "acme", &incident, "--json"],
    ))
    .expect("--json prints JSON");
    let tasks = json.as_array().expect("a list");
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["kind"], "disable_user");
    assert_eq!(tasks[0]["status"], "open");
    assert!(tasks[0]["due_at"].is_string());
}

#[test]
fn response_publish_hands_the_incident_to_the_customer() {
    let dir = tempfile::tempdir().expect("dir");
    let incident = world(dir.path());
    let text = ok(dir.path(), &["response", "publish", "acme", &incident]);
    assert!(
        text.contains("awaiting_customer") && text.contains("customer"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&ok(
        dir.path(),
        &["response", "publish", "acme", &incident, "--json"],
    ))
    .expect("json");
    assert_eq!(json["incident"]["status"], "awaiting_customer");
}

#[test]
fn response_commands_exit_with_meaningful_codes() {
    let dir = tempfile::tempdir().expect("dir");
    let incident = world(dir.path());
    let code = |args: &[&str]| vigil(dir.path(), args).status.code();
    assert_eq!(code(&["response", "tasks", "acme", "not-an-id"]), Some(2));
    assert_eq!(code(&["response", "tasks", "nosuch", &incident]), Some(4));
    let other = "0190f0f0-0000-7000-8000-000000000000";
    assert_eq!(code(&["response", "tasks", "acme", other]), Some(4));
}

#[test]
fn the_response_connector_is_set_from_the_command_line_and_its_secret_never_shown() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    ok(d, &["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let secret = "soar-secret-0123456789abcdef";
    let spec =
        format!("kind=signed_webhook,url=https://soar.acme.example/hook?key=k1,secret={secret}");
    let changed = ok(
        d,
        &[
            "tenant",
            "set",
            "acme",
            "--response-connector",
            &spec,
            "--json",
        ],
    );
    let shown = ok(d, &["tenant", "show", "acme"]) + &changed;
    assert!(
        !shown.contains(secret) && !shown.contains("key=k1"),
        "{shown}"
    );
    assert!(
        shown.contains("signed webhook to https://soar.acme.example"),
        "{shown}"
    );
    let json: Value =
        serde_json::from_str(&ok(d, &["tenant", "show", "acme", "--json"])).expect("json");
    assert_eq!(
        json["settings"]["response_connector"]["kind"],
        "signed_webhook"
    );
    assert_eq!(
        json["settings"]["response_connector"]["secret"],
        "<redacted>"
    );
    // A short secret is refused (usage), naming the rule, not the secret.
    let out = vigil(
        d,
        &[
            "tenant",
            "set",
            "acme",
            "--response-connector",
            "kind=signed_webhook,url=https://x.example,secret=short",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("16"), "{err}");
    ok(
        d,
        &["tenant", "set", "acme", "--response-connector", "manual"],
    );
    assert!(ok(d, &["tenant", "show", "acme"]).contains("response connector"));
}
