//! Tenants: customer organisations the service watches (PRODUCT.md §3).

mod change;
mod lifecycle;
mod settings;
mod sla;

use std::fmt;

pub use change::{AppliedChange, SettingChange};
pub use lifecycle::{Lifecycle, ParseLifecycleError, ReadinessGate, TransitionError};
pub use settings::{
    AssetKind, AssetRef, Channel, ChannelKind, Contact, ContactKind, Coverage, IrProvider,
    ResponseAuthorisation, Secret, SettingsError, TenantSettings, WebhookFormat,
    redact_webhook_url, validate_email,
};
pub use sla::{SlaPolicy, SlaTargets, parse_duration};

use crate::{TenantId, Timestamp};

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub name: TenantName,
    pub lifecycle: Lifecycle,
    /// When the tenant entered its current lifecycle state.
    pub lifecycle_since: Timestamp,
    pub settings: TenantSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented on every change; used for optimistic concurrency.
    pub version: i64,
}

impl Tenant {
    /// A new tenant in `onboarding` with default settings.
    pub fn new(slug: TenantSlug, name: TenantName, now: Timestamp) -> Self {
        Tenant {
            id: TenantId::new_at(now),
            slug,
            name,
            lifecycle: Lifecycle::Onboarding,
            lifecycle_since: now,
            settings: TenantSettings::default(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Move to `to` if the lifecycle allows it at `now`. An `override_reason`
    /// lifts the time-based guards (learning and grace periods) but never the
    /// shape of the lifecycle itself.
    pub fn transition(
        &mut self,
        to: Lifecycle,
        now: Timestamp,
        override_reason: Option<&str>,
    ) -> Result<(), TransitionError> {
        self.transition_gated(to, now, override_reason, None)
    }

    /// [`Tenant::transition`] with what the readiness assessment says
    /// (`None`: not consulted): `onboarding` → `monitoring` needs no
    /// blocking failure, or an override by one who may.
    pub fn transition_gated(
        &mut self,
        to: Lifecycle,
        now: Timestamp,
        override_reason: Option<&str>,
        gate: Option<&ReadinessGate>,
    ) -> Result<(), TransitionError> {
        lifecycle::check(self, to, now, override_reason, gate)?;
        self.lifecycle = to;
        self.lifecycle_since = now;
        self.touch(now);
        Ok(())
    }

    /// Apply setting changes atomically: either all apply and validate, or
    /// the tenant is left unchanged.
    pub fn apply(
        &mut self,
        changes: &[SettingChange],
        now: Timestamp,
    ) -> Result<Vec<AppliedChange>, SettingsError> {
        if self.lifecycle == Lifecycle::Deleted {
            return Err(SettingsError::TenantDeleted);
        }
        let mut next = self.clone();
        let mut applied = Vec::with_capacity(changes.len());
        for change in changes {
            applied.push(change.apply(&mut next, now)?);
        }
        next.settings.validate()?;
        next.touch(now);
        *self = next;
        Ok(applied)
    }

    /// The tenant as JSON for people and scripts, with every secret (webhook
    /// signing keys) redacted.
    pub fn redacted_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(channels) = v
            .pointer_mut("/settings/channels")
            .and_then(serde_json::Value::as_array_mut)
        {
            for ch in channels {
                redact_channel_json(ch);
            }
        }
        v
    }

    fn touch(&mut self, now: Timestamp) {
        self.updated_at = now;
        self.version += 1;
    }
}

/// Hide a channel's signing key and its webhook URL's path in its JSON form.
pub(crate) fn redact_channel_json(ch: &mut serde_json::Value) {
    if let Some(secret) = ch.get_mut("secret") {
        *secret = serde_json::Value::String(Secret::REDACTED.into());
    }
    if let Some(url) = ch.get_mut("url")
        && let Some(text) = url.as_str()
    {
        *url = serde_json::Value::String(redact_webhook_url(text));
    }
}

/// A tenant's short, URL-safe handle (`acme`, `contoso-eu`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant slug {slug:?}: {reason}")]
pub struct InvalidSlug {
    pub slug: String,
    pub reason: &'static str,
}

impl TenantSlug {
    pub const MAX_LEN: usize = 63;

    /// Lowercase ASCII letters, digits and single hyphens; starts with a
    /// letter, ends with a letter or digit; 2 to 63 characters.
    pub fn parse(s: &str) -> Result<Self, InvalidSlug> {
        let fail = |reason| {
            Err(InvalidSlug {
                slug: s.to_owned(),
                reason,
            })
        };
        if s.len() < 2 {
            return fail("must be at least 2 characters");
        }
        if s.len() > Self::MAX_LEN {
            return fail("must be at most 63 characters");
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return fail("must start with a lowercase letter");
        }
        if s.ends_with('-') {
            return fail("must not end with a hyphen");
        }
        if s.contains("--") {
            return fail("must not contain two hyphens in a row");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail("may contain only lowercase letters a-z, digits and hyphens");
        }
        Ok(TenantSlug(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TenantSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TenantSlug::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A tenant's display name: 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct TenantName(String);

/// Why a tenant name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant name {name:?}: {reason}")]
pub struct InvalidName {
    pub name: String,
    pub reason: &'static str,
}

impl TenantName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        let trimmed = s.trim();
        let fail = |reason| {
            Err(InvalidName {
                name: s.to_owned(),
                reason,
            })
        };
        if trimmed.is_empty() {
            return fail("must not be empty");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return fail("must be at most 200 characters");
        }
        if trimmed.chars().any(char::is_control) {
            return fail("must not contain control characters");
        }
        Ok(TenantName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TenantName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TenantName::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_slugs_are_accepted() {
        for s in ["acme", "contoso-eu", "a1", "fabrikam-2026"] {
            assert_eq!(TenantSlug::parse(s).expect(s).as_str(), s);
        }
    }

    #[test]
    fn malformed_slugs_are_refused_with_the_reason() {
        let cases = [
            ("a", "at least 2"),
            ("Acme", "start with a lowercase letter"),
            ("1acme", "start with a lowercase letter"),
            ("acme-", "end with a hyphen"),
            ("ac--me", "two hyphens"),
            ("acme corp", "only lowercase letters"),
            ("acmé", "only lowercase letters"),
        ];
        for (slug, reason) in cases {
            let err = TenantSlug::parse(slug).expect_err(slug);
            assert!(err.to_string().contains(reason), "{slug}: {err}");
        }
        assert!(TenantSlug::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_must_not_be_blank() {
        assert_eq!(
            TenantName::parse("  Acme Corp ").expect("ok").as_str(),
            "Acme Corp"
        );
        assert!(TenantName::parse("   ").is_err());
        assert!(TenantName::parse("a\u{7}b").is_err());
    }
}
