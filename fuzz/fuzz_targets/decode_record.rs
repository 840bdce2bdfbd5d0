//! Arbitrary bytes as one shipped record: decoded events or an error,
//! never a panic. Each event is walked as the intake would store it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_formats::decode_records;

fuzz_target!(|data: &[u8]| {
    if let Ok(each) = decode_records(data) {
        for decoded in each.into_iter().flatten() {
            for (name, value) in decoded.event.fields() {
                std::hint::black_box((name.len(), value.len()));
            }
            std::hint::black_box((&decoded.time, decoded.entities.len(), &decoded.logsource));
        }
    }
});
