//! Security headers on every response (OWASP ASVS V14.4): one layer, so no
//! handler can forget them. The content security policy allows no inline
//! script or style: the portal's pages load their scripts and styles from
//! files served by Vigil itself.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The content security policy of every response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// `Strict-Transport-Security` when Vigil is reached over TLS: two years,
/// subdomains included. Sent only then: over plain HTTP browsers ignore it,
/// and a wrong one locks users out of a host for its lifetime.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

const FIXED: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Set the security headers on `response`; `hsts` when Vigil is reached
/// over TLS. A handler's own content security policy is kept: the only
/// handlers that send one send a narrower policy for a document of their
/// own (the self-contained service report: its inline style, no script at
/// all); every other header is replaced, the same everywhere.
pub fn apply(response: &mut Response, hsts: bool) {
    let headers = response.headers_mut();
    for (name, value) in FIXED {
        if name == header::CONTENT_SECURITY_POLICY && headers.contains_key(&name) {
            continue;
        }
        headers.insert(name, HeaderValue::from_static(value));
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
}

pub async fn with_hsts(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    apply(&mut response, true);
    response
}

pub async fn without_hsts(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    apply(&mut response, false);
    response
}
