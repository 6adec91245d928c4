//! The runner: options set by the caller, and every operation's entry
//! point over any [`Database`] connection.

mod verify;

use std::borrow::Cow;
use std::time::Duration;

use crate::backend::Connect;
use crate::call::complete;
use crate::ops::Ops;
use crate::options::{MAX_LOCK_TIMEOUT, Options};
use crate::plan::Down;
use crate::{AppliedMigration, HistoryChanges, Migrations, Report, Result, Status};

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

/// The operations. Each takes any [`Database`] connection.
impl Runner<'_> {
    fn ops<'a>(&'a self, conn: &'a mut (impl Database + ?Sized)) -> Ops<'a> {
        Ops::new(
            self.migrations,
            &self.options,
            conn.backend(self.migrations, &self.options),
        )
    }

    /// An operation that moves between versions, with what a dry run of it
    /// could not roll back.
    fn moving(
        &self,
        conn: &mut (impl Database + ?Sized),
        operation: impl AsyncFnOnce(&mut Ops<'_>) -> Result<Report>,
    ) -> Result<Report> {
        let mut ops = self.ops(conn);
        let mut report = complete(operation(&mut ops))?;
        report.sequences_advanced = std::mem::take(&mut ops.sequences_advanced);
        Ok(report)
    }

    /// Applies every pending migration (up to the [target](Runner::target)).
    ///
    /// Before anything changes, the applied migrations are checked against
    /// the files: an edited migration, an applied version that the files
    /// lack, a pending version below the newest applied one (unless
    /// [allowed](Runner::allow_out_of_order)) and a dirty row each stop the
    /// run with its own error. Each migration then runs with its history row
    /// in one transaction (or all of them in one, with
    /// [`single_transaction`](Runner::single_transaction)); a failure rolls
    /// that transaction back and returns an error naming the file and line.
    ///
    /// On SQLite, foreign-key enforcement is switched off while a migration
    /// runs, so that the table-recreation pattern neither fires `ON DELETE
    /// CASCADE` nor fails halfway, and `foreign_key_check` runs on the
    /// tables the migration touched before it commits. The connection's
    /// `foreign_keys` and `busy_timeout` settings are restored afterwards;
    /// an authorizer set on the connection is removed.
    ///
    /// # Errors
    ///
    /// Before anything changes, the history check's errors
    /// ([`Error::ChecksumMismatch`](crate::Error::ChecksumMismatch), [`Error::MissingMigration`](crate::Error::MissingMigration),
    /// [`Error::OutOfOrder`](crate::Error::OutOfOrder), [`Error::Dirty`](crate::Error::Dirty), [`Error::InProgress`](crate::Error::InProgress), ...),
    /// [`Error::ReadOnly`](crate::Error::ReadOnly) for a database that cannot be written, and
    /// [`Error::Locked`](crate::Error::Locked) when the lock wait runs out; then a failing
    /// migration's error ([`Error::Statement`](crate::Error::Statement), [`Error::ForeignKeyViolation`](crate::Error::ForeignKeyViolation),
    /// [`Error::LeftDirty`](crate::Error::LeftDirty), ...), inside [`Error::Partial`](crate::Error::Partial) when migrations
    /// before it stay committed ([`Error::failure`](crate::Error::failure) is the failure either way).
    pub fn run(&self, conn: &mut (impl Database + ?Sized)) -> Result<Report> {
        self.moving(conn, async |ops| ops.up().await)
    }

    /// Reverts the `steps` migrations applied last, the last one first,
    /// each with the removal of its history row in one transaction.
    ///
    /// Down follows the order of application, read from the history's
    /// `applied_at` (migrations applied in the same millisecond, as one run
    /// applies them, in ascending order of version). Without migrations
    /// applied out of order, that is the newest version first; after `run`
    /// with [`allow_out_of_order`](Runner::allow_out_of_order), the late
    /// migration is reverted first, as it was applied last.
    ///
    /// The history is checked first, as for [`run`](Runner::run), and a
    /// migration marked `-- strata:irreversible` on the way stops the move
    /// before anything changes.
    ///
    /// # Errors
    ///
    /// As [`run`](Runner::run)'s, and [`Error::Irreversible`](crate::Error::Irreversible) for a
    /// migration marked irreversible on the way (before anything changes).
    pub fn down(&self, conn: &mut (impl Database + ?Sized), steps: usize) -> Result<Report> {
        self.moving(conn, async |ops| ops.down(Down::Steps(steps)).await)
    }

    /// Reverts every applied migration above `version`, which stays applied.
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down); [`Error::UnknownVersion`](crate::Error::UnknownVersion) when `version` is
    /// not a migration's.
    pub fn down_to(&self, conn: &mut (impl Database + ?Sized), version: u64) -> Result<Report> {
        self.moving(conn, async |ops| ops.down(Down::To(version)).await)
    }

    /// Reverts migration `version` alone, whatever was applied after it:
    /// a migration applied out of order (late) that must go, for example.
    /// Refused when it is not applied, when it is marked
    /// `-- strata:irreversible`, and when its down file runs outside a
    /// transaction below an applied version. The migrations above it stay
    /// applied: reverting one that they build on is the caller's decision.
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down); [`Error::NotApplied`](crate::Error::NotApplied) when `version` is not
    /// applied, [`Error::NoTransactionRevertBelow`](crate::Error::NoTransactionRevertBelow) for a no-transaction down
    /// file below an applied version.
    pub fn down_only(&self, conn: &mut (impl Database + ?Sized), version: u64) -> Result<Report> {
        self.moving(conn, async |ops| ops.down(Down::Only(version)).await)
    }

    /// Reverts every applied migration. (Version 0 is a real version, so
    /// "down to nothing" is its own call.)
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down).
    pub fn down_all(&self, conn: &mut (impl Database + ?Sized)) -> Result<Report> {
        self.moving(conn, async |ops| ops.down(Down::All).await)
    }

    /// Reverts the migration applied last and applies it again. Refused before
    /// anything changes while a migration is pending below applied ones
    /// (unless [`allow_out_of_order`](Runner::allow_out_of_order)), which it
    /// would apply too.
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down) and [`run`](Runner::run); [`Error::OutOfOrder`](crate::Error::OutOfOrder)
    /// before anything changes when it would apply a pending gap.
    pub fn redo(&self, conn: &mut (impl Database + ?Sized)) -> Result<Report> {
        self.moving(conn, async |ops| ops.redo().await)
    }

    /// Moves to `version`: reverts what is above it, applies what is
    /// pending up to it. Refused before anything changes while a migration
    /// is pending below applied ones, as for [`redo`](Runner::redo).
    ///
    /// # Errors
    ///
    /// As [`redo`](Runner::redo); [`Error::UnknownVersion`](crate::Error::UnknownVersion) when `version` is
    /// not a migration's.
    pub fn goto(&self, conn: &mut (impl Database + ?Sized), version: u64) -> Result<Report> {
        self.moving(conn, async |ops| ops.goto(version).await)
    }

    /// Every version the files or the database know, with its state. Never
    /// changes anything; shows problems rather than failing on them.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHistoryTable`](crate::Error::ForeignHistoryTable) for a table of another shape under the
    /// history table's name, [`Error::CorruptHistory`](crate::Error::CorruptHistory) for a value that
    /// cannot be read back, or a database error.
    pub fn status(&self, conn: &mut (impl Database + ?Sized)) -> Result<Status> {
        complete(self.ops(conn).status())
    }

    /// Every migration the history table records, in ascending order of
    /// version, as recorded: whatever the files say (see
    /// [`status`](Runner::status) for the two compared). Empty when there is
    /// no history table. Changes nothing.
    ///
    /// # Errors
    ///
    /// A table of another shape under the history table's name
    /// ([`Error::ForeignHistoryTable`](crate::Error::ForeignHistoryTable)),
    /// a value that cannot be read back, or a database error.
    pub fn applied(&self, conn: &mut (impl Database + ?Sized)) -> Result<Vec<AppliedMigration>> {
        complete(self.ops(conn).applied())
    }

    /// Everything [`run`](Runner::run) checks, changing nothing, and more:
    /// it reads every history row, where `run`'s startup check reads the
    /// newest one and trusts its chain, so it also catches a row whose
    /// checksum was changed in the database by hand. Returns the versions
    /// that `run` would apply.
    ///
    /// # Errors
    ///
    /// Every error that [`run`](Runner::run) would meet before it changes
    /// anything.
    pub fn validate(&self, conn: &mut (impl Database + ?Sized)) -> Result<Vec<u64>> {
        complete(self.ops(conn).validate())
    }

    /// Records the migrations up to and including `version` as applied
    /// without running them, for a database that already has their schema
    /// (built by hand or by an older tool). Refused when the history table
    /// has rows.
    ///
    /// # Errors
    ///
    /// [`Error::HistoryExists`](crate::Error::HistoryExists) when the history table has rows,
    /// [`Error::UnknownVersion`](crate::Error::UnknownVersion) when `version` is not a migration's,
    /// [`Error::Locked`](crate::Error::Locked), or a database error.
    pub fn baseline(
        &self,
        conn: &mut (impl Database + ?Sized),
        version: u64,
    ) -> Result<HistoryChanges> {
        complete(self.ops(conn).baseline(version))
    }

    /// Sets the recorded state to `version` (`None`: nothing applied) after
    /// a person repaired the database by hand: removes the rows above it,
    /// records the migrations up to it that have no row, and clears dirty
    /// flags. Runs no SQL of any migration.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownVersion`](crate::Error::UnknownVersion) when `version` is not a migration's,
    /// [`Error::Locked`](crate::Error::Locked), or a database error.
    pub fn force(
        &self,
        conn: &mut (impl Database + ?Sized),
        version: Option<u64>,
    ) -> Result<HistoryChanges> {
        complete(self.ops(conn).force(version))
    }

    /// Accepts the current checksum and name of applied migrations whose
    /// files were edited on purpose (a comment fixed, say), listing each row
    /// it changes.
    ///
    /// # Errors
    ///
    /// As [`status`](Runner::status), [`Error::Locked`](crate::Error::Locked), or a database
    /// error.
    pub fn repair(&self, conn: &mut (impl Database + ?Sized)) -> Result<HistoryChanges> {
        complete(self.ops(conn).repair())
    }

    /// Converts an existing history table of golang-migrate (`version`,
    /// `dirty`) or of a home-made runner (`version`, `name`, `applied_at`)
    /// into strata's, keeping every recorded version, with checksums taken
    /// from the current files. Refused while golang-migrate's dirty flag is
    /// set.
    ///
    /// # Errors
    ///
    /// [`Error::AdoptDirty`](crate::Error::AdoptDirty) while golang-migrate's dirty flag is set,
    /// [`Error::MissingMigration`](crate::Error::MissingMigration) for a recorded version the files lack,
    /// [`Error::NothingToAdopt`](crate::Error::NothingToAdopt) without a table to convert,
    /// [`Error::Locked`](crate::Error::Locked), or a database error.
    pub fn adopt(&self, conn: &mut (impl Database + ?Sized)) -> Result<HistoryChanges> {
        complete(self.ops(conn).adopt(None))
    }

    /// [`adopt`](Runner::adopt), recording the migrations up to and
    /// including `version` as applied (`None`: none) instead of what the
    /// table says: for a golang-migrate table left dirty by a migration
    /// that failed halfway, once a person has repaired the database and
    /// knows which version it is at (as `migrate force V` would record).
    /// Accepted whether the table is dirty or not.
    ///
    /// # Errors
    ///
    /// As [`adopt`](Runner::adopt), except [`Error::AdoptDirty`](crate::Error::AdoptDirty);
    /// [`Error::AdoptedAlready`](crate::Error::AdoptedAlready) when the table is strata's already.
    pub fn adopt_forced(
        &self,
        conn: &mut (impl Database + ?Sized),
        version: Option<u64>,
    ) -> Result<HistoryChanges> {
        complete(self.ops(conn).adopt(Some(version)))
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
