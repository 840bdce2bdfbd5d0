//! Tenant use cases: create, read, change settings, move through the lifecycle.

use serde_json::json;
use vigil_core::audit::AuditEntry;
use vigil_core::identity::{Decision, Permission, Principal, authorize};
use vigil_core::readiness::Trigger;
use vigil_core::tenant::{
    AppliedChange, Lifecycle, ReadinessGate, SettingChange, Tenant, TenantName, TenantSlug,
};

use crate::{Result, Service, ServiceError};

/// How often a change is retried when another writer got there first.
const CONFLICT_RETRIES: usize = 3;

impl Service {
    pub async fn create_tenant(&self, p: &Principal, slug: &str, name: &str) -> Result<Tenant> {
        self.authorize(p, Permission::CreateTenant, None, false)
            .await?;
        let slug = TenantSlug::parse(slug)?;
        let name = TenantName::parse(name)?;
        let now = self.clock.now();
        let tenant = Tenant::new(slug, name, now);
        let audit = AuditEntry::new(
            now,
            &p.actor(),
            "tenant.create",
            Some(tenant.id),
            target(&tenant),
            json!({"slug": tenant.slug, "name": tenant.name, "lifecycle": tenant.lifecycle}),
        );
        self.store.insert_tenant(&tenant, audit).await?;
        tracing::info!(tenant = %tenant.slug, id = %tenant.id, "tenant created");
        Ok(tenant)
    }

    /// The tenants the principal may see.
    pub async fn list_tenants(&self, p: &Principal) -> Result<Vec<Tenant>> {
        if let Principal::IngestKey { .. } = p {
            // A key may send telemetry and nothing else, not even list.
            return Err(ServiceError::NotFound {
                what: "tenant",
                key: String::new(),
            });
        }
        let all = self.store.list_tenants().await?;
        Ok(all
            .into_iter()
            .filter(|t| {
                matches!(
                    authorize(p, Permission::ReadTenant, Some(t.id)),
                    Decision::Allow { .. }
                )
            })
            .collect())
    }

    /// One tenant, if the principal may see it.
    pub async fn tenant(&self, p: &Principal, slug: &str) -> Result<Tenant> {
        let tenant = self.load_tenant(slug).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        Ok(tenant)
    }

    /// A tenant by slug, without authorisation (internal).
    pub(crate) async fn load_tenant(&self, slug: &str) -> Result<Tenant> {
        let slug = TenantSlug::parse(slug)?;
        self.store
            .tenant_by_slug(&slug)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                what: "tenant",
                key: slug.to_string(),
            })
    }

    /// Apply `changes` together; all or nothing. Returns the tenant after the
    /// change and what each change did.
    pub async fn update_tenant(
        &self,
        p: &Principal,
        slug: &str,
        changes: &[SettingChange],
    ) -> Result<(Tenant, Vec<AppliedChange>)> {
        let tenant = self.load_tenant(slug).await?;
        for change in changes {
            self.authorize(p, change.permission(), Some(&tenant), false)
                .await?;
        }
        if changes.is_empty() {
            return Err(ServiceError::InvalidSetting(
                vigil_core::tenant::SettingsError::Invalid {
                    setting: "settings",
                    reason: "no change given".into(),
                },
            ));
        }
        self.modify(p, slug, |tenant, now| {
            let applied = tenant.apply(changes, now)?;
            let details = json!({ "changes": applied });
            Ok(("tenant.settings", details, applied))
        })
        .await
    }

    /// Move the tenant through its lifecycle. `override_reason` lifts the
    /// time guards and is recorded in the audit log.
    pub async fn transition_tenant(
        &self,
        p: &Principal,
        slug: &str,
        to: Lifecycle,
        override_reason: Option<&str>,
    ) -> Result<Tenant> {
        let current = self.load_tenant(slug).await?;
        self.authorize(
            p,
            current.lifecycle.permission_to(to),
            Some(&current),
            false,
        )
        .await?;
        // Monitoring starts only when a fresh assessment has no blocking
        // failure, or a provider admin overrides it with a reason.
        let gate = if current.lifecycle == Lifecycle::Onboarding && to == Lifecycle::Monitoring {
            let a = self.assess(&current, Trigger::Onboarding, p).await?;
            Some((
                ReadinessGate {
                    blocking_failures: a
                        .blocking_failures()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    may_override: may_override_readiness(p),
                },
                a.id,
                a.score,
            ))
        } else {
            None
        };
        let (tenant, ()) = self
            .modify(p, slug, |tenant, now| {
                let from = tenant.lifecycle;
                tenant
                    .transition_gated(to, now, override_reason, gate.as_ref().map(|g| &g.0))
                    .map_err(|reason| ServiceError::TransitionRefused {
                        slug: tenant.slug.to_string(),
                        reason,
                    })?;
                let mut details =
                    json!({"from": from, "to": to, "override_reason": override_reason});
                if let Some((g, id, score)) = &gate {
                    details["readiness"] = json!({
                        "assessment": id,
                        "score": score,
                        "blocking_failures": g.blocking_failures,
                        "overridden": !g.blocking_failures.is_empty(),
                    });
                }
                Ok(("tenant.transition", details, ()))
            })
            .await?;
        tracing::info!(tenant = %tenant.slug, lifecycle = %tenant.lifecycle, "tenant lifecycle changed");
        Ok(tenant)
    }

    /// Load, change and save a tenant with its audit record, retrying when a
    /// concurrent writer changed the tenant in between.
    async fn modify<T>(
        &self,
        p: &Principal,
        slug: &str,
        mut change: impl FnMut(
            &mut Tenant,
            vigil_core::Timestamp,
        ) -> Result<(&'static str, serde_json::Value, T)>,
    ) -> Result<(Tenant, T)> {
        let mut attempt = 0;
        loop {
            let mut tenant = self.load_tenant(slug).await?;
            let expected = tenant.version;
            let now = self.clock.now();
            let (action, details, out) = change(&mut tenant, now)?;
            let audit = AuditEntry::new(
                now,
                &p.actor(),
                action,
                Some(tenant.id),
                target(&tenant),
                details,
            );
            match self.store.update_tenant(&tenant, expected, audit).await {
                Ok(_) => return Ok((tenant, out)),
                Err(vigil_store::StoreError::Conflict { .. }) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tracing::debug!(
                        tenant = slug,
                        attempt,
                        "tenant changed concurrently; retrying"
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Only a provider admin (or the server's operator) may start monitoring
/// despite blocking readiness failures.
fn may_override_readiness(p: &Principal) -> bool {
    matches!(
        p,
        Principal::Operator(_)
            | Principal::User {
                role: vigil_core::identity::Role::ProviderAdmin,
                ..
            }
    )
}

fn target(t: &Tenant) -> String {
    format!("tenant:{}", t.slug)
}
