use vigil_core::audit::ChainBreak;
use vigil_core::tenant::{InvalidName, InvalidSlug, SettingsError, TransitionError};
use vigil_store::StoreError;

/// Why a use case failed. Callers map these to exit codes or HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    InvalidSlug(#[from] InvalidSlug),
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    #[error(transparent)]
    InvalidSetting(#[from] SettingsError),
    #[error("{what} {key:?} not found")]
    NotFound { what: &'static str, key: String },
    #[error("{what} {key:?} already exists")]
    AlreadyExists { what: &'static str, key: String },
    #[error("cannot change the lifecycle of tenant {slug}: {reason}")]
    TransitionRefused {
        slug: String,
        reason: TransitionError,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    #[error("not signed in, or the credential is unknown, expired or revoked")]
    Unauthenticated,
    /// A connector callback whose signature does not verify.
    #[error("the callback is not signed by this tenant's connector: {0}")]
    BadSignature(String),
    #[error("too many wrong passwords: sign-in is locked until {until}")]
    LockedOut { until: vigil_core::Timestamp },
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Refused(String),
    #[error("busy: {reason}; retry in {retry_after_secs} s")]
    Busy {
        reason: String,
        retry_after_secs: u64,
    },
    /// A service Vigil depends on (the event bus) cannot be reached; what
    /// was asked may be retried once it is back.
    #[error("unavailable: {reason}; retry in {retry_after_secs} s")]
    Unavailable {
        reason: String,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    InvalidUser(#[from] vigil_core::identity::InvalidUser),
    #[error("invalid password: {0}")]
    WeakPassword(&'static str),
    #[error("the system's random number generator failed")]
    Random,
    #[error("the audit log is broken: {0}")]
    AuditBroken(#[from] ChainBreak),
    /// A report's PDF could not be printed (the browser is missing or failed).
    #[error(transparent)]
    Pdf(#[from] crate::reports::pdf::PdfError),
    /// A hunting query that does not compile: the message names the
    /// position (`line:column`) and what was expected or is unknown.
    #[error(transparent)]
    Query(#[from] vigil_hunt::HuntError),
    #[error(transparent)]
    Storage(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate { what, key } => ServiceError::AlreadyExists { what, key },
            StoreError::NotFound { what, key } => ServiceError::NotFound { what, key },
            StoreError::Conflict { .. } => ServiceError::Conflict(e.to_string()),
            other => ServiceError::Storage(other),
        }
    }
}
