//! The catalogue: `catalogue.toml`, embedded, parsed and validated once.
//! Adding a check is adding an entry there (and a line in
//! docs/readiness.md); a new kind of measurement is a new [`Evaluate`]
//! variant and its evaluator.

use std::collections::BTreeSet;

use vigil_core::readiness::Category;

/// The shipped catalogue.
pub const BUILTIN: &str = include_str!("../catalogue.toml");

/// Why a catalogue was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("readiness catalogue: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("readiness catalogue: check {id:?}: {problem}")]
    Invalid { id: String, problem: String },
}

/// Thresholds the evaluators share.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub silent_hours: u32,
    pub fresh_hours: u32,
    pub identity_window_days: u32,
    pub inventory_window_days: u32,
    pub activity_window_days: u32,
    pub coverage_target_percent: f64,
    pub clock_skew_minutes: u32,
    pub parse_error_warn_percent: f64,
    pub parse_error_fail_percent: f64,
}

/// One check as the catalogue describes it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub id: String,
    pub category: Category,
    pub title: String,
    pub blocking: bool,
    pub weight: u32,
    /// What the check measures (docs/readiness.md).
    pub measures: String,
    /// Why it matters (docs/readiness.md).
    pub why: String,
    /// How the customer fixes a failure.
    pub remediation: String,
    pub evaluate: Evaluate,
}

/// Which evaluator computes the check, with its parameters.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Evaluate {
    /// Events from any of these streams in the last day.
    Source {
        #[serde(rename = "match")]
        streams: Vec<StreamMatch>,
    },
    DeviceCoverage,
    IdentityCoverage,
    SilentDevices,
    SensorHealth,
    ClockSkew,
    ParseErrors,
    /// Every field of a device's posture has the wanted value.
    DevicePosture {
        fields: Vec<String>,
        want: Want,
    },
    /// The named attack-surface-reduction rules are in block mode.
    AsrRules {
        rules: Vec<AsrRule>,
    },
    /// An identity posture field is true, for the identities selected.
    IdentityPosture {
        field: String,
        only: IdentitySelection,
    },
    /// A tenant setting is present.
    Setting {
        setting: SettingName,
    },
}

/// A stream of telemetry: each given part must equal the event's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamMatch {
    pub shape: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    /// Only events naming an entity of this kind (`process`, `ip`, `file`).
    pub entity: Option<String>,
}

/// A wanted posture value: on, or a mode such as `block`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum Want {
    On(bool),
    Mode(String),
}

/// An ASR rule, by the name snapshots use and Microsoft's GUID.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsrRule {
    pub name: String,
    pub guid: String,
}

/// Which identities an identity posture check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySelection {
    /// Enabled identities.
    Enabled,
    /// Enabled privileged identities.
    Privileged,
    /// Enabled identities with a mailbox.
    Mailbox,
}

/// The settings a `setting` check can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingName {
    IncidentContact,
    IrProvider,
    Authorisation,
    Sla,
    ExclusionsReviewed,
}

/// The whole catalogue.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub limits: Limits,
    #[serde(rename = "check")]
    pub checks: Vec<CheckSpec>,
}

impl Catalogue {
    /// The shipped catalogue. It is validated by a test, so failing here
    /// would be a build defect; the error is still returned, not panicked.
    pub fn builtin() -> Result<Self, CatalogueError> {
        Self::parse(BUILTIN)
    }

    /// Parse and validate a catalogue: unique ids, positive weights,
    /// parameters that make sense.
    pub fn parse(text: &str) -> Result<Self, CatalogueError> {
        let catalogue: Catalogue = toml::from_str(text)?;
        let mut seen = BTreeSet::new();
        for c in &catalogue.checks {
            let bad = |problem: &str| CatalogueError::Invalid {
                id: c.id.clone(),
                problem: problem.to_owned(),
            };
            if c.id.trim().is_empty() || !seen.insert(c.id.as_str()) {
                return Err(bad("the id is empty or used twice"));
            }
            if c.weight == 0 {
                return Err(bad("the weight must be at least 1"));
            }
            if c.remediation.trim().is_empty() || c.why.trim().is_empty() {
                return Err(bad("remediation and why must be written"));
            }
            match &c.evaluate {
                Evaluate::Source { streams } if streams.is_empty() => {
                    return Err(bad("a source check needs at least one stream to match"));
                }
                Evaluate::DevicePosture { fields, .. } if fields.is_empty() => {
                    return Err(bad("a device posture check needs at least one field"));
                }
                Evaluate::AsrRules { rules } if rules.is_empty() => {
                    return Err(bad("an ASR check needs at least one rule"));
                }
                _ => {}
            }
        }
        Ok(catalogue)
    }

    /// How far back the facts must reach for every check.
    pub fn lookback_days(&self) -> u32 {
        self.limits
            .activity_window_days
            .max(self.limits.identity_window_days)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_and_covers_every_category() {
        let c = Catalogue::builtin().expect("catalogue");
        for cat in Category::ALL {
            assert!(
                c.checks.iter().any(|k| k.category == *cat),
                "no check in {cat}"
            );
        }
        assert!(c.checks.len() >= 30, "{}", c.checks.len());
    }

    #[test]
    fn a_duplicate_id_is_refused_with_its_name() {
        let text = BUILTIN.replace("sources.endpoint_network", "sources.endpoint_process");
        let err = Catalogue::parse(&text).expect_err("duplicate");
        assert!(
            err.to_string().contains("sources.endpoint_process"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod docs {
    use super::*;

    /// docs/readiness.md documents every check: its id, what it measures,
    /// why it matters and how to fix it, as the catalogue says.
    #[test]
    fn every_check_is_documented_in_docs_readiness_md() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/readiness.md");
        let doc = std::fs::read_to_string(&path).expect("docs/readiness.md");
        let c = Catalogue::builtin().expect("catalogue");
        for check in &c.checks {
            let heading = format!("#### `{}` — {}", check.id, check.title);
            let at = doc
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/readiness.md lacks {heading:?}"));
            let section = &doc[at..];
            let section = &section[..section[4..].find("\n#").map_or(section.len(), |n| n + 4)];
            for text in [&check.measures, &check.why, &check.remediation] {
                assert!(
                    section.contains(text.as_str()),
                    "{}: {text:?} differs",
                    check.id
                );
            }
        }
    }
}
