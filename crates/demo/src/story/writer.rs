//! Writing one chapter: times relative to "now", running record numbers
//! per host, process ids and GUIDs from the chapter's generator.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{Chapter, StoryEvent};
use crate::estate::{Estate, Host};
use crate::records::windows::{self, Logon, Origin, Peer, Proc};
use crate::rng::Rng;

/// Collects one chapter's records.
#[derive(Debug)]
pub(crate) struct Writer<'e> {
    pub estate: &'e Estate,
    pub rng: Rng,
    chapter: Chapter,
    now: Timestamp,
    record_ids: BTreeMap<String, u64>,
    events: Vec<StoryEvent>,
}

impl<'e> Writer<'e> {
    pub fn new(estate: &'e Estate, rng: Rng, chapter: Chapter, now: Timestamp) -> Self {
        Writer {
            estate,
            rng,
            chapter,
            now,
            record_ids: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    pub fn finish(self) -> Vec<StoryEvent> {
        self.events
    }

    /// `secs` seconds before now.
    pub fn ago(&self, secs: i64) -> Timestamp {
        self.now
            .checked_sub(SignedDuration::from_secs(secs))
            .unwrap_or(self.now)
    }

    /// `t` plus up to a second, so events of one instant are not all
    /// on the same microsecond.
    pub fn jitter(&mut self, t: Timestamp) -> Timestamp {
        let micros = i64::try_from(self.rng.below(1_000_000)).unwrap_or(0);
        t.checked_add(SignedDuration::from_micros(micros))
            .unwrap_or(t)
    }

    /// `t` plus `secs` seconds.
    pub fn after(t: Timestamp, secs: i64) -> Timestamp {
        t.checked_add(SignedDuration::from_secs(secs)).unwrap_or(t)
    }

    /// Keep a record; one that would fall at or after "now" (a late step of
    /// activity that started just before) is left out: the story ends
    /// before now.
    pub fn emit(&mut self, at: Timestamp, record: &Value) {
        if at >= self.now {
            return;
        }
        self.events.push(StoryEvent {
            at,
            chapter: self.chapter,
            json: record.to_string(),
        });
    }

    /// A fresh process of `image` run by `user`.
    pub fn new_proc(&mut self, image: &str, command_line: &str, user: &str) -> Proc {
        let system = user.starts_with("NT AUTHORITY");
        Proc {
            guid: self.rng.guid(),
            pid: u32::try_from(self.rng.between(1000, 15000) & !3).unwrap_or(4000),
            image: image.to_owned(),
            command_line: command_line.to_owned(),
            user: user.to_owned(),
            integrity: if system { "System" } else { "Medium" },
            logon_id: if system {
                "0x3e7".into()
            } else {
                format!("0x{}", self.rng.hex(6).to_ascii_lowercase())
            },
            current_directory: if system {
                "C:\\Windows\\system32\\".into()
            } else {
                "C:\\Windows\\System32\\".into()
            },
        }
    }

    fn record_id(&mut self, host: &Host) -> u64 {
        let next = self.record_ids.entry(host.name.clone()).or_insert_with(|| {
            // Each host's log has been running for a while.
            10_000 + (crate::rng::fnv1a(host.name.as_bytes()) % 50_000)
        });
        *next += 1;
        *next
    }

    fn windows(&mut self, host: &Host, at: Timestamp, build: impl Fn(&Origin<'_>) -> Value) {
        let computer = host.fqdn();
        let origin = Origin {
            computer: &computer,
            time: at,
            record_id: self.record_id(host),
        };
        let v = build(&origin);
        self.emit(at, &v);
    }

    /// Sysmon 1.
    pub fn process(&mut self, host: &Host, at: Timestamp, p: &Proc, parent: &Proc) {
        self.windows(host, at, |o| windows::process_create(o, p, parent));
    }

    /// Sysmon 11.
    pub fn file(&mut self, host: &Host, at: Timestamp, p: &Proc, path: &str) {
        self.windows(host, at, |o| windows::file_create(o, p, path));
    }

    /// Sysmon 3 from `host` to `ip`:`port`.
    pub fn connect(
        &mut self,
        host: &Host,
        at: Timestamp,
        p: &Proc,
        ip: &str,
        name: &str,
        port: u16,
    ) {
        let source_port = u16::try_from(self.rng.between(49_152, 65_000)).unwrap_or(50_000);
        let source_ip = host.ip.clone();
        self.windows(host, at, |o| {
            windows::network_connect(
                o,
                p,
                &Peer {
                    source_ip: &source_ip,
                    source_port,
                    ip,
                    host: name,
                    port,
                },
            )
        });
    }

    /// Security 4624 / 4625 on `host`.
    pub fn logon(&mut self, host: &Host, at: Timestamp, l: &Logon<'_>, ok: bool) {
        self.windows(host, at, |o| windows::logon(o, l, ok));
    }

    /// Security 4672 on `host`.
    pub fn privileges(&mut self, host: &Host, at: Timestamp, user: &str, domain: &str) {
        let logon_id = format!("0x{}", self.rng.hex(6).to_ascii_lowercase());
        self.windows(host, at, |o| {
            windows::special_privileges(o, user, domain, &logon_id)
        });
    }

    /// Security 4769 on a domain controller.
    pub fn ticket(&mut self, dc: &Host, at: Timestamp, user: &str, service: &str, ip: &str) {
        let realm = crate::estate::DOMAIN.to_ascii_uppercase();
        self.windows(dc, at, |o| {
            windows::service_ticket(o, user, &realm, service, ip)
        });
    }

    /// Defender 5001 on `host`.
    pub fn defender_off(&mut self, host: &Host, at: Timestamp) {
        self.windows(host, at, windows::realtime_protection_disabled);
    }

    /// Security 1102 on `host`.
    pub fn security_log_cleared(&mut self, host: &Host, at: Timestamp, user: &str, domain: &str) {
        self.windows(host, at, |o| windows::security_log_cleared(o, user, domain));
    }

    /// An index into a list of `len` items.
    pub fn index(&mut self, len: usize) -> usize {
        self.rng.index(len)
    }

    pub fn uuid(&mut self) -> String {
        self.rng.uuid()
    }
}
