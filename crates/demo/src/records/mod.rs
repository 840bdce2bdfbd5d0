//! Records in the shapes real sources send them, as JSON: Windows events
//! as `evtx_dump` writes them (docs/formats/windows-evtx.md), Entra ID
//! sign-in logs from diagnostic settings, Microsoft 365 unified audit
//! records, AWS CloudTrail, and Vigil's inventory snapshots. Field names
//! are the sources' own.

pub mod cloud;
pub mod inventory;
pub mod windows;

use jiff::Timestamp;

/// RFC 3339 with exactly seven fractional digits, as Windows and Entra ID
/// write times.
pub fn windows_time(t: Timestamp) -> String {
    format!(
        "{}.{:06}0Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_microsecond().max(0)
    )
}

/// Sysmon's `UtcTime`: `2026-11-27 07:00:00.123`.
pub fn sysmon_utc(t: Timestamp) -> String {
    format!(
        "{}.{:03}",
        t.strftime("%Y-%m-%d %H:%M:%S"),
        t.subsec_millisecond().max(0)
    )
}

/// RFC 3339 in whole seconds with `Z` (CloudTrail, snapshots).
pub fn seconds_z(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Microsoft 365's `CreationTime`: no offset, UTC.
pub fn m365_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_each_source_writes_them() {
        let t: Timestamp = "2026-11-27T07:00:01.123456Z".parse().expect("time");
        assert_eq!(windows_time(t), "2026-11-27T07:00:01.1234560Z");
        assert_eq!(sysmon_utc(t), "2026-11-27 07:00:01.123");
        assert_eq!(seconds_z(t), "2026-11-27T07:00:01Z");
        assert_eq!(m365_time(t), "2026-11-27T07:00:01");
    }
}
