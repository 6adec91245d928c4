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
use std::time::Duration;

use rusqlite::{CachedStatement, Connection, Statement};

use crate::backend::{Apply, Backend, Connect};
use crate::options::Options;
use crate::{Migrations, Result};

/// How many rows per table a foreign-key error names.
const VIOLATIONS_SHOWN: usize = 5;

mod apply;
mod authorizer;
mod describe;
mod faults;
mod history;
mod run_lock;
mod schema_sql;
mod session;
#[cfg(feature = "sqlx-sqlite")]
mod sqlx;
mod transactions;
mod verify;

use faults::{hot_journal, storage_fault};

impl Connect for Connection {
    fn backend<'a>(
        &'a mut self,
        migrations: &Migrations,
        options: &'a Options,
    ) -> Box<dyn Backend + 'a> {
        let mut db = Sqlite::new(self, &options.table, options.lock_timeout);
        db.run_lock = migrations.any_outside_transaction();
        Box::new(db)
    }

    fn verify(
        &mut self,
        migrations: &Migrations,
        options: &Options,
    ) -> Result<crate::report::VerifyReport> {
        verify::verify(self, migrations, &options.table)
    }
}

struct Sqlite<'a> {
    conn: Handle<'a>,
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
    /// The authorizer that fills it, while set on the handle.
    authorizer: Option<authorizer::Authorizer>,
    /// How many files ran: each may have expired the cached statements.
    files_run: u64,
    /// Each statement's uses since the last file ran: (`files_run` then,
    /// uses).
    uses: RefCell<HashMap<String, (u64, u32)>>,
    /// The tables and indexes verify described, by their SQL.
    described: describe::Cache,
}

/// The rusqlite connection a [`Sqlite`] drives: the caller's, or one over
/// an sqlx connection's handle, which keeps sqlx's worker off the handle
/// while it lives.
enum Handle<'a> {
    Borrowed(&'a mut Connection),
    #[cfg(feature = "sqlx-sqlite")]
    Sqlx(sqlx::Borrowed<'a>),
}

impl Deref for Handle<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Handle::Borrowed(conn) => conn,
            #[cfg(feature = "sqlx-sqlite")]
            Handle::Sqlx(borrowed) => borrowed,
        }
    }
}

impl DerefMut for Handle<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match self {
            Handle::Borrowed(conn) => conn,
            #[cfg(feature = "sqlx-sqlite")]
            Handle::Sqlx(borrowed) => borrowed,
        }
    }
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

impl<'a> Sqlite<'a> {
    /// `leave`'s work before the lock file is released: the authorizer
    /// removed, the settings a file changed and foreign-key enforcement
    /// put back.
    fn put_back(&mut self) -> Result<()> {
        self.unwatch()?;
        self.pragma_assigned = true;
        let restored = self.restore().now();
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
        Sqlite::over(Handle::Borrowed(conn), table, lock_timeout)
    }

    fn over(conn: Handle<'a>, table: &'a str, lock_timeout: Duration) -> Self {
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
            authorizer: None,
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
