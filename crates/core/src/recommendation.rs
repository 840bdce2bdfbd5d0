//! Posture recommendations (PRODUCT.md §10): what a tenant should change,
//! raised from the knowledge base (`vigil-posture`) when incidents or
//! readiness checks call for it, linked to what motivated it, and tracked
//! to done. Stored as JSON in this serde shape (a storage format: change it
//! only with a migration).

use crate::incident::IncidentId;
use crate::{Entity, Id, TenantId, Timestamp};

/// Identifier of a tenant's recommendation.
pub type RecommendationId = Id<Recommendation>;

words!(
    /// The five areas of the knowledge base.
    RecommendationCategory, "recommendation category" {
        Identity => "identity",
        Device => "device",
        Email => "email",
        Cloud => "cloud",
        Data => "data",
    }
);

words!(
    /// Where a recommendation stands.
    RecommendationStatus, "recommendation status" {
        Open => "open",
        Planned => "planned",
        Completed => "completed",
        RiskAccepted => "risk_accepted",
        AlternateMitigation => "alternate_mitigation",
        Dismissed => "dismissed",
    }
);

words!(
    /// Who completed it: the system (verification passed) or a person.
    CompletedBy, "completion" { System => "system", Hand => "hand" }
);

words!(
    /// The latest automatic verification's outcome.
    VerificationState, "verification state" {
        /// The knowledge-base entry has no verification expression.
        None => "none",
        /// Not evaluated yet, or the snapshots hold nothing to judge by.
        Unknown => "unknown",
        Passed => "passed",
        Failed => "failed",
    }
);

/// An incident that motivated the recommendation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncidentLink {
    pub incident_id: IncidentId,
    pub title: String,
    pub linked_at: Timestamp,
    /// Which trigger fired: `technique T1003.001`, `rule 5ef9…`.
    pub reason: String,
}

/// The automatic verification: the expression and its latest outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verification {
    /// The expression from the knowledge base (`None` when there is none).
    pub expression: Option<String>,
    pub state: VerificationState,
    pub checked_at: Option<Timestamp>,
    /// One line for people: "3 of 4 devices pass; failing: ws-0042".
    pub detail: String,
    /// Assets that fail it (capped).
    #[serde(default)]
    pub failing: Vec<String>,
    /// It passed at some time since it was last reopened; only then does a
    /// failure count as a regression that reopens a completed item.
    #[serde(default)]
    pub verified_since_open: bool,
}

impl Verification {
    pub fn new(expression: Option<String>) -> Self {
        let state = if expression.is_some() {
            VerificationState::Unknown
        } else {
            VerificationState::None
        };
        Verification {
            expression,
            state,
            checked_at: None,
            detail: String::new(),
            failing: Vec::new(),
            verified_since_open: false,
        }
    }
}

/// A note someone left on the recommendation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecommendationNote {
    pub at: Timestamp,
    pub actor: String,
    pub text: String,
}

/// One of a tenant's recommendations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recommendation {
    pub id: RecommendationId,
    pub tenant_id: TenantId,
    /// The knowledge-base entry (`device.lsass_protection`); one per tenant.
    pub kb_id: String,
    pub title: String,
    pub category: RecommendationCategory,
    pub points: u32,
    pub status: RecommendationStatus,
    /// Set while `completed`.
    pub completed_by: Option<CompletedBy>,
    /// Why it was accepted as a risk, dismissed or mitigated otherwise.
    pub reason: Option<String>,
    /// When a risk acceptance ends and the item reopens.
    pub expires_at: Option<Timestamp>,
    pub incidents: Vec<IncidentLink>,
    /// Devices and users named by the motivating incidents, and assets
    /// failing the verification.
    pub assets: Vec<Entity>,
    /// Failing readiness checks that raised it.
    pub checks: Vec<String>,
    pub verification: Verification,
    pub notes: Vec<RecommendationNote>,
    pub raised_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The most assets a recommendation lists.
pub const MAX_ASSETS: usize = 200;

impl Recommendation {
    /// Link an incident (once). Returns whether it was new.
    pub fn link_incident(&mut self, link: IncidentLink) -> bool {
        if self
            .incidents
            .iter()
            .any(|l| l.incident_id == link.incident_id)
        {
            return false;
        }
        self.incidents.push(link);
        true
    }

    /// Add assets (once each, capped). Returns how many were new.
    pub fn add_assets(&mut self, assets: impl IntoIterator<Item = Entity>) -> usize {
        let mut added = 0;
        for a in assets {
            if self.assets.len() >= MAX_ASSETS {
                break;
            }
            if !self.assets.contains(&a) {
                self.assets.push(a);
                added += 1;
            }
        }
        added
    }

    /// Whether its points count as achieved in the posture score.
    pub fn achieved(&self) -> bool {
        matches!(
            self.status,
            RecommendationStatus::Completed | RecommendationStatus::AlternateMitigation
        )
    }
}

/// A requested status change and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    pub to: RecommendationStatus,
    pub reason: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// Refuse a change by hand the lifecycle does not allow: the same status,
/// a risk acceptance without a reason or with an expiry not in the future,
/// a dismissal or alternate mitigation without a reason.
pub fn check_status_request(
    from: RecommendationStatus,
    req: &StatusRequest,
    now: Timestamp,
) -> Result<(), String> {
    use RecommendationStatus as S;
    if from == req.to {
        return Err(format!("the recommendation is already {from}"));
    }
    let has_reason = req.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
    match req.to {
        S::RiskAccepted => {
            if !has_reason {
                return Err("accepting the risk needs a reason".into());
            }
            match req.expires_at {
                None => return Err("accepting the risk needs an expiry (expires_at)".into()),
                Some(t) if t <= now => {
                    return Err(format!("the expiry {t} is not in the future"));
                }
                Some(_) => {}
            }
        }
        S::AlternateMitigation | S::Dismissed if !has_reason => {
            return Err(format!("{} needs a reason", req.to));
        }
        _ => {}
    }
    if req.to != S::RiskAccepted && req.expires_at.is_some() {
        return Err("an expiry applies only to risk_accepted".into());
    }
    Ok(())
}

/// Points achieved over points possible across a tenant's raised
/// recommendations. Dismissed items are left out; completed items and
/// alternate mitigations count as achieved; risk acceptances count as
/// possible but not achieved.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PostureScore {
    pub at: Timestamp,
    pub achieved: u32,
    pub possible: u32,
    /// 0 to 100, one decimal; `None` when nothing is possible yet.
    pub percent: Option<f64>,
}

impl PostureScore {
    pub fn of(at: Timestamp, recs: &[Recommendation]) -> Self {
        let (mut achieved, mut possible) = (0u32, 0u32);
        for r in recs {
            if r.status == RecommendationStatus::Dismissed {
                continue;
            }
            possible = possible.saturating_add(r.points);
            if r.achieved() {
                achieved = achieved.saturating_add(r.points);
            }
        }
        PostureScore {
            at,
            achieved,
            possible,
            percent: percent(achieved, possible),
        }
    }
}

/// `achieved` over `possible` as a percentage with one decimal; `None`
/// when nothing is possible.
pub fn percent(achieved: u32, possible: u32) -> Option<f64> {
    (possible > 0).then(|| {
        let p = f64::from(achieved) * 100.0 / f64::from(possible);
        (p * 10.0).round() / 10.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn rec(points: u32, status: RecommendationStatus) -> Recommendation {
        let now = at("2026-11-27T12:00:00Z");
        Recommendation {
            id: RecommendationId::new_at(now),
            tenant_id: TenantId::new_at(now),
            kb_id: "x".into(),
            title: "x".into(),
            category: RecommendationCategory::Device,
            points,
            status,
            completed_by: None,
            reason: None,
            expires_at: None,
            incidents: vec![],
            assets: vec![],
            checks: vec![],
            verification: Verification::new(None),
            notes: vec![],
            raised_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_score_counts_completed_and_alternates_and_leaves_dismissed_out() {
        use RecommendationStatus as S;
        let recs = [
            rec(10, S::Completed),
            rec(5, S::AlternateMitigation),
            rec(5, S::RiskAccepted),
            rec(20, S::Dismissed),
            rec(5, S::Open),
        ];
        let s = PostureScore::of(at("2026-11-27T12:00:00Z"), &recs);
        assert_eq!((s.achieved, s.possible), (15, 25));
        assert_eq!(s.percent, Some(60.0));
        assert_eq!(
            PostureScore::of(at("2026-11-27T12:00:00Z"), &[]).percent,
            None
        );
    }

    #[test]
    fn a_risk_acceptance_needs_a_reason_and_a_future_expiry() {
        use RecommendationStatus as S;
        let now = at("2026-11-27T12:00:00Z");
        let req = |to, reason: Option<&str>, exp: Option<&str>| StatusRequest {
            to,
            reason: reason.map(str::to_owned),
            expires_at: exp.map(at),
        };
        assert!(check_status_request(S::Open, &req(S::RiskAccepted, None, None), now).is_err());
        let e = check_status_request(
            S::Open,
            &req(
                S::RiskAccepted,
                Some("legacy app"),
                Some("2026-11-01T00:00:00Z"),
            ),
            now,
        )
        .expect_err("past expiry");
        assert!(e.contains("not in the future"), "{e}");
        assert!(
            check_status_request(
                S::Open,
                &req(
                    S::RiskAccepted,
                    Some("legacy app"),
                    Some("2027-01-01T00:00:00Z")
                ),
                now
            )
            .is_ok()
        );
        assert!(check_status_request(S::Open, &req(S::Dismissed, None, None), now).is_err());
        assert!(check_status_request(S::Open, &req(S::Open, None, None), now).is_err());
        assert!(check_status_request(S::Open, &req(S::Planned, None, None), now).is_ok());
    }

    #[test]
    fn an_incident_is_linked_once_and_assets_listed_once() {
        let mut r = rec(1, RecommendationStatus::Open);
        let now = at("2026-11-27T12:00:00Z");
        let link = IncidentLink {
            incident_id: IncidentId::new_at(now),
            title: "t".into(),
            linked_at: now,
            reason: "technique T1003.001".into(),
        };
        assert!(r.link_incident(link.clone()));
        assert!(!r.link_incident(link));
        let d = Entity::new(crate::EntityKind::Device, "ws1");
        assert_eq!(r.add_assets([d.clone(), d]), 1);
    }
}
