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
        // `Sqlite`'s `Drop`. sqlx opens its connections serialized
        // (`SQLITE_OPEN_FULLMUTEX`), so the thread that polls the operation
        // may use the handle. rusqlite and sqlx link one libsqlite3-sys
        // (one `links = "sqlite3"` crate per build), so the pointer's type
        // is rusqlite's own.
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
