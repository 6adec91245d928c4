//! The vocabulary of the history table, shared by planning, the operations
//! and the backends: its columns, its rows as read and as written, and the
//! tables of other tools found under its name. No SQL here.

use std::time::Duration;

use crate::Checksum;

/// The columns of strata's history table, in order, on every backend: a
/// table of that name with other columns is never touched.
pub const COLUMNS: [&str; 7] = [
    "version",
    "name",
    "checksum",
    "chain",
    "applied_at",
    "execution_ms",
    "dirty",
];

/// A row for the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow<'a> {
    pub version: u64,
    pub name: &'a str,
    pub checksum: Checksum,
    pub chain: Checksum,
    /// `None`: now.
    pub applied_at: Option<&'a str>,
    pub execution_ms: u64,
    pub dirty: bool,
}

/// One row of the history table: a migration the database recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// The version.
    pub version: u64,
    /// The name recorded when it was applied.
    pub name: String,
    /// The checksum of the up file when it was applied.
    pub checksum: Checksum,
    /// The chain value up to and including this row.
    pub chain: Checksum,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: String,
    /// How long its SQL ran, as recorded (in whole milliseconds, the
    /// history table's `execution_ms`).
    pub duration: Duration,
    /// Whether it runs outside a transaction and has begun but not finished.
    pub dirty: bool,
}

/// The newest row, which is all the startup check reads when all is well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub version: u64,
    pub chain: Checksum,
    pub dirty: bool,
}

/// What an existing table with the history table's name looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForeignTable {
    /// golang-migrate's `(version, dirty)`.
    GolangMigrate,
    /// A home-made runner's `(version, name, applied_at)` or similar, with
    /// a version column but no checksum.
    HomeMade,
    /// sqlx's `_sqlx_migrations(version, description, installed_on,
    /// success, checksum, execution_time)`, from `sqlx::migrate!` or
    /// `sqlx migrate run`.
    Sqlx,
    /// Anything else.
    Other,
}

/// The columns of sqlx's history table.
const SQLX: [&str; 6] = [
    "version",
    "description",
    "installed_on",
    "success",
    "checksum",
    "execution_time",
];

impl ForeignTable {
    /// What a table with these columns looks like.
    pub(crate) fn of_columns(columns: &[String]) -> ForeignTable {
        let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
        if columns.len() == 2 && has("version") && has("dirty") {
            ForeignTable::GolangMigrate
        } else if columns.len() == SQLX.len() && SQLX.iter().all(|c| has(c)) {
            // Exactly sqlx's columns: Flyway's history has these and more
            // (`installed_rank`, `script`), with versions that are text.
            ForeignTable::Sqlx
        } else if has("version") && !has("checksum") {
            ForeignTable::HomeMade
        } else {
            ForeignTable::Other
        }
    }

    /// The kind of a table with these columns if strata can adopt it
    /// (golang-migrate's, sqlx's or a home-made runner's), `None` otherwise.
    pub(crate) fn adoptable(columns: &[String]) -> Option<ForeignTable> {
        match ForeignTable::of_columns(columns) {
            ForeignTable::Other => None,
            kind => Some(kind),
        }
    }
}

/// A row of a history table that another tool kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRow {
    pub version: i64,
    pub name: Option<String>,
    /// Already in strata's format (UTC, ISO 8601) where it could be read.
    pub applied_at: Option<String>,
    pub dirty: bool,
}

/// What the history table's name holds.
pub enum TableState {
    Missing,
    Strata(Option<Head>),
}

/// Another tool's history table under the history table's name: its kind
/// and its rows.
pub type Foreign = (ForeignTable, Vec<ForeignRow>);

/// Every sequence's last value (`None`: never used), by `schema.name`.
pub type SequenceValues = Vec<(String, Option<i64>)>;
