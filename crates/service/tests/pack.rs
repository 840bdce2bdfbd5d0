//! Vigil's own detection pack through the real pipeline: each pack file's
//! positive samples, ingested for a fresh tenant and run through streaming
//! detection, raise an alert of that file's rules; its negative samples
//! raise none of them (a negative of "sign-in after spray" may still show
//! the spray itself, which another file's rule alerts on).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_core::alert::AlertFilter;
use vigil_core::identity::Principal;
use vigil_service::{FixedClock, Intake, Record, Service};
use vigil_store::{SqliteStore, Store};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/tests/samples")
}

/// The titles of the alerting rules (correlations, and detections that are
/// not informational building blocks) of one pack file.
fn alerting_titles(file: &str) -> Vec<String> {
    let yaml = vigil_rules::builtin()
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, y)| *y)
        .expect("pack file");
    let set = vigil_sigma::load_str(yaml, file);
    let mut titles: Vec<String> = set
        .correlations
        .iter()
        .map(|(c, _)| c.title.clone())
        .collect();
    titles.extend(
        set.rules
            .iter()
            .filter(|r| r.info.level != vigil_core::Severity::Informational)
            .map(|r| r.info.title.clone()),
    );
    titles
}

async fn service() -> Service {
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    // After every sample's time, so none reads as from the future.
    let clock = FixedClock::new("2027-01-01T00:00:00Z".parse().expect("time"));
    let svc = Service::new(Arc::new(store), Arc::new(clock));
    assert!(svc.install_builtin_rules().await.expect("install"));
    assert!(
        !svc.install_builtin_rules().await.expect("install"),
        "installed once"
    );
    svc
}

/// Ingest one sample file for a fresh tenant, detect, and return the
/// titles of the alerts raised.
async fn alerts_for(svc: &Service, n: usize, path: &Path) -> Vec<String> {
    let op = Principal::Operator("test".into());
    let slug = format!("t{n}");
    svc.create_tenant(&op, &slug, "Sample")
        .await
        .expect("tenant");
    let text = std::fs::read_to_string(path).expect("sample");
    let records = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record {
            at: vigil_service::At::Line(i + 1),
            bytes: l.as_bytes().to_vec(),
        })
        .collect();
    let outcome = svc
        .ingest(
            &op,
            Some(&slug),
            Intake {
                source: "test".into(),
                records,
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
    assert_eq!(outcome.counts.dead_lettered, 0, "{}", path.display());
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");
    svc.list_alerts(
        &op,
        &slug,
        AlertFilter {
            limit: 500,
            ..Default::default()
        },
    )
    .await
    .expect("alerts")
    .into_iter()
    .map(|a| a.rule_title)
    .collect()
}

#[tokio::test]
async fn each_pack_rule_alerts_on_its_positive_samples_and_not_on_its_negatives() {
    let svc = service().await;
    let mut n = 0;
    let mut failures = Vec::new();
    for (file, _) in vigil_rules::builtin() {
        let stem = file.trim_end_matches(".yml");
        let titles = alerting_titles(file);
        let mut files: Vec<PathBuf> = std::fs::read_dir(samples_dir().join(stem))
            .expect("samples")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for sample in files {
            n += 1;
            let raised = alerts_for(&svc, n, &sample).await;
            let name = sample.file_name().and_then(|s| s.to_str()).unwrap_or("");
            if name.starts_with("positive") {
                if !raised.iter().any(|t| titles.contains(t)) {
                    failures.push(format!("{stem}/{name}: none of {titles:?} in {raised:?}"));
                }
            } else if let Some(t) = raised.iter().find(|t| titles.contains(t)) {
                failures.push(format!("{stem}/{name}: raised {t:?}"));
            }
        }
    }
    assert!(n > 30, "samples: {n}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
