//! The operations over an async connection: the same `Ops` futures as the
//! synchronous API, awaited instead of run to completion here.

use super::Runner;
use super::operations::Move;
use crate::backend::ConnectAsync;
use crate::ops::Ops;
use crate::plan::Down;
use crate::report::VerifyReport;
use crate::{AppliedMigration, HistoryChanges, Migrations, Report, Result, Status};

/// An async connection strata can migrate: `tokio_postgres::Client`
/// (feature `tokio-postgres`; a pooled client gives one: `&mut **client`
/// for deadpool-postgres, whose client wraps it, `&mut *client` for
/// bb8-postgres), or sqlx's `SqliteConnection` (feature `sqlx-sqlite`;
/// `&mut *conn` for a `PoolConnection<Sqlite>`). Sealed.
///
/// Every operation of [`Runner`] on a connection has an async form named
/// with `_async`, which takes one: `MIGRATIONS.run_async(&mut
/// client).await`, `MIGRATIONS.runner().down_async(&mut client, 1).await`.
/// The futures are `Send`, so they run inside `tokio::spawn` too. (Verify
/// in a scratch database, `verify_postgres_scratch`, is synchronous only.)
///
/// On tokio-postgres, a future dropped before it completes (a cancelled
/// task, a timeout) leaves no lock and no half-applied migration: the open
/// transaction is
/// rolled back, the advisory lock released and the session's settings put
/// back as the run found them, with statements queued on
/// the connection as it is dropped (the server runs them after whatever it
/// is running then; the next statement on that client waits for it). A
/// migration that ran outside a transaction keeps its row marked dirty, as
/// after a crash: whether it finished is not known.
///
/// On sqlx's `SqliteConnection`, the operation waits (asynchronously) for
/// sqlx's worker thread to let go of the connection's handle, then runs on
/// that handle as on a `rusqlite::Connection`, every guarantee the same:
/// those calls block the task's thread as rusqlite's do, and so does a
/// wait for the write lock (another process's migration, or another
/// connection's write transaction: SQLite's busy timeout, up to the
/// runner's [lock timeout](Runner::lock_timeout)); on a current-thread
/// runtime, a transaction that another task of it holds cannot end
/// meanwhile, and the operation fails with `Locked`. Having begun, it does
/// not yield, so a dropped future has either not begun or has finished.
pub trait AsyncDatabase: ConnectAsync {}

impl<T: ConnectAsync + ?Sized> AsyncDatabase for T {}

impl Migrations {
    /// [`run`](Migrations::run) on an async connection: applies every
    /// pending migration with the default options.
    ///
    /// # Errors
    ///
    /// As [`Runner::run`].
    pub async fn run_async(&self, conn: &mut (impl AsyncDatabase + ?Sized)) -> Result<Report> {
        self.runner().run_async(conn).await
    }

    /// [`status`](Migrations::status) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`Runner::status`].
    pub async fn status_async(&self, conn: &mut (impl AsyncDatabase + ?Sized)) -> Result<Status> {
        self.runner().status_async(conn).await
    }

    /// [`verify`](Migrations::verify) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`Runner::verify`].
    pub async fn verify_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
    ) -> Result<VerifyReport> {
        self.runner().verify_async(conn).await
    }
}

/// The async forms of the operations: each does what the operation of the
/// same name without `_async` does, with the same errors.
impl Runner<'_> {
    async fn ops_async<'a>(
        &'a self,
        conn: &'a mut (impl AsyncDatabase + ?Sized),
    ) -> Result<Ops<'a>> {
        let backend = conn.backend(self.migrations, &self.options).await?;
        Ok(Ops::new(self.migrations, &self.options, backend))
    }

    async fn moving_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        how: Move,
    ) -> Result<Report> {
        how.perform(&mut self.ops_async(conn).await?).await
    }

    /// [`run`](Runner::run) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`run`](Runner::run).
    pub async fn run_async(&self, conn: &mut (impl AsyncDatabase + ?Sized)) -> Result<Report> {
        self.moving_async(conn, Move::Up).await
    }

    /// [`down`](Runner::down) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`down`](Runner::down).
    pub async fn down_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        steps: usize,
    ) -> Result<Report> {
        self.moving_async(conn, Move::Down(Down::Steps(steps)))
            .await
    }

    /// [`down_to`](Runner::down_to) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`down_to`](Runner::down_to).
    pub async fn down_to_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        version: u64,
    ) -> Result<Report> {
        self.moving_async(conn, Move::Down(Down::To(version))).await
    }

    /// [`down_only`](Runner::down_only) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`down_only`](Runner::down_only).
    pub async fn down_only_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        version: u64,
    ) -> Result<Report> {
        self.moving_async(conn, Move::Down(Down::Only(version)))
            .await
    }

    /// [`down_all`](Runner::down_all) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`down_all`](Runner::down_all).
    pub async fn down_all_async(&self, conn: &mut (impl AsyncDatabase + ?Sized)) -> Result<Report> {
        self.moving_async(conn, Move::Down(Down::All)).await
    }

    /// [`redo`](Runner::redo) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`redo`](Runner::redo).
    pub async fn redo_async(&self, conn: &mut (impl AsyncDatabase + ?Sized)) -> Result<Report> {
        self.moving_async(conn, Move::Redo).await
    }

    /// [`goto`](Runner::goto) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`goto`](Runner::goto).
    pub async fn goto_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        version: u64,
    ) -> Result<Report> {
        self.moving_async(conn, Move::Goto(version)).await
    }

    /// [`status`](Runner::status) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`status`](Runner::status).
    pub async fn status_async(&self, conn: &mut (impl AsyncDatabase + ?Sized)) -> Result<Status> {
        self.ops_async(conn).await?.status().await
    }

    /// [`applied`](Runner::applied) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`applied`](Runner::applied).
    pub async fn applied_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
    ) -> Result<Vec<AppliedMigration>> {
        self.ops_async(conn).await?.applied().await
    }

    /// [`validate`](Runner::validate) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`validate`](Runner::validate).
    pub async fn validate_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
    ) -> Result<Vec<u64>> {
        self.ops_async(conn).await?.validate().await
    }

    /// [`baseline`](Runner::baseline) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`baseline`](Runner::baseline).
    pub async fn baseline_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        version: u64,
    ) -> Result<HistoryChanges> {
        self.ops_async(conn).await?.baseline(version).await
    }

    /// [`force`](Runner::force) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`force`](Runner::force).
    pub async fn force_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        version: Option<u64>,
    ) -> Result<HistoryChanges> {
        self.ops_async(conn).await?.force(version).await
    }

    /// [`repair`](Runner::repair) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`repair`](Runner::repair).
    pub async fn repair_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
    ) -> Result<HistoryChanges> {
        self.ops_async(conn).await?.repair().await
    }

    /// [`adopt`](Runner::adopt) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`adopt`](Runner::adopt).
    pub async fn adopt_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
    ) -> Result<HistoryChanges> {
        self.ops_async(conn).await?.adopt(None).await
    }

    /// [`adopt_forced`](Runner::adopt_forced) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`adopt_forced`](Runner::adopt_forced).
    pub async fn adopt_forced_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
        version: Option<u64>,
    ) -> Result<HistoryChanges> {
        self.ops_async(conn).await?.adopt(Some(version)).await
    }

    /// [`verify`](Runner::verify) on an async connection.
    ///
    /// # Errors
    ///
    /// As [`verify`](Runner::verify).
    pub async fn verify_async(
        &self,
        conn: &mut (impl AsyncDatabase + ?Sized),
    ) -> Result<VerifyReport> {
        conn.verify(self.migrations, &self.options).await
    }
}
