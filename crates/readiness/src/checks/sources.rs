//! Data sources: did each expected source deliver in the last day, and
//! how fresh is its newest event?

use vigil_core::readiness::{CheckStatus, Evidence, StreamActivity};

use super::{Outcome, hours_since};
use crate::catalogue::{Limits, StreamMatch};
use crate::facts::Facts;

impl StreamMatch {
    /// Each part given equals the stream's; the entity must be equal too,
    /// so that "all events" and "events naming a process" never add up.
    pub fn matches(&self, s: &StreamActivity) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == have)
        };
        eq(&self.shape, Some(&s.shape))
            && eq(&self.product, s.product.as_deref())
            && eq(&self.service, s.service.as_deref())
            && self.entity == s.entity
    }
}

fn label(s: &StreamActivity) -> String {
    let mut l = match (&s.product, &s.service) {
        (Some(p), Some(sv)) => format!("{p}/{sv}"),
        (Some(p), None) => p.clone(),
        _ => s.shape.clone(),
    };
    if let Some(e) = &s.entity {
        l.push_str(&format!(" ({e})"));
    }
    l
}

pub(super) fn source(f: &Facts, l: &Limits, wanted: &[StreamMatch]) -> Outcome {
    let streams: Vec<&StreamActivity> = f
        .streams
        .iter()
        .filter(|s| wanted.iter().any(|m| m.matches(s)))
        .collect();
    let events: u64 = streams.iter().map(|s| s.events_last_day).sum();
    let Some(last) = streams.iter().map(|s| s.last_event).max() else {
        return Outcome::new(
            CheckStatus::Fail,
            Evidence::new("no events from this source have been received").with("events_24h", 0.0),
        );
    };
    let age = hours_since(f.now, last);
    let names: Vec<String> = streams.iter().map(|s| label(s)).collect();
    #[allow(clippy::cast_precision_loss)]
    let evidence = |summary: String| {
        Evidence::new(summary)
            .with("events_24h", events as f64)
            .with("hours_since_last_event", age as f64)
            .with_assets(names.clone())
    };
    let silent = i64::from(l.silent_hours);
    if events == 0 || age >= silent {
        return Outcome::new(
            CheckStatus::Fail,
            evidence(format!(
                "no events in the last {silent} h; the newest is from {last} ({age} h ago)"
            )),
        );
    }
    if age >= i64::from(l.fresh_hours) {
        return Outcome::new(
            CheckStatus::Warn,
            evidence(format!(
                "{events} events in the last {silent} h, but the newest is {age} h old (fresh is under {} h)",
                l.fresh_hours
            )),
        );
    }
    Outcome::new(
        CheckStatus::Pass,
        evidence(format!(
            "{events} events in the last {silent} h; the newest from {last}"
        )),
    )
}
