//! Kinds of entities that telemetry, alerts and incidents refer to.

use std::fmt;
use std::str::FromStr;

/// What an entity is. Entities link alerts into incidents and are the
/// targets of response tasks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Device,
    User,
    Ip,
    Process,
    File,
    FileHash,
    Url,
    Domain,
    Mailbox,
    CloudResource,
}

impl EntityKind {
    pub const ALL: [EntityKind; 10] = [
        EntityKind::Device,
        EntityKind::User,
        EntityKind::Ip,
        EntityKind::Process,
        EntityKind::File,
        EntityKind::FileHash,
        EntityKind::Url,
        EntityKind::Domain,
        EntityKind::Mailbox,
        EntityKind::CloudResource,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::Device => "device",
            EntityKind::User => "user",
            EntityKind::Ip => "ip",
            EntityKind::Process => "process",
            EntityKind::File => "file",
            EntityKind::FileHash => "file_hash",
            EntityKind::Url => "url",
            EntityKind::Domain => "domain",
            EntityKind::Mailbox => "mailbox",
            EntityKind::CloudResource => "cloud_resource",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not an entity kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown entity kind {0:?}: expected one of device, user, ip, process, file, file_hash, url, domain, mailbox, cloud_resource"
)]
pub struct ParseEntityKindError(pub String);

impl FromStr for EntityKind {
    type Err = ParseEntityKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.replace('-', "_");
        EntityKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| ParseEntityKindError(s.to_owned()))
    }
}

/// An analyst's judgement of an entity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Malicious,
    Suspicious,
    Clean,
    Unknown,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Malicious,
        Verdict::Suspicious,
        Verdict::Clean,
        Verdict::Unknown,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Malicious => "malicious",
            Verdict::Suspicious => "suspicious",
            Verdict::Clean => "clean",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The text was not a verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown verdict {0:?}: expected malicious, suspicious, clean or unknown")]
pub struct ParseVerdictError(pub String);

impl FromStr for Verdict {
    type Err = ParseVerdictError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseVerdictError(s.to_owned()))
    }
}

/// One entity: its kind and normalised value.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Entity {
    pub kind: EntityKind,
    pub value: String,
}

impl Entity {
    pub fn new(kind: EntityKind, value: impl Into<String>) -> Self {
        Entity {
            kind,
            value: value.into(),
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// `kind:value` was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseEntityError {
    #[error("{0:?} is not kind:value (e.g. user:alice@acme.example)")]
    Shape(String),
    #[error(transparent)]
    Kind(#[from] ParseEntityKindError),
}

impl FromStr for Entity {
    type Err = ParseEntityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, value) = s
            .split_once(':')
            .filter(|(_, v)| !v.is_empty())
            .ok_or_else(|| ParseEntityError::Shape(s.to_owned()))?;
        Ok(Entity::new(kind.parse()?, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_kind_round_trips_through_its_name() {
        for kind in EntityKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        assert_eq!("file-hash".parse(), Ok(EntityKind::FileHash));
        assert!("printer".parse::<EntityKind>().is_err());
    }

    #[test]
    fn an_entity_parses_from_kind_colon_value_and_prints_back() {
        let e: Entity = "ip:10.0.0.1".parse().expect("entity");
        assert_eq!(e, Entity::new(EntityKind::Ip, "10.0.0.1"));
        assert_eq!(e.to_string(), "ip:10.0.0.1");
        let url: Entity = "url:https://x.example/a".parse().expect("entity");
        assert_eq!(
            url.value, "https://x.example/a",
            "only the first colon splits"
        );
        assert!("device".parse::<Entity>().is_err());
        assert!("device:".parse::<Entity>().is_err());
        assert!("printer:x".parse::<Entity>().is_err());
    }
}
