//! Vigil's use cases. The API, the portal and the CLI call this crate and
//! nothing below it; it takes and returns plain Rust types.
//!
//! Every state change goes through a store method that writes its audit
//! record in the same transaction (see `vigil-store`).

mod audit;
mod authz;
mod clock;
mod error;
mod identity;
mod tenants;

use std::sync::Arc;

use vigil_store::Store;

pub use audit::AuditVerification;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::ServiceError;
pub use identity::NewSecret;
pub use vigil_core::audit::Actor;
pub use vigil_core::identity::Principal;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The application: a store and a clock.
#[derive(Clone, Debug)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Service { store, clock }
    }

    /// Apply pending schema migrations.
    pub async fn migrate(&self) -> Result<vigil_store::MigrationReport> {
        Ok(self.store.migrate().await?)
    }

    /// Whether the store answers (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        self.store.audit_page(0, 1).await?;
        Ok(())
    }

    pub fn store_description(&self) -> String {
        self.store.describe()
    }
}
