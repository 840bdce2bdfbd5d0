//! Telemetry decoders: each turns records of one format into [`FlatEvent`]s,
//! the flat field view that detection reads, and classifies them into a
//! Sigma logsource ([`logsource`]).
//!
//! [`decode`] takes records as shippers send them (Windows events in two
//! JSON shapes, Entra ID sign-ins, Okta, CloudTrail, Microsoft 365 audit,
//! device inventory) to flat events with their logsource and entities.
//!
//! Pure except for [`read`], which opens files. Bad input never panics: a
//! record that cannot be decoded becomes a [`RecordError`] that names the
//! file and position, and the reader goes on with the next one.

pub mod bodies;
pub mod decode;
pub mod event;
pub mod flatten;
mod flatten_fast;
pub mod logsource;
pub mod read;
pub mod records;
mod words;

pub use decode::{
    DecodeError, DecodeErrorKind, Decoded, Entity, EntityKind, Shape, decode_record,
    decode_records, decode_value,
};
pub use event::{Entry, FlatEvent, name_hash};
pub use flatten::{FlattenError, flatten_json};
pub use logsource::{LogSource, WindowsClassifier};
pub use read::{FileKind, RecordError, read_file};
pub use records::{RawRecord, read_records};
