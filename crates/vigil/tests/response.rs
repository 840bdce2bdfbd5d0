//! `vigil response publish|tasks` end to end: the binary over a data
//! directory whose incident (from `vigil ingest`) has tasks created through
//! the service, as the API would.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use vigil_core::identity::Principal;
use vigil_core::task::TaskType;
use vigil_core::{Entity, EntityKind};
use vigil_service::{Service, SystemClock};

fn vigil(dir: &Path, args: &[&str]) -> Output {
    support::configure_backend(dir);
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
    std::fs::write(dir.join("pack/stop.yml"), vigil_fixtures::STOP_LOGGING_RULE).expect("rule");
    std::fs::write(
        dir.join("trail.jsonl"),
        format!("{}\n", vigil_fixtures::STOP_LOGGING_TRAIL),
    )
    .expect("trail");
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
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = support::open_store(dir).await;
        let svc = Service::new(store, Arc::new(SystemClock));
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

/// One request received by [`soar`]: (timestamp header, signature header,
/// body).
type Request = (String, String, Vec<u8>);

/// A customer's SOAR on a loopback port: answers one request with 202 and
/// hands it over.
fn soar() -> (String, std::sync::mpsc::Receiver<Request>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/vigil", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let (mut ts, mut sig, mut len) = (String::new(), String::new(), 0usize);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or_default();
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "x-vigil-timestamp" => ts = value,
                "x-vigil-signature" => sig = value,
                "content-length" => len = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        let mut body = vec![0; len];
        let _ = reader.read_exact(&mut body);
        let _ = reader
            .get_mut()
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        let _ = tx.send((ts, sig, body));
    });
    (url, rx)
}

#[test]
fn a_delivery_due_when_the_server_starts_is_made_by_its_worker() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let incident = world(d);
    let (url, received) = soar();
    let secret = "soar-secret-0123456789abcdef";
    ok(
        d,
        &[
            "tenant",
            "set",
            "acme",
            "--authorisation",
            "managed",
            "--response-connector",
            &format!("kind=signed_webhook,url={url},secret={secret}"),
        ],
    );
    // A managed task whose first delivery was scheduled, as by a server
    // that stopped before making it.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let task = rt.block_on(async {
        let store = support::open_store(d).await;
        let svc = Service::new(store.clone(), Arc::new(SystemClock));
        let op = Principal::Operator("test".into());
        let mut task = svc
            .create_task(
                &op,
                "acme",
                incident.parse().expect("id"),
                TaskType::RevokeSessions,
                Some(Entity::new(EntityKind::User, "mallory")),
                "sessions of a compromised account",
            )
            .await
            .expect("task");
        assert_eq!(task.mode, vigil_core::task::TaskMode::Managed);
        let now = svc.now();
        task.status = vigil_core::task::TaskStatus::InProgress;
        task.updated_at = now;
        let pending = vigil_core::task::Execution {
            id: 0,
            task_id: task.id,
            tenant_id: task.tenant_id,
            connector: "signed_webhook".into(),
            attempt: 1,
            at: now,
            outcome: vigil_core::task::ExecutionOutcome::Pending,
            detail: "scheduled".into(),
            next_attempt_at: Some(now),
        };
        let audit = vigil_core::audit::AuditEntry::new(
            now,
            &vigil_core::audit::Actor::Cli("test".into()),
            "task.execute",
            Some(task.tenant_id),
            format!("task:{}", task.id),
            serde_json::json!({}),
        );
        store
            .save_execution(
                Some((&task, "open → in_progress", "cli:test")),
                &[pending],
                audit,
            )
            .await
            .expect("scheduled");
        task
    });
    let addr = format!("127.0.0.1:{}", support::free_port());
    let _server = support::serve(d, &addr);
    let (ts, sig, body) = received
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the worker delivers the due attempt");
    let now = jiff::Timestamp::now();
    vigil_core::signature::verify(secret.as_bytes(), &ts, &sig, &body, now)
        .expect("signed with the tenant's secret");
    let payload: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(payload["task_id"], task.id.to_string());
    assert_eq!(payload["type"], "revoke_sessions");
    assert_eq!(
        payload["callback_url"],
        format!(
            "http://{addr}/api/v1/tenants/acme/tasks/{}/callback",
            task.id
        )
    );
}
