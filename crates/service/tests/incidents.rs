//! Incidents from real telemetry: the EVTX attack samples ingested for one
//! tenant with the SigmaHQ Windows rules. Every alert lands in an incident,
//! each placement is explained in the incident's activity log, and the
//! grouping is pinned by a snapshot (`tests/snapshots/evtx_incidents.txt`;
//! `VIGIL_UPDATE_SNAPSHOTS=1` rewrites it after a deliberate change).

use std::path::Path;
use std::sync::Arc;

use vigil_core::alert::AlertFilter;
use vigil_core::identity::Principal;
use vigil_core::rules::RuleFile;
use vigil_service::{At, FixedClock, IncidentFilter, Intake, Record, Service};

mod support;

fn rule_files(dir: &Path) -> Vec<RuleFile> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml") {
                out.push(RuleFile {
                    pack: String::new(),
                    path: p.strip_prefix(dir).unwrap_or(&p).display().to_string(),
                    yaml: std::fs::read_to_string(&p).expect("rule"),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[tokio::test]
async fn the_evtx_samples_group_into_incidents_each_placement_explained() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let store = support::memory_store().await;
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = support::service(store, clock).await;
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    svc.add_rule_pack(
        &op,
        "sigmahq-windows",
        "corpus",
        rule_files(&corpus.join("sigma/rules/windows")),
    )
    .await
    .expect("pack");
    let mut records = Vec::new();
    for f in vigil_testkit::files_with_extension(&corpus.join("evtx-attack-samples"), "evtx") {
        vigil_formats::read_records(
            &f,
            vigil_formats::FileKind::Evtx,
            1,
            &mut |r| {
                records.push(Record {
                    at: At::Text(r.at),
                    bytes: r.json,
                })
            },
            &mut |e| panic!("{e:?}"),
        );
    }
    for chunk in records.chunks(2000) {
        svc.ingest(
            &op,
            Some("acme"),
            Intake {
                source: "test".into(),
                records: chunk.to_vec(),
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
    }
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");

    let alerts = svc
        .list_alerts(
            &op,
            "acme",
            AlertFilter {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .expect("alerts");
    assert!(alerts.len() > 100);
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = svc
            .list_incidents(
                &op,
                "acme",
                IncidentFilter {
                    after: cursor,
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .expect("incidents");
        let Some(last) = page.last() else { break };
        cursor = Some((last.incident.last_activity, last.incident.id));
        all.extend(page);
    }
    let placed: u64 = all.iter().map(|r| r.incident.alert_count).sum();
    let total_alerts = {
        let mut n = 0;
        let mut after = None;
        loop {
            let page = svc
                .list_alerts(
                    &op,
                    "acme",
                    AlertFilter {
                        after,
                        limit: 500,
                        ..Default::default()
                    },
                )
                .await
                .expect("alerts");
            let Some(last) = page.last() else { break };
            after = Some((last.last_activity, last.id));
            n += page.len() as u64;
            assert!(
                page.iter().all(|a| a.incident_id.is_some()),
                "every alert is in an incident"
            );
        }
        n
    };
    assert_eq!(
        placed, total_alerts,
        "each alert counted in exactly one live incident"
    );
    assert!(
        all.len() < total_alerts as usize / 2,
        "grouping groups: {} incidents",
        all.len()
    );

    // Every incident explains each alert it took, naming the linking entity.
    for r in &all {
        let view = svc
            .incident(&op, "acme", r.incident.id)
            .await
            .expect("incident");
        assert!(
            view.activity.iter().any(|a| a.action == "opened"),
            "{:?}",
            r.incident.title
        );
        for a in view.activity.iter().filter(|a| a.action == "alert_added") {
            assert!(a.details.contains("shares "), "{}", a.details);
        }
    }

    // The investigation view of the biggest incident: its timeline holds
    // the events around it, its devices' processes nest into trees, and
    // incidents sharing its entities are found.
    let biggest = all
        .iter()
        .max_by_key(|r| r.incident.alert_count)
        .expect("incidents");
    let timeline = svc
        .incident_timeline(&op, "acme", biggest.incident.id, 5000)
        .await
        .expect("timeline");
    assert!(
        timeline.len() as u64 >= biggest.incident.alert_count,
        "timeline {} events for {} alerts",
        timeline.len(),
        biggest.incident.alert_count
    );
    assert!(
        timeline
            .windows(2)
            .all(|w| w[0].event.time <= w[1].event.time)
    );
    let trees = svc
        .incident_process_tree(&op, "acme", biggest.incident.id)
        .await
        .expect("process tree");
    assert!(
        trees.iter().any(|n| !n.children.is_empty()),
        "some process started another: {} roots",
        trees.len()
    );
    let with_related = {
        let mut n = 0;
        for r in all.iter().take(40) {
            if !svc
                .related_incidents(&op, "acme", r.incident.id)
                .await
                .expect("related")
                .is_empty()
            {
                n += 1;
            }
        }
        n
    };
    assert!(
        with_related > 0,
        "some incidents share entities with others"
    );

    // The grouping, pinned: per incident its severity, alert count, title
    // and key devices and users, in order of first activity.
    all.sort_by_key(|r| (r.incident.first_activity, r.incident.title.clone()));
    let mut snapshot = String::new();
    for r in &all {
        let i = &r.incident;
        let keys: Vec<String> = i
            .entities
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    vigil_core::EntityKind::Device | vigil_core::EntityKind::User
                )
            })
            .map(ToString::to_string)
            .collect();
        snapshot.push_str(&format!(
            "{} | {} | {} alerts | {} | {}\n",
            i.first_activity,
            i.severity(),
            i.alert_count,
            i.title,
            keys.join(" ")
        ));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/evtx_incidents.txt");
    if std::env::var_os("VIGIL_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &snapshot).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&path)
        .expect("the snapshot file (VIGIL_UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        expected == snapshot,
        "the grouping changed; if on purpose, rerun with VIGIL_UPDATE_SNAPSHOTS=1 and review the diff of {}",
        path.display()
    );
}

/// A record of CloudTrail's StopLogging by `user` from `ip` at `time`.
fn trail(user: &str, ip: &str, time: &str) -> Record {
    Record {
        at: At::Line(1),
        bytes: format!(r#"{{"eventVersion":"1.08","eventTime":"{time}","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"{ip}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","userName":"{user}"}}}}"#).into_bytes(),
    }
}

/// A service at noon with tenant `acme` (its incident window set when
/// given) and the StopLogging rule.
async fn stop_logging_service(window_hours: Option<u32>) -> (Service, Principal) {
    let store = support::memory_store().await;
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = support::service(store, clock).await;
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    if let Some(h) = window_hours {
        svc.update_tenant(
            &op,
            "acme",
            &[vigil_core::tenant::SettingChange::IncidentWindowHours(h)],
        )
        .await
        .expect("window");
    }
    vigil_fixtures::add_stop_logging_rule(&svc, &op).await;
    (svc, op)
}

/// The first ten incidents of `acme`.
async fn acme_incidents(svc: &Service, op: &Principal) -> Vec<vigil_store::IncidentRecord> {
    svc.list_incidents(
        op,
        "acme",
        IncidentFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .expect("incidents")
}

/// Ingest records for `acme` and run detection over them.
async fn ingest_and_detect(svc: &Service, op: &Principal, records: Vec<Record>) {
    svc.ingest(
        op,
        Some("acme"),
        Intake {
            source: "test".into(),
            records,
            ..Default::default()
        },
    )
    .await
    .expect("ingest");
    let (engine, _) = svc.detection_engine().await.expect("engine");
    svc.drain_detection(&engine).await.expect("detect");
}

#[tokio::test]
async fn triage_refuses_bad_moves_and_mismatched_determinations_and_logs_every_change() {
    use vigil_core::incident::{Classification, Determination, IncidentStatus};
    use vigil_service::{IncidentChange, ServiceError};
    let (svc, op) = stop_logging_service(None).await;
    ingest_and_detect(
        &svc,
        &op,
        vec![trail("mallory", "203.0.113.9", "2026-11-27T08:00:00Z")],
    )
    .await;
    let id = acme_incidents(&svc, &op).await[0].incident.id;
    let change = |f: fn(&mut IncidentChange)| {
        let mut c = IncidentChange::default();
        f(&mut c);
        c
    };
    let refused = svc
        .update_incident(
            &op,
            "acme",
            id,
            change(|c| c.status = Some(IncidentStatus::Redirected)),
        )
        .await
        .expect_err("redirected only by merge");
    assert!(matches!(refused, ServiceError::Refused(_)), "{refused}");
    let mismatch = svc
        .update_incident(
            &op,
            "acme",
            id,
            change(|c| {
                c.classification = Some(Some(Classification::FalsePositive));
                c.determination = Some(Some(Determination::Malware));
            }),
        )
        .await
        .expect_err("malware is not a false positive");
    assert!(
        matches!(&mismatch, ServiceError::Invalid(m) if m.contains("malware") && m.contains("false")),
        "{mismatch}"
    );
    let view = svc
        .update_incident(
            &op,
            "acme",
            id,
            change(|c| {
                c.status = Some(IncidentStatus::Resolved);
                c.assigned_to = Some(Some("analyst:jane@mdr.example".into()));
                c.classification = Some(Some(Classification::TruePositive));
                c.determination = Some(Some(Determination::CompromisedAccount));
                c.add_tags = vec!["aws".into()];
            }),
        )
        .await
        .expect("triage");
    assert_eq!(view.record.incident.status, IncidentStatus::Resolved);
    for (assigned, classification, found) in [
        (Some("analyst:jane@mdr.example"), None, 1),
        (Some("none"), None, 0),
        (None, Some("true_positive"), 1),
        (None, Some("none"), 0),
    ] {
        let n = svc
            .list_incidents(
                &op,
                "acme",
                IncidentFilter {
                    statuses: vec!["resolved".into()],
                    assigned_to: assigned.map(str::to_owned),
                    classification: classification.map(str::to_owned),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .expect("incidents")
            .len();
        assert_eq!(n, found, "{assigned:?} {classification:?}");
    }
    assert_eq!(
        view.record.determination.as_deref(),
        Some("compromised_account")
    );
    let actions: Vec<&str> = view.activity.iter().map(|a| a.action.as_str()).collect();
    for a in [
        "opened",
        "status",
        "assigned_to",
        "classification",
        "determination",
        "tag_added",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let status = view
        .activity
        .iter()
        .find(|a| a.action == "status")
        .expect("status");
    assert_eq!(status.details, "new → resolved");
    assert_eq!(status.actor, "cli:test");
    let reopened = svc
        .update_incident(
            &op,
            "acme",
            id,
            change(|c| c.status = Some(IncidentStatus::New)),
        )
        .await
        .expect_err("a resolved incident reopens as active or in progress");
    assert!(matches!(reopened, ServiceError::Refused(m) if m.contains("active")));
    svc.set_verdict(
        &op,
        "acme",
        &"ip:203.0.113.9".parse().expect("entity"),
        vigil_core::Verdict::Malicious,
    )
    .await
    .expect("verdict");
    let seen = svc.incident(&op, "acme", id).await.expect("incident");
    assert_eq!(
        seen.verdicts,
        vec![(
            "ip:203.0.113.9".parse().expect("entity"),
            vigil_core::Verdict::Malicious
        )]
    );
    let c = svc
        .comment_incident(&op, "acme", id, "Keys rotated; trail re-enabled.")
        .await
        .expect("comment");
    assert_eq!(c.body, "Keys rotated; trail re-enabled.");
    let too_long = "x".repeat(30_001);
    assert!(
        svc.comment_incident(&op, "acme", id, &too_long)
            .await
            .is_err()
    );
    // The summary: a draft from the evidence the customer cannot see, then
    // a published version it can.
    svc.create_user(
        &op,
        "reader@acme.example",
        vigil_core::identity::Role::CustomerReader,
        Some("acme"),
        "correct horse battery staple",
    )
    .await
    .expect("reader");
    let (secret, _) = svc
        .create_token(&op, "reader@acme.example", "t", None)
        .await
        .expect("token");
    let reader = svc
        .authenticate_token(secret.expose())
        .await
        .expect("principal");
    let draft = svc.draft_summary(&op, "acme", id).await.expect("draft");
    assert!(!draft.published);
    assert!(
        draft
            .summary
            .what_happened
            .contains("CloudTrail Logging Stopped"),
        "{:?}",
        draft.summary
    );
    assert!(
        draft
            .summary
            .indicators
            .iter()
            .any(|i| i == "ip:203.0.113.9")
    );
    assert!(
        svc.summary(&reader, "acme", id).await.is_err(),
        "a customer never sees a draft"
    );
    let published = svc.publish_summary(&op, "acme", id).await.expect("publish");
    assert!(published.published);
    assert_eq!(published.version, 2);
    let seen = svc.summary(&reader, "acme", id).await.expect("published");
    assert_eq!(seen.versions.len(), 1, "published versions only");
    assert_eq!(seen.current.summary, draft.summary);
    let all = svc.summary(&op, "acme", id).await.expect("all");
    assert_eq!(all.versions.len(), 2);
    let audit = svc
        .audit_log(&op, Some("acme"), 0, 1000)
        .await
        .expect("audit");
    assert!(audit.iter().any(|r| r.action == "summary.publish"));
    assert!(audit.iter().any(|r| r.action == "incident.update"));
    assert!(audit.iter().any(|r| r.action == "incident.comment"));
}

#[tokio::test]
async fn a_manual_merge_moves_the_alerts_to_the_older_incident_once() {
    use vigil_core::incident::IncidentStatus;
    let (svc, op) = stop_logging_service(None).await;
    ingest_and_detect(
        &svc,
        &op,
        vec![
            trail("mallory", "203.0.113.9", "2026-11-27T08:00:00Z"),
            trail("eve", "198.51.100.4", "2026-11-27T09:00:00Z"),
        ],
    )
    .await;
    let list = |svc: &Service| {
        let svc = svc.clone();
        async move { acme_incidents(&svc, &Principal::Operator("test".into())).await }
    };
    let two = list(&svc).await;
    assert_eq!(two.len(), 2, "no shared entity: two incidents");
    let (a, b) = (two[0].incident.id, two[1].incident.id);
    let merged = svc.merge_incidents(&op, "acme", a, b).await.expect("merge");
    let survivor = merged.record.incident.id;
    assert_eq!(survivor, a.min(b), "the older survives");
    assert_eq!(merged.record.incident.alert_count, 2);
    assert_eq!(merged.alerts.len(), 2, "the alerts moved along");
    let one = list(&svc).await;
    assert_eq!(
        one.len(),
        1,
        "the other is redirected and hidden from the list"
    );
    let other = if survivor == a { b } else { a };
    let redirected = svc.incident(&op, "acme", other).await.expect("redirected");
    assert_eq!(
        redirected.record.incident.status,
        IncidentStatus::Redirected
    );
    assert_eq!(redirected.record.incident.redirected_to, Some(survivor));
    let again = svc.merge_incidents(&op, "acme", a, b).await;
    assert!(
        again.is_ok_and(|v| v.record.incident.alert_count == 2),
        "merging again changes nothing"
    );
    // Moving one of the survivor's alerts into the survivor is refused.
    let own = merged.alerts[0].id;
    assert!(svc.move_alert(&op, "acme", survivor, own).await.is_err());
}

#[tokio::test]
async fn moving_an_alert_rebuilds_the_incident_it_leaves() {
    use vigil_core::incident::IncidentStatus;
    let (svc, op) = stop_logging_service(None).await;
    ingest_and_detect(
        &svc,
        &op,
        vec![
            trail("mallory", "203.0.113.9", "2026-11-27T08:00:00Z"),
            trail("eve", "198.51.100.4", "2026-11-27T09:00:00Z"),
        ],
    )
    .await;
    let two = acme_incidents(&svc, &op).await;
    assert_eq!(two.len(), 2);
    let (into, from) = (two[0].incident.id, two[1].incident.id);
    let leaving = svc
        .incident(&op, "acme", from)
        .await
        .expect("incident")
        .alerts[0]
        .id;
    let after = svc
        .move_alert(&op, "acme", into, leaving)
        .await
        .expect("move");
    assert_eq!(after.record.incident.alert_count, 2);
    assert!(after.alerts.iter().any(|a| a.id == leaving));
    assert!(after.activity.iter().any(|a| a.action == "alert_moved_in"));
    let left = svc.incident(&op, "acme", from).await.expect("incident");
    assert_eq!(
        left.record.incident.status,
        IncidentStatus::Redirected,
        "left with no alert"
    );
    assert_eq!(left.record.incident.redirected_to, Some(into));
    assert!(left.activity.iter().any(|a| a.action == "alert_moved_out"));
}

#[tokio::test]
async fn an_alert_that_grows_keeps_its_incident_current_without_counting_twice() {
    let (svc, op) = stop_logging_service(None).await;
    let (engine, _) = svc.detection_engine().await.expect("engine");
    for (n, time) in ["2026-11-27T08:00:00Z", "2026-11-27T08:30:00Z"]
        .iter()
        .enumerate()
    {
        let bytes = format!(
            r#"{{"eventVersion":"1.08","eventID":"{n}","eventTime":"{time}","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","userName":"mallory"}}}}"#
        );
        svc.ingest(
            &op,
            Some("acme"),
            Intake {
                source: "test".into(),
                records: vec![Record {
                    at: At::Line(1),
                    bytes: bytes.into_bytes(),
                }],
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
        svc.drain_detection(&engine).await.expect("detect");
    }
    let incidents = acme_incidents(&svc, &op).await;
    assert_eq!(incidents.len(), 1);
    let i = &incidents[0].incident;
    assert_eq!(i.alert_count, 1, "one alert, matched twice");
    assert_eq!(
        i.last_activity,
        "2026-11-27T08:30:00Z"
            .parse::<vigil_core::Timestamp>()
            .expect("t")
    );
}

#[tokio::test]
async fn an_alert_that_grows_to_name_another_incidents_entity_merges_the_two() {
    let (svc, op) = stop_logging_service(None).await;
    // Two incidents that share nothing: mallory's and eve's.
    for record in [
        trail("mallory", "203.0.113.9", "2026-11-27T05:00:00Z"),
        trail("eve", "198.51.100.4", "2026-11-27T05:00:00Z"),
        // Mallory again (the same alert, grown) from eve's address.
        trail("mallory", "198.51.100.4", "2026-11-27T05:20:00Z"),
    ] {
        ingest_and_detect(&svc, &op, vec![record]).await;
    }
    let open = acme_incidents(&svc, &op).await;
    assert_eq!(open.len(), 1, "merged: {open:?}");
    let merged = svc
        .incident(&op, "acme", open[0].incident.id)
        .await
        .expect("incident");
    assert_eq!(merged.record.incident.alert_count, 2);
    let why = merged
        .activity
        .iter()
        .find(|a| a.action == "merged")
        .expect("a merge in the activity log");
    assert!(why.details.contains("ip:198.51.100.4"), "{}", why.details);
}

#[tokio::test]
async fn the_tenants_incident_window_decides_how_far_apart_alerts_still_group() {
    let mut counts = Vec::new();
    for window in [24, 1] {
        let (svc, op) = stop_logging_service(Some(window)).await;
        // The same user from two addresses, three hours apart: two alerts
        // (the dedup window is one hour), linked by the user.
        let records = vec![
            trail("mallory", "203.0.113.9", "2026-11-27T05:00:00Z"),
            trail("mallory", "198.51.100.4", "2026-11-27T08:00:00Z"),
        ];
        ingest_and_detect(&svc, &op, records).await;
        let n = acme_incidents(&svc, &op).await.len();
        counts.push(n);
    }
    assert_eq!(counts, [1, 2], "24 h groups them, 1 h does not");
}

#[tokio::test]
async fn tasks_are_managed_only_when_authorised_due_by_the_sla_and_keep_their_history() {
    use vigil_core::task::{TaskMode, TaskStatus, TaskType};
    use vigil_core::tenant::{ResponseAuthorisation, SettingChange};
    use vigil_service::ServiceError;
    let (svc, op) = stop_logging_service(None).await;
    ingest_and_detect(
        &svc,
        &op,
        vec![trail("mallory", "203.0.113.9", "2026-11-27T08:00:00Z")],
    )
    .await;
    let incident = svc
        .list_incidents(
            &op,
            "acme",
            IncidentFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("incidents")[0]
        .incident
        .id;
    let user = || Some("user:mallory".parse().expect("entity"));
    let guided = svc
        .create_task(
            &op,
            "acme",
            incident,
            TaskType::DisableUser,
            user(),
            "the trail was stopped",
        )
        .await
        .expect("task");
    assert_eq!(guided.mode, TaskMode::Guided, "{}", guided.mode_reason);
    // High severity: 4 hours to complete by default.
    assert_eq!(guided.due_at, "2026-11-27T16:00:00Z".parse().expect("time"));
    let wrong = svc
        .create_task(&op, "acme", incident, TaskType::IsolateDevice, user(), "x")
        .await
        .expect_err("a user is not a device");
    assert!(matches!(wrong, ServiceError::Invalid(_)));
    svc.update_tenant(
        &op,
        "acme",
        &[SettingChange::Authorisation(ResponseAuthorisation::Managed)],
    )
    .await
    .expect("authorise");
    let managed = svc
        .create_task(
            &op,
            "acme",
            incident,
            TaskType::DisableUser,
            user(),
            "the trail was stopped",
        )
        .await
        .expect("task");
    assert_eq!(managed.mode, TaskMode::Managed);

    svc.create_user(
        &op,
        "soc@acme.example",
        vigil_core::identity::Role::CustomerResponder,
        Some("acme"),
        "correct horse battery staple",
    )
    .await
    .expect("user");
    let (secret, _) = svc
        .create_token(&op, "soc@acme.example", "t", None)
        .await
        .expect("token");
    let soc = svc
        .authenticate_token(secret.expose())
        .await
        .expect("principal");
    assert!(
        matches!(
            svc.update_task(&soc, "acme", managed.id, TaskStatus::Completed, None)
                .await,
            Err(ServiceError::Forbidden(_))
        ),
        "the experts carry out managed tasks"
    );
    let no_reason = svc
        .update_task(&soc, "acme", guided.id, TaskStatus::Skipped, None)
        .await
        .expect_err("a skip needs a reason");
    assert!(matches!(no_reason, ServiceError::Refused(_)));
    let done = svc
        .update_task(
            &soc,
            "acme",
            guided.id,
            TaskStatus::Completed,
            Some("disabled in Entra"),
        )
        .await
        .expect("complete");
    assert_eq!(done.task.status, TaskStatus::Completed);
    assert_eq!(done.history.len(), 2);
    assert_eq!(done.history[1].1, "user:soc@acme.example");
    assert_eq!(done.history[1].2, "open → completed: disabled in Entra");
    assert!(
        svc.update_task(&op, "acme", guided.id, TaskStatus::Failed, None)
            .await
            .is_err(),
        "closed tasks stay closed"
    );
    // Publishing the response hands the incident to the customer; closing
    // the last task hands it back to the experts.
    use vigil_core::incident::IncidentStatus;
    svc.draft_summary(&op, "acme", incident)
        .await
        .expect("draft");
    svc.update_tenant(
        &op,
        "acme",
        &[SettingChange::AddContact(vigil_core::tenant::Contact {
            kind: vigil_core::tenant::ContactKind::Incident,
            name: "Ada".into(),
            email: Some("ada@acme.example".into()),
            phone: None,
            priority: 1,
        })],
    )
    .await
    .expect("contact");
    let published = svc
        .publish_response(&op, "acme", incident)
        .await
        .expect("publish");
    let log = svc
        .notifications(&op, "acme", None, 10)
        .await
        .expect("delivery log");
    assert_eq!(log.len(), 1, "one notification for the published response");
    let (note, deliveries) = &log[0];
    assert_eq!(
        note.kind,
        vigil_core::notification::NotificationKind::ResponsePublished
    );
    assert_eq!(
        note.link.as_deref(),
        Some(format!("/tenants/acme/incidents/{incident}").as_str())
    );
    assert!(
        note.body
            .contains("The experts carry out 1 task(s):\n- disable_user on mallory"),
        "{}",
        note.body
    );
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].destination.to_string(),
        "email:ada@acme.example"
    );
    assert_eq!(
        deliveries[0].status,
        vigil_core::notification::DeliveryStatus::Held,
        "the tenant is still onboarding: customer notifications are held"
    );
    assert_eq!(
        published.record.incident.status,
        IncidentStatus::AwaitingCustomer
    );
    assert_eq!(published.record.assigned_to.as_deref(), Some("customer"));
    svc.update_task(
        &op,
        "acme",
        managed.id,
        TaskStatus::Completed,
        Some("disabled"),
    )
    .await
    .expect("complete");
    let back = svc.incident(&op, "acme", incident).await.expect("incident");
    assert_eq!(back.record.incident.status, IncidentStatus::InProgress);
    assert_eq!(back.record.assigned_to.as_deref(), Some("experts"));
    assert!(
        back.activity
            .iter()
            .any(|a| a.details.contains("every task is closed"))
    );
}
