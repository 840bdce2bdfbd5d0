//! Arbitrary bytes as JSON lines, split and flattened line by line as
//! `read_file(.., FileKind::JsonLines, ..)` does: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_formats::{FlatEvent, flatten_json};

fuzz_target!(|data: &[u8]| {
    // One event reused across lines, as the reader does: a line must not be
    // disturbed by what the previous (possibly failed) line left behind.
    let mut event = FlatEvent::new();
    for line in data.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if flatten_json(line, &mut event).is_ok() {
            std::hint::black_box(event.fields().count());
        }
    }
});
