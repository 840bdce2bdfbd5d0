//! Each subcommand: load what it needs, call the service, print the result.

mod audit;
mod backup;
mod bench;
mod config;
mod demo;
mod hunt;
mod identity;
mod major;
mod notifications;
mod readiness;
mod recommendations;
mod report;
mod response;
mod rules;
mod scan;
mod serve;
mod sla;
mod telemetry;
mod tenant;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

pub use demo::NotFresh as DemoNotFresh;
pub use readiness::NotReady;
use vigil_service::{Principal, Service, SystemClock};
use vigil_store::{PgStore, SqliteStore, Store};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self as cfg, Config, FlagValues, Loaded};

/// The data directory or database cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot use data directory {path}")]
pub struct DataDirError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let loaded = cfg::load(
        cli.global.config.as_deref(),
        &env,
        &flag_values(&cli.global),
    )?;
    let level_source = loaded
        .sources
        .get("log.level")
        .map_or_else(|| "defaults".to_owned(), |s| s.describe());
    crate::logging::init(&loaded.config.log, &level_source)?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    // CPU-bound work runs on its own threads, outside the async runtime.
    if let Command::Scan(args) = &cli.command {
        return scan::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let data_dir_flag = cli.global.data_dir.clone();
    runtime.block_on(dispatch(cli.command, loaded, data_dir_flag))
}

/// `data_dir_flag`: `--data-dir` as given (the demo makes a temporary
/// directory without it, whatever the configuration says).
async fn dispatch(
    command: Command,
    loaded: Loaded,
    data_dir_flag: Option<PathBuf>,
) -> anyhow::Result<()> {
    match command {
        Command::Config(c) => config::run(c, &loaded),
        Command::Migrate(out) => {
            let (service, report) = open(&loaded.config).await?;
            crate::output::migrations(&service, &report, out.json)
        }
        Command::Tenant(c) => {
            let (service, _) = open(&loaded.config).await?;
            tenant::run(c, &service, &operator()).await
        }
        Command::Scan(args) => scan::run(&args),
        Command::Demo(args) => demo::run(args, data_dir_flag, &loaded.config).await,
        Command::Serve { listen, role } => {
            let (service, _) = open(&loaded.config).await?;
            service.install_builtin_rules().await?;
            let addr = listen.unwrap_or_else(|| loaded.config.server.listen.clone());
            let smtp = loaded.config.smtp.sender()?;
            if smtp.is_none() {
                tracing::warn!("smtp.host is not set: notification emails wait until it is");
            }
            let senders = vigil_notify::Senders::new(smtp.as_ref())?;
            serve::run(
                service,
                role,
                &addr,
                loaded.config.server.secure_cookies,
                Some(loaded.config.server.public_url.as_str()).filter(|u| !u.is_empty()),
                senders,
            )
            .await
        }
        Command::User(c) => {
            let (service, _) = open(&loaded.config).await?;
            identity::user(c, &service, &operator()).await
        }
        Command::Token(c) => {
            let (service, _) = open(&loaded.config).await?;
            identity::token(c, &service, &operator()).await
        }
        Command::IngestKey(c) => {
            let (service, _) = open(&loaded.config).await?;
            identity::ingest_key(c, &service, &operator()).await
        }
        Command::Bench(args) => bench::run(args).await,
        Command::Backup { file, out } => backup::backup(&loaded.config, &file, out.json).await,
        Command::Restore { file, force, out } => {
            backup::restore(&loaded.config, &file, force, out.json).await
        }
        Command::Audit(c) => {
            let (service, _) = open(&loaded.config).await?;
            audit::run(c, &service).await
        }
        Command::Ingest(args) => {
            let (service, _) = open(&loaded.config).await?;
            service.install_builtin_rules().await?;
            telemetry::ingest(args, &service, &operator()).await
        }
        Command::Deadletter(c) => {
            let (service, _) = open(&loaded.config).await?;
            telemetry::deadletter(c, &service, &operator()).await
        }
        Command::Alerts(c) => {
            let (service, _) = open(&loaded.config).await?;
            telemetry::alerts(c, &service, &operator()).await
        }
        Command::Notifications(c) => {
            let (service, _) = open(&loaded.config).await?;
            notifications::run(c, &service, &operator()).await
        }
        Command::Incident(c) => {
            let (service, _) = open(&loaded.config).await?;
            telemetry::incidents(c, &service, &operator()).await
        }
        Command::IrBundle(args) => {
            let (service, _) = open(&loaded.config).await?;
            major::ir_bundle(args, &service, &operator()).await
        }
        Command::Purge(out) => {
            let (service, _) = open(&loaded.config).await?;
            let report = service.purge_expired(&operator()).await?;
            if out.json {
                crate::output::emit_json(&serde_json::json!(report))
            } else {
                let total: u64 = report.tenants.iter().map(|(_, n)| n).sum();
                crate::output::emit(&format!(
                    "purged {total} events past retention from {} tenants",
                    report.tenants.len()
                ))
            }
        }
        Command::Sla(c) => {
            let (service, _) = open(&loaded.config).await?;
            sla::run(c, &service, &operator()).await
        }
        Command::Response(c) => {
            let (service, _) = open(&loaded.config).await?;
            response::run(c, &service, &operator()).await
        }
        Command::Hunt(args) => {
            let (service, _) = open(&loaded.config).await?;
            hunt::run(args, &service, &operator()).await
        }
        Command::Recommendations(args) => {
            let (service, _) = open(&loaded.config).await?;
            recommendations::run(args, &service, &operator()).await
        }
        Command::Rules(c) => {
            let (service, _) = open(&loaded.config).await?;
            service.install_builtin_rules().await?;
            rules::run(c, &service, &operator()).await
        }
        Command::Readiness(args) => {
            let (service, _) = open(&loaded.config).await?;
            readiness::readiness(args, &service, &operator()).await
        }
        Command::Report(args) => {
            let (service, _) = open(&loaded.config).await?;
            report::run(args, &service, &operator()).await
        }
        Command::Onboard(args) => {
            let (service, _) = open(&loaded.config).await?;
            readiness::onboard(*args, &service, &operator()).await
        }
    }
}

fn flag_values(g: &GlobalArgs) -> FlagValues {
    let mut flags = Vec::new();
    if let Some(d) = &g.data_dir {
        flags.push(("data_dir", "--data-dir", d.display().to_string()));
    }
    if let Some(l) = &g.log_level {
        flags.push(("log.level", "--log-level", l.clone()));
    }
    if let Some(f) = g.log_format {
        let v = match f {
            cfg::LogFormat::Human => "human",
            cfg::LogFormat::Json => "json",
        };
        flags.push(("log.format", "--log-format", v.to_owned()));
    }
    flags
}

/// The person at the terminal, as named by the operating system.
fn operator() -> Principal {
    let name = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Principal::Operator(name)
}

/// Create the data directory, open the database and apply migrations.
pub(crate) async fn open(
    config: &Config,
) -> anyhow::Result<(Service, vigil_store::MigrationReport)> {
    ensure_dir(&config.data_dir)?;
    let store: Arc<dyn Store> = match config.database()? {
        cfg::Database::Sqlite(db) => {
            if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                ensure_dir(parent)?;
            }
            Arc::new(SqliteStore::open(&db).await?)
        }
        cfg::Database::Postgres(url) => Arc::new(PgStore::open(&url).await?),
    };
    let report = store.migrate().await?;
    tracing::debug!(store = %store.describe(), version = report.version, "store ready");
    let mut service = Service::new(store, Arc::new(SystemClock))
        .with_public_url(&config.server.public_url)
        .with_pdf_printer(config.reports.printer());
    if let Some(url) = config.nats_url()? {
        let mut options = vigil_bus::NatsOptions::new(url);
        options.ack_wait = std::time::Duration::from_secs(config.bus.ack_wait_secs.max(1));
        options.namespace = config.bus.namespace.trim().to_owned();
        vigil_bus::NatsOptions::check_namespace(&options.namespace).context("bus.namespace")?;
        let bus = vigil_bus::NatsBus::connect(options)
            .await
            .with_context(|| format!("bus.url {}", cfg::redact_url(url)))?;
        service = service.with_bus(Arc::new(bus));
    }
    Ok((service, report))
}

pub(crate) fn ensure_dir(path: &Path) -> Result<(), DataDirError> {
    let err = |source| DataDirError {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(path).map_err(err)?;
    // Creating succeeds on an existing read-only directory; probe writing.
    // One probe per process: several processes (a scheduler and its
    // standby) may start in one directory at once.
    let probe = path.join(format!(".vigil-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}
