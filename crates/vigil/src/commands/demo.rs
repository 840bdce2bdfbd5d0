//! `vigil demo`: a fresh data directory, the demo seeded into it
//! (`vigil-demo`: users, a tenant with inventory and posture, the story
//! through the intake, detection and correlation run), a one-line
//! summary, then the server as `vigil serve` runs it until Ctrl-C.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use vigil_demo::{DemoOptions, DemoWorld};
use vigil_service::{Service, SystemClock};
use vigil_store::{SqliteStore, Store};

use crate::cli::DemoArgs;
use crate::config::Config;

/// The demo needs a data directory of its own.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} already holds a Vigil database: the demo needs an empty data directory (leave out --data-dir for a temporary one)",
    path.display()
)]
pub struct NotFresh {
    pub path: PathBuf,
}

pub async fn run(args: DemoArgs, data_dir: Option<PathBuf>, config: &Config) -> anyhow::Result<()> {
    // A temporary directory lives until the demo stops, then goes.
    let (dir, _temporary) = match data_dir {
        Some(d) => (d, None),
        None => {
            let t = tempfile::Builder::new().prefix("vigil-demo-").tempdir()?;
            (t.path().to_owned(), Some(t))
        }
    };
    let service = open_fresh(&dir).await?;
    let addr = args.listen.unwrap_or_else(|| config.server.listen.clone());
    let listener = super::serve::bind(&addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let started = Instant::now();
    let options = DemoOptions {
        seed: args.seed,
        ..DemoOptions::default()
    };
    let world = vigil_demo::seed(&service.clone().with_public_url(&url), &options).await?;
    let seconds = started.elapsed().as_secs_f64();
    if args.out.json {
        crate::output::emit(&serde_json::to_string(&ready_json(
            &world, &url, &dir, seconds,
        ))?)?;
    } else {
        crate::output::emit(&ready_text(&world, &url, &dir, seconds))?;
    }
    let senders = vigil_notify::Senders::new(config.smtp.sender()?.as_ref())?;
    super::serve::run_on(
        service,
        listener,
        config.server.secure_cookies,
        Some(&url),
        senders,
    )
    .await
}

/// A new database in `dir`, refusing one that exists.
async fn open_fresh(dir: &Path) -> anyhow::Result<Service> {
    super::ensure_dir(dir)?;
    let db = dir.join("vigil.db");
    if db.exists() {
        return Err(NotFresh { path: db }.into());
    }
    let store = SqliteStore::open(&db).await?;
    store.migrate().await?;
    Ok(Service::new(Arc::new(store), Arc::new(SystemClock)))
}

fn role_name(role: vigil_core::identity::Role) -> String {
    role.to_string().replace('_', " ")
}

fn ready_text(world: &DemoWorld, url: &str, dir: &Path, seconds: f64) -> String {
    let mut out = format!(
        "Vigil demo: tenant {} (Brightwater Logistics), data in {}\n\nSign in at {url}/login as:\n",
        world.tenant,
        dir.display()
    );
    for l in &world.logins {
        out.push_str(&format!(
            "  {:<20} {:<32} {}\n",
            role_name(l.role),
            l.email,
            l.password
        ));
    }
    out.push_str(&format!(
        "\ndemo: {} (seeded in {seconds:.1} s)\nready: {url} (Ctrl-C to stop)",
        world.summary()
    ));
    out
}

fn ready_json(world: &DemoWorld, url: &str, dir: &Path, seconds: f64) -> serde_json::Value {
    json!({
        "ready": true,
        "url": url,
        "data_dir": dir,
        "tenant": world.tenant,
        "logins": world.logins.iter().map(|l| json!({
            "email": l.email,
            "role": l.role,
            "tenant": l.tenant,
            "password": l.password,
        })).collect::<Vec<_>>(),
        "records": world.records,
        "events": world.events,
        "alerts": world.alerts,
        "incidents": world.incidents.len(),
        "major": world.major().count(),
        "readiness_score": world.readiness_score,
        "seconds": seconds,
    })
}
