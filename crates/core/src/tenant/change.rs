//! Single, validated changes to a tenant's name and settings. Each applied
//! change reports what it changed from and to, for the audit log; secrets
//! are redacted there.

use jiff::SignedDuration;
use serde_json::{Value, json};

use super::{
    AssetRef, Channel, ChannelKind, Contact, Coverage, IrProvider, ResponseAuthorisation,
    ResponseConnector, SettingsError, Tenant, TenantName, TenantSettings,
};
use crate::{Severity, Timestamp};

/// One change to a tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingChange {
    Name(TenantName),
    Authorisation(ResponseAuthorisation),
    AddExclusion(AssetRef),
    RemoveExclusion(AssetRef),
    /// Record that the exclusions were reviewed with the customer now.
    ExclusionsReviewed,
    CoverageAll,
    AddCoverage(AssetRef),
    RemoveCoverage(AssetRef),
    AddContact(Contact),
    /// Remove the contact with this email address or name.
    RemoveContact(String),
    AddChannel(Channel),
    RemoveChannel(String),
    Sla {
        severity: Severity,
        acknowledge: SignedDuration,
        complete: SignedDuration,
    },
    IrProvider(IrProvider),
    ClearIrProvider,
    LearningPeriodDays(u32),
    GracePeriodDays(u32),
    RetentionDays(u32),
    IncidentWindowHours(u32),
    /// How managed tasks are carried out.
    ResponseConnector(ResponseConnector),
    /// Replace the major-incident thresholds.
    MajorThresholds(crate::major::MajorThresholds),
}

/// What a change did: the setting and its value before and after.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AppliedChange {
    pub setting: String,
    pub from: Value,
    pub to: Value,
}

fn redacted_channel(c: &Channel) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    super::redact_channel_json(&mut v);
    v
}

fn redacted_connector(c: &ResponseConnector) -> Value {
    let mut v = to_value(c);
    super::redact_channel_json(&mut v);
    v
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl SettingChange {
    /// Who may make this change: the customer's own settings, or the
    /// provider's service settings.
    pub fn permission(&self) -> crate::identity::Permission {
        use crate::identity::Permission;
        match self {
            SettingChange::Authorisation(_)
            | SettingChange::AddExclusion(_)
            | SettingChange::RemoveExclusion(_)
            | SettingChange::ExclusionsReviewed
            | SettingChange::AddContact(_)
            | SettingChange::RemoveContact(_)
            | SettingChange::AddChannel(_)
            | SettingChange::RemoveChannel(_)
            | SettingChange::ResponseConnector(_) => Permission::EditCustomerSettings,
            SettingChange::Name(_)
            | SettingChange::CoverageAll
            | SettingChange::AddCoverage(_)
            | SettingChange::RemoveCoverage(_)
            | SettingChange::Sla { .. }
            | SettingChange::IrProvider(_)
            | SettingChange::ClearIrProvider
            | SettingChange::LearningPeriodDays(_)
            | SettingChange::GracePeriodDays(_)
            | SettingChange::RetentionDays(_)
            | SettingChange::IncidentWindowHours(_)
            | SettingChange::MajorThresholds(_) => Permission::EditServiceSettings,
        }
    }

    pub(super) fn apply(
        &self,
        tenant: &mut Tenant,
        now: Timestamp,
    ) -> Result<AppliedChange, SettingsError> {
        let s: &mut TenantSettings = &mut tenant.settings;
        let (setting, from, to) = match self {
            SettingChange::Name(name) => {
                let from = to_value(&tenant.name);
                tenant.name = name.clone();
                ("name", from, to_value(name))
            }
            SettingChange::Authorisation(a) => {
                let from = to_value(&s.authorisation);
                s.authorisation = Some(*a);
                ("authorisation", from, to_value(a))
            }
            SettingChange::AddExclusion(asset) => {
                if s.is_excluded(asset) {
                    return Err(SettingsError::invalid(
                        "exclusions",
                        format!("{asset} is already excluded"),
                    ));
                }
                s.exclusions.push(asset.clone());
                ("exclusions", Value::Null, json!(asset.to_string()))
            }
            SettingChange::RemoveExclusion(asset) => {
                let before = s.exclusions.len();
                s.exclusions.retain(|e| !e.same_as(asset));
                if s.exclusions.len() == before {
                    return Err(SettingsError::NotFound {
                        what: "exclusion",
                        value: asset.to_string(),
                    });
                }
                ("exclusions", json!(asset.to_string()), Value::Null)
            }
            SettingChange::ExclusionsReviewed => {
                let from = to_value(&s.exclusions_reviewed_at);
                s.exclusions_reviewed_at = Some(now);
                ("exclusions_reviewed_at", from, to_value(&now))
            }
            SettingChange::CoverageAll => {
                let from = to_value(&s.coverage);
                s.coverage = Coverage::All;
                ("coverage", from, to_value(&s.coverage))
            }
            SettingChange::AddCoverage(asset) => {
                let from = to_value(&s.coverage);
                match &mut s.coverage {
                    Coverage::All => s.coverage = Coverage::Scoped(vec![asset.clone()]),
                    Coverage::Scoped(list) => {
                        if list.iter().any(|a| a.same_as(asset)) {
                            return Err(SettingsError::invalid(
                                "coverage",
                                format!("{asset} is already covered"),
                            ));
                        }
                        list.push(asset.clone());
                    }
                }
                ("coverage", from, to_value(&s.coverage))
            }
            SettingChange::RemoveCoverage(asset) => {
                let from = to_value(&s.coverage);
                let Coverage::Scoped(list) = &mut s.coverage else {
                    return Err(SettingsError::invalid(
                        "coverage",
                        "coverage is all assets; there is no scoped asset to remove",
                    ));
                };
                let before = list.len();
                list.retain(|a| !a.same_as(asset));
                if list.len() == before {
                    return Err(SettingsError::NotFound {
                        what: "covered asset",
                        value: asset.to_string(),
                    });
                }
                if list.is_empty() {
                    return Err(SettingsError::invalid(
                        "coverage",
                        "removing the last scoped asset would cover nothing; use coverage all instead",
                    ));
                }
                ("coverage", from, to_value(&s.coverage))
            }
            SettingChange::AddContact(contact) => {
                contact.validate()?;
                let dup = s.contacts.iter().any(|c| {
                    c.kind == contact.kind
                        && (c.name.eq_ignore_ascii_case(&contact.name)
                            || (c.email.is_some() && c.email == contact.email))
                });
                if dup {
                    return Err(SettingsError::invalid(
                        "contacts",
                        format!("{} is already a {} contact", contact.name, contact.kind),
                    ));
                }
                s.contacts.push(contact.clone());
                ("contacts", Value::Null, to_value(contact))
            }
            SettingChange::RemoveContact(key) => {
                let pos = s.contacts.iter().position(|c| {
                    c.name.eq_ignore_ascii_case(key)
                        || c.email
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(key))
                });
                let Some(pos) = pos else {
                    return Err(SettingsError::NotFound {
                        what: "contact",
                        value: key.clone(),
                    });
                };
                let removed = s.contacts.remove(pos);
                ("contacts", to_value(&removed), Value::Null)
            }
            SettingChange::AddChannel(channel) => {
                channel.validate()?;
                if s.channels.iter().any(|c| c.name == channel.name) {
                    return Err(SettingsError::invalid(
                        "channels",
                        format!("a channel named {:?} exists", channel.name),
                    ));
                }
                s.channels.push(channel.clone());
                ("channels", Value::Null, redacted_channel(channel))
            }
            SettingChange::RemoveChannel(name) => {
                let Some(pos) = s.channels.iter().position(|c| &c.name == name) else {
                    return Err(SettingsError::NotFound {
                        what: "channel",
                        value: name.clone(),
                    });
                };
                let removed = s.channels.remove(pos);
                ("channels", redacted_channel(&removed), Value::Null)
            }
            SettingChange::Sla {
                severity,
                acknowledge,
                complete,
            } => {
                if *severity == Severity::Informational {
                    return Err(SettingsError::invalid(
                        "sla",
                        "informational responses use the low targets; set low instead",
                    ));
                }
                let targets = s.sla.for_severity_mut(*severity);
                let from = to_value(targets);
                targets.acknowledge = *acknowledge;
                targets.complete = *complete;
                let to = to_value(targets);
                return Ok(AppliedChange {
                    setting: format!("sla.{severity}"),
                    from,
                    to,
                });
            }
            SettingChange::IrProvider(p) => {
                for (field, value) in [
                    ("name", &p.name),
                    ("contact", &p.contact),
                    ("engagement", &p.engagement),
                ] {
                    if value.trim().is_empty() {
                        return Err(SettingsError::invalid(
                            "ir_provider",
                            format!("{field} must not be empty"),
                        ));
                    }
                }
                let from = to_value(&s.ir_provider);
                s.ir_provider = Some(p.clone());
                ("ir_provider", from, to_value(p))
            }
            SettingChange::ClearIrProvider => {
                let from = to_value(&s.ir_provider);
                s.ir_provider = None;
                ("ir_provider", from, Value::Null)
            }
            SettingChange::LearningPeriodDays(d) => {
                let from = json!(s.learning_period_days);
                s.learning_period_days = *d;
                ("learning_period_days", from, json!(d))
            }
            SettingChange::GracePeriodDays(d) => {
                let from = json!(s.grace_period_days);
                s.grace_period_days = *d;
                ("grace_period_days", from, json!(d))
            }
            SettingChange::RetentionDays(d) => {
                let from = json!(s.retention_days);
                s.retention_days = *d;
                ("retention_days", from, json!(d))
            }
            SettingChange::IncidentWindowHours(h) => {
                let from = json!(s.incident_window_hours);
                s.incident_window_hours = *h;
                ("incident_window_hours", from, json!(h))
            }
            SettingChange::ResponseConnector(c) => {
                c.validate()?;
                let from = redacted_connector(&s.response_connector);
                s.response_connector = c.clone();
                ("response_connector", from, redacted_connector(c))
            }
            SettingChange::MajorThresholds(m) => {
                m.validate()
                    .map_err(|r| SettingsError::invalid("major", r))?;
                let from = to_value(&s.major);
                s.major = m.clone();
                ("major", from, to_value(m))
            }
        };
        Ok(AppliedChange {
            setting: setting.to_owned(),
            from,
            to,
        })
    }
}

impl ChannelKind {
    /// The channel kind's name, as in settings (`email`, `webhook`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelKind::Email { .. } => "email",
            ChannelKind::Webhook { .. } => "webhook",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::{ContactKind, Secret, TenantSlug, WebhookFormat};

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().expect("ts")
    }

    fn acme() -> Tenant {
        Tenant::new(
            TenantSlug::parse("acme").expect("slug"),
            TenantName::parse("Acme").expect("name"),
            now(),
        )
    }

    #[test]
    fn a_batch_of_changes_applies_all_or_nothing() {
        let mut t = acme();
        let before = t.clone();
        let changes = [
            SettingChange::Authorisation(ResponseAuthorisation::Managed),
            SettingChange::RemoveChannel("missing".into()),
        ];
        let err = t.apply(&changes, now()).expect_err("second change fails");
        assert!(err.to_string().contains("missing"), "{err}");
        assert_eq!(t, before, "nothing was half-applied");
    }

    #[test]
    fn applied_changes_report_from_and_to_with_secrets_redacted() {
        let mut t = acme();
        let applied = t
            .apply(
                &[
                    SettingChange::Authorisation(ResponseAuthorisation::Managed),
                    SettingChange::AddChannel(Channel {
                        name: "soar".into(),
                        kind: ChannelKind::Webhook {
                            url: "https://soar.acme.example/hook".into(),
                            format: WebhookFormat::Generic,
                            secret: Secret::new("a-very-long-signing-key"),
                        },
                    }),
                ],
                now(),
            )
            .expect("valid");
        assert_eq!(applied[0].setting, "authorisation");
        assert_eq!(applied[0].from, Value::Null);
        assert_eq!(applied[0].to, json!("managed"));
        let shown = serde_json::to_string(&applied).expect("json");
        assert!(!shown.contains("a-very-long-signing-key"), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert_eq!(t.version, 2);
    }

    #[test]
    fn the_response_connector_is_the_customers_and_its_secret_never_shows() {
        let mut t = acme();
        let change = SettingChange::ResponseConnector(ResponseConnector::SignedWebhook {
            url: "https://soar.acme.example/hooks/vigil?key=abc".into(),
            secret: Secret::new("connector-signing-key-1"),
        });
        assert_eq!(
            change.permission(),
            crate::identity::Permission::EditCustomerSettings
        );
        let applied = t.apply(&[change], now()).expect("valid");
        let shown = serde_json::to_string(&applied).expect("json") + &t.redacted_json().to_string();
        assert!(!shown.contains("connector-signing-key-1"), "{shown}");
        assert!(!shown.contains("key=abc"), "{shown}");
        assert_eq!(applied[0].from, json!({"kind": "manual"}));
        assert_eq!(t.settings.response_connector.as_str(), "signed_webhook");
    }

    #[test]
    fn sla_changes_are_validated_against_each_other() {
        let mut t = acme();
        let err = t
            .apply(
                &[SettingChange::Sla {
                    severity: Severity::High,
                    acknowledge: SignedDuration::from_hours(5),
                    complete: SignedDuration::from_hours(2),
                }],
                now(),
            )
            .expect_err("complete before acknowledge");
        assert!(err.to_string().contains("shorter"), "{err}");
    }

    #[test]
    fn coverage_moves_from_all_to_scoped_and_back() {
        let mut t = acme();
        let dc: AssetRef = "device_group:DCs".parse().expect("asset");
        t.apply(&[SettingChange::AddCoverage(dc.clone())], now())
            .expect("scoped");
        assert_eq!(t.settings.coverage, Coverage::Scoped(vec![dc.clone()]));
        assert!(
            t.apply(&[SettingChange::RemoveCoverage(dc)], now())
                .is_err(),
            "cannot scope to nothing"
        );
        t.apply(&[SettingChange::CoverageAll], now()).expect("all");
        assert_eq!(t.settings.coverage, Coverage::All);
    }

    #[test]
    fn contacts_are_added_once_and_removed_by_email() {
        let mut t = acme();
        let jane = Contact {
            kind: ContactKind::Incident,
            name: "Jane Doe".into(),
            email: Some("jane@acme.example".into()),
            phone: Some("+1 555 0100".into()),
            priority: 1,
        };
        t.apply(&[SettingChange::AddContact(jane.clone())], now())
            .expect("added");
        assert!(t.apply(&[SettingChange::AddContact(jane)], now()).is_err());
        t.apply(
            &[SettingChange::RemoveContact("JANE@acme.example".into())],
            now(),
        )
        .expect("removed");
        assert!(t.settings.contacts.is_empty());
    }

    #[test]
    fn deleted_tenants_cannot_be_changed() {
        let mut t = acme();
        t.lifecycle = crate::tenant::Lifecycle::Deleted;
        assert_eq!(
            t.apply(&[SettingChange::LearningPeriodDays(1)], now()),
            Err(SettingsError::TenantDeleted)
        );
    }
}
