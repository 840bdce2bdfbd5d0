//! Entities named by an event, normalised and each kept once.
//!
//! - devices and domains: lowercase, without a trailing dot;
//! - users: lowercase (`domain\name` when the event names a domain), and
//!   never the built-in service identities (`SYSTEM`, `LOCAL SERVICE`, …),
//!   which every Windows host shares and would link unrelated alerts;
//! - IP addresses: parsed and written canonically (IPv4-mapped IPv6 as
//!   IPv4, a port or brackets removed); loopback and unspecified skipped;
//! - file hashes: lowercase hex of MD5, SHA-1 or SHA-256 (`IMPHASH` is not
//!   a file hash and is skipped);
//! - processes and files: as written; two spellings that differ only in
//!   case are one entity (Windows paths), the first kept.
//!
//! `-`, empty values and placeholders are never entities.

use std::net::{IpAddr, SocketAddr};

pub use vigil_core::{Entity, EntityKind};

/// Entities in the order found, each once.
#[derive(Debug, Default)]
pub(super) struct Entities(Vec<Entity>);

/// Built-in Windows identities shared by every host.
const SERVICE_ACCOUNTS: [&str; 8] = [
    "system",
    "local service",
    "network service",
    "anonymous logon",
    "localsystem",
    "nt authority\\system",
    "nt authority\\local service",
    "nt authority\\network service",
];

fn blank(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v == "-" || v == "[]" || v == "{}" || v.eq_ignore_ascii_case("null")
}

impl Entities {
    pub(super) fn into_vec(self) -> Vec<Entity> {
        self.0
    }

    fn add(&mut self, kind: EntityKind, value: String) {
        let folded = matches!(kind, EntityKind::Process | EntityKind::File);
        let seen = self.0.iter().any(|e| {
            e.kind == kind
                && if folded {
                    e.value.eq_ignore_ascii_case(&value)
                } else {
                    e.value == value
                }
        });
        if !seen {
            self.0.push(Entity { kind, value });
        }
    }

    pub(super) fn device(&mut self, name: &str) {
        let name = name.trim().trim_end_matches('.');
        if !blank(name) && !name.eq_ignore_ascii_case("localhost") {
            self.add(EntityKind::Device, name.to_lowercase());
        }
    }

    pub(super) fn domain(&mut self, name: &str) {
        let name = name.trim().trim_end_matches('.');
        if blank(name) || parse_ip(name).is_some() || !name.contains('.') {
            return;
        }
        if name
            .chars()
            .all(|c| c.is_alphanumeric() || "-._".contains(c))
        {
            self.add(EntityKind::Domain, name.to_lowercase());
        }
    }

    /// A user, optionally qualified by a Windows domain.
    pub(super) fn user(&mut self, domain: Option<&str>, name: &str) {
        let name = name.trim();
        if blank(name) {
            return;
        }
        let domain = domain.map(str::trim).filter(|d| !blank(d));
        let full = match domain {
            Some(d) if !name.contains('\\') && !name.contains('@') => format!("{d}\\{name}"),
            _ => name.to_owned(),
        }
        .to_lowercase();
        let bare = full.rsplit('\\').next().unwrap_or(&full);
        if SERVICE_ACCOUNTS.contains(&full.as_str()) || SERVICE_ACCOUNTS.contains(&bare) {
            return;
        }
        if full.starts_with("nt authority\\") || full.starts_with("font driver host\\") {
            return;
        }
        if full.starts_with("window manager\\") {
            return;
        }
        self.add(EntityKind::User, full);
    }

    /// A cloud identity written as the provider writes it (an ARN's path
    /// is case-sensitive).
    pub(super) fn user_id(&mut self, id: &str) {
        if !blank(id) {
            self.add(EntityKind::User, id.trim().to_owned());
        }
    }

    pub(super) fn ip(&mut self, text: &str) {
        if let Some(ip) = parse_ip(text)
            && !ip.is_loopback()
            && !ip.is_unspecified()
        {
            self.add(EntityKind::Ip, ip.to_string());
        }
    }

    pub(super) fn process(&mut self, path: &str) {
        if !blank(path) {
            self.add(EntityKind::Process, path.trim().to_owned());
        }
    }

    pub(super) fn file(&mut self, path: &str) {
        if !blank(path) {
            self.add(EntityKind::File, path.trim().to_owned());
        }
    }

    /// Sysmon's `SHA1=…,MD5=…,SHA256=…,IMPHASH=…`, or one bare hash.
    pub(super) fn hashes(&mut self, text: &str) {
        for part in text.split([',', ';', ' ']) {
            let (algo, hex) = match part.split_once('=') {
                Some((a, h)) => (Some(a.trim()), h.trim()),
                None => (None, part.trim()),
            };
            if algo.is_some_and(|a| a.eq_ignore_ascii_case("IMPHASH")) {
                continue;
            }
            if matches!(hex.len(), 32 | 40 | 64) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.add(EntityKind::FileHash, hex.to_ascii_lowercase());
            }
        }
    }

    pub(super) fn url(&mut self, text: &str) {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            self.add(EntityKind::Url, t.to_owned());
        }
    }

    /// One address, or several separated by `;` or `,` (with optional
    /// `SMTP:` prefixes and display names in brackets).
    pub(super) fn mailboxes(&mut self, text: &str) {
        for part in text.split([';', ',']) {
            let part = part.trim();
            let addr = match (part.find('['), part.rfind(']')) {
                (Some(a), Some(b)) if a < b => &part[a + 1..b],
                _ => part,
            };
            let addr = addr.trim().trim_matches(['<', '>', '"']);
            let addr = addr
                .strip_prefix("SMTP:")
                .or_else(|| addr.strip_prefix("smtp:"))
                .unwrap_or(addr);
            if addr.contains('@') && !addr.contains(char::is_whitespace) {
                self.add(EntityKind::Mailbox, addr.to_lowercase());
            }
        }
    }

    pub(super) fn cloud_resource(&mut self, id: &str) {
        if !blank(id) {
            self.add(EntityKind::CloudResource, id.trim().to_owned());
        }
    }
}

/// An IP address written as Windows, Sysmon and cloud logs write them:
/// bare, IPv4-mapped, with a port, or in brackets.
pub(super) fn parse_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let ip = t
        .parse::<IpAddr>()
        .ok()
        .or_else(|| t.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            t.strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok())
        })
        .or_else(|| {
            // IPv6 with a zone (`fe80::1%12`).
            let (addr, _zone) = t.split_once('%')?;
            addr.parse().ok()
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(e: Entities) -> Vec<(EntityKind, String)> {
        e.into_vec()
            .into_iter()
            .map(|e| (e.kind, e.value))
            .collect()
    }

    #[test]
    fn ips_are_canonical_and_placeholders_skipped() {
        let mut e = Entities::default();
        for ip in [
            "::ffff:10.0.0.5",
            "10.0.0.5",
            "203.0.113.9:51234",
            "[2001:DB8::1]",
            "-",
            "::1",
            "127.0.0.1",
            "0.0.0.0",
            "",
            "AWS Internal",
        ] {
            e.ip(ip);
        }
        assert_eq!(
            values(e),
            vec![
                (EntityKind::Ip, "10.0.0.5".into()),
                (EntityKind::Ip, "203.0.113.9".into()),
                (EntityKind::Ip, "2001:db8::1".into()),
            ]
        );
    }

    #[test]
    fn sysmon_hashes_split_into_file_hashes_without_imphash() {
        let mut e = Entities::default();
        e.hashes("SHA1=A9993E364706816ABA3E25717850C26C9CD0D89D,MD5=900150983CD24FB0D6963F7D28E17F72,SHA256=BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD,IMPHASH=00000000000000000000000000000000");
        let got = values(e);
        assert_eq!(got.len(), 3);
        assert!(
            got.iter()
                .all(|(k, v)| *k == EntityKind::FileHash
                    && v.chars().all(|c| !c.is_ascii_uppercase()))
        );
    }

    #[test]
    fn users_are_lowercase_domain_qualified_and_never_builtin_service_identities() {
        let mut e = Entities::default();
        e.user(Some("CORP"), "Alice");
        e.user(None, "corp\\alice");
        e.user(Some("NT AUTHORITY"), "SYSTEM");
        e.user(None, "NT AUTHORITY\\NETWORK SERVICE");
        e.user(Some("-"), "-");
        e.user(None, "Bob@Example.com");
        assert_eq!(
            values(e),
            vec![
                (EntityKind::User, "corp\\alice".into()),
                (EntityKind::User, "bob@example.com".into()),
            ]
        );
    }

    #[test]
    fn mailboxes_are_split_and_unwrapped() {
        let mut e = Entities::default();
        e.mailboxes("SMTP:Evil@Attacker.example; \"Bob\" [bob@corp.example],not an address");
        assert_eq!(
            values(e),
            vec![
                (EntityKind::Mailbox, "evil@attacker.example".into()),
                (EntityKind::Mailbox, "bob@corp.example".into()),
            ]
        );
    }

    #[test]
    fn windows_paths_differing_in_case_are_one_process() {
        let mut e = Entities::default();
        e.process(r"C:\Windows\System32\cmd.exe");
        e.process(r"c:\windows\system32\CMD.EXE");
        assert_eq!(values(e).len(), 1);
    }
}
