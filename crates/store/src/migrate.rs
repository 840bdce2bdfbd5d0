//! Versioned migrations, kept per backend as embedded SQL files.

use sha2::{Digest, Sha256};

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the SQL, to detect a database made by a different build.
    pub fn checksum(&self) -> String {
        vigil_core::hex::lower(&Sha256::digest(self.sql.as_bytes()))
    }
}

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Migrations applied by this call, as (version, name).
    pub applied: Vec<(i64, String)>,
    /// The schema version after the call.
    pub version: i64,
}
