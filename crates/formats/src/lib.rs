//! Telemetry decoders: each turns records of one format into [`FlatEvent`]s,
//! the flat field view that detection reads, and classifies them into a
//! Sigma logsource ([`logsource`]).
//!
//! Pure except for [`read`], which opens files. Bad input never panics: a
//! record that cannot be decoded becomes a [`RecordError`] that names the
//! file and position, and the reader goes on with the next one.

pub mod event;
pub mod flatten;
pub mod logsource;
pub mod read;

pub use event::{FlatEvent, name_hash};
pub use flatten::{FlattenError, flatten_json};
pub use logsource::{LogSource, WindowsClassifier};
pub use read::{FileKind, RecordError, read_file};
