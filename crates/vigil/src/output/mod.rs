//! What commands print: text for people, `--json` for scripts. Results go
//! to standard output; logs and errors to standard error.

use std::io::Write;

use serde_json::{Value, json};
use vigil_core::audit::GENESIS_HASH;
use vigil_core::tenant::{AppliedChange, ChannelKind, Coverage, Tenant};
use vigil_service::{AuditVerification, Service, ServiceError};
use vigil_store::MigrationReport;

use crate::config::{KEYS, Loaded, Source};

pub mod scan;

pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

pub fn emit_json(v: &Value) -> anyhow::Result<()> {
    emit(&serde_json::to_string_pretty(v)?)
}

/// A tenant as shown to people and scripts: secrets redacted.
pub fn tenant_json(t: &Tenant) -> Value {
    t.redacted_json()
}

pub fn tenant(t: &Tenant, json: bool) -> anyhow::Result<()> {
    if json {
        return emit_json(&tenant_json(t));
    }
    let s = &t.settings;
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<22} {v}\n"));
    line("slug", t.slug.to_string());
    line("name", t.name.to_string());
    line("id", t.id.to_string());
    line(
        "lifecycle",
        format!("{} since {}", t.lifecycle, t.lifecycle_since),
    );
    line(
        "authorisation",
        s.authorisation
            .map_or("not chosen".into(), |a| a.to_string()),
    );
    line(
        "exclusions",
        list(s.exclusions.iter().map(ToString::to_string)),
    );
    line(
        "exclusions reviewed",
        s.exclusions_reviewed_at
            .map_or("never".into(), |t| t.to_string()),
    );
    line(
        "coverage",
        match &s.coverage {
            Coverage::All => "all assets".into(),
            Coverage::Scoped(a) => list(a.iter().map(ToString::to_string)),
        },
    );
    line(
        "contacts",
        list(s.contacts.iter().map(|c| {
            let reach: Vec<&str> = [c.email.as_deref(), c.phone.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            format!(
                "{} #{} {} <{}>",
                c.kind,
                c.priority,
                c.name,
                reach.join(", ")
            )
        })),
    );
    line(
        "channels",
        list(s.channels.iter().map(|c| match &c.kind {
            ChannelKind::Email { to } => format!("{} (email to {})", c.name, to.join(", ")),
            ChannelKind::Webhook { url, format, .. } => {
                format!(
                    "{} (webhook {format} {}, signed)",
                    c.name,
                    vigil_core::tenant::redact_webhook_url(url)
                )
            }
        })),
    );
    for (sev, tg) in [
        ("critical", s.sla.critical),
        ("high", s.sla.high),
        ("medium", s.sla.medium),
        ("low", s.sla.low),
    ] {
        line(
            &format!("sla {sev}"),
            format!(
                "acknowledge {:#}, complete {:#}",
                tg.acknowledge, tg.complete
            ),
        );
    }
    line(
        "response connector",
        match &s.response_connector {
            vigil_core::tenant::ResponseConnector::Manual => "manual".into(),
            vigil_core::tenant::ResponseConnector::SignedWebhook { url, .. } => format!(
                "signed webhook to {}, signed",
                vigil_core::tenant::redact_webhook_url(url)
            ),
        },
    );
    line(
        "ir provider",
        s.ir_provider.as_ref().map_or("none".into(), |p| {
            format!("{} ({}); engage: {}", p.name, p.contact, p.engagement)
        }),
    );
    line(
        "learning period",
        format!("{} days", s.learning_period_days),
    );
    line("grace period", format!("{} days", s.grace_period_days));
    emit(&out)
}

fn list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join("; ")
    }
}

pub fn tenant_list(tenants: &[Tenant], json: bool) -> anyhow::Result<()> {
    if json {
        return emit_json(&Value::Array(tenants.iter().map(tenant_json).collect()));
    }
    if tenants.is_empty() {
        return emit(
            "no tenants yet: create one with `vigil tenant create --slug SLUG --name NAME`",
        );
    }
    let w = tenants
        .iter()
        .map(|t| t.slug.as_str().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<w$}  {:<11}  {:<20}  NAME\n",
        "SLUG", "LIFECYCLE", "SINCE"
    );
    for t in tenants {
        let since = t.lifecycle_since.strftime("%Y-%m-%d %H:%M UTC").to_string();
        out.push_str(&format!(
            "{:<w$}  {:<11}  {:<20}  {}\n",
            t.slug.as_str(),
            t.lifecycle.as_str(),
            since,
            t.name
        ));
    }
    emit(&out)
}

pub fn tenant_changed(t: &Tenant, applied: &[AppliedChange], json: bool) -> anyhow::Result<()> {
    if json {
        return emit_json(&json!({"tenant": tenant_json(t), "changes": applied}));
    }
    let mut out = String::new();
    for c in applied {
        out.push_str(&format!("{}: {} -> {}\n", c.setting, c.from, c.to));
    }
    emit(&out)
}

pub fn migrations(service: &Service, r: &MigrationReport, json: bool) -> anyhow::Result<()> {
    if json {
        let applied: Vec<Value> = r
            .applied
            .iter()
            .map(|(v, n)| json!({"version": v, "name": n}))
            .collect();
        return emit_json(&json!({
            "database": service.store_description(),
            "applied": applied,
            "version": r.version,
        }));
    }
    let mut out = String::new();
    for (v, n) in &r.applied {
        out.push_str(&format!("applied migration {v:04} {n}\n"));
    }
    out.push_str(&format!(
        "{} is at schema version {}{}\n",
        service.store_description(),
        r.version,
        if r.applied.is_empty() {
            " (up to date)"
        } else {
            ""
        }
    ));
    emit(&out)
}

pub fn config(loaded: &Loaded, json: bool) -> anyhow::Result<()> {
    let shown = loaded.config.redacted();
    let describe = Source::describe;
    if json {
        let sources: serde_json::Map<String, Value> = loaded
            .sources
            .iter()
            .map(|(k, s)| ((*k).to_owned(), Value::String(describe(s))))
            .collect();
        return emit_json(&json!({
            "file": loaded.file,
            "config": shown,
            "sources": sources,
        }));
    }
    let mut out = format!(
        "# configuration file: {}\n",
        loaded
            .file
            .as_ref()
            .map_or("none".into(), |p| p.display().to_string())
    );
    out.push_str(&toml::to_string(&shown)?);
    out.push_str("\n# where each value came from\n");
    for key in KEYS {
        if let Some(s) = loaded.sources.get(key) {
            out.push_str(&format!("# {key:<14} {}\n", describe(s)));
        }
    }
    emit(&out)
}

pub fn audit_verification(
    result: &Result<AuditVerification, ServiceError>,
    json: bool,
) -> anyhow::Result<()> {
    match (result, json) {
        (Ok(v), true) => emit_json(&json!({"ok": true, "records": v.records, "head": v.head})),
        (Ok(v), false) if v.head == GENESIS_HASH => emit("audit log is empty: nothing to verify"),
        (Ok(v), false) => emit(&format!(
            "audit log intact: {} records verified, head {}",
            v.records, v.head
        )),
        (Err(ServiceError::AuditBroken(b)), true) => emit_json(&json!({
            "ok": false,
            "first_broken_record": b.seq(),
            "reason": b.to_string(),
        })),
        // The error itself is reported on standard error by main.
        (Err(_), _) => Ok(()),
    }
}

/// A progress bar over `len` files on standard error, hidden when asked or
/// when standard error is not a terminal.
pub fn file_progress(len: u64, hidden: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = indicatif::ProgressBar::new(len);
    if hidden || !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
