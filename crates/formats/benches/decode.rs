//! Decoding alone, in one process: every EVTX attack sample through the
//! `evtx` crate's JSON rendering and Vigil's flattening, one thread. This
//! is Vigil's own parsing floor (the `evtx_dump` figure in BENCHMARKS.md
//! also pays a process start per file).
//!
//! Also single records through `decode_record` in both Windows JSON shapes.
//!
//! `cargo bench -p vigil-formats --bench decode`. Needs the corpus.

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::counter::ItemsCount;
use vigil_formats::FileKind;
use vigil_formats::read::read_file;

fn files() -> Option<&'static Vec<PathBuf>> {
    static F: OnceLock<Option<Vec<PathBuf>>> = OnceLock::new();
    F.get_or_init(|| {
        let root = vigil_testkit::corpus()?.join("evtx-attack-samples");
        Some(vigil_testkit::files_with_extension(&root, "evtx"))
    })
    .as_ref()
}

fn main() {
    if files().is_none() {
        eprintln!("skipping the decode benchmark: the test corpus is absent (set VIGIL_CORPUS)");
        return;
    }
    divan::main();
}

/// All 277 files, decoded and flattened, one decoder thread.
#[divan::bench(sample_count = 10)]
fn decode_attack_samples(bencher: divan::Bencher) {
    let Some(files) = files() else { return };
    bencher.counter(ItemsCount::new(8255usize)).bench(|| {
        let mut events = 0usize;
        for f in files {
            read_file(
                f,
                FileKind::Evtx,
                1,
                &mut |_, e| events += e.len(),
                &mut |_| {},
            );
        }
        divan::black_box(events)
    });
}

/// One Winlogbeat (ECS) Sysmon record through `decode_record`: shape
/// recognition, the `winlog` mapping, logsource, time and entities.
#[divan::bench]
fn decode_winlogbeat_record(bencher: divan::Bencher) {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/windows_ecs.jsonl"
    );
    let text = std::fs::read_to_string(fixture).unwrap_or_default();
    let record = text.lines().next().unwrap_or("{}").as_bytes().to_vec();
    bencher
        .counter(divan::counter::BytesCount::new(record.len()))
        .bench(|| divan::black_box(vigil_formats::decode_record(divan::black_box(&record))));
}

/// The same event in evtx_dump's shape, for comparison.
#[divan::bench]
fn decode_evtx_dump_record(bencher: divan::Bencher) {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/windows_evtx.jsonl"
    );
    let text = std::fs::read_to_string(fixture).unwrap_or_default();
    let record = text.lines().next().unwrap_or("{}").as_bytes().to_vec();
    bencher
        .counter(divan::counter::BytesCount::new(record.len()))
        .bench(|| divan::black_box(vigil_formats::decode_record(divan::black_box(&record))));
}

/// Every sample record's JSON (as `evtx_dump` renders it), read once.
fn records() -> &'static Vec<Vec<u8>> {
    static R: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    R.get_or_init(|| {
        let mut out = Vec::new();
        for f in files().into_iter().flatten() {
            vigil_formats::read_records(
                f,
                FileKind::Evtx,
                0,
                &mut |r| out.push(r.json),
                &mut |_| {},
            );
        }
        out
    })
}

/// Every sample record's JSON through `flatten` into one reused event.
fn flatten_all(
    bencher: divan::Bencher,
    flatten: fn(&[u8], &mut vigil_formats::FlatEvent) -> Result<(), vigil_formats::FlattenError>,
) {
    let records = records();
    let mut event = vigil_formats::FlatEvent::new();
    bencher
        .counter(ItemsCount::new(records.len()))
        .bench_local(|| {
            for r in records {
                let _ = flatten(divan::black_box(r), &mut event);
            }
            divan::black_box(event.fields().count())
        });
}

/// Flattening alone: every sample record's JSON into a `FlatEvent` (the
/// fast path, serde's parser where it declines).
#[divan::bench(sample_count = 20)]
fn flatten_sample_records(bencher: divan::Bencher) {
    flatten_all(bencher, vigil_formats::flatten_json);
}

/// The same by serde's parser alone, the reference the fast path is
/// checked against.
#[divan::bench(sample_count = 20)]
fn flatten_sample_records_by_serde(bencher: divan::Bencher) {
    flatten_all(bencher, vigil_formats::flatten::flatten_json_reference);
}

/// Every sample record, flattened beforehand, written back as one flat
/// JSON object (the hunting projection's `AdditionalFields`).
#[divan::bench(sample_count = 20)]
fn write_sample_records_as_json(bencher: divan::Bencher) {
    let events: Vec<vigil_formats::FlatEvent> = records()
        .iter()
        .filter_map(|r| {
            let mut e = vigil_formats::FlatEvent::new();
            vigil_formats::flatten_json(r, &mut e).ok().map(|()| e)
        })
        .collect();
    let mut out = String::new();
    bencher
        .counter(ItemsCount::new(events.len()))
        .bench_local(|| {
            for e in &events {
                out.clear();
                divan::black_box(e).write_json(&mut out);
            }
            divan::black_box(out.len())
        });
}
