//! Records of a file as raw JSON, for shipping them on (`vigil ingest`):
//! EVTX records rendered as `evtx_dump` renders them, JSON files' values
//! and JSON lines as they are. Nothing is decoded here; the intake does it.

use std::path::Path;

use serde_json::value::RawValue;

use crate::read::{FileKind, RecordError};

/// One record, and where it was (`record 12`, `line 7`, `item 3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub at: String,
    pub json: Vec<u8>,
}

fn error(path: &Path, location: String, reason: String) -> RecordError {
    RecordError {
        path: path.to_owned(),
        location,
        reason,
    }
}

/// Every record of `path`, in file order. `threads`: the EVTX decoder's
/// workers (0: one per core). Framing problems are reported and reading
/// goes on where it can.
pub fn read_records(
    path: &Path,
    kind: FileKind,
    threads: usize,
    on_record: &mut dyn FnMut(RawRecord),
    on_error: &mut dyn FnMut(RecordError),
) {
    match kind {
        FileKind::Evtx => {
            let parser = match evtx::EvtxParser::from_path(path) {
                Ok(p) => p,
                Err(e) => return on_error(error(path, "file".into(), e.to_string())),
            };
            let settings = evtx::ParserSettings::new().num_threads(threads);
            let mut parser = parser.with_configuration(settings);
            let records = parser.serialized_records(|record| {
                let record = record?;
                let id = record.event_record_id;
                let json = record.into_json_bytes()?;
                Ok((id, json.data))
            });
            for (index, item) in records.enumerate() {
                match item {
                    Ok((id, json)) => on_record(RawRecord {
                        at: format!("record {id}"),
                        json,
                    }),
                    Err(e) => on_error(error(path, format!("after event {index}"), e.to_string())),
                }
            }
        }
        FileKind::Json => {
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => return on_error(error(path, "file".into(), e.to_string())),
            };
            let mut values = serde_json::Deserializer::from_slice(&bytes).into_iter::<&RawValue>();
            let mut n = 0;
            loop {
                let offset = values.byte_offset();
                match values.next() {
                    None => break,
                    Some(Ok(raw)) if raw.get().starts_with('[') => {
                        match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                            Ok(items) => {
                                for item in items {
                                    on_record(RawRecord {
                                        at: format!("item {n}"),
                                        json: item.get().as_bytes().to_vec(),
                                    });
                                    n += 1;
                                }
                            }
                            Err(e) => {
                                on_error(error(path, format!("byte {offset}"), e.to_string()))
                            }
                        }
                    }
                    Some(Ok(raw)) => {
                        on_record(RawRecord {
                            at: format!("item {n}"),
                            json: raw.get().as_bytes().to_vec(),
                        });
                        n += 1;
                    }
                    Some(Err(e)) => {
                        on_error(error(path, format!("byte {offset}"), e.to_string()));
                        break;
                    }
                }
            }
        }
        FileKind::JsonLines => {
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => return on_error(error(path, "file".into(), e.to_string())),
            };
            for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let line = line.trim_ascii();
                if !line.is_empty() {
                    on_record(RawRecord {
                        at: format!("line {}", n + 1),
                        json: line.to_vec(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_and_json_arrays_give_their_records_with_positions() {
        let dir = tempfile::tempdir().expect("dir");
        let lines = dir.path().join("a.jsonl");
        std::fs::write(&lines, "{\"a\":1}\n\n{\"b\":2}\n").expect("write");
        let mut got = Vec::new();
        read_records(
            &lines,
            FileKind::JsonLines,
            1,
            &mut |r| got.push(r),
            &mut |e| panic!("{e:?}"),
        );
        assert_eq!(got[1].at, "line 3");
        assert_eq!(got[1].json, b"{\"b\":2}");
        let array = dir.path().join("a.json");
        std::fs::write(&array, "[{\"a\":1}, {\"b\":2}]").expect("write");
        let mut got = Vec::new();
        read_records(&array, FileKind::Json, 1, &mut |r| got.push(r), &mut |e| {
            panic!("{e:?}")
        });
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].at, "item 1");
    }

    #[test]
    fn evtx_records_render_in_the_evtx_dump_shape() {
        let Some(corpus) = vigil_testkit::corpus() else {
            eprintln!("skipped: the corpus is not here");
            return;
        };
        let file = corpus.join("evtx-attack-samples/UACME_59_Sysmon.evtx");
        let mut got = Vec::new();
        read_records(&file, FileKind::Evtx, 1, &mut |r| got.push(r), &mut |e| {
            panic!("{e:?}")
        });
        assert!(!got.is_empty());
        assert!(got[0].json.starts_with(b"{"));
        let decoded = crate::decode_record(&got[0].json).expect("decodes");
        assert_eq!(decoded[0].shape, crate::Shape::WindowsEvtx);
        assert!(got[0].at.starts_with("record "));
    }
}
