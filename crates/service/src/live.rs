//! Live updates: an in-process bus of small change notices (what changed,
//! where), published by the use cases where changes happen and read by
//! each connected user through a [`LiveFeed`] that lets through only what
//! that user may see. The notice carries ids, never content: the client
//! reads the object through the API, which authorises and audits as usual.

use std::collections::HashMap;

use tokio::sync::broadcast;
use vigil_core::TenantId;
use vigil_core::identity::{Decision, Permission, Principal, authorize};
use vigil_core::incident::{Incident, IncidentId};

use crate::{IncidentActivity, Result, Service, ServiceError};

/// How many notices a slow reader may fall behind before it is told it
/// missed some.
const BUS_CAPACITY: usize = 1024;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveKind {
    IncidentCreated,
    IncidentUpdated,
    /// A task was created or moved on.
    Task,
    /// A comment customers may see.
    Comment,
    /// An expert's internal comment: never sent to customer roles.
    InternalComment,
    /// A message in an incident's chat or an inquiry.
    Message,
    /// An inquiry was opened or its status changed.
    Inquiry,
}

impl LiveKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            LiveKind::IncidentCreated => "incident_created",
            LiveKind::IncidentUpdated => "incident_updated",
            LiveKind::Task => "task",
            LiveKind::Comment => "comment",
            LiveKind::InternalComment => "internal_comment",
            LiveKind::Message => "message",
            LiveKind::Inquiry => "inquiry",
        }
    }

    /// Whether customer roles may hear of it.
    pub const fn customer_visible(self) -> bool {
        !matches!(self, LiveKind::InternalComment)
    }
}

/// One change notice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LiveEvent {
    pub tenant_id: TenantId,
    pub kind: LiveKind,
    /// The id of what changed (incident, task, comment, message, inquiry).
    pub id: String,
    /// The incident it belongs to, if any.
    pub incident: Option<IncidentId>,
}

impl LiveEvent {
    pub fn new(
        tenant_id: TenantId,
        kind: LiveKind,
        id: impl ToString,
        incident: Option<IncidentId>,
    ) -> Self {
        LiveEvent {
            tenant_id,
            kind,
            id: id.to_string(),
            incident,
        }
    }

    /// A change to an incident.
    pub fn incident(tenant_id: TenantId, id: IncidentId) -> Self {
        LiveEvent::new(tenant_id, LiveKind::IncidentUpdated, id, Some(id))
    }

    /// A task created or moved on.
    pub fn task(t: &vigil_core::task::Task) -> Self {
        LiveEvent::new(t.tenant_id, LiveKind::Task, t.id, Some(t.incident_id))
    }
}

/// The sending half, shared by every clone of the service.
#[derive(Debug, Clone)]
pub(crate) struct LiveBus(broadcast::Sender<LiveEvent>);

impl LiveBus {
    pub(crate) fn new() -> Self {
        LiveBus(broadcast::channel(BUS_CAPACITY).0)
    }
}

/// A notice as delivered to one reader, with the tenant's slug for links.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LiveDelivery {
    pub tenant: String,
    #[serde(flatten)]
    pub event: LiveEvent,
}

/// What [`LiveFeed::next`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveItem {
    Event(LiveDelivery),
    /// The reader fell behind and missed this many notices: reload.
    Missed(u64),
}

/// One reader's view of the bus: only notices about tenants the principal
/// may read, and internal comments for provider roles only.
#[derive(Debug)]
pub struct LiveFeed {
    rx: broadcast::Receiver<LiveEvent>,
    principal: Principal,
    service: Service,
    slugs: HashMap<TenantId, String>,
}

impl LiveFeed {
    /// The next notice this reader may see; `None` when the service stops.
    pub async fn next(&mut self) -> Option<LiveItem> {
        loop {
            let event = match self.rx.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => return Some(LiveItem::Missed(n)),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if !may_see(&self.principal, &event) {
                continue;
            }
            let tenant = match self.slugs.get(&event.tenant_id) {
                Some(s) => s.clone(),
                None => {
                    let Ok(Some(t)) = self.service.store.tenant_by_id(event.tenant_id).await else {
                        continue;
                    };
                    let slug = t.slug.to_string();
                    self.slugs.insert(t.id, slug.clone());
                    slug
                }
            };
            return Some(LiveItem::Event(LiveDelivery { tenant, event }));
        }
    }
}

/// The one authorisation rule decides the tenant; internal notices need a
/// provider-side principal.
fn may_see(p: &Principal, e: &LiveEvent) -> bool {
    matches!(
        authorize(p, Permission::ReadTenant, Some(e.tenant_id)),
        Decision::Allow { .. }
    ) && (e.kind.customer_visible() || crate::authz::is_provider_side(p))
}

impl Service {
    /// Follow the changes this principal may see, from now on.
    pub fn live_feed(&self, p: &Principal) -> Result<LiveFeed> {
        if matches!(p, Principal::IngestKey { .. }) {
            // An ingest key sees nothing, so there is nothing to follow.
            return Err(ServiceError::NotFound {
                what: "route",
                key: "live events".into(),
            });
        }
        Ok(LiveFeed {
            rx: self.live.0.subscribe(),
            principal: p.clone(),
            service: self.clone(),
            slugs: HashMap::new(),
        })
    }

    /// Tell connected readers about a change (nobody listening is fine).
    pub(crate) fn publish(&self, event: LiveEvent) {
        let _ = self.live.0.send(event);
    }

    /// Tell readers about incidents a correlation (or a person's merge or
    /// move) stored: `opened` in the activity marks a new one.
    pub(crate) fn publish_correlation(
        &self,
        incidents: &[Incident],
        activity: &[IncidentActivity],
    ) {
        for i in incidents {
            let opened = activity
                .iter()
                .any(|a| a.incident == i.id && a.action == "opened");
            let kind = if opened {
                LiveKind::IncidentCreated
            } else {
                LiveKind::IncidentUpdated
            };
            self.publish(LiveEvent::new(i.tenant_id, kind, i.id, Some(i.id)));
        }
    }
}
