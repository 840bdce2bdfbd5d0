//! The knowledge base: entries read from `knowledge.toml`, validated once,
//! and the questions the service asks of it (what does this incident or
//! this failing check raise).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;
use vigil_core::recommendation::RecommendationCategory;

use crate::attack::Attack;
use crate::expr::{Expr, ExprError};

const BUILTIN: &str = include_str!("../knowledge.toml");

/// Impact and effort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
}

/// What raises an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// ATT&CK techniques seen in true-positive incidents; a parent
    /// technique also matches its sub-techniques.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Rule ids (Vigil's pack or SigmaHQ) of the incidents' alerts.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Readiness checks whose failure raises it.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Snapshot fields the verification reads; when the verification
    /// fails on a readiness run, the entry is raised.
    #[serde(default)]
    pub posture: Vec<String>,
}

/// One recommendation of the knowledge base.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub category: RecommendationCategory,
    pub why: String,
    /// Concrete steps, in order.
    pub how: Vec<String>,
    /// ATT&CK mitigation ids (`M1043`).
    pub mitigations: Vec<String>,
    pub impact: Level,
    pub effort: Level,
    pub points: u32,
    pub verification: Option<String>,
    #[serde(default)]
    pub triggers: Triggers,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    recommendation: Vec<Entry>,
}

/// A knowledge base that cannot be used, naming the entry and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KbError {
    #[error("knowledge base: {0}")]
    Syntax(String),
    #[error("knowledge base entry {id:?}: {problem}")]
    Invalid { id: String, problem: String },
    #[error(transparent)]
    Expr(#[from] ExprError),
}

/// Why an entry was raised: the entry and the trigger that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    pub entry: &'a Entry,
    /// `technique T1003.001`, `rule 5ef9…`, `check protection.lsass`.
    pub reason: String,
}

/// The validated knowledge base with its ATT&CK table and parsed
/// verifications.
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub entries: Vec<Entry>,
    pub attack: Attack,
    exprs: Vec<Option<Expr>>,
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Knowledge {
    /// The knowledge base shipped with Vigil, parsed once. A test validates
    /// it, so an error here is a build defect; it is still returned.
    pub fn builtin() -> Result<&'static Knowledge, KbError> {
        static KB: OnceLock<Result<Knowledge, KbError>> = OnceLock::new();
        KB.get_or_init(|| {
            let attack = Attack::builtin().map_err(|e| KbError::Syntax(e.to_string()))?;
            Knowledge::parse(BUILTIN, attack)
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Parse and validate: unique ids under their category, every field
    /// written, known ATT&CK ids, at least one trigger, rule ids as UUIDs,
    /// a verification that parses and reads only the posture fields its
    /// triggers list.
    pub fn parse(text: &str, attack: Attack) -> Result<Knowledge, KbError> {
        let file: File = toml::from_str(text).map_err(|e| KbError::Syntax(e.to_string()))?;
        let mut seen = BTreeSet::new();
        let mut exprs = Vec::with_capacity(file.recommendation.len());
        for e in &file.recommendation {
            let bad = |problem: String| KbError::Invalid {
                id: e.id.clone(),
                problem,
            };
            if !seen.insert(e.id.as_str()) {
                return Err(bad("the id is used twice".into()));
            }
            if !e.id.starts_with(&format!("{}.", e.category)) {
                return Err(bad(format!("the id must start with {}.", e.category)));
            }
            if e.title.trim().is_empty() || e.why.trim().is_empty() {
                return Err(bad("title and why must be written".into()));
            }
            if e.how.is_empty() || e.how.iter().any(|s| s.trim().is_empty()) {
                return Err(bad("how to fix needs at least one written step".into()));
            }
            if e.points == 0 || e.points > 100 {
                return Err(bad(format!("points {} is not 1 to 100", e.points)));
            }
            if e.mitigations.is_empty() {
                return Err(bad("name at least one ATT&CK mitigation".into()));
            }
            for m in &e.mitigations {
                if attack.mitigation(m).is_none() {
                    return Err(bad(format!("mitigation {m} is not in attack.toml")));
                }
            }
            let t = &e.triggers;
            if t.techniques.is_empty()
                && t.rules.is_empty()
                && t.checks.is_empty()
                && t.posture.is_empty()
            {
                return Err(bad("it has no trigger".into()));
            }
            for id in &t.techniques {
                if attack.technique(id).is_none() {
                    return Err(bad(format!("technique {id} is not in attack.toml")));
                }
            }
            if let Some(r) = t.rules.iter().find(|r| !is_uuid(r)) {
                return Err(bad(format!("rule id {r:?} is not a UUID")));
            }
            if let Some(c) = t.checks.iter().find(|c| !c.contains('.')) {
                return Err(bad(format!("check id {c:?} is not of the form area.name")));
            }
            let expr = e.verification.as_deref().map(Expr::parse).transpose()?;
            if let Some(x) = &expr {
                for f in x.fields() {
                    if !t.posture.contains(&f) {
                        return Err(bad(format!(
                            "the verification reads {f}, which triggers.posture does not list"
                        )));
                    }
                }
            } else if !t.posture.is_empty() {
                return Err(bad("posture triggers need a verification".into()));
            }
            exprs.push(expr);
        }
        Ok(Knowledge {
            entries: file.recommendation,
            attack,
            exprs,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// An entry's parsed verification.
    pub fn verification(&self, id: &str) -> Option<&Expr> {
        let i = self.entries.iter().position(|e| e.id == id)?;
        self.exprs.get(i)?.as_ref()
    }

    /// Entries an incident raises: by its techniques (a trigger's parent
    /// technique matches a sub-technique) or the rules of its alerts.
    pub fn for_incident(&self, techniques: &[String], rules: &[String]) -> Vec<Match<'_>> {
        let mut out = Vec::new();
        for e in &self.entries {
            let by_technique = techniques.iter().find_map(|seen| {
                e.triggers
                    .techniques
                    .iter()
                    .find(|t| {
                        seen.eq_ignore_ascii_case(t)
                            || seen
                                .to_ascii_uppercase()
                                .strip_prefix(&t.to_ascii_uppercase())
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
                    .map(|_| format!("technique {}", seen.to_ascii_uppercase()))
            });
            let reason = by_technique.or_else(|| {
                rules.iter().find_map(|r| {
                    e.triggers
                        .rules
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(r))
                        .then(|| format!("rule {r}"))
                })
            });
            if let Some(reason) = reason {
                out.push(Match { entry: e, reason });
            }
        }
        out
    }

    /// Entries failing readiness checks raise.
    pub fn for_checks(&self, failing: &[&str]) -> Vec<Match<'_>> {
        self.entries
            .iter()
            .filter_map(|e| {
                failing
                    .iter()
                    .find(|c| e.triggers.checks.iter().any(|t| t == *c))
                    .map(|c| Match {
                        entry: e,
                        reason: format!("check {c}"),
                    })
            })
            .collect()
    }

    /// Entries with posture triggers (raised when their verification fails).
    pub fn with_posture_triggers(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| !e.triggers.posture.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_knowledge_base_loads_with_at_least_forty_entries_in_every_category() {
        let kb = Knowledge::builtin().expect("knowledge base");
        assert!(kb.entries.len() >= 40, "{}", kb.entries.len());
        for c in RecommendationCategory::ALL {
            assert!(
                kb.entries.iter().filter(|e| e.category == *c).count() >= 5,
                "{c}"
            );
        }
    }

    #[test]
    fn credential_dumping_raises_lsass_protection_and_a_parent_technique_matches_children() {
        let kb = Knowledge::builtin().expect("knowledge base");
        let m = kb.for_incident(&["T1003.001".into()], &[]);
        let ids: Vec<&str> = m.iter().map(|m| m.entry.id.as_str()).collect();
        assert!(ids.contains(&"device.lsass_protection"), "{ids:?}");
        assert_eq!(m[0].reason, "technique T1003.001");
        // `T1003` on identity.protect_privileged_accounts matches T1003.001.
        assert!(ids.contains(&"identity.protect_privileged_accounts"));
        let by_rule = kb.for_incident(&[], &["5EF9853E-4D0E-4A70-846F-A9CA37D876DA".into()]);
        assert!(
            by_rule
                .iter()
                .any(|m| m.entry.id == "device.lsass_protection")
        );
        assert!(kb.for_incident(&["T10030".into()], &[]).is_empty());
        let checks = kb.for_checks(&["protection.lsass"]);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].reason, "check protection.lsass");
    }

    #[test]
    fn a_bad_entry_is_refused_naming_it_and_the_problem() {
        let attack = Attack::builtin().expect("attack");
        let base = r#"[[recommendation]]
id = "device.x"
title = "t"
category = "device"
why = "w"
how = ["h"]
mitigations = ["M1043"]
impact = "low"
effort = "low"
points = 1
"#;
        for (extra, want) in [
            (
                "[recommendation.triggers]\ntechniques = [\"T9999\"]\n",
                "T9999 is not in attack.toml",
            ),
            ("", "no trigger"),
            (
                "[recommendation.triggers]\nrules = [\"abc\"]\n",
                "not a UUID",
            ),
            (
                "verification = \"all(device.y)\"\n[recommendation.triggers]\nposture = [\"device.z\"]\n",
                "reads device.y",
            ),
        ] {
            let e = Knowledge::parse(&format!("{base}{extra}"), attack.clone())
                .expect_err(want)
                .to_string();
            assert!(e.contains("device.x") && e.contains(want), "{e}");
        }
    }
}
