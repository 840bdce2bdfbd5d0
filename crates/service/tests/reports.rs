//! Service reports end to end over a real SQLite file, with a clock the
//! tests move. The dataset is built through the service, and every figure
//! is checked against values computed by hand below.
//!
//! Tenant `acme` (live; SLA high: acknowledge 1 h, complete 4 h), the
//! report over November 2026 (`2026-11-01` to `2026-11-30`, made on
//! 2026-12-01):
//!
//! | incident | opened    | what happens (times of that day)                     | resolve split          |
//! |----------|-----------|------------------------------------------------------|------------------------|
//! | I4 dave  | Oct 15 00 | resolved 10:00 by the experts (false positive)       | October only           |
//! | I1 alice | Nov 2 00  | in progress 01:00; task T1 01:00; published 02:00;   | 5 h: experts 3, cust 2 |
//! |          |           | acknowledged 02:30; T1 completed 04:00; resolved 05  |                        |
//! | I2 bob   | Nov 10 00 | task T2 00:00; published 01:00; SLA run at 03:00;    | 8 h: experts 3, cust 5 |
//! |          |           | T2 skipped 06:00 (ack 4 h late, complete 1 h late);  |                        |
//! |          |           | resolved 08:00                                       |                        |
//! | I3 carol | Nov 20 00 | in progress 00:30; medium; T3 (left open) and T4     | 4 h: experts 4, cust 0 |
//! |          |           | 01:00; T4 failed 02:00; resolved 04:00                |                        |
//! | I5 alice | Nov 25 00 | left new                                             | open                   |

use std::path::Path;
use std::sync::Arc;

use vigil_core::identity::{Principal, Role};
use vigil_core::incident::{Classification, Determination, IncidentId, IncidentStatus};
use vigil_core::notification::{Audience, Destination, NotificationKind};
use vigil_core::rules::RuleFile;
use vigil_core::task::{TaskStatus, TaskType};
use vigil_core::tenant::{Contact, ContactKind, Lifecycle, SettingChange};
use vigil_core::{Severity, Timestamp};
use vigil_reports::{Period, ServiceReport};
use vigil_service::{FixedClock, IncidentChange, Service, ServiceError};
use vigil_store::{SqliteStore, Store};

const PASSWORD: &str = "correct horse battery staple";
const H: i64 = 3600;

/// The StopLogging rule with ATT&CK tags, so incidents carry a tactic.
const RULE: &str = "title: CloudTrail Logging Stopped
id: 6f3c1d52-9f5e-4a0f-9d55-1b2f0c3e8a01
level: high
tags:
    - attack.defense-evasion
    - attack.t1562.008
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: StopLogging
    condition: selection
";

fn op() -> Principal {
    Principal::Operator("test".into())
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("time")
}

async fn open(path: &Path, clock: &Arc<FixedClock>) -> Service {
    let store = SqliteStore::open(path).await.expect("store");
    store.migrate().await.expect("migrate");
    Service::new(Arc::new(store), clock.clone())
}

#[derive(Debug)]
struct World {
    svc: Service,
    clock: Arc<FixedClock>,
    soc: Principal,
    dir: tempfile::TempDir,
}

/// November 2026, as the report covers it.
fn november() -> Period {
    Period {
        from: ts("2026-11-01T00:00:00Z"),
        to: ts("2026-12-01T00:00:00Z"),
    }
}

async fn principal(svc: &Service, email: &str, role: Role, tenant: Option<&str>) -> Principal {
    svc.create_user(&op(), email, role, tenant, PASSWORD)
        .await
        .expect("user");
    let (secret, _) = svc
        .create_token(&op(), email, "t", None)
        .await
        .expect("token");
    svc.authenticate_token(secret.expose())
        .await
        .expect("principal")
}

/// An incident opened at `at`: `user` stops the trail from `ip`.
async fn incident_at(w: &World, at: &str, user: &str, ip: &str) -> IncidentId {
    w.clock.set(ts(at));
    let record = format!(
        r#"{{"eventVersion":"1.08","eventTime":"{at}","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"{ip}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","userName":"{user}"}}}}"#
    );
    vigil_fixtures::ingest_record(&w.svc, &op(), "acme", &record).await;
    vigil_fixtures::detect(&w.svc).await;
    vigil_fixtures::newest_incident(&w.svc, &op(), "acme").await
}

async fn status(w: &World, at: &str, id: IncidentId, change: IncidentChange) {
    w.clock.set(ts(at));
    w.svc
        .update_incident(&op(), "acme", id, change)
        .await
        .expect("incident change");
}

fn to(s: IncidentStatus) -> IncidentChange {
    IncidentChange {
        status: Some(s),
        ..Default::default()
    }
}

fn resolve(c: Classification, d: Determination) -> IncidentChange {
    IncidentChange {
        status: Some(IncidentStatus::Resolved),
        classification: Some(Some(c)),
        determination: Some(Some(d)),
        ..Default::default()
    }
}

async fn task(w: &World, at: &str, id: IncidentId, why: &str) -> vigil_core::task::TaskId {
    w.clock.set(ts(at));
    w.svc
        .create_task(&op(), "acme", id, TaskType::FreeText, None, why)
        .await
        .expect("task")
        .id
}

async fn publish(w: &World, at: &str, id: IncidentId) {
    w.clock.set(ts(at));
    w.svc.draft_summary(&op(), "acme", id).await.expect("draft");
    w.svc
        .publish_response(&op(), "acme", id)
        .await
        .expect("publish");
}

/// The dataset in the table above; the clock left at 2026-12-01T00:00Z.
async fn world() -> World {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(FixedClock::new(ts("2026-10-01T00:00:00Z")));
    let svc = open(&dir.path().join("vigil.db"), &clock).await;
    let op = op();
    svc.create_tenant(&op, "acme", "Acme <Corp>")
        .await
        .expect("tenant");
    svc.transition_tenant(&op, "acme", Lifecycle::Monitoring, Some("not under test"))
        .await
        .expect("monitoring");
    svc.transition_tenant(&op, "acme", Lifecycle::Live, Some("no learning period"))
        .await
        .expect("live");
    svc.add_rule_pack(
        &op,
        "test",
        "inline",
        vec![RuleFile {
            pack: String::new(),
            path: "stop.yml".into(),
            yaml: RULE.into(),
        }],
    )
    .await
    .expect("rule pack");
    let soc = principal(
        &svc,
        "soc@acme.example",
        Role::CustomerResponder,
        Some("acme"),
    )
    .await;
    let w = World {
        svc,
        clock,
        soc,
        dir,
    };

    let i4 = incident_at(&w, "2026-10-15T00:00:00Z", "dave", "198.51.100.4").await;
    status(
        &w,
        "2026-10-15T10:00:00Z",
        i4,
        resolve(Classification::FalsePositive, Determination::NotMalicious),
    )
    .await;

    let i1 = incident_at(&w, "2026-11-02T00:00:00Z", "alice", "198.51.100.1").await;
    status(
        &w,
        "2026-11-02T01:00:00Z",
        i1,
        to(IncidentStatus::InProgress),
    )
    .await;
    let t1 = task(&w, "2026-11-02T01:00:00Z", i1, "rotate alice's keys").await;
    publish(&w, "2026-11-02T02:00:00Z", i1).await;
    w.clock.set(ts("2026-11-02T02:30:00Z"));
    w.svc
        .acknowledge_response(&w.soc, "acme", i1)
        .await
        .expect("acknowledge");
    w.clock.set(ts("2026-11-02T04:00:00Z"));
    w.svc
        .update_task(&w.soc, "acme", t1, TaskStatus::Completed, Some("rotated"))
        .await
        .expect("complete");
    status(
        &w,
        "2026-11-02T05:00:00Z",
        i1,
        resolve(Classification::TruePositive, Determination::Malware),
    )
    .await;

    let i2 = incident_at(&w, "2026-11-10T00:00:00Z", "bob", "198.51.100.2").await;
    let t2 = task(&w, "2026-11-10T00:00:00Z", i2, "check bob's sessions").await;
    publish(&w, "2026-11-10T01:00:00Z", i2).await;
    w.clock.set(ts("2026-11-10T03:00:00Z"));
    w.svc.run_sla().await.expect("sla run");
    w.clock.set(ts("2026-11-10T06:00:00Z"));
    w.svc
        .update_task(&w.soc, "acme", t2, TaskStatus::Skipped, Some("bob left"))
        .await
        .expect("skip");
    status(
        &w,
        "2026-11-10T08:00:00Z",
        i2,
        resolve(Classification::FalsePositive, Determination::NotMalicious),
    )
    .await;

    let i3 = incident_at(&w, "2026-11-20T00:00:00Z", "carol", "198.51.100.3").await;
    status(
        &w,
        "2026-11-20T00:30:00Z",
        i3,
        IncidentChange {
            status: Some(IncidentStatus::InProgress),
            severity: Some(Some(Severity::Medium)),
            ..Default::default()
        },
    )
    .await;
    task(&w, "2026-11-20T01:00:00Z", i3, "left open").await;
    let t4 = task(&w, "2026-11-20T01:00:00Z", i3, "block the IP").await;
    w.clock.set(ts("2026-11-20T02:00:00Z"));
    w.svc
        .update_task(
            &op,
            "acme",
            t4,
            TaskStatus::Failed,
            Some("firewall refused"),
        )
        .await
        .expect("fail");
    status(
        &w,
        "2026-11-20T04:00:00Z",
        i3,
        resolve(Classification::TruePositive, Determination::Phishing),
    )
    .await;

    incident_at(&w, "2026-11-25T00:00:00Z", "alice", "198.51.100.5").await;
    w.clock.set(ts("2026-12-01T00:00:00Z"));
    w
}

async fn report(w: &World) -> ServiceReport {
    w.svc
        .service_report(&op(), "acme", november())
        .await
        .expect("report")
}

fn count(counts: &[vigil_reports::model::Count], label: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.label == label)
        .map_or(0, |c| c.count)
}

#[tokio::test]
async fn incidents_are_counted_by_outcome_severity_category_tactic_and_source() {
    let w = world().await;
    let r = report(&w).await;
    let i = &r.incidents;
    assert_eq!(i.investigated, 4, "I1, I2, I3, I5");
    assert_eq!(i.resolved, 3, "I1, I2, I3");
    assert_eq!(i.resolved_by_experts, 1, "I3 never awaited the customer");
    assert_eq!(i.resolved_with_customer, 2, "I1 and I2 did");
    assert_eq!(i.open, 1, "I5");
    assert_eq!(count(&i.by_severity, "high"), 3);
    assert_eq!(count(&i.by_severity, "medium"), 1);
    assert_eq!(count(&i.by_severity, "critical"), 0);
    assert_eq!(i.by_severity.len(), 5, "every severity is listed");
    assert_eq!(count(&i.by_classification, "true_positive"), 2);
    assert_eq!(count(&i.by_classification, "false_positive"), 1);
    assert_eq!(count(&i.by_classification, "unclassified"), 1);
    assert_eq!(count(&i.by_category, "malware"), 1);
    assert_eq!(count(&i.by_category, "phishing"), 1);
    assert_eq!(count(&i.by_category, "not_malicious"), 1);
    assert_eq!(count(&i.by_category, "undetermined"), 1);
    assert_eq!(i.by_tactic.len(), 1, "{:?}", i.by_tactic);
    assert!(
        i.by_tactic[0].label.contains("defense"),
        "{:?}",
        i.by_tactic
    );
    assert_eq!(i.by_tactic[0].count, 4);
    assert_eq!(count(&i.by_source, "sigma"), 4);
}

#[tokio::test]
async fn time_to_resolve_splits_into_expert_and_customer_time_with_medians() {
    let w = world().await;
    let t = report(&w).await.times;
    // Resolve times 5 h, 8 h, 4 h; experts 3, 3, 4 h; customer 2, 5, 0 h.
    assert_eq!(t.to_resolve.count, 3);
    assert_eq!(t.to_resolve.median_secs, Some(5 * H));
    assert_eq!(t.to_resolve.total_secs, 17 * H);
    assert_eq!(t.expert.median_secs, Some(3 * H));
    assert_eq!(t.expert.total_secs, 10 * H);
    assert_eq!(t.customer.median_secs, Some(2 * H));
    assert_eq!(t.customer.total_secs, 7 * H);
    assert_eq!(t.to_resolve.p90_secs, Some(8 * H));
    // Acknowledged after 30 min (I1) and 5 h (I2, by skipping its task):
    // the median of two is their mean.
    assert_eq!(t.to_acknowledge.count, 2);
    assert_eq!(t.to_acknowledge.median_secs, Some((1800 + 5 * H) / 2));
}

#[tokio::test]
async fn sla_compliance_counts_timers_met_and_breached() {
    let w = world().await;
    let s = report(&w).await.sla;
    // I1: acknowledge and complete met; I2: acknowledge 4 h late,
    // complete 1 h late.
    assert_eq!((s.met, s.breached, s.running), (2, 2, 0));
    assert_eq!(s.compliance_percent, Some(50.0));
    assert_eq!((s.acknowledge.met, s.acknowledge.breached), (1, 1));
    assert_eq!((s.complete.met, s.complete.breached), (1, 1));
    assert_eq!(s.overdue.median_secs, Some(5 * H / 2));
}

#[tokio::test]
async fn tasks_are_counted_by_outcome_with_the_median_completion_time() {
    let w = world().await;
    let t = report(&w).await.tasks;
    assert_eq!(t.created, 4);
    assert_eq!((t.completed, t.pending, t.skipped, t.failed), (1, 1, 1, 1));
    // T1: created 01:00, completed 04:00.
    assert_eq!(t.completion.median_secs, Some(3 * H));
}

#[tokio::test]
async fn the_most_affected_assets_are_ranked_by_incident_count() {
    let w = world().await;
    let assets = report(&w).await.top_assets;
    assert!(!assets.is_empty());
    assert!(assets[0].name.contains("alice"), "{assets:?}");
    assert_eq!(assets[0].kind, "user");
    assert_eq!(assets[0].incidents, 2, "I1 and I5");
    assert!(assets[1..].iter().all(|a| a.incidents == 1), "{assets:?}");
    assert!(!assets.iter().any(|a| a.name.contains("dave")), "October's");
}

#[tokio::test]
async fn the_trend_covers_six_months_with_october_and_november_filled() {
    let w = world().await;
    let trend = report(&w).await.trend;
    let months: Vec<&str> = trend.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(
        months,
        [
            "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"
        ]
    );
    let oct = &trend[4];
    assert_eq!((oct.incidents, oct.resolved), (1, 1));
    assert_eq!(oct.median_resolve_secs, Some(10 * H));
    assert_eq!(oct.sla_compliance_percent, None, "no timer in October");
    let nov = &trend[5];
    assert_eq!((nov.incidents, nov.resolved), (4, 3));
    assert_eq!(nov.median_resolve_secs, Some(5 * H));
    assert_eq!(nov.sla_compliance_percent, Some(50.0));
    assert_eq!(nov.tasks_completed, 1);
    assert!(trend[..4].iter().all(|m| m.incidents == 0));
}

#[tokio::test]
async fn recommendations_posture_readiness_and_coverage_come_from_their_stores() {
    let w = world().await;
    w.clock.set(ts("2026-11-30T12:00:00Z"));
    let assessment = w.svc.run_readiness(&op(), "acme").await.expect("readiness");
    w.clock.set(ts("2026-12-01T00:00:00Z"));
    let r = report(&w).await;
    let recs = w
        .svc
        .list_recommendations(&op(), "acme")
        .await
        .expect("recommendations");
    assert_eq!(r.recommendations.total, recs.len() as u64);
    let score = w.svc.posture_score(&op(), "acme").await.expect("score");
    assert_eq!(r.recommendations.posture_percent, score.current.percent);
    let a = r.readiness.expect("readiness figures");
    assert_eq!(a.score, assessment.score);
    assert_eq!(a.ready, assessment.ready);
    assert_eq!(
        a.pass + a.warn + a.fail + a.not_applicable,
        assessment.checks.len() as u64
    );
    assert_eq!(r.coverage.scope, vigil_reports::CoverageScope::All);
    assert!(
        r.coverage
            .checks
            .iter()
            .all(|c| assessment.checks.iter().any(|k| k.id == c.id)),
    );
}

#[tokio::test]
async fn the_provider_view_has_one_row_per_tenant_and_customers_have_none() {
    let w = world().await;
    w.svc
        .create_tenant(&op(), "globex", "Globex")
        .await
        .expect("globex");
    let analyst = principal(&w.svc, "analyst@mdr.example", Role::Analyst, None).await;
    let p = w
        .svc
        .provider_report(&analyst, november())
        .await
        .expect("provider view");
    let tenants: Vec<&str> = p.rows.iter().map(|r| r.tenant.as_str()).collect();
    assert_eq!(tenants, ["acme", "globex"]);
    let acme = &p.rows[0];
    assert_eq!((acme.investigated, acme.resolved), (4, 3));
    assert_eq!(acme.median_resolve_secs, Some(5 * H));
    assert_eq!(acme.median_customer_secs, Some(2 * H));
    assert_eq!(acme.sla_compliance_percent, Some(50.0));
    assert_eq!(p.rows[1].investigated, 0);
    let e = w
        .svc
        .provider_report(&w.soc, november())
        .await
        .expect_err("a customer has no provider view");
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e}");
    let e = w
        .svc
        .service_report(&w.soc, "globex", november())
        .await
        .expect_err("another tenant");
    assert!(matches!(e, ServiceError::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn the_monthly_report_goes_to_service_review_contacts_once_across_restarts() {
    let w = world().await;
    w.svc
        .update_tenant(
            &op(),
            "acme",
            &[SettingChange::AddContact(Contact {
                kind: ContactKind::ServiceReview,
                name: "Rita".into(),
                email: Some("rita@acme.example".into()),
                phone: None,
                priority: 1,
            })],
        )
        .await
        .expect("service review contact");
    w.clock.set(ts("2026-12-01T00:05:00Z"));
    let sent = w.svc.run_due_reports().await.expect("schedule");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].tenant.as_str(), sent[0].month.as_str()),
        ("acme", "2026-11")
    );
    assert!(w.svc.run_due_reports().await.expect("again").is_empty());

    // A restart: a new service over the same file sends nothing more.
    let path = w.dir.path().join("vigil.db");
    let again = open(&path, &w.clock).await;
    w.clock.set(ts("2026-12-15T00:00:00Z"));
    assert!(again.run_due_reports().await.expect("restart").is_empty());

    let log = again
        .notifications(&op(), "acme", None, 200)
        .await
        .expect("log");
    let reports: Vec<_> = log
        .iter()
        .filter(|(n, _)| n.kind == NotificationKind::ServiceReport)
        .collect();
    assert_eq!(reports.len(), 1);
    let (n, deliveries) = reports[0];
    assert_eq!(n.audience, Audience::ServiceReviewContacts);
    assert!(n.subject.contains("2026-11"), "{}", n.subject);
    assert!(
        n.body.contains("Incidents investigated: 4; resolved: 3"),
        "{}",
        n.body
    );
    assert!(
        n.body.contains("(experts 3 h 0 min, your team 2 h 0 min)"),
        "{}",
        n.body
    );
    let link = n.link.as_deref().expect("link");
    assert!(
        link.contains("/api/v1/tenants/acme/reports/service?from=2026-11-01T00:00:00Z"),
        "{link}"
    );
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].destination,
        Destination::Email {
            to: "rita@acme.example".into()
        }
    );

    // January brings December's.
    w.clock.set(ts("2027-01-01T00:00:00Z"));
    let sent = again.run_due_reports().await.expect("january");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].month, "2026-12");
}

/// Whether an external tool is there; when it is not, the test skips with
/// a message, unless VIGIL_REQUIRE_TOOLS is set.
fn tool(name: &str, why: &str) -> bool {
    let present = std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stderr.is_empty() || !o.stdout.is_empty());
    if !present {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
            "{name} is required ({why})"
        );
        eprintln!("skipped: {name} is not installed ({why})");
    }
    present
}

#[tokio::test]
async fn the_html_report_is_self_contained_escaped_and_shows_every_section() {
    let w = world().await;
    let html = vigil_service::reports::html::service_html(&report(&w).await);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["http://", "https://", "<script", "src=", "<link", "url("] {
        assert!(!html.contains(forbidden), "the page references {forbidden}");
    }
    assert!(
        html.contains("Acme &lt;Corp&gt;"),
        "the tenant name is escaped"
    );
    assert!(!html.contains("Acme <Corp>"));
    for section in [
        "Incidents",
        "By severity",
        "By category",
        "By ATT&amp;CK tactic",
        "By source",
        "Time to acknowledge and resolve",
        "of which your team&#39;s time",
        "SLA compliance",
        "Response tasks",
        "Most affected assets",
        "Recommendations and posture",
        "Readiness and coverage",
        "Six-month trend",
    ] {
        assert!(html.contains(section), "missing section {section}");
    }
    assert!(html.matches("<svg").count() >= 7, "charts are inline SVG");
    assert!(html.contains("5 h 0 min"), "the median time to resolve");
}

#[tokio::test]
async fn the_pdf_report_prints_offline_and_its_pages_render_to_non_blank_pngs() {
    if !tool("chromium", "prints the PDF") || !tool("pdftoppm", "renders PDF pages") {
        return;
    }
    let w = world().await;
    let html = vigil_service::reports::html::service_html(&report(&w).await);
    let pdf = w.svc.pdf_printer().print(&html).await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let dir = w.dir.path();
    let file = dir.join("report.pdf");
    std::fs::write(&file, &pdf).expect("write");

    let png = |prefix: &str, extra: &[&str]| {
        let out = std::process::Command::new("pdftoppm")
            .args(extra)
            .args(["-r", "40"])
            .arg(&file)
            .arg(dir.join(prefix))
            .output()
            .expect("pdftoppm runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    png("page", &["-png"]);
    let pages: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    assert!(pages.len() >= 2, "the report runs over pages: {pages:?}");
    for p in &pages {
        let bytes = std::fs::read(p).expect("png");
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is a PNG",
            p.display()
        );
    }
    // The same pages as greyscale PGM, whose pixels are plain bytes: each
    // page has dark pixels (text and charts), so none is blank.
    png("grey", &["-gray"]);
    let mut checked = 0;
    for e in std::fs::read_dir(dir).expect("dir").filter_map(Result::ok) {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "pgm") {
            continue;
        }
        let bytes = std::fs::read(&p).expect("pgm");
        let pixels = pgm_pixels(&bytes);
        let dark = pixels.iter().filter(|&&v| v < 128).count();
        assert!(dark > 100, "{} is blank ({dark} dark pixels)", p.display());
        checked += 1;
    }
    assert_eq!(checked, pages.len());
}

/// The pixels of a binary PGM (`P5`): after the magic, width, height and
/// maximum, each separated by whitespace, and one whitespace byte.
fn pgm_pixels(bytes: &[u8]) -> &[u8] {
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 && i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    &bytes[(i + 1).min(bytes.len())..]
}

#[tokio::test]
async fn a_missing_browser_is_named_when_a_pdf_is_asked_for() {
    let w = world().await;
    let svc = w
        .svc
        .clone()
        .with_pdf_printer(vigil_service::PdfPrinter::new(Some(
            "/opt/none/chromium".into(),
        )));
    let e = svc
        .pdf_printer()
        .print("<p>x</p>")
        .await
        .expect_err("no browser");
    assert!(e.to_string().contains("/opt/none/chromium"), "{e}");
}
