//! `vigil hunt SLUG 'QUERY'`: threat hunting on the embedded store. The
//! JSON output is the REST answer; a query error goes to stderr with its
//! position and exits with the usage code.

use std::io::Read;

use anyhow::Context;
use serde_json::{Value, json};
use vigil_core::hunting::HuntSchedule;
use vigil_service::{HuntDraft, HuntLimits, HuntResult, Principal, Service};

use crate::cli::{HuntArgs, HuntFormat};
use crate::output::{emit, emit_json};

pub async fn run(args: HuntArgs, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    if args.schema {
        let tables = vigil_service::hunt_schema();
        if args.format == HuntFormat::Json {
            return emit_json(&json!({ "tables": tables }));
        }
        let mut text = String::new();
        for t in tables {
            text.push_str(&format!("{}  ({})\n", t.name, t.description));
            for c in t.columns {
                text.push_str(&format!(
                    "    {:<30} {:<9} {}\n",
                    c.name, c.ty, c.description
                ));
            }
        }
        return emit(&text);
    }
    // With --all the one positional is the query.
    let (tenant, query) = if args.all {
        (None, args.tenant.clone())
    } else {
        (args.tenant.clone(), args.query.clone())
    };
    if args.saved {
        let slug = tenant.context("give the tenant's slug")?;
        let hunts = svc.saved_hunts(p, &slug).await?;
        if args.format == HuntFormat::Json {
            return emit_json(&json!({ "items": hunts }));
        }
        let mut text = String::new();
        for h in hunts {
            let every = h.schedule.map_or_else(
                || "-".to_owned(),
                |s| format!("every {} s", s.interval_secs),
            );
            text.push_str(&format!(
                "{}  {:<30} {:<14} {}\n",
                h.id,
                h.name,
                every,
                h.query.replace('\n', " ")
            ));
        }
        return emit(&text);
    }
    let query = match query.as_deref() {
        Some("-") | None => {
            let mut q = String::new();
            std::io::stdin().read_to_string(&mut q)?;
            q
        }
        Some(q) => q.to_owned(),
    };
    if let Some(name) = args.save {
        let slug = tenant.context("give the tenant's slug")?;
        let schedule = args
            .every
            .map(|every| -> anyhow::Result<HuntSchedule> {
                Ok(HuntSchedule {
                    interval_secs: every,
                    lookback_secs: args.lookback,
                    severity: args
                        .severity
                        .parse()
                        .map_err(|e| anyhow::anyhow!("--severity: {e}"))?,
                })
            })
            .transpose()?;
        let h = svc
            .create_saved_hunt(
                p,
                &slug,
                &HuntDraft {
                    name,
                    query,
                    description: String::new(),
                    schedule,
                },
            )
            .await?;
        if args.format == HuntFormat::Json {
            return emit_json(&json!(h));
        }
        return emit(&format!("saved hunt {} ({})", h.name, h.id));
    }
    let limits = HuntLimits {
        max_rows: args.max_rows,
        ..HuntLimits::default()
    };
    let result = match &tenant {
        Some(slug) => svc.hunt(p, slug, &query, limits).await?,
        None => svc.hunt_all(p, &query, limits).await?,
    };
    for m in &result.stats.messages {
        eprintln!("note: {m}");
    }
    match args.format {
        HuntFormat::Json => emit_json(&serde_json::to_value(&result)?),
        HuntFormat::Csv => emit(&vigil_service::hunt_csv(&result)),
        HuntFormat::Table => emit(&table(&result)),
    }
}

/// Columns padded to their widest cell (cut at 60 characters).
fn table(r: &HuntResult) -> String {
    let text = |v: &Value| -> String {
        let s = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let s = s.replace(['\n', '\r', '\t'], " ");
        if s.chars().count() > 60 {
            format!("{}…", s.chars().take(59).collect::<String>())
        } else {
            s
        }
    };
    let cells: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| row.iter().map(text).collect())
        .collect();
    let mut widths: Vec<usize> = r.columns.iter().map(|c| c.name.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |items: Vec<&str>| -> String {
        items
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(r.columns.iter().map(|c| c.name.as_str()).collect());
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out.push_str(&format!(
        "({} row{}{}, {} ms)\n",
        r.stats.rows,
        if r.stats.rows == 1 { "" } else { "s" },
        if r.stats.truncated { ", truncated" } else { "" },
        r.stats.elapsed_ms
    ));
    out
}
