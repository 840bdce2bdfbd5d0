//! Arbitrary UTF-8 as a Sigma rule file: rules and diagnostics, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(yaml) = std::str::from_utf8(data) {
        std::hint::black_box(vigil_sigma::load_str(yaml, "fuzz.yml"));
    }
});
