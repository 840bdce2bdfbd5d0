//! `vigil backup FILE` and `vigil restore FILE` for the embedded store
//! (docs/backup.md): the copy and the checks live in
//! `vigil_store::sqlite::backup`; here the paths, the audit verification
//! after a restore, and the output.

use std::path::Path;

use anyhow::Context;
use serde_json::json;
use vigil_store::SqliteStore;
use vigil_store::sqlite::backup::{BackupError, restore_backup};

use crate::config::Config;
use crate::output::{emit, emit_json};

/// `vigil backup FILE`: a consistent copy while the server may be running.
pub async fn backup(config: &Config, file: &Path, json: bool) -> anyhow::Result<()> {
    let db = config.database_path()?;
    if !db.exists() {
        return Err(BackupError::NotABackup {
            path: db.clone(),
            reason: "there is no store to back up (check --data-dir)".into(),
        }
        .into());
    }
    let store = SqliteStore::open(&db).await?;
    let info = store
        .backup_to(file)
        .await
        .with_context(|| format!("cannot back up {} to {}", db.display(), file.display()))?;
    store.close().await;
    if json {
        emit_json(&json!({
            "backup": info.path,
            "bytes": info.bytes,
            "schema_version": info.schema_version,
            "store": db,
        }))
    } else {
        emit(&format!(
            "backed up {} to {} ({} bytes, schema version {})",
            db.display(),
            info.path.display(),
            info.bytes,
            info.schema_version
        ))
    }
}

/// `vigil restore FILE [--force]`: check, replace, migrate, verify.
pub async fn restore(config: &Config, file: &Path, force: bool, json: bool) -> anyhow::Result<()> {
    let db = config.database_path()?;
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::ensure_dir(parent)?;
    }
    let info = restore_backup(file, &db, force)
        .await
        .with_context(|| format!("cannot restore {} to {}", file.display(), db.display()))?;
    let (service, report) = super::open(config).await?;
    // A chain that does not verify is reported (exit 7) with the store
    // left restored: the operator decides what to do with it.
    let verified = service.verify_audit().await;
    let audit = match &verified {
        Ok(v) => json!({"ok": true, "records": v.records, "head": v.head}),
        Err(e) => json!({"ok": false, "reason": e.to_string()}),
    };
    if json {
        emit_json(&json!({
            "restored": db,
            "from": file,
            "schema_version": info.schema_version,
            "migrated_to": report.version,
            "audit": audit,
        }))?;
    } else if let Ok(v) = &verified {
        emit(&format!(
            "restored {} from {} (schema version {}, now {}); audit log intact: {} records, head {}",
            db.display(),
            file.display(),
            info.schema_version,
            report.version,
            v.records,
            v.head
        ))?;
    }
    verified.map(|_| ()).map_err(Into::into)
}
