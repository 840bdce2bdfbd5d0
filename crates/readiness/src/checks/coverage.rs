//! Asset coverage: devices and identities sending telemetry ÷ those in
//! the inventory, against the target; the uncovered ones listed.

use vigil_core::readiness::{CheckStatus, Evidence};

use super::{Outcome, hours_before, num, percent};
use crate::catalogue::Limits;
use crate::facts::Facts;

fn outcome(
    what: &str,
    window: &str,
    covered: usize,
    uncovered: Vec<String>,
    target: f64,
) -> Outcome {
    let total = covered + uncovered.len();
    let pct = percent(covered, total);
    let status = if pct >= target {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    let summary = if uncovered.is_empty() {
        format!("all {total} {what} in the inventory sent telemetry in the last {window}")
    } else {
        format!(
            "{covered} of {total} {what} ({pct}%) sent telemetry in the last {window}; target {target}%; {} not covered",
            uncovered.len()
        )
    };
    Outcome::new(
        status,
        Evidence::new(summary)
            .with("covered", num(covered))
            .with("inventory", num(total))
            .with("percent", pct)
            .with("target_percent", target)
            .with_assets(uncovered),
    )
}

pub(super) fn devices(f: &Facts, l: &Limits) -> Outcome {
    let devices = f.devices_in_scope();
    if devices.is_empty() {
        return Outcome::new(
            CheckStatus::Fail,
            Evidence::new(format!(
                "no device inventory: no device_inventory snapshot in scope in the last {} days, so coverage cannot be measured",
                l.inventory_window_days
            )),
        );
    }
    let since = hours_before(f.now, i64::from(l.silent_hours));
    let (mut covered, mut uncovered) = (0, Vec::new());
    for d in devices {
        match f.device_last_seen(&d.hostname) {
            Some(t) if t >= since => covered += 1,
            _ => uncovered.push(d.hostname.clone()),
        }
    }
    let window = format!("{} h", l.silent_hours);
    outcome(
        "devices",
        &window,
        covered,
        uncovered,
        l.coverage_target_percent,
    )
}

pub(super) fn identities(f: &Facts, l: &Limits) -> Outcome {
    let identities = f.identities_in_scope();
    if identities.is_empty() {
        return Outcome::new(
            CheckStatus::Warn,
            Evidence::new(format!(
                "no identity inventory: no enabled identity in scope in an identity_inventory snapshot of the last {} days, so coverage cannot be measured",
                l.inventory_window_days
            )),
        );
    }
    let since = hours_before(f.now, 24 * i64::from(l.identity_window_days));
    let (mut covered, mut uncovered) = (0, Vec::new());
    for i in identities {
        match f.identity_last_seen(i) {
            Some(t) if t >= since => covered += 1,
            _ => uncovered.push(i.upn.clone()),
        }
    }
    let window = format!("{} days", l.identity_window_days);
    outcome(
        "identities",
        &window,
        covered,
        uncovered,
        l.coverage_target_percent,
    )
}
