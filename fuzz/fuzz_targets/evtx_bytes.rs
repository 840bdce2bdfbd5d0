//! Arbitrary bytes as an EVTX file held in memory: events and record
//! errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_formats::read::read_evtx_bytes;

fuzz_target!(|data: &[u8]| {
    let mut events = 0u64;
    let mut errors = 0u64;
    let stats = read_evtx_bytes(
        data.to_vec(),
        &mut |_, event| {
            events += 1;
            std::hint::black_box(event.len());
        },
        &mut |e| {
            errors += 1;
            std::hint::black_box(e.to_string());
        },
    );
    assert_eq!((stats.events, stats.errors), (events, errors));
});
