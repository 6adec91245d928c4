//! The SQLite side of `verify`: a new in-memory database of the caller's
//! connection (with the functions, collations and extensions registered on
//! it), checked as new before and made new again after.

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::{Sqlite, quote_identifier};
use crate::backend::Transactions;
use crate::report::VerifyReport;
use crate::verify::{Next, Pass};
use crate::{Error, Migrations, Result};

/// How many objects of a database that is not new the error names.
const OBJECTS_SHOWN: i64 = 5;

/// verify on `conn`, which must hold a new in-memory database: the
/// migrations run there as `up` runs them, and the connection is made new
/// again before a rebuild and at the end, whatever happened (a panic
/// included), as if verify had opened a connection of its own.
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
        let found = db.mapped(|db| not_new(&db.conn)).now()?;
        if !found.is_empty() {
            let path = db.path();
            return Err(Error::VerifyNeedsEmptyDatabase { path, found });
        }
    }
    let mut scratch = Scratch {
        conn,
        table,
        clean: true,
    };
    let result = crate::call::complete(crate::verify::verify(migrations, &mut scratch));
    let renewed = scratch.renew_now();
    match (result, renewed) {
        (Ok(report), Ok(())) => Ok(report),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), renewed) => {
            if let Err(also) = renewed {
                log::warn!("verify could not empty its in-memory database: {also}");
            }
            Err(e)
        }
    }
}

/// What keeps the connection's database from being a new in-memory one,
/// in words that follow its name: none for a new one.
fn not_new(conn: &Connection) -> Result<Vec<String>> {
    let mut found = Vec::new();
    // A file may be opened by another connection at any time, between
    // verify's check and its last reset: only memory is verify's alone.
    if conn.path().is_some_and(|path| !path.is_empty()) {
        found.push("is a file on disk, which another connection may use".to_owned());
    }
    for schema in ["main", "temp"] {
        let mut statement = conn.prepare(&format!(
            "SELECT type || ' ' || name FROM {schema}.sqlite_master ORDER BY rowid LIMIT ?1"
        ))?;
        let names = statement.query_map([OBJECTS_SHOWN], |r| r.get::<_, String>(0))?;
        for name in names {
            let name = name?;
            found.push(match schema {
                "temp" => format!("holds the temporary {name}"),
                _ => format!("holds {name}"),
            });
        }
    }
    let mut attached = conn.prepare(
        "SELECT name FROM pragma_database_list WHERE name NOT IN ('main', 'temp') ORDER BY seq",
    )?;
    for name in attached.query_map([], |r| r.get::<_, String>(0))? {
        found.push(format!("has the database {} attached", name?));
    }
    // The two numbers of the header, which verify compares and a reset
    // sets to 0.
    for pragma in ["user_version", "application_id"] {
        let value: i64 = conn.pragma_query_value(None, pragma, |r| r.get(0))?;
        if value != 0 {
            found.push(format!("has {pragma} {value}"));
        }
    }
    Ok(found)
}

/// Makes the connection's database new again: `main` emptied (SQLite's
/// documented reset, `SQLITE_DBCONFIG_RESET_DATABASE` then `VACUUM`, which
/// also sets the header's numbers to 0), the temporary objects dropped
/// and the databases a migration attached detached, keeping the
/// connection and what is registered on it.
fn make_new(conn: &Connection) -> Result<()> {
    if !conn.is_autocommit() {
        // A file's transaction that verify could not end: nothing in it
        // stays. `VACUUM` cannot run inside one.
        conn.execute_batch("ROLLBACK")?;
    }
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_RESET_DATABASE, true)?;
    let vacuumed = conn.execute_batch("VACUUM");
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_RESET_DATABASE, false)?;
    vacuumed?;
    let temporary: Vec<(String, String)> = {
        // Triggers first, then views, then tables (which take their
        // indexes and triggers with them).
        let mut statement = conn.prepare(
            "SELECT type, name FROM temp.sqlite_master WHERE type IN ('trigger', 'view', 'table')
             ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 ELSE 2 END",
        )?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (kind, name) in temporary {
        let sql = format!("DROP {kind} IF EXISTS temp.{}", quote_identifier(&name));
        conn.execute_batch(&sql)?;
    }
    let attached: Vec<String> = {
        let mut statement = conn
            .prepare("SELECT name FROM pragma_database_list WHERE name NOT IN ('main', 'temp')")?;
        let rows = statement.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for name in attached {
        conn.execute_batch(&format!("DETACH DATABASE {}", quote_identifier(&name)))?;
    }
    Ok(())
}

/// verify's scratch database on SQLite: the given connection's in-memory
/// database, made new again when this is dropped (after a panic too)
/// unless it is already.
struct Scratch<'a> {
    conn: &'a mut Connection,
    table: &'a str,
    /// Nothing ran since the database was last made new.
    clean: bool,
}

impl Scratch<'_> {
    fn renew_now(&mut self) -> Result<()> {
        if self.clean {
            return Ok(());
        }
        let mut db = Sqlite::new(self.conn, self.table, crate::DEFAULT_LOCK_TIMEOUT);
        db.mapped(|db| make_new(&db.conn)).now()?;
        self.clean = true;
        Ok(())
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.renew_now() {
            log::warn!("verify could not empty its in-memory database: {e}");
        }
    }
}

impl crate::verify::Scratch for Scratch<'_> {
    async fn run(&mut self, pass: Pass<'_>) -> Result<Next> {
        self.clean = false;
        let mut db = Sqlite::new(self.conn, self.table, crate::DEFAULT_LOCK_TIMEOUT);
        db.enter().await?;
        let result = pass.perform(&mut db).await;
        db.leave().await?;
        result
    }

    async fn renew(&mut self) -> Result<bool> {
        self.renew_now()?;
        Ok(true)
    }
}
