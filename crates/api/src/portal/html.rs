//! The sign-in and password pages, server-rendered with every
//! interpolated value escaped (the other pages are templates).

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Text made safe for HTML content and quoted attribute values.
pub use vigil_service::render::escape_html as escape;

/// A whole page: `body` is already HTML. The stylesheet and script come
/// from `/assets` (the content security policy allows nothing inline).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let v = super::assets::version();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Vigil</title>\
         <link rel=\"stylesheet\" href=\"/assets/portal.css?v={v}\">\
         <script src=\"/assets/portal.js?v={v}\"></script>\
         </head><body><main class=\"narrow\" id=\"content\">{body}</main></body></html>",
        escape(title)
    );
    let mut response = (status, html).into_response();
    super::page::page_headers(response.headers_mut());
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
