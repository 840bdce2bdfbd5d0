//! The readiness assessment's vocabulary (PRODUCT.md §4): checks, their
//! results and one assessment of a tenant. The catalogue and the
//! evaluators live in `vigil-readiness`; the facts they read are gathered
//! by the service from the store. Results are stored as JSON in this serde
//! shape (a storage format: change it only with a migration).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::{Id, TenantId, Timestamp};

/// Identifier of one assessment run.
pub type AssessmentId = Id<Assessment>;

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!(
                        "unknown {} {s:?}: expected {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    ))
            }
        }
    };
}

words!(
    /// The five groups of checks in PRODUCT.md §4.
    Category {
        DataSources => "data_sources",
        AssetCoverage => "asset_coverage",
        SensorHealth => "sensor_health",
        ProtectionBaseline => "protection_baseline",
        ServiceSettings => "service_settings",
    }
);

words!(
    /// A check's outcome.
    CheckStatus {
        Pass => "pass",
        Warn => "warn",
        Fail => "fail",
        NotApplicable => "not_applicable",
    }
);

words!(
    /// What started an assessment.
    Trigger {
        Schedule => "schedule",
        OnDemand => "on_demand",
        Onboarding => "onboarding",
    }
);

/// What a check measured: a sentence, the numbers, and the assets behind
/// the status (uncovered devices, devices with tamper protection off, …).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// One line for people: "47 of 50 devices (94.0%) sent telemetry …".
    pub summary: String,
    /// The numbers, by name (`covered`, `inventory`, `percent`, `target`).
    #[serde(default)]
    pub measured: BTreeMap<String, f64>,
    /// The assets behind a warning or failure, at most [`Evidence::MAX_ASSETS`].
    #[serde(default)]
    pub assets: Vec<String>,
    /// How many more assets there were than are listed.
    #[serde(default)]
    pub more_assets: usize,
}

impl Evidence {
    /// Assets listed per check; the rest are counted in `more_assets`.
    pub const MAX_ASSETS: usize = 200;

    pub fn new(summary: impl Into<String>) -> Self {
        Evidence {
            summary: summary.into(),
            ..Evidence::default()
        }
    }

    /// Add a measured number.
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.measured.insert(name.to_owned(), value);
        self
    }

    /// Name the assets behind the status (sorted, capped).
    pub fn with_assets(mut self, mut assets: Vec<String>) -> Self {
        assets.sort();
        assets.dedup();
        if assets.len() > Self::MAX_ASSETS {
            self.more_assets = assets.len() - Self::MAX_ASSETS;
            assets.truncate(Self::MAX_ASSETS);
        }
        self.assets = assets;
        self
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    /// Stable id from the catalogue (`sources.endpoint_process`).
    pub id: String,
    pub category: Category,
    pub title: String,
    pub status: CheckStatus,
    /// A failure of a blocking check means the tenant is not ready.
    pub blocking: bool,
    /// The check's share of the score.
    pub weight: u32,
    pub evidence: Evidence,
    /// What the customer should do, written for them.
    pub remediation: String,
}

impl CheckResult {
    pub fn is_blocking_failure(&self) -> bool {
        self.blocking && self.status == CheckStatus::Fail
    }
}

/// One run of the assessment over one tenant.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Assessment {
    pub id: AssessmentId,
    pub tenant_id: TenantId,
    pub run_at: Timestamp,
    pub trigger: Trigger,
    /// Weighted share of passing checks, 0 to 100 (see [`score`]).
    pub score: f64,
    /// No blocking check fails.
    pub ready: bool,
    pub checks: Vec<CheckResult>,
}

impl Assessment {
    /// Build an assessment from check results: the score and `ready` follow
    /// from them.
    pub fn new(
        tenant_id: TenantId,
        run_at: Timestamp,
        trigger: Trigger,
        checks: Vec<CheckResult>,
    ) -> Self {
        Assessment {
            id: AssessmentId::new_at(run_at),
            tenant_id,
            run_at,
            trigger,
            score: score(&checks),
            ready: !checks.iter().any(CheckResult::is_blocking_failure),
            checks,
        }
    }

    /// The ids of the checks that fail.
    pub fn failing(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| c.id.as_str())
            .collect()
    }

    /// The ids of the blocking checks that fail.
    pub fn blocking_failures(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.is_blocking_failure())
            .map(|c| c.id.as_str())
            .collect()
    }
}

/// Weighted share of passing checks, 0 to 100, one decimal: a pass counts
/// its whole weight, a warning half, a failure nothing; checks that do not
/// apply are left out. No applicable check scores 0.
pub fn score(checks: &[CheckResult]) -> f64 {
    let (mut earned, mut total) = (0u64, 0u64);
    for c in checks {
        let w = u64::from(c.weight) * 2;
        match c.status {
            CheckStatus::Pass => earned += w,
            CheckStatus::Warn => earned += w / 2,
            CheckStatus::Fail => {}
            CheckStatus::NotApplicable => continue,
        }
        total += w;
    }
    if total == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let percent = earned as f64 * 100.0 / total as f64;
    (percent * 10.0).round() / 10.0
}

/// Per tenant: when the next scheduled assessment is due, and which
/// failing checks have already been notified (so a regression notifies
/// once, not on every run).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadinessState {
    pub next_due: Option<Timestamp>,
    pub notified: Vec<String>,
}

/// Telemetry from one source within the assessment's look-back: events
/// grouped by shape, logsource and (for endpoint activity) an entity kind
/// the events name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamActivity {
    pub shape: String,
    pub product: Option<String>,
    pub service: Option<String>,
    /// `Some("process")`: only events naming a process; `None`: all events.
    pub entity: Option<String>,
    /// Events whose time is within the last 24 hours.
    pub events_last_day: u64,
    pub last_event: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, status: CheckStatus, blocking: bool, weight: u32) -> CheckResult {
        CheckResult {
            id: id.into(),
            category: Category::ServiceSettings,
            title: id.into(),
            status,
            blocking,
            weight,
            evidence: Evidence::default(),
            remediation: String::new(),
        }
    }

    #[test]
    fn the_score_weighs_passes_fully_warnings_half_and_skips_what_does_not_apply() {
        let checks = [
            check("a", CheckStatus::Pass, false, 3),
            check("b", CheckStatus::Warn, false, 2),
            check("c", CheckStatus::Fail, false, 1),
            check("d", CheckStatus::NotApplicable, true, 10),
        ];
        // (3 + 1) / 6
        assert!((score(&checks) - 66.7).abs() < 1e-9);
        assert!(score(&[]).abs() < 1e-9);
    }

    #[test]
    fn a_blocking_failure_makes_the_tenant_not_ready_and_a_warning_does_not() {
        let at: Timestamp = "2026-11-27T12:00:00Z".parse().expect("time");
        let tenant = TenantId::new_at(at);
        let a = Assessment::new(
            tenant,
            at,
            Trigger::OnDemand,
            vec![
                check("a", CheckStatus::Warn, true, 1),
                check("b", CheckStatus::Fail, false, 1),
            ],
        );
        assert!(a.ready);
        assert_eq!(a.failing(), ["b"]);
        let b = Assessment::new(
            tenant,
            at,
            Trigger::OnDemand,
            vec![check("a", CheckStatus::Fail, true, 1)],
        );
        assert!(!b.ready);
        assert_eq!(b.blocking_failures(), ["a"]);
    }

    #[test]
    fn evidence_lists_assets_sorted_once_and_counts_the_rest() {
        let many: Vec<String> = (0..205).map(|i| format!("h{i:03}")).collect();
        let mut with_dup = many.clone();
        with_dup.push("h000".into());
        let e = Evidence::new("x").with_assets(with_dup);
        assert_eq!(e.assets.len(), Evidence::MAX_ASSETS);
        assert_eq!(e.more_assets, 5);
        assert_eq!(e.assets[0], "h000");
    }
}
