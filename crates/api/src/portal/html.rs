//! The portal's HTML: a page layout and the forms, server-rendered with
//! every interpolated value escaped. No scripts and no inline style: the
//! content security policy (`crate::headers`) allows neither, so the style
//! sheet is a file of its own (`/portal.css`).

use std::fmt::Write as _;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Text made safe for HTML content and quoted attribute values.
pub use vigil_service::render::escape_html as escape;

/// The portal's style sheet, served at `/portal.css`.
pub const STYLE_SHEET: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}\
label{display:block;margin:.8rem 0 .2rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}\
button{margin-top:1rem;font-size:1rem;padding:.4rem 1rem}.error{color:#a40e26}.notice{color:#1a7f37}\
table{border-collapse:collapse}td,th{padding:.2rem .8rem;text-align:left;border-bottom:1px solid #d0d7de}\n";

/// `GET /portal.css`
pub async fn style_sheet() -> Response {
    let mut response = STYLE_SHEET.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

/// A whole page: `body` is already HTML.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Vigil</title>\
         <link rel=\"stylesheet\" href=\"/portal.css\">\
         </head><body><main>{body}</main></body></html>",
        escape(title)
    );
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn message(error: Option<&str>, notice: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(e) = error {
        let _ = write!(out, "<p class=\"error\" role=\"alert\">{}</p>", escape(e));
    }
    if let Some(n) = notice {
        let _ = write!(out, "<p class=\"notice\" role=\"status\">{}</p>", escape(n));
    }
    out
}

/// The sign-in form. `csrf` is the value also set in the form's cookie.
pub fn login(csrf: &str, email: &str, error: Option<&str>) -> String {
    format!(
        "<h1>Sign in to Vigil</h1>{}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\">\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        message(error, None),
        escape(csrf),
        escape(email),
    )
}

/// The sign-out button, carrying the session's CSRF token.
fn logout_form(csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Sign out</button></form>",
        escape(csrf)
    )
}

/// What a signed-in user sees first.
pub struct Home<'a> {
    pub email: &'a str,
    pub role: &'a str,
    /// (slug, name, lifecycle)
    pub tenants: Vec<(String, String, String)>,
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
}

pub fn home(h: &Home<'_>) -> String {
    let mut rows = String::new();
    for (slug, name, lifecycle) in &h.tenants {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(slug),
            escape(name),
            escape(lifecycle)
        );
    }
    format!(
        "<h1>Vigil</h1>{}<p>Signed in as <strong id=\"who\">{}</strong> ({})</p>\
         <h2>Tenants</h2><table id=\"tenants\"><thead><tr><th>Slug</th><th>Name</th><th>Lifecycle</th></tr></thead><tbody>{rows}</tbody></table>\
         <p><a href=\"/account/password\">Change password</a></p>{}",
        message(None, h.notice),
        escape(h.email),
        escape(h.role),
        logout_form(h.csrf),
    )
}

/// The password change form.
pub fn password(csrf: &str, error: Option<&str>, notice: Option<&str>) -> String {
    format!(
        "<h1>Change password</h1>{}\
         <form method=\"post\" action=\"/account/password\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"current\">Current password</label><input id=\"current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required>\
         <label for=\"new\">New password (at least 12 characters)</label><input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" required minlength=\"12\">\
         <label for=\"confirm\">New password again</label><input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required minlength=\"12\">\
         <button type=\"submit\">Change password</button></form><p><a href=\"/\">Back</a></p>",
        message(error, notice),
        escape(csrf),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            escape(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
        let form = login("t", "\"><script>alert(1)</script>", Some("<b>"));
        assert!(!form.contains("<script>"));
        assert!(form.contains("&lt;b&gt;"));
    }
}
