//! Arbitrary bytes as one JSON event: an error or an event, never a panic;
//! and the fast path agrees with serde's parser wherever it answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_formats::flatten::flatten_json_reference;
use vigil_formats::{FlatEvent, flatten_json};

fuzz_target!(|data: &[u8]| {
    let mut event = FlatEvent::new();
    let ours = flatten_json(data, &mut event);
    let mut reference = FlatEvent::new();
    let theirs = flatten_json_reference(data, &mut reference);
    assert_eq!(ours.is_ok(), theirs.is_ok(), "accepted by one parser only");
    if ours.is_ok() {
        assert!(
            event.fields().eq(reference.fields()),
            "the fast path flattened differently"
        );
        // Walk what was produced, as detection would.
        for (name, value) in event.fields() {
            std::hint::black_box((name.len(), value.len()));
        }
        std::hint::black_box((event.event_id(), event.record_id(), event.channel()));
    }
});
