//! NATS JetStream as the intake → detection stream (docs/scale-out.md).
//!
//! One stream (`VIGIL_EVENTS`, work-queue retention, file storage) over the
//! subjects `vigil.events.<tenant id>`; intake publishes one announcement
//! per stored batch and waits for JetStream's acknowledgement; every
//! `detect` process pulls from one durable consumer (`detect`), so each
//! announcement goes to one worker at a time. A worker acknowledges after
//! its detection commit; one that dies or fails leaves the announcement to
//! be delivered again after the acknowledgement wait. Detection is
//! idempotent in the store, so the redelivery adds nothing twice.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, stream};
use async_trait::async_trait;
use futures_util::StreamExt;
use vigil_service::bus::{Acker, Announcement, Bus, BusError, Delivery};

/// The stream's name (without a namespace).
pub const STREAM: &str = "VIGIL_EVENTS";
/// The durable consumer every `detect` process shares.
pub const CONSUMER: &str = "detect";
/// Subjects: one per tenant under this prefix (without a namespace).
pub const SUBJECT_PREFIX: &str = "vigil.events";

/// How to reach NATS and how long a delivery may stay unacknowledged.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// `nats://host:port`.
    pub url: String,
    /// After this long without an acknowledgement an announcement is
    /// delivered again (a worker died or hangs).
    pub ack_wait: Duration,
    /// How long a publish waits for JetStream's acknowledgement before
    /// intake answers 503.
    pub publish_timeout: Duration,
    /// Empty: the stream `VIGIL_EVENTS` over `vigil.events.<tenant>`.
    /// Otherwise `VIGIL_EVENTS_<ns>` over `vigil.<ns>.events.<tenant>`, so
    /// several Vigil deployments (or tests) share one NATS server without
    /// taking each other's announcements.
    pub namespace: String,
}

/// Why a bus namespace is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bus namespace {0:?}: use 1 to 32 ASCII letters, digits, '_' or '-'")]
pub struct BadNamespace(pub String);

impl NatsOptions {
    pub fn new(url: &str) -> Self {
        NatsOptions {
            url: url.to_owned(),
            ack_wait: Duration::from_secs(30),
            publish_timeout: Duration::from_secs(3),
            namespace: String::new(),
        }
    }

    /// Check a namespace: it becomes part of a stream name and a subject
    /// token, where dots, spaces and wildcards have meanings.
    pub fn check_namespace(ns: &str) -> Result<(), BadNamespace> {
        let ok = ns.is_empty()
            || (ns.len() <= 32
                && ns
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        if ok {
            Ok(())
        } else {
            Err(BadNamespace(ns.to_owned()))
        }
    }

    /// The stream's name in this namespace.
    pub fn stream(&self) -> String {
        if self.namespace.is_empty() {
            STREAM.to_owned()
        } else {
            format!("{STREAM}_{}", self.namespace)
        }
    }

    /// The subjects' prefix in this namespace.
    pub fn subject_prefix(&self) -> String {
        if self.namespace.is_empty() {
            SUBJECT_PREFIX.to_owned()
        } else {
            format!("vigil.{}.events", self.namespace)
        }
    }

    /// The subject of a tenant's announcements in this namespace.
    pub fn subject(&self, tenant: vigil_core::TenantId) -> String {
        format!("{}.{tenant}", self.subject_prefix())
    }
}

/// The NATS JetStream bus.
pub struct NatsBus {
    js: jetstream::Context,
    consumer: tokio::sync::OnceCell<consumer::PullConsumer>,
    options: NatsOptions,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("url", &self.options.url)
            .finish_non_exhaustive()
    }
}

/// The subject of a tenant's announcements (without a namespace).
pub fn subject(tenant: vigil_core::TenantId) -> String {
    format!("{SUBJECT_PREFIX}.{tenant}")
}

fn unreachable(what: &str, e: impl std::fmt::Display) -> BusError {
    BusError::Unreachable(format!("{what}: {e}"))
}

impl NatsBus {
    /// Connect and make sure the stream exists. Fails when NATS cannot be
    /// reached (the caller decides whether to wait and retry); once
    /// connected, the client reconnects by itself.
    pub async fn connect(options: NatsOptions) -> Result<NatsBus, BusError> {
        NatsOptions::check_namespace(&options.namespace)
            .map_err(|e| BusError::Failed(e.to_string()))?;
        let client = async_nats::ConnectOptions::new()
            .name("vigil")
            .connection_timeout(Duration::from_secs(3))
            .connect(options.url.as_str())
            .await
            .map_err(|e| unreachable(&format!("cannot connect to {}", options.url), e))?;
        let mut js = jetstream::new(client);
        js.set_timeout(options.publish_timeout);
        let bus = NatsBus {
            js,
            consumer: tokio::sync::OnceCell::new(),
            options,
        };
        bus.stream().await?;
        Ok(bus)
    }

    async fn stream(&self) -> Result<stream::Stream, BusError> {
        let name = self.options.stream();
        self.js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("{}.>", self.options.subject_prefix())],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| unreachable(&format!("cannot create the stream {name}"), e))
    }

    async fn consumer(&self) -> Result<&consumer::PullConsumer, BusError> {
        self.consumer
            .get_or_try_init(|| async {
                self.stream()
                    .await?
                    .get_or_create_consumer(
                        CONSUMER,
                        consumer::pull::Config {
                            durable_name: Some(CONSUMER.to_owned()),
                            ack_policy: consumer::AckPolicy::Explicit,
                            ack_wait: self.options.ack_wait,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(|e| unreachable(&format!("cannot create the consumer {CONSUMER}"), e))
            })
            .await
    }
}

/// A JetStream message's acknowledgement.
struct NatsAck(jetstream::Message);

#[async_trait]
impl Acker for NatsAck {
    async fn ack(self: Box<Self>) -> Result<(), BusError> {
        self.0
            .ack()
            .await
            .map_err(|e| unreachable("acknowledgement", e))
    }

    async fn nak(self: Box<Self>) -> Result<(), BusError> {
        self.0
            .ack_with(AckKind::Nak(None))
            .await
            .map_err(|e| unreachable("negative acknowledgement", e))
    }
}

#[async_trait]
impl Bus for NatsBus {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn shared(&self) -> bool {
        true
    }

    async fn publish(&self, announcement: &Announcement) -> Result<(), BusError> {
        let payload =
            serde_json::to_vec(announcement).map_err(|e| BusError::Failed(e.to_string()))?;
        let wait = self.options.publish_timeout;
        let acked = tokio::time::timeout(wait, async {
            self.js
                .publish(self.options.subject(announcement.tenant), payload.into())
                .await
                .map_err(|e| unreachable("publish", e))?
                .await
                .map_err(|e| unreachable("publish acknowledgement", e))
        })
        .await
        .map_err(|_| {
            BusError::Unreachable(format!(
                "JetStream did not acknowledge within {} s",
                wait.as_secs()
            ))
        })?;
        acked.map(|_| ())
    }

    async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        let consumer = self.consumer().await?;
        let mut batch = consumer
            .batch()
            .max_messages(max.max(1))
            .expires(wait)
            .messages()
            .await
            .map_err(|e| unreachable("fetch", e))?;
        let mut out = Vec::new();
        while let Some(message) = batch.next().await {
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    if out.is_empty() {
                        return Err(unreachable("fetch", e));
                    }
                    break;
                }
            };
            match serde_json::from_slice::<Announcement>(&message.payload) {
                Ok(a) => out.push(Delivery::new(a, Box::new(NatsAck(message)))),
                Err(e) => {
                    // Not ours: never deliver it again.
                    tracing::warn!(subject = %message.subject, error = %e, "a message on the event stream is not an announcement; dropped");
                    let _ = message.ack_with(AckKind::Term).await;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_names_its_own_stream_and_subjects_and_odd_ones_are_refused() {
        let tenant = vigil_core::TenantId::new_at("2026-11-27T09:00:00Z".parse().expect("time"));
        let plain = NatsOptions::new("nats://127.0.0.1:4222");
        assert_eq!(plain.stream(), STREAM);
        assert_eq!(plain.subject(tenant), subject(tenant));
        let mut named = plain.clone();
        named.namespace = "blue-2".into();
        assert_eq!(named.stream(), "VIGIL_EVENTS_blue-2");
        assert_eq!(
            named.subject(tenant),
            format!("vigil.blue-2.events.{tenant}")
        );
        for bad in ["a.b", "a b", "*", ">", "x".repeat(33).as_str()] {
            assert!(NatsOptions::check_namespace(bad).is_err(), "{bad:?}");
        }
        assert!(NatsOptions::check_namespace("").is_ok());
    }
}
