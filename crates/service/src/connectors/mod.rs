//! Response connectors (PRODUCT.md §9): how a managed task is carried out.
//! The tenant chooses one in its settings; the service reaches it only
//! through [`Connector`], so tests and other back ends plug in the same way.

mod manual;
mod webhook;

use std::fmt::Debug;
use std::sync::Arc;

use vigil_core::Timestamp;
use vigil_core::tenant::{ResponseConnector, Tenant};

pub use manual::Manual;
pub use webhook::SignedWebhook;

/// What is sent to the connector: the task, and where to report back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskPayload {
    pub task_id: String,
    /// The tenant's slug.
    pub tenant: String,
    pub incident: String,
    /// The task type, e.g. `isolate_device`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `kind:value`, e.g. `device:ws1`; `null` for free-text tasks.
    pub target: Option<String>,
    pub rationale: String,
    /// Where the connector posts `{status, detail}`, signed the same way.
    pub callback_url: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Taken up by a person; the experts complete or fail it by hand.
    Started(String),
    /// Accepted by the customer's system; its callback is awaited.
    Delivered(String),
    /// Not delivered, and why (retried while attempts remain).
    Failed(String),
}

/// A way of carrying out managed tasks.
#[async_trait::async_trait]
pub trait Connector: Send + Sync + Debug {
    /// `manual` or `signed_webhook`, as in the execution record.
    fn name(&self) -> &'static str;

    /// Make one attempt for `tenant` at `now` (the signing time).
    async fn send(&self, tenant: &Tenant, payload: &TaskPayload, now: Timestamp) -> Sent;
}

/// The connectors the service can use, one per kind of
/// [`ResponseConnector`] setting.
#[derive(Debug, Clone)]
pub struct Connectors {
    pub manual: Arc<dyn Connector>,
    pub signed_webhook: Arc<dyn Connector>,
}

impl Default for Connectors {
    fn default() -> Self {
        Connectors {
            manual: Arc::new(Manual),
            signed_webhook: Arc::new(SignedWebhook::default()),
        }
    }
}

impl Connectors {
    /// The connector a tenant's setting names.
    pub fn for_setting(&self, setting: &ResponseConnector) -> &Arc<dyn Connector> {
        match setting {
            ResponseConnector::Manual => &self.manual,
            ResponseConnector::SignedWebhook { .. } => &self.signed_webhook,
        }
    }
}
