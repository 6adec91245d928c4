//! The SQLite side of `verify`: a scratch in-memory database, and the
//! description of its schema.

use rusqlite::Connection;

use super::Sqlite;
use crate::backend::{Backend, Transactions};
use crate::report::VerifyReport;
use crate::verify::Next;
use crate::{Migrations, Result, Runner};

#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl Migrations {
    /// Checks on a scratch in-memory SQLite database that every down file
    /// restores the schema that its up file changed, and that the up file
    /// applies again after it.
    ///
    /// Meant as a one-line `#[test]` in the application's crate, whose
    /// failure message is the report:
    ///
    /// ```
    /// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::__private::migrations("migrations", &[]);
    /// fn migrations_roundtrip() {
    ///     MIGRATIONS.verify().unwrap();
    /// }
    /// # migrations_roundtrip();
    /// ```
    ///
    /// Compared after each down: every table's columns in order (declared
    /// type, collation, not null, default, primary key, autoincrement,
    /// generated expression), its foreign keys (with their actions and
    /// deferral), checks, primary key and unique constraints (with conflict
    /// clauses) and options; indexes (uniqueness, columns or expressions,
    /// sort order, collation, partial condition); and triggers, views and
    /// virtual tables by their SQL in a canonical form (see the README). A
    /// migration whose down file is irreversible is applied and not
    /// reverted; the report says so. Every failing up, failing down and
    /// schema difference is reported, not only the first, and every
    /// migration is checked: after a problem in a file outside a
    /// transaction, verify goes on from a scratch database built anew from
    /// the up files. Only an up file that fails (or drops the history
    /// table) stops it; [`VerifyReport::unchecked`] then lists what it did
    /// not check.
    ///
    /// # Errors
    ///
    /// [`Error::VerifyFailed`](crate::Error::VerifyFailed) with every
    /// problem found, and database errors of the scratch database.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.runner().verify()
    }

    /// [`verify`](Migrations::verify), with `setup` run on the scratch
    /// connection first: register there the SQL functions, collations or
    /// extensions that your migrations use and your application registers.
    /// `setup` runs again on each new scratch database verify starts (after
    /// a problem with a file that runs outside a transaction, it rebuilds
    /// one from the up files to go on).
    ///
    /// # Errors
    ///
    /// As [`verify`](Migrations::verify), and the error `setup` returns.
    pub fn verify_with(
        &self,
        setup: impl Fn(&Connection) -> rusqlite::Result<()>,
    ) -> Result<VerifyReport> {
        self.runner().verify_with(setup)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl Runner<'_> {
    /// [`Migrations::verify`] with this runner's history table
    /// ([`table`](Runner::table)), which the scratch database holds as
    /// `up` would: for a folder whose migrations create a table named like
    /// the default one, or read the history table by another name.
    ///
    /// # Errors
    ///
    /// As [`Migrations::verify`].
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with(|_| Ok(()))
    }

    /// [`Migrations::verify_with`] with this runner's history table.
    ///
    /// # Errors
    ///
    /// As [`Migrations::verify_with`].
    pub fn verify_with(
        &self,
        setup: impl Fn(&Connection) -> rusqlite::Result<()>,
    ) -> Result<VerifyReport> {
        let mut scratch = Scratch {
            conn: Connection::open_in_memory()?,
            setup: &setup,
            table: &self.options.table,
        };
        setup(&scratch.conn)?;
        crate::verify::verify(self.migrations, &mut scratch)
    }
}

/// verify's scratch database on SQLite: a connection to a new in-memory
/// database.
struct Scratch<'a> {
    conn: Connection,
    setup: &'a dyn Fn(&Connection) -> rusqlite::Result<()>,
    table: &'a str,
}

impl crate::verify::Scratch for Scratch<'_> {
    fn run(&mut self, check: &mut dyn FnMut(&mut dyn Backend) -> Result<Next>) -> Result<Next> {
        let mut db = Sqlite::new(&mut self.conn, self.table, crate::DEFAULT_LOCK_TIMEOUT);
        db.enter().now()?;
        let result = check(&mut db);
        db.leave().now()?;
        result
    }

    fn renew(&mut self) -> Result<bool> {
        self.conn = Connection::open_in_memory()?;
        (self.setup)(&self.conn)?;
        Ok(true)
    }
}
