//! JSON text written by hand where serde's general writer costs too much
//! on a hot path (every event's entity list, every flattened event),
//! escaped exactly as `serde_json` escapes.

use crate::entity::Entity;

/// What a byte becomes inside a JSON string: 0 itself, `u` a `\u00XX`
/// escape, anything else the letter of its short escape (`\n`, `\"`, …).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Append `text` as a JSON string (quotes included): `"`, `\` and the
/// control characters escaped, the common ones by their short forms; the
/// rest copied a run at a time.
pub fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs escaping: most
        // names and values are plain text.
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if !needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape = ESCAPE[usize::from(b)];
        i += 1;
        if escape == 0 {
            continue;
        }
        let i = i - 1;
        // An ASCII byte: a character boundary on both sides.
        out.push_str(&text[start..i]);
        out.push('\\');
        if escape == b'u' {
            out.push_str("u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        } else {
            out.push(char::from(escape));
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Whether any of the eight bytes of `word` is a control character, a
/// quote or a backslash. Exact: the classic SWAR tests answer "is any
/// byte …" without error, though not "which byte".
#[inline]
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below 0x20 (bytes of 0x80 and up have their high bit set, so
    // `!word` clears it for them).
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    control | quote | backslash != 0
}

/// `entities` as JSON, the same text as `serde_json::to_string` gives.
pub fn entities(entities: &[Entity]) -> String {
    let mut out = String::with_capacity(2 + entities.len() * 48);
    out.push('[');
    for (i, e) in entities.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"kind\":\"");
        // Kind names are lowercase letters and underscores.
        out.push_str(e.kind.as_str());
        out.push_str("\",\"value\":");
        push_string(&mut out, &e.value);
        out.push('}');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::EntityKind;

    fn tricky() -> Vec<String> {
        let mut tricky: Vec<String> = (0u8..0x80)
            .map(|b| format!("a{}z", char::from(b)))
            .collect();
        tricky.extend(
            [
                "",
                "plain",
                r#"C:\Windows\System32\cmd.exe /c "x""#,
                "línea\nnueva\ttab\r",
                "\u{7f}\u{80}\u{2028}\u{1F600}",
                "\"\"\\\\",
            ]
            .map(String::from),
        );
        tricky
    }

    #[test]
    fn a_byte_to_escape_is_found_at_every_place_in_a_long_string() {
        // Long enough for several eight-byte steps, with multi-byte
        // characters around, and each byte that needs escaping (and its
        // neighbours that do not) at each place.
        let base: Vec<char> = "abcdéfgh€ijklmnopqrstuvwxyz0123".chars().collect();
        let specials = (0u8..0x20)
            .chain([b'"', b'\\', 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f])
            .map(char::from);
        for c in specials {
            for at in 0..=base.len() {
                let mut text: String = base[..at].iter().collect();
                text.push(c);
                text.extend(&base[at..]);
                let mut out = String::new();
                push_string(&mut out, &text);
                assert_eq!(
                    out,
                    serde_json::to_string(&text).expect("json"),
                    "{c:?} at {at}"
                );
            }
        }
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        for text in &tricky() {
            let mut ours = String::new();
            push_string(&mut ours, text);
            let theirs = serde_json::to_string(text).expect("serialises");
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn an_entity_list_is_the_text_serde_json_writes() {
        let list: Vec<Entity> = tricky()
            .into_iter()
            .zip(EntityKind::ALL.iter().cycle())
            .map(|(value, kind)| Entity::new(*kind, value))
            .collect();
        for n in [0, 1, 2, list.len()] {
            let theirs = serde_json::to_string(&list[..n]).expect("serialises");
            assert_eq!(entities(&list[..n]), theirs);
        }
    }
}
