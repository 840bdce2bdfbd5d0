//! Reading telemetry files: EVTX, JSON (one event, a list, or several values
//! in a row) and JSON lines. Each decoded event is pushed to a callback with
//! its position; each undecodable record becomes a [`RecordError`] and
//! reading goes on.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::value::RawValue;

use crate::{FlatEvent, flatten_json};

/// The formats [`read_file`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Evtx,
    Json,
    JsonLines,
}

impl FileKind {
    /// By extension (`.evtx`, `.json`, `.jsonl`/`.ndjson`), case-insensitive.
    pub fn from_path(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "evtx" => Some(FileKind::Evtx),
            "json" => Some(FileKind::Json),
            "jsonl" | "ndjson" => Some(FileKind::JsonLines),
            _ => None,
        }
    }
}

/// Where in its file a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 0-based position among the file's events (EVTX records in file
    /// order, JSON values in order, non-blank JSON lines).
    pub index: u64,
    /// 1-based line, for JSON lines.
    pub line: Option<u64>,
    /// The EVTX record header's id.
    pub header_record_id: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.header_record_id) {
            (Some(line), _) => write!(f, "line {line}"),
            (None, Some(id)) => write!(f, "record {id}"),
            (None, None) => write!(f, "event {}", self.index),
        }
    }
}

/// A record that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {location}: {reason}")]
pub struct RecordError {
    pub path: PathBuf,
    /// Where, as text: `record 12`, `line 7`, `chunk 3`, `file`.
    pub location: String,
    pub reason: String,
}

/// What [`read_file`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub events: u64,
    pub errors: u64,
}

/// Read every event of `path`. `threads` is the EVTX decoder's worker
/// count (0: one per core). A file that cannot be opened at all is a single
/// error with location `file`.
pub fn read_file(
    path: &Path,
    kind: FileKind,
    threads: usize,
    on_event: &mut dyn FnMut(Position, &FlatEvent),
    on_error: &mut dyn FnMut(RecordError),
) -> ReadStats {
    let mut stats = ReadStats::default();
    let mut err = |location: String, reason: String, stats: &mut ReadStats| {
        stats.errors += 1;
        on_error(RecordError {
            path: path.to_owned(),
            location,
            reason,
        });
    };
    match kind {
        FileKind::Evtx => match evtx::EvtxParser::from_path(path) {
            Ok(parser) => {
                let len = std::fs::metadata(path).map_or(u64::MAX, |m| m.len());
                read_evtx(parser, len, threads, on_event, &mut err, &mut stats);
            }
            Err(e) => err("file".into(), chain(&e), &mut stats),
        },
        FileKind::Json | FileKind::JsonLines => match std::fs::read(path) {
            Ok(bytes) if kind == FileKind::Json => {
                read_json(&bytes, on_event, &mut err, &mut stats)
            }
            Ok(bytes) => read_json_lines(&bytes, on_event, &mut err, &mut stats),
            Err(e) => err("file".into(), e.to_string(), &mut stats),
        },
    }
    stats
}

type ErrFn<'a> = dyn FnMut(String, String, &mut ReadStats) + 'a;

/// The whole chain of an error, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        if !s.contains(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}

/// Decode an EVTX file held in memory, on the calling thread, as
/// [`read_file`] decodes one on disk. Errors name the path `<memory>`; a
/// buffer that does not start with an EVTX file header is a single error
/// with location `file`.
pub fn read_evtx_bytes(
    bytes: Vec<u8>,
    on_event: &mut dyn FnMut(Position, &FlatEvent),
    on_error: &mut dyn FnMut(RecordError),
) -> ReadStats {
    let mut stats = ReadStats::default();
    let mut err = |location: String, reason: String, stats: &mut ReadStats| {
        stats.errors += 1;
        on_error(RecordError {
            path: PathBuf::from("<memory>"),
            location,
            reason,
        });
    };
    let len = bytes.len() as u64;
    match evtx::EvtxParser::from_buffer(bytes) {
        Ok(parser) => read_evtx(parser, len, 1, on_event, &mut err, &mut stats),
        Err(e) => err("file".into(), chain(&e), &mut stats),
    }
    stats
}

/// The records of an opened EVTX file, decoded by `threads` workers.
/// EVTX files are a 4 KiB header and 64 KiB chunks.
const EVTX_CHUNK: u64 = 65_536;

fn read_evtx<T: std::io::Read + std::io::Seek>(
    parser: evtx::EvtxParser<T>,
    file_len: u64,
    threads: usize,
    on_event: &mut dyn FnMut(Position, &FlatEvent),
    err: &mut ErrFn<'_>,
    stats: &mut ReadStats,
) {
    // A cut file reads as fewer chunks without any record error: say so.
    let header = parser.header();
    let announced =
        u64::from(header.header_block_size) + u64::from(header.chunk_count) * EVTX_CHUNK;
    if header.validate_checksum() && file_len < announced {
        err(
            "file".into(),
            format!(
                "truncated: the header announces {} chunks ({announced} bytes) but the file holds {file_len} bytes; events past the cut are missing",
                header.chunk_count
            ),
            stats,
        );
    }
    let settings = evtx::ParserSettings::new().num_threads(threads);
    let mut parser = parser.with_configuration(settings);
    // Decoding and flattening run on the parser's worker threads.
    let records = parser.serialized_records(|record| {
        let record = record?;
        let id = record.event_record_id;
        let json = record.into_json_bytes()?;
        let mut event = FlatEvent::new();
        let flat = flatten_json(&json.data, &mut event).map(|()| event);
        Ok((id, flat.map_err(|e| e.to_string())))
    });
    let mut index = 0;
    for item in records {
        match item {
            Ok((id, Ok(event))) => {
                let pos = Position {
                    index,
                    line: None,
                    header_record_id: Some(id),
                };
                stats.events += 1;
                on_event(pos, &event);
                index += 1;
            }
            Ok((id, Err(reason))) => {
                err(format!("record {id}"), reason, stats);
                index += 1;
            }
            Err(e) => err(format!("after event {index}"), chain(&e), stats),
        }
    }
}

fn read_json(
    bytes: &[u8],
    on_event: &mut dyn FnMut(Position, &FlatEvent),
    err: &mut ErrFn<'_>,
    stats: &mut ReadStats,
) {
    let mut event = FlatEvent::new();
    let mut index = 0;
    let mut emit = |raw: &RawValue, index: &mut u64, stats: &mut ReadStats, err: &mut ErrFn<'_>| {
        let pos = Position {
            index: *index,
            line: None,
            header_record_id: None,
        };
        *index += 1;
        let location = || format!("event {}", pos.index);
        deliver(
            raw.get().as_bytes(),
            pos,
            location,
            &mut event,
            on_event,
            err,
            stats,
        );
    };
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<&RawValue>();
    loop {
        let offset = values.byte_offset();
        match values.next() {
            None => break,
            Some(Ok(raw)) if raw.get().starts_with('[') => {
                match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                    Ok(items) => {
                        for item in items {
                            emit(item, &mut index, stats, err);
                        }
                    }
                    Err(e) => err(format!("byte {offset}"), e.to_string(), stats),
                }
            }
            Some(Ok(raw)) => emit(raw, &mut index, stats, err),
            Some(Err(e)) => {
                // The rest of the file cannot be framed: report and stop.
                err(format!("byte {offset}"), e.to_string(), stats);
                break;
            }
        }
    }
}

fn read_json_lines(
    bytes: &[u8],
    on_event: &mut dyn FnMut(Position, &FlatEvent),
    err: &mut ErrFn<'_>,
    stats: &mut ReadStats,
) {
    let mut event = FlatEvent::new();
    let mut index = 0;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let pos = Position {
            index,
            line: Some(n as u64 + 1),
            header_record_id: None,
        };
        index += 1;
        let location = || format!("line {}", n + 1);
        deliver(line, pos, location, &mut event, on_event, err, stats);
    }
}

/// Flatten one JSON value found at `pos` and hand it on, or report why not.
fn deliver(
    json: &[u8],
    pos: Position,
    location: impl FnOnce() -> String,
    event: &mut FlatEvent,
    on_event: &mut dyn FnMut(Position, &FlatEvent),
    err: &mut ErrFn<'_>,
    stats: &mut ReadStats,
) {
    match flatten_json(json, event) {
        Ok(()) => {
            stats.events += 1;
            on_event(pos, event);
        }
        Err(e) => err(location(), e.to_string(), stats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(path: &Path, kind: FileKind) -> (Vec<(Position, FlatEvent)>, Vec<RecordError>) {
        let mut events = Vec::new();
        let mut errors = Vec::new();
        read_file(
            path,
            kind,
            1,
            &mut |p, e| events.push((p, e.clone())),
            &mut |e| errors.push(e),
        );
        (events, errors)
    }

    #[test]
    fn json_files_hold_one_event_a_list_or_several_values() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("a.json");
        std::fs::write(
            &p,
            r#"{"EventID":1} [{"EventID":2},{"EventID":3}] {"EventID":4}"#,
        )
        .expect("write");
        let (events, errors) = collect(&p, FileKind::Json);
        assert!(errors.is_empty(), "{errors:?}");
        let ids: Vec<_> = events
            .iter()
            .map(|(p, e)| (p.index, e.event_id()))
            .collect();
        assert_eq!(
            ids,
            vec![(0, Some(1)), (1, Some(2)), (2, Some(3)), (3, Some(4))]
        );
    }

    #[test]
    fn a_bad_json_line_is_reported_with_its_line_and_the_rest_are_read() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("a.jsonl");
        std::fs::write(
            &p,
            "{\"EventID\":1}\n\n{\"EventID\":\n[1]\n{\"EventID\":4}\r\n",
        )
        .expect("write");
        let (events, errors) = collect(&p, FileKind::JsonLines);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].0.line, Some(5));
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(locations, vec!["line 3", "line 4"]);
        assert!(errors[0].to_string().starts_with(&p.display().to_string()));
    }

    #[test]
    fn a_file_that_is_not_evtx_is_one_error() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("fake.evtx");
        std::fs::write(&p, b"this is not an event log").expect("write");
        let (events, errors) = collect(&p, FileKind::Evtx);
        assert!(events.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].location, "file");
    }

    #[test]
    fn kinds_come_from_extensions() {
        assert_eq!(
            FileKind::from_path(Path::new("a/B.EVTX")),
            Some(FileKind::Evtx)
        );
        assert_eq!(
            FileKind::from_path(Path::new("x.ndjson")),
            Some(FileKind::JsonLines)
        );
        assert_eq!(FileKind::from_path(Path::new("x.txt")), None);
    }
}
