//! The PostgreSQL backend, over the synchronous `postgres` crate.
//!
//! Several replicas of a service start together and all run migrations: a
//! session advisory lock, keyed on the database, the schema and the history
//! table, lets exactly one of them migrate while the others wait, then find
//! the work done. The lock is taken with `pg_try_advisory_lock` in a loop
//! with a time limit, because a blocking `pg_advisory_lock` waits forever and
//! deadlocks against `CREATE INDEX CONCURRENTLY` in another session; it is
//! released on every path out, including a panic. Each migration runs with
//! its history row in one transaction, under `SET LOCAL lock_timeout`, so
//! that a migration that cannot get its table lock fails fast instead of
//! queueing the application's traffic behind it.

mod catalog;
mod scratch;
mod send;
mod session;
mod verify;

use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Row};
use sha2::{Digest, Sha256};

use crate::backend::{
    Backend, COLUMNS, Connect, ForeignKind, ForeignRow, NewRow, TableState, refuse_in_transaction,
};
use crate::plan::{AppliedMigration, Head};
use crate::source::Direction;
use crate::source::sql::{self, Dialect, PgStrings};
use crate::{Checksum, DatabaseError, Error, ForeignTable, Migration, Result, Runner};

/// `applied_at` as strata shows it: UTC, ISO 8601, milliseconds.
const APPLIED_AT: &str =
    r#"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#;

impl Connect for Client {
    fn backend<'a>(&'a mut self, runner: &'a Runner<'_>) -> Box<dyn Backend + 'a> {
        Box::new(Pg::new(
            self,
            &runner.table,
            runner.lock_timeout,
            runner.table_lock_timeout,
        ))
    }
}

pub(crate) struct Pg<'a> {
    client: &'a mut Client,
    /// The history table's name, without its schema.
    name: String,
    /// Its schema: as named (`schema.table`), else the one current when a
    /// run that changes anything begins (see `enter`); `None` before that.
    schema: Option<String>,
    /// The user named the schema: strata creates it if it is missing.
    schema_named: bool,
    /// The table, quoted for SQL, with its schema once that is known.
    table: String,
    /// How long to wait for the advisory lock.
    lock_timeout: Duration,
    /// `SET LOCAL lock_timeout` in each transaction.
    table_lock_timeout: Option<Duration>,
    /// The advisory lock's key, while it is held.
    locked: Option<i64>,
    in_transaction: bool,
    /// Whether the client was idle (not in a transaction of the caller's)
    /// when the history was first read; `None` before.
    caller_idle: Option<bool>,
    /// Inside verify's outer transaction, which is always rolled back:
    /// strata's transactions are savepoints in it, and this many are open.
    nested: Option<usize>,
    /// verify's catalog statements, prepared once.
    describe_statements: catalog::Prepared,
    /// verify's description of its scratch database, kept between
    /// snapshots (outside verify's one transaction; see `catalog`).
    described: Option<catalog::Described>,
    /// A file ran (in the open transaction, or outside any), or the
    /// history table was created in the open transaction: what it touched
    /// must be noted before the transaction ends (strata's own reads and
    /// writes of rows touch no description).
    changed_in_transaction: bool,
    /// A file made a function, procedure or rule that may write the
    /// catalog's rows: verify reads everything at every snapshot (carried
    /// to the connection of a rebuilt scratch database).
    pub(super) catalog_function: bool,
    /// The session's settings before the first file (see `session`).
    session: Option<session::Settings>,
    /// The last file may have changed settings by its own text: compare
    /// them all after it.
    may_set: bool,
    /// The cheap comparison, read with the savepoint's release.
    quick_now: Option<session::Quick>,
    /// Its statement, which also asks whether the advisory lock is held.
    quick_select: String,
}

impl<'a> Pg<'a> {
    pub(crate) fn new(
        client: &'a mut Client,
        table: &'a str,
        lock_timeout: Duration,
        table_lock_timeout: Option<Duration>,
    ) -> Self {
        let (schema, name) = split_table_name(table);
        let mut pg = Pg {
            client,
            table: String::new(),
            name,
            schema_named: schema.is_some(),
            schema,
            lock_timeout,
            table_lock_timeout,
            locked: None,
            in_transaction: false,
            caller_idle: None,
            nested: None,
            describe_statements: catalog::Prepared::default(),
            described: None,
            changed_in_transaction: false,
            catalog_function: false,
            session: None,
            may_set: false,
            quick_now: None,
            quick_select: session::quick_select(None),
        };
        pg.table = pg.quoted();
        pg
    }

    /// The table quoted for SQL: `"schema"."table"`, or `"table"` while the
    /// schema is not known (the startup read, which runs before any file
    /// could change the search path).
    fn quoted(&self) -> String {
        match &self.schema {
            Some(schema) => format!(
                "{}.{}",
                quote_identifier(schema),
                quote_identifier(&self.name)
            ),
            None => quote_identifier(&self.name),
        }
    }

    /// The table as messages name it.
    fn display(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// strata's own statement failed: a lock it waited for past the lock
    /// wait in force (strata's `SET LOCAL lock_timeout` inside its
    /// transaction, the session's outside) is `Locked`.
    fn db(&self, e: postgres::Error) -> Error {
        if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
            return Error::Locked {
                waited: match self.table_lock_timeout {
                    Some(timeout) if self.in_transaction => timeout,
                    _ => self.lock_timeout,
                },
            };
        }
        Error::Database(DatabaseError::Postgres(e))
    }

    /// A migration's statement that waited for a table lock past the
    /// `lock_timeout` strata set is [`Error::TableLockTimeout`], which
    /// names the setting; not when the file sets `lock_timeout` itself, or
    /// asks for `NOWAIT`, where the limit was the file's own.
    fn table_lock_error(&self, e: Error, text: &str) -> Error {
        match (e, self.table_lock_timeout) {
            (
                Error::Statement {
                    version,
                    file,
                    line,
                    statement,
                    in_transaction,
                    cause,
                },
                Some(timeout),
            ) if cause.is_lock_not_available()
                && sql::holds_words(text, &[b"lock_timeout", b"nowait"]) == 0 =>
            {
                Error::TableLockTimeout {
                    version,
                    file,
                    line,
                    statement,
                    timeout,
                    in_transaction,
                    cause,
                }
            }
            (e, _) => e,
        }
    }

    fn execute_sql(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        self.client.execute(sql, params).map_err(|e| self.db(e))
    }

    /// Fixes the history table's schema, unless it was named: the one
    /// current now, at the start of a run that changes anything. From here
    /// on every history statement names it, whatever search path a
    /// migration sets, and whatever temporary table shadows the name.
    /// Returns the key of the advisory lock: the database, the schema and
    /// the table, so that two applications in one server, or two schemas,
    /// do not wait for each other (the same key as strata's before the
    /// schema was named, so that old and new replicas exclude each other).
    fn lock_key(&mut self) -> Result<i64> {
        // Also: where a history table of this name is on the search path,
        // when not in the current schema.
        let row = self
            .client
            .query_one(
                "SELECT current_database()::text, current_schema()::text,
                        (SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.relname = $1 AND c.relkind IN ('r', 'p')
                           AND n.nspname = ANY (current_schemas(false))
                         ORDER BY n.nspname IS DISTINCT FROM current_schema(),
                                  array_position(current_schemas(false), n.nspname)
                         LIMIT 1)",
                &[&self.name],
            )
            .map_err(|e| self.db(e))?;
        let database: String = row.get(0);
        if self.schema.is_none() {
            let current = self.fix_schema(row.get(1))?;
            // The history stays where it is: a database whose search path
            // changed (ALTER DATABASE ... SET search_path, a schema named
            // like the role) must not start a second history.
            if let Some(found) = row.get::<_, Option<String>>(2)
                && found != current
            {
                self.schema = None;
                self.table = self.quoted();
                return Err(Error::HistoryTableElsewhere {
                    table: self.name.clone(),
                    current,
                    found,
                });
            }
        }
        let schema = self.schema.clone().unwrap_or_default();
        let mut hasher = Sha256::new();
        for part in ["strata", &database, &schema, &self.name] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        Ok(i64::from_be_bytes(key))
    }

    /// Fixes the history table's unnamed schema to `current`, the current
    /// schema, and returns it; `None` (no current schema) is `NoSchema`.
    fn fix_schema(&mut self, current: Option<String>) -> Result<String> {
        let Some(current) = current else {
            return Err(Error::NoSchema {
                table: self.name.clone(),
            });
        };
        self.schema = Some(current.clone());
        self.table = self.quoted();
        Ok(current)
    }

    fn columns(&mut self) -> Result<Vec<String>> {
        let rows = self
            .client
            .query_typed(
                // What information_schema.columns gives, read in a tenth of
                // its time (it is read after every migration verify checks),
                // and typed: parsed and run in one round trip.
                "SELECT a.attname::text FROM pg_attribute a
                 JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = coalesce($2, current_schema()) AND c.relname = $1
                   AND c.relkind IN ('r', 'v', 'f', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                   AND (pg_has_role(c.relowner, 'USAGE')
                        OR has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
                 ORDER BY a.attnum",
                &[(&self.name, Type::TEXT), (&self.schema, Type::TEXT)],
            )
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn column_types(&mut self) -> Result<Vec<(String, String)>> {
        let rows = self
            .client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = coalesce($2, current_schema()) AND table_name = $1 ORDER BY ordinal_position",
                &[&self.name, &self.schema],
            )
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn foreign_table(&self, columns: Vec<String>) -> Error {
        Error::ForeignHistoryTable {
            table: self.display(),
            kind: ForeignTable::of_columns(&columns),
            columns,
        }
    }

    fn select_head(&mut self) -> std::result::Result<Option<Row>, postgres::Error> {
        let sql = format!(
            "SELECT version, chain, dirty FROM {} ORDER BY version DESC LIMIT 1",
            self.table
        );
        // Typed: parsed and run in one round trip.
        self.client.query_typed_opt(&sql, &[])
    }

    fn head(&self, row: Option<Row>) -> Result<TableState> {
        let Some(row) = row else {
            return Ok(TableState::Strata(None));
        };
        let version: i64 = row.get(0);
        let chain: String = row.get(1);
        Ok(TableState::Strata(Some(Head {
            version: self.version(version)?,
            chain: self.checksum(version, "chain", &chain)?,
            dirty: row.get(2),
        })))
    }

    fn version(&self, version: i64) -> Result<u64> {
        u64::try_from(version).map_err(|_| self.corrupt(version, "version", version.to_string()))
    }

    fn checksum(&self, version: i64, column: &'static str, text: &str) -> Result<Checksum> {
        Checksum::from_hex(text).ok_or_else(|| self.corrupt(version, column, text.to_owned()))
    }

    fn corrupt(&self, version: i64, column: &'static str, value: String) -> Error {
        Error::CorruptHistory {
            table: self.display(),
            version,
            column,
            value,
        }
    }

    /// How the session reads strings now (`standard_conforming_strings`).
    fn strings(&mut self) -> Result<PgStrings> {
        let row = self
            .client
            .query_one(
                "SELECT current_setting('standard_conforming_strings') = 'on'",
                &[],
            )
            .map_err(|e| self.db(e))?;
        Ok(if row.get(0) {
            PgStrings::Standard
        } else {
            PgStrings::Escaped
        })
    }

    /// Releases the advisory lock: both holds (see `enter`).
    fn unlock(&mut self) -> Result<()> {
        self.quick_select = session::quick_select(None);
        if let Some(key) = self.locked.take() {
            self.client
                .execute(
                    "SELECT pg_advisory_unlock($1) AND pg_advisory_unlock($1)",
                    &[&key],
                )
                .map_err(|e| self.db(e))?;
        }
        Ok(())
    }
}

impl Drop for Pg<'_> {
    /// A panic between `enter` and `leave` must not keep other replicas
    /// waiting: roll back and release the lock on the way out.
    fn drop(&mut self) {
        if self.locked.is_some() {
            let _ = self.client.batch_execute("ROLLBACK");
            let _ = self.unlock();
        }
    }
}

impl Backend for Pg<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn location(&self) -> String {
        "the PostgreSQL database".to_owned()
    }

    fn history_table(&self) -> String {
        self.display()
    }

    fn check_idle(&mut self) -> Result<()> {
        // Inside a transaction block, the transaction began before this
        // statement; outside, each statement is its own transaction. (The
        // simple protocol: one message, so one statement time.)
        let messages = self
            .client
            .simple_query("SELECT transaction_timestamp() = statement_timestamp()")
            .map_err(|e| self.db(e))?;
        let idle = messages.iter().any(
            |m| matches!(m, postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t")),
        );
        if idle {
            Ok(())
        } else {
            Err(Error::InTransaction)
        }
    }

    fn read_head(&mut self) -> Result<TableState> {
        // A statement that fails inside the caller's transaction (a client
        // handed over in one) would abort it: ask once whether it is idle.
        if self.caller_idle.is_none() && !self.in_transaction {
            self.caller_idle = Some(self.check_idle().is_ok());
        }
        if !self.in_transaction && self.caller_idle == Some(true) {
            // The startup path: one statement. An error ends nothing here.
            match self.select_head() {
                Ok(row) => return self.head(row),
                Err(e)
                    if e.code() != Some(&SqlState::UNDEFINED_TABLE)
                        && e.code() != Some(&SqlState::UNDEFINED_COLUMN) =>
                {
                    return Err(self.db(e));
                }
                Err(_) => {}
            }
        }
        // Inside a transaction (strata's or the caller's) a failed
        // statement would abort it: look first.
        let columns = self.columns()?;
        if columns.is_empty() {
            return Ok(TableState::Missing);
        }
        if columns != COLUMNS {
            return Err(self.foreign_table(columns));
        }
        let row = self.select_head().map_err(|e| self.db(e))?;
        self.head(row)
    }

    fn read_all(&mut self) -> Result<Vec<AppliedMigration>> {
        match self.read_head()? {
            TableState::Missing => return Ok(Vec::new()),
            TableState::Strata(_) => {}
        }
        let sql = format!(
            "SELECT version, name, checksum, chain, {APPLIED_AT}, execution_ms, dirty FROM {} ORDER BY version",
            self.table
        );
        let rows = self.client.query(&sql, &[]).map_err(|e| self.db(e))?;
        rows.iter()
            .map(|row| {
                let version: i64 = row.get(0);
                Ok(AppliedMigration {
                    version: self.version(version)?,
                    name: row.get(1),
                    checksum: self.checksum(version, "checksum", row.get(2))?,
                    chain: self.checksum(version, "chain", row.get(3))?,
                    applied_at: row.get(4),
                    execution_ms: u64::try_from(row.get::<_, i64>(5)).unwrap_or(0),
                    dirty: row.get(6),
                })
            })
            .collect()
    }

    fn read_only(&mut self) -> Result<bool> {
        let row = self
            .client
            .query_one(
                "SELECT current_setting('transaction_read_only') = 'on'",
                &[],
            )
            .map_err(|e| self.db(e))?;
        Ok(row.get(0))
    }

    /// Takes the advisory lock, trying again with growing pauses until the
    /// lock wait runs out.
    fn enter(&mut self) -> Result<()> {
        let key = self.lock_key()?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let row = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map_err(|e| self.db(e))?;
            if row.get(0) {
                // Held twice, so that the check after each file can give
                // one hold back and take it again without ever letting the
                // lock go (see `session::quick_select`).
                self.client
                    .execute("SELECT pg_advisory_lock($1)", &[&key])
                    .map_err(|e| self.db(e))?;
                self.locked = Some(key);
                self.quick_select = session::quick_select(Some(key));
                self.session = Some(session::read(self.client).map_err(|e| self.db(e))?);
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.lock_timeout {
                return Err(Error::Locked {
                    waited: self.lock_timeout,
                });
            }
            // Polling is what pg_try_advisory_lock asks for: the blocking
            // form cannot time out.
            std::thread::sleep(pause.min(self.lock_timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    fn sequence_values(&mut self) -> Result<Vec<(String, Option<i64>)>> {
        // `last_value` is read outside transactions, as it moves; NULL
        // for a sequence never used, or that this role may not read.
        let rows = self
            .client
            .query(
                "SELECT format('%s.%s', quote_ident(schemaname), quote_ident(sequencename)), last_value
                 FROM pg_sequences ORDER BY 1",
                &[],
            )
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn run_in_progress(&mut self) -> bool {
        if self.locked.is_some() {
            return false;
        }
        let Ok(key) = self.lock_key() else {
            return false;
        };
        // A bigint key is held as two oids: its high and its low half.
        self.client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND classid = (($1::bigint >> 32) & 4294967295)::oid
                      AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1)",
                &[&key],
            )
            .is_ok_and(|row| row.get(0))
    }

    /// Puts back the settings a file changed (after a failure too), then
    /// releases the lock.
    fn leave(&mut self) -> Result<()> {
        self.rollback();
        self.may_set = true;
        let restored = self.restore();
        self.session = None;
        let unlocked = self.unlock();
        restored.and(unlocked)
    }

    fn begin(&mut self) -> Result<()> {
        if let Some(open) = &mut self.nested {
            *open += 1;
            // Each migration starts with the constraints' own modes, as
            // after a commit (a rolled-back step does not restore them).
            if *open == 1 {
                verify::checks_at_commit(self.client)
                    .map_err(|e| Error::Database(DatabaseError::Postgres(e)))?;
            }
            return self
                .client
                .batch_execute("SAVEPOINT strata_step")
                .map_err(|e| Error::Database(DatabaseError::Postgres(e)));
        }
        let mut sql = "BEGIN".to_owned();
        if let Some(timeout) = self.table_lock_timeout {
            sql.push_str(&format!(
                "; SET LOCAL lock_timeout = '{}ms'",
                timeout.as_millis().max(1)
            ));
        }
        self.client.batch_execute(&sql).map_err(|e| self.db(e))?;
        self.in_transaction = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if let Some(open) = &mut self.nested {
            *open = open.saturating_sub(1);
            // What the commit of a migration would check; a failure undoes
            // the step, as the commit's would.
            let checked = if *open == 0 {
                verify::checks_at_commit(self.client)
            } else {
                Ok(())
            };
            let end = if checked.is_ok() {
                "RELEASE SAVEPOINT strata_step"
            } else {
                "ROLLBACK TO SAVEPOINT strata_step; RELEASE SAVEPOINT strata_step"
            };
            let ended = self.client.batch_execute(end);
            return checked
                .and(ended)
                .map_err(|e| Error::Database(DatabaseError::Postgres(e)));
        }
        if self.described.is_some() && self.changed_in_transaction {
            // What a deferred trigger does at the commit (DDL too), done
            // now, so that the locks it takes are noted: the same as the
            // commit would do, and its error is the commit's.
            if let Err(e) = self.client.batch_execute("SET CONSTRAINTS ALL IMMEDIATE") {
                self.rollback();
                return Err(self.db(e));
            }
        }
        self.note_touched();
        self.in_transaction = false;
        self.client.batch_execute("COMMIT").map_err(|e| self.db(e))
    }

    fn rollback(&mut self) {
        if let Some(open) = &mut self.nested {
            // Only a step that is open: a ROLLBACK TO a savepoint that does
            // not exist would end the outer transaction's use.
            if *open > 0 {
                *open -= 1;
                let _ = self.client.batch_execute(
                    "ROLLBACK TO SAVEPOINT strata_step; RELEASE SAVEPOINT strata_step",
                );
            }
            return;
        }
        self.note_touched();
        // Also ends a transaction that a no-transaction file left open; with
        // none open, PostgreSQL only warns.
        let _ = self.client.batch_execute("ROLLBACK");
        self.in_transaction = false;
    }

    fn in_transaction(&mut self) -> bool {
        self.in_transaction
    }

    fn create_table(&mut self) -> Result<()> {
        // In a transaction, verify notes what this touched before its end.
        // Outside one, during verify, this runs before the first snapshot
        // (which reads everything), or after verify found the table there
        // (when it changes nothing).
        if self.in_transaction {
            self.changed_in_transaction = true;
        }
        // Outside a run (verify), the schema current now.
        if self.schema.is_none() {
            let current = self
                .client
                .query_one("SELECT current_schema()::text", &[])
                .map_err(|e| self.db(e))?
                .get(0);
            self.fix_schema(current)?;
        }
        if let (true, Some(schema)) = (self.schema_named, &self.schema) {
            let exists: bool = self
                .client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                    &[schema],
                )
                .map_err(|e| self.db(e))?
                .get(0);
            if !exists {
                let sql = format!("CREATE SCHEMA {}", quote_identifier(schema));
                self.client.batch_execute(&sql).map_err(|e| self.db(e))?;
            }
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                chain text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                execution_ms bigint NOT NULL,
                dirty boolean NOT NULL DEFAULT false
            )",
            self.table
        );
        self.client.batch_execute(&sql).map_err(|e| self.db(e))?;
        let columns = self.columns()?;
        if columns != COLUMNS {
            return Err(self.foreign_table(columns));
        }
        Ok(())
    }

    /// Inside strata's transaction, the whole file goes to the server in
    /// one round trip, which the server splits by its own grammar: the
    /// cost of `psql -1 -f` or of golang-migrate, not a round trip per
    /// statement. A savepoint around it lets strata find the failing
    /// statement when the server's error does not point at it.
    ///
    /// Outside a transaction (`-- strata:no-transaction`) each statement
    /// goes on its own, as psql sends them: a string of several statements
    /// would be one implicit transaction, which `CREATE INDEX CONCURRENTLY`
    /// refuses.
    fn execute(
        &mut self,
        m: &Migration,
        direction: Direction,
        file: &str,
        in_transaction: bool,
    ) -> Result<Duration> {
        if self.session.is_none() {
            self.session = Some(session::read(self.client).map_err(|e| self.db(e))?);
        }
        self.changed_in_transaction = true;
        let text = m.sql(direction);
        // No lock outlives a statement outside a transaction, nor says what
        // a write to a catalog's rows changed; a function that may write
        // them may be called by any later file; counts turned off and on
        // again within a file miss what it did meanwhile.
        let writes = catalog::writes_catalog(text);
        self.catalog_function |= writes == catalog::Writes::Function;
        if let Some(described) = &mut self.described {
            if self.catalog_function {
                described.note_always();
            }
            if writes != catalog::Writes::No
                || !in_transaction
                || sql::holds_words(text, &[b"track_counts"]) != 0
            {
                described.note_everything();
            }
        }
        self.may_set = sql::holds_words(text, &[b"set"]) != 0;
        self.quick_now = None;
        // Only a backslash can read differently when the session's
        // strings are not standard-conforming.
        let backslash = text.contains('\\');
        let strings = if backslash {
            self.strings()?
        } else {
            PgStrings::Standard
        };
        let started = Instant::now();
        if in_transaction {
            let lexed = sql::lex_with(text, Dialect::Postgres, strings);
            refuse_in_transaction(m, file, &lexed.statements)?;
            self.execute_file(m, file, text, strings, &lexed)
                .map_err(|e| self.table_lock_error(e, text))?;
        } else {
            // No `SET LOCAL` holds outside a transaction: the table lock
            // wait is set for the session, and `restore` puts the session's
            // own back after the file (a file that sets its own wins).
            if let Some(timeout) = self.table_lock_timeout {
                let sql = format!("SET lock_timeout = '{}ms'", timeout.as_millis().max(1));
                self.client.batch_execute(&sql).map_err(|e| self.db(e))?;
                self.may_set = true;
            }
            self.run_statements(m, file, text, strings, false)
                .map_err(|e| self.table_lock_error(e, text))?;
        }
        Ok(started.elapsed())
    }

    /// After every file: whether the advisory lock is still held, and the
    /// cheap comparison of settings, in one statement (for a file inside
    /// strata's transaction, read already with the savepoint's release);
    /// the full comparison when that differs, or the file's text holds
    /// `set`.
    fn restore(&mut self) -> Result<()> {
        let full = std::mem::take(&mut self.may_set);
        let quick_now = self.quick_now.take();
        let Some(saved) = &self.session else {
            return Ok(());
        };
        let now = match quick_now {
            Some(now) => now,
            None => session::quick(self.client, &self.quick_select)?,
        };
        if self.locked.is_some() && !now.locked {
            // Nothing to unlock any more.
            self.locked = None;
            self.quick_select = session::quick_select(None);
            return Err(Error::LockReleased);
        }
        if !full && !session::quick_differs(saved, &now) {
            return Ok(());
        }
        // strata's own `SET LOCAL lock_timeout` holds until the commit.
        let held = match self.table_lock_timeout {
            Some(timeout) if self.in_transaction => Some(timeout.as_millis().max(1).to_string()),
            _ => None,
        };
        let local = held.as_deref().map(|ms| ("lock_timeout", ms));
        for name in session::restore(self.client, saved, local, self.in_transaction)? {
            log::debug!("put back setting {name}, which a migration changed");
            // Without counts, verify's description could not see what the
            // file changed: read everything at the next snapshot.
            if let (true, Some(described)) = (
                name.eq_ignore_ascii_case("track_counts"),
                &mut self.described,
            ) {
                described.note_everything();
            }
        }
        Ok(())
    }

    fn insert_row(&mut self, row: &NewRow<'_>) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (version, name, checksum, chain, applied_at, execution_ms, dirty) \
             VALUES ($1, $2, $3, $4, coalesce($5::text::timestamptz, now()), $6, $7)",
            self.table
        );
        self.execute_sql(
            &sql,
            &[
                &version_param(row.version),
                &row.name,
                &row.checksum.to_hex(),
                &row.chain.to_hex(),
                &row.applied_at,
                &i64::try_from(row.execution_ms).unwrap_or(i64::MAX),
                &row.dirty,
            ],
        )?;
        Ok(())
    }

    fn delete_rows_above(&mut self, version: Option<u64>) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE version > $1", self.table);
        self.execute_sql(&sql, &[&version.map_or(-1, version_param)])?;
        Ok(())
    }

    fn delete_row(&mut self, version: u64) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE version = $1", self.table);
        self.execute_sql(&sql, &[&version_param(version)])?;
        Ok(())
    }

    fn set_dirty(&mut self, version: u64, dirty: bool, duration: Option<Duration>) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET dirty = $1, execution_ms = coalesce($2, execution_ms) WHERE version = $3",
            self.table
        );
        let ms = duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.execute_sql(&sql, &[&dirty, &ms, &version_param(version)])?;
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
            "UPDATE {} SET name = $1, checksum = $2, chain = $3 WHERE version = $4",
            self.table
        );
        self.execute_sql(
            &sql,
            &[
                &name,
                &checksum.to_hex(),
                &chain.to_hex(),
                &version_param(version),
            ],
        )?;
        Ok(())
    }

    fn read_foreign(&mut self) -> Result<Option<(ForeignKind, Vec<ForeignRow>)>> {
        let columns = self.column_types()?;
        let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
        if names.is_empty() || names == COLUMNS {
            return Ok(None);
        }
        let Some(kind) = ForeignKind::of_columns(&names) else {
            return Err(self.foreign_table(names));
        };
        let has = |name: &str| {
            columns
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
        };
        let name = if has("name").is_some() {
            "name::text"
        } else {
            "NULL::text"
        };
        // Keep the recorded time, in strata's format where it can be read.
        let applied_at = match has("applied_at") {
            Some(t) if t.starts_with("timestamp") => {
                r#"to_char(applied_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
            }
            Some("integer" | "bigint" | "smallint" | "numeric" | "double precision" | "real") => {
                r#"to_char(to_timestamp(applied_at::double precision) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
            }
            Some(_) => "applied_at::text",
            None => "NULL::text",
        };
        let dirty = if has("dirty").is_some() {
            "dirty::boolean"
        } else {
            "false"
        };
        let sql = format!(
            "SELECT version::bigint, {name}, {applied_at}, {dirty} FROM {} ORDER BY version",
            self.table
        );
        let rows = self.client.query(&sql, &[]).map_err(|e| self.db(e))?;
        let rows = rows
            .iter()
            .map(|r| ForeignRow {
                version: r.get(0),
                name: r.get(1),
                applied_at: r.get(2),
                dirty: r.get(3),
            })
            .collect();
        Ok(Some((kind, rows)))
    }

    fn replace_foreign(&mut self, rows: &[NewRow<'_>]) -> Result<()> {
        // Dropped first: the new table's primary key would want the old
        // one's index name. All of it is one transaction.
        self.client
            .batch_execute(&format!("DROP TABLE {}", self.table))
            .map_err(|e| self.db(e))?;
        self.create_table()?;
        for row in rows {
            self.insert_row(row)?;
        }
        Ok(())
    }

    fn check_deferred(&mut self) -> Result<()> {
        verify::checks_at_commit(self.client).map_err(|e| self.db(e))
    }

    fn snapshot(&mut self) -> Result<crate::verify::Snapshot> {
        self.describe()
    }

    fn expand<'s>(
        &mut self,
        snapshot: &'s crate::verify::Snapshot,
    ) -> Result<std::borrow::Cow<'s, crate::verify::Schema>> {
        // A text comes only from this connection's description.
        debug_assert!(snapshot.text.is_none() || self.described.is_some());
        Ok(match (&snapshot.text, &self.described) {
            (Some(text), Some(described)) => std::borrow::Cow::Owned(described.expand(text)),
            _ => std::borrow::Cow::Borrowed(&snapshot.schema),
        })
    }
}

impl Pg<'_> {
    /// Before the transaction ends: what verify's description must read
    /// again (see `catalog`).
    fn note_touched(&mut self) {
        if !std::mem::take(&mut self.changed_in_transaction) {
            return;
        }
        if let Some(described) = &mut self.described {
            described.note_touched(self.client, &mut self.describe_statements);
        }
    }

    /// The catalog, as verify compares it: read whole inside verify's one
    /// transaction, where locks cannot say what changed since the last
    /// snapshot; else read where it changed, as a text.
    fn describe(&mut self) -> Result<crate::verify::Snapshot> {
        let cache = &mut self.describe_statements;
        let client = &mut *self.client;
        let mut described = match self.nested {
            Some(_) => None,
            None => Some(self.described.get_or_insert_with(|| {
                let mut described = catalog::Described::default();
                if self.catalog_function {
                    described.note_always();
                }
                described
            })),
        };
        // Inside a transaction, behind a savepoint: a failed statement
        // would end its use.
        let guarded = self.in_transaction;
        let mut attempt = |client: &mut Client, cache: &mut catalog::Prepared| {
            if guarded {
                client.batch_execute("SAVEPOINT strata_describe")?;
            }
            let result =
                match &mut described {
                    Some(described) => described.snapshot(client, cache, guarded).map(|text| {
                        crate::verify::Snapshot {
                            text: Some(text),
                            schema: crate::verify::Schema::default(),
                        }
                    }),
                    None => catalog::describe(client, cache)
                        .map(|schema| crate::verify::Snapshot { text: None, schema }),
                };
            if guarded {
                client.batch_execute(if result.is_ok() {
                    "RELEASE SAVEPOINT strata_describe"
                } else {
                    "ROLLBACK TO SAVEPOINT strata_describe; RELEASE SAVEPOINT strata_describe"
                })?;
            }
            result
        };
        match attempt(client, cache) {
            // A migration's `DEALLOCATE ALL` or `DISCARD ALL` took the
            // prepared statements away: prepare them again.
            Err(e) if e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) => {
                cache.clear();
                attempt(client, cache)
            }
            result => result,
        }
        .map_err(|e| Error::Database(DatabaseError::Postgres(e)))
    }
}

/// Versions are at most `i64::MAX` (the folder rules say so).
fn version_param(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// Quotes an identifier for PostgreSQL: `"name"`, with `"` doubled.
/// A history table's name as the user gives it: `table`, or
/// `schema.table`, each part bare or in double quotes (`""` for a quote
/// inside). Anything else is one name, as before schemas could be named.
pub(crate) fn split_table_name(name: &str) -> (Option<String>, String) {
    fn part(text: &str) -> Option<(String, &str)> {
        if let Some(rest) = text.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = rest.char_indices();
            while let Some((i, c)) = chars.next() {
                if c != '"' {
                    out.push(c);
                } else if rest[i + 1..].starts_with('"') {
                    out.push('"');
                    chars.next();
                } else {
                    return Some((out, &rest[i + 1..]));
                }
            }
            None
        } else {
            let end = text.find(['.', '"']).unwrap_or(text.len());
            (end > 0).then(|| (text[..end].to_owned(), &text[end..]))
        }
    }
    let whole = || (None, name.to_owned());
    let Some((first, rest)) = part(name) else {
        return whole();
    };
    if rest.is_empty() {
        return (None, first);
    }
    let Some(rest) = rest.strip_prefix('.') else {
        return whole();
    };
    match part(rest) {
        Some((second, "")) => (Some(first), second),
        _ => whole(),
    }
}

pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::split_table_name;

    #[test]
    fn a_history_table_name_may_name_its_schema() {
        let cases: [(&str, Option<&str>, &str); 8] = [
            ("schema_migrations", None, "schema_migrations"),
            ("app.schema_migrations", Some("app"), "schema_migrations"),
            ("\"My App\".\"History\"", Some("My App"), "History"),
            ("\"a.b\"", None, "a.b"),
            ("\"say \"\"hi\"\"\".t", Some("say \"hi\""), "t"),
            ("a.b.c", None, "a.b.c"),
            (".t", None, ".t"),
            ("a.", None, "a."),
        ];
        for (name, schema, table) in cases {
            assert_eq!(
                split_table_name(name),
                (schema.map(str::to_owned), table.to_owned()),
                "{name}"
            );
        }
    }
}
