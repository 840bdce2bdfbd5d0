//! Sensor health: devices gone silent, sensors reporting trouble, clocks
//! running ahead, records that cannot be parsed.

use vigil_core::readiness::{CheckStatus, Evidence};

use super::{Outcome, hours_before, num};
use crate::catalogue::Limits;
use crate::facts::Facts;

pub(super) fn silent(f: &Facts, l: &Limits) -> Outcome {
    let devices = f.devices_in_scope();
    if devices.is_empty() {
        return Outcome::new(
            CheckStatus::NotApplicable,
            Evidence::new("no device inventory to compare telemetry with"),
        );
    }
    let since = hours_before(f.now, i64::from(l.silent_hours));
    let silent: Vec<String> = devices
        .iter()
        .filter(|d| f.device_last_seen(&d.hostname).is_some_and(|t| t < since))
        .map(|d| d.hostname.clone())
        .collect();
    let n = silent.len();
    if n == 0 {
        return Outcome::new(
            CheckStatus::Pass,
            Evidence::new(format!(
                "no device that reported in the last {} days has been silent for {} h",
                l.activity_window_days, l.silent_hours
            ))
            .with("silent", 0.0),
        );
    }
    Outcome::new(
        CheckStatus::Fail,
        Evidence::new(format!(
            "{n} device(s) sent telemetry in the last {} days but none in the last {} h",
            l.activity_window_days, l.silent_hours
        ))
        .with("silent", num(n))
        .with_assets(silent),
    )
}

pub(super) fn health(f: &Facts) -> Outcome {
    let devices = f.devices_in_scope();
    if devices.is_empty() {
        return Outcome::new(
            CheckStatus::NotApplicable,
            Evidence::new("no device inventory"),
        );
    }
    let unhealthy: Vec<String> = devices
        .iter()
        .filter_map(|d| match d.sensor_health.as_deref() {
            Some(h) if !h.eq_ignore_ascii_case("active") => Some(format!("{} ({h})", d.hostname)),
            _ => None,
        })
        .collect();
    let n = unhealthy.len();
    let status = if n == 0 {
        CheckStatus::Pass
    } else {
        CheckStatus::Warn
    };
    Outcome::new(
        status,
        Evidence::new(format!(
            "{n} of {} devices report their sensor as not active",
            devices.len()
        ))
        .with("unhealthy", num(n))
        .with("inventory", num(devices.len()))
        .with_assets(unhealthy),
    )
}

pub(super) fn clock_skew(f: &Facts, l: &Limits) -> Outcome {
    let tolerance = i64::from(l.clock_skew_minutes) * 60;
    let skewed: Vec<String> = f
        .clock_ahead
        .iter()
        .filter(|(_, secs)| **secs > tolerance)
        .map(|(d, secs)| format!("{d} (+{} min)", secs / 60))
        .collect();
    let n = skewed.len();
    let status = if n == 0 {
        CheckStatus::Pass
    } else {
        CheckStatus::Warn
    };
    Outcome::new(
        status,
        Evidence::new(format!(
            "{n} device(s) sent events dated more than {} min ahead of Vigil's clock in the last {} h",
            l.clock_skew_minutes, l.silent_hours
        ))
        .with("skewed", num(n))
        .with_assets(skewed),
    )
}

pub(super) fn parse_errors(f: &Facts, l: &Limits) -> Outcome {
    let total = f.events_last_day + f.dead_letters_last_day;
    if total == 0 {
        return Outcome::new(
            CheckStatus::NotApplicable,
            Evidence::new("no records received in the last day"),
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let pct = ((f.dead_letters_last_day as f64 * 1000.0 / total as f64).round()) / 10.0;
    let status = if pct > l.parse_error_fail_percent {
        CheckStatus::Fail
    } else if pct > l.parse_error_warn_percent {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    #[allow(clippy::cast_precision_loss)]
    Outcome::new(
        status,
        Evidence::new(format!(
            "{} of {total} records ({pct}%) could not be parsed in the last day",
            f.dead_letters_last_day
        ))
        .with("dead_letters", f.dead_letters_last_day as f64)
        .with("records", total as f64)
        .with("percent", pct),
    )
}
