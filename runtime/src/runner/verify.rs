//! `verify`: one entry point over any supported connection.

use super::{Database, Runner};
use crate::report::VerifyReport;
use crate::{Migrations, Result};

impl Migrations {
    /// Checks that every down file restores the schema that its up file
    /// changed, and that the up file applies again after it, on `conn`;
    /// see [`Runner::verify`].
    ///
    /// Meant as a one-line `#[test]` in the application's crate, whose
    /// failure message is the report:
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::__private::migrations("migrations", &[]);
    /// fn migrations_roundtrip() {
    ///     let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    ///     MIGRATIONS.verify(&mut conn).unwrap();
    /// }
    /// # migrations_roundtrip();
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Runner::verify`].
    pub fn verify(&self, conn: &mut (impl Database + ?Sized)) -> Result<VerifyReport> {
        self.runner().verify(conn)
    }
}

impl Runner<'_> {
    /// Checks on `conn` that every down file restores the schema that its
    /// up file changed, and that the up file applies again after it, with
    /// this runner's history table ([`table`](Runner::table)), which verify
    /// creates as `up` would.
    ///
    /// For each migration in order: the schema is described, up runs, then
    /// down, and the schema is described again and compared; then up runs
    /// again. Every failing up, failing down and schema difference is
    /// reported, not only the first. A migration whose down file is
    /// irreversible is applied and not reverted; the report says so. Only
    /// an up file that fails (or drops the history table) stops verify;
    /// [`VerifyReport::unchecked`] then lists what it did not check.
    ///
    /// **On SQLite** (`rusqlite::Connection`), verify runs in the
    /// connection's database, which must be a new in-memory one
    /// (`Connection::open_in_memory()`): no file, which another connection
    /// could use meanwhile, no objects, temporary ones included, no
    /// attached database, `user_version` and `application_id` 0. At the
    /// end, whatever happened (a panic included), it makes the database new
    /// again, as if it had opened a connection of its own. Register on the
    /// connection first the SQL functions, collations or extensions that
    /// your migrations use and your application registers. Compared after each down: every table's
    /// columns in order (declared type, collation, not null, default,
    /// primary key, autoincrement, generated expression), its foreign keys
    /// (with their actions and deferral), checks, primary key and unique
    /// constraints (with conflict clauses) and options; indexes
    /// (uniqueness, columns or expressions, sort order, collation, partial
    /// condition); and triggers, views and virtual tables by their SQL in a
    /// canonical form (see the README). After a problem in a file outside a
    /// transaction, verify makes the database new again, builds it from the
    /// up files and goes on.
    ///
    /// **On PostgreSQL** (`postgres::Client`), everything runs inside one
    /// transaction of the client that is always rolled back, also after an
    /// error or a panic, and which a killed process never commits: the
    /// database is left as it was (sequences aside, which no rollback turns
    /// back). The migrations run as `up` would run them there, with the
    /// session's search path, so give it a database that does not hold them
    /// yet, such as an empty test database. Each migration's end is checked
    /// as its commit would be: deferred constraints are checked then. The
    /// comparison covers the catalog of every schema that is not the
    /// system's (schemas, tables and columns, constraints, indexes,
    /// sequences, views, functions, procedures and aggregates, triggers,
    /// rules, policies, types and enums, extensions, and more: see the
    /// README). Some folders can only be verified with real commits: one
    /// with a migration outside a transaction, or one that uses an enum
    /// value that an earlier migration added (PostgreSQL refuses that
    /// before the value is committed). For those, verify says so: use
    /// [`verify_postgres_scratch`](Runner::verify_postgres_scratch). Before
    /// it starts, verify drops the scratch databases that an interrupted
    /// `verify_postgres_scratch` left, where it may; the report names them.
    ///
    /// # Errors
    ///
    /// [`Error::VerifyFailed`](crate::Error::VerifyFailed) with every
    /// problem found; [`Error::InTransaction`](crate::Error::InTransaction)
    /// when `conn` is inside a transaction; on SQLite,
    /// [`Error::VerifyNeedsEmptyDatabase`](crate::Error::VerifyNeedsEmptyDatabase)
    /// when its database is not a new in-memory one; on PostgreSQL,
    /// [`Error::VerifyNeedsScratchDatabase`](crate::Error::VerifyNeedsScratchDatabase)
    /// for the folders above; and database errors.
    pub fn verify(&self, conn: &mut (impl Database + ?Sized)) -> Result<VerifyReport> {
        conn.verify(self.migrations, &self.options)
    }
}
