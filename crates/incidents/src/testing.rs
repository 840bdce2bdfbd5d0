//! Builders for the unit tests.

use jiff::SignedDuration;
use vigil_core::alert::{Alert, AlertId};
use vigil_core::incident::IncidentId;
use vigil_core::{Severity, TenantId, Timestamp};

/// A fixed UUID v7-shaped id numbered `n`; smaller `n` sorts first.
fn uuid_text(n: u32) -> String {
    format!("{n:08x}-0000-7000-8000-000000000000")
}

pub(crate) fn id(n: u32) -> IncidentId {
    uuid_text(n).parse().expect("uuid")
}

pub(crate) fn tenant(n: u32) -> TenantId {
    uuid_text(n).parse().expect("uuid")
}

/// `hours` after a fixed instant.
pub(crate) fn at(hours: i64) -> Timestamp {
    let base: Timestamp = "2026-11-27T00:00:00Z".parse().expect("timestamp");
    base + SignedDuration::from_hours(hours)
}

/// An alert of tenant 1 starting `hour` hours in and lasting ten minutes.
pub(crate) fn alert(
    n: u32,
    title: &str,
    severity: Severity,
    entities: &[&str],
    hour: i64,
) -> Alert {
    let id: AlertId = uuid_text(n).parse().expect("uuid");
    Alert {
        id,
        tenant_id: tenant(1),
        rule_id: title.to_lowercase(),
        rule_title: title.to_owned(),
        source: "sigma".into(),
        severity,
        tactics: vec!["credential_access".into()],
        techniques: vec!["T1003".into()],
        entities: entities
            .iter()
            .map(|e| e.parse().expect("entity"))
            .collect(),
        first_activity: at(hour),
        last_activity: at(hour) + SignedDuration::from_mins(10),
        count: 1,
        incident_id: None,
        created_at: at(hour),
        updated_at: at(hour),
    }
}
