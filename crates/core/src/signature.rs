//! Signatures on what Vigil posts to other systems (notification webhooks,
//! the signed-webhook response connector) and on what they post back.
//!
//! The signature is HMAC-SHA256 over `"{timestamp}.{body}"` with the shared
//! secret, sent as `X-Vigil-Timestamp: <unix seconds>` and
//! `X-Vigil-Signature: v1=<lowercase hex>`. Binding the timestamp stops a
//! captured request from being replayed later; the receiver refuses
//! timestamps too far from its clock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Timestamp;

pub const TIMESTAMP_HEADER: &str = "X-Vigil-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Vigil-Signature";
/// How far a signed timestamp may be from the receiver's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Vigil-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    let mut out = String::with_capacity(3 + tag.len() * 2);
    out.push_str("v1=");
    crate::hex::push_lower(&mut out, &tag);
    out
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {TIMESTAMP_HEADER} header is missing or not a number of seconds")]
    BadTimestamp,
    #[error("the signed timestamp is {0} s from now: more than {MAX_SKEW_SECONDS} s")]
    Stale(i64),
    #[error("the {SIGNATURE_HEADER} header is missing or not v1=<hex>")]
    BadFormat,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Check a signature made by [`sign`], in constant time, and that the
/// timestamp is within [`MAX_SKEW_SECONDS`] of `now`.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: Timestamp,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now.as_second() - ts;
    if skew.abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale(skew));
    }
    let hex = signature
        .trim()
        .strip_prefix("v1=")
        .ok_or(SignatureError::BadFormat)?;
    let tag = decode_hex(hex).ok_or(SignatureError::BadFormat)?;
    mac(secret, ts, body)
        .verify_slice(&tag)
        .map_err(|_| SignatureError::Mismatch)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("valid time")
    }

    #[test]
    fn a_signature_matches_the_value_openssl_computes() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'k'
        let sig = sign(b"k", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            sig,
            "v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3"
        );
        assert_eq!(
            verify(b"k", "1700000000", &sig, br#"{"a":1}"#, at(1_700_000_010)),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_secret_or_timestamp_does_not_verify() {
        let sig = sign(b"secret-secret-16", 100, b"body");
        assert_eq!(
            verify(b"secret-secret-16", "100", &sig, b"bodY", at(100)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other-secret-16!", "100", &sig, b"body", at(100)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret-secret-16", "101", &sig, b"body", at(100)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn an_old_or_malformed_signature_is_refused_with_the_reason() {
        let sig = sign(b"k", 100, b"x");
        assert_eq!(
            verify(b"k", "100", &sig, b"x", at(100 + MAX_SKEW_SECONDS + 1)),
            Err(SignatureError::Stale(MAX_SKEW_SECONDS + 1))
        );
        assert_eq!(
            verify(b"k", "soon", &sig, b"x", at(100)),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(b"k", "100", "sha1=00", b"x", at(100)),
            Err(SignatureError::BadFormat)
        );
        assert_eq!(
            verify(b"k", "100", "v1=zz", b"x", at(100)),
            Err(SignatureError::BadFormat)
        );
    }
}
