//! Arbitrary UTF-8 as a readiness catalogue (TOML): a validated catalogue
//! or an error, never a panic. A catalogue that parses is also used, as
//! the assessment uses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_readiness::Catalogue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(catalogue) = Catalogue::parse(text) {
        std::hint::black_box(catalogue.lookback_days());
        for check in &catalogue.checks {
            std::hint::black_box((check.id.len(), check.weight));
        }
    }
});
