//! The manual connector: an expert carries the task out by hand in the
//! customer's console; executing only records that it was taken up.

use vigil_core::Timestamp;
use vigil_core::tenant::Tenant;

use super::{Connector, Sent, TaskPayload};

/// Records the task as taken up by hand.
#[derive(Debug, Clone, Copy, Default)]
pub struct Manual;

#[async_trait::async_trait]
impl Connector for Manual {
    fn name(&self) -> &'static str {
        "manual"
    }

    async fn send(&self, _tenant: &Tenant, _payload: &TaskPayload, _now: Timestamp) -> Sent {
        Sent::Started(
            "carried out by hand in the customer's console; complete or fail the task when done"
                .into(),
        )
    }
}
