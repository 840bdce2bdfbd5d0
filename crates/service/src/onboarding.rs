//! Onboarding (PRODUCT.md §1, §3): the steps a tenant goes through before
//! monitoring starts, each checked against its settings, and the readiness
//! gate on `onboarding` → `monitoring` (see `transition_tenant`). Each step
//! is filled in with validated setting changes (`update_tenant`); this
//! module says where the tenant stands and what to do next.

use vigil_core::identity::Principal;
use vigil_core::readiness::Assessment;
use vigil_core::tenant::{Coverage, Tenant};

use crate::{Result, Service};

/// One onboarding step and where the tenant stands on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OnboardingStep {
    /// Stable name: `authorisation`, `exclusions`, `coverage`, `contacts`,
    /// `channels`, `sla`, `ir_provider`, `readiness`.
    pub step: &'static str,
    pub title: &'static str,
    pub done: bool,
    /// A step that is not required is recommended.
    pub required: bool,
    /// What is set now, or what is missing.
    pub detail: String,
    /// How to complete or change it.
    pub how: String,
}

/// A tenant's onboarding checklist.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Onboarding {
    pub tenant: String,
    pub lifecycle: vigil_core::tenant::Lifecycle,
    pub steps: Vec<OnboardingStep>,
    /// The latest readiness assessment's score and blocking failures.
    pub readiness_score: Option<f64>,
    pub blocking_failures: Vec<String>,
    /// Every required step done and no blocking failure in the latest
    /// assessment: `monitoring` can start (it re-runs the assessment).
    pub complete: bool,
}

impl Service {
    /// Where the tenant stands in onboarding.
    pub async fn onboarding(&self, p: &Principal, slug: &str) -> Result<Onboarding> {
        let (tenant, latest) = self.tenant_overview(p, slug).await?;
        Ok(checklist(&tenant, latest.as_ref()))
    }
}

/// The checklist for `tenant` given its latest assessment.
pub fn checklist(tenant: &Tenant, latest: Option<&Assessment>) -> Onboarding {
    let s = &tenant.settings;
    let slug = &tenant.slug;
    let mut steps = Vec::new();
    let mut step = |step, title, required, done, detail: String, how: String| {
        steps.push(OnboardingStep {
            step,
            title,
            done,
            required,
            detail,
            how,
        });
    };
    step(
        "authorisation",
        "Response authorisation",
        true,
        s.authorisation.is_some(),
        s.authorisation.map_or_else(
            || {
                "not chosen: guided (the experts recommend, you act) or managed (the experts act)"
                    .into()
            },
            |a| format!("{a}"),
        ),
        format!("vigil onboard {slug} --authorisation guided|managed"),
    );
    step(
        "exclusions",
        "Exclusions reviewed",
        true,
        s.exclusions_reviewed_at.is_some(),
        match s.exclusions_reviewed_at {
            Some(t) => format!("{} exclusion(s), reviewed at {t}", s.exclusions.len()),
            None => format!("{} exclusion(s), not yet reviewed", s.exclusions.len()),
        },
        format!("vigil onboard {slug} --add-exclusion device:NAME … --exclusions-reviewed"),
    );
    step(
        "coverage",
        "Scoped coverage",
        false,
        true,
        match &s.coverage {
            Coverage::All => "all assets the tenant sends".into(),
            Coverage::Scoped(a) => format!("{} scoped asset(s)", a.len()),
        },
        format!("vigil onboard {slug} --add-coverage device_group:NAME (or --coverage-all)"),
    );
    let incident = s.incident_contacts();
    step(
        "contacts",
        "Incident contacts",
        true,
        !incident.is_empty(),
        if incident.is_empty() {
            "no incident contact".into()
        } else {
            let names: Vec<String> = incident
                .iter()
                .map(|c| format!("{} (priority {})", c.name, c.priority))
                .collect();
            names.join(", ")
        },
        format!(
            "vigil onboard {slug} --add-contact 'kind=incident,name=NAME,email=ADDRESS,phone=NUMBER,priority=1'"
        ),
    );
    step(
        "channels",
        "Notification channels",
        false,
        !s.channels.is_empty(),
        if s.channels.is_empty() {
            "no channel: incident contacts are reached by email only".into()
        } else {
            let names: Vec<&str> = s.channels.iter().map(|c| c.name.as_str()).collect();
            names.join(", ")
        },
        format!(
            "vigil onboard {slug} --add-channel 'name=NAME,kind=email,to=ADDRESS' (or a webhook)"
        ),
    );
    step(
        "sla",
        "SLA policy",
        true,
        true,
        format!(
            "high {:#} / {:#}, medium {:#} / {:#}, low {:#} / {:#} (acknowledge / complete)",
            s.sla.high.acknowledge,
            s.sla.high.complete,
            s.sla.medium.acknowledge,
            s.sla.medium.complete,
            s.sla.low.acknowledge,
            s.sla.low.complete
        ),
        format!("vigil onboard {slug} --sla high=1h/4h (defaults apply until changed)"),
    );
    step(
        "ir_provider",
        "Incident-response provider",
        true,
        s.ir_provider.is_some(),
        s.ir_provider
            .as_ref()
            .map_or_else(|| "not recorded".into(), |p| p.name.clone()),
        format!(
            "vigil onboard {slug} --ir-name NAME --ir-contact CONTACT --ir-engagement 'HOW TO ENGAGE'"
        ),
    );
    let blocking: Vec<String> = latest
        .map(|a| {
            a.blocking_failures()
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    step(
        "readiness",
        "Readiness assessment",
        true,
        latest.is_some_and(|a| a.ready),
        match latest {
            None => "not run yet".into(),
            Some(a) if a.ready => format!("ready, score {} (at {})", a.score, a.run_at),
            Some(a) => format!(
                "not ready, score {}: blocking failures {}",
                a.score,
                blocking.join(", ")
            ),
        },
        format!("vigil readiness {slug}; fix what fails, then run it again"),
    );
    let complete = steps.iter().all(|s| s.done || !s.required);
    Onboarding {
        tenant: slug.to_string(),
        lifecycle: tenant.lifecycle,
        steps,
        readiness_score: latest.map(|a| a.score),
        blocking_failures: blocking,
        complete,
    }
}
