//! The audit log: an append-only chain of records, each holding the SHA-256
//! of the previous record and of its own content, so that any edit,
//! insertion, reordering or deletion of a record followed by others is
//! detected by [`verify`]. Removing the newest records leaves a shorter but
//! valid chain: compare [`ChainVerifier::head`] with a copy kept elsewhere to
//! catch that.

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{TenantId, Timestamp};

/// The hash the first record chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person or machine credential, by its stable name (e.g. an email).
    User(String),
    /// The local operator running the CLI on the server, by OS user name.
    Cli(String),
    /// Vigil itself (schedulers, detections).
    System,
    /// A tenant's response connector calling back (a signed request), by
    /// the tenant's slug.
    Connector(String),
}

impl Actor {
    /// The stored form: `user:jane@x`, `cli:root`, `system`, `connector:acme`.
    pub fn to_text(&self) -> String {
        match self {
            Actor::User(u) => format!("user:{u}"),
            Actor::Cli(u) => format!("cli:{u}"),
            Actor::System => "system".to_owned(),
            Actor::Connector(t) => format!("connector:{t}"),
        }
    }
}

/// A change about to be written to the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    /// Dotted verb: `tenant.create`, `tenant.settings`, `tenant.transition`.
    pub action: String,
    pub tenant_id: Option<TenantId>,
    /// What was changed, e.g. `tenant:acme`.
    pub target: String,
    /// What changed, as JSON (never secrets).
    pub details: Value,
}

impl AuditEntry {
    pub fn new(
        at: Timestamp,
        actor: &Actor,
        action: &str,
        tenant_id: Option<TenantId>,
        target: impl Into<String>,
        details: Value,
    ) -> Self {
        AuditEntry {
            at,
            actor: actor.to_text(),
            action: action.to_owned(),
            tenant_id,
            target: target.into(),
            details,
        }
    }

    /// Seal the entry as record `seq` after the record whose hash is `prev_hash`.
    pub fn seal(self, seq: i64, prev_hash: String) -> AuditRecord {
        let details = self.details.to_string();
        let mut record = AuditRecord {
            seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            tenant_id: self.tenant_id,
            target: self.target,
            details,
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.content_hash();
        record
    }
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub tenant_id: Option<TenantId>,
    pub target: String,
    /// The details JSON exactly as stored and hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// SHA-256 (hex) over the previous hash and every content field, each
    /// length-prefixed so that no two different records hash alike.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        let tenant = self.tenant_id.map(|t| t.to_string()).unwrap_or_default();
        let seq = self.seq.to_string();
        let at = self.at.as_microsecond().to_string();
        for field in [
            self.prev_hash.as_str(),
            &seq,
            &at,
            &self.actor,
            &self.action,
            &tenant,
            &self.target,
            &self.details,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        let digest = h.finalize();
        let mut out = String::with_capacity(64);
        for b in digest {
            let _ = write!(out, "{b:02x}");
        }
        out
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit record {seq} has been altered: its content no longer matches its hash")]
    Altered { seq: i64 },
    #[error(
        "audit record {seq} does not follow record {prev}: the previous hash differs (a record was changed, removed or inserted)"
    )]
    Unlinked { seq: i64, prev: i64 },
    #[error(
        "audit record {seq} is out of sequence: expected record {expected} (a record was removed or inserted)"
    )]
    Gap { seq: i64, expected: i64 },
    #[error("audit record {seq} has been altered: {reason}")]
    Unreadable { seq: i64, reason: String },
}

impl ChainBreak {
    /// The sequence number of the first broken record.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Altered { seq }
            | ChainBreak::Unlinked { seq, .. }
            | ChainBreak::Gap { seq, .. }
            | ChainBreak::Unreadable { seq, .. } => *seq,
        }
    }
}

/// Incremental chain verification, so that a log of any length can be
/// checked page by page.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        if record.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                seq: record.seq,
                expected: self.expected_seq,
            });
        }
        if record.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked {
                seq: record.seq,
                prev: record.seq - 1,
            });
        }
        if record.content_hash() != record.hash {
            return Err(ChainBreak::Altered { seq: record.seq });
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&record.hash);
        self.checked += 1;
        Ok(())
    }

    /// How many records were verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The hash the next record must chain to.
    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

/// Verify a whole chain held in memory.
pub fn verify<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> Result<u64, ChainBreak> {
    let mut v = ChainVerifier::default();
    for r in records {
        v.check(r)?;
    }
    Ok(v.checked())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let r = AuditEntry::new(
                    Timestamp::from_second(1_800_000_000 + seq).expect("ts"),
                    &Actor::Cli("root".into()),
                    "tenant.create",
                    None,
                    format!("tenant:t{seq}"),
                    json!({"n": seq}),
                )
                .seal(seq, prev.clone());
                prev.clone_from(&r.hash);
                r
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut c = chain(5);
        c[2].details = r#"{"n":99}"#.into();
        assert_eq!(verify(&c), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn an_edited_and_rehashed_record_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].action = "tenant.delete".into();
        c[2].hash = c[2].content_hash();
        assert_eq!(verify(&c), Err(ChainBreak::Unlinked { seq: 4, prev: 3 }));
    }

    #[test]
    fn a_removed_record_is_a_gap() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn fields_cannot_shift_content_between_each_other() {
        let mut a = chain(1).remove(0);
        let mut b = a.clone();
        a.actor = "cli:ab".into();
        a.action = "c".into();
        b.actor = "cli:a".into();
        b.action = "bc".into();
        assert_ne!(a.content_hash(), b.content_hash());
    }
}
