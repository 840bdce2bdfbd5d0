//! Framing of intake request bodies into records: JSON lines or a JSON
//! array (`/api/v1/ingest/events`, HEC `/raw`), Elasticsearch bulk NDJSON
//! pairs, and Splunk HEC event streams. Pure functions over untrusted bytes
//! (the API wraps them; the fuzz targets call them directly): they split
//! and locate, never decode an event, and never panic.

use serde_json::Value;
use serde_json::value::RawValue;

/// Where a record was in its body, for messages and dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyAt {
    /// 1-based line of a JSON lines or bulk body.
    Line(usize),
    /// 0-based element of a JSON array.
    Item(usize),
    /// 1-based event of a Splunk HEC body.
    Event(usize),
}

impl std::fmt::Display for BodyAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyAt::Line(n) => write!(f, "line {n}"),
            BodyAt::Item(n) => write!(f, "item {n}"),
            BodyAt::Event(n) => write!(f, "event {n}"),
        }
    }
}

/// One record's bytes and where they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRecord {
    pub at: BodyAt,
    pub bytes: Vec<u8>,
}

/// A body that starts as a JSON array but is not one.
#[derive(Debug, thiserror::Error)]
#[error("the JSON array is malformed at line {line} column {column}: {source}")]
pub struct MalformedArray {
    pub line: usize,
    pub column: usize,
    #[source]
    pub source: serde_json::Error,
}

/// A JSON array's elements, or one record per non-empty line.
pub fn json_records(body: &[u8]) -> Result<Vec<BodyRecord>, MalformedArray> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| MalformedArray {
            line: e.line(),
            column: e.column(),
            source: e,
        })?;
        return Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, raw)| BodyRecord {
                at: BodyAt::Item(i),
                bytes: raw.get().as_bytes().to_vec(),
            })
            .collect());
    }
    // Lines found with `memchr` (a body is megabytes of them).
    let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    let mut records = Vec::with_capacity(body.len() / 1024);
    let mut start = 0;
    for (i, end) in ends.enumerate() {
        let line = body[start..end].trim_ascii();
        start = end + 1;
        if !line.is_empty() {
            records.push(BodyRecord {
                at: BodyAt::Line(i + 1),
                bytes: line.to_vec(),
            });
        }
    }
    Ok(records)
}

/// One action of an Elasticsearch bulk body, and its document or why there
/// is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    /// `index` or `create` (others are answered but store nothing).
    pub op: String,
    pub index: String,
    pub id: Option<String>,
    pub doc: Result<BodyRecord, String>,
}

/// The NDJSON pairs of a bulk body. A pair whose action line is broken is
/// an item without a document (answered in place, dead-lettered).
pub fn bulk_items(body: &[u8], default_index: &str) -> Vec<BulkItem> {
    let mut items = Vec::new();
    let mut lines = body
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_ascii()))
        .filter(|(_, l)| !l.is_empty());
    while let Some((n, line)) = lines.next() {
        let parsed: Option<Value> = serde_json::from_slice(line).ok();
        let Some((op, meta)) = parsed
            .as_ref()
            .and_then(Value::as_object)
            .and_then(|o| o.iter().next())
        else {
            items.push(BulkItem {
                op: "index".into(),
                index: default_index.into(),
                id: None,
                doc: Err(format!("line {n}: not a bulk action line")),
            });
            continue;
        };
        let op = op.clone();
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .unwrap_or(default_index)
            .to_owned();
        let id = meta.get("_id").and_then(Value::as_str).map(str::to_owned);
        let doc = if op == "delete" {
            // No document follows a delete; Vigil keeps telemetry.
            Err(format!("line {n}: delete is not supported"))
        } else {
            match lines.next() {
                Some((m, doc)) => Ok(BodyRecord {
                    at: BodyAt::Line(m),
                    bytes: doc.to_vec(),
                }),
                None => Err(format!("line {n}: the action has no document")),
            }
        };
        items.push(BulkItem { op, index, id, doc });
    }
    items
}

/// One event of a Splunk HEC body: its record, or why it is broken with
/// the bytes to dead-letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HecItem {
    Record(BodyRecord),
    Broken { reason: String, bytes: Vec<u8> },
}

/// The events of an HEC body: concatenated JSON objects, whitespace or not
/// between them. Each `event` (an object, or a string holding one) is a
/// record; anything else is broken. Malformed JSON ends the stream: the
/// rest cannot be framed and is kept whole.
pub fn hec_items(body: &[u8]) -> Vec<HecItem> {
    let mut items = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    let mut n = 0;
    loop {
        let offset = stream.byte_offset();
        let Some(next) = stream.next() else { break };
        n += 1;
        let at = BodyAt::Event(n);
        match next {
            Ok(Value::Object(mut o)) => match o.remove("event") {
                Some(Value::String(text)) => items.push(HecItem::Record(BodyRecord {
                    at,
                    bytes: text.into_bytes(),
                })),
                Some(v @ Value::Object(_)) => items.push(HecItem::Record(BodyRecord {
                    at,
                    bytes: serde_json::to_vec(&v).unwrap_or_default(),
                })),
                _ => items.push(HecItem::Broken {
                    reason: format!("{at}: no `event` object or string"),
                    bytes: serde_json::to_vec(&o).unwrap_or_default(),
                }),
            },
            Ok(other) => items.push(HecItem::Broken {
                reason: format!("{at}: not a JSON object"),
                bytes: other.to_string().into_bytes(),
            }),
            Err(e) => {
                items.push(HecItem::Broken {
                    reason: format!("{at}: malformed JSON: {e}"),
                    bytes: body.get(offset..).unwrap_or_default().to_vec(),
                });
                break;
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_lines_and_array_items_become_records_that_know_where_they_were() {
        let r = json_records(b"{\"a\":1}\n\n  {\"b\":2}  \nnot json\n").expect("records");
        let at: Vec<String> = r.iter().map(|r| r.at.to_string()).collect();
        assert_eq!(at, ["line 1", "line 3", "line 4"]);
        assert_eq!(r[1].bytes, b"{\"b\":2}");
        // Windows line ends; the last line without one.
        let r = json_records(b"{\"a\":1}\r\n{\"b\":2}").expect("records");
        let at: Vec<String> = r.iter().map(|r| r.at.to_string()).collect();
        assert_eq!(at, ["line 1", "line 2"]);
        assert_eq!(r[0].bytes, b"{\"a\":1}");
        assert_eq!(r[1].bytes, b"{\"b\":2}");
        assert!(json_records(b"").expect("empty").is_empty());
        let r = json_records(b" [ {\"a\":1}, {\"b\": [2]} ]").expect("records");
        assert_eq!(r[1].at.to_string(), "item 1");
        assert_eq!(r[1].bytes, b"{\"b\": [2]}");
        let e = json_records(b"[{\"a\":1},").expect_err("malformed");
        assert!(e.to_string().contains("line 1 column"), "{e}");
    }

    #[test]
    fn bulk_pairs_are_split_and_broken_actions_answered_in_place() {
        let body = b"{\"create\":{\"_index\":\"winlogbeat\"}}\n{\"a\":1}\n\nnot json\n{\"index\":{}}\n{\"b\":2}\n{\"delete\":{\"_id\":\"x\"}}\n";
        let items = bulk_items(body, "vigil");
        let ops: Vec<&str> = items.iter().map(|a| a.op.as_str()).collect();
        assert_eq!(ops, ["create", "index", "index", "delete"]);
        assert_eq!(items[0].index, "winlogbeat");
        assert_eq!(items[2].index, "vigil");
        assert!(
            items[0]
                .doc
                .as_ref()
                .is_ok_and(|r| r.bytes == b"{\"a\":1}" && r.at.to_string() == "line 2")
        );
        assert!(items[1].doc.as_ref().is_err_and(|e| e.contains("line 4")));
        assert!(items[2].doc.as_ref().is_ok_and(|r| r.bytes == b"{\"b\":2}"));
        assert!(items[3].doc.is_err());
    }

    #[test]
    fn hec_events_are_taken_from_concatenated_objects() {
        let body = br#"{"event":{"a":1},"time":1}{"event":"{\"b\":2}"} {"time":3}
[1]{"event":{"c":3}}"#;
        let items = hec_items(body);
        let records: Vec<&[u8]> = items
            .iter()
            .filter_map(|i| match i {
                HecItem::Record(r) => Some(r.bytes.as_slice()),
                HecItem::Broken { .. } => None,
            })
            .collect();
        assert_eq!(records, [&b"{\"a\":1}"[..], b"{\"b\":2}", b"{\"c\":3}"]);
        let broken: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                HecItem::Broken { reason, .. } => Some(reason.as_str()),
                HecItem::Record(_) => None,
            })
            .collect();
        assert_eq!(broken.len(), 2);
        assert!(broken[0].starts_with("event 3: no `event`"));
        assert!(broken[1].starts_with("event 4: not a JSON object"));
    }

    #[test]
    fn a_malformed_hec_stream_keeps_its_unframed_rest_whole() {
        let items = hec_items(br#"{"event":{"a":1}} {"event": nope} {"event":{"b":2}}"#);
        assert_eq!(items.len(), 2);
        let HecItem::Broken { reason, bytes } = &items[1] else {
            panic!("the second event is broken: {items:?}");
        };
        assert!(reason.starts_with("event 2: malformed JSON"), "{reason}");
        assert!(bytes.starts_with(b" {\"event\": nope}"), "{bytes:?}");
    }
}
