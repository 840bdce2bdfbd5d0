//! Vigil's persistence layer.
//!
//! One trait per aggregate ([`TenantStore`], [`AuditStore`]), gathered in
//! [`Store`]. Each backend lives in its own module with its own migrations
//! (`migrations/<backend>/NNNN_name.sql`) and must pass the one
//! [`conformance`] suite. Today there is the SQLite backend; a PostgreSQL
//! backend plugs in behind the same traits.
//!
//! Invariant: every method that changes state takes the [`AuditEntry`] that
//! describes the change and writes it in the same transaction, so no change
//! can reach the database without its audit record.

pub mod conformance;
mod error;
mod migrate;
pub mod sqlite;

use async_trait::async_trait;
use vigil_core::TenantId;
use vigil_core::audit::{AuditEntry, AuditRecord};
use vigil_core::tenant::{Tenant, TenantSlug};

pub use error::StoreError;
pub use migrate::{Migration, MigrationReport};
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Tenants and their settings.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Insert a new tenant. Fails with [`StoreError::Duplicate`] if the slug
    /// or id is taken.
    async fn insert_tenant(&self, tenant: &Tenant, audit: AuditEntry) -> Result<AuditRecord>;

    /// Replace a tenant whose stored version is `expected_version`. Fails with
    /// [`StoreError::Conflict`] if someone else changed it meanwhile.
    async fn update_tenant(
        &self,
        tenant: &Tenant,
        expected_version: i64,
        audit: AuditEntry,
    ) -> Result<AuditRecord>;

    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>>;

    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>>;

    /// All tenants, ordered by slug.
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;
}

/// The hash-chained audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append a record that accompanies no other state change.
    async fn append_audit(&self, entry: AuditEntry) -> Result<AuditRecord>;

    /// Up to `limit` records with `seq > after_seq`, in order.
    async fn audit_page(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>>;
}

/// Everything a backend provides.
#[async_trait]
pub trait Store: TenantStore + AuditStore + std::fmt::Debug {
    /// Apply pending migrations; refuse a database from a newer Vigil.
    async fn migrate(&self) -> Result<MigrationReport>;

    /// A short description for logs: backend and location (no secrets).
    fn describe(&self) -> String;
}
