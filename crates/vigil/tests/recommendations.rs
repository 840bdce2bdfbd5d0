//! `vigil recommendations SLUG`: text and JSON, and the exit code for an
//! unknown tenant.

use std::process::{Command, Output};

fn vigil(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIL_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.output().expect("vigil runs")
}

#[test]
fn a_new_tenant_has_no_recommendations_and_an_unknown_one_is_not_found() {
    let dir = tempfile::tempdir().expect("dir");
    let ok = |args: &[&str]| {
        let out = vigil(dir.path(), args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    ok(&["tenant", "create", "--slug", "acme", "--name", "Acme"]);
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["recommendations", "acme", "--json"])).expect("json");
    assert_eq!(v["items"], serde_json::json!([]));
    assert_eq!(v["score"]["possible"], 0);
    assert!(ok(&["recommendations", "acme"]).contains("nothing raised yet"));
    let out = vigil(dir.path(), &["recommendations", "nope"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tenant \"nope\" not found"));
}
