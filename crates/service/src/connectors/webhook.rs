//! The signed-webhook connector: the task as JSON, POSTed to the customer's
//! SOAR with `X-Vigil-Timestamp` and `X-Vigil-Signature` (HMAC-SHA256 over
//! `"{timestamp}.{body}"` with the tenant's connector secret). Any 2xx
//! answer is a delivery; the outcome comes later through the callback.

use std::sync::OnceLock;
use std::time::Duration;

use vigil_core::Timestamp;
use vigil_core::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use vigil_core::tenant::{ResponseConnector, Tenant, redact_webhook_url};

use super::{Connector, Sent, TaskPayload};

/// How long one delivery may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Posts tasks to the tenant's configured URL. The HTTP client is built on
/// first use (and shared): most services never send a webhook.
#[derive(Debug, Default)]
pub struct SignedWebhook {
    client: OnceLock<Result<reqwest::Client, String>>,
}

fn build_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

#[async_trait::async_trait]
impl Connector for SignedWebhook {
    fn name(&self) -> &'static str {
        "signed_webhook"
    }

    async fn send(&self, tenant: &Tenant, payload: &TaskPayload, now: Timestamp) -> Sent {
        let ResponseConnector::SignedWebhook { url, secret } = &tenant.settings.response_connector
        else {
            return Sent::Failed("the tenant's response connector is not a signed webhook".into());
        };
        let client = match self.client.get_or_init(build_client) {
            Ok(c) => c,
            Err(e) => return Sent::Failed(e.clone()),
        };
        let body = match serde_json::to_vec(payload) {
            Ok(b) => b,
            Err(e) => return Sent::Failed(format!("cannot encode the task: {e}")),
        };
        let ts = now.as_second();
        let signature = sign(secret.expose().as_bytes(), ts, &body);
        // The URL may carry credentials: messages show scheme and host only.
        let shown = redact_webhook_url(url);
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                Sent::Delivered(format!("{shown} answered HTTP {}", r.status().as_u16()))
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                let text: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
                Sent::Failed(format!("{shown} answered HTTP {status}: {text}"))
            }
            Err(e) => Sent::Failed(format!("cannot deliver to {shown}: {}", causes(e))),
        }
    }
}

/// The error and its causes on one line, without the URL.
fn causes(e: reqwest::Error) -> String {
    let timed_out = e.is_timeout();
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if timed_out {
        text.push_str(&format!(" (no answer within {} s)", TIMEOUT.as_secs()));
    }
    text
}
