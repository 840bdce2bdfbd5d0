//! Service settings agreed at onboarding (PRODUCT.md §3).

use vigil_core::Severity;
use vigil_core::readiness::{CheckStatus, Evidence};

use super::{Outcome, num};
use crate::catalogue::SettingName;
use crate::facts::Facts;

pub(super) fn setting(f: &Facts, which: SettingName) -> Outcome {
    let s = &f.settings;
    let (ok, summary, evidence): (bool, String, Option<Evidence>) = match which {
        SettingName::IncidentContact => {
            let contacts = s.incident_contacts();
            let names: Vec<String> = contacts
                .iter()
                .map(|c| format!("{} (priority {})", c.name, c.priority))
                .collect();
            let summary = if names.is_empty() {
                "no incident contact is set".to_owned()
            } else {
                format!("{} incident contact(s): {}", names.len(), names.join(", "))
            };
            (
                !names.is_empty(),
                summary.clone(),
                Some(Evidence::new(summary).with("incident_contacts", num(names.len()))),
            )
        }
        SettingName::IrProvider => match &s.ir_provider {
            Some(p) => (true, format!("IR provider: {}", p.name), None),
            None => (
                false,
                "no incident-response provider is recorded".into(),
                None,
            ),
        },
        SettingName::Authorisation => match s.authorisation {
            Some(a) => (true, format!("response authorisation: {a}"), None),
            None => (
                false,
                "the customer has not chosen guided or managed response".into(),
                None,
            ),
        },
        SettingName::Sla => {
            let mut e = Evidence::new("SLA policy per severity (hours to acknowledge / complete)");
            let mut parts = Vec::new();
            for sev in [
                Severity::Critical,
                Severity::High,
                Severity::Medium,
                Severity::Low,
            ] {
                let t = s.sla.for_severity(sev);
                #[allow(clippy::cast_precision_loss)]
                let (ack, done) = (
                    t.acknowledge.as_secs() as f64 / 3600.0,
                    t.complete.as_secs() as f64 / 3600.0,
                );
                parts.push(format!("{sev} {ack} h / {done} h"));
                e = e
                    .with(&format!("{sev}.acknowledge_hours"), ack)
                    .with(&format!("{sev}.complete_hours"), done);
            }
            e.summary = format!("SLA policy: {}", parts.join(", "));
            (true, String::new(), Some(e))
        }
        SettingName::ExclusionsReviewed => match s.exclusions_reviewed_at {
            Some(t) => (
                true,
                format!("{} exclusion(s), reviewed at {t}", s.exclusions.len()),
                None,
            ),
            None => (
                false,
                format!(
                    "{} exclusion(s), never reviewed with the customer",
                    s.exclusions.len()
                ),
                None,
            ),
        },
    };
    let status = if ok {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    Outcome::new(status, evidence.unwrap_or_else(|| Evidence::new(summary)))
}
