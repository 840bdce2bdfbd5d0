//! Who acts: users with roles (PRODUCT.md §2), machine credentials, and the
//! one authorisation decision every use case asks for.
//!
//! Pure: the decision is a function of the principal, the permission and
//! the target tenant. Callers turn `NotFound` into "no such object" so that
//! another tenant's data does not even show that it exists.

use std::fmt;
use std::str::FromStr;

use crate::{Id, TenantId, Timestamp};

/// Identifier of a user.
pub type UserId = Id<User>;

/// A role from PRODUCT.md §2.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ProviderAdmin,
    Analyst,
    DeliveryManager,
    CustomerAdmin,
    CustomerResponder,
    CustomerReader,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::ProviderAdmin,
        Role::Analyst,
        Role::DeliveryManager,
        Role::CustomerAdmin,
        Role::CustomerResponder,
        Role::CustomerReader,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::ProviderAdmin => "provider_admin",
            Role::Analyst => "analyst",
            Role::DeliveryManager => "delivery_manager",
            Role::CustomerAdmin => "customer_admin",
            Role::CustomerResponder => "customer_responder",
            Role::CustomerReader => "customer_reader",
        }
    }

    /// Provider roles see every tenant; customer roles exactly one.
    pub const fn is_provider(self) -> bool {
        matches!(
            self,
            Role::ProviderAdmin | Role::Analyst | Role::DeliveryManager
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?}: expected provider_admin, analyst, delivery_manager, customer_admin, customer_responder or customer_reader"
)]
pub struct ParseRoleError(pub String);

impl FromStr for Role {
    type Err = ParseRoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.replace('-', "_");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| ParseRoleError(s.to_owned()))
    }
}

/// A person who signs in (no credential lives here: the password hash stays
/// in the store).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: UserId,
    /// Lowercase; unique.
    pub email: String,
    pub role: Role,
    /// The tenant of a customer role; `None` for provider roles.
    pub tenant_id: Option<TenantId>,
    pub created_at: Timestamp,
    pub disabled: bool,
}

/// Why a user cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUser {
    #[error("{0}")]
    Email(String),
    #[error("role {0} belongs to one tenant: give --tenant")]
    TenantRequired(Role),
    #[error("role {0} is a provider role and sees every tenant: give no tenant")]
    TenantNotAllowed(Role),
}

impl User {
    pub fn new(
        email: &str,
        role: Role,
        tenant_id: Option<TenantId>,
        now: Timestamp,
    ) -> Result<User, InvalidUser> {
        let email = email.trim().to_ascii_lowercase();
        crate::tenant::validate_email(&email).map_err(InvalidUser::Email)?;
        match (role.is_provider(), tenant_id) {
            (false, None) => return Err(InvalidUser::TenantRequired(role)),
            (true, Some(_)) => return Err(InvalidUser::TenantNotAllowed(role)),
            _ => {}
        }
        Ok(User {
            id: UserId::new_at(now),
            email,
            role,
            tenant_id,
            created_at: now,
            disabled: false,
        })
    }
}

/// Who is acting, as resolved by the server from a session, token or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in user, or a user's API token (with the user's rights).
    User {
        id: UserId,
        email: String,
        role: Role,
        tenant_id: Option<TenantId>,
    },
    /// A tenant's ingest key: may send telemetry to its tenant, nothing else.
    IngestKey { tenant_id: TenantId },
    /// The operator of the server at its command line (full rights).
    Operator(String),
}

impl Principal {
    pub fn user(u: &User) -> Principal {
        Principal::User {
            id: u.id,
            email: u.email.clone(),
            role: u.role,
            tenant_id: u.tenant_id,
        }
    }

    /// The audit log's name for this principal.
    pub fn actor(&self) -> crate::audit::Actor {
        match self {
            Principal::User { email, .. } => crate::audit::Actor::User(email.clone()),
            Principal::IngestKey { tenant_id } => {
                crate::audit::Actor::User(format!("ingest-key@{tenant_id}"))
            }
            Principal::Operator(name) => crate::audit::Actor::Cli(name.clone()),
        }
    }
}

/// What a principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// List or read tenants and their settings.
    ReadTenant,
    CreateTenant,
    /// Settings the customer owns: contacts, channels, authorisation,
    /// exclusions.
    EditCustomerSettings,
    /// Settings the provider owns: name, SLA, IR provider, coverage, periods.
    EditServiceSettings,
    /// onboarding → monitoring → live.
    ActivateTenant,
    /// → offboarding → deleted, and reinstating.
    OffboardTenant,
    /// Users of a tenant (customer roles) or of the provider.
    ManageUsers,
    /// A user's own API tokens.
    ManageOwnTokens,
    ManageIngestKeys,
    ReadAudit,
    SendTelemetry,
    /// Add and replace detection rule packs (provider-wide).
    ManageRulePacks,
    /// Enable and disable rules for a tenant, and its tuning exclusions.
    TuneDetection,
    /// Triage and classify incidents: status, assignment, classification,
    /// severity, tags.
    WorkIncidents,
    /// Comment on incidents (the experts and the customer's SOC).
    CommentIncidents,
    /// Requeue a dead notification delivery.
    RetryDeliveries,
    /// Run the readiness assessment on demand (reading it is `ReadTenant`).
    RunReadiness,
    /// Acknowledge a published response: the customer's admins and
    /// responders (it stops the SLA's acknowledge timer).
    AcknowledgeResponse,
    /// Move a tenant's posture recommendations through their lifecycle
    /// and add notes (reading them is `ReadTenant`).
    UpdateRecommendations,
    /// Threat hunting: run hunts over a tenant's events (and, with no
    /// tenant, across all tenants), keep saved and scheduled hunts, write
    /// hunting summaries. The experts' work (PRODUCT.md §2, §12).
    Hunt,
}

impl Permission {
    pub const ALL: [Permission; 20] = [
        Permission::ReadTenant,
        Permission::CreateTenant,
        Permission::EditCustomerSettings,
        Permission::EditServiceSettings,
        Permission::ActivateTenant,
        Permission::OffboardTenant,
        Permission::ManageUsers,
        Permission::ManageOwnTokens,
        Permission::ManageIngestKeys,
        Permission::ReadAudit,
        Permission::SendTelemetry,
        Permission::ManageRulePacks,
        Permission::TuneDetection,
        Permission::WorkIncidents,
        Permission::CommentIncidents,
        Permission::RetryDeliveries,
        Permission::RunReadiness,
        Permission::AcknowledgeResponse,
        Permission::UpdateRecommendations,
        Permission::Hunt,
    ];
}

/// The answer to "may this principal do this to this tenant?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `provider_access` says a provider role touched a tenant's
    /// data, which the audit log must record.
    Allow { provider_access: bool },
    /// Within the caller's own scope, but not for this role: 403.
    Forbidden,
    /// Outside the caller's scope: answered as if it did not exist (404).
    NotFound,
}

/// The one authorisation rule. `tenant` is the tenant the request is
/// about (`None` for requests about no tenant, such as creating one).
pub fn authorize(p: &Principal, perm: Permission, tenant: Option<TenantId>) -> Decision {
    use Permission as P;
    use Role as R;
    let (role, own) = match p {
        Principal::Operator(_) => {
            return Decision::Allow {
                provider_access: false,
            };
        }
        Principal::IngestKey { tenant_id } => {
            return match (perm, tenant) {
                (P::SendTelemetry, Some(t)) if t == *tenant_id => Decision::Allow {
                    provider_access: false,
                },
                // A key can see nothing, so nothing exists for it.
                _ => Decision::NotFound,
            };
        }
        Principal::User {
            role, tenant_id, ..
        } => (*role, *tenant_id),
    };
    if !role.is_provider() {
        // Fail closed: a customer role without a tenant, or any other
        // tenant, sees nothing.
        let Some(own) = own else {
            return Decision::NotFound;
        };
        match tenant {
            Some(t) if t == own => {}
            _ => return Decision::NotFound,
        }
    }
    let allowed = match perm {
        P::ReadTenant => true,
        P::ManageOwnTokens => true,
        P::CreateTenant | P::OffboardTenant => role == R::ProviderAdmin,
        P::EditServiceSettings | P::ActivateTenant => {
            matches!(role, R::ProviderAdmin | R::DeliveryManager)
        }
        P::EditCustomerSettings => {
            matches!(
                role,
                R::ProviderAdmin | R::DeliveryManager | R::CustomerAdmin
            )
        }
        P::ManageUsers | P::ManageIngestKeys => {
            matches!(role, R::ProviderAdmin | R::CustomerAdmin)
        }
        P::ReadAudit | P::RetryDeliveries => matches!(role, R::ProviderAdmin | R::CustomerAdmin),
        P::SendTelemetry => false,
        P::ManageRulePacks => role == R::ProviderAdmin,
        P::TuneDetection => matches!(role, R::ProviderAdmin | R::Analyst | R::CustomerAdmin),
        P::WorkIncidents => matches!(role, R::ProviderAdmin | R::Analyst),
        P::RunReadiness => matches!(
            role,
            R::ProviderAdmin | R::DeliveryManager | R::CustomerAdmin
        ),
        P::CommentIncidents => matches!(
            role,
            R::ProviderAdmin | R::Analyst | R::CustomerAdmin | R::CustomerResponder
        ),
        P::AcknowledgeResponse => matches!(role, R::CustomerAdmin | R::CustomerResponder),
        P::Hunt => matches!(role, R::ProviderAdmin | R::Analyst),
        P::UpdateRecommendations => matches!(
            role,
            R::ProviderAdmin | R::DeliveryManager | R::CustomerAdmin | R::CustomerResponder
        ),
    };
    if allowed {
        Decision::Allow {
            provider_access: role.is_provider() && tenant.is_some(),
        }
    } else {
        Decision::Forbidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: i64) -> TenantId {
        Id::new_at(Timestamp::from_second(1_800_000_000 + n).expect("ts"))
    }

    fn user(role: Role, tenant_id: Option<TenantId>) -> Principal {
        Principal::User {
            id: Id::new_at(Timestamp::UNIX_EPOCH),
            email: "u@x.example".into(),
            role,
            tenant_id,
        }
    }

    #[test]
    fn customers_never_see_another_tenant_whatever_they_ask() {
        let (a, b) = (tenant(1), tenant(2));
        for role in Role::ALL.into_iter().filter(|r| !r.is_provider()) {
            for perm in Permission::ALL {
                assert_eq!(
                    authorize(&user(role, Some(a)), perm, Some(b)),
                    Decision::NotFound,
                    "{role} {perm:?}"
                );
                assert_eq!(
                    authorize(&user(role, Some(a)), perm, None),
                    Decision::NotFound
                );
                assert_eq!(
                    authorize(&user(role, None), perm, Some(a)),
                    Decision::NotFound
                );
            }
        }
    }

    #[test]
    fn within_their_tenant_customers_are_forbidden_what_their_role_lacks() {
        let a = tenant(1);
        let reader = user(Role::CustomerReader, Some(a));
        assert_eq!(
            authorize(&reader, Permission::ReadTenant, Some(a)),
            Decision::Allow {
                provider_access: false
            }
        );
        assert_eq!(
            authorize(&reader, Permission::EditCustomerSettings, Some(a)),
            Decision::Forbidden
        );
        let admin = user(Role::CustomerAdmin, Some(a));
        assert!(matches!(
            authorize(&admin, Permission::EditCustomerSettings, Some(a)),
            Decision::Allow { .. }
        ));
        assert_eq!(
            authorize(&admin, Permission::EditServiceSettings, Some(a)),
            Decision::Forbidden
        );
        assert_eq!(
            authorize(&admin, Permission::OffboardTenant, Some(a)),
            Decision::Forbidden
        );
    }

    #[test]
    fn provider_roles_see_every_tenant_and_their_access_is_marked_for_audit() {
        let a = tenant(1);
        let analyst = user(Role::Analyst, None);
        assert_eq!(
            authorize(&analyst, Permission::ReadTenant, Some(a)),
            Decision::Allow {
                provider_access: true
            }
        );
        assert_eq!(
            authorize(&analyst, Permission::CreateTenant, None),
            Decision::Forbidden
        );
        let admin = user(Role::ProviderAdmin, None);
        assert_eq!(
            authorize(&admin, Permission::CreateTenant, None),
            Decision::Allow {
                provider_access: false
            }
        );
        let dm = user(Role::DeliveryManager, None);
        assert!(matches!(
            authorize(&dm, Permission::ActivateTenant, Some(a)),
            Decision::Allow { .. }
        ));
        assert_eq!(
            authorize(&dm, Permission::OffboardTenant, Some(a)),
            Decision::Forbidden
        );
    }

    #[test]
    fn an_ingest_key_can_only_send_telemetry_to_its_tenant() {
        let (a, b) = (tenant(1), tenant(2));
        let key = Principal::IngestKey { tenant_id: a };
        for perm in Permission::ALL {
            let expected = if perm == Permission::SendTelemetry {
                Decision::Allow {
                    provider_access: false,
                }
            } else {
                Decision::NotFound
            };
            assert_eq!(authorize(&key, perm, Some(a)), expected, "{perm:?}");
            assert_eq!(authorize(&key, perm, Some(b)), Decision::NotFound);
        }
    }

    #[test]
    fn users_need_a_tenant_exactly_when_their_role_is_a_customer_role() {
        let now = Timestamp::UNIX_EPOCH;
        let u = User::new(
            " Jane@Acme.Example ",
            Role::CustomerAdmin,
            Some(tenant(1)),
            now,
        )
        .expect("ok");
        assert_eq!(u.email, "jane@acme.example");
        assert_eq!(
            User::new("j@acme.example", Role::CustomerReader, None, now),
            Err(InvalidUser::TenantRequired(Role::CustomerReader))
        );
        assert!(User::new("a@p.example", Role::Analyst, Some(tenant(1)), now).is_err());
        assert!(User::new("not-an-email", Role::Analyst, None, now).is_err());
        assert_eq!("customer-reader".parse(), Ok(Role::CustomerReader));
        assert!("root".parse::<Role>().is_err());
    }
}

/// Identifier of an API token.
pub type TokenId = Id<ApiToken>;
/// Identifier of an ingest key.
pub type IngestKeyId = Id<IngestKey>;

/// A user's API token (its secret is shown once and stored only hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Usable at `now`: neither revoked nor expired.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A tenant's key for sending telemetry (stored only hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestKey {
    pub id: IngestKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}
