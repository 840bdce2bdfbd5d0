//! Vigil's use cases. The API, the portal and the CLI call this crate and
//! nothing below it; it takes and returns plain Rust types.
//!
//! Every state change goes through a store method that writes its audit
//! record in the same transaction (see `vigil-store`).

mod alerts;
mod audit;
mod authz;
mod clock;
mod detection;
mod engine;
mod error;
mod identity;
mod incidents;
mod intake;
mod ir_bundle;
mod major;
mod notify;
mod rules;
mod sessions;
mod summaries;
mod tasks;
mod tenants;

use std::sync::Arc;

use vigil_store::Store;

pub use alerts::MAX_ALERT_PAGE;
pub use audit::{AuditVerification, MAX_AUDIT_PAGE};
pub use clock::{Clock, FixedClock, SystemClock};
pub use detection::{Detection, DetectionReport, DetectionSession};
pub use engine::SigmaDetection;
pub use error::ServiceError;
pub use identity::{NewSecret, random_token};
pub use incidents::{IncidentChange, IncidentView, MAX_INCIDENT_PAGE, ProcessNode};
pub use intake::{
    At, IngestOutcome, Intake, IntakeLimits, PurgeReport, Record, TelemetryStats, build_batch,
};
pub use ir_bundle::{BUNDLE_FILES, IrBundle};
pub use notify::MAX_NOTIFICATION_PAGE;
pub use rules::{BUILTIN_PACK, PackReport, TenantRule, summarise};
pub use sessions::{SignedIn, csrf_token, tokens_equal};
pub use summaries::{SummaryView, draft_from};
pub use tasks::TaskView;
pub use vigil_core::audit::Actor;
pub use vigil_core::identity::Principal;
pub use vigil_core::session::LoginPolicy;
pub use vigil_store::{IncidentActivity, IncidentComment, IncidentFilter, IncidentRecord};

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The application: a store, a clock and the sign-in policy.
#[derive(Clone, Debug)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    login_policy: LoginPolicy,
    intake: Arc<intake::IntakeState>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Service {
            store,
            clock,
            login_policy: LoginPolicy::default(),
            intake: Arc::new(intake::IntakeState::new(IntakeLimits::default())),
        }
    }

    /// The same service with other intake limits.
    pub fn with_intake_limits(mut self, limits: IntakeLimits) -> Self {
        self.intake = Arc::new(intake::IntakeState::new(limits));
        self
    }

    /// The same service with another sign-in policy.
    pub fn with_login_policy(mut self, policy: LoginPolicy) -> Self {
        self.login_policy = policy;
        self
    }

    /// The service's "now" (tests move it).
    pub fn now(&self) -> vigil_core::Timestamp {
        self.clock.now()
    }

    pub fn login_policy(&self) -> &LoginPolicy {
        &self.login_policy
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
