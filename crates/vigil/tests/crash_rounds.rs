//! Crash consistency, round after round: the server is killed with SIGKILL
//! at pseudo-random points while one client streams intake batches,
//! another creates tenants (audited state changes), and a third updates an
//! incident (tags) and moves its response tasks on (task changes). After every kill the audit chain verifies and every write
//! acknowledged so far is stored; at the end every acknowledged write is
//! stored exactly once (events by count, tenants and task changes by their
//! audit records, incident tags as a set). `VIGIL_CRASH_ROUNDS` sets the rounds (default 10;
//! BENCHMARKS.md records a run of 100), `VIGIL_CRASH_SEED` the kill points.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};
use support::{admin_token, free_port, ingest_key, json as cli_json, serve};

const PER_BATCH: usize = 50;

fn record(n: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"r-{n}","eventTime":"2026-11-27T09:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}","userName":"u{}"}},"requestParameters":{{"bucketName":"b","key":"k{n}"}}}}"#,
        (n / 60) % 60,
        n % 60,
        n % 250,
        n % 5,
        n % 5
    )
}

fn batch(i: usize) -> String {
    (i * PER_BATCH..(i + 1) * PER_BATCH)
        .map(record)
        .collect::<Vec<_>>()
        .join("\n")
}

/// xorshift64*: reproducible kill points without a dependency.
struct Points(u64);

impl Points {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Send until a definite answer: `Ok(status, body)` once the server
/// answered; retried while it is down or the connection broke.
fn until_answered(
    stop: &AtomicBool,
    send: impl Fn() -> reqwest::Result<reqwest::blocking::Response>,
) -> Option<(u16, Value)> {
    let started = Instant::now();
    loop {
        if let Ok(r) = send() {
            let status = r.status().as_u16();
            if status < 500 {
                let body = r.json().unwrap_or(Value::Null);
                return Some((status, body));
            }
        }
        if stop.load(Ordering::SeqCst) && started.elapsed() > Duration::from_secs(5) {
            return None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "a write was never answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A forwarding inbox rule (Microsoft 365 audit): the built-in rule
/// `m365_inbox_rule_forwarding` makes it an alert, correlation an incident.
const INBOX_RULE: &str = r#"{"CreationTime":"2026-11-27T08:00:00","Id":"c7a5c000-0000-4000-8000-000000000001","Operation":"New-InboxRule","OrganizationId":"5b1c0a7e-0000-0000-0000-000000000001","RecordType":1,"ResultStatus":"True","UserKey":"10032002A1B2C3D4","UserType":2,"Version":1,"Workload":"Exchange","ClientIP":"[2001:db8::50]:51532","ObjectId":"corp.example/Users/dave.smith\\rule","UserId":"dave.smith@corp.example","AppId":"00000002-0000-0ff1-ce00-000000000000","ClientAppId":"","ExternalAccess":false,"OrganizationName":"corp.onmicrosoft.com","OriginatingServer":"DB9PR01MB1234 (15.20.8000.000)","Parameters":[{"Name":"Name","Value":"sync"},{"Name":"ForwardTo","Value":"exfil@attacker.example"}],"SessionId":"c7a5c000-0000-4000-8000-000000000002"}"#;

/// Tasks made before the kills; the task client completes them in order.
const TASKS: usize = 300;

/// A task view's task (the API answers with the task or a view holding it).
fn task_of(v: &Value) -> &Value {
    v.get("task").unwrap_or(v)
}

/// The incident the inbox rule raised, waited for.
fn the_incident(client: &Client, base: &str, token: &str) -> String {
    let started = Instant::now();
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/tenants/acme/incidents"))
            .bearer_auth(token)
            .send()
            .expect("incidents")
            .json()
            .expect("json");
        if let Some(id) = page["items"][0]["id"].as_str() {
            return id.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the inbox rule raised no incident: {page}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The incident's tags and its tasks' statuses, in creation order.
fn incident_state(
    client: &Client,
    base: &str,
    token: &str,
    incident: &str,
) -> (Vec<String>, Vec<(String, String)>) {
    let i: Value = client
        .get(format!("{base}/api/v1/tenants/acme/incidents/{incident}"))
        .bearer_auth(token)
        .send()
        .expect("incident")
        .json()
        .expect("json");
    let tags = i["tags"]
        .as_array()
        .or_else(|| i["incident"]["tags"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let tasks: Value = client
        .get(format!(
            "{base}/api/v1/tenants/acme/incidents/{incident}/tasks"
        ))
        .bearer_auth(token)
        .send()
        .expect("tasks")
        .json()
        .expect("json");
    let tasks = tasks["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    let t = task_of(t);
                    (
                        t["id"].as_str().unwrap_or_default().to_owned(),
                        t["status"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (tags, tasks)
}

/// The audit chain of the store in `dir`, verified by `vigil audit verify`.
fn audit_verifies(dir: &Path) -> u64 {
    let v = cli_json(dir, &["audit", "verify", "--json"]);
    assert_eq!(v["ok"], true, "the audit chain verifies: {v}");
    v["records"].as_u64().unwrap_or(0)
}

/// Every audit record, read over the API.
fn audit_actions(client: &Client, base: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0i64;
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/audit?after={after}&limit=500"))
            .bearer_auth(token)
            .send()
            .expect("audit")
            .json()
            .expect("json");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        all.extend(items);
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => return all,
        }
    }
}

#[test]
fn acknowledged_writes_survive_kills_at_random_points_exactly_once() {
    let rounds = env_u64("VIGIL_CRASH_ROUNDS", 10);
    let seed = env_u64("VIGIL_CRASH_SEED", 0x5eed_f00d);
    let mut points = Points(seed.max(1));
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_owned();
    cli_json(
        &d,
        &[
            "tenant", "create", "--slug", "acme", "--name", "Acme", "--json",
        ],
    );
    let key = ingest_key(&d, "acme");
    let token = admin_token(&d);
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let mut server = serve(&d, &addr);

    // An incident with its response tasks, made before the first kill.
    let setup = Client::new();
    let r = setup
        .post(format!("{base}/api/v1/ingest/events"))
        .bearer_auth(&key)
        .body(INBOX_RULE)
        .send()
        .expect("ingest the inbox rule");
    assert_eq!(r.status().as_u16(), 200);
    let incident = the_incident(&setup, &base, &token);
    let mut task_ids = Vec::with_capacity(TASKS);
    for n in 0..TASKS {
        let r = setup
            .post(format!(
                "{base}/api/v1/tenants/acme/incidents/{incident}/tasks"
            ))
            .bearer_auth(&token)
            .json(&json!({"kind": "free_text", "rationale": format!("step {n}")}))
            .send()
            .expect("create task");
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().expect("task");
        task_ids.push(task_of(&v)["id"].as_str().expect("task id").to_owned());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let acked_batches = Arc::new(AtomicU64::new(0));
    let acked_tenants = Arc::new(AtomicU64::new(0));
    let acked_changes = Arc::new(AtomicU64::new(0));
    let http = || {
        Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
    };
    let intake = {
        let (base, key, stop, acked) = (
            base.clone(),
            key.clone(),
            stop.clone(),
            acked_batches.clone(),
        );
        std::thread::spawn(move || {
            let client = http();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let body = batch(i);
                let answer = until_answered(&stop, || {
                    client
                        .post(format!("{base}/api/v1/ingest/events"))
                        .bearer_auth(&key)
                        .header("idempotency-key", format!("b-{i}"))
                        .body(body.clone())
                        .send()
                });
                let Some((status, v)) = answer else { break };
                assert_eq!(status, 200, "{v}");
                let stored =
                    v["accepted"].as_u64().unwrap_or(0) + v["duplicates"].as_u64().unwrap_or(0);
                assert!(v["replayed"] == true || stored == PER_BATCH as u64, "{v}");
                acked.store(i as u64 + 1, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    let admin = {
        let (base, token, stop, acked) = (
            base.clone(),
            token.clone(),
            stop.clone(),
            acked_tenants.clone(),
        );
        std::thread::spawn(move || {
            let client = http();
            let mut k = 0;
            while !stop.load(Ordering::SeqCst) {
                let slug = format!("t-{k}");
                let answer = until_answered(&stop, || {
                    client
                        .post(format!("{base}/api/v1/tenants"))
                        .bearer_auth(&token)
                        .json(&json!({"slug": slug, "name": format!("Tenant {k}")}))
                        .send()
                });
                let Some((status, v)) = answer else { break };
                // 409: created before the kill, the answer lost; retried.
                assert!(status == 201 || status == 409, "{status} {v}");
                acked.store(k + 1, Ordering::SeqCst);
                k += 1;
            }
        })
    };

    let work = {
        let (base, token, stop, acked, incident, task_ids) = (
            base.clone(),
            token.clone(),
            stop.clone(),
            acked_changes.clone(),
            incident.clone(),
            task_ids.clone(),
        );
        std::thread::spawn(move || {
            let client = http();
            // Change k: tag `k-{k}` on the incident, then task k completed.
            // Both are safe to retry: a tag is a set member, and a task
            // already completed is refused (409) rather than changed twice.
            for (k, task) in task_ids.iter().enumerate() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                // The tag moves on (an incident carries at most 50 tags):
                // `k-{k}` replaces `k-{k-1}`.
                let (tag, previous) = (format!("k-{k}"), format!("k-{}", k.wrapping_sub(1)));
                let answer = until_answered(&stop, || {
                    client
                        .patch(format!("{base}/api/v1/tenants/acme/incidents/{incident}"))
                        .bearer_auth(&token)
                        .json(&if k == 0 {
                            json!({"add_tags": [tag]})
                        } else {
                            json!({"add_tags": [tag], "remove_tags": [previous]})
                        })
                        .send()
                });
                let Some((status, v)) = answer else { break };
                // "no change given" / "has no tag": the update was applied
                // before the kill, the answer lost; retried. (A real loss
                // is caught after each kill below.)
                let text = v.to_string();
                let unchanged = status == 400
                    && (text.contains("no change given") || text.contains("has no tag"));
                assert!(status == 200 || unchanged, "{status} {v}");
                let answer = until_answered(&stop, || {
                    client
                        .patch(format!("{base}/api/v1/tenants/acme/tasks/{task}"))
                        .bearer_auth(&token)
                        .json(&json!({"status": "completed", "note": format!("done {k}")}))
                        .send()
                });
                let Some((status, v)) = answer else { break };
                // 409: completed before the kill, the answer lost; retried.
                assert!(status == 200 || status == 409, "{status} {v}");
                acked.store(k as u64 + 1, Ordering::SeqCst);
            }
        })
    };

    for round in 0..rounds {
        std::thread::sleep(Duration::from_millis(30 + points.next_ms(400)));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &server.id().to_string()])
            .status();
        let _ = server.wait();
        // Down: what was acknowledged is on disk, and the chain verifies.
        let batches = acked_batches.load(Ordering::SeqCst);
        let tenants = acked_tenants.load(Ordering::SeqCst);
        let changes = acked_changes.load(Ordering::SeqCst);
        audit_verifies(&d);
        let listed = cli_json(&d, &["tenant", "list", "--json"]);
        let listed = listed.as_array().map_or(0, Vec::len) as u64;
        assert!(
            listed > tenants,
            "round {round}: {tenants} acknowledged tenants (and acme), {listed} stored"
        );
        server = serve(&d, &addr);
        let stats: Value = Client::new()
            .get(format!("{base}/api/v1/tenants/acme/telemetry"))
            .bearer_auth(&token)
            .send()
            .expect("stats")
            .json()
            .expect("json");
        assert!(
            stats["events"].as_u64().unwrap_or(0) >= batches * PER_BATCH as u64,
            "round {round}: {batches} acknowledged batches: {stats}"
        );
        let (tags, tasks) = incident_state(&Client::new(), &base, &token, &incident);
        // The client goes on as soon as the server is back: the tag may
        // have moved further, never back.
        let latest = tags
            .iter()
            .filter_map(|t| t.strip_prefix("k-")?.parse::<u64>().ok())
            .max();
        assert!(
            changes == 0 || latest.is_some_and(|n| n + 1 >= changes),
            "round {round}: {changes} tag moves acknowledged, tags now {tags:?}"
        );
        for k in 0..changes {
            let status = tasks.iter().find(|(id, _)| *id == task_ids[k as usize]);
            assert!(
                status.is_some_and(|(_, s)| s == "completed"),
                "round {round}: acknowledged completion of task {k} lost: {status:?}"
            );
        }
    }
    stop.store(true, Ordering::SeqCst);
    intake.join().expect("intake client");
    admin.join().expect("admin client");
    work.join().expect("incident and task client");

    // Exactly once, with the server up and every answer received.
    let client = Client::new();
    let batches = acked_batches.load(Ordering::SeqCst);
    let tenants = acked_tenants.load(Ordering::SeqCst);
    let stats: Value = client
        .get(format!("{base}/api/v1/tenants/acme/telemetry"))
        .bearer_auth(&token)
        .send()
        .expect("stats")
        .json()
        .expect("json");
    // Less the inbox rule stored before the kills.
    let events = stats["events"].as_u64().unwrap_or(0).saturating_sub(1);
    // The last batch may have been stored and its answer lost to `stop`.
    assert!(
        events == batches * PER_BATCH as u64 || events == (batches + 1) * PER_BATCH as u64,
        "exactly once: {batches} batches acknowledged, {stats}"
    );
    let records = audit_actions(&client, &base, &token);
    let creates = records
        .iter()
        .filter(|r| r["action"] == "tenant.create")
        .count() as u64;
    let listed = cli_json(&d, &["tenant", "list", "--json"]);
    let listed = listed.as_array().map_or(0, Vec::len) as u64;
    assert_eq!(
        creates, listed,
        "one tenant.create record per stored tenant"
    );
    assert!(
        listed == tenants + 1 || listed == tenants + 2,
        "{tenants} acknowledged, {listed} stored"
    );
    // Incident updates and task changes: nothing acknowledged lost, each
    // task moved once (one `task.update` record per completed task).
    let changes = acked_changes.load(Ordering::SeqCst);
    let (tags, tasks) = incident_state(&client, &base, &token, &incident);
    let tagged: Vec<&String> = tags.iter().filter(|t| t.starts_with("k-")).collect();
    assert!(
        changes == 0
            || tagged == [&format!("k-{}", changes - 1)]
            || tagged == [&format!("k-{changes}")],
        "{changes} incident updates acknowledged, the last one's tag alone expected: {tags:?}"
    );
    let completed = tasks.iter().filter(|(_, s)| s == "completed").count() as u64;
    assert!(
        completed == changes || completed == changes + 1,
        "{changes} task changes acknowledged, {completed} tasks completed"
    );
    let task_updates = records
        .iter()
        .filter(|r| r["action"] == "task.update")
        .count() as u64;
    assert_eq!(
        task_updates, completed,
        "one task.update record per completed task"
    );
    let chain = audit_verifies(&d);
    eprintln!(
        "crash rounds: {rounds} kills (seed {seed:#x}); {batches} batches ({events} events), {tenants} tenants and {changes} incident updates with task changes acknowledged; 0 lost, 0 duplicated; audit chain of {chain} records verifies"
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
