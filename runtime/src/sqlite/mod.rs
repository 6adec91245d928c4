//! The SQLite backend, over rusqlite.
//!
//! The write lock is SQLite's own: `BEGIN IMMEDIATE` takes it, so processes
//! that migrate one file at the same time queue on it (for the runner's lock
//! wait) instead of failing. Foreign-key enforcement is off between `enter`
//! and `leave`, and `foreign_key_check` runs after each file instead, on the
//! tables the file touched, which SQLite's authorizer reports.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Batch, CachedStatement, Connection, ErrorCode, OptionalExtension, Row, Statement};

use crate::backend::{
    Backend, COLUMNS, Connect, ForeignKind, ForeignRow, NewRow, STATEMENT_SHOWN, TableState,
    refuse_in_transaction,
};
use crate::plan::{AppliedMigration, Head};
use crate::source::Direction;
use crate::source::sql::{self, Dialect};
use crate::{Checksum, Error, ForeignKeyViolation, ForeignTable, Migration, Result, Runner};

/// How many rows per table a foreign-key error names.
const VIOLATIONS_SHOWN: usize = 5;

/// `strftime` format of `applied_at`: UTC, ISO 8601, milliseconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

mod describe;
mod faults;
mod run_lock;
mod schema_sql;
mod session;
mod verify;

use faults::{hot_journal, storage_fault};

impl Connect for Connection {
    fn backend<'a>(&'a mut self, runner: &'a Runner<'_>) -> Box<dyn Backend + 'a> {
        let mut db = Sqlite::new(self, &runner.table, runner.lock_timeout);
        db.run_lock = runner
            .migrations
            .iter()
            .any(|m| m.no_transaction(Direction::Up) || m.no_transaction(Direction::Down));
        Box::new(db)
    }
}

struct Sqlite<'a> {
    conn: &'a mut Connection,
    /// The history table's name as given.
    name: &'a str,
    /// The same, quoted for SQL and qualified with `main`.
    table: String,
    lock_timeout: Duration,
    /// The connection's busy timeout before strata set the runner's lock
    /// wait as its own, in milliseconds, put back when the operation ends
    /// (`None`: the connection's own is in force). See `read_head`.
    busy_timeout_ms: Option<i64>,
    /// The folder has no-transaction migrations: a run that changes the
    /// database must hold its lock file (see `run_lock`); other runs take
    /// it where they can.
    run_lock: bool,
    /// When the operation began: the lock wait counts from here.
    started: std::time::Instant,
    /// That lock, while held (between `enter` and `leave`).
    held: Option<std::fs::File>,
    /// Settings to restore, between `enter` and `leave`.
    saved: Option<Saved>,
    /// The connection pragmas every migration starts from, read before the
    /// first statement that assigns one (see `session`).
    pragmas: Option<session::Pragmas>,
    /// A file assigned a pragma since they were last put back.
    pragma_assigned: bool,
    /// The authorizer's findings, once a file installed it.
    watch: Option<Arc<Mutex<Watch>>>,
    /// How many files ran: each may have expired the cached statements.
    files_run: u64,
    /// Each statement's uses since the last file ran: (`files_run` then,
    /// uses).
    uses: RefCell<HashMap<String, (u64, u32)>>,
    /// The tables and indexes verify described, by their SQL.
    described: describe::Cache,
}

/// A prepared statement, from the connection's cache or not.
enum Prepared<'conn> {
    Cached(CachedStatement<'conn>),
    Fresh(Statement<'conn>),
}

impl<'conn> Deref for Prepared<'conn> {
    type Target = Statement<'conn>;

    fn deref(&self) -> &Statement<'conn> {
        match self {
            Prepared::Cached(statement) => statement,
            Prepared::Fresh(statement) => statement,
        }
    }
}

impl DerefMut for Prepared<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Prepared::Cached(statement) => statement,
            Prepared::Fresh(statement) => statement,
        }
    }
}

impl Drop for Sqlite<'_> {
    /// The connection goes back to the application without strata's
    /// authorizer and with its own busy timeout, even when an operation
    /// ended early.
    fn drop(&mut self) {
        let _ = self.unwatch();
        if let Some(ms) = self.busy_timeout_ms {
            let _ = self
                .conn
                .busy_timeout(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
        }
    }
}

fn lock(watch: &Mutex<Watch>) -> std::sync::MutexGuard<'_, Watch> {
    watch.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Connection settings that a change alters and `leave` restores.
struct Saved {
    foreign_keys: bool,
}

/// What the authorizer saw while a file's statements were prepared.
#[derive(Default)]
struct Watch {
    /// Set while a file's statements are prepared: strata's own statements
    /// pass unseen.
    active: bool,
    /// The file runs inside a transaction: transaction control is refused.
    in_transaction: bool,
    /// The file may rename a table or a column (see `run_file`).
    renames: bool,
    tables: BTreeSet<String>,
    /// Tables whose rows may have gone or changed (deleted from, updated,
    /// dropped) or that were renamed: only their children can be left
    /// dangling.
    parents: BTreeSet<String>,
    /// Tables created by the file: their rows are all new, and so checked
    /// through the tables that hold them.
    created: BTreeSet<String>,
    denied_transaction_control: bool,
    /// A statement assigns a pragma: the connection's settings may change.
    pragma_assigned: bool,
}

impl Backend for Sqlite<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn location(&self) -> String {
        self.path()
    }

    fn history_table(&self) -> String {
        self.name.to_owned()
    }

    fn check_idle(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            Ok(())
        } else {
            Err(Error::InTransaction)
        }
    }

    fn read_head(&mut self) -> Result<TableState> {
        self.waiting(|db| db.head())
    }

    fn read_all(&mut self) -> Result<Vec<AppliedMigration>> {
        self.waiting(|db| match db.head()? {
            TableState::Missing => Ok(Vec::new()),
            TableState::Strata(_) => db.rows(),
        })
    }

    fn read_only(&mut self) -> Result<bool> {
        Ok(self.conn.is_readonly(rusqlite::MAIN_DB)?)
    }

    /// Takes the lock file (before SQLite's own lock, always in that
    /// order), waiting for what is left of the lock wait, and switches
    /// foreign-key enforcement off (it cannot change inside a transaction).
    ///
    /// Every run that changes a database file takes it, so that none
    /// (a `force`, a `down` of an older folder) changes the history while
    /// another process runs a no-transaction migration. A run whose folder
    /// has no such migration goes on without it where the file cannot be
    /// made (a folder it may not write); one whose folder has one may not.
    fn enter(&mut self) -> Result<()> {
        self.own_wait(self.lock_timeout)?;
        if let Some(path) = run_lock::path(self.conn) {
            let waited = self.started.elapsed();
            let rest = self.lock_timeout.saturating_sub(waited);
            match run_lock::acquire(&path, rest, waited) {
                Ok(file) => self.held = Some(file),
                // Only where the file cannot be made here: anything else
                // at its path (a FIFO) stops every run.
                Err(Error::LockFile { path, cause })
                    if !self.run_lock
                        && matches!(
                            cause.kind(),
                            std::io::ErrorKind::PermissionDenied
                                | std::io::ErrorKind::ReadOnlyFilesystem
                        ) =>
                {
                    log::warn!("no lock file {path} ({cause}): going on without it");
                }
                Err(e) => return Err(e),
            }
        }
        let foreign_keys: bool = self
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
        if foreign_keys {
            self.conn.pragma_update(None, "foreign_keys", false)?;
        }
        self.saved = Some(Saved { foreign_keys });
        Ok(())
    }

    /// Puts back what `enter` changed, and what a file changed: the
    /// connection goes back to the application as it came, foreign-key
    /// enforcement included, on or off. Then releases the lock file.
    fn leave(&mut self) -> Result<()> {
        self.rollback();
        let result = self.put_back();
        self.held = None;
        result
    }

    fn run_in_progress(&mut self) -> bool {
        self.held.is_none()
            && run_lock::path(self.conn).is_some_and(|path| run_lock::held_elsewhere(&path))
    }

    fn begin(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.db(e))
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.db(e))
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            // The error that brought us here matters more than one from here.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    fn in_transaction(&mut self) -> bool {
        !self.conn.is_autocommit()
    }

    fn create_table(&mut self) -> Result<()> {
        self.conn
            .execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    version INTEGER PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    chain TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    execution_ms INTEGER NOT NULL,
                    dirty INTEGER NOT NULL DEFAULT 0
                )",
                self.table
            ))
            .map_err(|e| self.db(e))?;
        let columns = self.columns()?;
        if columns != COLUMNS {
            return Err(self.foreign_table(columns));
        }
        Ok(())
    }

    fn execute(
        &mut self,
        m: &Migration,
        direction: Direction,
        file: &str,
        in_transaction: bool,
    ) -> Result<Duration> {
        self.run_file(m, direction, file, in_transaction)
    }

    fn restore(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.pragma_assigned) {
            return Ok(());
        }
        let Some(pragmas) = &self.pragmas else {
            return Ok(());
        };
        for name in session::restore(self.conn, pragmas)? {
            log::debug!("put back PRAGMA {name}, which a migration changed");
        }
        Ok(())
    }

    fn insert_row(&mut self, row: &NewRow<'_>) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (version, name, checksum, chain, applied_at, execution_ms, dirty) \
             VALUES (?1, ?2, ?3, ?4, coalesce(?5, {NOW}), ?6, ?7)",
            self.table
        );
        self.prepare(&sql)?
            .execute((
                version_param(row.version),
                row.name,
                row.checksum.to_hex(),
                row.chain.to_hex(),
                row.applied_at,
                i64::try_from(row.execution_ms).unwrap_or(i64::MAX),
                row.dirty,
            ))
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    fn delete_rows_above(&mut self, version: Option<u64>) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE version > ?1", self.table);
        self.conn
            .execute(&sql, [version.map_or(-1, version_param)])
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    fn delete_row(&mut self, version: u64) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE version = ?1", self.table);
        self.conn
            .execute(&sql, [version_param(version)])
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    fn set_dirty(&mut self, version: u64, dirty: bool, duration: Option<Duration>) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET dirty = ?1, execution_ms = coalesce(?2, execution_ms) WHERE version = ?3",
            self.table
        );
        let ms = duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.conn
            .execute(&sql, (dirty, ms, version_param(version)))
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    fn update_row(
        &mut self,
        version: u64,
        name: &str,
        checksum: Checksum,
        chain: Checksum,
    ) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET name = ?1, checksum = ?2, chain = ?3 WHERE version = ?4",
            self.table
        );
        self.conn
            .execute(
                &sql,
                (
                    name,
                    checksum.to_hex(),
                    chain.to_hex(),
                    version_param(version),
                ),
            )
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    fn read_foreign(&mut self) -> Result<Option<(ForeignKind, Vec<ForeignRow>)>> {
        let columns = self.columns()?;
        if columns.is_empty() || columns == COLUMNS {
            return Ok(None);
        }
        let Some(kind) = ForeignKind::of_columns(&columns) else {
            return Err(self.foreign_table(columns));
        };
        let sql = match kind {
            ForeignKind::GolangMigrate => format!(
                "SELECT version, NULL, NULL, dirty FROM {} ORDER BY version",
                self.table
            ),
            // Keep the recorded time, in strata's format where SQLite can
            // read it (ISO 8601 text, or seconds since 1970), else as it is.
            ForeignKind::HomeMade => format!(
                "SELECT version, CAST(name AS TEXT),
                    CASE typeof(applied_at)
                        WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', applied_at, 'unixepoch')
                        WHEN 'real' THEN strftime('%Y-%m-%dT%H:%M:%fZ', applied_at, 'unixepoch')
                        ELSE coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', applied_at), CAST(applied_at AS TEXT))
                    END,
                    0
                 FROM {} ORDER BY version",
                self.table
            ),
        };
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement
            .query_map([], |r| {
                Ok(ForeignRow {
                    version: r.get(0)?,
                    name: r.get(1)?,
                    applied_at: r.get(2)?,
                    dirty: r.get::<_, Option<bool>>(3)?.unwrap_or(false),
                })
            })
            .map_err(|e| self.db(e))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some((kind, rows)))
    }

    fn snapshot(&mut self) -> Result<crate::verify::Snapshot> {
        Ok(crate::verify::Snapshot {
            text: Some(describe::snapshot(self.conn, &mut self.described)?),
            schema: crate::verify::Schema::default(),
        })
    }

    fn expand<'s>(
        &mut self,
        snapshot: &'s crate::verify::Snapshot,
    ) -> Result<std::borrow::Cow<'s, crate::verify::Schema>> {
        Ok(match &snapshot.text {
            Some(text) => std::borrow::Cow::Owned(describe::expand(text, &self.described)),
            None => std::borrow::Cow::Borrowed(&snapshot.schema),
        })
    }

    fn replace_foreign(&mut self, rows: &[NewRow<'_>]) -> Result<()> {
        let old = quote_identifier(&format!("{}_before_strata", self.name));
        self.conn
            .execute_batch(&format!("ALTER TABLE {} RENAME TO {old}", self.table))
            .map_err(|e| self.db(e))?;
        self.create_table()?;
        for row in rows {
            self.insert_row(row)?;
        }
        self.conn
            .execute_batch(&format!("DROP TABLE {old}"))
            .map_err(|e| self.db(e))?;
        Ok(())
    }
}

impl<'a> Sqlite<'a> {
    /// `leave`'s work before the lock file is released: the authorizer
    /// removed, the settings a file changed and foreign-key enforcement
    /// put back.
    fn put_back(&mut self) -> Result<()> {
        self.unwatch()?;
        self.pragma_assigned = true;
        let restored = self.restore();
        self.pragmas = None;
        let Some(saved) = self.saved.take() else {
            return restored;
        };
        if saved.foreign_keys {
            self.conn.pragma_update(None, "foreign_keys", true)?;
        }
        restored
    }

    /// The backend for one operation on `conn`.
    fn new(conn: &'a mut Connection, table: &'a str, lock_timeout: Duration) -> Self {
        Sqlite {
            conn,
            name: table,
            // Named in `main`: a TEMP table of the same name, which a
            // migration may create, would otherwise take its place.
            table: format!("main.{}", quote_identifier(table)),
            lock_timeout,
            busy_timeout_ms: None,
            run_lock: false,
            started: std::time::Instant::now(),
            held: None,
            saved: None,
            pragmas: None,
            pragma_assigned: false,
            watch: None,
            files_run: 0,
            uses: RefCell::new(HashMap::new()),
            described: describe::Cache::default(),
        }
    }

    /// A statement, from the connection's cache where that pays. A
    /// migration's DDL expires every prepared statement, and SQLite's
    /// re-preparation of an expired one costs more than preparing anew. So
    /// after a file ran, a statement's first use prepares it anew outside
    /// the cache; further uses before the next file (the history rows of a
    /// single-transaction run) go through the cache, which SQLite brings up
    /// to date once. Before any file runs, as in the check of an up-to-date
    /// database, the cache serves as it is and nothing is tracked.
    fn prepare(&self, sql: &str) -> rusqlite::Result<Prepared<'_>> {
        if self.files_run == 0 {
            return self.conn.prepare_cached(sql).map(Prepared::Cached);
        }
        let mut uses = self.uses.borrow_mut();
        let count = match uses.get_mut(sql) {
            Some((files_run, count)) if *files_run == self.files_run => {
                *count += 1;
                *count
            }
            Some(entry) => {
                *entry = (self.files_run, 1);
                1
            }
            None => {
                uses.insert(sql.to_owned(), (self.files_run, 1));
                1
            }
        };
        if count == 1 {
            self.conn.prepare(sql).map(Prepared::Fresh)
        } else {
            self.conn.prepare_cached(sql).map(Prepared::Cached)
        }
    }

    /// Runs one file statement by statement and checks foreign keys after
    /// it. Inside a transaction, statements that would end it are refused
    /// as they are prepared.
    fn run_file(
        &mut self,
        m: &Migration,
        direction: Direction,
        file: &str,
        in_transaction: bool,
    ) -> Result<Duration> {
        let foreign_keys = self.saved.as_ref().is_some_and(|s| s.foreign_keys);
        // One look at the text for two words. A rename gives a table a name
        // the authorizer does not report: the table lists before and after
        // the file tell it. Only `ALTER TABLE … RENAME` renames, so other
        // files skip both reads, which cost what the schema holds (the word
        // in a comment or a string only costs a look at the list).
        let words = sql::holds_words(m.sql(direction), &[b"rename", b"pragma"]);
        let renames = words & 1 != 0;
        let before = if foreign_keys && renames {
            Some(self.table_names()?)
        } else {
            None
        };
        // SQLite applies many pragmas as it prepares them, so the settings
        // are read before the first file that can hold one: every PRAGMA
        // is written out in its file.
        if self.pragmas.is_none() && words & 2 != 0 {
            self.pragmas = Some(session::read(self.conn)?);
        }
        self.files_run += 1;
        let watch = self.watch()?;
        *lock(&watch) = Watch {
            active: true,
            in_transaction,
            renames,
            ..Watch::default()
        };
        let started = Instant::now();
        let result = self.execute_statements(m, m.sql(direction), file, &watch);
        let duration = started.elapsed();
        let seen = std::mem::take(&mut *lock(&watch));
        self.pragma_assigned |= seen.pragma_assigned;
        result?;
        if foreign_keys {
            let (violations, rows) = self.foreign_key_check(seen, before.as_ref())?;
            if rows > 0 {
                return Err(Error::ForeignKeyViolation {
                    version: m.version(),
                    file: file.to_owned(),
                    rows,
                    violations,
                });
            }
        }
        Ok(duration)
    }

    /// What the authorizer sees: installed on the first file and kept
    /// until `leave` (setting an authorizer expires every prepared
    /// statement, so it is set once, not per file), and awake only while a
    /// file's statements are prepared.
    fn watch(&mut self) -> Result<Arc<Mutex<Watch>>> {
        if let Some(watch) = &self.watch {
            return Ok(Arc::clone(watch));
        }
        let watch = Arc::new(Mutex::new(Watch::default()));
        let seen = Arc::clone(&watch);
        self.conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            let mut seen = lock(&seen);
            if !seen.active {
                return Authorization::Allow;
            }
            let table = match ctx.action {
                AuthAction::Transaction { .. } | AuthAction::Savepoint { .. }
                    if seen.in_transaction =>
                {
                    seen.denied_transaction_control = true;
                    return Authorization::Deny;
                }
                // Ignored or refused inside a transaction: denied, so that
                // the migration fails instead of being recorded without
                // its effect.
                AuthAction::Pragma {
                    pragma_name,
                    pragma_value: Some(_),
                } if seen.in_transaction && sql::pragma_refusal(pragma_name).is_some() => {
                    return Authorization::Deny;
                }
                AuthAction::Pragma {
                    pragma_value: Some(_),
                    ..
                } => {
                    seen.pragma_assigned = true;
                    return Authorization::Allow;
                }
                AuthAction::CreateTable { table_name } => {
                    seen.created.insert(table_name.to_lowercase());
                    table_name
                }
                AuthAction::Insert { table_name } => table_name,
                // ALTER TABLE changes no row, and SQLite refuses to drop a
                // key column; but a rename under `legacy_alter_table` leaves
                // the references behind, so the children of a table renamed
                // (or with a column renamed) are checked too.
                AuthAction::AlterTable { table_name, .. } => {
                    if seen.renames && !is_internal(table_name) {
                        seen.parents.insert(table_name.to_lowercase());
                    }
                    table_name
                }
                AuthAction::DropTable { table_name }
                | AuthAction::Delete { table_name }
                | AuthAction::Update { table_name, .. } => {
                    // SQLite writes its own schema table for every DDL.
                    if !is_internal(table_name) {
                        seen.parents.insert(table_name.to_lowercase());
                    }
                    table_name
                }
                _ => return Authorization::Allow,
            };
            // A file of many INSERTs into one table names it again and
            // again: no allocation once it is known (as written in lower
            // case, the common spelling).
            if !seen.tables.contains(table) {
                seen.tables.insert(table.to_lowercase());
            }
            Authorization::Allow
        }))?;
        self.watch = Some(Arc::clone(&watch));
        Ok(watch)
    }

    /// Removes the authorizer, if a file installed it.
    fn unwatch(&mut self) -> Result<()> {
        if self.watch.take().is_some() {
            self.conn
                .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
        }
        Ok(())
    }

    /// Runs a file statement by statement, as SQLite splits it: each one
    /// prepared in place from the rest of the file. SQLite copies a text it
    /// is asked to prepare unless the text ends in a NUL byte, so the file
    /// gets one; without it, the copies of "the rest of the file" made the
    /// run time grow with the square of the file's size.
    fn execute_statements(
        &mut self,
        m: &Migration,
        sql: &str,
        file: &str,
        watch: &Mutex<Watch>,
    ) -> Result<()> {
        let mut text = String::with_capacity(sql.len() + 1);
        text.push_str(sql);
        text.push('\0');
        let mut batch = Batch::new(self.conn, &text);
        let mut index = 0;
        loop {
            let mut statement = match batch.next() {
                Ok(Some(statement)) => statement,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.failed(m, sql, file, index, e, watch)),
            };
            let mut rows = statement.raw_query();
            loop {
                match rows.next() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => return Err(self.failed(m, sql, file, index, e, watch)),
                }
            }
            index += 1;
        }
    }

    /// The error of the file's statement number `index` (from 0, as SQLite
    /// split the file, which the lexer's split matches). Only now is the
    /// file lexed: for the statement's line and text, and for why a
    /// statement that the authorizer or SQLite refused inside the
    /// transaction was refused.
    fn failed(
        &self,
        m: &Migration,
        sql: &str,
        file: &str,
        index: usize,
        cause: rusqlite::Error,
        watch: &Mutex<Watch>,
    ) -> Error {
        if matches!(
            cause.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        ) {
            return self.locked();
        }
        let lexed = sql::lex(sql, Dialect::Sqlite);
        let statement = lexed.statements.get(index);
        let seen = lock(watch);
        if seen.in_transaction
            && let Some(statement) = statement
            && let Err(refused) = refuse_in_transaction(m, file, std::slice::from_ref(statement))
        {
            return refused;
        }
        if seen.denied_transaction_control {
            // The lexer saw no transaction control where SQLite did: name
            // no line rather than a wrong one.
            return Error::TransactionControl {
                version: m.version(),
                file: file.to_owned(),
                line: None,
            };
        }
        // A syntax error says where it is, from where preparing began: just
        // after the statement before.
        let from = index
            .checked_sub(1)
            .and_then(|i| lexed.statements.get(i))
            .map_or(0, |s| s.end);
        let line = match &cause {
            rusqlite::Error::SqlInputError { offset, .. } if *offset >= 0 => {
                Some(sql::line_of(sql, from + *offset as usize))
            }
            _ => statement.map(|s| s.line),
        };
        if let Some(fault) = storage_fault(&cause) {
            return Error::Storage {
                path: self.path(),
                fault,
                version: Some(m.version()),
                file: Some(file.to_owned()),
                cause: Some(cause.into()),
            };
        }
        Error::Statement {
            version: m.version(),
            file: file.to_owned(),
            line,
            statement: statement.map(|s| s.shortened(STATEMENT_SHOWN)),
            in_transaction: seen.in_transaction,
            cause: cause.into(),
        }
    }

    fn table_names(&self) -> Result<BTreeSet<String>> {
        let mut statement =
            self.prepare("SELECT lower(name) FROM sqlite_schema WHERE type = 'table'")?;
        let names = statement.query_map([], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// `foreign_key_check` on the tables a migration created, altered,
    /// dropped or wrote, on tables that are new under any name (a rename,
    /// when `before` holds the table list from before the file), and on
    /// every table whose foreign keys point at a table that lost or changed
    /// rows: what the migration touched, not what the database holds.
    /// Returns a few broken rows of each table, and how many there are in
    /// all (each row counted once per foreign key it breaks, as the pragma
    /// reports them).
    fn foreign_key_check(
        &self,
        seen: Watch,
        before: Option<&BTreeSet<String>>,
    ) -> Result<(Vec<ForeignKeyViolation>, usize)> {
        let mut targets = seen.tables;
        // Rows that existed before can only lose their parent when a table
        // that existed before lost or changed rows.
        let mut parents = seen.parents;
        match before {
            Some(before) => {
                let after = self.table_names()?;
                targets.extend(after.difference(before).cloned());
                parents.retain(|t| before.contains(t));
            }
            None => parents.retain(|t| !seen.created.contains(t)),
        }
        // Most migrations create and fill tables: they skip the look at
        // every table's keys, which costs what the schema holds.
        if !parents.is_empty() {
            let mut statement = self.prepare(
                "SELECT lower(m.name), lower(f.\"table\") FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'",
            )?;
            let edges = statement
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for edge in edges {
                let (child, parent) = edge?;
                if parents.contains(&parent) {
                    targets.insert(child);
                }
            }
        }
        // Names the authorizer reported may be gone (dropped, renamed), be
        // views, or be SQLite's own: only tables of the main database are
        // checked. `table_exists` looks the name up in the parsed schema
        // (views do not count), without a statement.
        let mut violations = Vec::new();
        let mut total = 0;
        for table in &targets {
            if is_internal(table) || !self.conn.table_exists(Some("main"), table)? {
                continue;
            }
            // The pragma itself, not its table-valued form, which prepares
            // the pragma again on every call.
            let mut check = self.conn.prepare(&format!(
                "PRAGMA main.foreign_key_check({})",
                quote_identifier(table)
            ))?;
            let rows = check.query_map([], |r| {
                Ok(ForeignKeyViolation {
                    table: r.get(0)?,
                    rowid: r.get(1)?,
                    parent: r.get(2)?,
                })
            })?;
            for (n, row) in rows.enumerate() {
                let row = row?;
                if n < VIOLATIONS_SHOWN {
                    violations.push(row);
                }
                total += 1;
            }
        }
        Ok((violations, total))
    }

    fn columns(&self) -> Result<Vec<String>> {
        let mut statement = self
            .prepare("SELECT name FROM pragma_table_info(?1, 'main')")
            .map_err(|e| self.db(e))?;
        let names = statement.query_map([self.name], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    fn foreign_table(&self, columns: Vec<String>) -> Error {
        Error::ForeignHistoryTable {
            table: self.name.to_string(),
            kind: ForeignTable::of_columns(&columns),
            columns,
        }
    }

    /// The newest row: one read of the primary key's b-tree.
    fn head(&self) -> Result<TableState> {
        let sql = format!(
            "SELECT version, chain, dirty FROM {} ORDER BY version DESC LIMIT 1",
            self.table
        );
        let mut statement = match self.prepare(&sql) {
            Ok(statement) => statement,
            Err(e) => {
                if matches!(
                    e.sqlite_error_code(),
                    Some(
                        ErrorCode::NotADatabase
                            | ErrorCode::DatabaseBusy
                            | ErrorCode::DatabaseLocked
                    )
                ) || hot_journal(&e)
                {
                    return Err(self.db(e));
                }
                // No such table, or no such column: look at what is there.
                // Another process may have created the table since the
                // statement failed; then it is strata's, and readable now.
                let columns = self.columns()?;
                if columns.is_empty() {
                    return Ok(TableState::Missing);
                }
                if columns != COLUMNS {
                    return Err(self.foreign_table(columns));
                }
                self.prepare(&sql).map_err(|e| self.db(e))?
            }
        };
        let head = statement
            .query_row([], |row| {
                Ok((|| {
                    let version = self.version(row)?;
                    Ok::<_, Error>(Head {
                        version,
                        chain: self.checksum(row, 1, "chain", version)?,
                        dirty: self.flag(row, 2, "dirty", version)?,
                    })
                })())
            })
            .optional()
            .map_err(|e| self.db(e))?
            .transpose()?;
        Ok(TableState::Strata(head))
    }

    fn rows(&self) -> Result<Vec<AppliedMigration>> {
        let sql = format!(
            "SELECT version, name, checksum, chain, applied_at, execution_ms, dirty FROM {} ORDER BY version",
            self.table
        );
        let mut statement = self.conn.prepare(&sql)?;
        let mut rows = statement.query([])?;
        let mut all = Vec::new();
        while let Some(row) = rows.next()? {
            let version = self.version(row)?;
            all.push(AppliedMigration {
                version,
                name: self.text(row, 1, "name", version)?.to_owned(),
                checksum: self.checksum(row, 2, "checksum", version)?,
                chain: self.checksum(row, 3, "chain", version)?,
                applied_at: self.text(row, 4, "applied_at", version)?.to_owned(),
                execution_ms: u64::try_from(self.integer(
                    row,
                    5,
                    "execution_ms",
                    version as i64,
                )?)
                .unwrap_or(0),
                dirty: self.flag(row, 6, "dirty", version)?,
            });
        }
        Ok(all)
    }

    fn corrupt(&self, version: i64, column: &'static str, value: ValueRef<'_>) -> Error {
        Error::CorruptHistory {
            table: self.name.to_string(),
            version,
            column,
            value: match value {
                ValueRef::Null => "NULL".to_owned(),
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(f) => f.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
            },
        }
    }

    fn integer(
        &self,
        row: &Row<'_>,
        index: usize,
        column: &'static str,
        version: i64,
    ) -> Result<i64> {
        match row.get_ref(index)? {
            ValueRef::Integer(i) => Ok(i),
            other => Err(self.corrupt(version, column, other)),
        }
    }

    fn version(&self, row: &Row<'_>) -> Result<u64> {
        let version = self.integer(row, 0, "version", -1)?;
        u64::try_from(version)
            .map_err(|_| self.corrupt(version, "version", ValueRef::Integer(version)))
    }

    fn flag(
        &self,
        row: &Row<'_>,
        index: usize,
        column: &'static str,
        version: u64,
    ) -> Result<bool> {
        Ok(self.integer(row, index, column, version as i64)? != 0)
    }

    fn text<'row>(
        &self,
        row: &'row Row<'_>,
        index: usize,
        column: &'static str,
        version: u64,
    ) -> Result<&'row str> {
        match row.get_ref(index)? {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map_err(|_| self.corrupt(version as i64, column, ValueRef::Text(t))),
            other => Err(self.corrupt(version as i64, column, other)),
        }
    }

    fn checksum(
        &self,
        row: &Row<'_>,
        index: usize,
        column: &'static str,
        version: u64,
    ) -> Result<Checksum> {
        let text = self.text(row, index, column, version)?;
        Checksum::from_hex(text)
            .ok_or_else(|| self.corrupt(version as i64, column, ValueRef::Text(text.as_bytes())))
    }

    fn path(&self) -> String {
        match self.conn.path() {
            Some(path) if !path.is_empty() => path.to_owned(),
            _ => ":memory:".to_owned(),
        }
    }
}

/// Versions are at most `i64::MAX` (the folder rules say so).
fn version_param(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// SQLite's own tables (`sqlite_schema`, `sqlite_sequence`, …): no
/// foreign key points at them, and they have none.
fn is_internal(table: &str) -> bool {
    table
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("sqlite_"))
}

/// Quotes an identifier for SQLite: `"name"`, with `"` doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
