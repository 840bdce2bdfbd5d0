//! Arbitrary UTF-8 as a KQL hunting query: compiled (parse, plan, SQL) for
//! both dialects, a query or an error with its position, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_hunt::{CompileOptions, compile_for, sql};

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let options = CompileOptions {
            now_micros: 1_800_000_000_000_000,
            tenants: vec!["t1".into(), "t2".into()],
            keep_tenant: data.first().is_some_and(|b| b & 1 == 1),
            default_lookback_micros: 7 * 86_400_000_000,
            window: None,
        };
        std::hint::black_box(compile_for(src, &options, &sql::Sqlite).ok());
        std::hint::black_box(compile_for(src, &options, &sql::Postgres).ok());
    }
});
