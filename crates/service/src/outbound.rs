//! The way out of Vigil for notifications. The service renders and signs
//! each message; an [`Outbound`] only carries it (SMTP and HTTP live in
//! `vigil-notify`, so this crate depends on neither lettre nor reqwest, and
//! tests can put anything behind the trait).

/// Why a message could not be handed over. The delivery worker retries a
/// transient failure on the back-off schedule and dead-letters a permanent
/// one at once. Messages never hold a webhook URL or a secret: they are
/// kept in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Trying again will not help: a malformed address, a 4xx answer (other
    /// than 408 and 429), an SMTP 5xx reply.
    #[error("{0}")]
    Permanent(String),
    /// Worth another try later: connection refused, timeouts, 5xx answers,
    /// SMTP 4xx replies, a sender not configured yet.
    #[error("{0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }
}

/// Sends rendered messages.
#[async_trait::async_trait]
pub trait Outbound: Send + Sync + std::fmt::Debug {
    /// One email to one address, as plain text with an HTML alternative.
    async fn send_email(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), SendError>;

    /// POST `body` (JSON) to `url` with these extra headers (the signature).
    /// Success is any 2xx answer.
    async fn post_webhook(
        &self,
        url: &str,
        body: &[u8],
        headers: &[(&'static str, String)],
    ) -> Result<(), SendError>;
}
