//! The seam between the operations (`ops/`, `verify.rs`), which decide,
//! and a database, which does: a backend knows SQL, locking and its driver,
//! and nothing of folders or plans. It implements four traits, one per part
//! of the work, which together make a [`Backend`].

use std::time::Duration;

pub use crate::call::Call;

use crate::history::{AppliedMigration, Foreign, NewRow, SequenceValues, TableState};
use crate::options::Options;
use crate::source::sql::{self, Refusal};
use crate::{Checksum, Direction, Error, Migration, Migrations, Result};

/// The connection as the operations drive it: where it is, its
/// transactions, and the lock strata holds while it changes the database.
pub trait Transactions {
    /// The database, for messages (a path, or a database name).
    fn location(&self) -> String;
    /// The history table, for messages (with its schema on PostgreSQL,
    /// once known).
    fn history_table(&self) -> String;
    /// How the database splits a file into statements.
    fn dialect(&self) -> sql::Dialect;
    /// Fails with `InTransaction` unless the connection is idle.
    fn check_idle(&mut self) -> Call<'_, Result<()>>;
    /// Whether the connection cannot write.
    fn read_only(&mut self) -> Call<'_, Result<bool>>;
    /// Before changes: connection settings, session locks. `leave` undoes
    /// what `enter` did, on every path.
    fn enter(&mut self) -> Call<'_, Result<()>>;
    fn leave(&mut self) -> Call<'_, Result<()>>;
    /// Whether another process holds the lock that strata holds while it
    /// changes this database (not this connection, between `enter` and
    /// `leave`): a dirty row is then a no-transaction migration in
    /// progress, not one that died. Errors read as `false`.
    fn run_in_progress(&mut self) -> Call<'_, bool>;
    /// A transaction that holds the write lock until it ends.
    fn begin(&mut self) -> Call<'_, Result<()>>;
    fn commit(&mut self) -> Call<'_, Result<()>>;
    /// Rolls back if a transaction is open; never fails.
    fn rollback(&mut self) -> Call<'_, ()>;
    fn in_transaction(&mut self) -> Call<'_, bool>;
}

/// The history table: reading it, creating it, writing its rows, and
/// adopting another tool's.
pub trait HistoryStore {
    /// The newest row of strata's history table, one indexed read; a table
    /// of another shape is an error that says what it looks like.
    fn read_head(&mut self) -> Call<'_, Result<TableState>>;
    /// Every row of the history table, ascending; none if it is missing.
    fn read_all(&mut self) -> Call<'_, Result<Vec<AppliedMigration>>>;
    /// Creates the history table if it is missing and checks its shape.
    fn create_table(&mut self) -> Call<'_, Result<()>>;
    fn insert_row<'a>(&'a mut self, row: &'a NewRow<'_>) -> Call<'a, Result<()>>;
    fn delete_rows_above(&mut self, version: Option<u64>) -> Call<'_, Result<()>>;
    fn delete_row(&mut self, version: u64) -> Call<'_, Result<()>>;
    /// Sets `dirty` and, when given, `execution_ms`.
    fn set_dirty(
        &mut self,
        version: u64,
        dirty: bool,
        duration: Option<Duration>,
    ) -> Call<'_, Result<()>>;
    fn update_row<'a>(
        &'a mut self,
        version: u64,
        name: &'a str,
        checksum: Checksum,
        chain: Checksum,
    ) -> Call<'a, Result<()>>;
    /// A history table that strata can adopt under the table's name, with
    /// its rows; `None` when the table is strata's or missing, an error
    /// when it has a shape strata does not know.
    fn read_foreign(&mut self) -> Call<'_, Result<Option<Foreign>>>;
    /// Replaces that table by strata's, holding `rows` (inside a transaction).
    fn replace_foreign<'a>(&'a mut self, rows: &'a [NewRow<'_>]) -> Call<'a, Result<()>>;
    /// [`insert_row`](HistoryStore::insert_row) and then
    /// [`commit`](Transactions::commit) in one round trip, where the
    /// backend can send them so and tell which of the two failed; `None`
    /// where it cannot (the operations then call both). After
    /// [`Finish::Insert`] the transaction is still open, for the caller to
    /// roll back.
    fn insert_row_then_commit<'a>(
        &'a mut self,
        _row: &'a NewRow<'_>,
    ) -> Option<Call<'a, std::result::Result<(), Finish>>> {
        None
    }
}

/// Which part of [`HistoryStore::insert_row_then_commit`] failed.
#[derive(Debug)]
pub enum Finish {
    /// The history row's insert.
    Insert(Error),
    /// The commit.
    Commit(Error),
}

/// Running a migration's file, and what a run must check or put back
/// around it.
pub trait Apply {
    /// Runs one file of a migration statement by statement, then checks
    /// foreign keys. Inside a transaction, statements that would end it
    /// are refused. Returns how long the SQL took.
    fn execute<'a>(
        &'a mut self,
        m: &'a Migration,
        direction: Direction,
        file: &'a str,
        in_transaction: bool,
    ) -> Call<'a, Result<Duration>>;
    /// After a file ran (or failed), puts back the connection state that
    /// every migration starts from: the settings a file may change for the
    /// rest of the session (SQLite's connection pragmas, PostgreSQL's
    /// `SET` and `SET ROLE`), read before the first file changed one.
    /// Inside strata's transaction it runs before the history row is
    /// written, so that row is written under the same state too.
    fn restore(&mut self) -> Call<'_, Result<()>>;
    /// Every sequence's last value (`None`: never used), by `schema.name`,
    /// for what a dry run cannot roll back. SQLite has none outside
    /// transactions (its `sqlite_sequence` is a table).
    fn sequence_values(&mut self) -> Call<'_, Result<SequenceValues>> {
        Call::ready(Ok(Vec::new()))
    }
    /// Inside a transaction that verify will roll back: what its commit
    /// would check (PostgreSQL's deferred constraints). SQLite checks
    /// foreign keys after each file already.
    fn check_deferred(&mut self) -> Call<'_, Result<()>> {
        Call::ready(Ok(()))
    }
}

/// The schema as `verify` compares it.
pub trait Describe {
    /// The schema as it is now, as `verify` compares it: described, or
    /// (where that is cheaper) a text that is the same exactly when the
    /// schema is, which [`expand`](Describe::expand) describes later.
    fn snapshot(&mut self) -> Call<'_, Result<crate::schema::Snapshot>>;
    /// The schema a snapshot of this connection stands for (no database
    /// call: what a text stands for was read with it).
    fn expand<'s>(
        &mut self,
        snapshot: &'s crate::schema::Snapshot,
    ) -> Result<std::borrow::Cow<'s, crate::schema::Schema>> {
        Ok(std::borrow::Cow::Borrowed(&snapshot.schema))
    }
}

/// One database connection, seen by the operations: the four parts that
/// a backend implements (see DEVELOPERS.md, "Adding a backend"). `Send`,
/// so that an operation's future is, over an async connection.
pub trait Backend: Transactions + HistoryStore + Apply + Describe + Send {}

impl<T: Transactions + HistoryStore + Apply + Describe + Send> Backend for T {}

/// About how many characters of a failing statement an error shows.
pub const STATEMENT_SHOWN: usize = 160;

/// How a connection type becomes a backend.
pub trait Connect {
    #[doc(hidden)]
    fn backend<'a>(
        &'a mut self,
        migrations: &Migrations,
        options: &'a Options,
    ) -> Box<dyn Backend + 'a>;

    /// `verify` on this connection: see [`Runner::verify`](crate::Runner::verify).
    #[doc(hidden)]
    fn verify(
        &mut self,
        migrations: &Migrations,
        options: &Options,
    ) -> Result<crate::report::VerifyReport>;
}

/// How an async connection type becomes a backend: as [`Connect`], each a
/// future (sqlx's SQLite connection waits for its worker thread before
/// strata may use its handle).
pub trait ConnectAsync: Send {
    #[doc(hidden)]
    fn backend<'a>(
        &'a mut self,
        migrations: &Migrations,
        options: &'a Options,
    ) -> Call<'a, Result<Box<dyn Backend + 'a>>>;

    /// `verify` on this connection: see [`Runner::verify_async`](crate::Runner::verify_async).
    #[doc(hidden)]
    fn verify<'a>(
        &'a mut self,
        migrations: &'a Migrations,
        options: &'a Options,
    ) -> Call<'a, Result<crate::report::VerifyReport>>;
}

/// Refuses a file that runs inside strata's transaction when one of its
/// `statements` (in the backend's own dialect) cannot do its work there.
pub fn refuse_in_transaction(
    m: &Migration,
    file: &str,
    statements: &[sql::Statement<'_>],
) -> Result<()> {
    for statement in statements {
        match statement.refusal() {
            None => {}
            Some(Refusal::TransactionControl) => {
                return Err(Error::TransactionControl {
                    version: m.version(),
                    file: file.to_owned(),
                    line: Some(statement.line),
                });
            }
            Some(refusal) => {
                return Err(Error::RefusedInTransaction {
                    version: m.version(),
                    file: file.to_owned(),
                    line: statement.line,
                    statement: statement.shortened(crate::source::REFUSED_SHOWN),
                    refusal,
                });
            }
        }
    }
    Ok(())
}
