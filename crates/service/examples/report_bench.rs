//! How long a service report takes over a tenant with a year of data
//! (BENCHMARKS.md, "Service reports"). Builds the year through the service
//! on a real SQLite file with a clock it moves: every month, `PER_MONTH`
//! incidents (one alert each), each worked like a real one: in progress,
//! a task, a published response (SLA timers), the customer acting on the
//! task, resolved; one in five resolved by the experts alone. Then times
//! the tenant's report over the last 30 days (with its six-month trend)
//! and the provider's view, median of five runs each.
//!
//! `cargo run -p vigil-service --example report_bench [PER_MONTH]`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use jiff::SignedDuration;
use vigil_core::identity::Principal;
use vigil_core::incident::{Classification, Determination, IncidentStatus};
use vigil_core::task::{TaskStatus, TaskType};
use vigil_core::tenant::Lifecycle;
use vigil_reports::Period;
use vigil_service::{At, FixedClock, IncidentChange, IncidentFilter, Intake, Record, Service};
use vigil_store::{SqliteStore, Store};

const RULE: &str = "title: CloudTrail Logging Stopped
id: 6f3c1d52-9f5e-4a0f-9d55-1b2f0c3e8a01
level: high
tags:
    - attack.defense-evasion
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: StopLogging
    condition: selection
";

fn record(at: jiff::Timestamp, month: usize, i: usize) -> Vec<u8> {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"{at}","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"10.{month}.{}.{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{month}x{i}","userName":"u{month}x{i}"}}}}"#,
        i / 250,
        i % 250
    )
    .into_bytes()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let per_month: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(250);
    let dir = tempfile::tempdir().unwrap();
    let start: jiff::Timestamp = "2025-12-01T00:00:00Z".parse().unwrap();
    let clock = Arc::new(FixedClock::new(start));
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let svc = Service::new(Arc::new(store), clock.clone());
    let op = Principal::Operator("bench".into());
    svc.create_tenant(&op, "acme", "Acme").await.unwrap();
    svc.create_tenant(&op, "globex", "Globex").await.unwrap();
    for to in [Lifecycle::Monitoring, Lifecycle::Live] {
        svc.transition_tenant(&op, "acme", to, Some("bench"))
            .await
            .unwrap();
    }
    svc.add_rule_pack(
        &op,
        "bench",
        "inline",
        vec![vigil_core::rules::RuleFile {
            pack: String::new(),
            path: "stop.yml".into(),
            yaml: RULE.into(),
        }],
    )
    .await
    .unwrap();
    let (engine, _) = svc.detection_engine().await.unwrap();
    let built = Instant::now();
    let mut incidents = 0;
    for month in 0..12 {
        let month_start = start
            .checked_add(SignedDuration::from_hours(24 * 30 * month as i64))
            .unwrap();
        clock.set(month_start);
        let records = (0..per_month)
            .map(|i| Record {
                at: At::Line(i + 1),
                bytes: record(month_start, month, i),
            })
            .collect();
        svc.ingest(
            &op,
            Some("acme"),
            Intake {
                source: "bench".into(),
                records,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        svc.drain_detection(&engine).await.unwrap();
        let ids: Vec<_> = svc
            .list_incidents(
                &op,
                "acme",
                IncidentFilter {
                    statuses: vec!["new".into()],
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.incident.id)
            .collect();
        let mut ids = ids;
        // Lists are paged at 200: read on until every new one is worked.
        loop {
            if ids.is_empty() {
                break;
            }
            for (n, id) in ids.iter().enumerate() {
                let at = |h: i64, m: i64| {
                    month_start
                        .checked_add(SignedDuration::from_mins(h * 60 + m + n as i64))
                        .unwrap()
                };
                clock.set(at(1, 0));
                let change = |s| IncidentChange {
                    status: Some(s),
                    ..Default::default()
                };
                svc.update_incident(&op, "acme", *id, change(IncidentStatus::InProgress))
                    .await
                    .unwrap();
                if n % 5 != 0 {
                    let task = svc
                        .create_task(&op, "acme", *id, TaskType::FreeText, None, "act")
                        .await
                        .unwrap();
                    clock.set(at(2, 0));
                    svc.draft_summary(&op, "acme", *id).await.unwrap();
                    svc.publish_response(&op, "acme", *id).await.unwrap();
                    clock.set(at(2, 10 + (n % 60) as i64));
                    svc.acknowledge_response(&op, "acme", *id).await.unwrap();
                    clock.set(at(2 + (n % 7) as i64, 30));
                    let to = if n % 9 == 0 {
                        TaskStatus::Skipped
                    } else {
                        TaskStatus::Completed
                    };
                    svc.update_task(&op, "acme", task.id, to, Some("done"))
                        .await
                        .unwrap();
                }
                clock.set(at(10, 0));
                svc.update_incident(
                    &op,
                    "acme",
                    *id,
                    IncidentChange {
                        status: Some(IncidentStatus::Resolved),
                        classification: Some(Some(Classification::TruePositive)),
                        determination: Some(Some(Determination::Malware)),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                incidents += 1;
            }
            ids = svc
                .list_incidents(
                    &op,
                    "acme",
                    IncidentFilter {
                        statuses: vec!["new".into()],
                        limit: 200,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.incident.id)
                .collect();
        }
    }
    let build_secs = built.elapsed().as_secs_f64();
    let end = start
        .checked_add(SignedDuration::from_hours(24 * 365))
        .unwrap();
    clock.set(end);
    let period = Period {
        from: end
            .checked_sub(SignedDuration::from_hours(24 * 30))
            .unwrap(),
        to: end,
    };
    let year = Period {
        from: start,
        to: end,
    };
    let mut tenant = Vec::new();
    let mut whole_year = Vec::new();
    let mut provider = Vec::new();
    let mut html = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = svc.service_report(&op, "acme", period).await.unwrap();
        tenant.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let page = vigil_service::reports::html::service_html(&r);
        html.push(t.elapsed().as_secs_f64());
        assert!(page.len() > 1000);
        let t = Instant::now();
        svc.service_report(&op, "acme", year).await.unwrap();
        whole_year.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        svc.provider_report(&op, period).await.unwrap();
        provider.push(t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"incidents\":{incidents},\"build_s\":{build_secs:.1},\"tenant_30d_s\":{:.3},\"tenant_365d_s\":{:.3},\"html_s\":{:.4},\"provider_30d_s\":{:.3}}}",
        median(tenant),
        median(whole_year),
        median(html),
        median(provider)
    );
}
