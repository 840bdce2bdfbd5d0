//! Sigma logsources and how they map onto Windows event logs.
//!
//! The mapping is data (`data/windows.toml`), embedded at build time: a
//! service is a set of channels; a generic category is a set of event ids on
//! a service's channels.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A Sigma rule's `logsource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

/// Which Windows events a logsource selects: channels, each with the event
/// ids (empty means every event of the channel).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowsTarget {
    pub channels: BTreeMap<String, Vec<u32>>,
}

/// Why a logsource selects no Windows events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmapped {
    #[error("logsource product {0:?} is not Windows")]
    OtherProduct(String),
    #[error("logsource service {0:?} has no Windows channel mapping")]
    UnknownService(String),
    #[error("logsource category {0:?} has no Windows channel mapping")]
    UnknownCategory(String),
    #[error("logsource names neither a service nor a category")]
    Unspecific,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowsMap {
    services: BTreeMap<String, Vec<String>>,
    categories: BTreeMap<String, BTreeMap<String, Vec<u32>>>,
    #[serde(default)]
    fields: BTreeMap<String, BTreeMap<String, String>>,
}

/// Maps Sigma logsources to Windows channels and event ids.
#[derive(Debug)]
pub struct WindowsClassifier {
    map: WindowsMap,
}

const WINDOWS_TOML: &str = include_str!("../data/windows.toml");

impl WindowsClassifier {
    /// The mapping shipped with Vigil.
    pub fn builtin() -> Self {
        match toml::from_str(WINDOWS_TOML) {
            Ok(map) => WindowsClassifier { map },
            // The file is part of the build and checked by a test.
            Err(e) => unreachable!("data/windows.toml is invalid: {e}"),
        }
    }

    /// The Windows events a logsource selects.
    pub fn target(&self, ls: &LogSource) -> Result<WindowsTarget, Unmapped> {
        match ls.product.as_deref() {
            Some(p) if !p.eq_ignore_ascii_case("windows") => {
                return Err(Unmapped::OtherProduct(p.to_owned()));
            }
            _ => {}
        }
        let mut target = WindowsTarget::default();
        match (ls.service.as_deref(), ls.category.as_deref()) {
            (Some(service), None) => {
                let channels = self
                    .map
                    .services
                    .get(service)
                    .ok_or_else(|| Unmapped::UnknownService(service.to_owned()))?;
                for c in channels {
                    target.channels.insert(c.clone(), Vec::new());
                }
            }
            (service, Some(category)) => {
                let mut found = false;
                for (svc, cats) in &self.map.categories {
                    if service.is_some_and(|s| s != svc) {
                        continue;
                    }
                    if let Some(ids) = cats.get(category) {
                        found = true;
                        for c in self.map.services.get(svc).into_iter().flatten() {
                            target.channels.insert(c.clone(), ids.clone());
                        }
                    }
                }
                if !found {
                    return Err(Unmapped::UnknownCategory(category.to_owned()));
                }
            }
            (None, None) => return Err(Unmapped::Unspecific),
        }
        Ok(target)
    }

    /// Rule field name → event field name for the events of a channel
    /// (empty when the channel's events use the rules' names).
    pub fn field_map(&self, channel: &str) -> Option<&BTreeMap<String, String>> {
        self.map.fields.get(self.service_of(channel)?)
    }

    /// The Sigma service of a Windows channel, if any.
    pub fn service_of(&self, channel: &str) -> Option<&str> {
        self.map
            .services
            .iter()
            .find(|(_, chans)| chans.iter().any(|c| c.eq_ignore_ascii_case(channel)))
            .map(|(s, _)| s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: &str, service: Option<&str>, category: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.into()),
            service: service.map(Into::into),
            category: category.map(Into::into),
        }
    }

    #[test]
    fn the_builtin_mapping_parses() {
        let c = WindowsClassifier::builtin();
        assert_eq!(c.service_of("security"), Some("security"));
    }

    #[test]
    fn services_map_to_channels_and_categories_to_event_ids() {
        let c = WindowsClassifier::builtin();
        let t = c
            .target(&ls("windows", Some("security"), None))
            .expect("mapped");
        assert_eq!(t.channels.get("Security"), Some(&vec![]));
        let t = c
            .target(&ls("windows", None, Some("process_creation")))
            .expect("mapped");
        assert_eq!(
            t.channels.get("Microsoft-Windows-Sysmon/Operational"),
            Some(&vec![1])
        );
        let t = c
            .target(&ls("windows", None, Some("ps_script")))
            .expect("mapped");
        assert_eq!(t.channels.len(), 2, "both PowerShell channels");
        assert!(t.channels.values().all(|ids| ids == &vec![4104]));
    }

    #[test]
    fn process_creation_covers_sysmon_and_security_audit_events() {
        let c = WindowsClassifier::builtin();
        let t = c
            .target(&ls("windows", None, Some("process_creation")))
            .expect("mapped");
        assert_eq!(t.channels.get("Security"), Some(&vec![4688]));
        let map = c.field_map("Security").expect("security has a field map");
        assert_eq!(map.get("Image").map(String::as_str), Some("NewProcessName"));
        assert!(
            c.field_map("Microsoft-Windows-Sysmon/Operational")
                .is_none()
        );
    }

    #[test]
    fn unmapped_logsources_say_why() {
        let c = WindowsClassifier::builtin();
        assert_eq!(
            c.target(&ls("linux", None, Some("process_creation"))),
            Err(Unmapped::OtherProduct("linux".into()))
        );
        assert!(matches!(
            c.target(&ls("windows", None, Some("file_access"))),
            Err(Unmapped::UnknownCategory(_))
        ));
        assert_eq!(
            c.target(&ls("windows", None, None)),
            Err(Unmapped::Unspecific)
        );
    }
}
