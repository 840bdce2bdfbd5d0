//! Major incidents and the incident-response boundary (PRODUCT.md §11):
//! the criteria that mark an incident as beyond managed detection and
//! response, what each recorded as evidence, the per-tenant thresholds, and
//! the IR engagement record (`requested` → `engaged` → `closed`).
//!
//! Deciding whether a criterion holds is `vigil-incidents`' business
//! (`vigil_incidents::major`); this module only says what the results are.

use std::collections::BTreeMap;

use crate::Timestamp;

words!(
    /// One major-incident criterion of PRODUCT.md §11.
    Criterion, "major-incident criterion" {
        /// Shadow-copy or backup deletion, recovery disabled, ransom notes,
        /// mass renames or encryption.
        Ransomware => "ransomware",
        /// The same attacker activity (one detection rule) on N+ hosts.
        ManyHosts => "many_hosts",
        /// Credential theft on a domain controller, or directory
        /// replication abuse (DCSync).
        DomainCredentialTheft => "domain_credential_theft",
        /// A privileged account judged compromised.
        PrivilegedAccount => "privileged_account",
        /// Exfiltration above the tenant's volume threshold.
        Exfiltration => "exfiltration",
        /// Logs cleared or trails stopped on several sources, or backups
        /// destroyed.
        LogAndBackupDestruction => "log_and_backup_destruction",
    }
);

/// What a criterion found: the alerts and stored events (by `seq`) behind
/// it, the hosts and users involved, and named counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    pub alerts: Vec<String>,
    pub events: Vec<i64>,
    pub hosts: Vec<String>,
    pub users: Vec<String>,
    /// e.g. `"shadow_copy_deletions": 5`, `"bytes_out": 2147483648`.
    pub counts: BTreeMap<String, u64>,
}

/// A criterion that held, with why (one sentence) and its evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FiredCriterion {
    pub criterion: Criterion,
    pub summary: String,
    pub evidence: Evidence,
    /// When it was first seen to hold.
    pub at: Timestamp,
}

/// An incident's major-incident state, kept beside its summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MajorState {
    pub major: bool,
    /// Engage an incident-response provider: the incident is out of MDR
    /// scope (experts keep giving containment guidance; recovery is IR's).
    pub ir_recommended: bool,
    /// Every criterion that has held, in the order first seen.
    pub criteria: Vec<FiredCriterion>,
    /// `system` when raised by the criteria, else the analyst.
    pub set_by: String,
    /// An analyst's reason when raised or cleared by hand.
    pub reason: Option<String>,
    pub changed_at: Timestamp,
}

impl MajorState {
    /// Whether this criterion has already been recorded.
    pub fn has(&self, c: Criterion) -> bool {
        self.criteria.iter().any(|f| f.criterion == c)
    }
}

words!(
    /// Where an IR engagement stands.
    IrStatus, "IR engagement status" {
        Requested => "requested",
        Engaged => "engaged",
        Closed => "closed",
    }
);

impl IrStatus {
    /// `requested` → `engaged` → `closed`; a request may also be closed
    /// without an engagement (the customer declined or handled it).
    pub const fn successors(self) -> &'static [IrStatus] {
        match self {
            IrStatus::Requested => &[IrStatus::Engaged, IrStatus::Closed],
            IrStatus::Engaged => &[IrStatus::Closed],
            IrStatus::Closed => &[],
        }
    }
}

/// A note on an IR engagement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IrNote {
    pub at: Timestamp,
    pub author: String,
    pub text: String,
}

/// The record of handing an incident to the tenant's IR provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IrEngagement {
    pub status: IrStatus,
    /// The IR provider's name when one is on file.
    pub provider: Option<String>,
    pub requested_at: Timestamp,
    pub engaged_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub notes: Vec<IrNote>,
}

/// An IR engagement move that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an IR engagement cannot move from {from} to {to}: {}", allowed(*.from))]
pub struct IrMoveError {
    pub from: IrStatus,
    pub to: IrStatus,
}

fn allowed(from: IrStatus) -> String {
    match from.successors() {
        [] => format!("{from} is final"),
        next => format!(
            "from {from} it may move to {}",
            next.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl IrEngagement {
    /// A new request at `at`.
    pub fn requested(at: Timestamp, provider: Option<String>) -> Self {
        IrEngagement {
            status: IrStatus::Requested,
            provider,
            requested_at: at,
            engaged_at: None,
            closed_at: None,
            notes: Vec::new(),
        }
    }

    /// Move to `to` at `at`, recording the time.
    pub fn advance(&mut self, to: IrStatus, at: Timestamp) -> Result<(), IrMoveError> {
        if !self.status.successors().contains(&to) {
            return Err(IrMoveError {
                from: self.status,
                to,
            });
        }
        match to {
            IrStatus::Engaged => self.engaged_at = Some(at),
            IrStatus::Closed => self.closed_at = Some(at),
            IrStatus::Requested => {}
        }
        self.status = to;
        Ok(())
    }
}

/// Per-tenant thresholds of the criteria (PRODUCT.md §11). Serialised in
/// the tenant's settings; absent fields take the defaults.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MajorThresholds {
    /// The same detection rule on at least this many hosts (default 5).
    pub hosts: u32,
    /// Files renamed or written with a ransomware extension on one host
    /// (default 50).
    pub encrypted_files: u32,
    /// Bytes sent out in exfiltration-tactic evidence (default 1 GiB).
    pub exfiltration_bytes: u64,
    /// Distinct logs or trails cleared or stopped before log destruction
    /// alone is major (default 2; backup deletion counts at once).
    pub cleared_logs: u32,
    /// Hosts that are domain controllers, besides those recognised from
    /// their events (Kerberos ticket and directory-service events).
    pub domain_controllers: Vec<String>,
    /// Accounts that are privileged, besides those recognised by name or
    /// by admin-group evidence.
    pub privileged_users: Vec<String>,
}

impl Default for MajorThresholds {
    fn default() -> Self {
        MajorThresholds {
            hosts: 5,
            encrypted_files: 50,
            exfiltration_bytes: 1 << 30,
            cleared_logs: 2,
            domain_controllers: Vec::new(),
            privileged_users: Vec::new(),
        }
    }
}

impl MajorThresholds {
    /// Refuse thresholds that would make every incident major or none.
    pub fn validate(&self) -> Result<(), String> {
        if self.hosts < 2 {
            return Err(format!("hosts must be at least 2; got {}", self.hosts));
        }
        if self.encrypted_files < 2 {
            return Err(format!(
                "encrypted_files must be at least 2; got {}",
                self.encrypted_files
            ));
        }
        if self.exfiltration_bytes == 0 {
            return Err("exfiltration_bytes must be above 0".into());
        }
        if self.cleared_logs == 0 {
            return Err("cleared_logs must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn an_engagement_moves_requested_engaged_closed_and_records_each_time() {
        let mut e = IrEngagement::requested(t("2026-11-27T10:00:00Z"), None);
        e.advance(IrStatus::Engaged, t("2026-11-27T11:00:00Z"))
            .expect("engage");
        assert_eq!(e.engaged_at, Some(t("2026-11-27T11:00:00Z")));
        let err = e
            .advance(IrStatus::Requested, t("2026-11-27T12:00:00Z"))
            .expect_err("back");
        assert_eq!(
            err.to_string(),
            "an IR engagement cannot move from engaged to requested: from engaged it may move to closed"
        );
        e.advance(IrStatus::Closed, t("2026-11-27T13:00:00Z"))
            .expect("close");
        assert_eq!(e.status, IrStatus::Closed);
        assert!(
            e.advance(IrStatus::Engaged, t("2026-11-27T14:00:00Z"))
                .is_err()
        );
    }

    #[test]
    fn thresholds_default_to_five_hosts_and_refuse_nonsense() {
        let d = MajorThresholds::default();
        assert_eq!(d.hosts, 5);
        assert!(d.validate().is_ok());
        let parsed: MajorThresholds = serde_json::from_str(r#"{"hosts":3}"#).expect("json");
        assert_eq!(parsed.hosts, 3);
        assert_eq!(parsed.encrypted_files, 50);
        let bad = MajorThresholds {
            hosts: 1,
            ..MajorThresholds::default()
        };
        assert!(bad.validate().expect_err("one host").contains("hosts"));
    }
}
