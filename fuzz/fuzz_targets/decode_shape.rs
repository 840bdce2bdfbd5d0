//! Arbitrary JSON forced into each record shape: the first byte picks the
//! shape, the rest is a JSON object given that shape's marker keys where it
//! lacks them, so every shape's decoder sees odd values in every field
//! (`decode_record` mostly finds the probe's refusals). Decoded events or
//! an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use vigil_formats::{decode_records, decode_value};

/// The keys that make the probe pick each shape (decode/mod.rs's table).
fn markers(pick: u8) -> Value {
    match pick % 9 {
        0 => json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"}}}),
        1 => json!({"winlog": {"event_id": 4688, "channel": "Security"}}),
        2 => json!({"Records": [{}]}),
        3 => json!({"type": "device_inventory"}),
        4 => json!({"type": "identity_inventory"}),
        5 => {
            json!({"category": "SignInLogs", "createdDateTime": "2026-11-27T08:00:00Z", "userPrincipalName": "a@b.example"})
        }
        6 => json!({"eventType": "user.session.start", "published": "2026-11-27T08:00:00Z"}),
        7 => {
            json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventTime": "2026-11-27T08:00:00Z"})
        }
        _ => {
            json!({"Workload": "Exchange", "Operation": "Send", "CreationTime": "2026-11-27T08:00:00"})
        }
    }
}

fn walk(decoded: &vigil_formats::Decoded) {
    for (name, value) in decoded.event.fields() {
        std::hint::black_box((name.len(), value.len()));
    }
    std::hint::black_box((&decoded.time, decoded.entities.len(), &decoded.logsource));
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(Value::Object(fuzzed)) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let Value::Object(mut record) = markers(pick) else {
        return;
    };
    // The fuzzed keys win: the shape's decoder meets their values.
    for (k, v) in fuzzed {
        record.insert(k, v);
    }
    let record = Value::Object(record);
    if let Ok(events) = decode_value(&record) {
        events.iter().for_each(walk);
    }
    // The byte path as well (Windows shapes are decoded from bytes).
    if let Ok(bytes) = serde_json::to_vec(&record)
        && let Ok(each) = decode_records(&bytes)
    {
        each.iter().flatten().for_each(walk);
    }
});
