//! `vigil report`: the format from the file's extension, `--provider`,
//! `--json`, and the exit codes for bad input, an unknown tenant and a
//! missing browser.

use std::process::{Command, Output};

fn vigil(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIL_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().copied());
    c.output().expect("vigil runs")
}

#[test]
fn reports_are_written_in_the_format_their_extension_names() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let ok = |args: &[&str]| {
        let out = vigil(d, args, &[]);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    ok(&["tenant", "create", "--slug", "globex", "--name", "Globex"]);

    let said: serde_json::Value = serde_json::from_str(&ok(&[
        "report",
        "acme",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "-o",
        "r.json",
        "--json",
    ]))
    .expect("json");
    assert_eq!(said["from"], "2026-11-01T00:00:00Z");
    assert_eq!(said["to"], "2026-12-01T00:00:00Z");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r.json")).expect("file")).expect("report");
    assert_eq!(report["tenant"], "acme");
    assert_eq!(report["incidents"]["investigated"], 0);

    assert!(ok(&["report", "acme", "-o", "r.html"]).contains("wrote r.html"));
    let html = std::fs::read_to_string(d.join("r.html")).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Service report: Acme"));

    ok(&["report", "--provider", "-o", "all.json"]);
    let all: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("all.json")).expect("file")).expect("json");
    assert_eq!(all["rows"].as_array().map(Vec::len), Some(2));

    let out = vigil(d, &["report", "acme", "-o", "r.docx"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".json, .html or .pdf"));
    let out = vigil(
        d,
        &[
            "report",
            "acme",
            "--from",
            "2026-12-01",
            "--to",
            "2026-11-01",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = vigil(d, &["report", "nope"], &[]);
    assert_eq!(out.status.code(), Some(4));

    let out = vigil(
        d,
        &["report", "acme", "-o", "r.pdf"],
        &[("VIGIL_REPORTS_BROWSER", "/opt/none/chromium")],
    );
    assert_eq!(out.status.code(), Some(8), "a missing browser");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/opt/none/chromium"));
}

#[test]
fn a_pdf_report_is_printed_by_the_browser() {
    let present = Command::new("chromium").arg("--version").output().is_ok();
    if !present {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_TOOLS").is_none(),
            "chromium is required for PDF reports"
        );
        eprintln!("skipped: chromium is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let out = vigil(
        d,
        &["tenant", "create", "--slug", "acme", "--name", "Acme"],
        &[],
    );
    assert!(out.status.success());
    let out = vigil(d, &["report", "acme", "-o", "r.pdf"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf = std::fs::read(d.join("r.pdf")).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
}
