//! Calendar months in UTC: the trend's buckets and the monthly schedule's
//! periods.

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use vigil_core::Timestamp;

use crate::Period;

/// How many months a trend covers, the period's own month included.
pub const TREND_MONTHS: i32 = 6;

/// The start of the UTC month holding `at`.
pub fn month_start(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::UTC).date().first_of_month()
}

fn at_midnight(d: Date) -> Option<Timestamp> {
    d.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// The month starting on `first` as a period, with its `YYYY-MM` label.
pub fn month_period(first: Date) -> Option<(String, Period)> {
    let next = first.checked_add(1.month()).ok()?;
    Some((
        format!("{:04}-{:02}", first.year(), first.month()),
        Period {
            from: at_midnight(first)?,
            to: at_midnight(next)?,
        },
    ))
}

/// The [`TREND_MONTHS`] months ending with the one holding the period's
/// last instant, oldest first.
pub fn trend_months(period: Period) -> Vec<(String, Period)> {
    let last = period
        .to
        .checked_sub(jiff::SignedDuration::from_micros(1))
        .unwrap_or(period.to)
        .max(period.from);
    let end = month_start(last);
    (0..TREND_MONTHS)
        .rev()
        .filter_map(|back| end.checked_sub(back.months()).ok())
        .filter_map(month_period)
        .collect()
}

/// The earliest instant a report over `period` reads: the start of its
/// first trend month, or the period's start if earlier.
pub fn window_start(period: Period) -> Timestamp {
    trend_months(period)
        .first()
        .map_or(period.from, |(_, p)| p.from.min(period.from))
}

/// The calendar month before the one holding `now`: what the monthly
/// schedule sends at the start of a month.
pub fn previous_month(now: Timestamp) -> Option<(String, Period)> {
    let first = month_start(now).checked_sub(1.month()).ok()?;
    month_period(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn the_trend_is_the_six_months_ending_with_the_periods_last_month() {
        let p = Period {
            from: ts("2026-10-28T00:00:00Z"),
            to: ts("2026-11-27T00:00:00Z"),
        };
        let months: Vec<String> = trend_months(p).into_iter().map(|(m, _)| m).collect();
        assert_eq!(
            months,
            [
                "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"
            ]
        );
        assert_eq!(window_start(p), ts("2026-06-01T00:00:00Z"));
    }

    #[test]
    fn a_period_ending_at_midnight_on_the_first_ends_its_trend_the_month_before() {
        let p = Period {
            from: ts("2026-10-01T00:00:00Z"),
            to: ts("2026-11-01T00:00:00Z"),
        };
        let months = trend_months(p);
        assert_eq!(months.last().map(|(m, _)| m.as_str()), Some("2026-10"));
        assert_eq!(months[0].0, "2026-05");
    }

    #[test]
    fn the_previous_month_crosses_the_year() {
        let (label, p) = previous_month(ts("2027-01-01T00:05:00Z")).expect("month");
        assert_eq!(label, "2026-12");
        assert_eq!(p.from, ts("2026-12-01T00:00:00Z"));
        assert_eq!(p.to, ts("2027-01-01T00:00:00Z"));
    }
}
