//! The bus conformance suite: the same behaviour from the in-process bus
//! (the store's detection queue) and from NATS JetStream (a real
//! `nats-server -js` started per test), over a real SQLite file: every
//! stored event is detected, a batch given back is delivered again, and
//! a batch delivered twice never duplicates an alert.

use std::sync::Arc;
use std::time::Duration;

use vigil_core::alert::AlertFilter;
use vigil_fixtures::{STOP_LOGGING_TRAIL, add_stop_logging_rule, ingest_record};
use vigil_service::bus::{Announcement, QueueBus};
use vigil_service::{FixedClock, Principal, Service};
use vigil_store::{SqliteStore, Store};
use vigil_testkit::nats::NatsServer;

/// A service over a fresh SQLite file, with the StopLogging rule and the
/// tenants `acme` and `globex`.
struct World {
    service: Service,
    store: Arc<dyn Store>,
    acme: vigil_core::TenantId,
    _dir: tempfile::TempDir,
    _nats: Option<NatsServer>,
}

fn op() -> Principal {
    Principal::Operator("test".into())
}

/// The trail record at another minute: another event (another content
/// hash), the same alert (same rule and entities, within the hour).
fn trail(minute: u32) -> String {
    STOP_LOGGING_TRAIL.replace("08:00:00Z", &format!("08:{minute:02}:00Z"))
}

async fn world(nats: Option<NatsServer>) -> World {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStore::open(&dir.path().join("vigil.db"))
        .await
        .expect("the store opens");
    sqlite.migrate().await.expect("migrations apply");
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let clock = Arc::new(FixedClock::new(
        "2026-11-27T09:00:00Z".parse().expect("time"),
    ));
    let mut service = Service::new(store.clone(), clock);
    if let Some(server) = &nats {
        let mut options = vigil_bus::NatsOptions::new(&server.url());
        options.ack_wait = Duration::from_secs(30);
        let bus = vigil_bus::NatsBus::connect(options)
            .await
            .expect("the NATS bus connects");
        service = service.with_bus(Arc::new(bus));
    } else {
        service = service.with_bus(Arc::new(QueueBus::new(store.clone())));
    }
    let acme = service
        .create_tenant(&op(), "acme", "Acme")
        .await
        .expect("tenant created")
        .id;
    service
        .create_tenant(&op(), "globex", "Globex")
        .await
        .expect("tenant created");
    add_stop_logging_rule(&service, &op()).await;
    World {
        service,
        store,
        acme,
        _dir: dir,
        _nats: nats,
    }
}

/// Detect until the bus has nothing more within a short wait.
async fn drain(w: &World) -> u64 {
    let (engine, _) = w.service.detection_engine().await.expect("engine");
    let mut events = 0;
    while let Some(r) = w
        .service
        .detect_deliveries(&engine, Duration::from_millis(300))
        .await
        .expect("a detection round")
    {
        events += r.events;
    }
    events
}

/// The tenant's alerts as (rule, count).
async fn alerts(w: &World, tenant: &str) -> Vec<(String, u64)> {
    w.service
        .list_alerts(
            &op(),
            tenant,
            AlertFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("alerts")
        .into_iter()
        .map(|a| (a.rule_title, a.count))
        .collect()
}

async fn every_stored_event_is_detected_once(w: World) {
    for minute in 0..5 {
        ingest_record(&w.service, &op(), "acme", &trail(minute)).await;
    }
    ingest_record(&w.service, &op(), "globex", &trail(0)).await;
    assert_eq!(drain(&w).await, 6);
    assert_eq!(
        alerts(&w, "acme").await,
        [("CloudTrail Logging Stopped".to_owned(), 5)]
    );
    assert_eq!(
        alerts(&w, "globex").await,
        [("CloudTrail Logging Stopped".to_owned(), 1)]
    );
    assert_eq!(w.store.detection_queue_len().await.expect("queue"), 0);
}

async fn a_batch_given_back_is_delivered_again(w: World) {
    for minute in 0..3 {
        ingest_record(&w.service, &op(), "acme", &trail(minute)).await;
    }
    let taken = w
        .service
        .bus()
        .fetch(32, Duration::from_millis(500))
        .await
        .expect("fetch");
    assert!(!taken.is_empty(), "the announcements are delivered");
    for d in taken {
        d.nak().await.expect("given back");
    }
    assert_eq!(drain(&w).await, 3, "every event detected after all");
    assert_eq!(
        alerts(&w, "acme").await,
        [("CloudTrail Logging Stopped".to_owned(), 3)]
    );
}

async fn a_batch_delivered_twice_never_duplicates_an_alert(w: World) {
    for minute in 0..3 {
        ingest_record(&w.service, &op(), "acme", &trail(minute)).await;
    }
    drain(&w).await;
    let before = alerts(&w, "acme").await;
    // The same announcement again, as a redelivery after a worker that
    // committed but died before acknowledging would bring it.
    let tenant = w.acme;
    let alert = w
        .service
        .list_alerts(
            &op(),
            "acme",
            AlertFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("alerts")[0]
        .id;
    let (_, seqs) = w
        .store
        .alert(tenant, alert)
        .await
        .expect("read")
        .expect("the alert");
    assert_eq!(seqs.len(), 3);
    w.service
        .bus()
        .publish(&Announcement { tenant, seqs })
        .await
        .expect("published");
    assert_eq!(drain(&w).await, 0, "nothing left to detect");
    assert_eq!(alerts(&w, "acme").await, before);
    assert_eq!(before, [("CloudTrail Logging Stopped".to_owned(), 3)]);
}

async fn an_empty_bus_answers_within_the_wait(w: World) {
    let got = w
        .service
        .bus()
        .fetch(8, Duration::from_millis(200))
        .await
        .expect("fetch");
    assert!(got.is_empty());
}

/// The suite, once per bus.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::world(None).await).await;
                }
            )*
        }
        mod nats {
            $(
                #[tokio::test]
                async fn $name() {
                    let server = vigil_testkit::nats_or_skip!();
                    super::$name(super::world(Some(server)).await).await;
                }
            )*
        }
    };
}

suite!(
    every_stored_event_is_detected_once,
    a_batch_given_back_is_delivered_again,
    a_batch_delivered_twice_never_duplicates_an_alert,
    an_empty_bus_answers_within_the_wait,
);
