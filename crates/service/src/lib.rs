//! Vigil's use cases. The API, the portal and the CLI call this crate and
//! nothing below it; it takes and returns plain Rust types.
//!
//! Every state change goes through a store method that writes its audit
//! record in the same transaction (see `vigil-store`).

mod alerts;
mod audit;
mod authz;
pub mod bus;
mod clock;
pub mod connectors;
mod deliver;
mod detection;
mod engine;
mod error;
mod executions;
mod hunt_saved;
mod hunting;
mod identity;
mod incidents;
mod intake;
mod ir_bundle;
mod live;
mod major;
mod major_facts;
mod messages;
mod notify;
mod onboarding;
mod outbound;
mod readiness;
mod recommendations;
pub mod render;
pub mod reports;
mod rules;
mod sessions;
mod sla;
mod summaries;
mod tasks;
mod tenants;

use std::sync::Arc;

use vigil_store::Store;

pub use alerts::MAX_ALERT_PAGE;
pub use audit::{AuditVerification, MAX_AUDIT_PAGE};
pub use clock::{Clock, FixedClock, SystemClock};
pub use deliver::{DELIVERY_HEADER, DeliveryAttempt, DeliveryReport, DeliveryView};
pub use detection::{Detection, DetectionReport, DetectionSession};
pub use engine::SigmaDetection;
pub use error::ServiceError;
pub use executions::CallbackReport;
pub use hunt_saved::{HuntDraft, HuntRunReport, SummaryDraft};
pub use hunting::{
    HuntColumnView, HuntLimits, HuntResult, HuntSchemaColumn, HuntStats, HuntTableView,
    MAX_HUNT_ROWS, hunt_csv, hunt_schema,
};
pub use identity::{NewSecret, random_token};
pub use incidents::{IncidentChange, IncidentView, MAX_INCIDENT_PAGE, ProcessNode};
pub use intake::{
    At, IngestOutcome, Intake, IntakeLimits, PurgeReport, Record, TelemetryStats, build_batch,
};
pub use ir_bundle::{BUNDLE_FILES, IrBundle};
pub use live::{LiveDelivery, LiveEvent, LiveFeed, LiveItem, LiveKind};
pub use messages::{InquiryView, MAX_INQUIRY_PAGE, MAX_MESSAGE_PAGE, MessageQuery};
pub use notify::MAX_NOTIFICATION_PAGE;
pub use onboarding::{Onboarding, OnboardingStep};
pub use outbound::{Outbound, SendError};
pub use readiness::{MAX_READINESS_PAGE, READINESS_INTERVAL, catalogue};
pub use recommendations::{
    DueReport, MAX_NOTE, MAX_TREND, PostureScoreView, RecommendationUpdate, RecommendationView,
    knowledge,
};
pub use reports::pdf::{PdfError, PdfPrinter};
pub use reports::{ReportDelivery, parse_period};
pub use rules::{BUILTIN_PACK, PackReport, TenantRule, summarise};
pub use sessions::{SignedIn, csrf_token, tokens_equal};
pub use sla::{SlaBreach, SlaReport};
pub use summaries::{SummaryView, draft_from};
pub use tasks::TaskView;
pub use vigil_core::audit::Actor;
pub use vigil_core::identity::Principal;
pub use vigil_core::session::LoginPolicy;
pub use vigil_store::{
    IncidentActivity, IncidentComment, IncidentFilter, IncidentRecord, InquiryFilter, MessageEntry,
    RecommendationChange,
};

/// The public URL when none is configured: `vigil serve`'s default address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The application: a store, a clock and the sign-in policy.
#[derive(Clone, Debug)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    login_policy: LoginPolicy,
    intake: Arc<intake::IntakeState>,
    /// The address people and customers' systems reach Vigil at: links in
    /// notifications and connector callback URLs start with it.
    public_url: Arc<str>,
    live: live::LiveBus,
    connectors: connectors::Connectors,
    /// Held while delivery attempts run, so one attempt is never sent twice
    /// by this process.
    deliveries: Arc<tokio::sync::Mutex<()>>,
    pdf: PdfPrinter,
    /// The intake → detection stream (docs/scale-out.md).
    bus: Arc<dyn bus::Bus>,
    /// When major-incident criteria last ran per incident.
    major_checks: Arc<major::MajorChecks>,
    /// Events' facts for the major-incident criteria, once read.
    major_facts: Arc<major_facts::FactsCache>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        // A store that makes `AdditionalFields` from the record when a
        // hunt reads it spares intake making it for every event.
        let lean_hunting = store.derive_additional(vigil_hunt::additional_of_record);
        Service {
            clock,
            login_policy: LoginPolicy::default(),
            intake: Arc::new(intake::IntakeState::new(
                IntakeLimits::default(),
                lean_hunting,
            )),
            public_url: Arc::from(DEFAULT_PUBLIC_URL),
            live: live::LiveBus::new(),
            connectors: connectors::Connectors::default(),
            deliveries: Arc::new(tokio::sync::Mutex::new(())),
            pdf: PdfPrinter::default(),
            bus: Arc::new(bus::QueueBus::new(store.clone())),
            major_checks: Arc::default(),
            major_facts: Arc::default(),
            store,
        }
    }

    /// The same service over another intake → detection bus (NATS
    /// JetStream, for several `detect` processes).
    pub fn with_bus(mut self, bus: Arc<dyn bus::Bus>) -> Self {
        self.bus = bus;
        self
    }

    /// The intake → detection bus.
    pub fn bus(&self) -> &Arc<dyn bus::Bus> {
        &self.bus
    }

    /// The same service with other response connectors.
    pub fn with_connectors(mut self, connectors: connectors::Connectors) -> Self {
        self.connectors = connectors;
        self
    }

    /// The same service reached at `url` (`server.public_url`: scheme, host
    /// and port; no trailing slash needed): the base of notification links
    /// and connector callback URLs.
    /// How report PDFs are printed (the browser to run).
    pub fn with_pdf_printer(mut self, pdf: PdfPrinter) -> Self {
        self.pdf = pdf;
        self
    }

    pub fn pdf_printer(&self) -> &PdfPrinter {
        &self.pdf
    }

    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// The same service with other intake limits.
    pub fn with_intake_limits(mut self, limits: IntakeLimits) -> Self {
        let lean_hunting = self.intake.lean_hunting;
        self.intake = Arc::new(intake::IntakeState::new(limits, lean_hunting));
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
