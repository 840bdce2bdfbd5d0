//! Webhooks over HTTP(S) with reqwest: one POST per delivery, a 10 s
//! limit, redirects not followed (a signed message goes only where the
//! channel says). Error messages never carry the URL: Slack and Teams
//! put their credential in its path.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use vigil_service::SendError;

use crate::BuildError;
use crate::smtp::error_chain;

/// The most one webhook call may take, connecting included.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error answer's body is kept in the delivery log.
const ERROR_BODY_CHARS: usize = 200;

#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
}

impl WebhookSender {
    pub fn new() -> Result<Self, BuildError> {
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .connect_timeout(WEBHOOK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError::Http(error_chain(&e.without_url())))?;
        Ok(WebhookSender { client })
    }

    /// POST the body. 2xx is success; 408, 429 and 5xx answers, timeouts
    /// and connection failures are transient; other answers are permanent.
    pub async fn post(
        &self,
        url: &str,
        body: &[u8],
        headers: &[(&'static str, String)],
    ) -> Result<(), SendError> {
        let mut req = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Err(classify(e)),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let said = short_body(resp).await;
        let what = match said {
            Some(text) => format!("the receiver answered {status}: {text}"),
            None => format!("the receiver answered {status}"),
        };
        if transient_status(status) {
            Err(SendError::Transient(what))
        } else {
            Err(SendError::Permanent(what))
        }
    }
}

fn transient_status(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

fn classify(e: reqwest::Error) -> SendError {
    let timeout = e.is_timeout();
    let builder = e.is_builder();
    let text = error_chain(&e.without_url());
    if builder {
        SendError::Permanent(format!("the webhook URL cannot be used: {text}"))
    } else if timeout {
        SendError::Transient(format!(
            "no answer within {} s: {text}",
            WEBHOOK_TIMEOUT.as_secs()
        ))
    } else {
        SendError::Transient(format!("cannot reach the receiver: {text}"))
    }
}

/// The start of an error answer's body, on one line, reading no more
/// than needed.
async fn short_body(mut resp: reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_CHARS * 4 {
        match resp.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_BODY_CHARS)
        .collect();
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_timeouts_and_rate_limits_are_worth_retrying_other_refusals_are_not() {
        for code in [500, 502, 503, 408, 429] {
            assert!(transient_status(StatusCode::from_u16(code).expect("code")));
        }
        for code in [400, 401, 403, 404, 410, 301] {
            assert!(!transient_status(StatusCode::from_u16(code).expect("code")));
        }
    }
}
