//! The intake → detection stream. Intake stores events (the store is the
//! system of record) and then announces their `seq`s on the bus; detection
//! workers take announcements off it, detect, commit, and only then
//! acknowledge. An announcement not acknowledged is delivered again, and
//! detection of a batch is idempotent (`commit_detections_of` folds only
//! events still on the store's detection queue), so a redelivery never
//! duplicates an alert.
//!
//! Two buses: [`QueueBus`], in-process, over the store's detection queue
//! (the default: one detection worker holding the detection lease), and
//! NATS JetStream (`vigil-bus`), shared by many `detect` processes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use vigil_core::TenantId;
use vigil_store::Store;

/// Why the bus failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the event bus cannot be reached: {0}")]
    Unreachable(String),
    #[error("a bus message is not an announcement: {0}")]
    Malformed(String),
    #[error("the event bus failed: {0}")]
    Failed(String),
}

/// Stored events of one tenant, announced to detection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Announcement {
    pub tenant: TenantId,
    pub seqs: Vec<i64>,
}

/// Acknowledges (or gives back) one delivered announcement.
#[async_trait]
pub trait Acker: Send + Sync {
    /// Done: never deliver it again.
    async fn ack(self: Box<Self>) -> Result<(), BusError>;
    /// Not done: deliver it again (to this or another worker).
    async fn nak(self: Box<Self>) -> Result<(), BusError>;
}

/// An announcement as a worker received it.
pub struct Delivery {
    pub announcement: Announcement,
    acker: Box<dyn Acker>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("announcement", &self.announcement)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub fn new(announcement: Announcement, acker: Box<dyn Acker>) -> Self {
        Delivery {
            announcement,
            acker,
        }
    }

    pub async fn ack(self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    pub async fn nak(self) -> Result<(), BusError> {
        self.acker.nak().await
    }
}

/// The stream between intake and detection.
#[async_trait]
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// `in-process` or `nats`, for logs.
    fn name(&self) -> &'static str;

    /// Whether several processes share detection through this bus (then
    /// no detection lease is taken: the bus divides the work).
    fn shared(&self) -> bool;

    /// Announce stored events. Called after their commit.
    async fn publish(&self, announcement: &Announcement) -> Result<(), BusError>;

    /// Up to `max` announcements, waiting at most `wait` for the first.
    async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError>;
}

/// The in-process bus: the store's detection queue itself. Publishing only
/// wakes the worker (the queue row was written with the events); a fetch
/// reads queued events; acknowledging is the detection commit, which takes
/// them off the queue, so what is not committed is delivered again.
#[derive(Debug, Clone)]
pub struct QueueBus {
    store: Arc<dyn Store>,
    woken: Arc<tokio::sync::Notify>,
}

/// Events a [`QueueBus`] fetch reads per announcement.
const QUEUE_FETCH: u32 = 4096;

impl QueueBus {
    pub fn new(store: Arc<dyn Store>) -> Self {
        QueueBus {
            store,
            woken: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

/// The queue bus's acknowledgement: the commit already did it.
struct Committed;

#[async_trait]
impl Acker for Committed {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        Ok(())
    }
    async fn nak(self: Box<Self>) -> Result<(), BusError> {
        Ok(())
    }
}

#[async_trait]
impl Bus for QueueBus {
    fn name(&self) -> &'static str {
        "in-process"
    }

    fn shared(&self) -> bool {
        false
    }

    async fn publish(&self, _announcement: &Announcement) -> Result<(), BusError> {
        self.woken.notify_one();
        Ok(())
    }

    async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        let limit = QUEUE_FETCH.saturating_mul(u32::try_from(max.max(1)).unwrap_or(1));
        let read = || async {
            self.store
                .detection_backlog(limit, false)
                .await
                .map_err(|e| BusError::Failed(e.to_string()))
        };
        let mut queued = read().await?;
        if queued.is_empty() {
            let _ = tokio::time::timeout(wait, self.woken.notified()).await;
            queued = read().await?;
        }
        let mut by_tenant: Vec<Announcement> = Vec::new();
        for e in queued {
            match by_tenant.iter_mut().find(|a| a.tenant == e.tenant_id) {
                Some(a) => a.seqs.push(e.seq),
                None => by_tenant.push(Announcement {
                    tenant: e.tenant_id,
                    seqs: vec![e.seq],
                }),
            }
        }
        Ok(by_tenant
            .into_iter()
            .map(|a| Delivery::new(a, Box::new(Committed)))
            .collect())
    }
}

impl crate::Service {
    /// The scheduler lease (see `vigil_store::TelemetryStore::try_scheduler_lease`):
    /// `None` while another process holds it.
    pub fn try_scheduler_lease(&self) -> crate::Result<Option<vigil_store::DetectionLease>> {
        Ok(self.store.try_scheduler_lease()?)
    }

    /// The re-announcing job: [`crate::Service::reannounce_stale`] every
    /// `every` for events older than `after`, until `stop` resolves. The
    /// first run announces every queued event, whatever its age: the job
    /// starts when a scheduler takes over, and the process before it may
    /// have died between storing a batch and announcing it.
    pub async fn run_reannounce(
        &self,
        every: Duration,
        after: Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut age = Duration::ZERO;
        loop {
            let result = self.reannounce_stale(age).await;
            age = after;
            if let Err(e) = result {
                tracing::warn!(error = %e, "cannot announce waiting events again; will retry");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
