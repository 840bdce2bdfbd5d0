//! The command line, as clap types. Parsing only; the work is in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::LogFormat;

const ABOUT: &str = "Vigil runs a managed detection and response (MDR) service: it watches the \
security telemetry of many customer organisations (tenants), detects and investigates threats, \
and hands each customer's SOC an investigation summary plus response tasks.";

const AFTER_HELP: &str = "\
Configuration: vigil.toml (from --config, $VIGIL_CONFIG, or ./vigil.toml), overridden by
VIGIL_* environment variables (VIGIL_DATA_DIR, VIGIL_LOG_LEVEL, ...), overridden by flags.
Run `vigil config show` to see the effective values and where each came from.

Exit codes: 0 success, 1 unexpected failure, 2 invalid usage or input, 3 invalid
configuration (for `vigil readiness`: the tenant is not ready), 4 not found,
5 refused (invalid lifecycle move, duplicate, conflict), 6 storage unavailable,
7 audit log verification failed.

Examples:
  vigil demo
  vigil tenant create --slug acme --name \"Acme Corp\"
  vigil tenant set acme --authorisation managed --sla high=30m/4h
  vigil onboard acme --authorisation guided --exclusions-reviewed
  vigil readiness acme
  vigil onboard acme --start-monitoring
  vigil audit verify";

#[derive(Debug, Parser)]
#[command(name = "vigil", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: ./vigil.toml when present]
    #[arg(long, global = true, env = "VIGIL_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (database and files) [config: data_dir]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log filter, e.g. `info` or `vigil=debug` [config: log.level]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Log format on standard error [config: log.format]
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, inspect and change tenants (customer organisations)
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Apply pending database migrations (also done on every start)
    Migrate(JsonFlag),
    /// Check the hash-chained audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Load-test a running server: intake and API clients in closed loops
    /// for a bounded time; latency percentiles per endpoint, errors, the
    /// server's memory (BENCHMARKS.md)
    Bench(BenchArgs),
    /// Write a consistent copy of the embedded store to FILE (a new file),
    /// also while the server runs
    Backup {
        /// Where to write the backup; must not exist
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Replace the embedded store with a backup: checks the file's integrity
    /// and schema, refuses while the store is in use, verifies the audit
    /// chain afterwards (exit 7 when it does not verify)
    Restore {
        /// The backup to restore
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace an existing store
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Run Sigma rules over event log files (EVTX, JSON, JSON lines) offline
    Scan(ScanArgs),
    /// Try Vigil: a demo tenant with a realistic attack story, served until
    /// Ctrl-C from a fresh data directory (a temporary one unless
    /// --data-dir names an empty one); prints the URL and four logins
    Demo(DemoArgs),
    /// Serve the REST API (/api/v1, /healthz, /readyz) until SIGTERM or Ctrl-C
    Serve {
        /// Address to listen on [config: server.listen]
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// What this process does (docs/scale-out.md): `all` (one
        /// process), `api` (REST API and portal), `ingest` (telemetry
        /// intake), `web` (both), `detect` (detection workers),
        /// `scheduler` (timed jobs)
        #[arg(long, value_enum, default_value_t = ServeRole::All)]
        role: ServeRole,
    },
    /// Create and list users (provider staff and customers' SOC teams)
    #[command(subcommand)]
    User(UserCommand),
    /// Create and revoke users' API tokens (shown once, stored hashed)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create tenants' ingest keys, good for sending telemetry only
    #[command(subcommand, name = "ingest-key")]
    IngestKey(IngestKeyCommand),
    /// Store telemetry files (EVTX, JSON, JSON lines) for a tenant and run
    /// detection on them
    Ingest(IngestArgs),
    /// Records that could not be decoded, with the reason
    #[command(subcommand)]
    Deadletter(DeadletterCommand),
    /// A tenant's alerts
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// A tenant's incidents: alerts grouped by shared entities
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Publish an incident's response and follow its tasks
    #[command(subcommand)]
    Response(ResponseCommand),
    /// A tenant's notifications and how each delivery went (the delivery
    /// log); requeue dead deliveries
    #[command(subcommand)]
    Notifications(NotificationsCommand),
    /// Write an incident's IR handoff bundle (a zip with the summary,
    /// timeline, STIX 2.1 indicators, assets, evidence, actions, audit
    /// trail and MANIFEST.sha256); audited
    #[command(name = "ir-bundle")]
    IrBundle(IrBundleArgs),
    /// Detection rule packs, and per-tenant enablement and exclusions
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Delete telemetry past each tenant's retention now (the server also
    /// does it every hour)
    Purge(JsonFlag),
    /// Run a tenant's readiness assessment: is its telemetry complete and its
    /// protection configured well enough? Exit 0 when ready, 3 when not
    Readiness(ReadinessArgs),
    /// Onboard a tenant: fill in its steps (the `tenant set` flags), see
    /// what is left, and start monitoring once it is ready
    Onboard(Box<OnboardArgs>),
    /// SLA timers: run the engine once, list a tenant's breaches
    #[command(subcommand)]
    Sla(SlaCommand),
    /// A tenant's posture recommendations and its posture score
    Recommendations(RecommendationsArgs),
    /// Write a service report: a tenant's (`vigil report SLUG`) or the
    /// provider's view across tenants (`--provider`), as JSON, HTML or PDF
    /// by the output file's extension
    Report(ReportArgs),
    /// Threat hunting: run a KQL query over a tenant's events
    /// (docs/hunting.md), list the schema, save or schedule a hunt
    Hunt(HuntArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The tenant's slug (omit with --provider)
    #[arg(
        value_name = "SLUG",
        required_unless_present = "provider",
        conflicts_with = "provider"
    )]
    pub tenant: Option<String>,
    /// Every tenant, one row each (provider roles)
    #[arg(long)]
    pub provider: bool,
    /// Start: a date (UTC) or RFC 3339 time [default: 30 days before --to]
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// End: a date (included whole) or RFC 3339 time [default: now]
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Where to write it: FILE.json, FILE.html or FILE.pdf (without it,
    /// the JSON goes to standard output)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// The tenant (with --all: the query)
    #[arg(value_name = "SLUG", required_unless_present = "schema")]
    pub tenant: Option<String>,
    /// The KQL query (`-` reads it from standard input)
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
    /// Print the hunting tables and their columns
    #[arg(long)]
    pub schema: bool,
    /// Hunt across every tenant (provider-wide): give only the query
    #[arg(long)]
    pub all: bool,
    /// Output: an aligned table, CSV, or the REST answer as JSON
    #[arg(long, value_enum, default_value = "table")]
    pub format: HuntFormat,
    /// Rows returned at most
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_rows: usize,
    /// Save the query as a hunt of this name (instead of running it)
    #[arg(long, value_name = "NAME")]
    pub save: Option<String>,
    /// With --save: run it every this many seconds, raising alerts
    #[arg(long, value_name = "SECS", requires = "save")]
    pub every: Option<i64>,
    /// With --every: how many seconds of events each run looks back
    #[arg(
        long,
        value_name = "SECS",
        requires = "every",
        default_value_t = 86_400
    )]
    pub lookback: i64,
    /// With --every: the severity of the alerts it raises
    #[arg(
        long,
        value_name = "SEVERITY",
        requires = "every",
        default_value = "medium"
    )]
    pub severity: String,
    /// List the tenant's saved hunts
    #[arg(long, conflicts_with_all = ["query", "save"])]
    pub saved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HuntFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Carry out every SLA reminder, breach and escalation due now (the
    /// server does it every 5 seconds; each step happens once either way)
    Run(JsonFlag),
    /// A tenant's SLA breaches that began in a period, earliest first
    Breaches {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// Start of the period, RFC 3339 [default: 30 days before --to]
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// End of the period, RFC 3339 [default: now]
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on; port 0 picks a free one [config: server.listen]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The story's seed: the same seed tells the same story
    #[arg(long, default_value_t = vigil_demo::DEFAULT_SEED)]
    pub seed: u64,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct ReadinessArgs {
    pub slug: String,
    /// Show the latest stored assessment instead of running one now
    #[arg(long, conflicts_with = "history")]
    pub latest: bool,
    /// List earlier assessments, newest first (exit 0)
    #[arg(long)]
    pub history: bool,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct OnboardArgs {
    #[command(flatten)]
    pub set: SetArgs,
    /// Move the tenant to monitoring: the readiness assessment runs first
    /// and any blocking failure refuses the move (exit 5)
    #[arg(long)]
    pub start_monitoring: bool,
    /// With --start-monitoring: start despite blocking readiness failures
    /// (provider admins; recorded in the audit log)
    #[arg(long, value_name = "TEXT", requires = "start_monitoring")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecommendationsArgs {
    /// The tenant
    #[arg(value_name = "SLUG")]
    pub tenant: String,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The tenant the telemetry belongs to
    #[arg(long, value_name = "SLUG")]
    pub tenant: String,
    /// Files or directories (.evtx, .json, .jsonl/.ndjson)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Records per committed batch
    #[arg(long, default_value_t = 5000)]
    pub batch: usize,
    /// Do not run detection after storing
    #[arg(long)]
    pub no_detect: bool,
    /// Hide the progress bar
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum DeadletterCommand {
    /// List a tenant's dead letters, oldest first
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// Only those with a greater id
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List a tenant's alerts, newest activity first
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// Comma-separated severities
        #[arg(long)]
        severity: Option<String>,
        #[arg(long, value_name = "RULE_ID")]
        rule: Option<String>,
        /// kind:value, e.g. user:alice@acme.example
        #[arg(long)]
        entity: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct IrBundleArgs {
    /// The tenant's slug
    #[arg(value_name = "SLUG")]
    pub tenant: String,
    /// The incident's id
    #[arg(value_name = "ID")]
    pub id: String,
    /// Where to write the zip
    #[arg(short = 'o', long = "output", value_name = "FILE.zip")]
    pub output: PathBuf,
    #[command(flatten)]
    pub out: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// List a tenant's notifications, newest first, each with its deliveries
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Requeue a dead delivery (sent again now, with the whole retry
    /// schedule ahead of it)
    Retry {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// The delivery's id (from `list`)
        delivery: String,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// List a tenant's incidents, newest activity first
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// Comma-separated statuses (default: all but redirected)
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// One incident: its alerts and its activity log
    Show {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        id: String,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResponseCommand {
    /// Publish the response: the latest summary goes to the customer, the
    /// incident to awaiting_customer, assigned to the customer
    Publish {
        /// The tenant's slug
        slug: String,
        /// The incident's id
        incident: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// An incident's response tasks: status, mode, due time, target
    Tasks {
        /// The tenant's slug
        slug: String,
        /// The incident's id
        incident: String,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Add a rule pack (a folder of Sigma YAML, e.g. a SigmaHQ checkout's
    /// rules/), or replace the pack of the same name; its rules run for
    /// every tenant unless disabled
    Add {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The pack's name (default: the folder's name)
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List rules; with --tenant, whether each runs for the tenant
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Turn a rule back on for a tenant
    Enable {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        rule: String,
    },
    /// Turn a rule off for a tenant
    Disable {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        rule: String,
    },
    /// Silence matches for a tenant where an event field or entity has a value
    Exclude {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// Only this rule (default: every rule)
        #[arg(long, value_name = "RULE_ID")]
        rule: Option<String>,
        /// field:NAME or entity:KIND
        #[arg(long, value_name = "MATCHER")]
        on: String,
        #[arg(long)]
        value: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List a tenant's exclusions
    Exclusions {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Remove one of a tenant's exclusions
    Unexclude {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input when it is not
    /// a terminal, prompted for otherwise, or generated with --generate
    Create {
        #[arg(long)]
        email: String,
        /// provider_admin, analyst, delivery_manager (provider roles), or
        /// customer_admin, customer_responder, customer_reader (need --tenant)
        #[arg(long)]
        role: String,
        /// The tenant of a customer role
        #[arg(long, value_name = "SLUG")]
        tenant: Option<String>,
        /// Generate a strong password and print it once
        #[arg(long)]
        generate: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List users, of one tenant or all
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting with the user's rights; the secret is printed once
    Create {
        /// The user the token acts for
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// A name to recognise the token by
        #[arg(long, default_value = "cli")]
        name: String,
        /// Lifetime, e.g. 90d or 12h [default: until revoked]
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Revoke a token by id
    Revoke {
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// The token's id (as printed when created)
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IngestKeyCommand {
    /// Create an ingest key for a tenant; the secret is printed once
    Create {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        #[arg(long, default_value = "default")]
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  vigil scan --rules sigma/rules/windows logs/
  vigil scan --rules sigma/rules --format jsonl --min-level high case-42/*.evtx > hits.jsonl
  vigil scan --rules my-rules/ --stats --format csv Security.evtx

Files: .evtx, .json (one event, a list, or several values), .jsonl/.ndjson;
directories are searched recursively. Rules whose logsource is not a Windows
event log are skipped (see --stats). Hits go to standard output; progress,
warnings and statistics to standard error.")]
pub struct ScanArgs {
    /// Sigma rule file or directory (repeatable; directories are read recursively)
    #[arg(long = "rules", short = 'r', value_name = "PATH", required = true)]
    pub rules: Vec<PathBuf>,
    /// Event log files or directories to scan
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Drop hits of rules below this level (informational, low, medium, high, critical)
    #[arg(long, value_name = "LEVEL", default_value = "informational")]
    pub min_level: String,
    /// Print statistics to standard error: rules loaded and skipped with reasons, files, events, events/s
    #[arg(long)]
    pub stats: bool,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Never show a progress bar
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Table,
    Csv,
    Jsonl,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct JsonFlag {
    /// Print machine-readable JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets redacted) and where each value came from
    Show(JsonFlag),
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub url: String,
    /// An ingest key of TENANT (for the intake clients)
    #[arg(long, value_name = "KEY")]
    pub ingest_key: String,
    /// An API token that can read TENANT and the audit log
    #[arg(long)]
    pub token: String,
    /// The tenant the clients use
    #[arg(long, value_name = "SLUG")]
    pub tenant: String,
    /// Concurrent clients: half intake, half API reads
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// How long to run
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Events per intake batch
    #[arg(long, default_value_t = 20)]
    pub batch: usize,
    /// The server's process id, to sample its resident memory
    #[arg(long)]
    pub pid: Option<u32>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify every record of the audit chain; names the first broken record (exit 7)
    Verify(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant in the onboarding state
    Create {
        /// Short handle: lowercase letters, digits and hyphens, e.g. `acme`
        #[arg(long)]
        slug: String,
        /// Display name, e.g. "Acme Corp"
        #[arg(long)]
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List all tenants
    List(JsonFlag),
    /// Show one tenant with all its settings
    Show {
        slug: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Change a tenant's name and settings; all changes apply together or not at all
    Set(Box<SetArgs>),
    /// Move a tenant through its lifecycle: onboarding, monitoring, live, offboarding, deleted
    Transition {
        slug: String,
        /// The state to move to
        #[arg(long, value_name = "STATE")]
        to: String,
        /// Lift the learning-period or grace-period guard, or (provider admins) blocking readiness failures; recorded in the audit log
        #[arg(long, value_name = "TEXT")]
        override_reason: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "\
ASSET is KIND:NAME with KIND one of device, user, device_group, user_group,
e.g. device:DC01 or \"user_group:Tier0 Admins\".

CONTACT is comma-separated key=value pairs:
  kind=incident|service_review, name=NAME, email=ADDRESS, phone=NUMBER, priority=N
  e.g. --add-contact 'kind=incident,name=Jane Doe,email=jane@acme.example,phone=+1 555 0100,priority=1'

CHANNEL is comma-separated key=value pairs:
  email:   name=NAME,kind=email,to=ADDRESS[;ADDRESS...]
  webhook: name=NAME,kind=webhook,url=URL,format=generic|slack|teams,secret=KEY (16+ characters)

CONNECTOR (how the experts carry out managed tasks) is `manual`, or
  kind=signed_webhook,url=URL,secret=KEY (16+ characters) for the customer's SOAR.

SLA is SEVERITY=ACKNOWLEDGE/COMPLETE with durations like 30m, 4h, 2d,
e.g. --sla high=30m/4h (severities: critical, high, medium, low).")]
pub struct SetArgs {
    pub slug: String,
    /// New display name
    #[arg(long)]
    pub name: Option<String>,
    /// Response authorisation: guided (experts recommend, customer acts) or managed
    #[arg(long, value_name = "MODE")]
    pub authorisation: Option<String>,
    /// Exclude an asset from direct remediation (repeatable)
    #[arg(long, value_name = "ASSET")]
    pub add_exclusion: Vec<String>,
    /// Remove an exclusion (repeatable)
    #[arg(long, value_name = "ASSET")]
    pub remove_exclusion: Vec<String>,
    /// Record that the exclusions were reviewed with the customer now
    #[arg(long)]
    pub exclusions_reviewed: bool,
    /// Cover all assets (the default)
    #[arg(long)]
    pub coverage_all: bool,
    /// Limit coverage to listed assets; adds one (repeatable)
    #[arg(long, value_name = "ASSET")]
    pub add_coverage: Vec<String>,
    /// Remove an asset from scoped coverage (repeatable)
    #[arg(long, value_name = "ASSET")]
    pub remove_coverage: Vec<String>,
    /// Add a contact (repeatable)
    #[arg(long, value_name = "CONTACT")]
    pub add_contact: Vec<String>,
    /// Remove a contact by email or name (repeatable)
    #[arg(long, value_name = "EMAIL|NAME")]
    pub remove_contact: Vec<String>,
    /// Add a notification channel (repeatable)
    #[arg(long, value_name = "CHANNEL")]
    pub add_channel: Vec<String>,
    /// Remove a channel by name (repeatable)
    #[arg(long, value_name = "NAME")]
    pub remove_channel: Vec<String>,
    /// How managed tasks are carried out (see CONNECTOR below)
    #[arg(long, value_name = "CONNECTOR")]
    pub response_connector: Option<String>,
    /// SLA targets for one severity (repeatable)
    #[arg(long, value_name = "SLA")]
    pub sla: Vec<String>,
    /// Incident-response provider's name
    #[arg(long, value_name = "NAME", requires_all = ["ir_contact", "ir_engagement"])]
    pub ir_name: Option<String>,
    /// How to reach the IR provider (email, phone)
    #[arg(long, value_name = "TEXT", requires = "ir_name")]
    pub ir_contact: Option<String>,
    /// How to engage the IR provider (retainer, hotline procedure)
    #[arg(long, value_name = "TEXT", requires = "ir_name")]
    pub ir_engagement: Option<String>,
    /// Remove the IR provider
    #[arg(long, conflicts_with = "ir_name")]
    pub clear_ir_provider: bool,
    /// Days in monitoring before the tenant may go live
    #[arg(long, value_name = "DAYS")]
    pub learning_period_days: Option<u32>,
    /// Days data is kept while offboarding before deletion
    #[arg(long, value_name = "DAYS")]
    pub grace_period_days: Option<u32>,
    /// Days telemetry is kept before the purge job deletes it
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// Hours apart within which alerts sharing a key entity join one incident
    #[arg(long, value_name = "HOURS")]
    pub incident_window_hours: Option<u32>,
    #[command(flatten)]
    pub out: JsonFlag,
}

/// A malformed `key=value,...` or `SEVERITY=A/B` argument.
#[derive(Debug, thiserror::Error)]
#[error("invalid {flag} {value:?}: {reason}")]
pub struct SpecError {
    pub flag: &'static str,
    pub value: String,
    pub reason: String,
}

/// Split `a=1,b=2` into pairs, refusing keys outside `allowed`.
pub fn key_values<'a>(
    flag: &'static str,
    spec: &'a str,
    allowed: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, SpecError> {
    let fail = |reason: String| SpecError {
        flag,
        value: spec.to_owned(),
        reason,
    };
    let mut pairs = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| fail(format!("{part:?} is not key=value")))?;
        let k = k.trim();
        if !allowed.contains(&k) {
            return Err(fail(format!(
                "unknown key {k:?}; expected {}",
                allowed.join(", ")
            )));
        }
        if pairs.iter().any(|(seen, _)| *seen == k) {
            return Err(fail(format!("{k:?} given twice")));
        }
        pairs.push((k, v.trim()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_values_refuse_unknown_and_repeated_keys() {
        assert_eq!(
            key_values("--x", "a=1, b = 2", &["a", "b"]).expect("ok"),
            vec![("a", "1"), ("b", "2")]
        );
        let err = key_values("--x", "a=1,c=2", &["a", "b"]).expect_err("unknown");
        assert!(err.to_string().contains("unknown key \"c\""), "{err}");
        assert!(key_values("--x", "a=1,a=2", &["a"]).is_err());
        assert!(key_values("--x", "a", &["a"]).is_err());
    }
}

/// `vigil serve --role`: which part of Vigil a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeRole {
    /// Everything in one process (the default).
    All,
    /// The REST API and the portal, without the telemetry intake.
    Api,
    /// The telemetry intake endpoints alone.
    Ingest,
    /// `api` and `ingest` together: the whole HTTP surface, no workers.
    Web,
    /// Detection workers (no HTTP).
    Detect,
    /// The timed jobs: SLA, deliveries, readiness, recommendations,
    /// purge, re-announcing events (no HTTP).
    Scheduler,
}
