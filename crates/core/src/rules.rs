//! Detection rules as the service manages them: packs, per-tenant
//! enablement and tuning exclusions.

use crate::{Entity, EntityKind, Severity, TenantId, Timestamp};

/// A rule in a pack, summarised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleSummary {
    pub id: String,
    pub pack: String,
    pub path: String,
    pub title: String,
    pub level: Severity,
    /// `detection` or `correlation`.
    pub kind: &'static str,
}

/// A file of a pack as added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    pub pack: String,
    pub path: String,
    pub yaml: String,
}

/// What an exclusion compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "on", content = "name")]
pub enum Matcher {
    /// An event field, by name (case-insensitive).
    Field(String),
    /// An entity of the event, by kind.
    Entity(EntityKind),
}

impl Matcher {
    /// `field:NAME` or `entity:KIND`.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        match text.split_once(':') {
            Some(("field", name)) if !name.trim().is_empty() => {
                Ok(Matcher::Field(name.trim().to_owned()))
            }
            Some(("entity", kind)) => kind.parse().map(Matcher::Entity).map_err(|e| e.to_string()),
            _ => Err(format!(
                "{text:?}: expected field:NAME (an event field) or entity:KIND (e.g. entity:device)"
            )),
        }
    }

    pub fn to_text(&self) -> String {
        match self {
            Matcher::Field(name) => format!("field:{name}"),
            Matcher::Entity(kind) => format!("entity:{kind}"),
        }
    }
}

/// Matches a tenant does not want alerted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exclusion {
    pub id: i64,
    pub tenant_id: TenantId,
    /// `None`: every rule.
    pub rule_id: Option<String>,
    pub matcher: Matcher,
    /// Compared case-insensitively with the whole value.
    pub value: String,
    pub reason: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

impl Exclusion {
    /// Whether this exclusion silences `rule_id`'s match on an event with
    /// these field values and entities.
    pub fn silences<'a>(
        &self,
        rule_id: &str,
        field: impl Fn(&str) -> Option<&'a str>,
        entities: &[Entity],
    ) -> bool {
        if self.rule_id.as_deref().is_some_and(|r| r != rule_id) {
            return false;
        }
        match &self.matcher {
            Matcher::Field(name) => {
                field(name).is_some_and(|v| v.eq_ignore_ascii_case(&self.value))
            }
            Matcher::Entity(kind) => entities
                .iter()
                .any(|e| e.kind == *kind && e.value.eq_ignore_ascii_case(&self.value)),
        }
    }
}

/// A tenant's tuning: rules turned off, and exclusions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tuning {
    pub disabled: std::collections::BTreeSet<String>,
    pub exclusions: Vec<Exclusion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exclusion(rule: Option<&str>, matcher: &str, value: &str) -> Exclusion {
        Exclusion {
            id: 1,
            tenant_id: crate::Id::new_at(Timestamp::UNIX_EPOCH),
            rule_id: rule.map(str::to_owned),
            matcher: Matcher::parse(matcher).expect("matcher"),
            value: value.into(),
            reason: "known admin tool".into(),
            created_at: Timestamp::UNIX_EPOCH,
            created_by: "analyst@mdr.example".into(),
        }
    }

    #[test]
    fn an_exclusion_silences_its_rule_where_the_field_or_entity_has_its_value() {
        let fields = |name: &str| (name == "Image").then_some("C:\\Tools\\PsExec.exe");
        let entities = [Entity::new(EntityKind::Device, "ws1")];
        let by_field = exclusion(Some("r1"), "field:Image", "c:\\tools\\psexec.exe");
        assert!(by_field.silences("r1", fields, &entities));
        assert!(!by_field.silences("r2", fields, &entities), "another rule");
        let by_entity = exclusion(None, "entity:device", "WS1");
        assert!(by_entity.silences("any", fields, &entities), "every rule");
        let other = exclusion(None, "entity:device", "ws2");
        assert!(!other.silences("any", fields, &entities));
    }

    #[test]
    fn matchers_parse_from_their_text_and_bad_ones_say_what_is_expected() {
        assert_eq!(
            Matcher::parse("field:CommandLine"),
            Ok(Matcher::Field("CommandLine".into()))
        );
        assert_eq!(
            Matcher::parse("entity:user"),
            Ok(Matcher::Entity(EntityKind::User))
        );
        assert!(Matcher::parse("image").is_err_and(|e| e.contains("field:NAME")));
        assert!(Matcher::parse("entity:printer").is_err());
    }
}
