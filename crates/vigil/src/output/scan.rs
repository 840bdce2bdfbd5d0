//! Scan results as a table, CSV or JSON lines, and the `--stats` summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde_json::{Map, Value, json};
use vigil_core::Severity;
use vigil_detect::WindowsDetector;
use vigil_detect::correlate::{Correlator, Firing};
use vigil_detect::scan::{ScanHit, ScanReport};
use vigil_sigma::RuleInfo;

use crate::cli::ScanFormat;

/// One output row, whatever the format.
struct Row<'a> {
    kind: &'static str,
    rule: &'a RuleInfo,
    hit: &'a ScanHit,
    path: String,
    matched: Vec<(String, String)>,
    group: Option<Vec<(String, String)>>,
    value: Option<f64>,
}

impl Row<'_> {
    fn json(&self) -> Value {
        let m = &self.hit.meta;
        let mut o = json!({
            "kind": self.kind,
            "rule_id": self.rule.id,
            "rule_title": self.rule.title,
            "level": self.rule.level.as_str(),
            "tags": self.rule.tags,
            "techniques": self.rule.techniques,
            "tactics": self.rule.tactics,
            "timestamp": m.timestamp,
            "computer": m.computer,
            "channel": m.channel,
            "event_id": m.event_id,
            "record_id": m.record_id,
            "path": self.path,
            "event_index": self.hit.index,
        });
        let matched: Map<String, Value> = self
            .matched
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        o["matched"] = Value::Object(matched);
        if let Some(g) = &self.group {
            let group: Map<String, Value> = g
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            o["group"] = Value::Object(group);
        }
        if let Some(v) = self.value {
            o["value"] = json!(v);
        }
        o
    }
}

fn rows<'a>(
    detector: &'a WindowsDetector,
    report: &'a ScanReport,
    firings: Option<&'a (Correlator, Vec<Firing>)>,
    min_level: Severity,
) -> Vec<Row<'a>> {
    let path = |h: &ScanHit| report.files[h.file].path.display().to_string();
    let mut rows: Vec<Row<'a>> = report
        .hits
        .iter()
        .map(|h| Row {
            kind: "detection",
            rule: &detector.rules()[h.hit.rule as usize].info,
            hit: h,
            path: path(h),
            matched: h.hit.matched.clone(),
            group: None,
            value: None,
        })
        .collect();
    if let Some((c, fs)) = firings {
        for f in fs {
            let h = &report.hits[f.last_hit];
            rows.push(Row {
                kind: "correlation",
                rule: &c.rules()[f.rule],
                hit: h,
                path: path(h),
                matched: Vec::new(),
                group: Some(f.group.clone()),
                value: Some(f.value),
            });
        }
    }
    rows.retain(|r| r.rule.level >= min_level);
    rows
}

pub fn hits(
    w: &mut dyn Write,
    format: ScanFormat,
    detector: &WindowsDetector,
    report: &ScanReport,
    firings: Option<&(Correlator, Vec<Firing>)>,
    min_level: Severity,
) -> anyhow::Result<()> {
    let rows = rows(detector, report, firings, min_level);
    match format {
        ScanFormat::Jsonl => {
            for r in &rows {
                serde_json::to_writer(&mut *w, &r.json())?;
                w.write_all(b"\n")?;
            }
        }
        ScanFormat::Csv => {
            writeln!(
                w,
                "timestamp,level,rule_id,rule_title,computer,channel,event_id,record_id,path,matched"
            )?;
            for r in &rows {
                let m = &r.hit.meta;
                let matched: Vec<String> = r
                    .matched
                    .iter()
                    .chain(r.group.iter().flatten())
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let cells = [
                    m.timestamp.clone().unwrap_or_default(),
                    r.rule.level.to_string(),
                    r.rule.id.clone(),
                    r.rule.title.clone(),
                    m.computer.clone().unwrap_or_default(),
                    m.channel.clone().unwrap_or_default(),
                    m.event_id.map(|i| i.to_string()).unwrap_or_default(),
                    m.record_id.map(|i| i.to_string()).unwrap_or_default(),
                    r.path.clone(),
                    matched.join("; "),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                writeln!(w, "{}", line.join(","))?;
            }
        }
        ScanFormat::Table => {
            if rows.is_empty() {
                writeln!(w, "no detections")?;
                return Ok(());
            }
            writeln!(
                w,
                "{:<28} {:<13} {:<60} {:<24} {:>6} {:>9}  FILE",
                "TIMESTAMP", "LEVEL", "RULE", "COMPUTER", "EVENT", "RECORD"
            )?;
            for r in &rows {
                let m = &r.hit.meta;
                let file = r.path.rsplit('/').next().unwrap_or(&r.path);
                let title = if r.kind == "correlation" {
                    format!("[correlation] {}", r.rule.title)
                } else {
                    r.rule.title.clone()
                };
                writeln!(
                    w,
                    "{:<28} {:<13} {:<60} {:<24} {:>6} {:>9}  {}",
                    clip(m.timestamp.as_deref().unwrap_or("-"), 28),
                    r.rule.level.as_str(),
                    clip(&title, 60),
                    clip(m.computer.as_deref().unwrap_or("-"), 24),
                    m.event_id.map(|i| i.to_string()).unwrap_or_default(),
                    m.record_id.map(|i| i.to_string()).unwrap_or_default(),
                    file
                )?;
            }
            let mut by_level: BTreeMap<Severity, usize> = BTreeMap::new();
            for r in &rows {
                *by_level.entry(r.rule.level).or_default() += 1;
            }
            let summary: Vec<String> = by_level
                .iter()
                .rev()
                .map(|(l, n)| format!("{n} {l}"))
                .collect();
            writeln!(w, "\n{} detections: {}", rows.len(), summary.join(", "))?;
        }
    }
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The `--stats` summary.
#[derive(Debug)]
pub struct Stats {
    pub rule_files: usize,
    pub rules_loaded: usize,
    pub rules_routed: usize,
    pub rules_invalid: usize,
    pub correlations: usize,
    pub skipped_by: BTreeMap<String, usize>,
    pub files: usize,
    pub events: u64,
    pub routed_events: u64,
    pub evaluations: u64,
    pub record_errors: usize,
    pub hits: usize,
    pub firings: usize,
    pub load_time: Duration,
    pub scan_time: Duration,
    pub total_time: Duration,
}

impl Stats {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let secs = self.scan_time.as_secs_f64();
        let rate = if secs > 0.0 {
            self.events as f64 / secs
        } else {
            0.0
        };
        s.push_str(&format!(
            "rules: {} files, {} detection rules loaded, {} run on Windows events, {} correlation rules, {} invalid\n",
            self.rule_files, self.rules_loaded, self.rules_routed, self.correlations, self.rules_invalid
        ));
        for (reason, n) in &self.skipped_by {
            s.push_str(&format!("  skipped {n}: {reason}\n"));
        }
        s.push_str(&format!(
            "scanned: {} files, {} events, {} unreadable records\n",
            self.files, self.events, self.record_errors
        ));
        let per_event = if self.routed_events > 0 {
            self.evaluations as f64 / self.routed_events as f64
        } else {
            0.0
        };
        s.push_str(&format!(
            "routing: {} events reached rules; prefilter left {:.1} rule evaluations per routed event\n",
            self.routed_events, per_event
        ));
        s.push_str(&format!(
            "found: {} detections, {} correlation firings\n",
            self.hits, self.firings
        ));
        s.push_str(&format!(
            "time: rules {:.2} s, scan {:.2} s ({:.0} events/s), total {:.2} s\n",
            self.load_time.as_secs_f64(),
            secs,
            rate,
            self.total_time.as_secs_f64()
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn long_cells_are_clipped() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
