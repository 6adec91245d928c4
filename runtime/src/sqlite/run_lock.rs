//! The lock that spans a whole run that changes a SQLite database file.
//!
//! SQLite's own lock lasts one transaction. A `-- strata:no-transaction`
//! file runs between two of them: its history row is committed dirty, its
//! statements run one by one, and the row is cleaned after. Another process
//! that reads the history in between would find the row dirty and could
//! not tell a migration in progress from one whose process died, and a
//! `force` or a `down` there would change the history under it. So every
//! run that changes the database holds an exclusive lock on a file beside
//! it (`<database>-strata-lock`), taken before SQLite's lock and released
//! when the run ends; the operating system releases it when the process
//! dies. Other runs wait for it (for what is left of the runner's lock
//! wait), and any process that finds a dirty row checks it: held by
//! another process, the migration is in progress, not dirty.
//!
//! The lock file stays after the run, empty: removing it would let two
//! processes lock two different files of that name.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
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

/// Opens the lock file, creating it readable by every user (whose runs and
/// `status` must see the lock): read-only when it exists, since a lock
/// needs no write access and another user may own the file. Anything but
/// a regular file there is refused (opening a FIFO would wait forever).
fn open(path: &Path) -> std::io::Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => Err(std::io::Error::other(
            "it is not a regular file (remove it: strata makes it again)",
        )),
        Ok(_) => File::open(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // Whatever the process's umask: others must read it.
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
            }
            Ok(file)
        }
        Err(e) => Err(e),
    }
}

/// Takes the lock, waiting with growing pauses for at most `wait`: a
/// process holding it is running migrations. Returns the open file, which
/// holds the lock until it is dropped.
///
/// # Errors
///
/// [`Error::Locked`] when another process held it for all of `wait`
/// (`waited_before`: how long the operation waited already, which the
/// error adds); [`Error::LockFile`] when the file cannot be opened or
/// locked.
pub(super) fn acquire(path: &Path, wait: Duration, waited_before: Duration) -> Result<File> {
    let failed = |cause| Error::LockFile {
        path: path.display().to_string(),
        cause,
    };
    let file = open(path).map_err(failed)?;
    // One left unreadable to others (by hand, or an older strata) is made
    // readable where this user owns it, so that their `status` sees it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file
            .metadata()
            .is_ok_and(|m| m.permissions().mode() & 0o044 != 0o044)
        {
            let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
        }
    }
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
            return Err(Error::Locked {
                waited: waited_before + waited,
            });
        }
        // The operating system's blocking lock cannot time out: poll, as
        // SQLite's own busy handler does.
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Whether another process (or connection) holds the lock now. A missing
/// lock file, anything there but a regular file, or one this user may not
/// read (strata makes it readable by all) means no run holds it.
pub(super) fn held_elsewhere(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {}
        _ => return false,
    }
    // One this user may not read (made by hand, or by an older strata)
    // cannot say: read as not held, as without the file.
    File::open(path)
        .is_ok_and(|file| matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock)))
}
