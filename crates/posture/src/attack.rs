//! The ATT&CK ids the knowledge base refers to, with their names and
//! tactics (`attack.toml`, built from MITRE ATT&CK Enterprise v18.1; ©
//! The MITRE Corporation, used with attribution). A test checks every row
//! against the corpus copy of ATT&CK, which is not shipped.

use serde::Deserialize;

const BUILTIN: &str = include_str!("../attack.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub tactics: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mitigation {
    pub id: String,
    pub name: String,
}

/// The embedded table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    #[serde(rename = "technique")]
    pub techniques: Vec<Technique>,
    #[serde(rename = "mitigation")]
    pub mitigations: Vec<Mitigation>,
}

impl Attack {
    pub(crate) fn builtin() -> Result<Attack, toml::de::Error> {
        toml::from_str(BUILTIN)
    }

    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.techniques
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(id))
    }

    pub fn mitigation(&self, id: &str) -> Option<&Mitigation> {
        self.mitigations
            .iter()
            .find(|m| m.id.eq_ignore_ascii_case(id))
    }
}
