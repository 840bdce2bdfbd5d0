//! The `vigil` binary end to end: each test runs it in a fresh directory
//! with a clean environment and checks output, exit code and stored state.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new() -> Self {
        Workdir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn db(&self) -> PathBuf {
        self.path().join("vigil-data").join("vigil.db")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
        c.args(args).current_dir(self.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("VIGIL_") || k == "RUST_LOG" {
                c.env_remove(k);
            }
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("vigil runs")
    }

    /// Run, expect success, return standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "vigil {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).expect("json output")
    }

    /// Run, expect failure with `code`, return the error line.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "vigil {args:?}: {stderr}");
        stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| panic!("no error line in {stderr:?}"))
            .to_owned()
    }

    fn sqlite(&self, sql: &str) {
        let out = Command::new("sqlite3")
            .arg(self.db())
            .arg(sql)
            .output()
            .expect("the sqlite3 shell is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn tenant_create_with_json_prints_the_new_tenant() {
    let w = Workdir::new();
    let t = w.json(&[
        "tenant", "create", "--slug", "acme", "--name", "Acme", "--json",
    ]);
    assert_eq!(t["slug"], "acme");
    assert_eq!(t["name"], "Acme");
    assert_eq!(t["lifecycle"], "onboarding");
    let id = t["id"].as_str().expect("id is a string");
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "UUID v7");
    assert!(
        w.db().is_file(),
        "the data directory was created on first use"
    );
    let shown = w.json(&["tenant", "show", "acme", "--json"]);
    assert_eq!(shown, t, "what was printed is what was stored");
}

#[test]
fn an_invalid_slug_is_refused_and_nothing_is_written() {
    let w = Workdir::new();
    let err = w.fails(
        &["tenant", "create", "--slug", "Bad Slug", "--name", "X"],
        2,
    );
    assert_eq!(
        err,
        "error: invalid tenant slug \"Bad Slug\": must start with a lowercase letter"
    );
    assert_eq!(w.json(&["tenant", "list", "--json"]), Value::Array(vec![]));
    let audit = w.json(&["audit", "verify", "--json"]);
    assert_eq!(audit["records"], 0);
}

#[test]
fn an_unknown_setting_is_refused_by_the_command_line() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let out = w.run(&["tenant", "set", "acme", "--colour", "blue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--colour"));
}

#[test]
fn a_bad_setting_value_names_the_flag_and_changes_nothing() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let before = w.json(&["tenant", "show", "acme", "--json"]);
    let err = w.fails(
        &[
            "tenant",
            "set",
            "acme",
            "--authorisation",
            "managed",
            "--sla",
            "high=4h/1h",
        ],
        2,
    );
    assert!(err.contains("sla") && err.contains("shorter"), "{err}");
    let err = w.fails(
        &["tenant", "set", "acme", "--add-exclusion", "printer:x"],
        2,
    );
    assert!(err.contains("--add-exclusion"), "{err}");
    assert_eq!(w.json(&["tenant", "show", "acme", "--json"]), before);
}

#[test]
fn every_setting_can_be_set_from_the_command_line() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let out = w.json(&[
        "tenant", "set", "acme", "--json",
        "--name", "Acme Corporation",
        "--authorisation", "managed",
        "--add-exclusion", "device_group:Domain Controllers",
        "--exclusions-reviewed",
        "--add-coverage", "device_group:Servers",
        "--add-contact", "kind=incident,name=Jane Doe,email=jane@acme.example,phone=+1 555 0100,priority=1",
        "--add-contact", "kind=incident,name=Raj,phone=+44 20 7946 0000,priority=2",
        "--add-contact", "kind=service_review,name=Ann,email=ann@acme.example",
        "--add-channel", "name=soc-mail,kind=email,to=soc@acme.example",
        "--add-channel", "name=soar,kind=webhook,url=https://soar.acme.example/hook,format=slack,secret=s3cret-signing-key-1",
        "--sla", "high=30m/2h",
        "--sla", "low=1d/5d",
        "--ir-name", "Contoso IR",
        "--ir-contact", "hotline +1 555 0199",
        "--ir-engagement", "call the hotline, quote retainer R-42",
        "--learning-period-days", "7",
        "--grace-period-days", "30",
    ]);
    let s = &out["tenant"]["settings"];
    assert_eq!(out["tenant"]["name"], "Acme Corporation");
    assert_eq!(s["authorisation"], "managed");
    assert_eq!(s["exclusions"][0]["kind"], "device_group");
    assert!(s["exclusions_reviewed_at"].is_string());
    assert_eq!(s["coverage"]["mode"], "scoped");
    assert_eq!(s["contacts"].as_array().map(Vec::len), Some(3));
    assert_eq!(s["channels"][1]["secret"], "<redacted>");
    assert_eq!(s["sla"]["high"]["acknowledge"], "30m");
    assert_eq!(s["sla"]["low"]["complete"], "120h");
    assert_eq!(s["ir_provider"]["name"], "Contoso IR");
    assert_eq!(s["learning_period_days"], 7);
    assert_eq!(s["grace_period_days"], 30);
    assert_eq!(out["changes"].as_array().map(Vec::len), Some(15));
    assert!(
        !w.ok(&["tenant", "show", "acme"]).contains("s3cret"),
        "secrets are never shown"
    );

    let removed = w.json(&[
        "tenant",
        "set",
        "acme",
        "--json",
        "--remove-contact",
        "Raj",
        "--remove-channel",
        "soc-mail",
        "--remove-exclusion",
        "device_group:domain controllers",
        "--coverage-all",
        "--clear-ir-provider",
    ]);
    let s = &removed["tenant"]["settings"];
    assert_eq!(s["contacts"].as_array().map(Vec::len), Some(2));
    assert_eq!(s["channels"].as_array().map(Vec::len), Some(1));
    assert_eq!(s["exclusions"], Value::Array(vec![]));
    assert_eq!(s["coverage"]["mode"], "all");
    assert_eq!(s["ir_provider"], Value::Null);
}

#[test]
fn lifecycle_moves_are_checked_and_refusals_give_the_reason() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let err = w.fails(&["tenant", "transition", "acme", "--to", "live"], 5);
    assert!(
        err.contains("from onboarding a tenant may move to monitoring or offboarding"),
        "{err}"
    );
    let t = w.json(&[
        "tenant",
        "transition",
        "acme",
        "--to",
        "monitoring",
        "--override-reason",
        "no telemetry in this test",
        "--json",
    ]);
    assert_eq!(t["lifecycle"], "monitoring");
    let err = w.fails(&["tenant", "transition", "acme", "--to", "live"], 5);
    assert!(err.contains("learning period of 14 days"), "{err}");
    let t = w.json(&[
        "tenant",
        "transition",
        "acme",
        "--to",
        "live",
        "--override-reason",
        "pilot customer",
        "--json",
    ]);
    assert_eq!(t["lifecycle"], "live");
    let err = w.fails(&["tenant", "transition", "acme", "--to", "paused"], 2);
    assert!(err.contains("unknown lifecycle state"), "{err}");
    w.fails(&["tenant", "transition", "nobody", "--to", "live"], 4);
}

#[test]
fn audit_verify_passes_untouched_and_names_the_record_edited_with_sqlite3() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    w.ok(&["tenant", "set", "acme", "--authorisation", "guided"]);
    w.ok(&["tenant", "create", "--slug", "globex", "--name", "Globex"]);
    let ok = w.json(&["audit", "verify", "--json"]);
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["records"], 3);
    assert!(w.ok(&["audit", "verify"]).contains("3 records verified"));

    // The log refuses edits through SQL until its guard is dropped.
    let out = Command::new("sqlite3")
        .arg(w.db())
        .arg("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = 2;")
        .output()
        .expect("sqlite3");
    assert!(!out.status.success(), "append-only trigger blocks the edit");

    w.sqlite(
        "DROP TRIGGER audit_log_no_update; \
         UPDATE audit_log SET details = replace(details, 'guided', 'managed') WHERE seq = 2;",
    );
    let err = w.fails(&["audit", "verify"], 7);
    assert!(err.contains("audit record 2 has been altered"), "{err}");
    let out = w.run(&["audit", "verify", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken_record"], 2);
}

#[test]
fn configuration_precedence_is_file_then_environment_then_flags() {
    let w = Workdir::new();
    std::fs::write(
        w.path().join("vigil.toml"),
        "data_dir = \"from-file\"\n[log]\nlevel = \"debug\"\nformat = \"json\"\n[server]\nlisten = \"0.0.0.0:9000\"\n",
    )
    .expect("write");
    let shown: Value = serde_json::from_slice(
        &w.cmd(&["config", "show", "--json", "--data-dir", "from-flag"])
            .env("VIGIL_DATA_DIR", "from-env")
            .env("VIGIL_LOG_LEVEL", "warn")
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("json");
    assert_eq!(shown["config"]["data_dir"], "from-flag");
    assert_eq!(shown["config"]["log"]["level"], "warn");
    assert_eq!(shown["config"]["log"]["format"], "json");
    assert_eq!(shown["config"]["server"]["listen"], "0.0.0.0:9000");
    assert_eq!(shown["sources"]["data_dir"], "flag --data-dir");
    assert_eq!(shown["sources"]["log.level"], "env VIGIL_LOG_LEVEL");
    assert_eq!(shown["sources"]["log.format"], "file vigil.toml");
    assert_eq!(shown["sources"]["database.url"], "default");
}

#[test]
fn config_show_redacts_database_passwords() {
    let w = Workdir::new();
    let out = w
        .cmd(&["config", "show"])
        .env(
            "VIGIL_DATABASE_URL",
            "postgres://vigil:hunter2@db.example/vigil",
        )
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("postgres://vigil:<redacted>@db.example/vigil"),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
}

#[test]
fn an_unknown_key_in_the_configuration_file_is_refused() {
    let w = Workdir::new();
    let path = w.path().join("custom.toml");
    std::fs::write(&path, "[log]\nlevle = \"debug\"\n").expect("write");
    let err = w.fails(
        &["--config", path.to_str().expect("utf-8"), "tenant", "list"],
        3,
    );
    assert!(
        err.contains("custom.toml") && err.contains("levle"),
        "{err}"
    );
    assert!(!w.path().join("vigil-data").exists(), "nothing was created");
}

#[test]
fn malformed_toml_is_refused_with_a_one_line_error() {
    let w = Workdir::new();
    std::fs::write(w.path().join("vigil.toml"), "data_dir = [unclosed\n").expect("write");
    let err = w.fails(&["tenant", "list"], 3);
    assert!(
        err.contains("invalid configuration file vigil.toml"),
        "{err}"
    );
}

#[test]
fn an_unusable_data_directory_is_refused() {
    let w = Workdir::new();
    std::fs::write(w.path().join("a-file"), "").expect("write");
    let err = w.fails(&["--data-dir", "a-file/data", "tenant", "list"], 6);
    assert!(
        err.contains("cannot use data directory a-file/data"),
        "{err}"
    );
}

#[test]
fn a_database_from_a_newer_vigil_is_refused() {
    let w = Workdir::new();
    let out = w.ok(&["migrate"]);
    assert!(
        out.contains("applied migration 0001 tenants_and_audit"),
        "{out}"
    );
    assert!(w.ok(&["migrate"]).contains("up to date"));
    w.sqlite("INSERT INTO vigil_schema VALUES (42, 'future', 'x', 0);");
    let err = w.fails(&["tenant", "list"], 6);
    assert!(
        err.contains("schema version 42") && err.contains("upgrade vigil"),
        "{err}"
    );
}

#[test]
fn json_logs_are_one_object_per_line_on_standard_error() {
    let w = Workdir::new();
    let out = w.run(&[
        "--log-format",
        "json",
        "tenant",
        "create",
        "--slug",
        "acme",
        "--name",
        "A",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect("each log line is JSON"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "tenant created" && l["tenant"] == "acme")
    );
}

#[test]
fn users_tokens_and_ingest_keys_are_created_from_the_command_line() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let mut child = w
        .cmd(&[
            "user",
            "create",
            "--email",
            "Jane@Acme.example",
            "--role",
            "customer_admin",
            "--tenant",
            "acme",
            "--json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"correct horse battery staple\n")
        .expect("password on stdin");
    let out = child.wait_with_output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(user["email"], "jane@acme.example");
    assert_eq!(user["role"], "customer_admin");
    assert!(
        user.get("password").is_none(),
        "a typed password is never echoed"
    );

    let generated = w.json(&[
        "user",
        "create",
        "--email",
        "a@mdr.example",
        "--role",
        "analyst",
        "--generate",
        "--json",
    ]);
    assert_eq!(generated["password"].as_str().map(str::len), Some(32));

    let token = w.json(&[
        "token",
        "create",
        "--user",
        "jane@acme.example",
        "--expires-in",
        "30d",
        "--json",
    ]);
    let secret = token["token"].as_str().expect("token");
    assert!(secret.starts_with("vgt_"));
    let key = w.json(&["ingest-key", "create", "--tenant", "acme", "--json"]);
    assert!(key["key"].as_str().expect("key").starts_with("vgk_"));

    // Secrets are stored hashed: the database never holds them.
    let dump = Command::new("sqlite3")
        .arg(w.db())
        .arg(".dump")
        .output()
        .expect("sqlite3");
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(!dump.contains(secret) && !dump.contains(key["key"].as_str().expect("key")));
    assert!(!dump.contains("correct horse battery staple"));
    assert!(dump.contains("$argon2id$"));

    let id = token["id"].as_str().expect("id");
    w.ok(&["token", "revoke", "--user", "jane@acme.example", id]);
    w.fails(&["token", "revoke", "--user", "jane@acme.example", id], 4);
    let users = w.json(&["user", "list", "--tenant", "acme", "--json"]);
    assert_eq!(users.as_array().map(Vec::len), Some(1));
    assert_eq!(w.json(&["audit", "verify", "--json"])["ok"], true);
}

#[test]
fn bad_user_requests_are_refused_with_usage_errors() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let err = w.fails(
        &[
            "user",
            "create",
            "--email",
            "r@acme.example",
            "--role",
            "customer_reader",
            "--generate",
        ],
        2,
    );
    assert!(err.contains("give --tenant"), "{err}");
    let err = w.fails(
        &[
            "user",
            "create",
            "--email",
            "r@acme.example",
            "--role",
            "root",
            "--generate",
        ],
        2,
    );
    assert!(err.contains("unknown role"), "{err}");
    let err = w.fails(
        &[
            "user",
            "create",
            "--email",
            "not-an-email",
            "--role",
            "analyst",
            "--generate",
        ],
        2,
    );
    assert!(err.contains("not an email address"), "{err}");
    let err = w.fails(&["token", "create", "--user", "nobody@acme.example"], 4);
    assert!(err.contains("nobody@acme.example"), "{err}");
}

#[test]
fn a_bad_log_filter_is_a_configuration_error_naming_its_source() {
    let w = Workdir::new();
    let out = w
        .cmd(&["config", "show"])
        .env("VIGIL_LOG_LEVEL", "vigil=loud")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("log.level") && stderr.contains("VIGIL_LOG_LEVEL"),
        "{stderr}"
    );
}

#[test]
fn an_audit_record_edited_into_an_unreadable_value_is_named() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    w.ok(&["tenant", "create", "--slug", "globex", "--name", "Globex"]);
    w.sqlite(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET tenant_id = 'not-a-uuid' WHERE seq = 2;",
    );
    let err = w.fails(&["audit", "verify"], 7);
    assert!(err.contains("audit record 2"), "{err}");
    let out = w.run(&["audit", "verify", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["first_broken_record"], 2);
}

/// Telemetry, inventory and posture for a tenant with three healthy
/// Windows hosts and two identities, dated a minute before `now`.
fn healthy_telemetry(now: jiff::Timestamp) -> String {
    let t = (now - jiff::SignedDuration::from_mins(1)).to_string();
    let mut lines = Vec::new();
    for (i, h) in ["WS-01.corp.example", "WS-02.corp.example"]
        .iter()
        .enumerate()
    {
        lines.push(serde_json::json!({"Event": {
            "System": {"EventID": 1, "EventRecordID": i, "TimeCreated": {"#attributes": {"SystemTime": t}},
                       "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": h},
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "User": "CORP\\alice",
                          "TargetFilename": "C:\\Temp\\a.txt", "DestinationIp": "192.0.2.10"}}}));
        lines.push(serde_json::json!({"Event": {
            "System": {"EventID": 4624, "EventRecordID": i, "TimeCreated": {"#attributes": {"SystemTime": t}},
                       "Channel": "Security", "Computer": h},
            "EventData": {"TargetUserName": "bob", "TargetDomainName": "CORP"}}}));
        lines.push(serde_json::json!({
            "type": "device_inventory", "collected_at": t,
            "device": {"hostname": h, "sensor_health": "active"},
            "posture": {"realtime_protection": true, "cloud_protection": true, "tamper_protection": true,
                "edr_block_mode": true, "network_protection": "block", "pua_protection": "block",
                "firewall": true, "process_creation_auditing": true, "command_line_auditing": true,
                "script_block_logging": true, "lsass_protection": true,
                "asr_rules": {"block_credential_stealing_from_lsass": "block",
                    "block_office_child_processes": "block", "block_executable_content_from_email": "block"}}}));
    }
    for (upn, sam) in [
        ("alice@corp.example", "CORP\\alice"),
        ("bob@corp.example", "CORP\\bob"),
    ] {
        lines.push(serde_json::json!({"type": "identity_inventory", "collected_at": t,
            "identity": {"upn": upn, "sam_account_name": sam, "privileged": true, "has_mailbox": true},
            "posture": {"mfa_enforced": true, "legacy_auth_blocked": true, "mailbox_auditing": true}}));
    }
    lines.push(serde_json::json!({"id": "s1", "createdDateTime": t, "userPrincipalName": "alice@corp.example",
        "ipAddress": "198.51.100.7", "status": {"errorCode": 0}}));
    lines.push(serde_json::json!({"CreationTime": t.trim_end_matches('Z'), "Id": "m1",
        "Operation": "MailItemsAccessed", "Workload": "Exchange", "UserId": "alice@corp.example", "RecordType": 50}));
    lines.push(
        serde_json::json!({"eventVersion": "1.08", "eventID": "c1", "eventTime": t,
        "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "eu-west-1",
        "userIdentity": {"type": "IAMUser", "userName": "deploy"}}),
    );
    lines
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn readiness_exits_3_with_the_reasons_until_onboarding_is_done_then_0() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);

    let out = w.run(&["readiness", "acme"]);
    assert_eq!(out.status.code(), Some(3));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.starts_with("acme: NOT READY"), "{report}");
    assert!(
        report.contains("FAIL  blocking  settings.incident_contact"),
        "{report}"
    );
    assert!(report.contains("fix: Add an incident contact"), "{report}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tenant acme is not ready: blocking failures:"),
        "{err}"
    );

    let out = w.run(&["readiness", "acme", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let a: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(a["ready"], false);
    let check = a["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "coverage.devices")
        .cloned()
        .expect("coverage check");
    for key in [
        "id",
        "category",
        "status",
        "blocking",
        "evidence",
        "remediation",
    ] {
        assert!(!check[key].is_null(), "{key} in {check}");
    }

    // Monitoring waits for readiness.
    let err = w.fails(&["onboard", "acme", "--start-monitoring"], 5);
    assert!(err.contains("blocking failures"), "{err}");

    // Walk the steps, send telemetry, and it is ready.
    let steps = w.ok(&[
        "onboard",
        "acme",
        "--authorisation",
        "guided",
        "--exclusions-reviewed",
        "--add-contact",
        "kind=incident,name=Alice,email=alice@acme.example,priority=1",
        "--ir-name",
        "Respond Ltd",
        "--ir-contact",
        "ir@respond.example",
        "--ir-engagement",
        "retainer hotline",
    ]);
    assert!(steps.contains("[x] Response authorisation"), "{steps}");
    assert!(steps.contains("[ ] Readiness assessment"), "{steps}");
    let file = w.path().join("telemetry.jsonl");
    std::fs::write(&file, healthy_telemetry(jiff::Timestamp::now())).expect("write");
    w.ok(&["ingest", "--tenant", "acme", file.to_str().expect("path")]);
    let report = w.ok(&["readiness", "acme"]);
    assert!(report.starts_with("acme: READY  score 100.0"), "{report}");
    let history = w.ok(&["readiness", "acme", "--history"]);
    assert_eq!(
        history.lines().count(),
        5,
        "a header and four runs: {history}"
    );
    let shown = w.json(&["tenant", "show", "acme", "--json"]);
    assert_eq!(shown["readiness"]["ready"], true, "{shown}");
    assert!(
        w.ok(&["tenant", "show", "acme"])
            .contains("ready, score 100.0")
    );
    let done = w.ok(&["onboard", "acme", "--start-monitoring"]);
    assert!(done.contains("acme is now monitoring"), "{done}");
}

#[test]
fn sla_run_and_breaches_answer_from_the_command_line() {
    let w = Workdir::new();
    let report = w.json(&["sla", "run", "--json"]);
    assert_eq!(report["checked"], 0);
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let breaches = w.json(&[
        "sla",
        "breaches",
        "--tenant",
        "acme",
        "--from",
        "2026-11-01T00:00:00Z",
        "--to",
        "2026-12-01T00:00:00Z",
        "--json",
    ]);
    assert_eq!(breaches["items"], Value::Array(Vec::new()));
    assert_eq!(breaches["from"], "2026-11-01T00:00:00Z");
    let err = w.fails(
        &["sla", "breaches", "--tenant", "acme", "--from", "yesterday"],
        2,
    );
    assert!(err.contains("--from"), "{err}");
    let err = w.fails(&["sla", "breaches", "--tenant", "nowhere"], 4);
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn ir_bundle_writes_the_handoff_zip_of_an_incident_and_names_a_missing_one() {
    let w = Workdir::new();
    w.ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let rules = w.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules dir");
    std::fs::write(
        rules.join("stop.yml"),
        "title: CloudTrail Logging Stopped
id: 6f3c1d52-9f5e-4a0f-9d55-1b2f0c3e8a01
level: high
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: StopLogging
    condition: selection
",
    )
    .expect("rule");
    w.ok(&["rules", "add", rules.to_str().expect("path")]);
    let trail = w.path().join("trail.json");
    std::fs::write(
        &trail,
        r#"{"eventVersion":"1.08","eventTime":"2026-11-27T08:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","userName":"mallory"}}"#,
    )
    .expect("trail");
    w.ok(&[
        "ingest",
        "--tenant",
        "acme",
        "--no-progress",
        trail.to_str().expect("path"),
    ]);
    let list = w.json(&["incident", "list", "--tenant", "acme", "--json"]);
    let id = list[0]["id"].as_str().expect("an incident").to_owned();
    let out = w.json(&["ir-bundle", "acme", &id, "-o", "bundle.zip", "--json"]);
    assert_eq!(out["manifest"].as_array().map(Vec::len), Some(9), "{out}");
    let zip = std::fs::read(w.path().join("bundle.zip")).expect("written");
    assert!(zip.starts_with(b"PK\x03\x04"));
    assert_eq!(out["bytes"].as_u64(), Some(zip.len() as u64));
    let missing = w.fails(
        &[
            "ir-bundle",
            "acme",
            "0190d5a0-0000-7000-8000-000000000000",
            "-o",
            "x.zip",
        ],
        4,
    );
    assert!(missing.contains("incident"), "{missing}");
}
