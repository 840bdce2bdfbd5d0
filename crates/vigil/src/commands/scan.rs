//! `vigil scan`: Sigma rules over event log files, offline.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::ProgressBar;
use vigil_core::Severity;
use vigil_detect::correlate::Correlator;
use vigil_detect::scan::{self, Progress, ScanOptions};
use vigil_detect::{WindowsDetector, WindowsOptions};
use vigil_sigma::DiagnosticKind;

use crate::cli::{ScanArgs, SpecError};
use crate::output::scan as out;

/// Files done on the bar, events read in its message.
struct Bar {
    bar: ProgressBar,
    events: AtomicU64,
}

impl Progress for Bar {
    fn events(&self, n: u64) {
        let total = self.events.fetch_add(n, Ordering::Relaxed) + n;
        self.bar.set_message(format!("{total} events"));
    }
    fn file_done(&self, _path: &Path) {
        self.bar.inc(1);
    }
}

pub fn run(args: &ScanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let min_level: Severity = args.min_level.parse().map_err(|e| SpecError {
        flag: "--min-level",
        value: args.min_level.clone(),
        reason: format!("{e}"),
    })?;

    let set = vigil_sigma::load(&args.rules);
    let files_read = set.files;
    let invalid: Vec<String> = set.diagnostics.iter().map(ToString::to_string).collect();
    let (correlator, corr_diags) = Correlator::new(&set.rules, &set.correlations);
    let (detector, skipped) = WindowsDetector::new(set, &WindowsOptions::default());
    for d in &invalid {
        tracing::warn!("{d}");
    }
    for d in &corr_diags {
        tracing::warn!("{d}");
    }
    if detector.rules().is_empty() && correlator.is_none() {
        return Err(SpecError {
            flag: "--rules",
            value: args
                .rules
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            reason: format!("no valid Sigma rule found in {files_read} rule files"),
        }
        .into());
    }
    let loaded_at = started.elapsed();

    let (files, problems) = scan::discover(&args.paths);
    for p in &problems {
        tracing::warn!("{p}");
    }
    if files.is_empty() {
        return Err(SpecError {
            flag: "PATH",
            value: args
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            reason: "no .evtx, .json, .jsonl or .ndjson file found".into(),
        }
        .into());
    }

    let bar = crate::output::file_progress(files.len() as u64, args.no_progress);
    let options = ScanOptions {
        threads: args.threads,
        min_level,
        keep_events: correlator.is_some(),
    };
    let scan_started = Instant::now();
    let progress = Bar {
        bar: bar.clone(),
        events: AtomicU64::new(0),
    };
    let report = scan::scan(&detector, &files, &options, &progress);
    let scan_time = scan_started.elapsed();
    bar.finish_and_clear();

    let firings = match correlator {
        Some(mut c) => {
            let (f, untimed) = c.run(&report);
            if untimed > 0 {
                tracing::warn!(
                    events = untimed,
                    "events with detections but no SystemTime were left out of correlation"
                );
            }
            Some((c, f))
        }
        None => None,
    };

    for f in &report.files {
        for e in &f.errors {
            tracing::warn!("{e}");
        }
    }

    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    out::hits(
        &mut w,
        args.format,
        &detector,
        &report,
        firings.as_ref(),
        min_level,
    )?;
    w.flush()?;

    if args.stats {
        let mut skipped_by: BTreeMap<String, usize> = BTreeMap::new();
        for d in skipped.iter().filter(|d| d.kind == DiagnosticKind::Skipped) {
            *skipped_by.entry(d.reason.clone()).or_default() += 1;
        }
        let stats = out::Stats {
            rule_files: files_read,
            rules_loaded: detector.rules().len(),
            rules_routed: detector.routed_rules(),
            rules_invalid: invalid.len() + corr_diags.len(),
            correlations: firings.as_ref().map_or(0, |(c, _)| c.rules().len()),
            skipped_by,
            files: report.files.len(),
            events: report.events,
            routed_events: report.routed_events,
            evaluations: report.evaluations,
            record_errors: report.files.iter().map(|f| f.errors.len()).sum(),
            hits: report.hits.len(),
            firings: firings.as_ref().map_or(0, |(_, f)| f.len()),
            load_time: loaded_at,
            scan_time,
            total_time: started.elapsed(),
        };
        eprint!("{}", stats.render());
    }
    Ok(())
}
