//! Telemetry as Vigil keeps it: stored events, dead letters, and what one
//! intake batch did.

use crate::{Entity, TenantId, Timestamp};

/// How far ahead of its arrival an event's own time may be before the
/// event is flagged (clocks drift; shippers buffer).
pub const FUTURE_TOLERANCE_SECS: i64 = 300;

/// Flags on a stored event.
pub mod flags {
    /// The event's own time was ahead of its arrival by more than the
    /// tolerance; it is kept, and stored under its arrival time.
    pub const FUTURE_TIME: u32 = 1;
    /// The event carried no usable time; it is stored under its arrival.
    pub const NO_TIME: u32 = 2;
}

/// An event accepted for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// When the event happened (its own time, or its arrival, see `flags`).
    pub time: Timestamp,
    /// `windows_evtx`, `cloudtrail`, …
    pub shape: &'static str,
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
    /// SHA-256 of the record as received, hex: identical events are one.
    pub content_hash: String,
    pub flags: u32,
    /// The record as received (one JSON object).
    pub raw: String,
    pub entities: Vec<Entity>,
    /// The event's row in the hunting tables (`vigil-hunt` projects it at
    /// intake; `None`: in no hunting table). Not read back with the event.
    pub hunt: Option<crate::hunting::HuntRow>,
}

impl NewEvent {
    /// Stored under its arrival time (its own was missing or too far
    /// ahead): copies of it arriving at other times differ in `time`, so
    /// stores deduplicate it by content alone.
    pub fn stored_under_arrival(&self) -> bool {
        self.flags & (flags::FUTURE_TIME | flags::NO_TIME) != 0
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Arrival order across the whole store; the event's id.
    pub seq: i64,
    pub tenant_id: TenantId,
    pub received_at: Timestamp,
    pub event: NewEvent,
}

/// A record that could not be decoded, kept with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    /// Where it came in: `api:events`, `api:bulk`, `api:hec`, `cli:PATH`.
    pub source: String,
    /// Why it could not be decoded, naming the place.
    pub reason: String,
    /// The record as received, cut at [`DEAD_LETTER_MAX_BYTES`].
    pub raw: String,
}

/// Dead letters keep at most this much of the record.
pub const DEAD_LETTER_MAX_BYTES: usize = 64 * 1024;

impl NewDeadLetter {
    pub fn new(source: &str, reason: impl Into<String>, raw: &[u8]) -> Self {
        let cut = raw.len().min(DEAD_LETTER_MAX_BYTES);
        NewDeadLetter {
            source: source.to_owned(),
            reason: reason.into(),
            raw: String::from_utf8_lossy(&raw[..cut]).into_owned(),
        }
    }
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub tenant_id: TenantId,
    pub received_at: Timestamp,
    pub source: String,
    pub reason: String,
    pub raw: String,
}

/// One intake batch, ready to commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeBatch {
    /// The client's `Idempotency-Key`: a retry with the same key commits
    /// nothing and answers as the first time.
    pub idempotency_key: Option<String>,
    pub events: Vec<NewEvent>,
    pub dead_letters: Vec<NewDeadLetter>,
}

/// What committing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntakeCounts {
    /// Events stored, or already stored before (identical ones).
    pub accepted: u64,
    /// Of `accepted`, those already stored.
    pub duplicates: u64,
    /// Records not stored as events.
    pub rejected: u64,
    /// Of `rejected`, those kept in the dead-letter store.
    pub dead_lettered: u64,
    /// Of `accepted`, those whose time was far in the future.
    pub flagged: u64,
    /// The batch's idempotency key was seen before: nothing was committed
    /// now, and these are the first answer's counts.
    pub replayed: bool,
}
