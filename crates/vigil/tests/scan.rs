//! `vigil scan` end to end, on small fixtures written here (and on the
//! corpus's EVTX samples when present).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const RULES: &str = r"
title: Whoami Execution
id: 00000000-0000-0000-0000-00000000a001
level: high
tags: [attack.discovery, attack.t1033]
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
---
title: Encoded PowerShell
id: 00000000-0000-0000-0000-00000000a002
level: low
logsource: {product: windows, category: process_creation}
detection:
  sel:
    CommandLine|contains|windash: ' -enc '
  condition: sel
";

const EVENTS: &str = r##"{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"EventRecordID":7,"Computer":"WS01","TimeCreated":{"#attributes":{"SystemTime":"2026-11-01T10:00:00Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all"}}}
not json at all
{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"EventRecordID":8,"Computer":"WS01"},"EventData":{"Image":"C:\\Windows\\powershell.exe","CommandLine":"powershell /enc ZQBjAGgAbwA="}}}
{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":3,"EventRecordID":9},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe"}}}
"##;

fn vigil(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(dir)
        .env_remove("VIGIL_CONFIG")
        .output()
        .expect("vigil runs")
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("rules.yml"), RULES).expect("rules");
    std::fs::create_dir(dir.path().join("logs")).expect("logs");
    std::fs::write(dir.path().join("logs/events.jsonl"), EVENTS).expect("events");
    dir
}

#[test]
fn scan_prints_one_json_line_per_detection_with_the_event_context() {
    let dir = fixture();
    let out = vigil(
        dir.path(),
        &["scan", "--rules", "rules.yml", "logs", "--format", "jsonl"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(
        hits.len(),
        2,
        "whoami on EventID 1 and the /enc command line; not EventID 3"
    );
    let w = &hits[0];
    assert_eq!(w["rule_id"], "00000000-0000-0000-0000-00000000a001");
    assert_eq!(w["rule_title"], "Whoami Execution");
    assert_eq!(w["level"], "high");
    assert_eq!(w["tags"][1], "attack.t1033");
    assert_eq!(w["techniques"][0], "T1033");
    assert_eq!(w["timestamp"], "2026-11-01T10:00:00Z");
    assert_eq!(w["computer"], "WS01");
    assert_eq!(w["channel"], "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(w["event_id"], 1);
    assert_eq!(w["record_id"], 7);
    assert!(w["path"].as_str().expect("path").ends_with("events.jsonl"));
    assert_eq!(w["matched"]["Image"], r"C:\Windows\System32\whoami.exe");
    assert_eq!(
        hits[1]["record_id"], 8,
        "windash matches a slash-written switch"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("events.jsonl: line 2"),
        "the bad line is reported: {stderr}"
    );
}

#[test]
fn scan_filters_by_level_and_writes_csv() {
    let dir = fixture();
    let out = vigil(
        dir.path(),
        &[
            "scan",
            "-r",
            "rules.yml",
            "logs/events.jsonl",
            "--format",
            "csv",
            "--min-level",
            "medium",
        ],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("timestamp,level,rule_id"));
    assert_eq!(
        lines.len(),
        2,
        "only the high rule passes --min-level medium: {text}"
    );
    assert!(lines[1].contains(",high,"));
}

#[test]
fn scan_stats_report_rules_files_events_and_rate() {
    let dir = fixture();
    let out = vigil(dir.path(), &["scan", "-r", "rules.yml", "logs", "--stats"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 detection rules loaded"), "{stderr}");
    assert!(
        stderr.contains("scanned: 1 files, 3 events, 1 unreadable records"),
        "{stderr}"
    );
    assert!(stderr.contains("events/s"), "{stderr}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Whoami Execution") && table.contains("2 detections: 1 high, 1 low"),
        "{table}"
    );
}

#[test]
fn scan_reports_invalid_rules_and_goes_on() {
    let dir = fixture();
    std::fs::write(
        dir.path().join("bad.yml"),
        "title: Bad\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    Image|endswithh: x\n  condition: sel\n",
    )
    .expect("write");
    let out = vigil(
        dir.path(),
        &[
            "scan",
            "-r",
            "rules.yml",
            "-r",
            "bad.yml",
            "logs",
            "--format",
            "jsonl",
        ],
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yml") && stderr.contains("endswithh"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn scan_without_rules_or_files_fails_with_a_usage_error() {
    let dir = fixture();
    std::fs::write(dir.path().join("empty.yml"), "").expect("write");
    let out = vigil(dir.path(), &["scan", "-r", "empty.yml", "logs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no valid Sigma rule"));
    let out = vigil(dir.path(), &["scan", "-r", "rules.yml", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere: no such file or directory"));
}

#[test]
fn scan_finds_the_attack_samples_detections() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let rules = corpus.join("sigma/rules/windows");
    let samples = corpus.join("evtx-attack-samples/Credential Access");
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["scan", "--format", "jsonl", "--rules"])
        .arg(&rules)
        .arg(&samples)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let hits: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(
        hits.iter()
            .any(|h| h["techniques"].as_array().is_some_and(|t| t
                .iter()
                .any(|x| x.as_str().is_some_and(|s| s.starts_with("T1003"))))),
        "credential dumping (T1003) is detected in the credential access samples"
    );
}

const CORRELATION_RULES: &str = r"
title: Failed logon
id: 00000000-0000-0000-0000-00000000b001
name: failed_logon
level: low
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Password guessing against one account
id: 00000000-0000-0000-0000-00000000b002
level: high
tags: [attack.credential_access, attack.t1110.001]
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition:
    gte: 3
";

fn failed_logon(user: &str, second: u32, record: u32) -> String {
    format!(
        r##"{{"Event":{{"System":{{"Channel":"Security","EventID":4625,"EventRecordID":{record},"Computer":"DC01","TimeCreated":{{"#attributes":{{"SystemTime":"2026-11-01T10:00:{second:02}Z"}}}}}},"EventData":{{"TargetUserName":"{user}","IpAddress":"10.0.0.9"}}}}}}"##
    )
}

#[test]
fn scan_runs_correlation_rules_over_the_detections_in_time_order() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("rules.yml"), CORRELATION_RULES).expect("rules");
    // Three failures for alice within a minute (written out of order across
    // two files) and two for bob: only alice's group reaches the threshold.
    let a: Vec<String> = vec![failed_logon("alice", 30, 3), failed_logon("bob", 1, 4)];
    let b: Vec<String> = vec![
        failed_logon("alice", 10, 1),
        failed_logon("alice", 20, 2),
        failed_logon("bob", 40, 5),
    ];
    std::fs::write(dir.path().join("a.jsonl"), a.join("\n")).expect("a");
    std::fs::write(dir.path().join("b.jsonl"), b.join("\n")).expect("b");
    let out = vigil(
        dir.path(),
        &[
            "scan",
            "-r",
            "rules.yml",
            "a.jsonl",
            "b.jsonl",
            "--format",
            "jsonl",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(rows.iter().filter(|r| r["kind"] == "detection").count(), 5);
    let fired: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "correlation").collect();
    assert_eq!(fired.len(), 1, "{fired:#?}");
    let c = fired[0];
    assert_eq!(c["rule_id"], "00000000-0000-0000-0000-00000000b002");
    assert_eq!(c["level"], "high");
    assert_eq!(c["techniques"][0], "T1110.001");
    assert_eq!(c["group"]["TargetUserName"], "alice");
    assert_eq!(c["value"], 3.0);
    assert_eq!(
        c["timestamp"], "2026-11-01T10:00:30Z",
        "the event that completed it"
    );
}
