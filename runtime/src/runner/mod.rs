//! The runner: options set by the caller, and every operation's entry
//! point over any [`Database`] connection.

mod asynchronous;
mod operations;
mod verify;

pub use asynchronous::AsyncDatabase;

use std::borrow::Cow;
use std::time::Duration;

use crate::backend::Connect;
use crate::options::{MAX_LOCK_TIMEOUT, Options};
use crate::{Migrations, Report, Result, Status};

/// Options for applying migrations; made by [`Migrations::runner`].
///
/// ```
/// # fn main() -> Result<(), strata_runtime::Error> {
/// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::__private::migrations("migrations", &[]);
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// let report = MIGRATIONS
///     .runner()
///     .table("app_migrations")
///     .single_transaction(true)
///     .lock_timeout(std::time::Duration::from_secs(10))
///     .run(&mut conn)?;
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a runner does nothing until `run` is called"]
pub struct Runner<'m> {
    pub(crate) migrations: &'m Migrations,
    pub(crate) options: Options,
}

/// A connection strata can migrate: `rusqlite::Connection` (feature
/// `sqlite`) or `postgres::Client` (feature `postgres`). Sealed; usable as
/// `&mut dyn Database` where the kind of database is chosen at run time.
pub trait Database: Connect {}

impl<T: Connect> Database for T {}

impl Migrations {
    /// A runner with the default options: history table
    /// [`schema_migrations`](crate::DEFAULT_TABLE), one transaction per migration,
    /// and a [lock wait](crate::DEFAULT_LOCK_TIMEOUT) of 60 seconds.
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            migrations: self,
            options: Options::default(),
        }
    }
}

impl Runner<'_> {
    /// The name of the history table; `schema_migrations` by default.
    ///
    /// On PostgreSQL it may name its schema, `app.schema_migrations` (each
    /// part bare, or in double quotes: `"My App"."history"`); strata
    /// creates a named schema that is missing. Without one, the history
    /// table lives in the schema current when a run begins, and every
    /// history statement names that schema, whatever search path a
    /// migration sets. On SQLite the name is one name, in the `main`
    /// database.
    pub fn table(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.options.table = name.into();
        self
    }

    /// Apply every pending migration in one transaction: all of them or
    /// none. By default each migration commits on its own, so a failure
    /// keeps the migrations before it.
    pub fn single_transaction(mut self, yes: bool) -> Self {
        self.options.single_transaction = yes;
        self
    }

    /// Apply pending migrations up to and including this version only.
    /// It must be one of the migrations' versions. A run never reverts: a
    /// database already past the target is left as it is.
    pub fn target(mut self, version: u64) -> Self {
        self.options.target = Some(version);
        self
    }

    /// Apply pending migrations whose version is below the newest applied
    /// one, instead of refusing. Off by default: a migration written on a
    /// branch that merged late may assume a schema that newer migrations
    /// changed, so applying it out of order deserves a decision.
    pub fn allow_out_of_order(mut self, yes: bool) -> Self {
        self.options.allow_out_of_order = yes;
        self
    }

    /// Accept applied versions above the newest migration of this build,
    /// instead of refusing with
    /// [`Error::MissingMigration`](crate::Error::MissingMigration): a
    /// newer build of the application migrated the database first, as in a
    /// rolling deploy where old and new replicas run side by side. This
    /// build's own migrations are still checked as always (checksums, the
    /// chain, dirty rows), [`Report::newer`](crate::Report::newer) lists
    /// the newer versions, and they are left as they are. Off by default.
    ///
    /// It holds only while every newer migration is one the old build can
    /// run beside: additive changes (expand), with removals (contract) in a
    /// later release, once no old replica runs. A down never steps over
    /// newer versions: it is refused, as without this option.
    pub fn allow_newer(mut self, yes: bool) -> Self {
        self.options.allow_newer = yes;
        self
    }

    /// Do everything in one transaction and roll it back, so that the
    /// returned report says exactly what would happen, failures included,
    /// and nothing changes. Migrations that run outside a transaction
    /// cannot be rolled back: a dry run stops before them and lists them as
    /// untried. The write lock is taken as for a real run.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.options.dry_run = yes;
        self
    }

    /// On PostgreSQL, how long each statement of a migration may wait for
    /// a lock on a table (`SET LOCAL lock_timeout`) before the migration
    /// fails and rolls back: an `ALTER TABLE` that queues behind a long
    /// query would otherwise queue all of the application's queries behind
    /// itself. Ten seconds by default; `None` waits as long as it takes.
    /// SQLite has no such lock; there it changes nothing. At most
    /// [`MAX_LOCK_TIMEOUT`]: a longer one is taken as that.
    pub fn table_lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.options.table_lock_timeout = timeout.map(|t| t.min(MAX_LOCK_TIMEOUT));
        self
    }

    /// How long to wait for another connection's write lock (another process
    /// migrating the same database, say) before giving up with
    /// [`Error::Locked`](crate::Error::Locked). A longer busy timeout already
    /// set on the connection is kept. At most [`MAX_LOCK_TIMEOUT`]: a longer
    /// one (`Duration::MAX`) is taken as that.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.options.lock_timeout = timeout.min(MAX_LOCK_TIMEOUT);
        self
    }
}

impl Migrations {
    /// Applies every pending migration with the default options; see
    /// [`Runner::run`].
    ///
    /// # Errors
    ///
    /// As [`Runner::run`].
    pub fn run(&self, conn: &mut (impl Database + ?Sized)) -> Result<Report> {
        self.runner().run(conn)
    }

    /// The state of every version with the default options; see
    /// [`Runner::status`].
    ///
    /// # Errors
    ///
    /// As [`Runner::status`].
    pub fn status(&self, conn: &mut (impl Database + ?Sized)) -> Result<Status> {
        self.runner().status(conn)
    }
}
