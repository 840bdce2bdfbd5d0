//! Major-incident criteria (PRODUCT.md §11; docs/major-incidents.md): each
//! a pure function over an incident, its alerts and its events, with the
//! tenant's thresholds, returning what it found when it holds.
//!
//! The caller gathers the input (the alerts, each alert's evidence events,
//! the events around the incident's entities, the accounts judged
//! compromised) and stores what fires; nothing here reads a clock or a
//! store.

pub mod signals;

use std::collections::{BTreeMap, BTreeSet};

use vigil_core::alert::Alert;
use vigil_core::incident::Incident;
use vigil_core::major::{Criterion, Evidence, FiredCriterion, MajorThresholds};
use vigil_core::{EntityKind, Timestamp};
use vigil_formats::FlatEvent;

use signals::{Signal, host, privileged_by_name, signals};

/// One stored event as the criteria read it: what its fields signal,
/// read once. Small, and the same every time its event is read, so a
/// caller that evaluates an incident again may keep it for the next time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFacts {
    pub seq: i64,
    pub time: Timestamp,
    /// The event's host, lowercased (kept only with signals).
    pub host: Option<String>,
    pub signals: Vec<Signal>,
    /// `SubjectUserName` (kept only with signals).
    pub subject_user: Option<String>,
}

impl EventFacts {
    /// The facts of the event `seq` at `time` with fields `event`.
    pub fn read(seq: i64, time: Timestamp, event: &FlatEvent) -> Self {
        let signals = signals(event);
        let (host, subject_user) = if signals.is_empty() {
            (None, None)
        } else {
            (host(event), event.get("SubjectUserName").map(str::to_owned))
        };
        EventFacts {
            seq,
            time,
            host,
            signals,
            subject_user,
        }
    }
}

/// Everything the criteria look at for one incident.
#[derive(Debug, Clone, Copy)]
pub struct MajorInput<'a> {
    pub incident: &'a Incident,
    pub alerts: &'a [Alert],
    /// Each alert's evidence events (`seq`), by alert id.
    pub alert_events: &'a BTreeMap<String, Vec<i64>>,
    /// The alerts' evidence events and the events around the incident's
    /// entities, each once.
    pub events: &'a [EventFacts],
    /// User accounts judged compromised (a `malicious` verdict, or a
    /// `mark_user_compromised` task), lowercased.
    pub compromised_users: &'a [String],
    pub thresholds: &'a MajorThresholds,
}

/// The events with signals, shared by the criteria.
struct Seen<'a> {
    input: MajorInput<'a>,
    signals: Vec<&'a EventFacts>,
}

impl<'a> Seen<'a> {
    fn new(input: MajorInput<'a>) -> Self {
        let signals = input
            .events
            .iter()
            .filter(|e| !e.signals.is_empty())
            .collect();
        Seen { input, signals }
    }

    /// Events carrying a signal `pick` accepts, with its value.
    fn matching<T>(
        &self,
        pick: impl Fn(&Signal) -> Option<T>,
    ) -> Vec<(&'a EventFacts, Option<&str>, T)> {
        let mut out = Vec::new();
        for e in &self.signals {
            for s in &e.signals {
                if let Some(v) = pick(s) {
                    out.push((*e, e.host.as_deref(), v));
                }
            }
        }
        out
    }
}

/// A criterion's check: its summary and evidence when it holds.
type Check = fn(&Seen<'_>) -> Option<(String, Evidence)>;

/// Every criterion that holds for the incident, in [`Criterion::ALL`]
/// order, stamped `now`.
pub fn evaluate(input: MajorInput<'_>, now: Timestamp) -> Vec<FiredCriterion> {
    let seen = Seen::new(input);
    let checks: [(Criterion, Check); 6] = [
        (Criterion::Ransomware, ransomware),
        (Criterion::ManyHosts, many_hosts),
        (Criterion::DomainCredentialTheft, domain_credential_theft),
        (Criterion::PrivilegedAccount, privileged_account),
        (Criterion::Exfiltration, exfiltration),
        (
            Criterion::LogAndBackupDestruction,
            log_and_backup_destruction,
        ),
    ];
    checks
        .iter()
        .filter_map(|(criterion, check)| {
            check(&seen).map(|(summary, evidence)| FiredCriterion {
                criterion: *criterion,
                summary,
                evidence,
                at: now,
            })
        })
        .collect()
}

/// Evidence from matched events: their seqs and hosts, sorted, once each.
fn evidence_of<T>(hits: &[(&EventFacts, Option<&str>, T)]) -> Evidence {
    let events: BTreeSet<i64> = hits.iter().map(|(e, _, _)| e.seq).collect();
    let hosts: BTreeSet<String> = hits
        .iter()
        .filter_map(|(_, h, _)| h.map(str::to_owned))
        .collect();
    Evidence {
        events: events.into_iter().collect(),
        hosts: hosts.into_iter().collect(),
        ..Evidence::default()
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Shadow copies or backups deleted, recovery disabled, a ransom note, or
/// at least `encrypted_files` files with ransomware extensions on a host.
fn ransomware(s: &Seen<'_>) -> Option<(String, Evidence)> {
    let shadow = s.matching(|x| (*x == Signal::ShadowCopyDeletion).then_some(()));
    let recovery = s.matching(|x| (*x == Signal::RecoveryDisabled).then_some(()));
    let backup = s.matching(|x| (*x == Signal::BackupDeletion).then_some(()));
    let notes = s.matching(|x| match x {
        Signal::RansomNote(p) => Some(p.clone()),
        _ => None,
    });
    let encrypted = s.matching(|x| match x {
        Signal::EncryptedFile(p) => Some(p.clone()),
        _ => None,
    });
    let mut per_host: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (_, h, p) in &encrypted {
        per_host.entry(h.unwrap_or("")).or_default().insert(p);
    }
    let most = per_host.values().map(BTreeSet::len).max().unwrap_or(0);
    let mass = most >= s.input.thresholds.encrypted_files as usize;
    if shadow.is_empty() && recovery.is_empty() && backup.is_empty() && notes.is_empty() && !mass {
        return None;
    }
    let mut parts = Vec::new();
    let mut all: Vec<(&EventFacts, Option<&str>, ())> = Vec::new();
    let mut counts = BTreeMap::new();
    for (name, hits) in [
        ("shadow_copy_deletions", &shadow),
        ("recovery_disabled", &recovery),
        ("backup_deletions", &backup),
    ] {
        if !hits.is_empty() {
            parts.push(format!("{} {}", hits.len(), name.replace('_', " ")));
            counts.insert(name.to_owned(), count(hits.len()));
            all.extend(hits.iter().map(|(e, h, _)| (*e, *h, ())));
        }
    }
    if !notes.is_empty() {
        parts.push(format!("{} ransom notes", notes.len()));
        counts.insert("ransom_notes".to_owned(), count(notes.len()));
        all.extend(notes.iter().map(|(e, h, _)| (*e, *h, ())));
    }
    if mass {
        parts.push(format!("{most} encrypted files on one host"));
        counts.insert("encrypted_files".to_owned(), count(most));
        all.extend(encrypted.iter().map(|(e, h, _)| (*e, *h, ())));
    }
    let evidence = Evidence {
        counts,
        ..evidence_of(&all)
    };
    let summary = format!(
        "ransomware behaviour on {} host(s): {}",
        evidence.hosts.len().max(1),
        parts.join(", ")
    );
    Some((summary, evidence))
}

/// One detection rule's alerts name at least `hosts` distinct devices.
fn many_hosts(s: &Seen<'_>) -> Option<(String, Evidence)> {
    let mut by_rule: BTreeMap<&str, (&str, BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for a in s.input.alerts {
        let slot = by_rule
            .entry(a.rule_id.as_str())
            .or_insert_with(|| (a.rule_title.as_str(), BTreeSet::new(), Vec::new()));
        slot.1.extend(
            a.entities
                .iter()
                .filter(|e| e.kind == EntityKind::Device)
                .map(|e| e.value.to_ascii_lowercase()),
        );
        slot.2.push(a.id.to_string());
    }
    let wide: Vec<_> = by_rule
        .values()
        .filter(|(_, hosts, _)| hosts.len() >= s.input.thresholds.hosts as usize)
        .collect();
    if wide.is_empty() {
        return None;
    }
    let mut evidence = Evidence::default();
    let mut hosts = BTreeSet::new();
    let mut names = Vec::new();
    for (title, h, alerts) in &wide {
        names.push(format!("{title:?} on {} hosts", h.len()));
        hosts.extend(h.iter().cloned());
        evidence.alerts.extend(alerts.iter().cloned());
    }
    evidence.hosts = hosts.into_iter().collect();
    evidence
        .counts
        .insert("hosts".into(), count(evidence.hosts.len()));
    evidence.counts.insert("rules".into(), count(wide.len()));
    Some((
        format!(
            "the same activity on {} or more hosts: {}",
            s.input.thresholds.hosts,
            names.join("; ")
        ),
        evidence,
    ))
}

/// Directory replication by a user account (DCSync), or credential
/// dumping on a domain controller (a configured one, or a host logging
/// Kerberos ticket or directory-service access events).
fn domain_credential_theft(s: &Seen<'_>) -> Option<(String, Evidence)> {
    let replication = s.matching(|x| (*x == Signal::Replication).then_some(()));
    let mut dcs: BTreeSet<String> = s
        .input
        .thresholds
        .domain_controllers
        .iter()
        .map(|d| d.to_ascii_lowercase())
        .collect();
    dcs.extend(
        s.matching(|x| (*x == Signal::DomainController).then_some(()))
            .into_iter()
            .filter_map(|(_, h, _)| h.map(str::to_owned)),
    );
    let on_dc = |h: Option<&str>| {
        h.is_some_and(|h| {
            dcs.contains(h)
                || dcs
                    .iter()
                    .any(|d| h.split('.').next() == d.split('.').next())
        })
    };
    let dumps: Vec<_> = s
        .matching(|x| (*x == Signal::CredentialDump).then_some(()))
        .into_iter()
        .filter(|(_, h, _)| on_dc(*h))
        .collect();
    if replication.is_empty() && dumps.is_empty() {
        return None;
    }
    let mut all = replication.clone();
    all.extend(dumps.iter().cloned());
    let mut evidence = evidence_of(&all);
    evidence
        .counts
        .insert("replication_requests".into(), count(replication.len()));
    evidence
        .counts
        .insert("dc_credential_dumps".into(), count(dumps.len()));
    let users: BTreeSet<String> = replication
        .iter()
        .filter_map(|(e, _, _)| e.subject_user.as_deref())
        .map(str::to_ascii_lowercase)
        .collect();
    evidence.users = users.into_iter().collect();
    let summary = match (replication.len(), dumps.len()) {
        (0, d) => format!("credential dumping on a domain controller ({d} events)"),
        (r, 0) => format!("directory replication abuse (DCSync): {r} requests"),
        (r, d) => format!(
            "directory replication abuse (DCSync, {r} requests) and credential dumping on a domain controller ({d} events)"
        ),
    };
    Some((summary, evidence))
}

/// A compromised account that is privileged: by name, by configuration,
/// or by the incident's events (special logon, admin-group membership).
fn privileged_account(s: &Seen<'_>) -> Option<(String, Evidence)> {
    let marked = s.matching(|x| match x {
        Signal::Privileged(u) => Some(u.clone()),
        _ => None,
    });
    let configured: BTreeSet<String> = s
        .input
        .thresholds
        .privileged_users
        .iter()
        .map(|u| short(u))
        .collect();
    let mut evidence = Evidence::default();
    let mut events = BTreeSet::new();
    for u in s.input.compromised_users {
        let name = short(u);
        let by_events: Vec<_> = marked.iter().filter(|(_, _, m)| *m == name).collect();
        if configured.contains(&name) || privileged_by_name(u) || !by_events.is_empty() {
            evidence.users.push(u.clone());
            events.extend(by_events.iter().map(|(e, _, _)| e.seq));
        }
    }
    if evidence.users.is_empty() {
        return None;
    }
    evidence.events = events.into_iter().collect();
    evidence
        .counts
        .insert("accounts".into(), count(evidence.users.len()));
    Some((
        format!(
            "compromised privileged account(s): {}",
            evidence.users.join(", ")
        ),
        evidence,
    ))
}

/// `ACME\alice`, `alice@acme.example` → `alice`.
fn short(user: &str) -> String {
    let u = user.split('@').next().unwrap_or(user);
    u.rsplit('\\').next().unwrap_or(u).to_ascii_lowercase()
}

/// Alerts of the exfiltration tactic whose evidence counts at least
/// `exfiltration_bytes` sent out.
fn exfiltration(s: &Seen<'_>) -> Option<(String, Evidence)> {
    let exfil: Vec<&Alert> = s
        .input
        .alerts
        .iter()
        .filter(|a| a.tactics.iter().any(|t| t == "exfiltration"))
        .collect();
    if exfil.is_empty() {
        return None;
    }
    let seqs: BTreeSet<i64> = exfil
        .iter()
        .filter_map(|a| s.input.alert_events.get(&a.id.to_string()))
        .flatten()
        .copied()
        .collect();
    let bytes = s.matching(|x| match x {
        Signal::BytesOut(n) => Some(*n),
        _ => None,
    });
    let bytes: Vec<_> = bytes
        .into_iter()
        .filter(|(e, _, _)| seqs.contains(&e.seq))
        .collect();
    let total: u64 = bytes.iter().map(|(_, _, n)| *n).sum();
    if total < s.input.thresholds.exfiltration_bytes {
        return None;
    }
    let mut evidence = evidence_of(&bytes);
    evidence.alerts = exfil.iter().map(|a| a.id.to_string()).collect();
    evidence.counts.insert("bytes_out".into(), total);
    Some((
        format!(
            "confirmed exfiltration of {total} bytes (threshold {})",
            s.input.thresholds.exfiltration_bytes
        ),
        evidence,
    ))
}

/// Backups deleted, or at least `cleared_logs` distinct logs or trails
/// cleared or stopped.
fn log_and_backup_destruction(s: &Seen<'_>) -> Option<(String, Evidence)> {
    let logs = s.matching(|x| match x {
        Signal::LogCleared(k) => Some(k.clone()),
        _ => None,
    });
    let backup = s.matching(|x| (*x == Signal::BackupDeletion).then_some(String::new()));
    let distinct: BTreeSet<&str> = logs.iter().map(|(_, _, k)| k.as_str()).collect();
    let enough_logs = distinct.len() >= s.input.thresholds.cleared_logs as usize;
    if !enough_logs && backup.is_empty() {
        return None;
    }
    let mut all = logs.clone();
    all.extend(backup.iter().cloned());
    let mut evidence = evidence_of(&all);
    evidence
        .counts
        .insert("logs_cleared".into(), count(distinct.len()));
    evidence
        .counts
        .insert("backup_deletions".into(), count(backup.len()));
    let mut parts = Vec::new();
    if !distinct.is_empty() {
        parts.push(format!(
            "{} log(s) cleared or stopped ({})",
            distinct.len(),
            distinct.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !backup.is_empty() {
        parts.push(format!("{} backup deletion(s)", backup.len()));
    }
    Some((
        format!("destruction of logs and backups: {}", parts.join("; ")),
        evidence,
    ))
}

#[cfg(test)]
mod tests;
