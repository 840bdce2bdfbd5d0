//! Arbitrary bytes as one JSON event: an error or an event, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_formats::{FlatEvent, flatten_json};

fuzz_target!(|data: &[u8]| {
    let mut event = FlatEvent::new();
    if flatten_json(data, &mut event).is_ok() {
        // Walk what was produced, as detection would.
        for (name, value) in event.fields() {
            std::hint::black_box((name.len(), value.len()));
        }
        std::hint::black_box((event.event_id(), event.record_id(), event.channel()));
    }
});
