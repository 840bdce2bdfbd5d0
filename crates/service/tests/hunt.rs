//! Hunting end to end: events ingested through the normal intake path into
//! a real SQLite file, then every query of `crates/hunt/tests/queries/`
//! parsed, planned and run, its result compared with the expected output
//! beside it (`NNN_name.out`; `UPDATE_EXPECT=1` rewrites them). Injection
//! attempts in every string position; limits; provider-wide hunts;
//! scheduled hunts raising alerts once; saved hunts and summaries.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use vigil_core::Severity;
use vigil_core::alert::AlertFilter;
use vigil_core::hunting::{HuntDetermination, HuntSchedule};
use vigil_core::identity::Principal;
use vigil_service::{
    FixedClock, HuntDraft, HuntLimits, Intake, Record, Service, ServiceError, SummaryDraft,
};
use vigil_store::{SqliteStore, Store};

fn op() -> Principal {
    Principal::Operator("test".into())
}

fn hunt_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hunt/tests")
}

struct World {
    svc: Service,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = Service::new(Arc::new(store), clock.clone());
    svc.create_tenant(&op(), "acme", "Acme")
        .await
        .expect("tenant");
    svc.create_tenant(&op(), "globex", "Globex")
        .await
        .expect("tenant");
    let fixture = std::fs::read_to_string(hunt_dir().join("data/events.jsonl")).expect("fixture");
    ingest(&svc, "acme", fixture.lines().map(str::to_owned).collect()).await;
    // Globex: one process on a device of the same name, which must never
    // show in Acme's hunts.
    let other = fixture
        .lines()
        .find(|l| l.contains("vssadmin"))
        .expect("line")
        .replace("vssadmin.exe delete", "vssadmin.exe list");
    ingest(&svc, "globex", vec![other]).await;
    World {
        svc,
        clock,
        _dir: dir,
    }
}

async fn ingest(svc: &Service, tenant: &str, lines: Vec<String>) {
    let records = lines
        .into_iter()
        .enumerate()
        .map(|(n, l)| Record {
            at: vigil_service::At::Line(n + 1),
            bytes: l.into_bytes(),
        })
        .collect();
    let out = svc
        .ingest(
            &op(),
            Some(tenant),
            Intake {
                source: "test".into(),
                records,
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
    assert_eq!(out.counts.rejected, 0, "{out:?}");
}

fn queries() -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(hunt_dir().join("queries"))
        .expect("queries")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "kql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let q = std::fs::read_to_string(&p).expect("query");
            (p, q)
        })
        .collect()
}

fn snapshot(path: &Path, actual: &Value) {
    let expected_path = path.with_extension("out");
    let text = format!("{}\n", serde_json::to_string_pretty(actual).expect("json"));
    if std::env::var_os("UPDATE_EXPECT").is_some() || !expected_path.exists() {
        std::fs::write(&expected_path, &text).expect("write expected");
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).expect("expected");
    assert_eq!(
        expected,
        text,
        "{} differs from its expected output (UPDATE_EXPECT=1 to accept)",
        path.display()
    );
}

#[tokio::test]
async fn every_corpus_query_runs_and_matches_its_expected_output() {
    let w = world().await;
    let qs = queries();
    assert!(qs.len() >= 60, "the corpus holds {} queries", qs.len());
    for (path, q) in &qs {
        let r = w
            .svc
            .hunt(&op(), "acme", q, HuntLimits::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value = json!({"columns": r.columns, "rows": r.rows, "truncated": r.stats.truncated, "lookback": r.stats.lookback});
        snapshot(path, &value);
    }
}

#[tokio::test]
async fn the_corpus_queries_return_rows_from_the_fixture() {
    let w = world().await;
    let mut empty = Vec::new();
    for (path, q) in queries() {
        let r = w
            .svc
            .hunt(&op(), "acme", &q, HuntLimits::default())
            .await
            .expect("hunt");
        if r.rows.is_empty() {
            empty.push(
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    // Alerts are only raised by the scheduled-hunt test; the rest must hit.
    empty.retain(|n| !n.contains("alert_"));
    assert!(empty.is_empty(), "queries without rows: {empty:?}");
}

#[tokio::test]
async fn the_corpus_queries_run_over_the_evtx_attack_samples() {
    let Some(corpus) = vigil_testkit::corpus() else {
        eprintln!("skipping: the test corpus is absent");
        return;
    };
    let w = world().await;
    let dir = corpus.join("evtx-attack-samples");
    let mut lines = Vec::new();
    for entry in walk(&dir) {
        if entry.extension().is_none_or(|e| e != "evtx") {
            continue;
        }
        vigil_formats::read_records(
            &entry,
            vigil_formats::FileKind::Evtx,
            1,
            &mut |r| lines.push(String::from_utf8_lossy(&r.json).into_owned()),
            &mut |_| {},
        );
    }
    assert!(lines.len() > 1000);
    ingest(&w.svc, "globex", lines).await;
    // The samples are years old: look back far enough.
    let all = w
        .svc
        .hunt(&op(), "globex", "DeviceProcessEvents | where Timestamp > ago(5000d) | summarize count() by FileName | top 5 by count_", HuntLimits::default())
        .await
        .expect("hunt");
    assert_eq!(all.rows.len(), 5);
    for (path, q) in queries() {
        w.svc
            .hunt(&op(), "globex", &q, HuntLimits::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Strings that would break naive SQL building.
const ATTACKS: [&str; 5] = [
    "'",
    "\\",
    "'; DROP TABLE events; --",
    "\") OR 1=1 --",
    "x' OR '1'='1",
];

fn kql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[tokio::test]
async fn injection_in_every_string_position_is_harmless() {
    injection_is_harmless(&world().await).await;
}

#[tokio::test]
async fn injection_in_every_string_position_is_harmless_on_postgres() {
    if let Some((w, _store)) = pg_world().await {
        injection_is_harmless(&w).await;
    }
}

async fn injection_is_harmless(w: &World) {
    let count = |r: &vigil_service::HuntResult| r.rows.len();
    for attack in ATTACKS {
        let s = kql_string(attack);
        let positions = [
            format!("DeviceProcessEvents | where FileName == {s}"),
            format!("DeviceProcessEvents | where FileName =~ {s} or ProcessCommandLine has {s}"),
            format!(
                "DeviceProcessEvents | where ProcessCommandLine contains {s} or FileName startswith {s} or FileName endswith {s}"
            ),
            format!("DeviceProcessEvents | where ProcessCommandLine has_any ({s}, {s})"),
            format!("DeviceProcessEvents | where FileName in ({s}, 'x') or FileName !in ({s})"),
            format!("let v = {s}; DeviceProcessEvents | where FileName == v"),
            format!("let l = dynamic([{s}]); DeviceProcessEvents | where FileName in (l)"),
            format!("DeviceProcessEvents | project-rename [{s}] = FileName | take 1"),
            format!("DeviceProcessEvents | extend [{s}] = strcat({s}, FileName) | take 1"),
            format!("DeviceEvents | where tostring(parse_json(AdditionalFields)[{s}]) == {s}"),
            format!(
                "DeviceProcessEvents | where ProcessCommandLine matches regex {}",
                kql_string(&regex_escape(attack))
            ),
            format!(
                "DeviceProcessEvents | where FileName == {s} | summarize count() by DeviceName"
            ),
        ];
        for q in positions {
            let r = w
                .svc
                .hunt(&op(), "acme", &q, HuntLimits::default())
                .await
                .unwrap_or_else(|e| panic!("{q}: {e}"));
            // Only the literal's own meaning: the rename/extend take one row
            // and name a column after the text; the `!in` arm matches every
            // process; the long attacks occur in no field, so every filter
            // on them matches nothing (a lone quote or backslash does occur
            // in command lines and paths).
            if q.contains("project-rename") || q.contains("extend [") {
                assert_eq!(count(&r), 1, "{q}");
                assert_eq!(
                    r.columns.iter().filter(|c| c.name == attack).count(),
                    1,
                    "{q}"
                );
            } else if q.contains("!in") {
                assert!(count(&r) > 10, "{q}");
            } else if attack.len() > 1 {
                assert_eq!(count(&r), 0, "{q}");
            }
        }
    }
    // The tables are all still there and whole.
    let r = w
        .svc
        .hunt(
            &op(),
            "acme",
            "union DeviceProcessEvents, DeviceNetworkEvents | count",
            HuntLimits::default(),
        )
        .await
        .expect("hunt");
    // Within the default 7-day lookback (one process is older).
    assert_eq!(r.rows, vec![vec![json!(35)]]);
    assert_eq!(
        w.svc
            .telemetry_stats(&op(), "acme")
            .await
            .expect("stats")
            .events,
        90
    );
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[tokio::test]
async fn a_hunt_sees_only_its_own_tenant() {
    let w = world().await;
    let q = "DeviceProcessEvents | where FileName =~ 'vssadmin.exe' | project ProcessCommandLine";
    let acme = w
        .svc
        .hunt(&op(), "acme", q, HuntLimits::default())
        .await
        .expect("hunt");
    assert_eq!(
        acme.rows,
        vec![vec![json!("vssadmin.exe delete shadows /all /quiet")]]
    );
    let globex = w
        .svc
        .hunt(&op(), "globex", q, HuntLimits::default())
        .await
        .expect("hunt");
    assert_eq!(
        globex.rows,
        vec![vec![json!("vssadmin.exe list shadows /all /quiet")]]
    );
}

#[tokio::test]
async fn a_provider_wide_hunt_labels_each_row_with_its_tenant() {
    let w = world().await;
    let r = w
        .svc
        .hunt_all(&op(), "DeviceProcessEvents | where FileName =~ 'vssadmin.exe' | summarize count() by DeviceName", HuntLimits::default())
        .await
        .expect("hunt");
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Tenant", "TenantId", "DeviceName", "count_"]);
    let mut tenants: Vec<&str> = r
        .rows
        .iter()
        .map(|row| row[0].as_str().expect("slug"))
        .collect();
    tenants.sort_unstable();
    assert_eq!(tenants, vec!["acme", "globex"]);
}

#[tokio::test]
async fn limits_cut_rows_and_say_so() {
    let w = world().await;
    let r = w
        .svc
        .hunt(
            &op(),
            "acme",
            "DeviceProcessEvents",
            HuntLimits {
                max_rows: 5,
                ..HuntLimits::default()
            },
        )
        .await
        .expect("hunt");
    assert_eq!(r.rows.len(), 5);
    assert!(r.stats.truncated);
    assert_eq!(r.stats.lookback.as_deref(), Some("7d"));
    assert!(
        r.stats
            .messages
            .iter()
            .any(|m| m.contains("more than 5 rows matched")),
        "{:?}",
        r.stats.messages
    );
    assert!(
        r.stats
            .messages
            .iter()
            .any(|m| m.contains("searched the last 7d"))
    );
}

#[tokio::test]
async fn a_hunt_past_its_time_limit_is_stopped_with_a_clear_message() {
    let w = world().await;
    let heavy = "DeviceProcessEvents | join (DeviceProcessEvents) on TenantId | join (DeviceProcessEvents) on TenantId | join (DeviceProcessEvents) on TenantId | count";
    let e = w
        .svc
        .hunt(
            &op(),
            "acme",
            heavy,
            HuntLimits {
                time_limit: Duration::ZERO,
                ..HuntLimits::default()
            },
        )
        .await
        .expect_err("stopped");
    assert!(e.to_string().contains("ran past its time limit"), "{e}");
}

#[tokio::test]
async fn query_errors_name_the_position_and_the_fix() {
    let w = world().await;
    let e = w
        .svc
        .hunt(
            &op(),
            "acme",
            "DeviceProcessEvents | where FileNme == 'x'",
            HuntLimits::default(),
        )
        .await
        .expect_err("unknown column");
    assert!(matches!(e, ServiceError::Query(_)));
    assert_eq!(
        e.to_string(),
        "unknown column `FileNme` (did you mean `FileName`?) at 1:29"
    );
}

#[tokio::test]
async fn a_scheduled_hunt_raises_an_alert_once_per_row() {
    let w = world().await;
    let hunt = w
        .svc
        .create_saved_hunt(
            &op(),
            "acme",
            &HuntDraft {
                name: "Encoded PowerShell".into(),
                query: "DeviceProcessEvents | where ProcessCommandLine has 'EncodedCommand' | project Timestamp, DeviceName, AccountName, ReportId".into(),
                description: "hunts encoded commands".into(),
                schedule: Some(HuntSchedule {
                    interval_secs: 3600,
                    lookback_secs: 86_400,
                    severity: Severity::High,
                }),
            },
        )
        .await
        .expect("saved");
    // Not due yet.
    assert_eq!(w.svc.run_scheduled_hunts().await.expect("run").hunts, 0);
    w.clock.advance(jiff::SignedDuration::from_secs(3601));
    let first = w.svc.run_scheduled_hunts().await.expect("run");
    assert_eq!((first.hunts, first.rows, first.alerts), (1, 1, 1));
    let alerts = w
        .svc
        .list_alerts(&op(), "acme", AlertFilter::default())
        .await
        .expect("alerts");
    let alert = alerts
        .iter()
        .find(|a| a.source == "hunt")
        .expect("hunt alert");
    assert_eq!(alert.rule_id, format!("hunt:{}", hunt.id));
    assert_eq!(alert.rule_title, "Encoded PowerShell");
    assert_eq!(alert.severity, Severity::High);
    assert!(
        alert
            .entities
            .iter()
            .any(|e| e.value == "ws-01.corp.example")
    );
    // The next run still sees the row in its window: no second alert.
    w.clock.advance(jiff::SignedDuration::from_secs(3601));
    let second = w.svc.run_scheduled_hunts().await.expect("run");
    assert_eq!((second.hunts, second.rows, second.alerts), (1, 1, 0));
    let after = w
        .svc
        .list_alerts(&op(), "acme", AlertFilter::default())
        .await
        .expect("alerts");
    assert_eq!(after.iter().filter(|a| a.source == "hunt").count(), 1);
    assert_eq!(
        after.iter().find(|a| a.source == "hunt").map(|a| a.count),
        Some(1)
    );
}

#[tokio::test]
async fn saved_hunts_and_summaries_are_kept_and_audited() {
    let w = world().await;
    let draft = HuntDraft {
        name: "LOLBins".into(),
        query: "DeviceProcessEvents | where FileName =~ 'certutil.exe'".into(),
        description: String::new(),
        schedule: None,
    };
    let h = w
        .svc
        .create_saved_hunt(&op(), "acme", &draft)
        .await
        .expect("save");
    let dup = w
        .svc
        .create_saved_hunt(&op(), "acme", &draft)
        .await
        .expect_err("duplicate");
    assert!(matches!(dup, ServiceError::AlreadyExists { .. }), "{dup}");
    let bad = HuntDraft {
        query: "DeviceProcessEvents | wher x".into(),
        ..draft.clone()
    };
    assert!(matches!(
        w.svc.create_saved_hunt(&op(), "acme", &bad).await,
        Err(ServiceError::Query(_))
    ));
    let ran = w
        .svc
        .run_saved_hunt(&op(), "acme", h.id, HuntLimits::default())
        .await
        .expect("run");
    assert_eq!(ran.rows.len(), 1);
    let s = w
        .svc
        .add_hunt_summary(
            &op(),
            "acme",
            &SummaryDraft {
                hunt_id: Some(h.id),
                what: "certutil downloads".into(),
                why: "LOLBin abuse reported in the sector".into(),
                result: "one download on ws-01".into(),
                determination: HuntDetermination::ThreatFound,
                query: String::new(),
            },
        )
        .await
        .expect("summary");
    assert_eq!(s.query, draft.query);
    let listed = w
        .svc
        .hunt_summaries(&op(), "acme", Some(h.id))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    w.svc
        .delete_saved_hunt(&op(), "acme", h.id)
        .await
        .expect("delete");
    assert!(
        w.svc
            .saved_hunts(&op(), "acme")
            .await
            .expect("list")
            .is_empty()
    );
    let audit = w.svc.audit_log(&op(), None, 0, 500).await.expect("audit");
    for action in ["hunt.save", "hunt.summary", "hunt.delete"] {
        assert!(audit.iter().any(|r| r.action == action), "{action}");
    }
}

/// The same world over PostgreSQL (`None`: no PostgreSQL on this machine).
async fn pg_world() -> Option<(World, vigil_store::PgStore)> {
    let url = match vigil_testkit::postgres::PgServer::shared().and_then(|s| s.database()) {
        Ok(url) => url,
        Err(e) => {
            assert!(
                std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
                "PostgreSQL is required (VIGIL_REQUIRE_TOOLS is set): {e}"
            );
            eprintln!("skipping: {e}");
            return None;
        }
    };
    let store = vigil_store::PgStore::open(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = Service::new(Arc::new(store.clone()), clock.clone());
    svc.create_tenant(&op(), "acme", "Acme")
        .await
        .expect("tenant");
    let fixture = std::fs::read_to_string(hunt_dir().join("data/events.jsonl")).expect("fixture");
    ingest(&svc, "acme", fixture.lines().map(str::to_owned).collect()).await;
    Some((
        World {
            svc,
            clock,
            _dir: dir,
        },
        store,
    ))
}

/// `make_set` is a set: its order is the database's (SQLite: first seen;
/// PostgreSQL: sorted). Compared as sets (docs/hunting.md).
fn sets_sorted(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(rows) = v.get_mut("rows").and_then(Value::as_array_mut) {
        for row in rows.iter_mut().filter_map(Value::as_array_mut) {
            for cell in row.iter_mut() {
                if let Some(items) = cell.as_array_mut() {
                    items.sort_by_key(Value::to_string);
                }
            }
        }
    }
    v
}

/// Queries whose `sort` leaves ties, which each database orders its own
/// way, with the column they sort by: their rows are compared as a
/// multiset, and the order checked on that column.
const TIES: &[(&str, usize)] = &[("064_distinct_star.kql", 0)];

fn same_but_ties(actual: &Value, expected: &Value, column: usize) -> bool {
    let rows = |v: &Value| v["rows"].as_array().cloned().unwrap_or_default();
    let (mut a, mut e) = (rows(actual), rows(expected));
    let keys: Vec<String> = a.iter().map(|r| r[column].to_string()).collect();
    let ordered = keys.windows(2).all(|w| w[0] <= w[1]);
    a.sort_by_key(Value::to_string);
    e.sort_by_key(Value::to_string);
    ordered && a == e && actual["columns"] == expected["columns"]
}

#[tokio::test]
async fn every_corpus_query_runs_on_postgres_and_matches_its_expected_output() {
    let Some((w, _store)) = pg_world().await else {
        return;
    };
    let qs = queries();
    assert!(qs.len() >= 60, "the corpus holds {} queries", qs.len());
    let mut failures = Vec::new();
    for (path, q) in &qs {
        match w.svc.hunt(&op(), "acme", q, HuntLimits::default()).await {
            Ok(r) => {
                let actual = sets_sorted(
                    &json!({"columns": r.columns, "rows": r.rows, "truncated": r.stats.truncated, "lookback": r.stats.lookback}),
                );
                let text = std::fs::read_to_string(path.with_extension("out")).expect("expected");
                let expected = sets_sorted(&serde_json::from_str(&text).expect("expected json"));
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let tie = TIES.iter().find(|(f, _)| *f == name).map(|(_, c)| *c);
                let same =
                    actual == expected || tie.is_some_and(|c| same_but_ties(&actual, &expected, c));
                if !same {
                    failures.push(format!("{}: differs\n  got {actual}", path.display()));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
