//! SLA policy: per severity, how long the customer has to acknowledge a
//! published response and to complete its tasks (PRODUCT.md §3).

use jiff::SignedDuration;

use crate::Severity;

/// Time to acknowledge and time to complete, for one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlaTargets {
    #[serde(with = "friendly")]
    pub acknowledge: SignedDuration,
    #[serde(with = "friendly")]
    pub complete: SignedDuration,
}

impl SlaTargets {
    pub const fn hours(acknowledge: i64, complete: i64) -> Self {
        SlaTargets {
            acknowledge: SignedDuration::from_hours(acknowledge),
            complete: SignedDuration::from_hours(complete),
        }
    }
}

/// The SLA per severity. Informational responses use the low targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    pub critical: SlaTargets,
    pub high: SlaTargets,
    pub medium: SlaTargets,
    pub low: SlaTargets,
}

impl Default for SlaPolicy {
    /// High 1 h / 4 h, medium 4 h / 24 h, low 24 h / 72 h; critical as high.
    fn default() -> Self {
        SlaPolicy {
            critical: SlaTargets::hours(1, 4),
            high: SlaTargets::hours(1, 4),
            medium: SlaTargets::hours(4, 24),
            low: SlaTargets::hours(24, 72),
        }
    }
}

impl SlaPolicy {
    pub fn for_severity(&self, severity: Severity) -> SlaTargets {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low | Severity::Informational => self.low,
        }
    }

    pub fn for_severity_mut(&mut self, severity: Severity) -> &mut SlaTargets {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low | Severity::Informational => &mut self.low,
        }
    }
}

/// Parse a friendly duration: `30m`, `4h`, `1h 30m`, `2d` (a day is 24 h).
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let span: jiff::Span = text
        .trim()
        .parse()
        .map_err(|e| format!("{text:?} is not a duration like 30m, 4h or 2d: {e}"))?;
    if span.get_months() != 0 || span.get_years() != 0 {
        return Err(format!(
            "{text:?}: months and years have no fixed length; use days"
        ));
    }
    span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("{text:?}: {e}"))
}

/// Durations as friendly text (`1h`, `4h 30m`) in stored and shown settings.
mod friendly {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{d:#}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_matches_the_product_brief() {
        let p = SlaPolicy::default();
        assert_eq!(p.for_severity(Severity::High), SlaTargets::hours(1, 4));
        assert_eq!(p.for_severity(Severity::Medium), SlaTargets::hours(4, 24));
        assert_eq!(p.for_severity(Severity::Low), SlaTargets::hours(24, 72));
        assert_eq!(
            p.for_severity(Severity::Informational),
            SlaTargets::hours(24, 72)
        );
    }

    #[test]
    fn durations_parse_in_minutes_hours_and_days() {
        assert_eq!(parse_duration("30m"), Ok(SignedDuration::from_mins(30)));
        assert_eq!(parse_duration("1h 30m"), Ok(SignedDuration::from_mins(90)));
        assert_eq!(parse_duration("2d"), Ok(SignedDuration::from_hours(48)));
        assert!(parse_duration("1mo").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn policy_serialises_durations_as_friendly_text() {
        let json = serde_json::to_value(SlaPolicy::default()).expect("json");
        assert_eq!(json["high"]["acknowledge"], "1h");
        assert_eq!(json["low"]["complete"], "72h");
        let back: SlaPolicy = serde_json::from_value(json).expect("back");
        assert_eq!(back, SlaPolicy::default());
    }
}
