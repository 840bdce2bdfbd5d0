//! How long each portal page takes the server to answer on the demo's data
//! (`vigil_demo::seed`: the Brightwater tenant, a few dozen hosts and
//! users, the ransomware intrusion, the identity attack, benign
//! administration), hunting and reports pages included. Each page is
//! fetched 20 times over loopback after one warm-up; the median and the
//! slowest are printed as a Markdown table (BENCHMARKS.md, "(d) Portal
//! pages").
//!
//! `cargo run -p vigil-api --example portal_timing_demo`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::identity::Role;
use vigil_service::{FixedClock, Service};
use vigil_store::{SqliteStore, Store};

const RUNS: usize = 20;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = Arc::new(FixedClock::new("2026-11-27T09:00:00Z".parse().unwrap()));
    let svc = Service::new(Arc::new(store), clock);
    let seeding = Instant::now();
    let world = vigil_demo::seed(&svc, &vigil_demo::DemoOptions::default())
        .await
        .unwrap();
    println!(
        "seeded in {:.1} s: {}\n",
        seeding.elapsed().as_secs_f64(),
        world.summary()
    );
    let t = world.tenant.clone();
    let major = world.major().next().unwrap().incident.id;
    let secret = |role: Role| {
        let l = world.login(role).unwrap().clone();
        let svc = svc.clone();
        async move {
            svc.login(&l.email, &l.password, "bench")
                .await
                .unwrap()
                .secret
                .expose()
                .to_owned()
        }
    };
    let analyst = secret(Role::Analyst).await;
    let customer = secret(Role::CustomerAdmin).await;

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
    let hunt = "DeviceProcessEvents | summarize count() by DeviceName";
    let hunt_q = format!(
        "/t/{t}/hunt?q={}",
        hunt.replace(' ', "+")
            .replace('|', "%7C")
            .replace('(', "%28")
            .replace(')', "%29")
    );
    let a = |p: String| ("analyst", p, analyst.clone());
    let cu = |p: String| ("customer", p, customer.clone());
    let pages: Vec<(&str, String, String)> = vec![
        a("/".into()),
        a("/queue".into()),
        a(format!("/t/{t}/incidents")),
        a(format!("/t/{t}/incidents/{major}")),
        a(format!("/t/{t}/readiness")),
        a(format!("/t/{t}/recommendations")),
        a(format!("/t/{t}/settings")),
        a(format!("/t/{t}/inquiries")),
        a("/messages".into()),
        a("/hunt".into()),
        a(format!("/t/{t}/hunt")),
        a(hunt_q),
        a("/reports".into()),
        a(format!("/t/{t}/reports")),
        cu("/".into()),
        cu(format!("/t/{t}/incidents")),
        cu(format!("/t/{t}/incidents/{major}")),
        cu("/messages".into()),
        cu(format!("/t/{t}/inquiries")),
        cu(format!("/t/{t}/recommendations")),
        cu(format!("/t/{t}/readiness")),
        cu(format!("/t/{t}/reports")),
        cu(format!("/t/{t}/settings")),
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
        let shown = path.replace(&major.to_string(), "{major}");
        println!(
            "| {role} | `{shown}` | {:.1} | {:.1} | {bytes} |",
            ms(times[RUNS / 2]),
            ms(times[RUNS - 1])
        );
    }
}
