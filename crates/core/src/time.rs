//! UTC timestamps.
//!
//! Vigil keeps every instant in UTC. Storage backends persist them as integer
//! microseconds since the Unix epoch, so SQLite and PostgreSQL agree exactly.

pub use jiff::Timestamp;

/// Microseconds since the Unix epoch, the storage representation.
pub fn to_micros(ts: Timestamp) -> i64 {
    // jiff's range (years -9999..=9999) fits in i64 microseconds.
    ts.as_microsecond()
}

/// The inverse of [`to_micros`]; `None` when out of jiff's range.
pub fn from_micros(micros: i64) -> Option<Timestamp> {
    Timestamp::from_microsecond(micros).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_keeps_the_instant() {
        let ts: Timestamp = "2026-11-27T05:15:32.123456Z".parse().expect("valid");
        assert_eq!(from_micros(to_micros(ts)), Some(ts));
    }

    #[test]
    fn micros_out_of_range_are_refused() {
        assert_eq!(from_micros(i64::MAX), None);
    }
}
