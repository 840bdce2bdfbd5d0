//! Posture recommendations (PRODUCT.md §10): a tenant's raised
//! recommendations, their history, and the posture score's trend.

use async_trait::async_trait;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::recommendation::{PostureScore, Recommendation, RecommendationId};
use vigil_core::{TenantId, Timestamp};

use crate::Result;

/// One line of a recommendation's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecommendationChange {
    pub at: Timestamp,
    pub actor: String,
    /// What changed, in words (`status open → completed (system)`).
    pub change: String,
}

#[async_trait]
pub trait RecommendationStore: Send + Sync {
    /// Save a recommendation with its history lines, the tenant's posture
    /// score after the change, and the audit record, in one transaction.
    /// `expected` is the `updated_at` it was read with (`None`: a new one);
    /// a recommendation changed meanwhile is a `Conflict`, and a second
    /// one for the same tenant and knowledge-base entry a `Duplicate`.
    async fn put_recommendation(
        &self,
        rec: &Recommendation,
        expected: Option<Timestamp>,
        history: &[String],
        actor: &str,
        score: &PostureScore,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    /// A tenant's recommendations, oldest raised first.
    async fn recommendations(&self, tenant: TenantId) -> Result<Vec<Recommendation>>;

    /// One of a tenant's recommendations with its history, oldest first.
    async fn recommendation(
        &self,
        tenant: TenantId,
        id: RecommendationId,
    ) -> Result<Option<(Recommendation, Vec<RecommendationChange>)>>;

    /// The tenant's posture scores, newest first, at most `limit`.
    async fn posture_scores(&self, tenant: TenantId, limit: u32) -> Result<Vec<PostureScore>>;

    /// Tenants holding any recommendation (the ones the worker revisits).
    async fn tenants_with_recommendations(&self) -> Result<Vec<TenantId>>;
}
