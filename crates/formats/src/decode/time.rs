//! Event times normalised to RFC 3339 in UTC with microseconds, so that
//! text order is time order: `2026-11-27T07:00:00.123000Z`.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// `text` as a normalised time: RFC 3339 with any offset, or a date and
/// time without one (read as UTC, as the Microsoft 365 audit log writes
/// `CreationTime`). `None` when it is not a time.
pub(super) fn normalise(text: &str) -> Option<String> {
    let text = text.trim();
    let ts = match text.parse::<Timestamp>() {
        Ok(ts) => ts,
        Err(_) => {
            let civil: DateTime = text.parse().ok()?;
            civil.to_zoned(TimeZone::UTC).ok()?.timestamp()
        }
    };
    let micros = ts.as_microsecond();
    let ts = Timestamp::from_microsecond(micros).ok()?;
    Some(format!("{ts:.6}"))
}

/// A required time: the normalised text, or a message naming `field`.
pub(super) fn required(field: &str, text: Option<&str>) -> Result<String, String> {
    let text = text.ok_or_else(|| format!("{field} is missing"))?;
    normalise(text).ok_or_else(|| format!("{field} is not a timestamp: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_shape_normalise_to_utc_microseconds() {
        for (input, want) in [
            ("2019-03-19T23:34:25.123456Z", "2019-03-19T23:34:25.123456Z"),
            (
                "2026-11-27T07:00:00.1234567Z",
                "2026-11-27T07:00:00.123456Z",
            ),
            ("2026-11-27T07:00:00Z", "2026-11-27T07:00:00.000000Z"),
            ("2026-11-27T08:00:00.5+01:00", "2026-11-27T07:00:00.500000Z"),
            ("2026-11-27T07:00:00", "2026-11-27T07:00:00.000000Z"),
        ] {
            assert_eq!(normalise(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn text_that_is_not_a_time_is_none() {
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "1700000000"] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
        assert_eq!(
            required("eventTime", Some("soon")),
            Err("eventTime is not a timestamp: \"soon\"".to_owned())
        );
    }
}
