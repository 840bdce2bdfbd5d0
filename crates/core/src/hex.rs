//! Lowercase hexadecimal text of bytes (digests, tokens, keys), without a
//! formatting call per byte: deduplication keys and content hashes are
//! made for every event and every detection.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hexadecimal, two digits a byte.
pub fn lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_lower(&mut out, bytes);
    out
}

/// Append `bytes` to `out` as lowercase hexadecimal.
pub fn push_lower(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_is_written_as_two_lowercase_digits_as_format_writes_it() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(lower(&bytes), expected);
        let mut out = String::from("v1=");
        push_lower(&mut out, &[0x00, 0xab, 0xff]);
        assert_eq!(out, "v1=00abff");
        assert_eq!(lower(&[]), "");
    }
}
