//! Scale-out fault tests with real processes (docs/scale-out.md):
//! `vigil serve --role …` processes sharing a real PostgreSQL
//! (`vigil_testkit::postgres`) and a real `nats-server -js`
//! (`vigil_testkit::nats`), killed and restarted as operators' machines
//! would be.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;
use support::{Server, admin_token, free_port, ingest_key, json};

/// `vigil serve --role <role>` (with `--listen` for HTTP roles), returned
/// once its log says `ready`.
fn spawn_role(dir: &Path, role: &str, addr: Option<&str>, ready: &str) -> Server {
    spawn_watched(dir, role, addr, ready).0
}

/// [`spawn_role`], with the rest of its log.
fn spawn_watched(
    dir: &Path,
    role: &str,
    addr: Option<&str>,
    ready: &str,
) -> (Server, std::sync::mpsc::Receiver<String>) {
    let mut args = vec!["--log-format", "json", "serve", "--role", role];
    if let Some(a) = addr {
        args.extend(["--listen", a]);
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(&args)
        .current_dir(dir)
        .env_remove("VIGIL_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("server log").expect("utf-8");
        if line.contains(ready) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{role} did not start"
        );
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (Server(server), rx)
}

/// A data directory configured for PostgreSQL and NATS, with the tenant
/// `acme`, the StopLogging rule, an admin token and an ingest key.
fn setup(dir: &Path, pg: &str, nats: &str) -> (String, String) {
    setup_with(dir, pg, nats, 2)
}

/// [`setup`] with another acknowledgement wait.
fn setup_with(dir: &Path, pg: &str, nats: &str, ack_wait_secs: u32) -> (String, String) {
    std::fs::write(
        dir.join("vigil.toml"),
        format!(
            "[database]\nurl = \"{pg}\"\n[bus]\nurl = \"{nats}\"\nack_wait_secs = {ack_wait_secs}\n"
        ),
    )
    .expect("config");
    json(
        dir,
        &[
            "tenant", "create", "--slug", "acme", "--name", "Acme", "--json",
        ],
    );
    std::fs::create_dir(dir.join("pack")).expect("pack dir");
    std::fs::write(dir.join("pack/stop.yml"), vigil_fixtures::STOP_LOGGING_RULE).expect("rule");
    json(dir, &["rules", "add", "pack", "--name", "test", "--json"]);
    (admin_token(dir), ingest_key(dir, "acme"))
}

/// The trail record at second `n` of the hour: a distinct event of the
/// same alert.
fn trail(n: u32) -> String {
    vigil_fixtures::STOP_LOGGING_TRAIL.replace(
        "08:00:00Z",
        &format!("08:{:02}:{:02}Z", n / 60 % 60, n % 60),
    )
}

fn post_events(client: &Client, base: &str, key: &str, from: u32, to: u32) -> reqwest::StatusCode {
    let body: String = (from..to).map(|n| trail(n) + "\n").collect();
    client
        .post(format!("{base}/api/v1/ingest/events"))
        .bearer_auth(key)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .expect("ingest")
        .status()
}

/// The tenant's alerts and events waiting for detection.
fn state(client: &Client, base: &str, token: &str) -> (Vec<Value>, u64) {
    let alerts: Value = client
        .get(format!("{base}/api/v1/tenants/acme/alerts"))
        .bearer_auth(token)
        .send()
        .expect("alerts")
        .json()
        .expect("json");
    let stats: Value = client
        .get(format!("{base}/api/v1/tenants/acme/telemetry"))
        .bearer_auth(token)
        .send()
        .expect("stats")
        .json()
        .expect("json");
    (
        alerts["items"].as_array().cloned().unwrap_or_default(),
        stats["pending_detection"].as_u64().unwrap_or(u64::MAX),
    )
}

/// Wait until nothing waits for detection; the alerts then.
fn settled(client: &Client, base: &str, token: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (alerts, pending) = state(client, base, token);
        if pending == 0 {
            return alerts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{pending} events still wait for detection"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_detect_worker_killed_mid_batch_loses_no_event_and_duplicates_no_alert() {
    let pg = vigil_testkit::postgres_or_skip!();
    let nats = vigil_testkit::nats_or_skip!();
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let (token, key) = setup(d, &pg, &nats.url());
    let ingest_addr = format!("127.0.0.1:{}", free_port());
    let api_addr = format!("127.0.0.1:{}", free_port());
    let _ingest = spawn_role(d, "ingest", Some(&ingest_addr), "\"listening\"");
    let _api = spawn_role(d, "api", Some(&api_addr), "\"listening\"");
    let (ingest, api) = (
        format!("http://{ingest_addr}"),
        format!("http://{api_addr}"),
    );
    let client = Client::new();
    // 600 events in 30 announcements, waiting for a worker.
    const EVENTS: u32 = 600;
    for batch in 0..30 {
        let status = post_events(&client, &ingest, &key, batch * 20, batch * 20 + 20);
        assert!(status.is_success(), "{status}");
    }
    // The first worker is killed (SIGKILL) while it works through them.
    let mut first = spawn_role(d, "detect", None, "detection running on the bus");
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    let (_, pending) = state(&client, &api, &token);
    // A second worker takes over; what the first had taken comes back after
    // the acknowledgement wait.
    let _second = spawn_role(d, "detect", None, "detection running on the bus");
    let alerts = settled(&client, &api, &token);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0]["count"],
        u64::from(EVENTS),
        "every event folded once (pending when the first died: {pending})"
    );
}

#[test]
fn intake_answers_503_while_nats_is_down_and_recovers_when_it_returns() {
    let pg = vigil_testkit::postgres_or_skip!();
    let mut nats = vigil_testkit::nats_or_skip!();
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let (token, key) = setup(d, &pg, &nats.url());
    let addr = format!("127.0.0.1:{}", free_port());
    let _all = spawn_role(d, "all", Some(&addr), "\"listening\"");
    let base = format!("http://{addr}");
    let client = Client::new();
    assert!(post_events(&client, &base, &key, 0, 10).is_success());

    nats.stop();
    let status = post_events(&client, &base, &key, 10, 20);
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);

    nats.restart().expect("nats-server restarts");
    let started = Instant::now();
    loop {
        let status = post_events(&client, &base, &key, 20, 30);
        if status.is_success() {
            break;
        }
        assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "intake did not recover"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The batches acknowledged before and after are detected; the one
    // refused with 503 was stored and waits for the scheduler to announce
    // it again (docs/scale-out.md), so it is not counted here.
    let started = Instant::now();
    loop {
        let (alerts, _) = state(&client, &base, &token);
        if alerts.first().and_then(|a| a["count"].as_u64()) >= Some(20) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "detection did not recover: {alerts:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn of_two_schedulers_one_runs_the_jobs_and_the_other_takes_over_when_it_dies() {
    let pg = vigil_testkit::postgres_or_skip!();
    let nats = vigil_testkit::nats_or_skip!();
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    setup(d, &pg, &nats.url());
    let mut first = spawn_role(d, "scheduler", None, "scheduler running");
    let (_second, log) = spawn_watched(d, "scheduler", None, "standing by");
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    // The standby takes the lease once PostgreSQL has seen the first
    // process's connection close (it retries every 2 s).
    let deadline = Instant::now() + Duration::from_secs(20);
    let took_over = std::iter::from_fn(|| {
        log.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    })
    .any(|l| l.contains("scheduler running"));
    assert!(took_over, "the standby did not take over within 20 s");
}

/// `vigil serve --role scheduler` in `dir`, returned at once with its log.
fn spawn_scheduler(dir: &Path) -> (Server, std::sync::mpsc::Receiver<String>) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--log-format", "json", "serve", "--role", "scheduler"])
        .current_dir(dir)
        .env_remove("VIGIL_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("scheduler starts");
    let stderr = server.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (Server(server), rx)
}

/// Whether a scheduler's log (read until `deadline`) says it took the
/// lease (`true`) or stands by (`false`).
fn lease_state(log: &std::sync::mpsc::Receiver<String>, deadline: Instant) -> Option<bool> {
    while let Ok(line) = log.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains("scheduler running") {
            return Some(true);
        }
        if line.contains("standing by") {
            return Some(false);
        }
    }
    None
}

/// Tenant `acme` (live, incident contacts Ada and Bob), an analyst, and
/// the StopLogging incident whose response was published `ago` before
/// now: set up through the service on the database with a clock that far
/// back, so the incident's SLA steps are already due when the schedulers
/// (on the real clock) start. A high-severity incident: acknowledge within
/// 1 h, complete within 4 h (docs/sla.md).
fn published_long_ago(pg: &str, ago: jiff::SignedDuration) {
    use std::sync::Arc;
    use vigil_core::identity::{Principal, Role};
    use vigil_core::tenant::{Contact, ContactKind, Lifecycle, SettingChange};
    use vigil_service::{FixedClock, Service};
    use vigil_store::{PgStore, Store};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = PgStore::open(pg).await.expect("store");
        store.migrate().await.expect("migrate");
        let then = jiff::Timestamp::now().checked_sub(ago).expect("time");
        let svc = Service::new(Arc::new(store), Arc::new(FixedClock::new(then)));
        let op = Principal::Operator("test".into());
        svc.create_tenant(&op, "acme", "Acme")
            .await
            .expect("tenant");
        for (name, email, priority) in [
            ("Ada", "ada@acme.example", 1),
            ("Bob", "bob@acme.example", 2),
        ] {
            let contact = Contact {
                kind: ContactKind::Incident,
                name: name.into(),
                email: Some(email.into()),
                phone: None,
                priority,
            };
            svc.update_tenant(&op, "acme", &[SettingChange::AddContact(contact)])
                .await
                .expect("contact");
        }
        for to in [Lifecycle::Monitoring, Lifecycle::Live] {
            svc.transition_tenant(&op, "acme", to, Some("test: readiness not under test"))
                .await
                .expect("lifecycle");
        }
        svc.create_user(
            &op,
            "analyst@mdr.example",
            Role::Analyst,
            None,
            "correct horse battery staple",
        )
        .await
        .expect("analyst");
        vigil_fixtures::published_stop_logging_incident(
            &svc,
            &op,
            "acme",
            "rotate mallory's access keys",
        )
        .await;
    });
}

/// How often each (recipient, subject) arrived.
fn received(
    smtp: &vigil_testkit::smtp::SmtpServer,
) -> std::collections::BTreeMap<(String, String), u32> {
    let mut seen = std::collections::BTreeMap::new();
    for mail in smtp.mails() {
        let subject = mail.subject();
        for to in mail.to {
            *seen.entry((to, subject.clone())).or_insert(0) += 1;
        }
    }
    seen
}

#[test]
fn two_schedulers_send_each_sla_reminder_once_and_the_one_taking_over_sends_nothing_twice() {
    let pg = vigil_testkit::postgres_or_skip!();
    let nats = vigil_testkit::nats_or_skip!();
    let smtp = vigil_testkit::smtp::SmtpServer::start(&[]);
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    std::fs::write(
        d.join("vigil.toml"),
        format!(
            "[database]\nurl = \"{pg}\"\n[bus]\nurl = \"{}\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"vigil@mdr.example\"\n",
            nats.url(),
            smtp.port
        ),
    )
    .expect("config");
    // 130 minutes on: the hour to acknowledge is over (its overdue
    // reminder, the breach and the escalation are due; its 50 % reminder
    // is passed over) and the 4 hours to complete are half gone (its 50 %
    // reminder is due).
    published_long_ago(&pg, jiff::SignedDuration::from_mins(130));

    let (a, a_log) = spawn_scheduler(d);
    let (b, b_log) = spawn_scheduler(d);
    let deadline = Instant::now() + Duration::from_secs(60);
    let states = (lease_state(&a_log, deadline), lease_state(&b_log, deadline));
    let (mut holder, standby_log, _standby) = match states {
        (Some(true), Some(false)) => (a, b_log, b),
        (Some(false), Some(true)) => (b, a_log, a),
        other => panic!("one scheduler runs and one stands by, not {other:?}"),
    };

    // Every reminder arrives; then both run several more ticks (the SLA
    // and notification jobs tick every 5 s).
    let started = Instant::now();
    // The reminders are the 100 % one of the acknowledge timer and the
    // 50 % one of the complete timer, to both incident contacts.
    let reminded = |seen: &std::collections::BTreeMap<(String, String), u32>| {
        ["ada@acme.example", "bob@acme.example"].iter().all(|who| {
            ["Overdue: acknowledge", "Reminder: complete"]
                .iter()
                .all(|what| seen.keys().any(|(to, s)| to == who && s.starts_with(what)))
        })
    };
    while !reminded(&received(&smtp)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the reminders did not arrive: {:?}",
            received(&smtp)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(12));
    let before = received(&smtp);
    assert!(
        before.values().all(|&n| n == 1),
        "each mail once per recipient: {before:?}"
    );

    // The lease holder dies; the standby takes over and sends nothing again.
    holder.kill().expect("kill -9");
    holder.wait().expect("reaped");
    let deadline = Instant::now() + Duration::from_secs(20);
    let took_over = std::iter::from_fn(|| {
        standby_log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    })
    .any(|l| l.contains("scheduler running"));
    assert!(took_over, "the standby did not take over within 20 s");
    std::thread::sleep(Duration::from_secs(12));
    let after = received(&smtp);
    assert_eq!(after, before, "nothing sent twice after the takeover");
    eprintln!("each received once: {after:?}");
}

/// BENCHMARKS.md's scale-out numbers (not a test: run with
/// `cargo test -p vigil --test scale_out -- --ignored --nocapture`):
/// intake of 20 000 events through an `ingest` process, then detection
/// with one and with two `detect` processes, over PostgreSQL and NATS.
#[test]
#[ignore = "a benchmark; run by hand"]
fn benchmark_intake_and_detection_with_one_and_two_detect_workers() {
    const EVENTS: u32 = 20_000;
    const BATCH: u32 = 500;
    for workers in [1, 2, 1, 2] {
        let pg = vigil_testkit::postgres_or_skip!();
        let nats = vigil_testkit::nats_or_skip!();
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let (token, key) = setup_with(d, &pg, &nats.url(), 60);
        let ingest_addr = format!("127.0.0.1:{}", free_port());
        let api_addr = format!("127.0.0.1:{}", free_port());
        let _ingest = spawn_role(d, "ingest", Some(&ingest_addr), "\"listening\"");
        let _api = spawn_role(d, "api", Some(&api_addr), "\"listening\"");
        let (ingest, api) = (
            format!("http://{ingest_addr}"),
            format!("http://{api_addr}"),
        );
        let client = Client::new();
        // Distinct events (another region each) of one user: one alert
        // growing, as a real burst folds.
        let started = Instant::now();
        for b in 0..EVENTS / BATCH {
            let body: String = (b * BATCH..(b + 1) * BATCH)
                .map(|n| trail(n % 3600).replace("eu-west-1", &format!("eu-west-{n}")) + "\n")
                .collect();
            let status = client
                .post(format!("{ingest}/api/v1/ingest/events"))
                .bearer_auth(&key)
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .expect("ingest")
                .status();
            assert!(status.is_success(), "{status}");
        }
        let intake = started.elapsed();
        let started = Instant::now();
        let _detect: Vec<Server> = (0..workers)
            .map(|_| spawn_role(d, "detect", None, "detection running on the bus"))
            .collect();
        let started_detect = started.elapsed();
        let started = Instant::now();
        loop {
            let (_, pending) = state(&client, &api, &token);
            if pending == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let detection = started.elapsed();
        let rate = |d: Duration| f64::from(EVENTS) / d.as_secs_f64();
        eprintln!(
            "workers={workers} events={EVENTS} intake={:.1}s ({:.0}/s) detection={:.1}s ({:.0}/s) (worker start {:.1}s excluded)",
            intake.as_secs_f64(),
            rate(intake),
            detection.as_secs_f64(),
            rate(detection),
            started_detect.as_secs_f64()
        );
    }
}
