use vigil_core::audit::{AuditRecord, ChainBreak, ChainVerifier};
use vigil_core::identity::{Permission, Principal};

use crate::{Result, Service};

/// The most records one call returns.
pub const MAX_AUDIT_PAGE: u32 = 1000;

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
    /// Audit records after `after_seq`, oldest first: one tenant's (for its
    /// customer admins and the provider) or, with no tenant, all of them
    /// (provider admins).
    pub async fn audit_log(
        &self,
        p: &Principal,
        tenant: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE);
        match tenant {
            Some(slug) => {
                let tenant = self.load_tenant(slug).await?;
                self.authorize(p, Permission::ReadAudit, Some(&tenant), true)
                    .await?;
                Ok(self
                    .store
                    .tenant_audit_page(tenant.id, after_seq, limit)
                    .await?)
            }
            None => {
                self.authorize(p, Permission::ReadAudit, None, false)
                    .await?;
                Ok(self.store.audit_page(after_seq, limit).await?)
            }
        }
    }

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
