//! `vigil serve`: the REST API on one address, with the detection, purge
//! and notification workers beside it; shut down gracefully on SIGTERM or
//! Ctrl-C (requests in flight finish). `--role` runs one part of it, for
//! several processes sharing PostgreSQL and NATS (docs/scale-out.md).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use vigil_service::Service;

use crate::cli::ServeRole;

/// A worker's stop signal: resolves at shutdown.
type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How often the SLA worker looks for due reminders, breaches and
/// escalations.
const SLA_EVERY: Duration = Duration::from_secs(5);
/// How often due task deliveries through response connectors are looked for.
const DELIVERY_EVERY: Duration = Duration::from_secs(2);
/// How often the notification worker looks for due deliveries.
const NOTIFY_EVERY: Duration = Duration::from_secs(5);
/// How often telemetry past retention is purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How often due readiness assessments are looked for (each tenant's is
/// due daily; the due time is in the store).
const READINESS_EVERY: Duration = Duration::from_secs(300);
/// How often recommendations are re-verified against the latest posture
/// snapshots and expired risk acceptances reopened.
const RECOMMENDATIONS_EVERY: Duration = Duration::from_secs(900);
/// How often the monthly report schedule looks for a month not yet sent.
const REPORTS_EVERY: Duration = Duration::from_secs(3600);
/// Scheduled hunts are checked every minute (each has its own interval).
const HUNTS_EVERY: Duration = Duration::from_secs(60);

/// How often the scheduler re-announces events whose announcement was
/// lost (the bus was down when intake stored them).
const REANNOUNCE_EVERY: Duration = Duration::from_secs(60);
/// Events waiting on the queue longer than this are announced again.
const REANNOUNCE_AFTER: Duration = Duration::from_secs(120);

pub async fn run(
    service: Service,
    role: ServeRole,
    addr: &str,
    secure_cookies: bool,
    public_url: Option<&str>,
    senders: vigil_notify::Senders,
) -> anyhow::Result<()> {
    match role {
        ServeRole::All | ServeRole::Api | ServeRole::Ingest | ServeRole::Web => {
            let listener = bind(addr).await?;
            run_role_on(service, role, listener, secure_cookies, public_url, senders).await
        }
        ServeRole::Detect | ServeRole::Scheduler => {
            let service = match public_url {
                Some(url) => service.with_public_url(url),
                None => service,
            };
            tracing::info!(role = ?role, store = %service.store_description(), bus = service.bus().name(), "running");
            let mut workers = Workers::default();
            start_role_workers(&mut workers, &service, role, senders).await?;
            shutdown().await;
            workers.stop().await;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Listen on `addr` (port 0: a free port), before serving, so that the
/// address is known early (`vigil demo` prints it once seeded).
pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Serve on a bound listener until SIGTERM or Ctrl-C, with the workers.
pub async fn run_on(
    service: Service,
    listener: tokio::net::TcpListener,
    secure_cookies: bool,
    public_url: Option<&str>,
    senders: vigil_notify::Senders,
) -> anyhow::Result<()> {
    run_role_on(
        service,
        ServeRole::All,
        listener,
        secure_cookies,
        public_url,
        senders,
    )
    .await
}

/// Serve a role's HTTP surface on a bound listener until SIGTERM or
/// Ctrl-C, with the role's workers (`all`: every worker).
async fn run_role_on(
    service: Service,
    role: ServeRole,
    listener: tokio::net::TcpListener,
    secure_cookies: bool,
    public_url: Option<&str>,
    senders: vigil_notify::Senders,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    // Connectors call back here: the configured public URL, or this address.
    let public_url = public_url.map_or_else(|| format!("http://{local}"), str::to_owned);
    let service = service.with_public_url(&public_url);
    tracing::info!(address = %local, role = ?role, store = %service.store_description(), bus = service.bus().name(), secure_cookies, "listening");
    let options = vigil_api::AppOptions {
        metrics: vigil_api::install_metrics(),
        secure_cookies,
        // TLS ends in front of Vigil (a proxy): the public URL says whether
        // browsers reach it over TLS.
        hsts: public_url.starts_with("https://"),
        surface: match role {
            ServeRole::Api => vigil_api::Surface::Api,
            ServeRole::Ingest => vigil_api::Surface::Ingest,
            _ => vigil_api::Surface::All,
        },
        ..vigil_api::AppOptions::default()
    };
    let mut workers = Workers::default();
    start_role_workers(&mut workers, &service, role, senders).await?;
    let app = vigil_api::app_with(service, options);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .context("the server failed")?;
    workers.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// The background loops of a role: detection for `all` and `detect`, the
/// timed jobs for `all` and `scheduler`; `api` and `ingest` run none.
async fn start_role_workers(
    workers: &mut Workers,
    service: &Service,
    role: ServeRole,
    senders: vigil_notify::Senders,
) -> anyhow::Result<()> {
    if matches!(role, ServeRole::All | ServeRole::Detect) {
        let (engine, diagnostics) = service.detection_engine().await?;
        for d in diagnostics.iter().take(20) {
            tracing::debug!("{d}");
        }
        if service.bus().shared() {
            // Every detect process pulls from the shared stream.
            workers.start(service, |s, stop| async move {
                s.run_bus_detection(engine, stop).await;
            });
        } else {
            // Over the store's queue, one process at a time (a lease).
            workers.start(service, |s, stop| async move {
                s.run_detection(engine, stop).await;
            });
        }
    }
    if matches!(role, ServeRole::All | ServeRole::Scheduler) {
        workers.start(service, |s, stop| async move {
            run_scheduler(s, senders, stop).await;
        });
    }
    Ok(())
}

/// The timed jobs, run by one scheduler at a time: the scheduler lease is
/// taken from the database (a PostgreSQL session advisory lock, or a file
/// lock beside the SQLite file), so with two `scheduler` processes one
/// works and the other waits, taking over if the first dies. Every loop
/// reads its due work from the store, so a restart or takeover picks up
/// where the last process stopped.
async fn run_scheduler(service: Service, senders: vigil_notify::Senders, stop: Stop) {
    let mut stop = stop;
    let lease = loop {
        match service.try_scheduler_lease() {
            Ok(Some(lease)) => break lease,
            Ok(None) => tracing::info!("another process runs the scheduler; standing by"),
            Err(e) => tracing::error!(error = %e, "cannot take the scheduler lease"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    };
    tracing::info!("scheduler running");
    let mut jobs = Workers::default();
    jobs.start(&service, |s, stop| async move {
        s.run_purge(PURGE_EVERY, stop).await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_connectors(DELIVERY_EVERY, stop).await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_deliveries(&senders, NOTIFY_EVERY, stop).await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_readiness_schedule(READINESS_EVERY, stop).await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_sla_loop(SLA_EVERY, stop).await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_recommendation_schedule(RECOMMENDATIONS_EVERY, stop)
            .await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_report_schedule(REPORTS_EVERY, stop).await;
    });
    jobs.start(&service, |s, stop| async move {
        s.run_hunt_schedule(HUNTS_EVERY, stop).await;
    });
    if service.bus().shared() {
        jobs.start(&service, |s, stop| async move {
            s.run_reannounce(REANNOUNCE_EVERY, REANNOUNCE_AFTER, stop)
                .await;
        });
    }
    stop.await;
    jobs.stop().await;
    drop(lease);
    tracing::info!("scheduler stopped");
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The background loops beside the API, each stopped by its own signal at
/// shutdown and awaited, so work in flight finishes.
#[derive(Default)]
struct Workers(Vec<(oneshot::Sender<()>, JoinHandle<()>)>);

impl Workers {
    /// Spawn `work`, a loop over `service` that returns once `stop` resolves.
    fn start<F, Fut>(&mut self, service: &Service, work: F)
    where
        F: FnOnce(Service, Stop) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<()>();
        let stop: Stop = Box::pin(async move {
            let _ = rx.await;
        });
        self.0.push((tx, tokio::spawn(work(service.clone(), stop))));
    }

    async fn stop(self) {
        let handles: Vec<JoinHandle<()>> = self
            .0
            .into_iter()
            .map(|(tx, handle)| {
                let _ = tx.send(());
                handle
            })
            .collect();
        for handle in handles {
            let _ = handle.await;
        }
    }
}
