//! Damaged input never panics the readers: what cannot be decoded becomes
//! [`RecordError`]s and everything else is still read.
//!
//! The EVTX cases damage a real multi-chunk sample from the corpus (a file
//! header of 4 KiB, then chunks of 64 KiB) and skip, saying so, when the
//! corpus is absent. Every damaged copy is written to a temporary directory
//! and read with [`read_file`]. Randomness is a fixed-seed LCG, so each run
//! damages the same bytes.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use vigil_formats::read::{Position, ReadStats, read_evtx_bytes};
use vigil_formats::{FileKind, FlatEvent, RecordError, read_file};

const HEADER: usize = 4096;
const CHUNK: usize = 65536;
/// 3 populated chunks (189, 180 and 46 records), then 14 empty ones.
const SAMPLE: &str = "evtx-attack-samples/Credential Access/etw_rpc_zerologon.evtx";

/// A deterministic pseudo-random source (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 32) as u32
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        ((u64::from(self.next_u32()) * n as u64) >> 32) as usize
    }

    fn byte(&mut self) -> u8 {
        (self.next_u32() >> 24) as u8
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// What one read saw.
#[derive(Debug, Default)]
struct Outcome {
    /// The EVTX record ids (or JSON line numbers) of the decoded events.
    ids: Vec<u64>,
    errors: Vec<RecordError>,
    stats: ReadStats,
}

impl Outcome {
    fn id_set(&self) -> BTreeSet<u64> {
        self.ids.iter().copied().collect()
    }
}

fn collect(
    read: impl FnOnce(&mut dyn FnMut(Position, &FlatEvent), &mut dyn FnMut(RecordError)) -> ReadStats,
) -> Outcome {
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    let stats = read(
        &mut |pos, _event| ids.push(pos.header_record_id.or(pos.line).unwrap_or(pos.index)),
        &mut |e| errors.push(e),
    );
    assert_eq!(stats.events, ids.len() as u64, "stats count the events");
    assert_eq!(stats.errors, errors.len() as u64, "stats count the errors");
    Outcome { ids, errors, stats }
}

/// Write `bytes` to `dir/name` and read it as `kind`.
fn read_bytes_as(dir: &Path, name: &str, bytes: &[u8], kind: FileKind, threads: usize) -> Outcome {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the damaged copy");
    let out = collect(|on_event, on_error| read_file(&path, kind, threads, on_event, on_error));
    for e in &out.errors {
        assert_eq!(e.path, path, "{e}");
        assert!(!e.location.is_empty() && !e.reason.is_empty(), "{e:?}");
    }
    out
}

fn read_evtx(dir: &Path, bytes: &[u8]) -> Outcome {
    read_bytes_as(dir, "damaged.evtx", bytes, FileKind::Evtx, 1)
}

/// The sample, with the record id range of each populated chunk.
struct Sample {
    bytes: Vec<u8>,
    /// Per chunk slot: the record ids it holds (empty for an unused slot).
    chunks: Vec<BTreeSet<u64>>,
}

impl Sample {
    fn load(corpus: &Path) -> Sample {
        let path: PathBuf = corpus.join(SAMPLE);
        let bytes = std::fs::read(&path).expect("read the sample");
        assert_eq!((bytes.len() - HEADER) % CHUNK, 0, "whole chunks");
        let chunks = bytes[HEADER..]
            .chunks(CHUNK)
            .map(|c| {
                if !c.starts_with(b"ElfChnk\0") {
                    return BTreeSet::new();
                }
                let id = |at: usize| u64::from_le_bytes(c[at..at + 8].try_into().expect("8 bytes"));
                (id(24)..=id(32)).collect()
            })
            .collect();
        let sample = Sample { bytes, chunks };
        assert!(sample.used_chunks() > 1, "the sample has several chunks");
        sample
    }

    /// The number of leading chunk slots that hold records.
    fn used_chunks(&self) -> usize {
        self.chunks.iter().take_while(|c| !c.is_empty()).count()
    }

    fn all_ids(&self) -> BTreeSet<u64> {
        self.chunks.iter().flatten().copied().collect()
    }

    fn chunk_range(k: usize) -> std::ops::Range<usize> {
        HEADER + k * CHUNK..HEADER + (k + 1) * CHUNK
    }
}

fn setup() -> Option<(Sample, tempfile::TempDir)> {
    let corpus = vigil_testkit::corpus()?;
    Some((Sample::load(&corpus), tempfile::tempdir().expect("tempdir")))
}

/// The corpus sample and a temporary directory, or skip the test.
macro_rules! sample_or_skip {
    () => {{
        let _ = vigil_testkit::corpus_or_skip!();
        setup().expect("the corpus is present")
    }};
}

#[test]
fn the_intact_sample_spans_several_chunks_and_reads_whole_without_errors() {
    let (sample, dir) = sample_or_skip!();
    let out = read_evtx(dir.path(), &sample.bytes);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.ids.len(), sample.all_ids().len());
    assert_eq!(out.id_set(), sample.all_ids());
}

#[test]
fn two_hundred_copies_with_random_bytes_flipped_never_panic_and_keep_every_chunk_left_untouched() {
    let (sample, dir) = sample_or_skip!();
    let used = HEADER + sample.used_chunks() * CHUNK;
    let mut rng = Lcg(0x5EED_F11E);
    let (mut damaged_reads, mut total_errors) = (0, 0);
    for round in 0..200 {
        let mut bytes = sample.bytes.clone();
        let flips: Vec<usize> = (0..1 + rng.below(8))
            .map(|_| {
                // Mostly where the records are, sometimes anywhere.
                let at = if rng.below(10) == 0 {
                    rng.below(bytes.len())
                } else {
                    rng.below(used)
                };
                bytes[at] ^= 1 + rng.below(255) as u8;
                at
            })
            .collect();
        let threads = 1 + round % 2;
        let out = catch_unwind(AssertUnwindSafe(|| {
            read_bytes_as(dir.path(), "flipped.evtx", &bytes, FileKind::Evtx, threads)
        }))
        .unwrap_or_else(|_| {
            panic!("round {round}: flipping bytes at {flips:?} panicked the reader")
        });

        total_errors += out.errors.len();
        if out.id_set() != sample.all_ids() || !out.errors.is_empty() {
            damaged_reads += 1;
        }
        if flips.iter().any(|&at| at < HEADER) {
            // A damaged file header may lose the whole file, but says so.
            assert!(
                !out.ids.is_empty() || !out.errors.is_empty(),
                "round {round}: silent"
            );
            continue;
        }
        let got = out.id_set();
        for (k, ids) in sample.chunks.iter().enumerate() {
            let hit = flips.iter().any(|at| Sample::chunk_range(k).contains(at));
            if !hit {
                assert!(
                    ids.is_subset(&got),
                    "round {round}: flips at {flips:?} lost events of intact chunk {k}"
                );
            } else if ids.is_empty() {
                // A slot that was all zeros is now garbage: reported, not skipped.
                assert!(
                    !out.errors.is_empty(),
                    "round {round}: garbage in empty chunk {k} was not reported"
                );
            }
        }
    }
    assert!(
        damaged_reads > 0 && total_errors > 0,
        "the damage was noticed"
    );
}

#[test]
fn a_file_truncated_in_the_middle_of_its_second_chunk_still_yields_the_first_chunks_events() {
    let (sample, dir) = sample_or_skip!();
    let cut = HEADER + CHUNK + CHUNK / 2;
    let out = read_evtx(dir.path(), &sample.bytes[..cut]);
    assert!(!out.ids.is_empty());
    assert_eq!(out.id_set(), sample.chunks[0]);
    assert!(
        out.ids.len() < sample.all_ids().len(),
        "the cut chunk's events are gone"
    );
    assert!(
        out.errors.iter().any(|e| e.reason.starts_with("truncated")),
        "and the cut is reported: {:?}",
        out.errors
    );
}

#[test]
fn a_file_truncated_anywhere_yields_exactly_the_chunks_that_end_before_the_cut() {
    let (sample, dir) = sample_or_skip!();
    let used = HEADER + sample.used_chunks() * CHUNK;
    let mut rng = Lcg(7);
    let mut cuts: Vec<usize> = (0..40).map(|_| rng.below(used)).collect();
    cuts.extend([
        0,
        1,
        8,
        127,
        128,
        HEADER - 1,
        HEADER,
        HEADER + 1,
        HEADER + CHUNK,
        used - 1,
    ]);
    for cut in cuts {
        let out = read_evtx(dir.path(), &sample.bytes[..cut]);
        if cut < HEADER {
            // Not even a whole file header: one error for the file.
            assert!(out.ids.is_empty(), "cut {cut}");
            assert_eq!(out.errors.len(), 1, "cut {cut}: {:?}", out.errors);
            assert_eq!(out.errors[0].location, "file");
            continue;
        }
        let whole = (cut - HEADER) / CHUNK;
        let expected: BTreeSet<u64> = sample.chunks[..whole].iter().flatten().copied().collect();
        assert_eq!(out.id_set(), expected, "cut {cut}");
        // The loss is reported once, for the file.
        assert_eq!(out.errors.len(), 1, "cut {cut}: {:?}", out.errors);
        assert_eq!(out.errors[0].location, "file");
        assert!(
            out.errors[0].reason.starts_with("truncated"),
            "cut {cut}: {:?}",
            out.errors
        );
    }
}

#[test]
fn a_zeroed_chunk_loses_only_its_own_events() {
    let (sample, dir) = sample_or_skip!();
    for k in 0..sample.used_chunks() {
        let mut bytes = sample.bytes.clone();
        bytes[Sample::chunk_range(k)].fill(0);
        let out = read_evtx(dir.path(), &bytes);
        let expected: BTreeSet<u64> = sample
            .all_ids()
            .difference(&sample.chunks[k])
            .copied()
            .collect();
        assert_eq!(out.id_set(), expected, "chunk {k} zeroed");
        assert!(out.ids.len() < sample.all_ids().len());
    }
}

#[test]
fn a_chunk_overwritten_with_noise_is_one_error_and_its_neighbours_are_whole() {
    let (sample, dir) = sample_or_skip!();
    let mut rng = Lcg(11);
    let mut bytes = sample.bytes.clone();
    bytes[Sample::chunk_range(1)].copy_from_slice(&rng.bytes(CHUNK));
    let out = read_evtx(dir.path(), &bytes);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(
        out.errors[0].location.starts_with("after event"),
        "{:?}",
        out.errors
    );
    let expected: BTreeSet<u64> = sample
        .all_ids()
        .difference(&sample.chunks[1])
        .copied()
        .collect();
    assert_eq!(out.id_set(), expected);
}

#[test]
fn noise_over_a_chunks_records_is_reported_or_loses_events_and_its_neighbours_are_whole() {
    let (sample, dir) = sample_or_skip!();
    let mut rng = Lcg(13);
    // Keep the 512-byte chunk header; overwrite records from the start, the
    // middle, or a small patch.
    for (from, to) in [
        (512, CHUNK),
        (CHUNK / 3, CHUNK),
        (20_000, 20_400),
        (512, 600),
    ] {
        let mut bytes = sample.bytes.clone();
        let base = Sample::chunk_range(1).start;
        bytes[base + from..base + to].copy_from_slice(&rng.bytes(to - from));
        let out = read_evtx(dir.path(), &bytes);
        assert!(
            !out.errors.is_empty() || out.ids.len() < sample.all_ids().len(),
            "noise over {from}..{to} went unnoticed"
        );
        let got = out.id_set();
        assert!(
            sample.chunks[0].is_subset(&got) && sample.chunks[2].is_subset(&got),
            "noise over {from}..{to}"
        );
    }
}

#[test]
fn a_file_header_without_its_magic_is_one_file_error() {
    let (sample, dir) = sample_or_skip!();
    let mut bytes = sample.bytes.clone();
    bytes[..8].copy_from_slice(b"NotEvtx\0");
    let out = read_evtx(dir.path(), &bytes);
    assert!(out.ids.is_empty());
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_eq!(out.errors[0].location, "file");
}

#[test]
fn a_file_header_with_damaged_fields_and_checksum_still_yields_every_event() {
    let (sample, dir) = sample_or_skip!();
    let mut bytes = sample.bytes.clone();
    // Oldest chunk, current chunk, next record number, chunk count and the
    // CRC32: the reader finds chunks at their fixed offsets regardless.
    for (at, len) in [(8, 8), (16, 8), (24, 8), (42, 2), (124, 4)] {
        bytes[at..at + len].fill(0xA5);
    }
    let out = read_evtx(dir.path(), &bytes);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.id_set(), sample.all_ids());
}

#[test]
fn an_empty_evtx_file_is_one_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = read_evtx(dir.path(), b"");
    assert!(out.ids.is_empty());
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert_eq!(out.errors[0].location, "file");
    let mem = collect(|e, r| read_evtx_bytes(Vec::new(), e, r));
    assert_eq!((mem.ids.len(), mem.errors.len()), (0, 1));
    assert_eq!(mem.errors[0].path, PathBuf::from("<memory>"));
}

#[test]
fn a_file_of_random_bytes_is_one_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Lcg(17);
    for len in [1, 100, HEADER, HEADER + CHUNK, HEADER + 3 * CHUNK + 17] {
        let out = read_evtx(dir.path(), &rng.bytes(len));
        assert!(out.ids.is_empty(), "{len} random bytes");
        assert_eq!(out.errors.len(), 1, "{len} random bytes: {:?}", out.errors);
        assert_eq!(out.errors[0].location, "file");
    }
}

#[test]
fn random_chunks_behind_a_valid_file_header_are_errors_one_per_chunk() {
    let (sample, dir) = sample_or_skip!();
    let mut rng = Lcg(19);
    let mut bytes = sample.bytes[..HEADER].to_vec();
    bytes.extend(rng.bytes(3 * CHUNK));
    let out = read_evtx(dir.path(), &bytes);
    assert!(out.ids.is_empty());
    assert_eq!(out.errors.len(), 3, "{:?}", out.errors);
}

#[test]
fn the_in_memory_reader_agrees_with_the_file_reader_on_intact_and_damaged_copies() {
    let (sample, dir) = sample_or_skip!();
    let mut rng = Lcg(23);
    let mut damaged = sample.bytes.clone();
    for _ in 0..16 {
        let at = HEADER + rng.below(sample.used_chunks() * CHUNK);
        damaged[at] ^= 0xFF;
    }
    for bytes in [&sample.bytes, &damaged] {
        let from_file = read_evtx(dir.path(), bytes);
        let from_memory = collect(|e, r| read_evtx_bytes(bytes.clone(), e, r));
        assert_eq!(from_memory.ids, from_file.ids);
        assert_eq!(from_memory.stats, from_file.stats);
        let reasons = |o: &Outcome| -> Vec<(String, String)> {
            o.errors
                .iter()
                .map(|e| (e.location.clone(), e.reason.clone()))
                .collect()
        };
        assert_eq!(reasons(&from_memory), reasons(&from_file));
        assert!(
            from_memory
                .errors
                .iter()
                .all(|e| e.path == Path::new("<memory>"))
        );
    }
}

/// Up to `n` real evtx_dump-shaped events from the Sigma regression data,
/// each compacted to one line.
fn real_json_lines(corpus: &Path, n: usize) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![corpus.join("sigma/regression_data")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read(p).ok()?;
            let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
            value.is_object().then(|| value.to_string())
        })
        .take(n)
        .collect()
}

#[test]
fn truncated_json_lines_are_errors_on_their_own_lines_and_the_others_are_read() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = real_json_lines(&corpus, 60);
    assert!(lines.len() >= 20, "enough regression events");
    let intact = read_bytes_as(
        dir.path(),
        "intact.jsonl",
        lines.join("\n").as_bytes(),
        FileKind::JsonLines,
        1,
    );
    assert!(intact.errors.is_empty(), "{:?}", intact.errors);
    assert_eq!(intact.ids.len(), lines.len());

    let mut rng = Lcg(29);
    let mut text = Vec::new();
    let mut cut_lines = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        // Every third line, and the last one (a file cut short), loses its end.
        if i % 3 == 1 || i + 1 == lines.len() {
            let keep = 1 + rng.below(line.len() - 1);
            text.extend_from_slice(&line.as_bytes()[..keep]);
            cut_lines.insert(i as u64 + 1);
        } else {
            text.extend_from_slice(line.as_bytes());
        }
        if i + 1 < lines.len() {
            text.push(b'\n');
        }
    }
    let out = read_bytes_as(dir.path(), "cut.jsonl", &text, FileKind::JsonLines, 1);
    let error_lines: BTreeSet<String> = out.errors.iter().map(|e| e.location.clone()).collect();
    let expected: BTreeSet<String> = cut_lines.iter().map(|n| format!("line {n}")).collect();
    assert_eq!(error_lines, expected);
    let all: BTreeSet<u64> = (1..=lines.len() as u64).collect();
    assert_eq!(out.id_set(), all.difference(&cut_lines).copied().collect());
}

#[test]
fn random_bytes_as_json_lines_are_errors_line_by_line_and_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Lcg(31);
    let punctuation = b"{}[]\":,\\ -+.eE0123456789truefalsn\t\r\n";
    for round in 0..200 {
        let mut text = Vec::new();
        let mut valid = BTreeSet::new();
        let mut line = 1;
        for _ in 0..1 + rng.below(20) {
            if rng.below(4) == 0 {
                text.extend_from_slice(format!("{{\"EventID\":{round}}}").as_bytes());
                valid.insert(line);
            } else {
                for _ in 0..rng.below(200) {
                    let b = if rng.below(2) == 0 {
                        punctuation[rng.below(punctuation.len())]
                    } else {
                        rng.byte()
                    };
                    if b == b'\n' {
                        line += 1;
                    }
                    text.push(b);
                }
            }
            text.push(b'\n');
            line += 1;
        }
        let out = catch_unwind(AssertUnwindSafe(|| {
            read_bytes_as(dir.path(), "random.jsonl", &text, FileKind::JsonLines, 1)
        }))
        .unwrap_or_else(|_| panic!("round {round} panicked the JSON lines reader"));

        // Each non-blank line is exactly one event or one error, at its line.
        let mut expect_events = BTreeSet::new();
        let mut expect_any = BTreeSet::new();
        for (n, l) in text.split(|b| *b == b'\n').enumerate() {
            let n = n as u64 + 1;
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if l.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            expect_any.insert(n);
            if valid.contains(&n) {
                expect_events.insert(n);
            } else if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(l)
                .is_err()
            {
                assert!(
                    out.errors.iter().any(|e| e.location == format!("line {n}")),
                    "round {round}: line {n} not reported"
                );
            }
        }
        let events = out.id_set();
        assert!(
            expect_events.is_subset(&events),
            "round {round}: valid lines after garbage were lost"
        );
        let errors: BTreeSet<u64> = out
            .errors
            .iter()
            .map(|e| {
                e.location
                    .strip_prefix("line ")
                    .and_then(|n| n.parse().ok())
                    .expect("a line location")
            })
            .collect();
        assert!(events.is_disjoint(&errors), "round {round}");
        assert_eq!(&events | &errors, expect_any, "round {round}");
    }
}

#[test]
fn a_json_file_cut_short_yields_the_values_before_the_cut_and_one_error() {
    let corpus = vigil_testkit::corpus_or_skip!();
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = real_json_lines(&corpus, 10);
    let text = lines.join("\n");
    let before: usize = lines[..6].iter().map(|l| l.len() + 1).sum();
    let cut = before + lines[6].len() / 2;
    let out = read_bytes_as(
        dir.path(),
        "cut.json",
        &text.as_bytes()[..cut],
        FileKind::Json,
        1,
    );
    assert_eq!(out.ids.len(), 6);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(
        out.errors[0].location.starts_with("byte "),
        "{}",
        out.errors[0]
    );
}
