//! The investigation summary (PRODUCT.md §8): a structured, versioned
//! document per incident. Vigil drafts it from the evidence; an analyst
//! edits and publishes; drafts never reach customer roles.

use crate::Timestamp;
use crate::incident::IncidentId;

/// The sections of a summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub what_happened: String,
    pub scope_and_impact: String,
    pub root_cause: String,
    #[serde(default)]
    pub timeline_highlights: Vec<String>,
    /// Indicators of compromise, as `kind:value`.
    #[serde(default)]
    pub indicators: Vec<String>,
    #[serde(default)]
    pub expert_actions: Vec<String>,
    #[serde(default)]
    pub customer_actions: Vec<String>,
}

/// Longest text of one section.
pub const MAX_SECTION_CHARS: usize = 30_000;
/// Most entries of one list section.
pub const MAX_LIST_ENTRIES: usize = 200;

impl Summary {
    /// Refuse an empty `what_happened`, an over-long section or list,
    /// naming the section.
    pub fn validate(&self) -> Result<(), String> {
        if self.what_happened.trim().is_empty() {
            return Err("what_happened: say what happened".into());
        }
        for (name, text) in [
            ("what_happened", &self.what_happened),
            ("scope_and_impact", &self.scope_and_impact),
            ("root_cause", &self.root_cause),
        ] {
            if text.chars().count() > MAX_SECTION_CHARS {
                return Err(format!("{name}: more than {MAX_SECTION_CHARS} characters"));
            }
        }
        for (name, list) in [
            ("timeline_highlights", &self.timeline_highlights),
            ("indicators", &self.indicators),
            ("expert_actions", &self.expert_actions),
            ("customer_actions", &self.customer_actions),
        ] {
            if list.len() > MAX_LIST_ENTRIES {
                return Err(format!("{name}: more than {MAX_LIST_ENTRIES} entries"));
            }
            if let Some(i) = list
                .iter()
                .position(|e| e.chars().count() > MAX_SECTION_CHARS)
            {
                return Err(format!(
                    "{name}[{i}]: more than {MAX_SECTION_CHARS} characters"
                ));
            }
        }
        Ok(())
    }
}

/// One stored version of an incident's summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SummaryVersion {
    pub incident: IncidentId,
    /// 1, 2, … in order of saving.
    pub version: i64,
    /// A draft is the analysts' working copy; customers see only published
    /// versions.
    pub published: bool,
    pub summary: Summary,
    pub author: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_needs_what_happened_and_names_the_section_that_is_too_long() {
        let mut s = Summary::default();
        assert!(s.validate().is_err_and(|e| e.starts_with("what_happened")));
        s.what_happened = "Credential theft on ws1".into();
        assert!(s.validate().is_ok());
        s.customer_actions = vec!["x".repeat(MAX_SECTION_CHARS + 1)];
        assert_eq!(
            s.validate(),
            Err(format!(
                "customer_actions[0]: more than {MAX_SECTION_CHARS} characters"
            ))
        );
    }
}
