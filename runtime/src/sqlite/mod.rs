//! The SQLite backend, over rusqlite.
//!
//! A run, in order: one indexed read of the newest history row (when its
//! chain matches the files, that is the whole startup cost); then, if
//! anything is pending, for each migration `BEGIN IMMEDIATE` (so concurrent
//! processes queue on SQLite's write lock), re-read the history inside the
//! lock, run the SQL statement by statement, check foreign keys, insert the
//! history row and commit.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Batch, Connection, ErrorCode, OptionalExtension, Row};

use crate::plan::{self, AppliedMigration, Head};
use crate::runner::Millis;
use crate::source::{Direction, sql};
use crate::{
    AppliedStep, Checksum, Error, ForeignKeyViolation, ForeignTable, Migration, Migrations, Report,
    Result, Runner,
};

/// The columns of strata's history table, in order.
const COLUMNS: [&str; 7] = [
    "version",
    "name",
    "checksum",
    "chain",
    "applied_at",
    "execution_ms",
    "dirty",
];

/// How many rows per table a foreign-key error names.
const VIOLATIONS_SHOWN: usize = 5;

impl Migrations {
    /// Applies every pending migration to a SQLite database with the default
    /// options; see [`Runner::run`].
    ///
    /// ```
    /// # fn main() -> Result<(), strata_runtime::Error> {
    /// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::Migrations::__embedded("migrations", &[]);
    /// let mut conn = rusqlite::Connection::open_in_memory()?;
    /// let report = MIGRATIONS.run(&mut conn)?;
    /// println!("{report}");
    /// # Ok(()) }
    /// ```
    pub fn run(&self, conn: &mut Connection) -> Result<Report> {
        self.runner().run(conn)
    }
}

impl Runner<'_> {
    /// Applies every pending migration to a SQLite database.
    ///
    /// Before anything changes, the applied migrations are checked against
    /// the files: an edited migration, an applied version that the files
    /// lack, a pending version below the newest applied one and a dirty row
    /// each stop the run with its own error. Each migration then runs with
    /// its history row in one transaction (or all of them in one, with
    /// [`single_transaction`](Runner::single_transaction)); a failure rolls
    /// that transaction back and returns an error naming the file and line.
    ///
    /// Foreign-key enforcement is switched off while a migration runs, so
    /// that SQLite's table-recreation pattern neither fires `ON DELETE
    /// CASCADE` nor fails halfway, and `foreign_key_check` runs on the tables
    /// the migration touched before it commits. The connection's
    /// `foreign_keys` and `busy_timeout` settings are restored afterwards;
    /// an authorizer set on the connection is removed.
    pub fn run(&self, conn: &mut Connection) -> Result<Report> {
        Sqlite {
            conn,
            runner: self,
            table: quote_identifier(&self.table),
        }
        .run()
    }
}

struct Sqlite<'c, 'r> {
    conn: &'c mut Connection,
    runner: &'r Runner<'r>,
    /// The history table's name, quoted for SQL.
    table: String,
}

/// What a history table lookup found.
enum Table {
    Missing,
    Present(Option<Head>),
}

/// What one step of the run did inside its transaction.
enum Step {
    /// Nothing is pending; the database is at this version.
    Done(Option<u64>),
    /// Applied these migrations (indexes); commit them.
    Applied(std::ops::Range<usize>),
    /// The next migration runs outside a transaction.
    NoTransaction(usize),
}

/// Connection settings that a run changes and restores.
struct Saved {
    busy_timeout_ms: i64,
    foreign_keys: bool,
}

/// What the authorizer saw while a migration's statements were prepared.
#[derive(Default)]
struct Watch {
    tables: BTreeSet<String>,
    denied_transaction_control: bool,
}

impl Sqlite<'_, '_> {
    fn migrations(&self) -> &Migrations {
        self.runner.migrations
    }

    fn run(&mut self) -> Result<Report> {
        if !self.conn.is_autocommit() {
            return Err(Error::InTransaction);
        }
        let total = self.end()?;
        let table = self.read_head()?;
        let applied = match &table {
            Table::Missing => Some(0),
            Table::Present(head) => {
                let applied = plan::applied_by_head(self.migrations(), head.as_ref());
                if applied.is_some_and(|applied| applied >= total) {
                    return Ok(Report {
                        applied: Vec::new(),
                        version: head.map(|h| h.version),
                    });
                }
                applied
            }
        };
        if self.conn.is_readonly(rusqlite::MAIN_DB)? {
            let applied = match applied {
                Some(applied) => applied,
                None => plan::check_history(self.migrations(), &self.read_all()?)?,
            };
            if applied < total || matches!(table, Table::Missing) {
                return Err(Error::ReadOnly {
                    path: self.path(),
                    pending: total.saturating_sub(applied),
                });
            }
        }
        let saved = self.enter()?;
        let result = self.apply_pending(saved.foreign_keys, matches!(table, Table::Missing));
        let restored = self.leave(&saved);
        let report = result?;
        restored?;
        Ok(report)
    }

    /// How many migrations the run may apply: all, or up to the target.
    fn end(&self) -> Result<usize> {
        let migrations = self.migrations();
        match self.runner.target {
            None => Ok(migrations.len()),
            Some(version) => migrations
                .index_of(version)
                .map(|index| index + 1)
                .ok_or_else(|| Error::UnknownVersion {
                    version,
                    folder: migrations.folder().to_owned(),
                }),
        }
    }

    fn path(&self) -> String {
        match self.conn.path() {
            Some(path) if !path.is_empty() => path.to_owned(),
            _ => ":memory:".to_owned(),
        }
    }

    /// Raises the busy timeout to the runner's lock wait and switches
    /// foreign-key enforcement off (it cannot change inside a transaction).
    fn enter(&mut self) -> Result<Saved> {
        let busy_timeout_ms: i64 = self
            .conn
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
        let wanted = i64::try_from(self.runner.lock_timeout.as_millis()).unwrap_or(i64::MAX);
        if wanted > busy_timeout_ms {
            self.conn.busy_timeout(self.runner.lock_timeout)?;
        }
        let foreign_keys: bool = self
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
        if foreign_keys {
            self.conn.pragma_update(None, "foreign_keys", false)?;
        }
        Ok(Saved {
            busy_timeout_ms,
            foreign_keys,
        })
    }

    fn leave(&mut self, saved: &Saved) -> Result<()> {
        if !self.conn.is_autocommit() {
            // Only a failed no-transaction file can leave one open.
            self.conn.execute_batch("ROLLBACK")?;
        }
        self.conn.busy_timeout(Duration::from_millis(
            u64::try_from(saved.busy_timeout_ms).unwrap_or(0),
        ))?;
        if saved.foreign_keys {
            self.conn.pragma_update(None, "foreign_keys", true)?;
        }
        Ok(())
    }

    /// The wait that a busy error means was exceeded.
    fn locked(&self) -> Error {
        Error::Locked {
            waited: self.runner.lock_timeout,
        }
    }

    /// Maps a rusqlite error, giving lock time-outs and non-databases
    /// their own errors.
    fn db(&self, e: rusqlite::Error) -> Error {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => self.locked(),
            Some(ErrorCode::NotADatabase) => Error::NotADatabase { path: self.path() },
            _ => Error::from(e),
        }
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

    /// Applies what is pending, one transaction per step, until nothing is.
    /// `table_missing`: the first read found no history table, so the first
    /// step creates it and must commit even when it applies nothing.
    fn apply_pending(&mut self, foreign_keys: bool, table_missing: bool) -> Result<Report> {
        let mut report = Report::default();
        let mut created = false;
        let end = self.end()?;
        loop {
            self.begin()?;
            let step = self.step(&mut created, foreign_keys, &mut report);
            let last = match step {
                Ok(Step::Done(version)) => {
                    // An empty commit would cost an fsync for nothing.
                    if table_missing {
                        self.commit()?;
                    } else {
                        self.rollback();
                    }
                    report.version = version;
                    return Ok(report);
                }
                Ok(Step::Applied(range)) => {
                    let done = report.applied.len() - range.len();
                    if self.conn.is_autocommit() {
                        // The authorizer refuses transaction control, so this
                        // is a defence in depth, not an expected path.
                        let m = &self.migrations().as_slice()[range.start];
                        return Err(Error::TransactionControl {
                            version: m.version(),
                            file: self.migrations().file_path(m, Direction::Up),
                            line: 0,
                        });
                    }
                    if let Err(e) = self.commit() {
                        self.rollback();
                        report.applied.truncate(done);
                        return Err(e);
                    }
                    for step in &report.applied[done..] {
                        log::info!(
                            "applied migration {}/{}.up.sql in {}",
                            self.migrations().folder(),
                            step.stem,
                            Millis(step.duration)
                        );
                    }
                    range.end - 1
                }
                Ok(Step::NoTransaction(index)) => {
                    self.apply_outside_transaction(index, foreign_keys, &mut report)?;
                    index
                }
                Err(e) => {
                    self.rollback();
                    return Err(e);
                }
            };
            // The lock was held from the check to the commit, so when the
            // last migration to apply is in, nothing is pending: skip the
            // transaction that would only find that out.
            if last + 1 >= end {
                report.version = Some(self.migrations().as_slice()[last].version());
                return Ok(report);
            }
        }
    }

    /// One step inside a `BEGIN IMMEDIATE` transaction: check the history
    /// under the lock and apply the next pending migration (or all of them).
    fn step(
        &mut self,
        created: &mut bool,
        foreign_keys: bool,
        report: &mut Report,
    ) -> Result<Step> {
        if !*created {
            self.create_table()?;
            *created = true;
        }
        let migrations = self.runner.migrations;
        let head = match self.read_head()? {
            Table::Present(head) => head,
            Table::Missing => None,
        };
        let applied = match plan::applied_by_head(migrations, head.as_ref()) {
            Some(applied) => applied,
            None => plan::check_history(migrations, &self.read_all()?)?,
        };
        let list = &migrations.as_slice()[..self.end()?];
        if applied >= list.len() {
            return Ok(Step::Done(head.map(|h| h.version)));
        }
        let range = if self.runner.single_transaction {
            if let Some(m) = list[applied..]
                .iter()
                .find(|m| m.no_transaction(Direction::Up))
            {
                return Err(Error::NoTransactionInSingleTransaction {
                    version: m.version(),
                    file: migrations.file_path(m, Direction::Up),
                });
            }
            applied..list.len()
        } else if list[applied].no_transaction(Direction::Up) {
            return Ok(Step::NoTransaction(applied));
        } else {
            applied..applied + 1
        };
        for m in &list[range.clone()] {
            let duration = self.execute(m, Direction::Up, true, foreign_keys)?;
            self.insert_row(m, duration, false)?;
            report.applied.push(AppliedStep {
                version: m.version(),
                stem: m.stem().to_owned(),
                duration,
            });
        }
        Ok(Step::Applied(range))
    }

    /// A `-- strata:no-transaction` migration: a dirty row is committed
    /// first, the SQL runs statement by statement in autocommit mode, and
    /// the row is cleaned when it succeeds. A crash or error in between
    /// leaves the dirty row for the next run to refuse.
    fn apply_outside_transaction(
        &mut self,
        index: usize,
        foreign_keys: bool,
        report: &mut Report,
    ) -> Result<()> {
        let migrations = self.runner.migrations;
        let m = &migrations.as_slice()[index];
        let inserted = self.insert_row(m, Duration::ZERO, true);
        if let Err(e) = inserted.and_then(|()| self.commit()) {
            self.rollback();
            return Err(e);
        }
        let duration = self.execute(m, Direction::Up, false, foreign_keys)?;
        self.begin()?;
        let cleaned = self
            .conn
            .execute(
                &format!(
                    "UPDATE {} SET dirty = 0, execution_ms = ?1 WHERE version = ?2",
                    self.table
                ),
                (millis(duration), version_param(m.version())),
            )
            .map_err(|e| self.db(e));
        if let Err(e) = cleaned.and_then(|_| self.commit()) {
            self.rollback();
            return Err(e);
        }
        log::info!(
            "applied migration {} (outside a transaction) in {}",
            migrations.file_path(m, Direction::Up),
            Millis(duration)
        );
        report.applied.push(AppliedStep {
            version: m.version(),
            stem: m.stem().to_owned(),
            duration,
        });
        Ok(())
    }

    /// Runs one file statement by statement and checks foreign keys after
    /// it. Inside a transaction, statements that would end it are refused
    /// as they are prepared.
    fn execute(
        &mut self,
        m: &Migration,
        direction: Direction,
        in_transaction: bool,
        foreign_keys: bool,
    ) -> Result<Duration> {
        let file = self.migrations().file_path(m, direction);
        let before = if foreign_keys {
            self.table_names()?
        } else {
            BTreeSet::new()
        };
        let watch = Arc::new(Mutex::new(Watch::default()));
        let seen = Arc::clone(&watch);
        self.conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            let table = match ctx.action {
                AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } if in_transaction => {
                    seen.denied_transaction_control = true;
                    return Authorization::Deny;
                }
                AuthAction::CreateTable { table_name }
                | AuthAction::DropTable { table_name }
                | AuthAction::Insert { table_name }
                | AuthAction::Delete { table_name }
                | AuthAction::Update { table_name, .. }
                | AuthAction::AlterTable { table_name, .. } => table_name,
                _ => return Authorization::Allow,
            };
            seen.tables.insert(table.to_lowercase());
            Authorization::Allow
        }))?;
        let started = Instant::now();
        let result = self.execute_statements(m, direction, &file, &watch);
        let duration = started.elapsed();
        self.conn
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
        result?;
        if foreign_keys {
            let touched =
                std::mem::take(&mut watch.lock().unwrap_or_else(PoisonError::into_inner).tables);
            let violations = self.foreign_key_check(touched, &before)?;
            if !violations.is_empty() {
                return Err(Error::ForeignKeyViolation {
                    version: m.version(),
                    file,
                    violations,
                });
            }
        }
        Ok(duration)
    }

    fn execute_statements(
        &mut self,
        m: &Migration,
        direction: Direction,
        file: &str,
        watch: &Mutex<Watch>,
    ) -> Result<()> {
        let sql = m.sql(direction);
        let mut offset = 0;
        let mut batch = Batch::new(self.conn, sql);
        loop {
            let start = sql::skip_trivia(sql, offset);
            let fail = |cause: rusqlite::Error| {
                let line = sql::line_of(sql, start);
                let denied = watch
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .denied_transaction_control;
                match cause.sqlite_error_code() {
                    Some(ErrorCode::AuthorizationForStatementDenied) if denied => {
                        Error::TransactionControl {
                            version: m.version(),
                            file: file.to_owned(),
                            line,
                        }
                    }
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => self.locked(),
                    _ => Error::Statement {
                        version: m.version(),
                        file: file.to_owned(),
                        line,
                        cause: cause.into(),
                    },
                }
            };
            let mut statement = match batch.next() {
                Ok(Some(statement)) => statement,
                Ok(None) => return Ok(()),
                Err(e) => return Err(fail(e)),
            };
            // SQLite keeps the statement's text from where it was asked to
            // start: that tells where the next one begins.
            let length = statement
                .expanded_sql()
                .map_or(sql.len() - offset, |s| s.len());
            let mut rows = statement.raw_query();
            loop {
                match rows.next() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => return Err(fail(e)),
                }
            }
            offset += length;
        }
    }

    fn table_names(&self) -> Result<BTreeSet<String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT lower(name) FROM sqlite_schema WHERE type = 'table'")?;
        let names = statement.query_map([], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// `foreign_key_check` on the tables a migration created, altered,
    /// dropped or wrote, on tables that are new under any name (a rename),
    /// and on every table whose foreign keys point at one of them: what the
    /// migration touched, not what the database holds.
    fn foreign_key_check(
        &self,
        touched: BTreeSet<String>,
        before: &BTreeSet<String>,
    ) -> Result<Vec<ForeignKeyViolation>> {
        let after = self.table_names()?;
        let mut targets: BTreeSet<String> = touched;
        targets.extend(after.difference(before).cloned());
        let mut statement = self.conn.prepare_cached(
            "SELECT lower(m.name), lower(f.\"table\") FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'",
        )?;
        let edges: Vec<(String, String)> = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let children: Vec<String> = edges
            .into_iter()
            .filter(|(_, parent)| targets.contains(parent))
            .map(|(child, _)| child)
            .collect();
        targets.extend(children);
        let mut check = self.conn.prepare_cached(
            "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check(?1) LIMIT ?2",
        )?;
        let mut violations = Vec::new();
        for table in targets.iter().filter(|t| after.contains(*t)) {
            let rows = check.query_map((table, VIOLATIONS_SHOWN as i64), |r| {
                Ok(ForeignKeyViolation {
                    table: r.get(0)?,
                    rowid: r.get(1)?,
                    parent: r.get(2)?,
                })
            })?;
            for row in rows {
                violations.push(row?);
            }
        }
        Ok(violations)
    }

    fn create_table(&mut self) -> Result<()> {
        self.conn.execute_batch(&format!(
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
        ))?;
        let columns = self.columns()?;
        if columns != COLUMNS {
            return Err(self.foreign_table(columns));
        }
        Ok(())
    }

    fn columns(&self) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT name FROM pragma_table_info(?1)")
            .map_err(|e| self.db(e))?;
        let names = statement.query_map([&*self.runner.table], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    fn foreign_table(&self, columns: Vec<String>) -> Error {
        let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
        let kind = if columns.len() == 2 && has("version") && has("dirty") {
            ForeignTable::GolangMigrate
        } else if has("version") && !has("checksum") {
            ForeignTable::HomeMade
        } else {
            ForeignTable::Other
        };
        Error::ForeignHistoryTable {
            table: self.runner.table.to_string(),
            columns,
            kind,
        }
    }

    /// The newest row: one read of the primary key's b-tree.
    fn read_head(&self) -> Result<Table> {
        let sql = format!(
            "SELECT version, chain, dirty FROM {} ORDER BY version DESC LIMIT 1",
            self.table
        );
        let mut statement = match self.conn.prepare_cached(&sql) {
            Ok(statement) => statement,
            Err(e) => {
                if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
                    return Err(self.db(e));
                }
                let columns = self.columns()?;
                if columns.is_empty() {
                    return Ok(Table::Missing);
                }
                return Err(self.foreign_table(columns));
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
        Ok(Table::Present(head))
    }

    fn read_all(&self) -> Result<Vec<AppliedMigration>> {
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
            table: self.runner.table.to_string(),
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

    fn insert_row(&mut self, m: &Migration, duration: Duration, dirty: bool) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (version, name, checksum, chain, applied_at, execution_ms, dirty) \
             VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?5, ?6)",
            self.table
        );
        self.conn
            .prepare_cached(&sql)?
            .execute((
                version_param(m.version()),
                m.name(),
                m.checksum().to_hex(),
                m.chain().to_hex(),
                millis(duration),
                dirty,
            ))
            .map_err(|e| self.db(e))?;
        Ok(())
    }
}

/// Versions are at most `i64::MAX` (the folder rules say so).
fn version_param(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Quotes an identifier for SQLite: `"name"`, with `"` doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
