//! Incidents: alerts grouped as they arrive (`vigil-incidents` decides,
//! the store keeps), and reading them.

use std::collections::BTreeMap;

use vigil_core::alert::{Alert, AlertFilter};
use vigil_core::identity::{Permission, Principal};
use vigil_core::incident::IncidentId;
use vigil_core::{TenantId, Timestamp};
use vigil_incidents::{CorrelationConfig, Prevalence, Target, apply, place};
use vigil_store::{IncidentActivity, IncidentFilter, IncidentRecord};

use crate::{Result, Service, ServiceError};

/// Alerts grouped per round.
const ROUND: u32 = 1000;

/// The most incidents one page holds.
pub const MAX_INCIDENT_PAGE: u32 = 200;

/// One incident as read: its record, its alerts and its activity log.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub record: IncidentRecord,
    pub alerts: Vec<Alert>,
    pub activity: Vec<IncidentActivity>,
}

impl Service {
    /// Place every alert no incident holds yet. Returns how many were
    /// placed. Run after each detection round; an interrupted run leaves
    /// alerts unplaced, and the next run places them.
    pub async fn correlate_alerts(&self) -> Result<u64> {
        let mut placed_total = 0;
        loop {
            let alerts = self.store.alerts_without_incident(ROUND).await?;
            if alerts.is_empty() {
                return Ok(placed_total);
            }
            let mut by_tenant: BTreeMap<TenantId, Vec<Alert>> = BTreeMap::new();
            for a in alerts {
                by_tenant.entry(a.tenant_id).or_default().push(a);
            }
            for (tenant, alerts) in by_tenant {
                placed_total += self.correlate_tenant(tenant, alerts).await?;
            }
        }
    }

    async fn correlate_tenant(&self, tenant: TenantId, alerts: Vec<Alert>) -> Result<u64> {
        let config = CorrelationConfig::default();
        let mut incidents = self.store.open_incidents(tenant).await?;
        // How widely each entity is seen: from the tenant's recent alerts.
        let since = alerts
            .iter()
            .map(|a| a.first_activity)
            .min()
            .and_then(|t| t.checked_sub(config.window).ok());
        let recent = self
            .store
            .list_alerts(
                tenant,
                &AlertFilter {
                    since,
                    limit: 5000,
                    ..Default::default()
                },
            )
            .await?;
        let prevalence = Prevalence::observe(recent.iter().map(|a| a.entities.as_slice()));
        let now = self.clock.now();
        let mut placed = Vec::with_capacity(alerts.len());
        let mut activity = Vec::new();
        let mut touched: Vec<IncidentId> = Vec::new();
        for alert in &alerts {
            let placement = place(alert, &incidents, &prevalence, &config);
            let fresh = IncidentId::new_at(now);
            let target = apply(&mut incidents, alert, &placement, fresh)
                .map_err(|e| ServiceError::Conflict(format!("incident correlation: {e}")))?;
            placed.push((alert.id, target));
            let action = match placement.target {
                Target::New => "opened",
                Target::Existing(_) => "alert_added",
            };
            activity.push(entry(
                target,
                now,
                action,
                &format!(
                    "alert {} ({}): {}",
                    alert.id, alert.rule_title, placement.reason
                ),
            ));
            for merged in &placement.merge {
                activity.push(entry(
                    target,
                    now,
                    "merged",
                    &format!(
                        "incident {merged} merged into this one: {}",
                        placement.reason
                    ),
                ));
                activity.push(entry(
                    *merged,
                    now,
                    "merged_into",
                    &format!("merged into incident {target}: {}", placement.reason),
                ));
                touched.push(*merged);
            }
            touched.push(target);
        }
        touched.sort();
        touched.dedup();
        let changed: Vec<_> = incidents
            .into_iter()
            .filter(|i| touched.binary_search(&i.id).is_ok())
            .collect();
        self.store
            .save_correlation(&changed, &placed, &activity, now)
            .await?;
        metrics::counter!("vigil_incident_alerts_placed_total").increment(placed.len() as u64);
        Ok(placed.len() as u64)
    }

    /// A tenant's incidents, newest activity first.
    pub async fn list_incidents(
        &self,
        p: &Principal,
        tenant: &str,
        mut filter: IncidentFilter,
    ) -> Result<Vec<IncidentRecord>> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        filter.limit = filter.limit.clamp(1, MAX_INCIDENT_PAGE);
        Ok(self.store.list_incidents(tenant.id, &filter).await?)
    }

    /// One incident with its alerts and activity log.
    pub async fn incident(
        &self,
        p: &Principal,
        tenant: &str,
        id: IncidentId,
    ) -> Result<IncidentView> {
        let tenant = self.load_tenant(tenant).await?;
        self.authorize(p, Permission::ReadTenant, Some(&tenant), true)
            .await?;
        let (record, alert_ids, activity) =
            self.store
                .incident(tenant.id, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    what: "incident",
                    key: id.to_string(),
                })?;
        let mut alerts = Vec::with_capacity(alert_ids.len());
        for a in alert_ids {
            if let Some((alert, _)) = self.store.alert(tenant.id, a).await? {
                alerts.push(alert);
            }
        }
        Ok(IncidentView {
            record,
            alerts,
            activity,
        })
    }
}

fn entry(incident: IncidentId, at: Timestamp, action: &str, details: &str) -> IncidentActivity {
    IncidentActivity {
        incident,
        at,
        actor: "system".to_owned(),
        action: action.to_owned(),
        details: details.to_owned(),
    }
}
