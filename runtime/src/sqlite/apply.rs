//! Running a migration's file statement by statement, and checking foreign
//! keys after it.

use super::authorizer::{Action, Authorizer};
use super::{
    Sqlite, VIOLATIONS_SHOWN, Watch, is_internal, lock, quote_identifier, session, storage_fault,
};
use crate::backend::{STATEMENT_SHOWN, refuse_in_transaction};
use crate::call::Call;
use crate::source::Direction;
use crate::source::sql::{self, Dialect};
use crate::{Error, ForeignKeyViolation, Migration, Result};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, ErrorCode};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

impl crate::backend::Apply for Sqlite<'_> {
    fn execute<'a>(
        &'a mut self,
        m: &'a Migration,
        direction: Direction,
        file: &'a str,
        in_transaction: bool,
    ) -> Call<'a, Result<Duration>> {
        self.mapped(|db| -> Result<Duration> { db.run_file(m, direction, file, in_transaction) })
    }

    fn restore(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            if !std::mem::take(&mut db.pragma_assigned) {
                return Ok(());
            }
            let Some(pragmas) = &db.pragmas else {
                return Ok(());
            };
            for name in session::restore(&db.conn, pragmas)? {
                log::debug!("put back PRAGMA {name}, which a migration changed");
            }
            Ok(())
        })
    }
}

impl<'a> Sqlite<'a> {
    /// Runs one file statement by statement and checks foreign keys after
    /// it. Inside a transaction, statements that would end it are refused
    /// as they are prepared.
    pub(super) fn run_file(
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
            self.pragmas = Some(session::read(&self.conn)?);
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
    pub(super) fn watch(&mut self) -> Result<Arc<Mutex<Watch>>> {
        if let Some(watch) = &self.watch {
            return Ok(Arc::clone(watch));
        }
        let watch = Arc::new(Mutex::new(Watch::default()));
        let authorizer = Authorizer::set(&self.conn, Arc::clone(&watch), decide)?;
        self.authorizer = Some(authorizer);
        self.watch = Some(Arc::clone(&watch));
        Ok(watch)
    }

    /// Removes the authorizer, if a file installed it.
    pub(super) fn unwatch(&mut self) -> Result<()> {
        self.watch = None;
        match self.authorizer.take() {
            Some(authorizer) => authorizer.remove(&self.conn),
            None => Ok(()),
        }
    }

    /// Runs a file statement by statement, as SQLite splits it: each one
    /// prepared in place from the rest of the file. SQLite copies a text it
    /// is asked to prepare unless the text ends in a NUL byte, so the file
    /// gets one; without it, the copies of "the rest of the file" made the
    /// run time grow with the square of the file's size.
    pub(super) fn execute_statements(
        &mut self,
        m: &Migration,
        sql: &str,
        file: &str,
        watch: &Mutex<Watch>,
    ) -> Result<()> {
        let mut text = String::with_capacity(sql.len() + 1);
        text.push_str(sql);
        text.push('\0');
        let mut batch = Batch::new(&self.conn, &text);
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
    pub(super) fn failed(
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

    pub(super) fn table_names(&self) -> Result<BTreeSet<String>> {
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
    pub(super) fn foreign_key_check(
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
}

/// The authorizer's decision, while a file's statements are prepared: what
/// the file may do inside strata's transaction, and what it touches.
fn decide(seen: &mut Watch, action: Action<'_>) -> bool {
    if !seen.active {
        return true;
    }
    let table = match action {
        Action::TransactionControl if seen.in_transaction => {
            seen.denied_transaction_control = true;
            return false;
        }
        // Ignored or refused inside a transaction: denied, so that the
        // migration fails instead of being recorded without its effect.
        Action::Pragma {
            name,
            value: Some(_),
        } if seen.in_transaction && sql::pragma_refusal(name).is_some() => {
            return false;
        }
        Action::Pragma { value: Some(_), .. } => {
            seen.pragma_assigned = true;
            return true;
        }
        Action::CreateTable(table) => {
            seen.created.insert(table.to_lowercase());
            table
        }
        Action::Insert(table) => table,
        // ALTER TABLE changes no row, and SQLite refuses to drop a key
        // column; but a rename under `legacy_alter_table` leaves the
        // references behind, so the children of a table renamed (or with a
        // column renamed) are checked too.
        Action::AlterTable(table) => {
            if seen.renames && !is_internal(table) {
                seen.parents.insert(table.to_lowercase());
            }
            table
        }
        Action::DropTable(table) | Action::Delete(table) | Action::Update(table) => {
            // SQLite writes its own schema table for every DDL.
            if !is_internal(table) {
                seen.parents.insert(table.to_lowercase());
            }
            table
        }
        Action::TransactionControl | Action::Pragma { .. } | Action::Other => return true,
    };
    // A file of many INSERTs into one table names it again and again: no
    // allocation once it is known (as written in lower case, the common
    // spelling).
    if !seen.tables.contains(table) {
        seen.tables.insert(table.to_lowercase());
    }
    true
}
