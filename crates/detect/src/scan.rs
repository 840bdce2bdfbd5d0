//! Scanning files: discover telemetry files, decode them in parallel (across
//! files, and within a large EVTX file across its chunks), detect, and
//! report hits in a deterministic order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use vigil_core::Severity;
use vigil_formats::read::{Position, RecordError, read_file};
use vigil_formats::{FileKind, FlatEvent};

use crate::{Detector, Hit, Scratch, WindowsDetector};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Hits of rules below this level are dropped (kept when `keep_events`
    /// is set, since correlations count them: filter those at output).
    pub min_level: Severity,
    /// Keep a copy of each hit event (needed for correlation).
    pub keep_events: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: 0,
            min_level: Severity::Informational,
            keep_events: false,
        }
    }
}

/// Where a hit event came from and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub timestamp: Option<String>,
    pub computer: Option<String>,
    pub channel: Option<String>,
    pub event_id: Option<u32>,
    /// `System/EventRecordID`, else the EVTX record header's id.
    pub record_id: Option<u64>,
}

impl EventMeta {
    fn of(event: &FlatEvent, pos: Position) -> Self {
        EventMeta {
            timestamp: event.system_time().map(str::to_owned),
            computer: event.computer().map(str::to_owned),
            channel: event.channel().map(str::to_owned),
            event_id: event.event_id(),
            record_id: event.record_id().or(pos.header_record_id),
        }
    }
}

/// One rule matching one event of one file.
#[derive(Debug, Clone)]
pub struct ScanHit {
    /// Index into the scanned files.
    pub file: usize,
    /// 0-based position of the event in its file.
    pub index: u64,
    pub meta: EventMeta,
    pub hit: Hit,
    pub event: Option<FlatEvent>,
}

/// What one file gave.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub path: PathBuf,
    pub events: u64,
    pub errors: Vec<RecordError>,
    pub routed_events: u64,
    pub evaluations: u64,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// In file order, then event order, then rule order.
    pub hits: Vec<ScanHit>,
    pub files: Vec<FileReport>,
    pub events: u64,
    /// Events that reached at least one rule after routing.
    pub routed_events: u64,
    /// Rule evaluations after routing and the prefilter.
    pub evaluations: u64,
}

/// Progress, reported as work completes.
pub trait Progress: Sync {
    fn events(&self, _n: u64) {}
    fn file_done(&self, _path: &Path) {}
}

/// No progress reporting.
#[derive(Debug)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// The telemetry files under `paths` (files as given; directories
/// recursively, sorted), by extension. A path given more than once is
/// scanned more than once.
pub fn discover(paths: &[PathBuf]) -> (Vec<(PathBuf, FileKind)>, Vec<String>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_file() {
            match FileKind::from_path(p) {
                Some(k) => files.push((p.clone(), k)),
                None => problems.push(format!(
                    "{}: not a telemetry file (expected .evtx, .json, .jsonl or .ndjson)",
                    p.display()
                )),
            }
        } else if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found, &mut problems);
            found.sort_by(|a, b| a.0.cmp(&b.0));
            files.extend(found);
        } else {
            problems.push(format!("{}: no such file or directory", p.display()));
        }
    }
    (files, problems)
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, FileKind)>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return problems.push(format!("{}: {e}", dir.display())),
    };
    for entry in entries.flatten() {
        let p = entry.path();
        // Directories behind symbolic links are not followed (no loops).
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            walk(&p, out, problems);
        } else if let Some(k) = FileKind::from_path(&p) {
            out.push((p, k));
        }
    }
}

/// Scan `files` with `detector`.
pub fn scan(
    detector: &WindowsDetector,
    files: &[(PathBuf, FileKind)],
    options: &ScanOptions,
    progress: &dyn Progress,
) -> ScanReport {
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    // Many files: one thread per file. Few: the EVTX decoder's own workers.
    let decoder_threads = if files.len() >= threads { 1 } else { threads };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    let total = AtomicU64::new(0);
    let work = || {
        files
            .par_iter()
            .enumerate()
            .map(|(i, (path, kind))| {
                scan_file(
                    detector,
                    i,
                    path,
                    *kind,
                    decoder_threads,
                    options,
                    progress,
                    &total,
                )
            })
            .collect::<Vec<_>>()
    };
    let per_file = match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    let mut report = ScanReport {
        events: total.load(Ordering::Relaxed),
        ..ScanReport::default()
    };
    for (file, hits) in per_file {
        report.routed_events += file.routed_events;
        report.evaluations += file.evaluations;
        report.files.push(file);
        report.hits.extend(hits);
    }
    report
}

#[allow(clippy::too_many_arguments)]
fn scan_file(
    detector: &WindowsDetector,
    file_index: usize,
    path: &Path,
    kind: FileKind,
    decoder_threads: usize,
    options: &ScanOptions,
    progress: &dyn Progress,
    total: &AtomicU64,
) -> (FileReport, Vec<ScanHit>) {
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    let mut hits = Vec::new();
    let mut errors = Vec::new();
    let mut pending = 0u64;
    let stats = read_file(
        path,
        kind,
        decoder_threads,
        &mut |pos, event| {
            detector.detect(event, &mut scratch, &mut found);
            for hit in found.drain(..) {
                if !options.keep_events
                    && detector.rules()[hit.rule as usize].info.level < options.min_level
                {
                    continue;
                }
                hits.push(ScanHit {
                    file: file_index,
                    index: pos.index,
                    meta: EventMeta::of(event, pos),
                    hit,
                    event: options.keep_events.then(|| event.clone()),
                });
            }
            pending += 1;
            if pending == 1024 {
                progress.events(pending);
                pending = 0;
            }
        },
        &mut |e| errors.push(e),
    );
    progress.events(pending);
    progress.file_done(path);
    total.fetch_add(stats.events, Ordering::Relaxed);
    let report = FileReport {
        path: path.to_owned(),
        events: stats.events,
        errors,
        routed_events: scratch.routed_events,
        evaluations: scratch.evaluations,
    };
    (report, hits)
}
