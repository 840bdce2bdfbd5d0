//! Signed webhooks: `X-Vigil-Signature: v1=<hex HMAC-SHA256>` over
//! `"{timestamp}.{body}"` with a shared secret, and `X-Vigil-Timestamp`
//! in Unix seconds. The timestamp is signed so a captured request cannot be
//! replayed later than the tolerance; verification compares in constant
//! time. Pure: the caller passes "now".

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the Unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Vigil-Timestamp";
/// The header carrying `v1=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Vigil-Signature";
/// How far a signed timestamp may be from the receiver's clock: 5 minutes.
pub const TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed request was refused; each message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {TIMESTAMP_HEADER} header is missing")]
    MissingTimestamp,
    #[error("the {SIGNATURE_HEADER} header is missing")]
    MissingSignature,
    #[error("the {TIMESTAMP_HEADER} header {0:?} is not Unix seconds")]
    BadTimestamp(String),
    #[error(
        "the {TIMESTAMP_HEADER} header is {off} s away from the server's clock (at most {TOLERANCE_SECS} s allowed): sign with the current time"
    )]
    Stale { off: i64 },
    #[error("the {SIGNATURE_HEADER} header is not v1=<64 hex digits>")]
    Malformed,
    #[error(
        "the {SIGNATURE_HEADER} does not match: sign \"{{timestamp}}.{{body}}\" with the tenant's connector secret"
    )]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `X-Vigil-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(3 + 64);
    out.push_str("v1=");
    for b in tag {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Check the two headers (as received; `None` when absent) against `body`,
/// with `now` in Unix seconds. The signature comparison is constant-time.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let ts_text = timestamp.ok_or(SignatureError::MissingTimestamp)?.trim();
    let signature = signature.ok_or(SignatureError::MissingSignature)?.trim();
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| SignatureError::BadTimestamp(ts_text.chars().take(40).collect()))?;
    let off = now.saturating_sub(ts).saturating_abs();
    if off > TOLERANCE_SECS {
        return Err(SignatureError::Stale { off });
    }
    let tag = signature
        .strip_prefix("v1=")
        .and_then(unhex)
        .filter(|t| t.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    mac(secret, ts, body)
        .verify_slice(&tag)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef-secret";

    #[test]
    fn a_signature_verifies_with_the_same_secret_and_body() {
        let sig = sign(KEY, 1_700_000_000, b"{\"a\":1}");
        assert!(sig.starts_with("v1=") && sig.len() == 67, "{sig}");
        verify(
            KEY,
            Some("1700000000"),
            Some(&sig),
            b"{\"a\":1}",
            1_700_000_100,
        )
        .expect("verifies");
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently (Python's hmac module).
        assert_eq!(
            sign(b"key", 0, b"x"),
            "v1=01648d624c0b511b0449a63394418e2d5b018e4cc2f753e42127d445f3ca5dd0"
        );
    }

    #[test]
    fn a_changed_body_secret_or_timestamp_is_refused() {
        let sig = sign(KEY, 1000, b"body");
        let now = 1000;
        assert_eq!(
            verify(KEY, Some("1000"), Some(&sig), b"b0dy", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                b"another-secret-key",
                Some("1000"),
                Some(&sig),
                b"body",
                now
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(KEY, Some("1001"), Some(&sig), b"body", now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stale_missing_and_malformed_headers_are_named() {
        let sig = sign(KEY, 1000, b"body");
        assert_eq!(
            verify(KEY, Some("1000"), Some(&sig), b"body", 1000 + 301),
            Err(SignatureError::Stale { off: 301 })
        );
        assert!(verify(KEY, Some("1000"), Some(&sig), b"body", 1000 - 300).is_ok());
        assert_eq!(
            verify(KEY, None, Some(&sig), b"body", 1000),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify(KEY, Some("1000"), None, b"body", 1000),
            Err(SignatureError::MissingSignature)
        );
        assert!(matches!(
            verify(KEY, Some("soon"), Some(&sig), b"body", 1000),
            Err(SignatureError::BadTimestamp(_))
        ));
        for bad in ["v2=00", "v1=zz", "v1=abc", "deadbeef"] {
            assert_eq!(
                verify(KEY, Some("1000"), Some(bad), b"body", 1000),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        let message = SignatureError::Stale { off: 400 }.to_string();
        assert!(message.contains("400 s"), "{message}");
    }
}
