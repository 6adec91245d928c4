//! The one error type of strata.

use std::time::Duration;

mod database;
mod message;
mod partial;
#[cfg(all(test, feature = "sqlite"))]
mod tests;
mod verify;
mod words;

pub use database::{DatabaseError, ForeignKeyViolation, StorageFault};
pub use verify::{VerifyFailure, VerifyFailures};

use crate::history::ForeignTable;
use crate::source::Problem;
use crate::{Checksum, Direction};

/// `Result` with strata's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[doc = include_str!("error.md")]
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A run committed steps, then failed: `report` lists them, `cause` is the failure.
    #[non_exhaustive]
    Partial {
        /// What the run committed before the failure.
        report: Box<crate::Report>,
        /// The failure.
        #[source]
        cause: Box<Error>,
    },
    /// A folder read at run time breaks the rules (the macro's compile errors).
    #[non_exhaustive]
    InvalidFolder {
        /// The folder as written.
        folder: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// The file is not a SQLite database.
    #[non_exhaustive]
    NotADatabase {
        /// The database file.
        path: String,
    },
    /// A PostgreSQL dry run failed after sequences moved, which a rollback does not undo.
    #[non_exhaustive]
    DryRunFailed {
        /// The failure.
        #[source]
        cause: Box<Error>,
        /// The sequences that moved.
        sequences_advanced: Vec<crate::SequenceAdvanced>,
    },
    /// The database could not be written (a no-transaction migration's: in [`Error::LeftDirty`]).
    #[non_exhaustive]
    Storage {
        /// The database file (on PostgreSQL, "the PostgreSQL database").
        path: String,
        /// What kept it from being written.
        fault: StorageFault,
        /// The migration that was running, if one was.
        version: Option<u64>,
        /// Its file.
        file: Option<String>,
        /// The database's own error (`None`: strata saw that the
        /// connection is read-only before it tried).
        #[source]
        cause: Option<DatabaseError>,
    },
    /// A crash left a hot journal, which a read-only connection cannot roll back.
    #[non_exhaustive]
    HotJournal {
        /// The database file.
        path: String,
    },
    /// Migrations are pending but the database cannot be written.
    #[non_exhaustive]
    ReadOnly {
        /// The database file.
        path: String,
        /// How many migrations are pending.
        pending: usize,
    },
    /// Another connection held the write lock for longer than the runner waits.
    #[non_exhaustive]
    Locked {
        /// How long strata waited.
        waited: Duration,
    },
    /// A PostgreSQL migration released strata's advisory lock (`DISCARD ALL`).
    LockReleased,
    /// A session setting a PostgreSQL migration changed could not be put back.
    #[non_exhaustive]
    SettingKept {
        /// The setting's name.
        setting: String,
        /// The value it had before the migration.
        value: String,
        /// The server's refusal.
        #[source]
        cause: DatabaseError,
    },
    /// On PostgreSQL, neither the history table nor the `search_path` names a schema.
    #[non_exhaustive]
    NoSchema {
        /// The history table's name, without a schema.
        table: String,
    },
    /// On PostgreSQL, the history table is in another schema than the current one.
    #[non_exhaustive]
    HistoryTableElsewhere {
        /// The history table's name, without a schema.
        table: String,
        /// The current schema.
        current: String,
        /// The schema that holds the table.
        found: String,
    },
    /// The connection was already inside a transaction.
    InTransaction,
    /// A table of another shape has the history table's name; strata leaves it alone.
    #[non_exhaustive]
    ForeignHistoryTable {
        /// The table.
        table: String,
        /// Its columns, in order.
        columns: Vec<String>,
        /// What it looks like.
        kind: ForeignTable,
    },
    /// A value in the history table cannot be read back.
    #[non_exhaustive]
    CorruptHistory {
        /// The table.
        table: String,
        /// The row's version.
        version: i64,
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
    /// An applied migration's up file changed since it was applied.
    #[non_exhaustive]
    ChecksumMismatch {
        /// The version.
        version: u64,
        /// Its up file.
        file: String,
        /// The checksum in the history table.
        applied: Checksum,
        /// The checksum of the file now.
        current: Checksum,
    },
    /// The database has applied a version that the migrations lack.
    #[non_exhaustive]
    MissingMigration {
        /// The version.
        version: u64,
        /// Its name, as recorded (`None`: the history does not record
        /// names, as golang-migrate's does not).
        name: Option<String>,
        /// Whether [`Runner::allow_newer`](crate::Runner::allow_newer)
        /// would accept it: it is above the newest migration of the files,
        /// the operation moves up, and the option was not given.
        allow_newer_helps: bool,
        /// The migrations folder.
        folder: String,
    },
    /// A pending migration's version is below the newest applied one.
    #[non_exhaustive]
    OutOfOrder {
        /// The pending version.
        version: u64,
        /// Its up file.
        file: String,
        /// The newest applied version.
        newest_applied: u64,
    },
    /// A no-transaction migration pending below an applied version: refused even
    /// out of order, as a dirty row there could not be forced alone.
    #[non_exhaustive]
    NoTransactionOutOfOrder {
        /// The pending version.
        version: u64,
        /// Its up file.
        file: String,
        /// The newest applied version.
        newest_applied: u64,
    },
    /// A no-transaction down file below an applied version: refused, as
    /// [`Error::NoTransactionOutOfOrder`].
    #[non_exhaustive]
    NoTransactionRevertBelow {
        /// The version to revert.
        version: u64,
        /// Its down file.
        file: String,
        /// The newest version that would stay applied.
        newest_applied: u64,
    },
    /// A down named one version to revert, and it is not applied.
    #[non_exhaustive]
    NotApplied {
        /// The version.
        version: u64,
        /// Its down file.
        file: String,
    },
    /// A database without a history table already holds what the first migration makes.
    #[non_exhaustive]
    SchemaExists {
        /// The history table strata looked for.
        table: String,
        /// The first migration's version.
        version: u64,
        /// Its up file.
        file: String,
        /// The migration's failure ([`Error::Statement`]).
        #[source]
        cause: Box<Error>,
    },
    /// A no-transaction migration began and did not finish: repair, then `force`.
    #[non_exhaustive]
    Dirty {
        /// The version.
        version: u64,
        /// Its name, as recorded.
        name: String,
        /// The newest version recorded below it, which `force` records when
        /// none of the migration's changes are in the database (`None`:
        /// `force none`).
        previous: Option<u64>,
    },
    /// A no-transaction migration is dirty because another process runs it now.
    #[non_exhaustive]
    InProgress {
        /// The version.
        version: u64,
        /// Its name, as recorded.
        name: String,
    },
    /// The lock file `<db>-strata-lock` could not be opened or locked, or is not a file.
    #[non_exhaustive]
    LockFile {
        /// The lock file: the database's path followed by `-strata-lock`.
        path: String,
        /// Why.
        #[source]
        cause: std::io::Error,
    },
    /// A statement of a migration failed (rolled back, unless no-transaction).
    #[non_exhaustive]
    Statement {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line of the error: where the database points inside the
        /// statement, else where the statement starts. `None` when the
        /// failing statement could not be told (PostgreSQL ran the file in
        /// one round trip, and the error did not recur when its statements
        /// ran one by one).
        line: Option<usize>,
        /// The failing statement, white space folded, shortened when long.
        statement: Option<String>,
        /// Whether strata ran the migration inside its transaction (false
        /// for a `-- strata:no-transaction` file).
        in_transaction: bool,
        /// The database's error.
        #[source]
        cause: DatabaseError,
    },
    /// On PostgreSQL, a migration's statement waited for a table lock longer
    /// than the table lock timeout strata sets for it (`SET LOCAL
    /// lock_timeout`), so as not to queue the application's queries.
    #[non_exhaustive]
    TableLockTimeout {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line of the statement, when known.
        line: Option<usize>,
        /// The statement, white space folded, shortened when long.
        statement: Option<String>,
        /// The table lock timeout in force ([`Runner::table_lock_timeout`](crate::Runner::table_lock_timeout)).
        timeout: Duration,
        /// Whether the migration ran inside strata's transaction (then it
        /// was rolled back).
        in_transaction: bool,
        /// The server's error ("canceling statement due to lock timeout").
        #[source]
        cause: DatabaseError,
    },
    /// PostgreSQL split a file otherwise than strata's lexer; it was rolled back.
    #[non_exhaustive]
    SplitDisagrees {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// How many statements the server ran.
        server: usize,
        /// How many statements strata read.
        strata: usize,
    },
    /// A migration tried to begin, commit or roll back a transaction.
    #[non_exhaustive]
    TransactionControl {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line where the statement starts, when it is known (a
        /// transaction found closed after the file does not say where).
        line: Option<usize>,
    },
    /// A statement that cannot run in a transaction (`VACUUM`); nothing was applied.
    #[non_exhaustive]
    RefusedInTransaction {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// 1-based line where the statement starts.
        line: usize,
        /// The statement, white space folded, cut to about 60 characters.
        statement: String,
        /// Why it is refused.
        refusal: crate::source::sql::Refusal,
    },
    /// A migration left rows whose foreign keys point nowhere; it was rolled back.
    #[non_exhaustive]
    ForeignKeyViolation {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
        /// How many broken rows there are in all (a row that breaks two
        /// foreign keys counts twice, as SQLite's `foreign_key_check`
        /// reports it).
        rows: usize,
        /// A few of them, for the message: at most five per table.
        violations: Vec<ForeignKeyViolation>,
    },
    /// A no-transaction migration left a transaction open; strata rolled it back.
    #[non_exhaustive]
    TransactionLeftOpen {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
    },
    /// A no-transaction migration failed: what it committed stays, and its
    /// version is marked dirty ([`Error::Dirty`] until `force`).
    #[non_exhaustive]
    LeftDirty {
        /// The migration's version, now dirty.
        version: u64,
        /// The file that failed (the up file, or the down file of a down).
        file: String,
        /// The newest version recorded below it, which `force` records when
        /// none of the migration's changes are in the database (`None`:
        /// `force none`). `force version` records it when all of them are.
        previous: Option<u64>,
        /// Which file ran: up, or down (the advice differs).
        direction: Direction,
        /// The file ran to its end, and what failed came after it (putting
        /// the connection's settings back, or cleaning the history row):
        /// the migration is most likely applied (or reverted) in full.
        file_completed: bool,
        /// What failed.
        #[source]
        cause: Box<Error>,
    },
    /// A no-transaction migration in a single-transaction run.
    #[non_exhaustive]
    NoTransactionInSingleTransaction {
        /// The migration's version.
        version: u64,
        /// Its file.
        file: String,
    },
    /// A target version that none of the migrations has.
    #[non_exhaustive]
    UnknownVersion {
        /// The version asked for.
        version: u64,
        /// The migrations folder.
        folder: String,
    },
    /// A down would cross a migration that cannot be reverted.
    #[non_exhaustive]
    Irreversible {
        /// The migration's version.
        version: u64,
        /// Its down file.
        file: String,
    },
    /// `baseline` on a database that already has history.
    #[non_exhaustive]
    HistoryExists {
        /// The history table.
        table: String,
        /// Its newest recorded version.
        newest: u64,
    },
    /// `adopt` found golang-migrate's dirty flag set.
    #[non_exhaustive]
    AdoptDirty {
        /// The history table.
        table: String,
        /// The dirty version (`None`: golang-migrate's "no version", -1,
        /// which it records dirty when a first migration failed).
        version: Option<u64>,
    },
    /// `adopt_forced` met a history table that is strata's already.
    #[non_exhaustive]
    AdoptedAlready {
        /// The history table.
        table: String,
    },
    /// `adopt` found no table to adopt.
    #[non_exhaustive]
    NothingToAdopt {
        /// The history table's name.
        table: String,
    },
    /// Another process changed the history during a down.
    HistoryChanged,
    /// A migration ran, then its history row could not be written.
    #[non_exhaustive]
    HistoryTable {
        /// The history table, with its schema on PostgreSQL.
        table: String,
        /// The version.
        version: u64,
        /// The file that ran.
        file: String,
        /// Whether the file ran inside strata's transaction, which was
        /// rolled back.
        in_transaction: bool,
        /// The database's error.
        #[source]
        cause: Box<Error>,
    },
    /// `verify` found down files that do not revert their up files, or files that fail.
    VerifyFailed(Box<VerifyFailures>),
    /// `verify` could not read the schema around a migration.
    #[non_exhaustive]
    VerifyDescribe {
        /// The version whose round trip it was checking.
        version: u64,
        /// Why.
        #[source]
        cause: Box<Error>,
    },
    /// On PostgreSQL, verify needs a scratch database for this folder.
    #[non_exhaustive]
    VerifyNeedsScratchDatabase {
        /// The version.
        version: u64,
        /// Its up file.
        file: String,
        /// Why: the enum value (else: outside a transaction).
        new_enum_value: bool,
    },
    /// On SQLite, verify was given a connection whose database is not a new in-memory one.
    #[non_exhaustive]
    VerifyNeedsEmptyDatabase {
        /// The database file (`:memory:` for an in-memory database).
        path: String,
        /// What it is or holds, in words after its name (`holds table users`).
        found: Vec<String>,
    },
    /// On PostgreSQL, verify could not create, or drop, its scratch database.
    #[non_exhaustive]
    ScratchDatabase {
        /// The scratch database's name.
        database: String,
        /// Whether it had been created (so the failure was to drop it).
        created: bool,
        /// The server's error.
        #[source]
        cause: DatabaseError,
    },
    /// Another database error.
    Database(#[source] DatabaseError),
}
