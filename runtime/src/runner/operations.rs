//! The operations on a connection, each run to its end: the flow is
//! `ops`' (written once, async), driven here for blocking connections.

use super::{Database, Runner};
use crate::call::complete;
use crate::ops::Ops;
use crate::plan::Down;
use crate::{AppliedMigration, HistoryChanges, Report, Result, Status};

/// An operation that moves between versions: one future for the
/// synchronous and the async entry points.
#[derive(Debug, Clone, Copy)]
pub(super) enum Move {
    Up,
    Down(Down),
    Redo,
    Goto(u64),
}

impl Move {
    /// Runs it on `ops`; the report says what a dry run could not roll back.
    pub(super) async fn perform(self, ops: &mut Ops<'_>) -> Result<Report> {
        let mut report = match self {
            Move::Up => ops.up().await,
            Move::Down(how) => ops.down(how).await,
            Move::Redo => ops.redo().await,
            Move::Goto(version) => ops.goto(version).await,
        }?;
        report.sequences_advanced = std::mem::take(&mut ops.sequences_advanced);
        Ok(report)
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
    fn moving(&self, conn: &mut (impl Database + ?Sized), how: Move) -> Result<Report> {
        complete(how.perform(&mut self.ops(conn)))
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
        self.moving(conn, Move::Up)
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
        self.moving(conn, Move::Down(Down::Steps(steps)))
    }

    /// Reverts every applied migration above `version`, which stays applied.
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down); [`Error::UnknownVersion`](crate::Error::UnknownVersion) when `version` is
    /// not a migration's.
    pub fn down_to(&self, conn: &mut (impl Database + ?Sized), version: u64) -> Result<Report> {
        self.moving(conn, Move::Down(Down::To(version)))
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
        self.moving(conn, Move::Down(Down::Only(version)))
    }

    /// Reverts every applied migration. (Version 0 is a real version, so
    /// "down to nothing" is its own call.)
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down).
    pub fn down_all(&self, conn: &mut (impl Database + ?Sized)) -> Result<Report> {
        self.moving(conn, Move::Down(Down::All))
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
        self.moving(conn, Move::Redo)
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
        self.moving(conn, Move::Goto(version))
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
