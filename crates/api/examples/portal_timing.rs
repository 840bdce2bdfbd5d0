//! How long each portal page takes the server to answer, on seeded data:
//! five tenants with twenty incidents each (the CloudTrail StopLogging
//! fixture, one per user and address), responses published with tasks, a
//! chat, an inquiry and a readiness run. Each page is fetched 20 times
//! over loopback after one warm-up; the median and the slowest are printed
//! as a Markdown table (BENCHMARKS.md).
//!
//! `cargo run -p vigil-api --example portal_timing`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::EntityKind;
use vigil_core::identity::{Principal, Role};
use vigil_core::task::TaskType;
use vigil_service::{FixedClock, IncidentFilter, Service};
use vigil_store::{SqliteStore, Store};

const TENANTS: usize = 5;
const INCIDENTS: usize = 20;
const RUNS: usize = 20;
const PASSWORD: &str = "correct horse battery staple";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = Arc::new(FixedClock::new("2026-11-27T09:00:00Z".parse().unwrap()));
    let svc = Service::new(Arc::new(store), clock);
    let op = Principal::Operator("bench".into());
    vigil_fixtures::add_stop_logging_rule(&svc, &op).await;
    let slugs: Vec<String> = (0..TENANTS).map(|n| format!("tenant{n}")).collect();
    for slug in &slugs {
        svc.create_tenant(&op, slug, &format!("Tenant {slug}"))
            .await
            .unwrap();
        for i in 0..INCIDENTS {
            let record = vigil_fixtures::STOP_LOGGING_TRAIL
                .replace("mallory", &format!("user{i}"))
                .replace("203.0.113.9", &format!("198.51.100.{i}"));
            vigil_fixtures::ingest_record(&svc, &op, slug, &record).await;
        }
    }
    vigil_fixtures::detect(&svc).await;
    let first = &slugs[0];
    let incidents = svc
        .list_incidents(
            &op,
            first,
            IncidentFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for r in incidents.iter().take(5) {
        let id = r.incident.id;
        let user = r
            .incident
            .entities
            .iter()
            .find(|e| e.kind == EntityKind::User)
            .cloned();
        svc.create_task(
            &op,
            first,
            id,
            TaskType::DisableUser,
            user,
            "stopped the trail",
        )
        .await
        .unwrap();
        svc.create_task(
            &op,
            first,
            id,
            TaskType::FreeText,
            None,
            "check the trail is back",
        )
        .await
        .unwrap();
        svc.draft_summary(&op, first, id).await.unwrap();
        svc.publish_response(&op, first, id).await.unwrap();
    }
    svc.run_readiness(&op, first).await.unwrap();
    svc.create_user(
        &op,
        "analyst@provider.example",
        Role::Analyst,
        None,
        PASSWORD,
    )
    .await
    .unwrap();
    svc.create_user(
        &op,
        "soc@tenant0.example",
        Role::CustomerResponder,
        Some(first),
        PASSWORD,
    )
    .await
    .unwrap();
    let customer = svc
        .authenticate_session(
            svc.login("soc@tenant0.example", PASSWORD, "bench")
                .await
                .unwrap()
                .secret
                .expose(),
        )
        .await
        .unwrap()
        .0;
    let top = incidents[0].incident.id;
    svc.post_incident_message(&customer, first, top, "Done: is anything else needed?")
        .await
        .unwrap();
    svc.create_inquiry(&customer, first, "Exclusions", "Can build-01 be excluded?")
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = vigil_api::app(svc.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let analyst = svc
        .login("analyst@provider.example", PASSWORD, "bench")
        .await
        .unwrap();
    let soc = svc
        .login("soc@tenant0.example", PASSWORD, "bench")
        .await
        .unwrap();
    let pages: Vec<(&str, String, String)> = vec![
        ("analyst", "/".into(), analyst.secret.expose().to_owned()),
        (
            "analyst",
            "/queue".into(),
            analyst.secret.expose().to_owned(),
        ),
        (
            "analyst",
            format!("/t/{first}/incidents"),
            analyst.secret.expose().to_owned(),
        ),
        (
            "analyst",
            format!("/t/{first}/incidents/{top}"),
            analyst.secret.expose().to_owned(),
        ),
        (
            "analyst",
            format!("/t/{first}/readiness"),
            analyst.secret.expose().to_owned(),
        ),
        (
            "analyst",
            format!("/t/{first}/recommendations"),
            analyst.secret.expose().to_owned(),
        ),
        (
            "analyst",
            format!("/t/{first}/settings"),
            analyst.secret.expose().to_owned(),
        ),
        (
            "analyst",
            "/messages".into(),
            analyst.secret.expose().to_owned(),
        ),
        ("customer", "/".into(), soc.secret.expose().to_owned()),
        (
            "customer",
            format!("/t/{first}/incidents"),
            soc.secret.expose().to_owned(),
        ),
        (
            "customer",
            format!("/t/{first}/incidents/{top}"),
            soc.secret.expose().to_owned(),
        ),
        (
            "customer",
            "/messages".into(),
            soc.secret.expose().to_owned(),
        ),
        (
            "customer",
            format!("/t/{first}/inquiries"),
            soc.secret.expose().to_owned(),
        ),
        (
            "customer",
            format!("/t/{first}/recommendations"),
            soc.secret.expose().to_owned(),
        ),
        (
            "customer",
            format!("/t/{first}/readiness"),
            soc.secret.expose().to_owned(),
        ),
        (
            "customer",
            format!("/t/{first}/settings"),
            soc.secret.expose().to_owned(),
        ),
        ("anyone", "/login".into(), String::new()),
    ];
    println!("| role | page | median ms | slowest ms | bytes |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for (role, path, secret) in pages {
        let get = || {
            client
                .get(format!("{base}{path}"))
                .header("cookie", format!("vigil_session={secret}"))
                .send()
        };
        let warm = get().await.unwrap();
        assert!(warm.status().is_success(), "{path}: {}", warm.status());
        let bytes = warm.bytes().await.unwrap().len();
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let start = Instant::now();
            let r = get().await.unwrap();
            let _ = r.bytes().await.unwrap();
            times.push(start.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let shown = path.replace(&top.to_string(), "{id}");
        println!(
            "| {role} | `{shown}` | {:.1} | {:.1} | {bytes} |",
            ms(times[RUNS / 2]),
            ms(times[RUNS - 1])
        );
    }
}
