//! Authorisation, in one place: every use case calls [`Service::authorize`]
//! with the acting principal, what it wants and the tenant concerned.
//! Outside the principal's scope the answer is "not found"; a provider
//! role's access to a tenant's data is written to the audit log.

use serde_json::json;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Decision, Permission, Principal, authorize};
use vigil_core::tenant::Tenant;

use crate::{Result, Service, ServiceError};

fn describe(p: Permission) -> &'static str {
    match p {
        Permission::ReadTenant => "read this tenant",
        Permission::CreateTenant => "create tenants",
        Permission::EditCustomerSettings => "change the customer's settings",
        Permission::EditServiceSettings => "change the service settings",
        Permission::ActivateTenant => "move tenants towards live",
        Permission::OffboardTenant => "offboard tenants",
        Permission::ManageUsers => "manage users",
        Permission::ManageOwnTokens => "manage API tokens",
        Permission::ManageIngestKeys => "manage ingest keys",
        Permission::ReadAudit => "read the audit log",
        Permission::SendTelemetry => "send telemetry",
        Permission::ManageRulePacks => "manage rule packs",
        Permission::TuneDetection => "tune detection",
        Permission::WorkIncidents => "work incidents",
        Permission::CommentIncidents => "comment on incidents",
        Permission::RetryDeliveries => "retry notification deliveries",
        Permission::RunReadiness => "run the readiness assessment",
        Permission::AcknowledgeResponse => {
            "acknowledge a response (the customer's admins and responders do)"
        }
        Permission::UpdateRecommendations => "update recommendations",
        Permission::Hunt => "hunt (the experts do)",
    }
}

impl Service {
    /// Allow or refuse. `tenant` is the tenant the request is about.
    /// `audit_access` writes a record when a provider role reads tenant data
    /// (changes write their own records).
    pub(crate) async fn authorize(
        &self,
        p: &Principal,
        perm: Permission,
        tenant: Option<&Tenant>,
        audit_access: bool,
    ) -> Result<()> {
        match authorize(p, perm, tenant.map(|t| t.id)) {
            Decision::Allow { provider_access } => {
                if provider_access
                    && audit_access
                    && let Some(t) = tenant
                {
                    let entry = AuditEntry::new(
                        self.clock.now(),
                        &p.actor(),
                        "tenant.access",
                        Some(t.id),
                        format!("tenant:{}", t.slug),
                        json!({"permission": format!("{perm:?}")}),
                    );
                    self.store.append_audit(entry).await?;
                }
                Ok(())
            }
            Decision::Forbidden => Err(ServiceError::Forbidden(describe(perm))),
            Decision::NotFound => Err(ServiceError::NotFound {
                what: "tenant",
                key: tenant.map_or_else(String::new, |t| t.slug.to_string()),
            }),
        }
    }
}

/// Whether the principal speaks for the provider (the experts' side): the
/// operator and provider roles. Only they see the experts' internal notes.
pub(crate) fn is_provider_side(p: &Principal) -> bool {
    match p {
        Principal::Operator(_) => true,
        Principal::User { role, .. } => role.is_provider(),
        Principal::IngestKey { .. } => false,
    }
}
