//! `vigil ingest`, `vigil deadletter`, `vigil alerts`.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use vigil_core::alert::AlertFilter;
use vigil_core::telemetry::{IntakeCounts, NewDeadLetter};
use vigil_core::{Entity, Severity};
use vigil_formats::FileKind;
use vigil_service::{Intake, Principal, Record, Service};

use crate::cli::{AlertsCommand, DeadletterCommand, IncidentCommand, IngestArgs, SpecError};
use crate::output::{emit, emit_json};

/// Files under `paths` that Vigil reads, in sorted order.
fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot list {}", dir.display()))?
                {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if FileKind::from_path(&path).is_some() {
                        out.push(path);
                    }
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            anyhow::bail!(SpecError {
                flag: "PATH",
                value: p.display().to_string(),
                reason: "no such file or directory".into(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn add(total: &mut IntakeCounts, c: &IntakeCounts) {
    total.accepted += c.accepted;
    total.duplicates += c.duplicates;
    total.rejected += c.rejected;
    total.dead_lettered += c.dead_lettered;
    total.flagged += c.flagged;
}

pub async fn ingest(args: IngestArgs, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    let files = files(&args.paths)?;
    let bar = crate::output::file_progress(files.len() as u64, args.no_progress);
    let mut total = IntakeCounts::default();
    let batch = args.batch.max(1);
    for file in &files {
        let kind = FileKind::from_path(file).context("unknown file kind")?;
        let source = format!("cli:{}", file.display());
        // Reading is CPU work, off the async runtime; batches stream to
        // intake as they fill, so a large file never sits in memory whole.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Intake>(2);
        let reader = {
            let file = file.clone();
            let source = source.clone();
            tokio::task::spawn_blocking(move || {
                let mut records = Vec::with_capacity(batch);
                // Both callbacks below add to it.
                let broken = std::cell::RefCell::new(Vec::new());
                let send = |records: &mut Vec<Record>| {
                    tx.blocking_send(Intake {
                        source: source.clone(),
                        records: std::mem::take(records),
                        broken: std::mem::take(&mut *broken.borrow_mut()),
                        idempotency_key: None,
                    })
                    .is_ok()
                };
                let mut open = true;
                vigil_formats::read_records(
                    &file,
                    kind,
                    0,
                    &mut |r| {
                        records.push(Record {
                            at: vigil_service::At::Text(r.at),
                            bytes: r.json,
                        });
                        if open && records.len() >= batch {
                            open = send(&mut records);
                        }
                    },
                    &mut |e| {
                        broken.borrow_mut().push(NewDeadLetter::new(
                            &source,
                            format!("{}: {}", e.location, e.reason),
                            b"",
                        ))
                    },
                );
                if open && (!records.is_empty() || !broken.borrow().is_empty()) {
                    send(&mut records);
                }
            })
        };
        while let Some(intake) = rx.recv().await {
            let outcome = svc.ingest(p, Some(&args.tenant), intake).await?;
            add(&mut total, &outcome.counts);
            bar.set_message(format!("{} events", total.accepted));
        }
        reader.await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let detection = if args.no_detect {
        None
    } else {
        let (engine, _) = svc.detection_engine().await?;
        svc.drain_detection(&engine).await?
    };
    if args.out.json {
        emit_json(&json!({
            "files": files.len(),
            "accepted": total.accepted,
            "duplicates": total.duplicates,
            "rejected": total.rejected,
            "dead_lettered": total.dead_lettered,
            "flagged_future": total.flagged,
            "detection": detection.map(|d| json!({
                "events": d.events,
                "observations": d.observations,
                "alerts_touched": d.alerts_touched,
            })),
        }))
    } else {
        let mut text = format!(
            "{} files: {} events accepted ({} already stored), {} dead-lettered",
            files.len(),
            total.accepted,
            total.duplicates,
            total.dead_lettered
        );
        match detection {
            Some(d) => text.push_str(&format!(
                "\ndetection: {} events, {} matches, {} alerts created or updated",
                d.events, d.observations, d.alerts_touched
            )),
            None if args.no_detect => {}
            None => text.push_str("\ndetection: the running server does it"),
        }
        emit(&text)
    }
}

pub async fn deadletter(c: DeadletterCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    let DeadletterCommand::List {
        tenant,
        after,
        limit,
        out,
    } = c;
    let items = svc.dead_letters(p, &tenant, after, limit).await?;
    if out.json {
        return emit_json(&json!(items));
    }
    if items.is_empty() {
        return emit("no dead letters");
    }
    let mut text = String::new();
    for d in &items {
        let raw: String = d.raw.chars().take(80).collect();
        text.push_str(&format!(
            "{}  {}  {}  {}\n    {}\n",
            d.id, d.received_at, d.source, d.reason, raw
        ));
    }
    emit(&text)
}

pub async fn alerts(c: AlertsCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    let AlertsCommand::List {
        tenant,
        severity,
        rule,
        entity,
        limit,
        out,
    } = c;
    let severities = match &severity {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim().parse::<Severity>().map_err(|e| SpecError {
                    flag: "--severity",
                    value: s.to_owned(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let entity = entity
        .as_deref()
        .map(|e| {
            e.parse::<Entity>().map_err(|err| SpecError {
                flag: "--entity",
                value: e.to_owned(),
                reason: err.to_string(),
            })
        })
        .transpose()?;
    let filter = AlertFilter {
        severities,
        rule_id: rule,
        entity,
        limit,
        ..Default::default()
    };
    let items = svc.list_alerts(p, &tenant, filter).await?;
    if out.json {
        return emit_json(&json!(items));
    }
    if items.is_empty() {
        return emit("no alerts");
    }
    let mut text = String::new();
    for a in &items {
        text.push_str(&format!(
            "{:<8} {:>5}x  {}  {}  {}\n",
            a.severity.as_str(),
            a.count,
            a.last_activity,
            a.rule_title,
            a.entities
                .iter()
                .take(4)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    emit(&text)
}

pub async fn incidents(c: IncidentCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    match c {
        IncidentCommand::List {
            tenant,
            status,
            limit,
            out,
        } => {
            let statuses = status
                .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect())
                .unwrap_or_default();
            let items = svc
                .list_incidents(
                    p,
                    &tenant,
                    vigil_service::IncidentFilter {
                        statuses,
                        limit,
                        ..Default::default()
                    },
                )
                .await?;
            if out.json {
                let v: Vec<_> = items.iter().map(|r| &r.incident).collect();
                return emit_json(&json!(v));
            }
            if items.is_empty() {
                return emit("no incidents");
            }
            let mut text = String::new();
            for r in &items {
                let i = &r.incident;
                text.push_str(&format!(
                    "{}  {:<8} {:<17} {:>4} alerts  {}\n",
                    i.id,
                    i.severity().as_str(),
                    i.status.as_str(),
                    i.alert_count,
                    i.title
                ));
            }
            emit(&text)
        }
        IncidentCommand::Show { tenant, id, out } => {
            let id = id.parse().map_err(|_| SpecError {
                flag: "ID",
                value: id.clone(),
                reason: "not an incident id".into(),
            })?;
            let view = svc.incident(p, &tenant, id).await?;
            if out.json {
                return emit_json(&json!({
                    "incident": view.record.incident,
                    "major": view.record.major,
                    "ir_engagement": view.record.ir_engagement,
                    "alerts": view.alerts,
                    "activity": view.activity,
                }));
            }
            let i = &view.record.incident;
            let mut text = format!(
                "{} ({}, {}): {}\n{} alerts, {} to {}\nentities: {}\n\nactivity:\n",
                i.id,
                i.severity(),
                i.status.as_str(),
                i.title,
                i.alert_count,
                i.first_activity,
                i.last_activity,
                i.entities
                    .iter()
                    .take(10)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if let Some(m) = view.record.major.as_ref().filter(|m| m.major) {
                let mut block =
                    String::from("MAJOR INCIDENT: outside the MDR scope, engage the IR provider\n");
                for c in &m.criteria {
                    block.push_str(&format!("  criterion {}: {}\n", c.criterion, c.summary));
                }
                if let Some(e) = &view.record.ir_engagement {
                    block.push_str(&format!(
                        "  IR engagement: {} (requested {})\n",
                        e.status, e.requested_at
                    ));
                }
                block.push('\n');
                let at = text.rfind("activity:\n").unwrap_or(text.len());
                text.insert_str(at, &block);
            }
            for a in &view.activity {
                text.push_str(&format!("  {}  {}  {}\n", a.at, a.action, a.details));
            }
            emit(&text)
        }
    }
}
