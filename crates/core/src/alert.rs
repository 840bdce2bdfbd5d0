//! Alerts: a detection rule's match on a tenant's telemetry (PRODUCT.md §6).
//! Repeated matches of one rule on the same key entities within a window
//! are one alert with a count.

use jiff::SignedDuration;
use sha2::{Digest, Sha256};

use crate::{Entity, EntityKind, Id, Severity, TenantId, Timestamp};

/// Identifier of an alert.
pub type AlertId = Id<Alert>;

/// Matches of one rule on the same key entities this close together are
/// one alert.
pub const DEDUP_WINDOW: SignedDuration = SignedDuration::from_hours(1);

/// An alert keeps at most this many entities.
pub const MAX_ALERT_ENTITIES: usize = 64;

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub id: AlertId,
    pub tenant_id: TenantId,
    pub rule_id: String,
    pub rule_title: String,
    /// What raised it: `sigma` (a detection rule) or `correlation`.
    pub source: String,
    pub severity: Severity,
    /// ATT&CK tactics, by their tag name (`credential_access`).
    pub tactics: Vec<String>,
    /// ATT&CK technique ids (`T1110.003`).
    pub techniques: Vec<String>,
    pub entities: Vec<Entity>,
    pub first_activity: Timestamp,
    pub last_activity: Timestamp,
    pub count: u64,
    pub incident_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One rule match on one or more events, before deduplication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub rule_id: String,
    pub rule_title: String,
    /// `sigma` or `correlation`.
    pub source: String,
    pub severity: Severity,
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    pub entities: Vec<Entity>,
    /// When the matched activity happened.
    pub time: Timestamp,
    /// The stored events that matched (their `seq`).
    pub events: Vec<i64>,
}

/// Entities that identify "the same activity" for deduplication: who and
/// where, not the ever-changing details (processes, files, hashes).
fn is_key(kind: EntityKind) -> bool {
    matches!(
        kind,
        EntityKind::Device | EntityKind::User | EntityKind::Mailbox | EntityKind::CloudResource
    )
}

impl Observation {
    /// The deduplication key: the rule and its key entities (devices,
    /// users, mailboxes, cloud resources; IP addresses when there are none
    /// of those), as a hex SHA-256.
    pub fn dedup_key(&self) -> String {
        let mut keys: Vec<&Entity> = self.entities.iter().filter(|e| is_key(e.kind)).collect();
        if keys.is_empty() {
            keys = self
                .entities
                .iter()
                .filter(|e| e.kind == EntityKind::Ip)
                .collect();
        }
        keys.sort();
        keys.dedup();
        let mut h = Sha256::new();
        h.update(self.rule_id.as_bytes());
        for e in keys {
            h.update([0]);
            h.update(e.kind.as_str().as_bytes());
            h.update([0]);
            h.update(e.value.as_bytes());
        }
        crate::hex::lower(&h.finalize())
    }
}

/// Which alerts to list, newest activity first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only these severities (none: all).
    pub severities: Vec<Severity>,
    /// Activity at or after.
    pub since: Option<Timestamp>,
    /// Activity before.
    pub until: Option<Timestamp>,
    pub rule_id: Option<String>,
    pub entity: Option<Entity>,
    /// Continue after this alert (from the previous page's `next`).
    pub after: Option<(Timestamp, AlertId)>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(entities: &[&str]) -> Observation {
        Observation {
            rule_id: "r1".into(),
            rule_title: "Rule".into(),
            source: "sigma".into(),
            severity: Severity::High,
            tactics: vec![],
            techniques: vec![],
            entities: entities
                .iter()
                .map(|e| e.parse().expect("entity"))
                .collect(),
            time: "2026-11-27T09:00:00Z".parse().expect("time"),
            events: vec![1],
        }
    }

    #[test]
    fn the_dedup_key_ignores_details_and_entity_order() {
        let a = obs(&["device:ws1", "user:alice", "process:C:\\a.exe"]);
        let b = obs(&["user:alice", "process:C:\\b.exe", "device:ws1"]);
        assert_eq!(a.dedup_key(), b.dedup_key());
        let other_user = obs(&["device:ws1", "user:bob"]);
        assert_ne!(a.dedup_key(), other_user.dedup_key());
    }

    #[test]
    fn without_who_or_where_the_source_address_is_the_key() {
        let a = obs(&["ip:203.0.113.7", "url:https://a"]);
        let b = obs(&["ip:203.0.113.7", "url:https://b"]);
        let c = obs(&["ip:203.0.113.8"]);
        assert_eq!(a.dedup_key(), b.dedup_key());
        assert_ne!(a.dedup_key(), c.dedup_key());
    }
}
