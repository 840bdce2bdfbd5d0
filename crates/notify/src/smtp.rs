//! Email over SMTP with lettre: plain SMTP (for a relay on the same host
//! or network, and tests), STARTTLS, or implicit TLS, with optional AUTH.

use std::str::FromStr;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use vigil_service::SendError;

use crate::BuildError;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpSecurity {
    /// No TLS: only for a relay on a trusted network (or loopback).
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

impl FromStr for SmtpSecurity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" | "implicit" => Ok(SmtpSecurity::Tls),
            other => Err(format!(
                "unknown SMTP security {other:?}: expected none, starttls or tls"
            )),
        }
    }
}

/// Where and how to send email.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    /// `None`: the security's usual port.
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    /// AUTH user name; no AUTH when empty.
    pub username: String,
    pub password: String,
    /// The sender: `vigil@mdr.example` or `Vigil <vigil@mdr.example>`.
    pub from: String,
    /// For connecting and for each SMTP command.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends one message per delivery, over a fresh connection.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSender {
    pub fn new(c: &SmtpConfig) -> Result<Self, BuildError> {
        let host = c.host.trim();
        if host.is_empty() {
            return Err(BuildError::Host("empty".into()));
        }
        let from: Mailbox = c.from.parse().map_err(|_| BuildError::From {
            value: c.from.clone(),
        })?;
        let tls_params = || {
            TlsParameters::new(host.to_owned()).map_err(|e| BuildError::Tls {
                host: host.to_owned(),
                reason: e.to_string(),
            })
        };
        let tls = match c.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_params()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_params()?),
        };
        let port = c.port.unwrap_or_else(|| c.security.default_port());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(c.timeout));
        if !c.username.is_empty() {
            builder = builder.credentials(Credentials::new(c.username.clone(), c.password.clone()));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            server: format!("{host}:{port}"),
        })
    }

    /// Send one email with a plain-text body and an HTML alternative. A
    /// bad address or a 5xx reply is permanent; the rest is worth retrying.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("{to:?} is not a valid recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            ))
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let what = format!("SMTP server {}: {}", self.server, error_chain(&e));
                if e.is_permanent() {
                    Err(SendError::Permanent(what))
                } else {
                    Err(SendError::Transient(what))
                }
            }
        }
    }
}

/// An error and its sources on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out.replace(['\r', '\n'], " ")
}
