//! The period a report covers, from the caller's `from` and `to`.

use jiff::SignedDuration;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use vigil_core::Timestamp;
use vigil_reports::Period;

use crate::{Result, ServiceError};

/// Without `from`, a report covers this many days before `to`.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest period a report covers.
pub const MAX_DAYS: i64 = 366;

/// A bound: an RFC 3339 instant, or a date (UTC). A date as `from` is its
/// first instant; as `to` it is included whole (the period ends at the
/// next midnight).
fn bound(name: &str, text: &str, end: bool) -> Result<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let date: Date = text.parse().map_err(|_| {
        ServiceError::Invalid(format!(
            "{name} {text:?}: expected a date (2026-10-01) or an RFC 3339 time (2026-10-01T00:00:00Z)"
        ))
    })?;
    let date = if end {
        date.tomorrow()
            .map_err(|e| ServiceError::Invalid(format!("{name} {text:?}: {e}")))?
    } else {
        date
    };
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| ServiceError::Invalid(format!("{name} {text:?}: {e}")))
}

/// The period from optional `from` and `to` at `now`: `to` defaults to
/// `now`, `from` to [`DEFAULT_DAYS`] before `to`. Refused when `from` is not
/// before `to` or the period is longer than [`MAX_DAYS`].
pub fn parse_period(from: Option<&str>, to: Option<&str>, now: Timestamp) -> Result<Period> {
    let to = match to {
        Some(t) => bound("to", t, true)?,
        None => now,
    };
    let from = match from {
        Some(f) => bound("from", f, false)?,
        None => to
            .checked_sub(SignedDuration::from_hours(24 * DEFAULT_DAYS))
            .map_err(|e| ServiceError::Invalid(format!("to: {e}")))?,
    };
    if from >= to {
        return Err(ServiceError::Invalid(format!(
            "the period must end after it starts: from {from} is not before to {to}"
        )));
    }
    if to.duration_since(from) > SignedDuration::from_hours(24 * MAX_DAYS) {
        return Err(ServiceError::Invalid(format!(
            "a report covers at most {MAX_DAYS} days: from {from} to {to} is longer"
        )));
    }
    Ok(Period { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn without_bounds_a_report_covers_the_last_thirty_days() {
        let p = parse_period(None, None, ts("2026-11-27T12:00:00Z")).expect("period");
        assert_eq!(p.from, ts("2026-10-28T12:00:00Z"));
        assert_eq!(p.to, ts("2026-11-27T12:00:00Z"));
    }

    #[test]
    fn a_date_as_to_includes_that_whole_day() {
        let p = parse_period(
            Some("2026-10-01"),
            Some("2026-10-31"),
            ts("2026-11-27T12:00:00Z"),
        )
        .expect("period");
        assert_eq!(p.from, ts("2026-10-01T00:00:00Z"));
        assert_eq!(p.to, ts("2026-11-01T00:00:00Z"));
        let p = parse_period(
            Some("2026-10-01T06:00:00Z"),
            Some("2026-10-02T00:00:00Z"),
            ts("2026-11-27T12:00:00Z"),
        )
        .expect("instants");
        assert_eq!(p.to, ts("2026-10-02T00:00:00Z"));
    }

    #[test]
    fn backwards_overlong_and_malformed_periods_are_refused_naming_why() {
        let now = ts("2026-11-27T12:00:00Z");
        let e = parse_period(Some("2026-11-02"), Some("2026-11-01"), now).expect_err("backwards");
        assert!(e.to_string().contains("must end after"), "{e}");
        let e = parse_period(Some("2024-01-01"), Some("2026-01-01"), now).expect_err("too long");
        assert!(e.to_string().contains("366 days"), "{e}");
        let e = parse_period(Some("last week"), None, now).expect_err("malformed");
        assert!(e.to_string().contains("from \"last week\""), "{e}");
    }
}
