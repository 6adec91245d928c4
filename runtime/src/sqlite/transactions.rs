//! The connection's transactions, its settings around a run, and the lock
//! file beside the database.

use super::{Saved, Sqlite, run_lock};
use crate::call::Call;
use crate::source::sql::Dialect;
use crate::{Error, Result};

impl crate::backend::Transactions for Sqlite<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn location(&self) -> String {
        self.path()
    }

    fn history_table(&self) -> String {
        self.name.to_owned()
    }

    fn check_idle(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            if db.conn.is_autocommit() {
                Ok(())
            } else {
                Err(Error::InTransaction)
            }
        })
    }

    fn read_only(&mut self) -> Call<'_, Result<bool>> {
        self.mapped(|db| -> Result<bool> { Ok(db.conn.is_readonly(rusqlite::MAIN_DB)?) })
    }

    /// Takes the lock file (before SQLite's own lock, always in that
    /// order), waiting for what is left of the lock wait, and switches
    /// foreign-key enforcement off (it cannot change inside a transaction).
    ///
    /// Every run that changes a database file takes it, so that none
    /// (a `force`, a `down` of an older folder) changes the history while
    /// another process runs a no-transaction migration. A run whose folder
    /// has no such migration goes on without it where the file cannot be
    /// made (a folder it may not write); one whose folder has one may not.
    fn enter(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.own_wait(db.lock_timeout)?;
            if let Some(path) = run_lock::path(&db.conn) {
                let waited = db.started.elapsed();
                let rest = db.lock_timeout.saturating_sub(waited);
                match run_lock::acquire(&path, rest, waited) {
                    Ok(file) => db.held = Some(file),
                    // Only where the file cannot be made here: anything else
                    // at its path (a FIFO) stops every run.
                    Err(Error::LockFile { path, cause })
                        if !db.run_lock
                            && matches!(
                                cause.kind(),
                                std::io::ErrorKind::PermissionDenied
                                    | std::io::ErrorKind::ReadOnlyFilesystem
                            ) =>
                    {
                        log::warn!("no lock file {path} ({cause}): going on without it");
                    }
                    Err(e) => return Err(e),
                }
            }
            let foreign_keys: bool = db
                .conn
                .pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
            if foreign_keys {
                db.conn.pragma_update(None, "foreign_keys", false)?;
            }
            db.saved = Some(Saved { foreign_keys });
            Ok(())
        })
    }

    /// Puts back what `enter` changed, and what a file changed: the
    /// connection goes back to the application as it came, foreign-key
    /// enforcement included, on or off. Then releases the lock file.
    fn leave(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.rollback().now();
            let result = db.put_back();
            db.held = None;
            result
        })
    }

    fn run_in_progress(&mut self) -> Call<'_, bool> {
        Call::of(|| -> bool {
            self.held.is_none()
                && run_lock::path(&self.conn).is_some_and(|path| run_lock::held_elsewhere(&path))
        })
    }

    fn begin(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| db.db(e))
        })
    }

    fn commit(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> { db.conn.execute_batch("COMMIT").map_err(|e| db.db(e)) })
    }

    fn rollback(&mut self) -> Call<'_, ()> {
        Call::of(|| -> () {
            if !self.conn.is_autocommit() {
                // The error that brought us here matters more than one from here.
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        })
    }

    fn in_transaction(&mut self) -> Call<'_, bool> {
        Call::of(|| -> bool { !self.conn.is_autocommit() })
    }
}
