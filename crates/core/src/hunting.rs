//! Threat hunting's vocabulary shared by the KQL compiler (`vigil-hunt`),
//! the store and the service: the typed projection row written beside each
//! event at intake, the compiled SQL handed to the store, the cells it
//! answers with, and saved queries, schedules and hunting summaries.
//!
//! The projection keeps typed columns per event so that hunts never parse
//! raw JSON: the physical columns are one wide set shared by every hunting
//! table (`vigil-hunt` maps each table's analyst-facing columns onto them).

use crate::{Id, TenantId, Timestamp};

macro_rules! physical_columns {
    ($($variant:ident => $name:literal : $int:literal),* $(,)?) => {
        /// A physical column of the hunting projection (`hunt_events`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum HuntColumn { $($variant),* }

        impl HuntColumn {
            /// Every column, in table order.
            pub const ALL: &'static [HuntColumn] = &[$(HuntColumn::$variant),*];

            /// The SQL column name (a fixed identifier, never user text).
            pub const fn sql_name(self) -> &'static str {
                match self { $(HuntColumn::$variant => $name),* }
            }

            /// Whether the column holds integers (the others hold text).
            pub const fn is_integer(self) -> bool {
                match self { $(HuntColumn::$variant => $int),* }
            }
        }
    };
}

physical_columns! {
    ActionType => "action_type": false,
    DeviceName => "device_name": false,
    AccountName => "account_name": false,
    AccountDomain => "account_domain": false,
    AccountSid => "account_sid": false,
    AccountUpn => "account_upn": false,
    FileName => "file_name": false,
    FolderPath => "folder_path": false,
    Sha256 => "sha256": false,
    Sha1 => "sha1": false,
    Md5 => "md5": false,
    ProcessId => "process_id": true,
    CommandLine => "command_line": false,
    ParentFileName => "parent_file_name": false,
    ParentFolderPath => "parent_folder_path": false,
    ParentCommandLine => "parent_command_line": false,
    ParentProcessId => "parent_process_id": true,
    ParentAccountName => "parent_account_name": false,
    RemoteIp => "remote_ip": false,
    RemotePort => "remote_port": true,
    RemoteUrl => "remote_url": false,
    LocalIp => "local_ip": false,
    LocalPort => "local_port": true,
    Protocol => "protocol": false,
    RegistryKey => "registry_key": false,
    RegistryValueName => "registry_value_name": false,
    RegistryValueData => "registry_value_data": false,
    LogonType => "logon_type": false,
    FailureReason => "failure_reason": false,
    Application => "application": false,
    Location => "location": false,
    ObjectName => "object_name": false,
    Sender => "sender": false,
    Recipient => "recipient": false,
    Subject => "subject": false,
    Additional => "additional": false,
}

/// One value of the projection, borrowed from its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntValue<'a> {
    Int(i64),
    Text(&'a str),
}

/// A column's place in a [`HuntRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Slot {
    #[default]
    Empty,
    Int(i64),
    /// A span of the row's text.
    Text {
        start: u32,
        end: u32,
    },
}

/// The hunting projection of one event: which hunting table it belongs to
/// (a code owned by `vigil-hunt`) and its typed columns.
///
/// Its texts share one string (intake makes a row for every event, and a
/// string per column was a dozen allocations an event).
#[derive(Debug, Clone)]
pub struct HuntRow {
    pub table: i64,
    /// The texts of the set columns, one after another (a column set again
    /// leaves its earlier text unused).
    text: String,
    /// One per column, in [`HuntColumn::ALL`] order.
    cells: Vec<Slot>,
}

/// Rows are equal when their tables and values are.
impl PartialEq for HuntRow {
    fn eq(&self, other: &Self) -> bool {
        self.table == other.table && self.values().eq(other.values())
    }
}

impl Eq for HuntRow {}

impl HuntRow {
    pub fn new(table: i64) -> Self {
        Self::with_capacity(table, 512)
    }

    /// A row with room for `bytes` of text, so that setting its columns
    /// does not grow it.
    pub fn with_capacity(table: i64, bytes: usize) -> Self {
        HuntRow {
            table,
            text: String::with_capacity(bytes),
            cells: vec![Slot::Empty; HuntColumn::ALL.len()],
        }
    }

    /// Set a column; empty text and `-` (Windows' "none") stay absent, and
    /// text in an integer column is kept only when it parses (decimal or
    /// `0x` hexadecimal, as Windows writes process ids).
    pub fn set(&mut self, column: HuntColumn, value: &str) {
        let value = value.trim();
        if value.is_empty() || value == "-" {
            return;
        }
        let cell = if column.is_integer() {
            let parsed = match value
                .strip_prefix("0x")
                .or_else(|| value.strip_prefix("0X"))
            {
                Some(hex) => i64::from_str_radix(hex, 16).ok(),
                None => value.parse::<i64>().ok(),
            };
            match parsed {
                Some(n) => Slot::Int(n),
                None => return,
            }
        } else {
            // Rows of 4 GiB do not occur: a text past that is left out.
            let (Ok(start), Ok(end)) = (
                u32::try_from(self.text.len()),
                u32::try_from(self.text.len() + value.len()),
            ) else {
                return;
            };
            self.text.push_str(value);
            Slot::Text { start, end }
        };
        self.cells[column as usize] = cell;
    }

    pub fn get(&self, column: HuntColumn) -> Option<HuntValue<'_>> {
        self.value(*self.cells.get(column as usize)?)
    }

    fn value(&self, cell: Slot) -> Option<HuntValue<'_>> {
        match cell {
            Slot::Empty => None,
            Slot::Int(n) => Some(HuntValue::Int(n)),
            Slot::Text { start, end } => self
                .text
                .get(start as usize..end as usize)
                .map(HuntValue::Text),
        }
    }

    /// The values in [`HuntColumn::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = Option<HuntValue<'_>>> {
        self.cells.iter().map(|c| self.value(*c))
    }
}

/// A statement compiled by `vigil-hunt`: SQL whose identifiers all come
/// from the hunting schema, with every literal of the query as a bound
/// parameter (`?1`, `?2`, … in order).
/// Makes a hunting row's `AdditionalFields` from its event's record (one
/// JSON object, as received): for a store that keeps the record and not
/// the text (`HuntStore::derive_additional`). `vigil-hunt` gives it.
pub type AdditionalOf = fn(&[u8]) -> Option<String>;

/// Which SQL a store runs hunts in: the store names it
/// (`HuntStore::hunt_dialect`), the service compiles for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntDialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HuntSql {
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Int(i64),
    Real(f64),
    Text(String),
    Null,
}

/// A cell as the store answers it (typing is the caller's: the compiled
/// query knows each column's type).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// What the store ran: the rows (at most the limit) and whether more were
/// left.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HuntRows {
    pub rows: Vec<Vec<Cell>>,
    pub truncated: bool,
}

/// The store gave up a hunt statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntStop {
    /// It ran past its time limit.
    TimedOut,
}

pub type SavedHuntId = Id<SavedHunt>;
pub type HuntSummaryId = Id<HuntSummary>;

/// A saved hunting query, per tenant; with a schedule it runs by itself
/// and its rows raise alerts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SavedHunt {
    pub id: SavedHuntId,
    pub tenant_id: TenantId,
    pub name: String,
    pub query: String,
    pub description: String,
    pub schedule: Option<HuntSchedule>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The end of the window of the last scheduled run.
    pub last_run: Option<Timestamp>,
}

/// How often a saved hunt runs and over how much history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HuntSchedule {
    /// Seconds between runs (at least [`MIN_HUNT_INTERVAL_SECS`]).
    pub interval_secs: i64,
    /// Seconds of events each run looks back over.
    pub lookback_secs: i64,
    /// The severity of the alerts it raises.
    pub severity: crate::Severity,
}

/// Scheduled hunts run at most every five minutes.
pub const MIN_HUNT_INTERVAL_SECS: i64 = 300;
/// And look back at most 30 days.
pub const MAX_HUNT_LOOKBACK_SECS: i64 = 30 * 86_400;
/// Names are short lines.
pub const MAX_HUNT_NAME: usize = 200;
/// Queries and summary texts stay within reason.
pub const MAX_HUNT_TEXT: usize = 20_000;

impl HuntSchedule {
    /// Check the bounds, naming the one broken.
    pub fn validate(&self) -> Result<(), String> {
        if self.interval_secs < MIN_HUNT_INTERVAL_SECS {
            return Err(format!(
                "interval must be at least {MIN_HUNT_INTERVAL_SECS} seconds, got {}",
                self.interval_secs
            ));
        }
        if self.lookback_secs <= 0 || self.lookback_secs > MAX_HUNT_LOOKBACK_SECS {
            return Err(format!(
                "lookback must be between 1 and {MAX_HUNT_LOOKBACK_SECS} seconds, got {}",
                self.lookback_secs
            ));
        }
        Ok(())
    }
}

/// What a hunt concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HuntDetermination {
    /// Malicious activity found.
    ThreatFound,
    /// Suspicious, not conclusive: follow-up needed.
    Suspicious,
    /// Nothing found.
    NothingFound,
    /// The activity is real but expected.
    Benign,
}

impl HuntDetermination {
    pub const ALL: [HuntDetermination; 4] = [
        HuntDetermination::ThreatFound,
        HuntDetermination::Suspicious,
        HuntDetermination::NothingFound,
        HuntDetermination::Benign,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            HuntDetermination::ThreatFound => "threat_found",
            HuntDetermination::Suspicious => "suspicious",
            HuntDetermination::NothingFound => "nothing_found",
            HuntDetermination::Benign => "benign",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(&s.replace('-', "_")))
    }
}

/// A hunting summary: what was hunted, why, what came out and the
/// determination.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HuntSummary {
    pub id: HuntSummaryId,
    pub tenant_id: TenantId,
    /// The saved hunt it is about, when there is one.
    pub hunt_id: Option<SavedHuntId>,
    pub what: String,
    pub why: String,
    pub result: String,
    pub determination: HuntDetermination,
    pub query: String,
    pub author: String,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_projection_row_keeps_integers_and_drops_placeholders() {
        let mut row = HuntRow::new(1);
        row.set(HuntColumn::ProcessId, "0x1a");
        row.set(HuntColumn::RemotePort, "not a port");
        row.set(HuntColumn::AccountName, "-");
        row.set(HuntColumn::FileName, " cmd.exe ");
        assert_eq!(row.get(HuntColumn::ProcessId), Some(HuntValue::Int(26)));
        assert_eq!(row.get(HuntColumn::RemotePort), None);
        assert_eq!(row.get(HuntColumn::AccountName), None);
        assert_eq!(
            row.get(HuntColumn::FileName),
            Some(HuntValue::Text("cmd.exe"))
        );
        // A column set again answers with its last value.
        row.set(HuntColumn::FileName, "powershell.exe");
        row.set(HuntColumn::ProcessId, "42");
        assert_eq!(
            row.get(HuntColumn::FileName),
            Some(HuntValue::Text("powershell.exe"))
        );
        assert_eq!(row.get(HuntColumn::ProcessId), Some(HuntValue::Int(42)));
        let set: Vec<_> = row.values().flatten().collect();
        assert_eq!(
            set,
            vec![HuntValue::Text("powershell.exe"), HuntValue::Int(42)]
        );
    }

    #[test]
    fn rows_with_the_same_values_are_equal_however_they_were_set() {
        let mut a = HuntRow::new(1);
        a.set(HuntColumn::FileName, "old.exe");
        a.set(HuntColumn::DeviceName, "ws1");
        a.set(HuntColumn::FileName, "cmd.exe");
        let mut b = HuntRow::new(1);
        b.set(HuntColumn::DeviceName, "ws1");
        b.set(HuntColumn::FileName, "cmd.exe");
        assert_eq!(a, b);
        b.set(HuntColumn::AccountName, "bob");
        assert_ne!(a, b);
        assert_ne!(HuntRow::new(1), HuntRow::new(2));
    }

    #[test]
    fn a_schedule_out_of_bounds_names_the_bound() {
        let s = HuntSchedule {
            interval_secs: 10,
            lookback_secs: 3600,
            severity: crate::Severity::Medium,
        };
        assert!(s.validate().expect_err("too often").contains("interval"));
    }
}
