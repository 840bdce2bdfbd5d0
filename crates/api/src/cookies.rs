//! Cookies: reading them from a request and writing `Set-Cookie` values
//! with the attributes Vigil's cookies always carry.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The portal session: HttpOnly, so page scripts never see it.
pub const SESSION_COOKIE: &str = "vigil_session";
/// The sign-in form's CSRF token (double submit: cookie and form field).
pub const LOGIN_CSRF_COOKIE: &str = "vigil_login_csrf";

/// The value of the cookie `name`, if the request has it.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, `Secure` when the portal
/// is served over TLS. `max_age` in seconds; 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_cookie_is_found_among_others_and_empty_ones_are_absent() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; vigil_session=vgs_x"));
        h.append(COOKIE, HeaderValue::from_static("empty="));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("vgs_x"));
        assert_eq!(cookie(&h, "a"), Some("1"));
        assert_eq!(cookie(&h, "empty"), None);
        assert_eq!(cookie(&h, "vigil"), None);
    }

    #[test]
    fn set_cookie_is_httponly_samesite_and_secure_only_over_tls() {
        let plain = set_cookie(SESSION_COOKIE, "v", "/", 60, false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        assert!(set_cookie(SESSION_COOKIE, "v", "/", 60, true).ends_with("; Secure"));
    }
}
