//! Exit codes: each says what kind of failure happened, for scripts.

use vigil_service::ServiceError;
use vigil_store::StoreError;
use vigil_store::sqlite::backup::BackupError;

use crate::config::ConfigError;

/// What the process exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Unexpected failure.
    Failure = 1,
    /// Invalid command line or input value (clap uses 2 as well).
    Usage = 2,
    /// The configuration file or environment is invalid.
    Config = 3,
    /// The named thing does not exist.
    NotFound = 4,
    /// Refused: an invalid lifecycle move, a duplicate, a concurrent change.
    Refused = 5,
    /// The data directory or database cannot be used.
    Storage = 6,
    /// The audit log failed verification.
    AuditBroken = 7,
    /// A tool Vigil runs is missing (headless Chromium for PDF reports).
    ToolMissing = 8,
}

/// The process status for `err`: `vigil readiness` answers 3 for a tenant
/// that is not ready (scripts gate on it), everything else by [`code_for`].
pub fn status_for(err: &anyhow::Error) -> u8 {
    if err
        .chain()
        .any(|c| c.downcast_ref::<crate::commands::NotReady>().is_some())
    {
        return NOT_READY;
    }
    code_for(err) as u8
}

/// `vigil readiness`: the tenant is not ready.
pub const NOT_READY: u8 = 3;

pub fn code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return Exit::Config;
        }
        if let Some(e) = cause.downcast_ref::<ServiceError>() {
            return match e {
                ServiceError::InvalidSlug(_)
                | ServiceError::InvalidName(_)
                | ServiceError::InvalidSetting(_)
                | ServiceError::InvalidUser(_)
                | ServiceError::WeakPassword(_)
                | ServiceError::WrongPassword
                | ServiceError::Invalid(_)
                | ServiceError::Query(_) => Exit::Usage,
                ServiceError::NotFound { .. } => Exit::NotFound,
                ServiceError::AlreadyExists { .. }
                | ServiceError::TransitionRefused { .. }
                | ServiceError::Conflict(_)
                | ServiceError::Forbidden(_)
                | ServiceError::Unauthenticated
                | ServiceError::BadSignature(_)
                | ServiceError::LockedOut { .. }
                | ServiceError::Busy { .. }
                | ServiceError::Unavailable { .. }
                | ServiceError::Refused(_) => Exit::Refused,
                ServiceError::AuditBroken(_) => Exit::AuditBroken,
                ServiceError::Storage(_) => Exit::Storage,
                ServiceError::Random => Exit::Failure,
                ServiceError::Pdf(vigil_service::PdfError::BrowserMissing(_)) => Exit::ToolMissing,
                ServiceError::Pdf(_) => Exit::Failure,
            };
        }
        if let Some(e) = cause.downcast_ref::<BackupError>() {
            return match e {
                BackupError::BackupExists { .. }
                | BackupError::InUse { .. }
                | BackupError::StoreExists { .. }
                | BackupError::SchemaTooNew { .. }
                | BackupError::MigrationChanged { .. } => Exit::Refused,
                BackupError::NotABackup { .. }
                | BackupError::Damaged { .. }
                | BackupError::Io { .. }
                | BackupError::Backend { .. } => Exit::Storage,
            };
        }
        if let Some(StoreError::Restoring { .. }) = cause.downcast_ref::<StoreError>() {
            return Exit::Refused;
        }
        if cause.downcast_ref::<StoreError>().is_some()
            || cause
                .downcast_ref::<crate::commands::DataDirError>()
                .is_some()
        {
            return Exit::Storage;
        }
        if cause.downcast_ref::<crate::cli::SpecError>().is_some() {
            return Exit::Usage;
        }
        if cause
            .downcast_ref::<crate::commands::DemoNotFresh>()
            .is_some()
            || matches!(
                cause.downcast_ref::<vigil_demo::DemoError>(),
                Some(vigil_demo::DemoError::DetectionBusy)
            )
        {
            return Exit::Refused;
        }
    }
    Exit::Failure
}

/// The reader of our output went away (`vigil scan | head`): not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
