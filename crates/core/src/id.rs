//! Typed identifiers (UUID v7, so they sort by creation time).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use uuid::Uuid;

/// An identifier of a `T`. The type parameter keeps a tenant id from being
/// passed where an incident id is expected.
pub struct Id<T> {
    uuid: Uuid,
    _marker: PhantomData<fn() -> T>,
}

/// Identifier of a tenant.
pub type TenantId = Id<crate::tenant::Tenant>;

impl<T> Id<T> {
    /// A fresh UUID v7 for the given creation time. The time is passed in so
    /// the core never reads the clock; the random part comes from the OS.
    pub fn new_at(at: jiff::Timestamp) -> Self {
        let secs = u64::try_from(at.as_second()).unwrap_or(0);
        let nanos = u32::try_from(at.subsec_nanosecond()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos);
        Self::from_uuid(Uuid::new_v7(ts))
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self {
            uuid,
            _marker: PhantomData,
        }
    }

    pub const fn as_uuid(&self) -> &Uuid {
        &self.uuid
    }
}

impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<T> Eq for Id<T> {}
impl<T> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.uuid.cmp(&other.uuid)
    }
}
impl<T> Hash for Id<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}
impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uuid)
    }
}
impl<T> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.uuid.fmt(f)
    }
}

impl<T> FromStr for Id<T> {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self::from_uuid)
    }
}

impl<T> serde::Serialize for Id<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.uuid.serialize(s)
    }
}
impl<'de, T> serde::Deserialize<'de> for Id<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Uuid::deserialize(d).map(Self::from_uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_7_and_sort_by_creation_time() {
        let early: TenantId = Id::new_at("2026-01-01T00:00:00Z".parse().expect("ts"));
        let late: TenantId = Id::new_at("2026-06-01T00:00:00Z".parse().expect("ts"));
        assert_eq!(early.as_uuid().get_version_num(), 7);
        assert!(early < late);
    }

    #[test]
    fn ids_round_trip_through_text() {
        let id: TenantId = Id::new_at(jiff::Timestamp::UNIX_EPOCH);
        let back: TenantId = id.to_string().parse().expect("parses");
        assert_eq!(id, back);
    }
}
