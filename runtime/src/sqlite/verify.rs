//! The SQLite side of `verify`: the connection's database as the scratch
//! database, checked empty before and emptied after.

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::Sqlite;
use crate::backend::{Backend, Transactions};
use crate::report::VerifyReport;
use crate::verify::Next;
use crate::{Error, Migrations, Result};

/// How many objects of a database that is not empty the error names.
const OBJECTS_SHOWN: i64 = 5;

/// verify on `conn`'s main database, which must be empty: the migrations
/// run there as `up` runs them (SQL functions, collations and extensions
/// registered on `conn` are there for them), and the database is emptied
/// again at the end, whatever happened.
pub(super) fn verify(
    conn: &mut Connection,
    migrations: &Migrations,
    table: &str,
) -> Result<VerifyReport> {
    if !conn.is_autocommit() {
        return Err(Error::InTransaction);
    }
    {
        let mut db = Sqlite::new(conn, table, crate::DEFAULT_LOCK_TIMEOUT);
        let objects = db
            .mapped(|db| -> Result<Vec<String>> {
                let mut statement = db.conn.prepare(
                    "SELECT type || ' ' || name FROM main.sqlite_master ORDER BY rowid LIMIT ?1",
                )?;
                let names = statement.query_map([OBJECTS_SHOWN], |r| r.get(0))?;
                Ok(names.collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .now()?;
        if !objects.is_empty() {
            let path = db.path();
            return Err(Error::VerifyNeedsEmptyDatabase { path, objects });
        }
    }
    let mut scratch = Scratch { conn, table };
    let result = crate::verify::verify(migrations, &mut scratch);
    let emptied = empty(scratch.conn, table);
    match (result, emptied) {
        (Ok(report), Ok(())) => Ok(report),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), emptied) => {
            if let Err(also) = emptied {
                log::warn!("verify could not empty its database: {also}");
            }
            Err(e)
        }
    }
}

/// Empties the main database of `conn` (SQLite's documented reset:
/// `SQLITE_DBCONFIG_RESET_DATABASE`, then `VACUUM`), keeping the
/// connection and what is registered on it. Driver errors are mapped as
/// the backend's are (a busy database is `Locked`).
fn empty(conn: &mut Connection, table: &str) -> Result<()> {
    let mut db = Sqlite::new(conn, table, crate::DEFAULT_LOCK_TIMEOUT);
    db.mapped(|db| -> Result<()> {
        if !db.conn.is_autocommit() {
            // A file's transaction that verify could not end: nothing in
            // it stays. `VACUUM` cannot run inside one.
            db.conn.execute_batch("ROLLBACK")?;
        }
        db.conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_RESET_DATABASE, true)?;
        let vacuumed = db.conn.execute_batch("VACUUM");
        db.conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_RESET_DATABASE, false)?;
        Ok(vacuumed?)
    })
    .now()
}

/// verify's scratch database on SQLite: the given connection's database.
struct Scratch<'a> {
    conn: &'a mut Connection,
    table: &'a str,
}

impl crate::verify::Scratch for Scratch<'_> {
    fn run(&mut self, check: &mut dyn FnMut(&mut dyn Backend) -> Result<Next>) -> Result<Next> {
        let mut db = Sqlite::new(self.conn, self.table, crate::DEFAULT_LOCK_TIMEOUT);
        db.enter().now()?;
        let result = check(&mut db);
        db.leave().now()?;
        result
    }

    fn renew(&mut self) -> Result<bool> {
        empty(self.conn, self.table)?;
        Ok(true)
    }
}
