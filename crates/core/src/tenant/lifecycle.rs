//! The tenant lifecycle (PRODUCT.md §3):
//! `onboarding` → `monitoring` → `live` → `offboarding` → `deleted`.
//!
//! Allowed moves:
//!
//! | from        | to                        | guard                                        |
//! |-------------|---------------------------|----------------------------------------------|
//! | onboarding  | monitoring                | no blocking readiness failure (see below)    |
//! | onboarding  | offboarding               | onboarding abandoned                          |
//! | monitoring  | live                      | the learning period has elapsed               |
//! | monitoring  | offboarding               |                                              |
//! | live        | offboarding               |                                              |
//! | offboarding | live                      | reinstated within the grace period           |
//! | offboarding | deleted                   | the grace period has elapsed                 |
//!
//! `deleted` is final. A time guard can be lifted with an override reason,
//! which the caller records in the audit log; the shape of the lifecycle
//! cannot be overridden. The readiness gate ([`ReadinessGate`], given by
//! the service from a fresh assessment) can be lifted only by a provider
//! admin, also with a reason.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};

use super::Tenant;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Onboarding,
    Monitoring,
    Live,
    Offboarding,
    Deleted,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Onboarding,
        Lifecycle::Monitoring,
        Lifecycle::Live,
        Lifecycle::Offboarding,
        Lifecycle::Deleted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Onboarding => "onboarding",
            Lifecycle::Monitoring => "monitoring",
            Lifecycle::Live => "live",
            Lifecycle::Offboarding => "offboarding",
            Lifecycle::Deleted => "deleted",
        }
    }

    /// The states this one may move to.
    pub const fn successors(self) -> &'static [Lifecycle] {
        match self {
            Lifecycle::Onboarding => &[Lifecycle::Monitoring, Lifecycle::Offboarding],
            Lifecycle::Monitoring => &[Lifecycle::Live, Lifecycle::Offboarding],
            Lifecycle::Live => &[Lifecycle::Offboarding],
            Lifecycle::Offboarding => &[Lifecycle::Live, Lifecycle::Deleted],
            Lifecycle::Deleted => &[],
        }
    }

    /// The permission a move from `self` to `to` needs: going towards live
    /// is activation; leaving or returning from offboarding is offboarding.
    pub fn permission_to(self, to: Lifecycle) -> crate::identity::Permission {
        use crate::identity::Permission;
        match (self, to) {
            (_, Lifecycle::Offboarding | Lifecycle::Deleted) | (Lifecycle::Offboarding, _) => {
                Permission::OffboardTenant
            }
            _ => Permission::ActivateTenant,
        }
    }

    /// Whether detections run (customer notifications are held in monitoring).
    pub const fn detects(self) -> bool {
        matches!(self, Lifecycle::Monitoring | Lifecycle::Live)
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown lifecycle state {0:?}: expected onboarding, monitoring, live, offboarding or deleted"
)]
pub struct ParseLifecycleError(pub String);

impl FromStr for Lifecycle {
    type Err = ParseLifecycleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lifecycle::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLifecycleError(s.to_owned()))
    }
}

/// A lifecycle move that was refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("tenant is already {0}")]
    AlreadyThere(Lifecycle),
    #[error("a tenant cannot move from {from} to {to}: {}", allowed(*.from))]
    NotAllowed { from: Lifecycle, to: Lifecycle },
    #[error(
        "the learning period of {days} days runs until {until}; pass an override reason to go live earlier"
    )]
    LearningPeriod { days: u32, until: Timestamp },
    #[error(
        "the offboarding grace period of {days} days runs until {until}; pass an override reason to delete earlier"
    )]
    GracePeriod { days: u32, until: Timestamp },
    #[error("an override reason must not be blank")]
    BlankOverrideReason,
    #[error(
        "the readiness assessment has blocking failures: {}; fix them and re-run it, or a provider admin may override with a reason",
        .failing.join(", ")
    )]
    NotReady { failing: Vec<String> },
    #[error(
        "the readiness assessment has blocking failures: {}; only a provider admin may override them",
        .failing.join(", ")
    )]
    OverrideNotAllowed { failing: Vec<String> },
}

/// What the readiness assessment says about moving to `monitoring`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadinessGate {
    /// The ids of the blocking checks that fail (empty: ready).
    pub blocking_failures: Vec<String>,
    /// Whether the acting principal may override a failing gate.
    pub may_override: bool,
}

fn allowed(from: Lifecycle) -> String {
    match from.successors() {
        [] => format!("{from} is final"),
        next => {
            let names: Vec<&str> = next.iter().map(|l| l.as_str()).collect();
            format!("from {from} a tenant may move to {}", names.join(" or "))
        }
    }
}

pub(super) fn check(
    tenant: &Tenant,
    to: Lifecycle,
    now: Timestamp,
    override_reason: Option<&str>,
    gate: Option<&ReadinessGate>,
) -> Result<(), TransitionError> {
    let from = tenant.lifecycle;
    if from == to {
        return Err(TransitionError::AlreadyThere(to));
    }
    if !from.successors().contains(&to) {
        return Err(TransitionError::NotAllowed { from, to });
    }
    let overridden = match override_reason {
        Some(r) if r.trim().is_empty() => return Err(TransitionError::BlankOverrideReason),
        Some(_) => true,
        None => false,
    };
    let days_after =
        |days: u32| tenant.lifecycle_since + SignedDuration::from_hours(24 * i64::from(days));
    match (from, to) {
        (Lifecycle::Onboarding, Lifecycle::Monitoring) => {
            if let Some(gate) = gate
                && !gate.blocking_failures.is_empty()
            {
                let failing = gate.blocking_failures.clone();
                if !overridden {
                    return Err(TransitionError::NotReady { failing });
                }
                if !gate.may_override {
                    return Err(TransitionError::OverrideNotAllowed { failing });
                }
            }
        }
        (Lifecycle::Monitoring, Lifecycle::Live) if !overridden => {
            let days = tenant.settings.learning_period_days;
            let until = days_after(days);
            if now < until {
                return Err(TransitionError::LearningPeriod { days, until });
            }
        }
        (Lifecycle::Offboarding, Lifecycle::Deleted) if !overridden => {
            let days = tenant.settings.grace_period_days;
            let until = days_after(days);
            if now < until {
                return Err(TransitionError::GracePeriod { days, until });
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::{TenantName, TenantSlug};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn tenant_in(state: Lifecycle, since: &str) -> Tenant {
        let mut t = Tenant::new(
            TenantSlug::parse("acme").expect("slug"),
            TenantName::parse("Acme").expect("name"),
            at(since),
        );
        t.lifecycle = state;
        t.lifecycle_since = at(since);
        t
    }

    const LONG_AFTER: &str = "2027-06-01T00:00:00Z";

    #[test]
    fn every_allowed_transition_succeeds_once_its_period_has_elapsed() {
        let allowed = [
            (Lifecycle::Onboarding, Lifecycle::Monitoring),
            (Lifecycle::Onboarding, Lifecycle::Offboarding),
            (Lifecycle::Monitoring, Lifecycle::Live),
            (Lifecycle::Monitoring, Lifecycle::Offboarding),
            (Lifecycle::Live, Lifecycle::Offboarding),
            (Lifecycle::Offboarding, Lifecycle::Live),
            (Lifecycle::Offboarding, Lifecycle::Deleted),
        ];
        for (from, to) in allowed {
            let mut t = tenant_in(from, "2026-01-01T00:00:00Z");
            let version = t.version;
            t.transition(to, at(LONG_AFTER), None)
                .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
            assert_eq!(t.lifecycle, to);
            assert_eq!(t.lifecycle_since, at(LONG_AFTER));
            assert_eq!(t.version, version + 1);
        }
    }

    #[test]
    fn every_other_transition_is_refused_and_names_the_allowed_ones() {
        for from in Lifecycle::ALL {
            for to in Lifecycle::ALL {
                if from == to || from.successors().contains(&to) {
                    continue;
                }
                let mut t = tenant_in(from, "2026-01-01T00:00:00Z");
                let err = t
                    .transition(to, at(LONG_AFTER), Some("because"))
                    .expect_err("refused");
                assert_eq!(err, TransitionError::NotAllowed { from, to });
                assert_eq!(t.lifecycle, from, "refused move left the tenant unchanged");
                let msg = err.to_string();
                assert!(
                    msg.contains(from.as_str()) && msg.contains(to.as_str()),
                    "{msg}"
                );
            }
        }
    }

    #[test]
    fn moving_to_the_current_state_is_refused() {
        let mut t = tenant_in(Lifecycle::Live, "2026-01-01T00:00:00Z");
        let err = t
            .transition(Lifecycle::Live, at(LONG_AFTER), None)
            .expect_err("refused");
        assert_eq!(err.to_string(), "tenant is already live");
    }

    #[test]
    fn deleted_is_final() {
        let err = tenant_in(Lifecycle::Deleted, "2026-01-01T00:00:00Z")
            .transition(Lifecycle::Live, at(LONG_AFTER), None)
            .expect_err("refused");
        assert!(err.to_string().contains("deleted is final"), "{err}");
    }

    #[test]
    fn going_live_waits_for_the_learning_period_unless_overridden() {
        let mut t = tenant_in(Lifecycle::Monitoring, "2026-01-01T00:00:00Z");
        t.settings.learning_period_days = 14;
        let err = t
            .transition(Lifecycle::Live, at("2026-01-10T00:00:00Z"), None)
            .expect_err("too early");
        assert!(matches!(
            err,
            TransitionError::LearningPeriod { days: 14, .. }
        ));
        assert!(err.to_string().contains("2026-01-15"), "{err}");
        assert_eq!(
            t.transition(Lifecycle::Live, at("2026-01-10T00:00:00Z"), Some(" ")),
            Err(TransitionError::BlankOverrideReason)
        );
        t.transition(
            Lifecycle::Live,
            at("2026-01-10T00:00:00Z"),
            Some("customer asked"),
        )
        .expect("override");
        assert_eq!(t.lifecycle, Lifecycle::Live);
    }

    #[test]
    fn monitoring_waits_for_readiness_and_only_a_provider_admin_overrides_it() {
        let gate = |may_override| ReadinessGate {
            blocking_failures: vec!["settings.incident_contact".into()],
            may_override,
        };
        let mut t = tenant_in(Lifecycle::Onboarding, "2026-01-01T00:00:00Z");
        let now = at("2026-01-02T00:00:00Z");
        let err = t
            .transition_gated(Lifecycle::Monitoring, now, None, Some(&gate(true)))
            .expect_err("not ready");
        assert!(
            err.to_string().contains("settings.incident_contact"),
            "{err}"
        );
        let err = t
            .transition_gated(
                Lifecycle::Monitoring,
                now,
                Some("pilot"),
                Some(&gate(false)),
            )
            .expect_err("not a provider admin");
        assert!(matches!(err, TransitionError::OverrideNotAllowed { .. }));
        assert_eq!(t.lifecycle, Lifecycle::Onboarding);
        t.transition_gated(Lifecycle::Monitoring, now, Some("pilot"), Some(&gate(true)))
            .expect("overridden");
        assert_eq!(t.lifecycle, Lifecycle::Monitoring);
        let mut ready = tenant_in(Lifecycle::Onboarding, "2026-01-01T00:00:00Z");
        ready
            .transition_gated(
                Lifecycle::Monitoring,
                now,
                None,
                Some(&ReadinessGate::default()),
            )
            .expect("ready");
    }

    #[test]
    fn deletion_waits_for_the_grace_period() {
        let mut t = tenant_in(Lifecycle::Offboarding, "2026-01-01T00:00:00Z");
        let err = t
            .transition(Lifecycle::Deleted, at("2026-02-01T00:00:00Z"), None)
            .expect_err("in grace period");
        assert!(matches!(err, TransitionError::GracePeriod { days: 90, .. }));
        t.transition(Lifecycle::Deleted, at("2026-04-02T00:00:00Z"), None)
            .expect("after 90 days");
    }
}
