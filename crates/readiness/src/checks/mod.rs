//! The evaluators: each turns facts into a status and evidence. Small and
//! pure; which one a check uses, and with what parameters, is data in the
//! catalogue.

mod coverage;
mod posture;
mod sensors;
mod settings;
mod sources;

use jiff::SignedDuration;
use vigil_core::Timestamp;
use vigil_core::readiness::{CheckStatus, Evidence};

use crate::catalogue::{Evaluate, Limits};
use crate::facts::Facts;

/// A status and what it rests on.
pub(crate) struct Outcome {
    pub status: CheckStatus,
    pub evidence: Evidence,
}

impl Outcome {
    pub fn new(status: CheckStatus, evidence: Evidence) -> Self {
        Outcome { status, evidence }
    }
}

pub(crate) fn evaluate(e: &Evaluate, f: &Facts, l: &Limits) -> Outcome {
    match e {
        Evaluate::Source { streams } => sources::source(f, l, streams),
        Evaluate::DeviceCoverage => coverage::devices(f, l),
        Evaluate::IdentityCoverage => coverage::identities(f, l),
        Evaluate::SilentDevices => sensors::silent(f, l),
        Evaluate::SensorHealth => sensors::health(f),
        Evaluate::ClockSkew => sensors::clock_skew(f, l),
        Evaluate::ParseErrors => sensors::parse_errors(f, l),
        Evaluate::DevicePosture { fields, want } => posture::device(f, l, fields, want),
        Evaluate::AsrRules { rules } => posture::asr(f, l, rules),
        Evaluate::IdentityPosture { field, only } => posture::identity(f, l, field, *only),
        Evaluate::Setting { setting } => settings::setting(f, *setting),
    }
}

/// `hours` before `now` (the earliest time when out of range).
pub(crate) fn hours_before(now: Timestamp, hours: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(hours))
        .unwrap_or(Timestamp::MIN)
}

/// Whole hours from `then` to `now`.
pub(crate) fn hours_since(now: Timestamp, then: Timestamp) -> i64 {
    now.duration_since(then).as_hours()
}

/// `part` of `whole` in percent, one decimal.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    ((part as f64 * 1000.0 / whole as f64).round()) / 10.0
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn num(n: usize) -> f64 {
    n as f64
}

/// The status of a share against the target: all → pass, at least the
/// target → warn, else fail.
pub(crate) fn share_status(good: usize, total: usize, target: f64) -> CheckStatus {
    if good == total {
        CheckStatus::Pass
    } else if percent(good, total) >= target {
        CheckStatus::Warn
    } else {
        CheckStatus::Fail
    }
}
