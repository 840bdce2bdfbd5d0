use vigil_core::audit::{ChainBreak, ChainVerifier};

use crate::{Result, Service};

/// The outcome of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Records checked.
    pub records: u64,
    /// Hash of the last record (the genesis hash for an empty log).
    pub head: String,
}

const PAGE: u32 = 1000;

impl Service {
    /// Walk the whole audit chain; fail naming the first broken record.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = match self.store.audit_page(after, PAGE).await {
                Ok(page) => page,
                Err(vigil_store::StoreError::UnreadableAudit { seq, reason }) => {
                    return Err(ChainBreak::Unreadable { seq, reason }.into());
                }
                Err(e) => return Err(e.into()),
            };
            let Some(last) = page.last() else { break };
            after = last.seq;
            for record in &page {
                verifier.check(record)?;
            }
        }
        Ok(AuditVerification {
            records: verifier.checked(),
            head: verifier.head().to_owned(),
        })
    }
}
