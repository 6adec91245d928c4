//! The SQLite backend over sqlx's `SqliteConnection` (feature
//! `sqlx-sqlite`): the rusqlite backend, driving the handle of the sqlx
//! connection, so that every guarantee (`BEGIN IMMEDIATE` and the re-read
//! under the lock, the authorizer that refuses transaction control and
//! finds the tables a file touched, foreign keys off around migrations and
//! checked before each commit, the lock file of no-transaction migrations)
//! is the same code as for a `rusqlite::Connection`.
//!
//! sqlx runs a connection's statements on a worker thread of its own; its
//! `lock_handle` keeps that thread off the handle while strata holds it.
//! strata's calls then block the task that awaits the operation, as a
//! rusqlite call does: migrating takes as long as the SQL does, and a wait
//! for another process's migration (SQLite's busy timeout, up to the
//! runner's lock timeout) blocks that task's thread for that long.

use std::ops::{Deref, DerefMut};

use rusqlite::Connection;
use sqlx_sqlite::{LockedSqliteHandle, SqliteConnection};

use super::{Handle, Sqlite};
use crate::backend::{Backend, ConnectAsync};
use crate::call::Call;
use crate::options::Options;
use crate::report::VerifyReport;
use crate::{Migrations, Result};

impl ConnectAsync for SqliteConnection {
    fn backend<'a>(
        &'a mut self,
        migrations: &Migrations,
        options: &'a Options,
    ) -> Call<'a, Result<Box<dyn Backend + 'a>>> {
        let run_lock = migrations.any_outside_transaction();
        Call::later(async move {
            let conn = Borrowed::lock(self).await?;
            let mut db = Sqlite::over(Handle::Sqlx(conn), &options.table, options.lock_timeout);
            db.run_lock = run_lock;
            Ok(Box::new(db) as Box<dyn Backend + 'a>)
        })
    }

    fn verify<'a>(
        &'a mut self,
        migrations: &'a Migrations,
        options: &'a Options,
    ) -> Call<'a, Result<VerifyReport>> {
        Call::later(async move {
            let mut conn = Borrowed::lock(self).await?;
            super::verify::verify(&mut conn, migrations, &options.table)
        })
    }
}

/// A rusqlite connection over an sqlx connection's handle, while sqlx's
/// worker thread is kept off it.
pub(super) struct Borrowed<'a> {
    /// Declared first, so dropped first: rusqlite finalizes the statements
    /// it prepared while the handle is still strata's.
    conn: Connection,
    _locked: LockedSqliteHandle<'a>,
}

impl<'a> Borrowed<'a> {
    /// Waits for sqlx's worker to finish what it was running on `conn`,
    /// then takes its handle.
    async fn lock(conn: &'a mut SqliteConnection) -> Result<Borrowed<'a>> {
        // `lock_handle` queues for the handle and asks the worker to let go
        // of it. A handle given back before the worker asked for it again
        // is free at the next `lock_handle`, whose request to the worker
        // then stays queued; one more each time, until the worker's queue
        // (50 commands) is full and a `lock_handle` that got the handle
        // waits forever to queue its request, which the worker cannot read
        // without the handle. A ping is answered only once the worker has
        // the handle again and has read every request before it, so the
        // request below is the one it reads next.
        sqlx_core::connection::Connection::ping(&mut *conn).await?;
        let mut locked = conn.lock_handle().await?;
        let handle = locked.as_raw_handle();
        // SAFETY: `handle` is an open connection, and stays one while
        // `locked` lives: it borrows the sqlx connection, and sqlx makes no
        // call on the handle or its statements until it is dropped, after
        // `conn` (see the fields' order). A connection made by
        // `from_handle` does not own the handle: dropping it finalizes the
        // statements rusqlite prepared and neither closes the handle nor
        // touches the hooks that sqlx or the application set. strata's own
        // (its authorizer, the busy timeout) are put back before then, by
        // `Sqlite`'s `Drop`. sqlx opens connections `SQLITE_OPEN_NOMUTEX`
        // unless told otherwise: one thread at a time may use the handle,
        // which `locked` ensures (sqlx's worker takes the handle back only
        // through the mutex it guards, so its calls and ours are ordered).
        // rusqlite and sqlx link one libsqlite3-sys (one `links =
        // "sqlite3"` crate per build), so the pointer's type is rusqlite's
        // own.
        #[allow(unsafe_code)]
        let conn = unsafe { Connection::from_handle(handle.as_ptr()) }?;
        Ok(Borrowed {
            conn,
            _locked: locked,
        })
    }
}

impl Deref for Borrowed<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Borrowed<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use sqlx_core::connection::ConnectOptions;
    use sqlx_sqlite::SqliteConnectOptions;

    use super::Borrowed;
    use crate::call::complete;

    /// The handle taken and given back again and again, as fast as strata
    /// can (nothing done with it): each time within 5 s. Before strata
    /// waited for sqlx's worker to be idle, a handle given back before the
    /// worker had asked for it again left that worker's request queued,
    /// one more each time, until its queue of 50 was full and the next
    /// `lock_handle` waited forever (here, after a few thousand).
    #[test]
    fn the_handle_is_taken_again_and_again_without_a_hang() {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let mut conn = complete(SqliteConnectOptions::new().in_memory(true).connect())
                .expect("an in-memory sqlx connection");
            for i in 0..100_000u32 {
                let borrowed = complete(Borrowed::lock(&mut conn)).expect("the handle");
                drop(borrowed);
                if done.send(i).is_err() {
                    return;
                }
            }
        });
        let mut last = None;
        loop {
            match finished.recv_timeout(Duration::from_secs(5)) {
                Ok(i) => last = Some(i),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("taking the handle hung after {last:?} times")
                }
            }
        }
        assert_eq!(last, Some(99_999));
    }
}
