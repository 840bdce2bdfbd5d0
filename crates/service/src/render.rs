//! What a notification looks like on each channel: an email (plain text
//! and HTML), and the JSON bodies of generic, Slack and Teams webhooks.
//! Plain Rust formatting: the shapes are small, and every piece of text
//! that came from people or telemetry is escaped for its medium here.

use serde_json::{Value, json};
use vigil_core::Timestamp;
use vigil_core::notification::Notification;
use vigil_core::tenant::WebhookFormat;

/// What every channel's message is made from.
#[derive(Debug, Clone, Copy)]
pub struct MessageParts<'a> {
    pub notification: &'a Notification,
    /// The tenant's slug, as in the portal's paths.
    pub tenant: &'a str,
    /// The tenant's display name.
    pub tenant_name: &'a str,
    /// The notification's link made absolute, if it has one.
    pub link: Option<&'a str>,
}

/// A portal path made absolute with the server's public URL. A link that
/// is already absolute is kept as it is.
pub fn absolute_link(public_url: &str, link: &str) -> String {
    if link.starts_with("https://") || link.starts_with("http://") {
        return link.to_owned();
    }
    let base = public_url.trim_end_matches('/');
    if link.starts_with('/') {
        format!("{base}{link}")
    } else {
        format!("{base}/{link}")
    }
}

/// Text safe inside HTML elements and double- or single-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn footer(m: &MessageParts<'_>) -> String {
    format!(
        "Sent by Vigil for {} (notification {}).",
        m.tenant_name, m.notification.id
    )
}

/// The plain-text email.
pub fn email_text(m: &MessageParts<'_>) -> String {
    let mut out = m.notification.body.trim_end().to_owned();
    if let Some(link) = m.link {
        out.push_str("\n\nOpen in Vigil: ");
        out.push_str(link);
    }
    out.push_str("\n\n-- \n");
    out.push_str(&footer(m));
    out.push('\n');
    out
}

/// The HTML alternative: the same text, escaped, paragraph by paragraph.
pub fn email_html(m: &MessageParts<'_>) -> String {
    let n = m.notification;
    let subject = escape_html(&n.subject);
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{subject}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.4\">\n<h2>{subject}</h2>\n"
    );
    for para in n.body.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<String> = para.trim().lines().map(escape_html).collect();
        out.push_str("<p>");
        out.push_str(&lines.join("<br>\n"));
        out.push_str("</p>\n");
    }
    if let Some(link) = m.link {
        out.push_str(&format!(
            "<p><a href=\"{}\">Open in Vigil</a></p>\n",
            escape_html(link)
        ));
    }
    out.push_str(&format!(
        "<hr><p style=\"color:#666;font-size:small\">{}</p>\n</body></html>\n",
        escape_html(&footer(m))
    ));
    out
}

/// The JSON body of a webhook in the channel's format.
pub fn webhook_body(format: WebhookFormat, m: &MessageParts<'_>, sent_at: Timestamp) -> Value {
    match format {
        WebhookFormat::Generic => generic(m, sent_at),
        WebhookFormat::Slack => slack(m),
        WebhookFormat::Teams => teams(m),
    }
}

/// `{kind, tenant, subject, body, link, incident, notification_id, sent_at}`.
fn generic(m: &MessageParts<'_>, sent_at: Timestamp) -> Value {
    let n = m.notification;
    json!({
        "kind": n.kind,
        "tenant": m.tenant,
        "subject": n.subject,
        "body": n.body,
        "link": m.link,
        "incident": n.incident,
        "notification_id": n.id,
        "sent_at": sent_at,
    })
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters.
fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters, with an ellipsis when cut (Slack refuses
/// blocks over their limits: 150 for a header, 3000 for a section).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `{"text": …, "blocks": [header, section, context, actions?]}`.
fn slack(m: &MessageParts<'_>) -> Value {
    let n = m.notification;
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&n.subject, 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&escape_slack(n.body.trim_end()), 3000)}}),
        json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": escape_slack(&format!("{} · {}", m.tenant_name, n.kind))}
        ]}),
    ];
    if let Some(link) = m.link {
        blocks.push(json!({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open in Vigil"}, "url": link}
        ]}));
    }
    json!({"text": escape_slack(&n.subject), "blocks": blocks})
}

/// A message carrying one Adaptive Card: the shape Teams workflows
/// ("Post to a channel when a webhook request is received") accept.
fn teams(m: &MessageParts<'_>) -> Value {
    let n = m.notification;
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": n.subject, "weight": "Bolder", "size": "Medium", "wrap": true},
            {"type": "TextBlock", "text": n.body.trim_end(), "wrap": true},
            {"type": "FactSet", "facts": [
                {"title": "Tenant", "value": m.tenant_name},
                {"title": "Kind", "value": n.kind.as_str()},
            ]},
        ],
    });
    if let Some(link) = m.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in Vigil", "url": link}]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

#[cfg(test)]
mod tests {
    use vigil_core::notification::{Audience, NotificationId, NotificationKind};

    use super::*;

    fn note() -> Notification {
        let at: Timestamp = "2026-11-27T09:00:00Z".parse().expect("time");
        Notification {
            id: NotificationId::new_at(at),
            tenant_id: vigil_core::TenantId::new_at(at),
            kind: NotificationKind::ResponsePublished,
            audience: Audience::IncidentContacts,
            subject: "Action required: <script>alert(1)</script> & more".into(),
            body: "Disable \"mallory\" <now>.\n\nYour team must act on 1 task(s):\n- disable_user on mallory".into(),
            link: Some("/tenants/acme/incidents/x".into()),
            incident: None,
            created_at: at,
        }
    }

    fn parts(n: &Notification) -> MessageParts<'_> {
        MessageParts {
            notification: n,
            tenant: "acme",
            tenant_name: "Acme & Sons",
            link: Some("https://vigil.example/tenants/acme/incidents/x"),
        }
    }

    #[test]
    fn links_are_made_absolute_with_the_public_url_once() {
        assert_eq!(
            absolute_link("https://vigil.example/", "/tenants/acme"),
            "https://vigil.example/tenants/acme"
        );
        assert_eq!(
            absolute_link("http://localhost:8080", "tenants/acme"),
            "http://localhost:8080/tenants/acme"
        );
        assert_eq!(
            absolute_link("http://localhost:8080", "https://elsewhere.example/x"),
            "https://elsewhere.example/x"
        );
    }

    #[test]
    fn the_html_email_escapes_everything_people_wrote() {
        let n = note();
        let html = email_html(&parts(&n));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert!(html.contains("Disable &quot;mallory&quot; &lt;now&gt;."));
        assert!(html.contains("Acme &amp; Sons"));
        assert!(
            html.contains("<a href=\"https://vigil.example/tenants/acme/incidents/x\">"),
            "{html}"
        );
        assert!(html.contains("task(s):<br>\n- disable_user on mallory"));
    }

    #[test]
    fn the_text_email_carries_the_body_and_the_absolute_link() {
        let n = note();
        let text = email_text(&parts(&n));
        assert!(text.starts_with("Disable \"mallory\" <now>."));
        assert!(
            text.contains("\n\nOpen in Vigil: https://vigil.example/tenants/acme/incidents/x\n")
        );
        assert!(text.ends_with(&format!("(notification {}).\n", n.id)));
    }

    #[test]
    fn each_webhook_format_has_its_shape() {
        let n = note();
        let at: Timestamp = "2026-11-27T09:00:05Z".parse().expect("time");
        let generic = webhook_body(WebhookFormat::Generic, &parts(&n), at);
        for key in [
            "kind",
            "tenant",
            "subject",
            "body",
            "link",
            "incident",
            "notification_id",
            "sent_at",
        ] {
            assert!(generic.get(key).is_some(), "generic body without {key}");
        }
        assert_eq!(generic["kind"], "response_published");
        assert_eq!(generic["tenant"], "acme");
        assert_eq!(generic["sent_at"], "2026-11-27T09:00:05Z");
        let slack = webhook_body(WebhookFormat::Slack, &parts(&n), at);
        assert_eq!(
            slack["text"],
            "Action required: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more"
        );
        assert_eq!(slack["blocks"][0]["type"], "header");
        assert_eq!(
            slack["blocks"][3]["elements"][0]["url"],
            "https://vigil.example/tenants/acme/incidents/x"
        );
        let teams = webhook_body(WebhookFormat::Teams, &parts(&n), at);
        let card = &teams["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");
    }

    #[test]
    fn slack_blocks_stay_within_slacks_limits() {
        let mut n = note();
        n.subject = "s".repeat(400);
        n.body = "b".repeat(5000);
        let slack = webhook_body(WebhookFormat::Slack, &parts(&n), Timestamp::UNIX_EPOCH);
        let header = slack["blocks"][0]["text"]["text"].as_str().expect("header");
        let section = slack["blocks"][1]["text"]["text"]
            .as_str()
            .expect("section");
        assert_eq!(header.chars().count(), 150);
        assert_eq!(section.chars().count(), 3000);
    }
}
