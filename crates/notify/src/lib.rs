//! Vigil's notification senders, behind `vigil_service::Outbound`: email
//! over SMTP ([`smtp`], lettre) and webhooks over HTTP(S) ([`webhook`],
//! reqwest). Both use rustls with the aws-lc-rs provider; nothing here
//! links OpenSSL. They only carry messages: rendering, signing, retries and the
//! delivery log belong to the service.

pub mod smtp;
pub mod webhook;

use vigil_service::{Outbound, SendError};

pub use smtp::{SmtpConfig, SmtpSecurity, SmtpSender};
pub use webhook::{WEBHOOK_TIMEOUT, WebhookSender};

/// A sender could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("smtp.from: {value:?} is not an email address or \"Name <address>\"")]
    From { value: String },
    #[error("smtp.host: {0}")]
    Host(String),
    #[error("smtp TLS for {host}: {reason}")]
    Tls { host: String, reason: String },
    #[error("cannot build the HTTP client for webhooks: {0}")]
    Http(String),
}

/// Email and webhooks together: what `vigil serve` hands the delivery
/// worker. Without SMTP settings, email deliveries fail as transient (so
/// they go out once SMTP is configured, within the retry schedule).
#[derive(Debug, Clone)]
pub struct Senders {
    email: Option<SmtpSender>,
    webhooks: WebhookSender,
}

impl Senders {
    pub fn new(smtp: Option<&SmtpConfig>) -> Result<Self, BuildError> {
        Ok(Senders {
            email: smtp.map(SmtpSender::new).transpose()?,
            webhooks: WebhookSender::new()?,
        })
    }
}

#[async_trait::async_trait]
impl Outbound for Senders {
    async fn send_email(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), SendError> {
        match &self.email {
            Some(s) => s.send(to, subject, text, html).await,
            None => Err(SendError::Transient(
                "email is not configured on this server (smtp.host is empty)".into(),
            )),
        }
    }

    async fn post_webhook(
        &self,
        url: &str,
        body: &[u8],
        headers: &[(&'static str, String)],
    ) -> Result<(), SendError> {
        self.webhooks.post(url, body, headers).await
    }
}
