//! How long strata waits for SQLite's locks, and what a failure to read or
//! write the database file is: a lock held past the wait, a hot journal,
//! or a fault that keeps the file from being written.

use std::time::{Duration, Instant};

use rusqlite::ErrorCode;

use super::Sqlite;
use crate::call::Call;
use crate::{DatabaseError, Error, Result, StorageFault};

impl Sqlite<'_> {
    /// A read before any change: under the connection's own busy timeout,
    /// so that the startup check stays one statement. Should it find the
    /// database locked for all of that, it is tried again under the
    /// runner's lock wait for what is left of it, which every statement
    /// waits for from then on (and every one of a change, from `enter`).
    /// The error says how long it really waited.
    pub(super) fn waiting<T>(&mut self, read: impl Fn(&mut Self) -> Result<T>) -> Result<T> {
        // Every driver error mapped first, so that any statement of `read`
        // that met the lock is retried, not only those mapped where they ran.
        let read = |db: &mut Self| read(db).map_err(|e| db.explicit(e));
        if self.busy_timeout_ms.is_some() {
            return read(self);
        }
        let started = Instant::now();
        match read(self) {
            Err(Error::Locked { .. }) => {}
            other => return other,
        }
        let rest = self.lock_timeout.saturating_sub(started.elapsed());
        if !rest.is_zero() {
            self.own_wait(rest)?;
            let again = read(self);
            self.own_wait(self.lock_timeout)?;
            if !matches!(again, Err(Error::Locked { .. })) {
                return again;
            }
        }
        Err(Error::Locked {
            waited: started.elapsed(),
        })
    }

    /// Sets the connection's busy timeout to `wait`, first keeping the
    /// connection's own to put back when the operation ends.
    pub(super) fn own_wait(&mut self, wait: Duration) -> Result<()> {
        if self.busy_timeout_ms.is_none() {
            let own: i64 = self
                .conn
                .pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
            self.busy_timeout_ms = Some(own);
        }
        self.conn.busy_timeout(wait)?;
        Ok(())
    }

    /// The wait that a busy error means was exceeded: the runner's, or
    /// where the connection's own busy timeout is in force, that one.
    pub(super) fn locked(&self) -> Error {
        let waited = match self.busy_timeout_ms {
            Some(_) => self.lock_timeout,
            None => self
                .conn
                .pragma_query_value(None, "busy_timeout", |r| r.get::<_, i64>(0))
                .map_or(self.lock_timeout, |ms| {
                    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
                }),
        };
        Error::Locked { waited }
    }

    /// Runs the body of a method of the seam now, mapping every driver
    /// error that escapes it explicitly (see [`explicit`](Self::explicit)),
    /// whichever statement met it.
    pub(super) fn mapped<T>(
        &mut self,
        work: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Call<'_, Result<T>> {
        let result = work(self);
        Call::ready(result.map_err(|e| self.explicit(e)))
    }

    /// A raw rusqlite error given its own variant where it has one: a busy
    /// or locked database is always [`Error::Locked`], a full or read-only
    /// disk [`Error::Storage`], as [`db`](Self::db) maps them.
    pub(super) fn explicit(&self, e: Error) -> Error {
        match e {
            Error::Database(DatabaseError::Sqlite(cause)) => self.db(*cause),
            other => other,
        }
    }

    /// Maps a rusqlite error, giving lock time-outs and non-databases
    /// their own errors.
    pub(super) fn db(&self, e: rusqlite::Error) -> Error {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => self.locked(),
            Some(ErrorCode::NotADatabase) => Error::NotADatabase { path: self.path() },
            _ if hot_journal(&e) => Error::HotJournal { path: self.path() },
            _ => match storage_fault(&e) {
                Some(fault) => Error::Storage {
                    path: self.path(),
                    fault,
                    version: None,
                    file: None,
                    cause: Some(e.into()),
                },
                None => Error::from(e),
            },
        }
    }
}

/// What kept SQLite from writing, when that is what `e` says.
pub(super) fn storage_fault(e: &rusqlite::Error) -> Option<StorageFault> {
    let rusqlite::Error::SqliteFailure(f, _) = e else {
        return None;
    };
    match f.code {
        ErrorCode::ReadOnly if f.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK => None,
        ErrorCode::ReadOnly if f.extended_code == rusqlite::ffi::SQLITE_READONLY_DIRECTORY => {
            Some(StorageFault::FolderNotWritable)
        }
        ErrorCode::ReadOnly => Some(StorageFault::ReadOnly),
        ErrorCode::CannotOpen => Some(StorageFault::FolderNotWritable),
        ErrorCode::DiskFull => Some(StorageFault::DiskFull),
        // The journal could not be removed after a rollback (a hot one,
        // left by a crash): the folder, not the disk.
        ErrorCode::SystemIoFailure if f.extended_code == rusqlite::ffi::SQLITE_IOERR_DELETE => {
            Some(StorageFault::FolderNotWritable)
        }
        ErrorCode::SystemIoFailure => Some(StorageFault::Io),
        _ => None,
    }
}

/// A read-only connection found the rollback journal of a transaction
/// that a crash cut off, which only a connection that can write rolls back.
pub(super) fn hot_journal(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::{Connection, ErrorCode, ffi};

    use super::Sqlite;
    use crate::{DatabaseError, Error, StorageFault};

    fn raw(code: i32) -> Error {
        Error::Database(DatabaseError::Sqlite(Box::new(
            rusqlite::Error::SqliteFailure(ffi::Error::new(code), None),
        )))
    }

    /// Whatever statement met it, a raw driver error that leaves a method of
    /// the seam gets its own variant: busy and locked are `Locked`, a full
    /// disk `Storage`; others stay the driver's.
    #[test]
    fn escaping_driver_errors_are_mapped_explicitly() {
        let mut conn = Connection::open_in_memory().unwrap();
        let db = Sqlite::new(&mut conn, "schema_migrations", Duration::from_millis(7));
        for code in [ffi::SQLITE_BUSY, ffi::SQLITE_LOCKED] {
            assert!(
                matches!(db.explicit(raw(code)), Error::Locked { .. }),
                "{code}"
            );
        }
        assert!(matches!(
            db.explicit(raw(ffi::SQLITE_FULL)),
            Error::Storage {
                fault: StorageFault::DiskFull,
                ..
            }
        ));
        let other = db.explicit(raw(ffi::SQLITE_CONSTRAINT));
        assert!(
            matches!(&other, Error::Database(DatabaseError::Sqlite(e))
                if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)),
            "{other:?}"
        );
        // Errors of strata's own pass through.
        assert!(matches!(
            db.explicit(Error::InTransaction),
            Error::InTransaction
        ));
    }
}
