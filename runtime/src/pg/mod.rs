//! The PostgreSQL backend, over the synchronous `postgres` crate and over
//! `tokio-postgres`: written once, as `async` code over [`PgClient`].
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

mod apply;
mod catalog;
mod client;
mod describe;
mod history;
mod scratch;
mod send;
mod session;
mod transactions;
mod verify;

use std::time::Duration;

use tokio_postgres::error::SqlState;

use crate::backend::Backend;
use crate::options::Options;
use crate::{DatabaseError, Error, Migrations, Result};
pub(crate) use client::PgClient;

#[cfg(feature = "postgres")]
impl crate::backend::Connect for postgres::Client {
    fn backend<'a>(
        &'a mut self,
        _migrations: &Migrations,
        options: &'a Options,
    ) -> Box<dyn Backend + 'a> {
        Box::new(Pg::of(self, options))
    }

    fn verify(
        &mut self,
        migrations: &Migrations,
        options: &Options,
    ) -> Result<crate::report::VerifyReport> {
        crate::call::complete(verify::in_transaction(self, migrations, &options.table))
    }
}

#[cfg(feature = "tokio-postgres")]
impl crate::backend::ConnectAsync for tokio_postgres::Client {
    fn backend<'a>(
        &'a mut self,
        _migrations: &Migrations,
        options: &'a Options,
    ) -> crate::call::Call<'a, Result<Box<dyn Backend + 'a>>> {
        crate::call::Call::ready(Ok(Box::new(Pg::of(self, options))))
    }

    fn verify<'a>(
        &'a mut self,
        migrations: &'a Migrations,
        options: &'a Options,
    ) -> crate::call::Call<'a, Result<crate::report::VerifyReport>> {
        crate::call::Call::later(verify::in_transaction(self, migrations, &options.table))
    }
}

pub(crate) struct Pg<'a, C: PgClient> {
    client: &'a mut C,
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
    /// The key while `enter` may be taking the lock: a future dropped
    /// there may hold it already.
    locking: Option<i64>,
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
    /// The history table exists with strata's columns, as this operation
    /// found or made it under the advisory lock: each step's `BEGIN` can
    /// carry the history read too (see `history::Ahead`).
    table_known: bool,
    /// That read, sent with the open transaction's `BEGIN`, until the
    /// first `read_head` takes it (or anything that writes drops it).
    head_ahead: Option<history::Ahead>,
}

impl<'a, C: PgClient> Pg<'a, C> {
    /// The backend of a run with `options`.
    fn of(client: &'a mut C, options: &'a Options) -> Self {
        Pg::new(
            client,
            &options.table,
            options.lock_timeout,
            options.table_lock_timeout,
        )
    }

    pub(crate) fn new(
        client: &'a mut C,
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
            locking: None,
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
            table_known: false,
            head_ahead: None,
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
    fn db(&self, e: tokio_postgres::Error) -> Error {
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
}

impl<C: PgClient> Drop for Pg<'_, C> {
    /// A panic between `enter` and `leave`, or a future dropped there (a
    /// cancelled task), must not keep other replicas waiting, nor leave a
    /// transaction open or a migration's settings on the caller's
    /// connection (see `PgClient::abandon`).
    fn drop(&mut self) {
        if let Some(key) = self.locked.take().or(self.locking.take()) {
            let mut cleanup = vec![
                "ROLLBACK".to_owned(),
                // Both holds (see `enter`); a hold not taken only warns.
                format!("SELECT pg_advisory_unlock({key}), pg_advisory_unlock({key})"),
            ];
            if let Some(saved) = &self.session {
                cleanup.extend(saved.restore_blind());
            }
            self.client.abandon(&cleanup);
        }
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

/// A string as a literal of PostgreSQL's SQL that reads the same whatever
/// `standard_conforming_strings` is: with a backslash, an escape string
/// (`E'...'`, backslashes doubled), else a plain one; quotes doubled.
pub(crate) fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::{quote_literal, split_table_name};

    /// The server reads each literal back as the string it quotes, under
    /// either `standard_conforming_strings` (a migration may turn it off).
    #[test]
    fn a_quoted_literal_reads_back_as_its_string_on_the_server() {
        let Ok(url) = std::env::var("STRATA_TEST_POSTGRES_URL") else {
            eprintln!("notice: STRATA_TEST_POSTGRES_URL is not set; skipping");
            return;
        };
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let strings = [
            "",
            "plain",
            "it's",
            "back\\slash",
            "\\'",
            "'\\",
            "E'x'",
            "$1 $2",
            "ünï ☃",
            "two\\\\ and '' quotes",
            "\\x41",
        ];
        for conforming in ["on", "off"] {
            client
                .batch_execute(&format!("SET standard_conforming_strings = {conforming}"))
                .unwrap();
            for value in strings {
                let literal = quote_literal(value);
                let messages = client.simple_query(&format!("SELECT {literal}")).unwrap();
                let read = messages.iter().find_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                });
                assert_eq!(read.as_deref(), Some(value), "{literal} with {conforming}");
            }
        }
    }

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
