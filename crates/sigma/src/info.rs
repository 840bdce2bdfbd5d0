use std::path::PathBuf;

use rsigma_parser::SigmaRule;
use vigil_core::Severity;

/// What Vigil keeps about a rule besides its compiled form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule's `id`, or `title:<title>` when it has none.
    pub id: String,
    pub title: String,
    pub level: Severity,
    pub status: Option<String>,
    pub tags: Vec<String>,
    /// ATT&CK technique ids from the tags (`T1059.001`).
    pub techniques: Vec<String>,
    /// ATT&CK tactic names from the tags (`execution`).
    pub tactics: Vec<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
    pub path: PathBuf,
}

const TACTICS: [&str; 14] = [
    "reconnaissance",
    "resource_development",
    "initial_access",
    "execution",
    "persistence",
    "privilege_escalation",
    "defense_evasion",
    "credential_access",
    "discovery",
    "lateral_movement",
    "collection",
    "command_and_control",
    "exfiltration",
    "impact",
];

/// Split `attack.*` tags into technique ids and tactic names.
pub fn attack_ids(tags: &[String]) -> (Vec<String>, Vec<String>) {
    let mut techniques = Vec::new();
    let mut tactics = Vec::new();
    for tag in tags {
        let Some(rest) = tag.strip_prefix("attack.") else {
            continue;
        };
        let lower = rest.to_ascii_lowercase();
        let digits = lower.as_bytes().get(1..5);
        if lower.starts_with('t') && digits.is_some_and(|d| d.iter().all(u8::is_ascii_digit)) {
            techniques.push(rest.to_ascii_uppercase());
        } else {
            let name = lower.replace('-', "_");
            if TACTICS.contains(&name.as_str()) {
                tactics.push(name);
            }
        }
    }
    (techniques, tactics)
}

impl RuleInfo {
    pub(crate) fn from_rule(rule: &SigmaRule, path: PathBuf) -> Self {
        let (techniques, tactics) = attack_ids(&rule.tags);
        RuleInfo {
            id: rule
                .id
                .clone()
                .unwrap_or_else(|| format!("title:{}", rule.title)),
            title: rule.title.clone(),
            level: level(rule.level),
            status: rule.status.map(|s| format!("{s:?}").to_ascii_lowercase()),
            tags: rule.tags.clone(),
            techniques,
            tactics,
            product: rule.logsource.product.clone(),
            service: rule.logsource.service.clone(),
            category: rule.logsource.category.clone(),
            path,
        }
    }
}

/// Sigma levels are Vigil severities; a rule without one is medium.
pub(crate) fn level(l: Option<rsigma_parser::Level>) -> Severity {
    use rsigma_parser::Level;
    match l {
        Some(Level::Informational) => Severity::Informational,
        Some(Level::Low) => Severity::Low,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags_split_into_techniques_and_tactics() {
        let tags: Vec<String> = [
            "attack.execution",
            "attack.t1059.001",
            "attack.T1003",
            "attack.defense-evasion",
            "attack.g0007",
            "attack.t123\u{e9}",
            "cve.2021-44228",
        ]
        .map(String::from)
        .to_vec();
        let (techniques, tactics) = attack_ids(&tags);
        assert_eq!(techniques, vec!["T1059.001", "T1003"]);
        assert_eq!(tactics, vec!["execution", "defense_evasion"]);
    }
}
