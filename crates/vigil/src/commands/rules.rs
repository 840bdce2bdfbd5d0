//! `vigil rules`: packs, enablement and exclusions. Works on the embedded
//! store whether or not the server runs (the server picks up packs when
//! it starts, and tuning on its next detection round).

use std::path::Path;

use anyhow::Context;
use serde_json::json;
use vigil_core::rules::RuleFile;
use vigil_service::{Principal, Service};

use crate::cli::RulesCommand;
use crate::output::{emit, emit_json};

/// The YAML files under `dir`, with paths relative to it.
fn pack_files(dir: &Path) -> anyhow::Result<Vec<RuleFile>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let path = entry?.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
            {
                let yaml = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                out.push(RuleFile {
                    pack: String::new(),
                    path: rel.display().to_string(),
                    yaml,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

pub async fn run(c: RulesCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    match c {
        RulesCommand::Add { dir, name, out } => {
            let dir = dir
                .canonicalize()
                .with_context(|| format!("cannot read {}", dir.display()))?;
            let name = name.unwrap_or_else(|| {
                dir.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("rules")
                    .to_owned()
            });
            let files = pack_files(&dir)?;
            let report = svc
                .add_rule_pack(p, &name, &dir.display().to_string(), files)
                .await?;
            for d in &report.diagnostics {
                tracing::warn!("{d}");
            }
            if out.json {
                emit_json(&json!({
                    "pack": name,
                    "files": report.files,
                    "detection_rules": report.detection_rules,
                    "correlation_rules": report.correlation_rules,
                    "diagnostics": report.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }))
            } else {
                emit(&format!(
                    "pack {name}: {} files, {} detection rules, {} correlation rules, {} problems (logged)",
                    report.files,
                    report.detection_rules,
                    report.correlation_rules,
                    report.diagnostics.len()
                ))
            }
        }
        RulesCommand::List { tenant, out } => {
            let rules = svc.list_rules(p, tenant.as_deref()).await?;
            if out.json {
                return emit_json(&json!(rules));
            }
            let mut text = String::new();
            for r in &rules {
                text.push_str(&format!(
                    "{} {:<13} {:<36} {:<8} {}\n",
                    if r.enabled { "on " } else { "off" },
                    r.rule.level.as_str(),
                    r.rule.id,
                    r.rule.pack,
                    r.rule.title
                ));
            }
            text.push_str(&format!("{} rules", rules.len()));
            emit(&text)
        }
        RulesCommand::Enable { tenant, rule } => {
            svc.set_rule_enabled(p, &tenant, &rule, true).await?;
            emit(&format!("rule {rule} runs for {tenant}"))
        }
        RulesCommand::Disable { tenant, rule } => {
            svc.set_rule_enabled(p, &tenant, &rule, false).await?;
            emit(&format!("rule {rule} no longer runs for {tenant}"))
        }
        RulesCommand::Exclude {
            tenant,
            rule,
            on,
            value,
            reason,
            out,
        } => {
            let e = svc
                .add_exclusion(p, &tenant, rule.as_deref(), &on, &value, &reason)
                .await?;
            if out.json {
                emit_json(&json!(e))
            } else {
                emit(&format!("exclusion {} added", e.id))
            }
        }
        RulesCommand::Exclusions { tenant, out } => {
            let items = svc.list_exclusions(p, &tenant).await?;
            if out.json {
                return emit_json(&json!(items));
            }
            let mut text = String::new();
            for e in &items {
                text.push_str(&format!(
                    "{}  {}  {}={}  ({})\n",
                    e.id,
                    e.rule_id.as_deref().unwrap_or("every rule"),
                    e.matcher.to_text(),
                    e.value,
                    e.reason
                ));
            }
            text.push_str(&format!("{} exclusions", items.len()));
            emit(&text)
        }
        RulesCommand::Unexclude { tenant, id } => {
            svc.remove_exclusion(p, &tenant, id).await?;
            emit(&format!("exclusion {id} removed"))
        }
    }
}
