//! Seeding a service with the demo: the rules, the people who sign in, the
//! tenant and its onboarding settings, the story sent through the intake
//! with an ingest key (as `POST …/ingest` does), detection and
//! correlation run to the end, readiness assessed, the tenant taken live.

use vigil_core::identity::{Principal, Role};
use vigil_core::rules::RuleFile;
use vigil_core::tenant::{
    AssetKind, AssetRef, Channel, ChannelKind, Contact, ContactKind, IrProvider, Lifecycle,
    ResponseAuthorisation, SettingChange,
};
use vigil_service::{At, IncidentFilter, IncidentRecord, Intake, Record, Service, ServiceError};

use crate::estate::{DOMAIN, TENANT_NAME, TENANT_SLUG};
use crate::story::{Chapter, Story, generate};

/// The seed `vigil demo` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_261_127;

/// Records per intake batch (the size a shipper sends).
const BATCH: usize = 1000;

/// The demo's own rule pack's name.
pub const DEMO_PACK: &str = "demo";

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub seed: u64,
    /// The parts of the story sent (all by default; tests send some alone).
    pub chapters: &'static [Chapter],
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: DEFAULT_SEED,
            chapters: &Chapter::ALL,
        }
    }
}

/// Someone who can sign in to the demo.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub email: String,
    pub role: Role,
    /// The tenant of a customer role.
    pub tenant: Option<String>,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("email", &self.email)
            .field("role", &self.role)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// What seeding made.
#[derive(Debug, Clone)]
pub struct DemoWorld {
    pub tenant: String,
    pub logins: Vec<Login>,
    /// Records sent through the intake.
    pub records: usize,
    /// Events stored for the tenant.
    pub events: u64,
    pub alerts: usize,
    /// The tenant's incidents (not those merged away), newest activity first.
    pub incidents: Vec<IncidentRecord>,
    /// The readiness score after the story.
    pub readiness_score: f64,
}

impl DemoWorld {
    /// The incidents flagged major.
    pub fn major(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.incidents
            .iter()
            .filter(|i| i.major.as_ref().is_some_and(|m| m.major))
    }

    /// The login of a role.
    pub fn login(&self, role: Role) -> Option<&Login> {
        self.logins.iter().find(|l| l.role == role)
    }

    /// One line: events, alerts, incidents, major.
    pub fn summary(&self) -> String {
        format!(
            "{} events, {} alerts, {} incidents ({} major), readiness {:.0}",
            self.events,
            self.alerts,
            self.incidents.len(),
            self.major().count(),
            self.readiness_score
        )
    }
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A service call refused or failed.
    #[error("demo: cannot {step}")]
    Service {
        step: &'static str,
        #[source]
        source: ServiceError,
    },
    /// The generator wrote a record the intake could not decode (a bug in
    /// the generator, named with the intake's reason).
    #[error("demo: the intake refused a generated record: {0}")]
    Refused(String),
    /// Another process holds the detection lease, so the story cannot be
    /// detected here.
    #[error("demo: another process runs detection on this database; use a fresh data directory")]
    DetectionBusy,
}

trait Step<T> {
    fn step(self, step: &'static str) -> Result<T, DemoError>;
}

impl<T> Step<T> for Result<T, ServiceError> {
    fn step(self, step: &'static str) -> Result<T, DemoError> {
        self.map_err(|source| DemoError::Service { step, source })
    }
}

/// The demo's Sigma rules for the endpoint stages (`rules/*.yml`).
pub fn demo_rules() -> Vec<RuleFile> {
    macro_rules! rule {
        ($file:literal) => {
            RuleFile {
                pack: DEMO_PACK.to_owned(),
                path: $file.to_owned(),
                yaml: include_str!(concat!("../rules/", $file)).to_owned(),
            }
        };
    }
    vec![
        rule!("event_log_cleared.yml"),
        rule!("lsass_memory_dump.yml"),
        rule!("office_child_script_host.yml"),
        rule!("powershell_encoded_command.yml"),
        rule!("psexec_remote_execution.yml"),
        rule!("shadow_copy_deletion.yml"),
    ]
}

/// Seed `service` (a fresh store) with the demo, as of the service's
/// clock. Returns the logins and what detection made of the story.
pub async fn seed(service: &Service, options: &DemoOptions) -> Result<DemoWorld, DemoError> {
    let op = Principal::Operator("vigil-demo".into());
    service
        .install_builtin_rules()
        .await
        .step("install Vigil's rule pack")?;
    service
        .add_rule_pack(&op, DEMO_PACK, "vigil-demo", demo_rules())
        .await
        .step("add the demo rule pack")?;
    service
        .create_tenant(&op, TENANT_SLUG, TENANT_NAME)
        .await
        .step("create the demo tenant")?;
    service
        .update_tenant(&op, TENANT_SLUG, &onboarding_settings())
        .await
        .step("fill in the demo tenant's onboarding settings")?;
    let logins = create_logins(service, &op).await?;

    let story = generate(options.seed, service.now());
    let records = send(service, &op, &story, options.chapters).await?;

    let (engine, _) = service
        .detection_engine()
        .await
        .step("build the detection engine")?;
    service
        .drain_detection(&engine)
        .await
        .step("run detection")?
        .ok_or(DemoError::DetectionBusy)?;

    service
        .run_readiness(&op, TENANT_SLUG)
        .await
        .step("assess readiness")?;
    service
        .transition_tenant(
            &op,
            TENANT_SLUG,
            Lifecycle::Monitoring,
            Some("demo tenant: monitoring starts whatever the assessment says"),
        )
        .await
        .step("start monitoring the demo tenant")?;
    service
        .transition_tenant(
            &op,
            TENANT_SLUG,
            Lifecycle::Live,
            Some("demo tenant: the learning period is skipped"),
        )
        .await
        .step("take the demo tenant live")?;
    let readiness = service
        .readiness(&op, TENANT_SLUG)
        .await
        .step("read the readiness assessment")?;

    let stats = service
        .telemetry_stats(&op, TENANT_SLUG)
        .await
        .step("count the demo tenant's events")?;
    let alerts = service
        .list_alerts(
            &op,
            TENANT_SLUG,
            vigil_core::alert::AlertFilter {
                limit: vigil_service::MAX_ALERT_PAGE,
                ..Default::default()
            },
        )
        .await
        .step("list the demo tenant's alerts")?;
    let incidents = service
        .list_incidents(
            &op,
            TENANT_SLUG,
            IncidentFilter {
                limit: vigil_service::MAX_INCIDENT_PAGE,
                ..Default::default()
            },
        )
        .await
        .step("list the demo tenant's incidents")?;
    Ok(DemoWorld {
        tenant: TENANT_SLUG.to_owned(),
        logins,
        records,
        events: stats.events,
        alerts: alerts.len(),
        incidents,
        readiness_score: readiness.map_or(0.0, |a| a.score),
    })
}

/// What onboarding asks of the customer and the provider.
fn onboarding_settings() -> Vec<SettingChange> {
    vec![
        SettingChange::Authorisation(ResponseAuthorisation::Guided),
        SettingChange::AddContact(Contact {
            kind: ContactKind::Incident,
            name: "Priya Natarajan (IT manager)".into(),
            email: Some(format!("p.natarajan@{DOMAIN}")),
            phone: Some("+44 117 496 0101".into()),
            priority: 1,
        }),
        SettingChange::AddContact(Contact {
            kind: ContactKind::Incident,
            name: "Ravi Menon (IT)".into(),
            email: Some(format!("r.menon@{DOMAIN}")),
            phone: Some("+44 117 496 0102".into()),
            priority: 2,
        }),
        SettingChange::AddContact(Contact {
            kind: ContactKind::ServiceReview,
            name: "Hannah Price (operations director)".into(),
            email: Some(format!("h.price@{DOMAIN}")),
            phone: None,
            priority: 1,
        }),
        SettingChange::AddChannel(Channel {
            name: "soc-mailbox".into(),
            kind: ChannelKind::Email {
                to: vec![format!("soc@{DOMAIN}")],
            },
        }),
        SettingChange::IrProvider(IrProvider {
            name: "Harbourside Incident Response".into(),
            contact: "+44 20 7946 0999, ir@harbourside-ir.example".into(),
            engagement: "Call the 24/7 hotline and quote retainer BW-2291".into(),
        }),
        // The domain controllers are never remediated by the experts
        // directly: guidance only.
        SettingChange::AddExclusion(AssetRef {
            kind: AssetKind::DeviceGroup,
            name: "tier0".into(),
        }),
        SettingChange::ExclusionsReviewed,
    ]
}

/// The four people who sign in, each with a fresh random password.
async fn create_logins(service: &Service, op: &Principal) -> Result<Vec<Login>, DemoError> {
    let wanted = [
        ("admin@mdr.example", Role::ProviderAdmin, None),
        ("analyst@mdr.example", Role::Analyst, None),
        (
            "admin@brightwater.example",
            Role::CustomerAdmin,
            Some(TENANT_SLUG),
        ),
        (
            "responder@brightwater.example",
            Role::CustomerResponder,
            Some(TENANT_SLUG),
        ),
    ];
    let mut logins = Vec::with_capacity(wanted.len());
    for (email, role, tenant) in wanted {
        let password = password().step("make a password")?;
        service
            .create_user(op, email, role, tenant, &password)
            .await
            .step("create a demo user")?;
        logins.push(Login {
            email: email.to_owned(),
            role,
            tenant: tenant.map(str::to_owned),
            password,
        });
    }
    Ok(logins)
}

/// A random password people can type: four groups of five hex digits.
fn password() -> Result<String, ServiceError> {
    let hex = vigil_service::random_token()?;
    let groups: Vec<&str> = (0..4).filter_map(|i| hex.get(i * 5..i * 5 + 5)).collect();
    Ok(groups.join("-"))
}

/// Send the story through the intake in batches, with an ingest key, as a
/// shipper would. Returns how many records were sent.
async fn send(
    service: &Service,
    op: &Principal,
    story: &Story,
    chapters: &[Chapter],
) -> Result<usize, DemoError> {
    let (secret, _) = service
        .create_ingest_key(op, TENANT_SLUG, "demo shipper")
        .await
        .step("create the demo ingest key")?;
    let key = service
        .authenticate_ingest_key(secret.expose())
        .await
        .step("use the demo ingest key")?;
    let events: Vec<&crate::story::StoryEvent> = story.of(chapters).collect();
    for (n, chunk) in events.chunks(BATCH).enumerate() {
        let intake = Intake {
            source: "demo".into(),
            records: chunk
                .iter()
                .enumerate()
                .map(|(i, e)| Record {
                    at: At::Line(n * BATCH + i + 1),
                    bytes: e.json.as_bytes().to_vec(),
                })
                .collect(),
            ..Default::default()
        };
        let outcome = service
            .ingest(&key, None, intake)
            .await
            .step("send the story through the intake")?;
        if let Some(reason) = outcome.records.into_iter().flatten().next() {
            return Err(DemoError::Refused(reason));
        }
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_rule_loads_without_a_diagnostic_and_alerts_on_its_own() {
        let files = demo_rules();
        let (rules, report) = vigil_service::summarise(DEMO_PACK, &files);
        assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        assert_eq!(report.detection_rules, files.len(), "one rule per file");
        assert!(
            rules
                .iter()
                .all(|r| r.level >= vigil_core::Severity::Medium),
            "each raises an alert worth a look"
        );
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let on_disk = std::fs::read_dir(dir).expect("rules dir").count();
        assert_eq!(on_disk, files.len(), "list new rule files in demo_rules()");
    }

    #[test]
    fn passwords_are_four_groups_of_five_hex_digits_and_differ() {
        let a = password().expect("password");
        let b = password().expect("password");
        assert_eq!(a.len(), 23, "{a}");
        assert_eq!(a.split('-').count(), 4);
        assert_ne!(a, b);
    }
}
