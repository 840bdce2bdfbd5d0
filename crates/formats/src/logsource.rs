//! Sigma logsources and how they map onto Windows event logs.
//!
//! The mapping is data (`data/windows.toml`), embedded at build time: a
//! service is a set of channels; a generic category is a set of event ids on
//! a service's channels.

use std::collections::{BTreeMap, HashMap};

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

impl WindowsMap {
    /// [`WindowsClassifier::service_of`] by a search of every service's
    /// channels: the first service (by name) with the channel in any case.
    fn search_service(&self, channel: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|(_, chans)| chans.iter().any(|c| c.eq_ignore_ascii_case(channel)))
            .map(|(s, _)| s.as_str())
    }
}

/// Maps Sigma logsources to Windows channels and event ids.
#[derive(Debug)]
pub struct WindowsClassifier {
    map: WindowsMap,
    /// [`WindowsClassifier::service_of`] of each channel as the mapping
    /// spells it: events nearly always spell theirs the same way, and
    /// this is asked of every Windows event (the search over every
    /// service's channels was 3 % of decoding).
    by_channel: HashMap<String, String>,
}

const WINDOWS_TOML: &str = include_str!("../data/windows.toml");

impl WindowsClassifier {
    /// The mapping shipped with Vigil.
    pub fn builtin() -> Self {
        match toml::from_str(WINDOWS_TOML) {
            Ok(map) => WindowsClassifier::new(map),
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

    fn new(map: WindowsMap) -> Self {
        let by_channel = map
            .services
            .values()
            .flatten()
            .filter_map(|ch| Some((ch.clone(), map.search_service(ch)?.to_owned())))
            .collect();
        WindowsClassifier { map, by_channel }
    }

    /// The Sigma service of a Windows channel (any case), if any.
    pub fn service_of(&self, channel: &str) -> Option<&str> {
        match self.by_channel.get(channel) {
            Some(service) => Some(service),
            None => self.map.search_service(channel),
        }
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
    fn a_channel_has_the_same_service_by_the_index_as_by_the_search_in_any_case() {
        let c = WindowsClassifier::builtin();
        let channels: Vec<String> = c.map.services.values().flatten().cloned().collect();
        assert!(channels.len() > 10, "the mapping names channels");
        for ch in &channels {
            for spelled in [ch.clone(), ch.to_ascii_uppercase(), ch.to_ascii_lowercase()] {
                assert_eq!(
                    c.service_of(&spelled),
                    c.map.search_service(&spelled),
                    "{spelled}"
                );
                assert!(c.service_of(&spelled).is_some(), "{spelled}");
            }
        }
        assert_eq!(
            c.service_of("Microsoft-Windows-Sysmon/Operational"),
            Some("sysmon")
        );
        assert_eq!(c.service_of("No-Such-Channel/Operational"), None);
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
