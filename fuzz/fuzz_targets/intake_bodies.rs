//! Arbitrary bytes as an intake request body, framed as each intake route
//! frames it: JSON lines or a JSON array (`/api/v1/ingest/events`, HEC
//! `/raw`), Elasticsearch bulk NDJSON pairs (`/_bulk`) and a Splunk HEC
//! event stream (`/services/collector/event`). Each framed record is then
//! decoded, as the intake does. Records or errors, never a panic; and a
//! body of lines is framed exactly as splitting it at each newline would.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_formats::bodies::{BodyAt, HecItem, bulk_items, hec_items, json_records};
use vigil_formats::decode_records;

fn decode(bytes: &[u8]) {
    if let Ok(each) = decode_records(bytes) {
        std::hint::black_box(each.len());
    }
}

/// JSON lines framed the plain way: every non-blank line, trimmed, with
/// its number.
fn lines(data: &[u8]) -> Vec<(BodyAt, &[u8])> {
    data.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (BodyAt::Line(i + 1), line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if data.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        let framed = json_records(data).expect("a body of lines always frames");
        let framed: Vec<(BodyAt, &[u8])> = framed.iter().map(|r| (r.at, &r.bytes[..])).collect();
        assert_eq!(framed, lines(data));
    }
    if let Ok(records) = json_records(data) {
        records.iter().for_each(|r| decode(&r.bytes));
    }
    for item in bulk_items(data, "vigil") {
        std::hint::black_box((item.op.len(), item.index.len(), item.id.is_some()));
        if let Ok(r) = item.doc {
            decode(&r.bytes);
        }
    }
    for item in hec_items(data) {
        match item {
            HecItem::Record(r) => decode(&r.bytes),
            HecItem::Broken { reason, bytes } => {
                std::hint::black_box((reason.len(), bytes.len()));
            }
        }
    }
});
