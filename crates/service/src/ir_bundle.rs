//! The IR handoff bundle (PRODUCT.md §11; docs/major-incidents.md): one zip
//! holding everything an incident-response team needs to take over an
//! incident, with `MANIFEST.sha256` (sha256sum's format) over every other
//! file for chain of custody. Generating one is audited.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::IpAddr;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_core::audit::AuditEntry;
use vigil_core::identity::Principal;
use vigil_core::incident::IncidentId;
use vigil_core::{Entity, EntityKind, Timestamp};

use crate::major_facts::flat;
use crate::{IncidentView, Result, Service, ServiceError};

/// The files of a bundle, in the order they are written; the manifest
/// comes last.
pub const BUNDLE_FILES: [&str; 10] = [
    "summary.json",
    "summary.html",
    "timeline.csv",
    "indicators.stix.json",
    "indicators.csv",
    "assets.csv",
    "evidence.jsonl",
    "actions.json",
    "audit.jsonl",
    "MANIFEST.sha256",
];

/// A generated bundle.
#[derive(Debug, Clone)]
pub struct IrBundle {
    /// The zip archive.
    pub bytes: Vec<u8>,
    /// A name for the file: `ir-bundle-<incident>.zip`.
    pub file_name: String,
    /// Each file and its SHA-256 (hex), as in the manifest.
    pub manifest: Vec<(String, String)>,
}

impl Service {
    /// Build the IR handoff bundle of an incident. Anyone who may read the
    /// incident may hand it over; the summary included is the latest the
    /// caller may see (customers: published only), else one drafted from
    /// the evidence. Audited as `incident.ir_bundle` with the manifest's
    /// hash.
    pub async fn ir_bundle(&self, p: &Principal, tenant: &str, id: IncidentId) -> Result<IrBundle> {
        // Reading the incident checks (and, for provider roles, audits)
        // that the caller may see it.
        let view = self.incident(p, tenant, id).await?;
        let t = self.load_tenant(tenant).await?;
        let now = self.clock.now();
        let g = self.gather(t.id, id).await?;
        let provider = matches!(p, Principal::Operator(_))
            || matches!(p, Principal::User { role, .. } if role.is_provider());
        let latest = self
            .store
            .summaries(id)
            .await?
            .into_iter()
            .rfind(|v| provider || v.published);
        let summary = match latest {
            Some(v) => json!({
                "source": if v.published { "published" } else { "draft" },
                "version": v.version,
                "author": v.author,
                "at": v.at,
                "body": v.summary,
            }),
            None => json!({
                "source": "drafted from the evidence for this bundle",
                "body": crate::summaries::draft_from(&view),
            }),
        };
        let tasks = self.store.tasks(id).await?;
        let audit = self.incident_audit(t.id, id, &tasks).await?;
        let evidence: BTreeSet<i64> = g.alert_events.values().flatten().copied().collect();
        let mut alerts_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (alert, seqs) in &g.alert_events {
            for s in seqs {
                alerts_of.entry(*s).or_default().push(alert.clone());
            }
        }
        let i = &view.record.incident;
        let incident = json!({
            "id": i.id,
            "title": i.title,
            "severity": i.severity(),
            "status": i.status,
            "classification": view.record.classification,
            "determination": view.record.determination,
            "first_activity": i.first_activity,
            "last_activity": i.last_activity,
            "alert_count": i.alert_count,
            "tactics": i.tactics,
            "techniques": i.techniques,
            "major": view.record.major.as_ref().is_some_and(|m| m.major),
            "ir_recommended": view.record.major.as_ref().is_some_and(|m| m.ir_recommended),
            "major_criteria": view.record.major.as_ref().map(|m| m.criteria.clone()).unwrap_or_default(),
            "ir_engagement": view.record.ir_engagement,
        });
        let summary_json = json!({
            "bundle": {
                "generated_at": now,
                "generated_by": p.actor().to_text(),
                "tenant": {"slug": t.slug, "name": t.name},
                "ir_provider": t.settings.ir_provider,
            },
            "incident": incident,
            "summary": summary,
            "alerts": view.alerts.iter().map(|a| json!({
                "id": a.id, "rule": a.rule_title, "severity": a.severity,
                "first_activity": a.first_activity, "last_activity": a.last_activity,
                "count": a.count, "entities": a.entities,
            })).collect::<Vec<_>>(),
        });
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let pretty = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
        files.push(("summary.json".into(), pretty(&summary_json)));
        files.push((
            "summary.html".into(),
            summary_html(&summary_json).into_bytes(),
        ));
        files.push((
            "timeline.csv".into(),
            timeline_csv(&g.events, &evidence, &alerts_of),
        ));
        let indicators = indicators(&view);
        files.push((
            "indicators.stix.json".into(),
            pretty(&stix_bundle(&view, &indicators, now)),
        ));
        files.push(("indicators.csv".into(), indicators_csv(&indicators)));
        files.push(("assets.csv".into(), assets_csv(&view)));
        files.push((
            "evidence.jsonl".into(),
            evidence_jsonl(&g.events, &evidence, &alerts_of),
        ));
        files.push((
            "actions.json".into(),
            pretty(&json!({
                "tasks": tasks,
                "activity": view.activity,
                "ir_engagement": view.record.ir_engagement,
            })),
        ));
        let mut audit_lines = Vec::new();
        for r in &audit {
            audit_lines.extend(serde_json::to_vec(r).unwrap_or_default());
            audit_lines.push(b'\n');
        }
        files.push(("audit.jsonl".into(), audit_lines));
        let manifest: Vec<(String, String)> = files
            .iter()
            .map(|(name, bytes)| (name.clone(), vigil_core::hex::lower(&Sha256::digest(bytes))))
            .collect();
        let manifest_text: String = manifest
            .iter()
            .map(|(name, sum)| format!("{sum}  {name}\n"))
            .collect();
        let manifest_hash = vigil_core::hex::lower(&Sha256::digest(manifest_text.as_bytes()));
        files.push(("MANIFEST.sha256".into(), manifest_text.into_bytes()));
        let bytes = zip(&files, now)
            .map_err(|e| ServiceError::Conflict(format!("IR bundle archive: {e}")))?;
        self.store
            .append_audit(AuditEntry::new(
                now,
                &p.actor(),
                "incident.ir_bundle",
                Some(t.id),
                format!("incident:{id}"),
                json!({"manifest_sha256": manifest_hash, "files": files.len(), "bytes": bytes.len()}),
            ))
            .await?;
        Ok(IrBundle {
            bytes,
            file_name: format!("ir-bundle-{id}.zip"),
            manifest,
        })
    }

    /// The audit records about the incident and its tasks, in order.
    async fn incident_audit(
        &self,
        tenant: vigil_core::TenantId,
        id: IncidentId,
        tasks: &[vigil_core::task::Task],
    ) -> Result<Vec<vigil_core::audit::AuditRecord>> {
        let mut targets: BTreeSet<String> =
            tasks.iter().map(|t| format!("task:{}", t.id)).collect();
        targets.insert(format!("incident:{id}"));
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.tenant_audit_page(tenant, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            out.extend(page.into_iter().filter(|r| targets.contains(&r.target)));
        }
        Ok(out)
    }
}

/// Write the files as a zip archive, deflated, stamped `now`.
fn zip(files: &[(String, Vec<u8>)], now: Timestamp) -> std::result::Result<Vec<u8>, String> {
    use zip::write::SimpleFileOptions;
    let dt = now.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(dt.year()).unwrap_or(1980),
        u8::try_from(dt.month()).unwrap_or(1),
        u8::try_from(dt.day()).unwrap_or(1),
        u8::try_from(dt.hour()).unwrap_or(0),
        u8::try_from(dt.minute()).unwrap_or(0),
        u8::try_from(dt.second()).unwrap_or(0),
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(name.as_str(), options)
            .map_err(|e| e.to_string())?;
        w.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(w.finish().map_err(|e| e.to_string())?.into_inner())
}

/// One CSV cell: quoted when it holds a separator, quote or line break;
/// a leading `= + @` or tab is prefixed with `'` so spreadsheets do not
/// run it as a formula.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn csv_line(out: &mut Vec<u8>, cells: &[&str]) {
    let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    out.extend(line.join(",").as_bytes());
    out.extend(b"\r\n");
}

/// The incident's events in time order (then arrival order).
fn timeline_csv(
    events: &[vigil_core::telemetry::StoredEvent],
    evidence: &BTreeSet<i64>,
    alerts_of: &BTreeMap<i64, Vec<String>>,
) -> Vec<u8> {
    let mut sorted: Vec<_> = events.iter().collect();
    sorted.sort_by_key(|e| (e.event.time, e.seq));
    let mut out = Vec::new();
    csv_line(
        &mut out,
        &[
            "time", "seq", "shape", "host", "event_id", "channel", "user", "detail", "evidence",
            "alerts",
        ],
    );
    for e in sorted {
        let f = flat(e);
        let get = |names: &[&str]| -> String {
            f.as_ref()
                .and_then(|f| names.iter().find_map(|n| f.get(n)))
                .unwrap_or_default()
                .to_owned()
        };
        csv_line(
            &mut out,
            &[
                &e.event.time.to_string(),
                &e.seq.to_string(),
                e.event.shape,
                &get(&["Computer"]),
                &get(&["EventID"]),
                &get(&["Channel", "eventSource"]),
                &get(&["User", "SubjectUserName", "userIdentity.userName"]),
                &get(&[
                    "CommandLine",
                    "ScriptBlockText",
                    "eventName",
                    "TargetFilename",
                    "ObjectName",
                ]),
                if evidence.contains(&e.seq) { "yes" } else { "" },
                &alerts_of
                    .get(&e.seq)
                    .map(|a| a.join(";"))
                    .unwrap_or_default(),
            ],
        );
    }
    out
}

/// The alerts' evidence events, one JSON object a line, in time order.
fn evidence_jsonl(
    events: &[vigil_core::telemetry::StoredEvent],
    evidence: &BTreeSet<i64>,
    alerts_of: &BTreeMap<i64, Vec<String>>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events.iter().filter(|e| evidence.contains(&e.seq)) {
        let record: Value = serde_json::from_str(&e.event.raw)
            .unwrap_or_else(|_| Value::String(e.event.raw.clone()));
        let line = json!({
            "seq": e.seq,
            "time": e.event.time,
            "shape": e.event.shape,
            "content_sha256": e.event.content_hash,
            "alerts": alerts_of.get(&e.seq),
            "record": record,
        });
        out.extend(serde_json::to_vec(&line).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

/// An indicator: its entity and STIX pattern.
struct Indicator {
    entity: Entity,
    pattern: String,
}

/// A STIX pattern string literal: `\` and `'` escaped.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// File hashes, public addresses, domains and URLs as STIX indicators
/// (private and loopback addresses are assets, not indicators).
fn indicators(view: &IncidentView) -> Vec<Indicator> {
    let mut out = Vec::new();
    for e in &view.record.incident.entities {
        let pattern = match e.kind {
            EntityKind::FileHash => {
                let algo = match e.value.len() {
                    32 => "MD5",
                    40 => "SHA-1",
                    64 => "SHA-256",
                    _ => continue,
                };
                format!("[file:hashes.'{algo}' = {}]", literal(&e.value))
            }
            EntityKind::Ip => match e.value.parse::<IpAddr>() {
                Ok(ip) if is_public(ip) => {
                    let kind = if ip.is_ipv4() {
                        "ipv4-addr"
                    } else {
                        "ipv6-addr"
                    };
                    format!("[{kind}:value = {}]", literal(&ip.to_string()))
                }
                _ => continue,
            },
            EntityKind::Domain => format!("[domain-name:value = {}]", literal(&e.value)),
            EntityKind::Url => format!("[url:value = {}]", literal(&e.value)),
            _ => continue,
        };
        out.push(Indicator {
            entity: e.clone(),
            pattern,
        });
    }
    out
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast())
        }
        IpAddr::V6(v) => {
            !(v.is_loopback()
                || v.is_unspecified()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

fn indicators_csv(indicators: &[Indicator]) -> Vec<u8> {
    let mut out = Vec::new();
    csv_line(&mut out, &["type", "value", "stix_pattern"]);
    for i in indicators {
        csv_line(
            &mut out,
            &[i.entity.kind.as_str(), &i.entity.value, &i.pattern],
        );
    }
    out
}

/// STIX 2.1 time: UTC with milliseconds.
fn stix_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn stix_id(kind: &str) -> String {
    format!("{kind}--{}", uuid::Uuid::new_v4())
}

/// The indicators as a STIX 2.1 bundle: the provider's identity, the
/// incident, one indicator each related to it, and a report naming them all.
fn stix_bundle(view: &IncidentView, indicators: &[Indicator], now: Timestamp) -> Value {
    let at = stix_time(now);
    let i = &view.record.incident;
    let identity = stix_id("identity");
    let incident = stix_id("incident");
    let mut objects = vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": identity,
            "created": at, "modified": at,
            "name": "Vigil managed detection and response",
            "identity_class": "organization",
        }),
        json!({
            "type": "incident", "spec_version": "2.1", "id": incident,
            "created": at, "modified": at, "created_by_ref": identity,
            "name": i.title,
            "description": format!(
                "Vigil incident {} ({} severity, {} alerts, {} to {})",
                i.id, i.severity(), i.alert_count, i.first_activity, i.last_activity
            ),
        }),
    ];
    let valid_from = stix_time(i.first_activity);
    for ind in indicators {
        let id = stix_id("indicator");
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": at, "modified": at, "created_by_ref": identity,
            "name": format!("{} {}", ind.entity.kind, ind.entity.value),
            "description": format!(
                "Seen in the alerts of Vigil incident {} ({})",
                i.id, i.title
            ),
            "indicator_types": ["malicious-activity"],
            "pattern": ind.pattern, "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": valid_from,
        }));
        objects.push(json!({
            "type": "relationship", "spec_version": "2.1", "id": stix_id("relationship"),
            "created": at, "modified": at, "created_by_ref": identity,
            "relationship_type": "related-to", "source_ref": id, "target_ref": incident,
        }));
    }
    let refs: Vec<Value> = objects.iter().map(|o| o["id"].clone()).collect();
    objects.push(json!({
        "type": "report", "spec_version": "2.1", "id": stix_id("report"),
        "created": at, "modified": at, "created_by_ref": identity,
        "name": format!("IR handoff: {}", i.title),
        "report_types": ["threat-report"],
        "published": at,
        "object_refs": refs,
    }));
    json!({"type": "bundle", "id": stix_id("bundle"), "objects": objects})
}

/// Devices, users, mailboxes, cloud resources and internal addresses, with
/// the analysts' verdicts and how many alerts name each.
fn assets_csv(view: &IncidentView) -> Vec<u8> {
    let mut out = Vec::new();
    csv_line(&mut out, &["kind", "value", "verdict", "alerts"]);
    for e in &view.record.incident.entities {
        let asset = match e.kind {
            EntityKind::Device
            | EntityKind::User
            | EntityKind::Mailbox
            | EntityKind::CloudResource => true,
            EntityKind::Ip => e.value.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip)),
            _ => false,
        };
        if !asset {
            continue;
        }
        let verdict = view
            .verdicts
            .iter()
            .find(|(v, _)| v == e)
            .map(|(_, v)| v.as_str().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let alerts = view
            .alerts
            .iter()
            .filter(|a| a.entities.contains(e))
            .count();
        csv_line(
            &mut out,
            &[e.kind.as_str(), &e.value, &verdict, &alerts.to_string()],
        );
    }
    out
}

/// HTML-escaped text (the one escaper the service uses).
fn esc(text: &str) -> String {
    crate::render::escape_html(text)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The summary as a standalone page, every value escaped.
fn summary_html(s: &Value) -> String {
    let i = &s["incident"];
    let mut h = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>IR handoff</title></head><body>\n",
    );
    h.push_str(&format!(
        "<h1>IR handoff: {}</h1>\n",
        esc(&text_of(&i["title"]))
    ));
    h.push_str("<table>\n");
    for key in [
        "id",
        "severity",
        "status",
        "classification",
        "determination",
        "first_activity",
        "last_activity",
        "alert_count",
        "major",
        "ir_recommended",
    ] {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            esc(key),
            esc(&text_of(&i[key]))
        ));
    }
    h.push_str("</table>\n");
    if i["major"] == Value::Bool(true) {
        h.push_str("<p><strong>Major incident: outside the scope of managed detection and response. Engage your incident-response provider.</strong></p>\n");
    }
    h.push_str("<h2>Criteria met</h2>\n<ul>\n");
    for c in i["major_criteria"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<li><b>{}</b>: {}</li>\n",
            esc(&text_of(&c["criterion"])),
            esc(&text_of(&c["summary"]))
        ));
    }
    h.push_str("</ul>\n");
    let body = &s["summary"]["body"];
    h.push_str(&format!(
        "<h2>Investigation summary ({})</h2>\n",
        esc(&text_of(&s["summary"]["source"]))
    ));
    for (key, title) in [
        ("what_happened", "What happened"),
        ("scope_and_impact", "Scope and impact"),
        ("root_cause", "Root cause"),
    ] {
        h.push_str(&format!(
            "<h3>{title}</h3>\n<p>{}</p>\n",
            esc(&text_of(&body[key]))
        ));
    }
    for (key, title) in [
        ("timeline_highlights", "Timeline highlights"),
        ("indicators", "Indicators"),
        ("expert_actions", "Actions the experts took"),
        ("customer_actions", "Actions the customer must take"),
    ] {
        h.push_str(&format!("<h3>{title}</h3>\n<ul>\n"));
        for item in body[key].as_array().into_iter().flatten() {
            h.push_str(&format!("<li>{}</li>\n", esc(&text_of(item))));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2>Alerts</h2>\n<ul>\n");
    for a in s["alerts"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<li>{} ({}, {} matches, from {})</li>\n",
            esc(&text_of(&a["rule"])),
            esc(&text_of(&a["severity"])),
            esc(&text_of(&a["count"])),
            esc(&text_of(&a["first_activity"]))
        ));
    }
    h.push_str("</ul>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
    }

    #[test]
    fn stix_literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("a'b\\c"), "'a\\'b\\\\c'");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn private_addresses_are_not_indicators() {
        for ip in ["10.0.0.1", "192.168.1.5", "127.0.0.1", "fe80::1", "fd00::1"] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        assert!(is_public("203.0.113.9".parse().expect("ip")));
    }
}
