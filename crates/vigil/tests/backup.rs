//! `vigil backup` and `vigil restore`: a round trip through a destroyed
//! store gives back the same data and the same audit chain; a restore is
//! refused while the store is in use, over an existing store without
//! `--force`, and from a file that is not a sound backup.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{free_port, ingest_key, json, serve, vigil};

/// What the store holds, as users see it: tenants, users, the audit chain.
fn snapshot(dir: &Path) -> (Value, Value, Value) {
    (
        json(dir, &["tenant", "list", "--json"]),
        json(dir, &["user", "list", "--json"]),
        json(dir, &["audit", "verify", "--json"]),
    )
}

fn setup(dir: &Path) {
    for slug in ["acme", "globex"] {
        json(
            dir,
            &["tenant", "create", "--slug", slug, "--name", slug, "--json"],
        );
    }
    json(
        dir,
        &[
            "user",
            "create",
            "--email",
            "soc@acme.example",
            "--role",
            "customer_admin",
            "--tenant",
            "acme",
            "--generate",
            "--json",
        ],
    );
    ingest_key(dir, "acme");
}

#[test]
fn a_backup_restored_over_a_destroyed_store_gives_back_the_same_data_and_audit_chain() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    setup(d);
    let before = snapshot(d);
    assert_eq!(before.2["ok"], true, "{}", before.2);
    assert!(
        before.2["records"].as_u64().unwrap_or(0) >= 4,
        "{}",
        before.2
    );

    let file = d.join("vigil.backup");
    let made = json(d, &["backup", file.to_str().expect("utf-8"), "--json"]);
    assert!(made["bytes"].as_u64().unwrap_or(0) > 0, "{made}");
    assert!(made["schema_version"].as_i64().unwrap_or(0) > 0, "{made}");

    // The store is destroyed: the database and its WAL are gone.
    let store = d.join("vigil-data");
    std::fs::remove_dir_all(&store).expect("destroy");
    std::fs::create_dir_all(&store).expect("empty data dir");

    let restored = json(d, &["restore", file.to_str().expect("utf-8"), "--json"]);
    assert_eq!(restored["audit"]["ok"], true, "{restored}");
    assert_eq!(restored["audit"]["head"], before.2["head"], "{restored}");
    assert_eq!(snapshot(d), before, "the same data and chain");
}

#[test]
fn a_backup_is_taken_while_the_server_runs_but_a_restore_is_refused_until_it_stops() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    setup(d);
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = serve(d, &addr);

    let file = d.join("live.backup");
    let file = file.to_str().expect("utf-8");
    json(d, &["backup", file, "--json"]);
    let again = vigil(d, &["backup", file, "--json"]);
    assert_eq!(
        again.status.code(),
        Some(5),
        "an existing backup is never overwritten"
    );

    let refused = vigil(d, &["restore", file, "--force", "--json"]);
    assert_eq!(refused.status.code(), Some(5), "refused while in use");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("in use"), "{stderr}");

    server.kill().expect("stop");
    let _ = server.wait();
    let without_force = vigil(d, &["restore", file, "--json"]);
    assert_eq!(
        without_force.status.code(),
        Some(5),
        "an existing store needs --force"
    );
    let forced = json(d, &["restore", file, "--force", "--json"]);
    assert_eq!(forced["audit"]["ok"], true, "{forced}");
}

#[test]
fn a_file_that_is_not_a_sound_backup_is_refused_and_the_store_left_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    setup(d);
    let before = snapshot(d);
    let junk = d.join("junk.backup");
    std::fs::write(&junk, b"not a database at all, just text").expect("write");
    let out = vigil(d, &["restore", junk.to_str().expect("utf-8"), "--force"]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(d), before, "the store is untouched");
}
