//! `vigil serve`: the REST API on one address, shut down gracefully on
//! SIGTERM or Ctrl-C (requests in flight finish).

use anyhow::Context;
use vigil_service::Service;

pub async fn run(service: Service, addr: &str, secure_cookies: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, store = %service.store_description(), secure_cookies, "listening");
    let options = vigil_api::AppOptions {
        metrics: vigil_api::install_metrics(),
        secure_cookies,
        ..vigil_api::AppOptions::default()
    };
    // Detection runs beside the API, over the queue the intake fills.
    let (engine, diagnostics) = service.detection_engine().await?;
    for d in diagnostics.iter().take(20) {
        tracing::debug!("{d}");
    }
    let (stop_detection, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = {
        let service = service.clone();
        tokio::spawn(async move {
            service
                .run_detection(engine, async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    let (stop_purge, purge_stopped) = tokio::sync::oneshot::channel::<()>();
    let purge = {
        let service = service.clone();
        tokio::spawn(async move {
            service
                .run_purge(std::time::Duration::from_secs(3600), async {
                    let _ = purge_stopped.await;
                })
                .await;
        })
    };
    // Readiness assessments come due daily per tenant (the due time is in
    // the store); looking for due ones is one cheap query.
    let (stop_readiness, readiness_stopped) = tokio::sync::oneshot::channel::<()>();
    let readiness = {
        let service = service.clone();
        tokio::spawn(async move {
            service
                .run_readiness_schedule(std::time::Duration::from_secs(300), async {
                    let _ = readiness_stopped.await;
                })
                .await;
        })
    };
    // Recommendations: risk acceptances expire, verifications re-run
    // against the latest posture snapshots.
    let (stop_recs, recs_stopped) = tokio::sync::oneshot::channel::<()>();
    let recs = {
        let service = service.clone();
        tokio::spawn(async move {
            service
                .run_recommendation_schedule(std::time::Duration::from_secs(900), async {
                    let _ = recs_stopped.await;
                })
                .await;
        })
    };
    let app = vigil_api::app_with(service, options);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .context("the server failed")?;
    let _ = stop_detection.send(());
    let _ = stop_purge.send(());
    let _ = stop_readiness.send(());
    let _ = stop_recs.send(());
    let _ = worker.await;
    let _ = purge.await;
    let _ = readiness.await;
    let _ = recs.await;
    tracing::info!("stopped");
    Ok(())
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
