//! Entities too common to link alerts (docs/incidents.md, "common
//! entities"): a fixed deny list, the tenant's own list, and fan-out
//! limits over counts the caller supplies in a [`Prevalence`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use vigil_core::{Entity, EntityKind};

use crate::CorrelationConfig;

/// Kinds of entities that link alerts into incidents (PRODUCT.md §7):
/// devices, users, file hashes, IP addresses, domains, mailboxes.
/// Processes, files, URLs and cloud resources describe an alert but never
/// link it.
pub const fn is_key_kind(kind: EntityKind) -> bool {
    matches!(
        kind,
        EntityKind::Device
            | EntityKind::User
            | EntityKind::FileHash
            | EntityKind::Ip
            | EntityKind::Domain
            | EntityKind::Mailbox
    )
}

/// How widely one entity is seen, as the caller counts it (over the
/// correlation window, or a longer baseline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntityPrevalence {
    /// Distinct devices it was seen on (for a device: ignored).
    pub devices: u32,
    /// Distinct users seen on it (used for devices).
    pub users: u32,
    /// Distinct incidents it appears in.
    pub incidents: u32,
}

/// The caller's counts for a tenant: how many devices the tenant has, and
/// per entity how widely it is seen. Entities not recorded count as seen
/// nowhere else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prevalence {
    pub tenant_devices: u32,
    counts: HashMap<Entity, EntityPrevalence>,
}

impl Prevalence {
    pub fn new(tenant_devices: u32) -> Self {
        Prevalence {
            tenant_devices,
            counts: HashMap::new(),
        }
    }

    pub fn insert(&mut self, entity: Entity, counts: EntityPrevalence) {
        self.counts.insert(entity, counts);
    }

    pub fn of(&self, entity: &Entity) -> EntityPrevalence {
        self.counts.get(entity).copied().unwrap_or_default()
    }

    /// Counts from co-occurrence: each slice is the entities of one event
    /// or alert. A non-device entity is "seen on" every device in a slice
    /// it is in; a device "sees" every user in its slices. The tenant's
    /// device count is the number of distinct devices observed.
    pub fn observe<'a>(slices: impl IntoIterator<Item = &'a [Entity]>) -> Self {
        let mut peers: HashMap<&'a Entity, BTreeSet<&'a str>> = HashMap::new();
        let mut devices: BTreeSet<&'a str> = BTreeSet::new();
        for slice in slices {
            let on: Vec<&str> = kind_values(slice, EntityKind::Device).collect();
            let users: Vec<&str> = kind_values(slice, EntityKind::User).collect();
            devices.extend(on.iter().copied());
            for e in slice {
                let seen = if e.kind == EntityKind::Device {
                    &users
                } else {
                    &on
                };
                peers.entry(e).or_default().extend(seen.iter().copied());
            }
        }
        let mut out = Prevalence::new(count(devices.len()));
        for (e, seen) in peers {
            let n = count(seen.len());
            let counts = if e.kind == EntityKind::Device {
                EntityPrevalence {
                    users: n,
                    ..EntityPrevalence::default()
                }
            } else {
                EntityPrevalence {
                    devices: n,
                    ..EntityPrevalence::default()
                }
            };
            out.insert(e.clone(), counts);
        }
        out
    }
}

fn kind_values(slice: &[Entity], kind: EntityKind) -> impl Iterator<Item = &str> {
    slice
        .iter()
        .filter(move |e| e.kind == kind)
        .map(|e| e.value.as_str())
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Why an entity does not link alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommonReason {
    /// On the fixed deny list; the text says which part of it.
    DenyList(&'static str),
    /// On the tenant's own never-link list.
    TenantList,
    /// Seen on more devices than the fan-out limit.
    Devices { seen: u32, limit: u32 },
    /// A device seen with more users than the limit.
    Users { seen: u32, limit: u32 },
    /// In more incidents than the limit.
    Incidents { seen: u32, limit: u32 },
}

impl fmt::Display for CommonReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommonReason::DenyList(what) => f.write_str(what),
            CommonReason::TenantList => f.write_str("on the tenant's never-link list"),
            CommonReason::Devices { seen, limit } => {
                write!(f, "seen on {seen} devices, limit {limit}")
            }
            CommonReason::Users { seen, limit } => {
                write!(f, "used by {seen} users, limit {limit}")
            }
            CommonReason::Incidents { seen, limit } => {
                write!(f, "in {seen} incidents, limit {limit}")
            }
        }
    }
}

/// Built-in identities every Windows host shares.
const SHARED_USERS: [&str; 8] = [
    "system",
    "local service",
    "network service",
    "localsystem",
    "anonymous logon",
    "nt authority\\system",
    "nt authority\\local service",
    "nt authority\\network service",
];

/// Public DNS resolvers every device may query.
const PUBLIC_RESOLVERS: [&str; 14] = [
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2620:fe::fe",
    "2620:fe::9",
];

/// Hashes of the empty file (MD5, SHA-1, SHA-256).
const EMPTY_FILE_HASHES: [&str; 3] = [
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];

fn placeholder(v: &str) -> bool {
    v.is_empty() || v == "-" || v.eq_ignore_ascii_case("null") || v.eq_ignore_ascii_case("n/a")
}

/// Why the fixed deny list refuses the entity, if it does.
pub fn deny_listed(entity: &Entity) -> Option<&'static str> {
    let v = entity.value.trim().trim_end_matches('.').to_lowercase();
    if placeholder(&v) {
        return Some("a placeholder, not a value");
    }
    match entity.kind {
        EntityKind::User => {
            let bare = v.rsplit('\\').next().unwrap_or(&v);
            (SHARED_USERS.contains(&v.as_str())
                || SHARED_USERS.contains(&bare)
                || v.starts_with("nt authority\\")
                || v.starts_with("font driver host\\")
                || v.starts_with("window manager\\"))
            .then_some("a built-in identity every host shares")
        }
        EntityKind::Device | EntityKind::Domain => {
            let local = v == "localhost"
                || v == "localdomain"
                || v.ends_with(".localhost")
                || v == "localhost.localdomain"
                || v.ends_with(".in-addr.arpa")
                || v.ends_with(".ip6.arpa")
                || v.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            local.then_some("the local host")
        }
        EntityKind::Ip => ip_reason(&v),
        EntityKind::FileHash => EMPTY_FILE_HASHES
            .contains(&v.as_str())
            .then_some("the hash of the empty file"),
        _ => None,
    }
}

fn ip_reason(text: &str) -> Option<&'static str> {
    let Ok(ip) = text.parse::<IpAddr>() else {
        return None;
    };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    let link_local = match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_unicast_link_local(),
    };
    if link_local {
        return Some("a link-local or broadcast address");
    }
    PUBLIC_RESOLVERS
        .iter()
        .any(|r| r.parse::<IpAddr>().is_ok_and(|r| r == ip))
        .then_some("a well-known public DNS resolver")
}

/// Why `entity` never links alerts, if it is common (docs/incidents.md):
/// the deny list, the tenant's list, then the fan-out limits.
pub fn common_reason(
    entity: &Entity,
    prevalence: &Prevalence,
    config: &CorrelationConfig,
) -> Option<CommonReason> {
    if let Some(why) = deny_listed(entity) {
        return Some(CommonReason::DenyList(why));
    }
    if config
        .never_link
        .iter()
        .any(|e| e.kind == entity.kind && e.value.trim().eq_ignore_ascii_case(entity.value.trim()))
    {
        return Some(CommonReason::TenantList);
    }
    let counts = prevalence.of(entity);
    if entity.kind == EntityKind::Device {
        if counts.users > config.device_user_limit {
            return Some(CommonReason::Users {
                seen: counts.users,
                limit: config.device_user_limit,
            });
        }
    } else {
        let limit = config.fan_out_limit(prevalence.tenant_devices);
        if counts.devices > limit {
            return Some(CommonReason::Devices {
                seen: counts.devices,
                limit,
            });
        }
    }
    if counts.incidents > config.incident_limit {
        return Some(CommonReason::Incidents {
            seen: counts.incidents,
            limit: config.incident_limit,
        });
    }
    None
}

/// Whether `entity` is too common to link alerts.
pub fn is_common(entity: &Entity, prevalence: &Prevalence, config: &CorrelationConfig) -> bool {
    common_reason(entity, prevalence, config).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Entity {
        s.parse().expect("entity")
    }

    fn common(s: &str) -> bool {
        is_common(&e(s), &Prevalence::default(), &CorrelationConfig::default())
    }

    #[test]
    fn built_in_identities_and_local_names_never_link() {
        assert!(common("user:SYSTEM"));
        assert!(common("user:nt authority\\local service"));
        assert!(common("user:acme\\network service"));
        assert!(common("device:localhost"));
        assert!(common("domain:localhost."));
        assert!(common("domain:4.3.2.1.in-addr.arpa"));
        assert!(common("user:-"));
        assert!(!common("user:acme\\alice"));
        assert!(!common("device:ws1"));
    }

    #[test]
    fn loopback_unspecified_link_local_and_public_resolver_addresses_never_link() {
        for ip in [
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "::",
            "169.254.10.1",
            "fe80::1",
            "255.255.255.255",
            "224.0.0.251",
            "8.8.8.8",
            "1.1.1.1",
            "::ffff:8.8.4.4",
            "2606:4700:4700::1111",
        ] {
            assert!(common(&format!("ip:{ip}")), "{ip}");
        }
        assert!(!common("ip:203.0.113.7"));
        assert!(!common("ip:10.0.0.5"));
    }

    #[test]
    fn the_empty_file_hash_never_links() {
        assert!(common("file_hash:D41D8CD98F00B204E9800998ECF8427E"));
        assert!(!common("file_hash:0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn the_tenants_own_list_never_links_ignoring_case() {
        let config = CorrelationConfig {
            never_link: vec![e("ip:10.0.0.53"), e("device:SCANNER01")],
            ..CorrelationConfig::default()
        };
        let p = Prevalence::default();
        assert_eq!(
            common_reason(&e("device:scanner01"), &p, &config),
            Some(CommonReason::TenantList)
        );
        assert!(is_common(&e("ip:10.0.0.53"), &p, &config));
        assert!(!is_common(&e("ip:10.0.0.54"), &p, &config));
    }

    #[test]
    fn an_entity_on_more_devices_than_the_fan_out_limit_is_common() {
        let config = CorrelationConfig::default();
        let mut p = Prevalence::new(1_000);
        let dns = e("ip:10.0.0.53");
        let attacker = e("ip:203.0.113.7");
        let put = |p: &mut Prevalence, ent: &Entity, devices| {
            p.insert(
                ent.clone(),
                EntityPrevalence {
                    devices,
                    ..EntityPrevalence::default()
                },
            )
        };
        put(&mut p, &dns, 900);
        put(&mut p, &attacker, 100);
        assert_eq!(
            common_reason(&dns, &p, &config),
            Some(CommonReason::Devices {
                seen: 900,
                limit: 100
            })
        );
        assert!(
            !is_common(&attacker, &p, &config),
            "at the limit still links"
        );
    }

    #[test]
    fn a_device_used_by_more_users_than_the_limit_is_common() {
        let config = CorrelationConfig::default();
        let mut p = Prevalence::new(10);
        p.insert(
            e("device:ts01"),
            EntityPrevalence {
                users: 26,
                ..EntityPrevalence::default()
            },
        );
        p.insert(
            e("device:ws1"),
            EntityPrevalence {
                users: 3,
                devices: 500,
                ..EntityPrevalence::default()
            },
        );
        let why = common_reason(&e("device:ts01"), &p, &config).expect("common");
        assert_eq!(why.to_string(), "used by 26 users, limit 25");
        assert!(
            !is_common(&e("device:ws1"), &p, &config),
            "a device's own device count does not matter"
        );
    }

    #[test]
    fn an_entity_in_more_incidents_than_the_limit_is_common() {
        let mut p = Prevalence::new(10);
        p.insert(
            e("ip:198.51.100.9"),
            EntityPrevalence {
                incidents: 11,
                ..EntityPrevalence::default()
            },
        );
        assert!(is_common(
            &e("ip:198.51.100.9"),
            &p,
            &CorrelationConfig::default()
        ));
    }

    #[test]
    fn observed_prevalence_counts_devices_per_entity_and_users_per_device() {
        let a = [e("device:ws1"), e("user:alice"), e("ip:10.0.0.53")];
        let b = [e("device:ws2"), e("user:bob"), e("ip:10.0.0.53")];
        let c = [e("device:ws2"), e("user:carol")];
        let p = Prevalence::observe([&a[..], &b[..], &c[..]]);
        assert_eq!(p.tenant_devices, 2);
        assert_eq!(p.of(&e("ip:10.0.0.53")).devices, 2);
        assert_eq!(p.of(&e("user:alice")).devices, 1);
        assert_eq!(p.of(&e("device:ws2")).users, 2);
        assert_eq!(
            p.of(&e("domain:unseen.example")),
            EntityPrevalence::default()
        );
    }

    #[test]
    fn only_devices_users_hashes_addresses_domains_and_mailboxes_are_key_kinds() {
        let keys: Vec<_> = EntityKind::ALL
            .into_iter()
            .filter(|k| is_key_kind(*k))
            .collect();
        assert_eq!(
            keys,
            [
                EntityKind::Device,
                EntityKind::User,
                EntityKind::Ip,
                EntityKind::FileHash,
                EntityKind::Domain,
                EntityKind::Mailbox
            ]
        );
    }
}
