//! TEMPORARY: the notification contract until `notifications: outbox`
//! lands on main (then this file goes and `vigil_core::notification` is used).
#![allow(dead_code)]

use vigil_core::identity::Role;
use vigil_core::incident::IncidentId;
use vigil_core::tenant::Tenant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    ResponsePublished,
    SlaReminder,
    SlaBreach,
    Message,
    Inquiry,
    ReadinessRegression,
    MajorIncident,
    TaskUpdate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    IncidentContacts,
    Contact(u8),
    Roles(Vec<Role>),
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub audience: Audience,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub incident: Option<IncidentId>,
}

impl crate::Service {
    pub async fn notify(&self, _tenant: &Tenant, _n: NewNotification) -> crate::Result<()> {
        Ok(())
    }
}
