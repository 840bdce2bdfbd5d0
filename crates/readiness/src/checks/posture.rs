//! The protection baseline, from the latest device and identity posture
//! snapshots: the share of assets configured as wanted; the others
//! listed. A value the snapshot does not report counts as not configured.

use serde_json::Value;
use vigil_core::readiness::{CheckStatus, Evidence};

use super::{Outcome, num, percent, share_status};
use crate::catalogue::{AsrRule, IdentitySelection, Limits, Want};
use crate::facts::{Facts, truth};

fn has(v: Option<&Value>, want: &Want) -> bool {
    match want {
        Want::On(b) => truth(v) == Some(*b),
        Want::Mode(m) => v
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(m)),
    }
}

fn no_devices(l: &Limits) -> Outcome {
    Outcome::new(
        CheckStatus::Fail,
        Evidence::new(format!(
            "no device posture snapshot in scope in the last {} days: send device inventory snapshots",
            l.inventory_window_days
        )),
    )
}

fn outcome(
    what: &str,
    good: usize,
    failing: Vec<String>,
    unreported: usize,
    l: &Limits,
) -> Outcome {
    let total = good + failing.len();
    let pct = percent(good, total);
    let mut summary = format!("{good} of {total} {what} ({pct}%)");
    if !failing.is_empty() {
        summary.push_str(&format!("; {} not", failing.len()));
        if unreported > 0 {
            summary.push_str(&format!(" ({unreported} do not report it)"));
        }
    }
    Outcome::new(
        share_status(good, total, l.coverage_target_percent),
        Evidence::new(summary)
            .with("compliant", num(good))
            .with("assessed", num(total))
            .with("not_reported", num(unreported))
            .with("percent", pct)
            .with_assets(failing),
    )
}

pub(super) fn device(f: &Facts, l: &Limits, fields: &[String], want: &Want) -> Outcome {
    let devices = f.devices_in_scope();
    if devices.is_empty() {
        return no_devices(l);
    }
    let (mut good, mut failing, mut unreported) = (0, Vec::new(), 0);
    for d in &devices {
        if fields.iter().all(|k| has(d.posture.get(k), want)) {
            good += 1;
        } else {
            if fields.iter().any(|k| d.posture.get(k).is_none()) {
                unreported += 1;
            }
            failing.push(d.hostname.clone());
        }
    }
    let wanted = match want {
        Want::On(true) => "on".to_owned(),
        Want::On(false) => "off".to_owned(),
        Want::Mode(m) => format!("in {m} mode"),
    };
    let what = format!("devices have {} {wanted}", fields.join(" and "));
    outcome(&what, good, failing, unreported, l)
}

/// A rule's mode on a device, by its name or GUID (either case).
fn asr_mode<'a>(posture: &'a serde_json::Map<String, Value>, rule: &AsrRule) -> Option<&'a str> {
    let rules = posture.get("asr_rules")?.as_object()?;
    rules
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&rule.name) || k.eq_ignore_ascii_case(&rule.guid))
        .and_then(|(_, v)| v.as_str())
}

pub(super) fn asr(f: &Facts, l: &Limits, rules: &[AsrRule]) -> Outcome {
    let devices = f.devices_in_scope();
    if devices.is_empty() {
        return no_devices(l);
    }
    let mut missing = vec![0usize; rules.len()];
    let (mut good, mut failing, mut unreported) = (0, Vec::new(), 0);
    for d in &devices {
        let mut ok = true;
        for (i, r) in rules.iter().enumerate() {
            match asr_mode(&d.posture, r) {
                Some(m) if m.eq_ignore_ascii_case("block") => {}
                Some(_) => {
                    ok = false;
                    missing[i] += 1;
                }
                None => {
                    ok = false;
                    missing[i] += 1;
                    unreported += 1;
                }
            }
        }
        if ok {
            good += 1;
        } else {
            failing.push(d.hostname.clone());
        }
    }
    let mut o = outcome(
        "devices have every key ASR rule in block mode",
        good,
        failing,
        unreported.min(devices.len()),
        l,
    );
    for (r, n) in rules.iter().zip(missing) {
        o.evidence = o.evidence.with(&format!("not_blocking.{}", r.name), num(n));
    }
    o
}

pub(super) fn identity(f: &Facts, l: &Limits, field: &str, only: IdentitySelection) -> Outcome {
    if f.identities.is_empty() {
        return Outcome::new(
            CheckStatus::Warn,
            Evidence::new(format!(
                "no identity posture snapshot in the last {} days: send identity inventory snapshots",
                l.inventory_window_days
            )),
        );
    }
    let selected: Vec<_> = f
        .identities_in_scope()
        .into_iter()
        .filter(|i| match only {
            IdentitySelection::Enabled => true,
            IdentitySelection::Privileged => i.privileged,
            IdentitySelection::Mailbox => i.has_mailbox,
        })
        .collect();
    let what = match only {
        IdentitySelection::Enabled => "enabled identities",
        IdentitySelection::Privileged => "enabled privileged identities",
        IdentitySelection::Mailbox => "enabled identities with a mailbox",
    };
    if selected.is_empty() {
        return Outcome::new(
            CheckStatus::NotApplicable,
            Evidence::new(format!("the identity inventory lists no {what}")),
        );
    }
    let (mut good, mut failing, mut unreported) = (0, Vec::new(), 0);
    for i in selected {
        if has(i.posture.get(field), &Want::On(true)) {
            good += 1;
        } else {
            if i.posture.get(field).is_none() {
                unreported += 1;
            }
            failing.push(i.upn.clone());
        }
    }
    outcome(
        &format!("{what} have {field} on"),
        good,
        failing,
        unreported,
        l,
    )
}
