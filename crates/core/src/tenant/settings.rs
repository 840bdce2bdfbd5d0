//! Tenant settings (PRODUCT.md §3).

use std::fmt;
use std::str::FromStr;

use super::SlaPolicy;
use crate::Timestamp;

/// Everything a provider and customer agree on at onboarding.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// `None` until the customer has chosen.
    pub authorisation: Option<ResponseAuthorisation>,
    /// Assets experts must never remediate directly.
    pub exclusions: Vec<AssetRef>,
    /// When the exclusions were last reviewed with the customer.
    pub exclusions_reviewed_at: Option<Timestamp>,
    pub coverage: Coverage,
    pub contacts: Vec<Contact>,
    pub channels: Vec<Channel>,
    pub sla: SlaPolicy,
    pub ir_provider: Option<IrProvider>,
    /// Days in `monitoring` before the tenant may go `live`.
    pub learning_period_days: u32,
    /// Days data is kept in `offboarding` before deletion.
    pub grace_period_days: u32,
    /// Days telemetry is kept before the purge job deletes it.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Alerts sharing a key entity this many hours apart join one incident.
    #[serde(default = "default_incident_window_hours")]
    pub incident_window_hours: u32,
    /// How the experts carry out managed tasks (manual by default).
    #[serde(default)]
    pub response_connector: ResponseConnector,
    /// Thresholds of the major-incident criteria (docs/major-incidents.md).
    #[serde(default)]
    pub major: crate::major::MajorThresholds,
}

fn default_incident_window_hours() -> u32 {
    TenantSettings::DEFAULT_INCIDENT_WINDOW_HOURS
}

fn default_retention_days() -> u32 {
    TenantSettings::DEFAULT_RETENTION_DAYS
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            authorisation: None,
            exclusions: Vec::new(),
            exclusions_reviewed_at: None,
            coverage: Coverage::All,
            contacts: Vec::new(),
            channels: Vec::new(),
            sla: SlaPolicy::default(),
            ir_provider: None,
            learning_period_days: Self::DEFAULT_LEARNING_PERIOD_DAYS,
            grace_period_days: Self::DEFAULT_GRACE_PERIOD_DAYS,
            retention_days: Self::DEFAULT_RETENTION_DAYS,
            incident_window_hours: Self::DEFAULT_INCIDENT_WINDOW_HOURS,
            response_connector: ResponseConnector::Manual,
            major: crate::major::MajorThresholds::default(),
        }
    }
}

impl TenantSettings {
    pub const DEFAULT_LEARNING_PERIOD_DAYS: u32 = 14;
    pub const DEFAULT_GRACE_PERIOD_DAYS: u32 = 90;
    pub const DEFAULT_RETENTION_DAYS: u32 = 90;
    pub const DEFAULT_INCIDENT_WINDOW_HOURS: u32 = 24;
    /// The longest incident window: 30 days.
    pub const MAX_INCIDENT_WINDOW_HOURS: u32 = 720;
    pub const MAX_PERIOD_DAYS: u32 = 3650;

    /// Incident contacts in call order.
    pub fn incident_contacts(&self) -> Vec<&Contact> {
        let mut c: Vec<&Contact> = self
            .contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Incident)
            .collect();
        c.sort_by_key(|c| c.priority);
        c
    }

    /// Whether experts may act on `asset` directly (authorised and not excluded).
    pub fn is_excluded(&self, asset: &AssetRef) -> bool {
        self.exclusions.iter().any(|e| e.same_as(asset))
    }

    /// Cross-field rules that single changes cannot check alone.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let mut priorities: Vec<u8> = self
            .incident_contacts()
            .iter()
            .map(|c| c.priority)
            .collect();
        priorities.dedup();
        if priorities.len() != self.incident_contacts().len() {
            return Err(SettingsError::Invalid {
                setting: "contacts",
                reason: "two incident contacts share a call priority".into(),
            });
        }
        for (name, limit) in [
            ("learning_period_days", self.learning_period_days),
            ("grace_period_days", self.grace_period_days),
            ("retention_days", self.retention_days),
        ] {
            if limit > Self::MAX_PERIOD_DAYS {
                return Err(SettingsError::Invalid {
                    setting: name,
                    reason: format!("{limit} is more than {} days", Self::MAX_PERIOD_DAYS),
                });
            }
        }
        if self.incident_window_hours == 0
            || self.incident_window_hours > Self::MAX_INCIDENT_WINDOW_HOURS
        {
            return Err(SettingsError::Invalid {
                setting: "incident_window_hours",
                reason: format!(
                    "{} is outside 1 to {} hours",
                    self.incident_window_hours,
                    Self::MAX_INCIDENT_WINDOW_HOURS
                ),
            });
        }
        if self.retention_days == 0 {
            return Err(SettingsError::Invalid {
                setting: "retention_days",
                reason: "keep telemetry at least one day".into(),
            });
        }
        for (sev, t) in [
            ("critical", self.sla.critical),
            ("high", self.sla.high),
            ("medium", self.sla.medium),
            ("low", self.sla.low),
        ] {
            if !t.acknowledge.is_positive() || !t.complete.is_positive() {
                return Err(SettingsError::Invalid {
                    setting: "sla",
                    reason: format!("{sev}: times must be positive"),
                });
            }
            if t.complete < t.acknowledge {
                return Err(SettingsError::Invalid {
                    setting: "sla",
                    reason: format!("{sev}: time to complete is shorter than time to acknowledge"),
                });
            }
        }
        Ok(())
    }
}

/// A setting change or value that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid {setting}: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
    #[error("{what} {value:?} is not set on this tenant")]
    NotFound { what: &'static str, value: String },
    #[error("a deleted tenant cannot be changed")]
    TenantDeleted,
}

impl SettingsError {
    pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> Self {
        SettingsError::Invalid {
            setting,
            reason: reason.into(),
        }
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = SettingsError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.replace('-', "_");
                [$($name::$variant),+]
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(&wanted))
                    .ok_or_else(|| SettingsError::invalid(
                        $what,
                        format!("unknown value {s:?}: expected {}", [$($text),+].join(", ")),
                    ))
            }
        }
    };
}

text_enum!(
    /// Whether experts may execute supported response actions themselves.
    ResponseAuthorisation, "authorisation" { Guided => "guided", Managed => "managed" }
);
text_enum!(
    /// What an [`AssetRef`] points at.
    AssetKind, "asset kind" {
        DeviceGroup => "device_group",
        UserGroup => "user_group",
        Device => "device",
        User => "user",
    }
);
text_enum!(ContactKind, "contact kind" { Incident => "incident", ServiceReview => "service_review" });
text_enum!(WebhookFormat, "webhook format" { Generic => "generic", Slack => "slack", Teams => "teams" });

/// A device group, user group or single asset, as named by the customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AssetRef {
    pub kind: AssetKind,
    pub name: String,
}

impl AssetRef {
    /// Asset names compare case-insensitively (host and account names do).
    pub fn same_as(&self, other: &AssetRef) -> bool {
        self.kind == other.kind && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for AssetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

impl FromStr for AssetRef {
    type Err = SettingsError;
    /// `KIND:NAME`, e.g. `device:DC01` or `user_group:Tier0 Admins`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once(':').ok_or_else(|| {
            SettingsError::invalid(
                "asset",
                format!(
                    "{s:?} is not KIND:NAME (KIND is device, user, device_group or user_group)"
                ),
            )
        })?;
        let name = name.trim();
        if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
            return Err(SettingsError::invalid(
                "asset",
                format!("{s:?}: the name must be 1 to 256 printable characters"),
            ));
        }
        Ok(AssetRef {
            kind: kind.trim().parse()?,
            name: name.to_owned(),
        })
    }
}

/// Which assets the service covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "assets")]
pub enum Coverage {
    /// Everything the tenant sends.
    All,
    /// Only these assets; incidents touching none of them are out of scope.
    Scoped(Vec<AssetRef>),
}

/// A person to reach.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub kind: ContactKind,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Call order among incident contacts; 1 is called first.
    pub priority: u8,
}

impl Contact {
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.name.trim().is_empty() {
            return Err(SettingsError::invalid("contact", "name must not be empty"));
        }
        if self.email.is_none() && self.phone.is_none() {
            return Err(SettingsError::invalid(
                "contact",
                format!("{}: give an email or a phone number", self.name),
            ));
        }
        if let Some(email) = &self.email {
            validate_email(email).map_err(|r| SettingsError::invalid("contact", r))?;
        }
        if let Some(phone) = &self.phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let ok_chars = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !ok_chars || !(5..=20).contains(&digits) {
                return Err(SettingsError::invalid(
                    "contact",
                    format!("{phone:?} is not a phone number"),
                ));
            }
        }
        if self.priority == 0 {
            return Err(SettingsError::invalid("contact", "priority starts at 1"));
        }
        Ok(())
    }
}

/// A plausible single email address: one `@`, a dotted domain, no spaces.
pub fn validate_email(email: &str) -> Result<(), String> {
    let bad = || format!("{email:?} is not an email address");
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(())
}

/// A secret value (an HMAC key). Never printed: `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub const REDACTED: &'static str = "<redacted>";

    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Channel {
    /// Unique per tenant.
    pub name: String,
    #[serde(flatten)]
    pub kind: ChannelKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ChannelKind {
    Email {
        to: Vec<String>,
    },
    Webhook {
        url: String,
        format: WebhookFormat,
        /// HMAC-SHA256 signing key.
        secret: Secret,
    },
}

impl Channel {
    pub fn validate(&self) -> Result<(), SettingsError> {
        let n = &self.name;
        if n.is_empty()
            || n.len() > 64
            || !n
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SettingsError::invalid(
                "channel",
                format!("name {n:?} must be 1 to 64 letters, digits, '-' or '_'"),
            ));
        }
        match &self.kind {
            ChannelKind::Email { to } => {
                if to.is_empty() {
                    return Err(SettingsError::invalid(
                        "channel",
                        format!("{n}: an email channel needs at least one address"),
                    ));
                }
                for addr in to {
                    validate_email(addr)
                        .map_err(|r| SettingsError::invalid("channel", format!("{n}: {r}")))?;
                }
            }
            ChannelKind::Webhook { url, secret, .. } => {
                let rest = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !url.chars().any(char::is_whitespace) => {}
                    _ => {
                        return Err(SettingsError::invalid(
                            "channel",
                            format!("{n}: {url:?} is not an http(s) URL"),
                        ));
                    }
                }
                if secret.expose().len() < 16 {
                    return Err(SettingsError::invalid(
                        "channel",
                        format!("{n}: the signing secret must be at least 16 characters"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How the experts carry out a managed task (PRODUCT.md §9).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ResponseConnector {
    /// An expert carries it out by hand in the customer's console.
    #[default]
    Manual,
    /// Vigil posts the task, signed, to the customer's SOAR, which calls
    /// back with the outcome.
    SignedWebhook {
        url: String,
        /// HMAC-SHA256 key for both directions.
        secret: Secret,
    },
}

impl ResponseConnector {
    /// `manual` or `signed_webhook`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResponseConnector::Manual => "manual",
            ResponseConnector::SignedWebhook { .. } => "signed_webhook",
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if let ResponseConnector::SignedWebhook { url, secret } = self {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(str::is_empty) || url.chars().any(char::is_whitespace) {
                return Err(SettingsError::invalid(
                    "response_connector",
                    format!("{url:?} is not an http(s) URL"),
                ));
            }
            if secret.expose().len() < 16 {
                return Err(SettingsError::invalid(
                    "response_connector",
                    "the signing secret must be at least 16 characters",
                ));
            }
        }
        Ok(())
    }
}

/// A webhook URL as shown to people and written to the audit log: scheme
/// and host only, since Slack and Teams put the credential in the path.
pub fn redact_webhook_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Secret::REDACTED.to_owned();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.len() == rest.len() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{}", Secret::REDACTED)
    }
}

/// The customer's incident-response provider (PRODUCT.md §11).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IrProvider {
    pub name: String,
    /// Email, phone or portal through which they are reached.
    pub contact: String,
    /// How to engage them: retainer number, hotline procedure.
    pub engagement: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_refs_parse_from_kind_and_name() {
        let a: AssetRef = "device-group:Domain Controllers".parse().expect("ok");
        assert_eq!(a.kind, AssetKind::DeviceGroup);
        assert_eq!(a.name, "Domain Controllers");
        assert!(a.same_as(&"device_group:domain controllers".parse().expect("ok")));
        let err = "printer:hp".parse::<AssetRef>().expect_err("bad kind");
        assert!(err.to_string().contains("printer"), "{err}");
        assert!("DC01".parse::<AssetRef>().is_err());
    }

    #[test]
    fn contacts_need_a_way_to_be_reached() {
        let mut c = Contact {
            kind: ContactKind::Incident,
            name: "Jane".into(),
            email: None,
            phone: None,
            priority: 1,
        };
        assert!(c.validate().is_err());
        c.email = Some("jane@acme".into());
        assert!(c.validate().is_err(), "domain without a dot");
        c.email = Some("jane@acme.example".into());
        c.validate().expect("valid");
        c.phone = Some("call me".into());
        assert!(c.validate().is_err());
    }

    #[test]
    fn webhook_channels_need_a_url_and_a_long_secret() {
        let mut ch = Channel {
            name: "soar".into(),
            kind: ChannelKind::Webhook {
                url: "ftp://x".into(),
                format: WebhookFormat::Generic,
                secret: Secret::new("0123456789abcdef"),
            },
        };
        assert!(ch.validate().is_err());
        ch.kind = ChannelKind::Webhook {
            url: "https://soar.acme.example/hook".into(),
            format: WebhookFormat::Slack,
            secret: Secret::new("short"),
        };
        assert!(ch.validate().expect_err("short").to_string().contains("16"));
    }

    #[test]
    fn a_signed_webhook_connector_needs_a_url_and_a_long_secret() {
        assert_eq!(
            TenantSettings::default().response_connector,
            ResponseConnector::Manual
        );
        let c = |url: &str, secret: &str| ResponseConnector::SignedWebhook {
            url: url.into(),
            secret: Secret::new(secret),
        };
        assert!(
            c("https://soar.acme.example/vigil", "0123456789abcdef")
                .validate()
                .is_ok()
        );
        assert!(
            c("soar.acme.example", "0123456789abcdef")
                .validate()
                .is_err()
        );
        let e = c("https://soar.acme.example", "short")
            .validate()
            .expect_err("short");
        assert!(e.to_string().contains("16"), "{e}");
        // Settings stored before the connector existed read as manual.
        let mut v = serde_json::to_value(TenantSettings::default()).expect("json");
        v.as_object_mut()
            .expect("object")
            .remove("response_connector");
        let back: TenantSettings = serde_json::from_value(v).expect("old settings");
        assert_eq!(back.response_connector, ResponseConnector::Manual);
    }

    #[test]
    fn webhook_urls_are_shown_without_their_path() {
        assert_eq!(
            redact_webhook_url("https://hooks.slack.example/services/T0/B0/XXXX"),
            "https://hooks.slack.example/<redacted>"
        );
        assert_eq!(
            redact_webhook_url("https://soar.example"),
            "https://soar.example"
        );
        assert_eq!(
            redact_webhook_url("https://user:pw@soar.example/h?k=1"),
            "https://soar.example/<redacted>"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Secret::new("hunter2hunter2hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
    }

    #[test]
    fn incident_contacts_with_the_same_priority_are_refused() {
        let mut s = TenantSettings::default();
        for name in ["a", "b"] {
            s.contacts.push(Contact {
                kind: ContactKind::Incident,
                name: name.into(),
                email: Some(format!("{name}@acme.example")),
                phone: None,
                priority: 1,
            });
        }
        assert!(
            s.validate()
                .expect_err("dup")
                .to_string()
                .contains("priority")
        );
    }
}
