//! The detection engine alone: all SigmaHQ Windows rules over the EVTX
//! attack samples' events, decoded beforehand. One thread.
//!
//! `cargo bench -p vigil-detect --bench engine`. Needs the corpus
//! (`$VIGIL_CORPUS` or `../shared/corpus`); says so and does nothing
//! without it.

use std::sync::OnceLock;

use divan::counter::ItemsCount;
use vigil_detect::scan::discover;
use vigil_detect::{Detector, Scratch, WindowsDetector, WindowsOptions};
use vigil_formats::FlatEvent;
use vigil_formats::read::read_file;

struct Fixture {
    detector: WindowsDetector,
    events: Vec<FlatEvent>,
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let corpus = vigil_testkit::corpus()?;
        let set = vigil_sigma::load(&[corpus.join("sigma/rules/windows")]);
        let (detector, _) = WindowsDetector::new(set, &WindowsOptions::default());
        let (files, _) = discover(&[corpus.join("evtx-attack-samples")]);
        let mut events = Vec::new();
        for (path, kind) in files {
            read_file(
                &path,
                kind,
                1,
                &mut |_, e| events.push(e.clone()),
                &mut |_| {},
            );
        }
        Some(Fixture { detector, events })
    })
    .as_ref()
}

fn main() {
    if fixture().is_none() {
        eprintln!("skipping the engine benchmark: the test corpus is absent (set VIGIL_CORPUS)");
        return;
    }
    divan::main();
}

/// Every event once through the routed, prefiltered detector.
#[divan::bench(sample_count = 20)]
fn detect_all_windows_rules(bencher: divan::Bencher) {
    let Some(f) = fixture() else { return };
    bencher
        .counter(ItemsCount::new(f.events.len()))
        .with_inputs(|| (Scratch::default(), Vec::new()))
        .bench_local_refs(|(scratch, out)| {
            let mut hits = 0usize;
            f.detector
                .detect_each(&f.events, scratch, out, |_, found| hits += found.len());
            divan::black_box(hits)
        });
}

/// The same without the literal prefilter: routing alone.
#[divan::bench(sample_count = 5)]
fn detect_without_prefilter(bencher: divan::Bencher) {
    static D: OnceLock<Option<WindowsDetector>> = OnceLock::new();
    let Some(f) = fixture() else { return };
    let Some(detector) = D
        .get_or_init(|| {
            let corpus = vigil_testkit::corpus()?;
            let set = vigil_sigma::load(&[corpus.join("sigma/rules/windows")]);
            Some(
                WindowsDetector::new(
                    set,
                    &WindowsOptions {
                        no_prefilter: true,
                        ..WindowsOptions::default()
                    },
                )
                .0,
            )
        })
        .as_ref()
    else {
        return;
    };
    bencher
        .counter(ItemsCount::new(f.events.len()))
        .with_inputs(|| (Scratch::default(), Vec::new()))
        .bench_local_refs(|(scratch, out)| {
            let mut hits = 0usize;
            for e in &f.events {
                detector.detect(e, scratch, out);
                hits += out.len();
            }
            divan::black_box(hits)
        });
}
