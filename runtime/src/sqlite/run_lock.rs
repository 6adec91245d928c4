//! The lock that spans a whole run on a SQLite database file, for folders
//! with no-transaction migrations.
//!
//! SQLite's own lock lasts one transaction. A `-- strata:no-transaction`
//! file runs between two of them: its history row is committed dirty, its
//! statements run one by one, and the row is cleaned after. Another process
//! that reads the history in between would find the row dirty and could
//! not tell a migration in progress from one whose process died. So a run
//! whose folder has such migrations holds an exclusive lock on a file
//! beside the database (`<database>-strata-lock`), taken before SQLite's
//! lock and released when the run ends; the operating system releases it
//! when the process dies. Other runs of that folder wait for it (for the
//! runner's lock wait), and any process that finds a dirty row checks it:
//! held by another process, the migration is in progress, not dirty.
//!
//! The lock file stays after the run, empty: removing it would let two
//! processes lock two different files of that name.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::{Error, Result};

/// The lock file of the database `conn` has open: `None` for an in-memory
/// or temporary database, which no other process can open.
pub(super) fn path(conn: &Connection) -> Option<PathBuf> {
    conn.path()
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(format!("{p}-strata-lock")))
}

/// Takes the lock, waiting with growing pauses for at most `wait`: a
/// process holding it is running migrations. Returns the open file, which
/// holds the lock until it is dropped.
///
/// # Errors
///
/// [`Error::Locked`] when another process held it for all of `wait`;
/// [`Error::LockFile`] when the file cannot be created or locked.
pub(super) fn acquire(path: PathBuf, wait: Duration) -> Result<File> {
    let failed = |cause| Error::LockFile {
        path: path.display().to_string(),
        cause,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(failed)?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(cause)) => return Err(failed(cause)),
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(Error::Locked { waited });
        }
        // The operating system's blocking lock cannot time out: poll, as
        // SQLite's own busy handler does.
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Whether another process (or connection) holds the lock now. A missing
/// or unreadable lock file means no run holds it.
pub(super) fn held_elsewhere(path: PathBuf) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
}
