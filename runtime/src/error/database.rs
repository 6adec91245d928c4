//! The errors of the database driver, and what strata reads in them.

use core::fmt;

/// One row that breaks a foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyViolation {
    /// The table holding the row.
    pub table: String,
    /// The row's rowid, if the table has one.
    pub rowid: Option<i64>,
    /// The table the foreign key points to.
    pub parent: String,
}

impl fmt::Display for ForeignKeyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rowid {
            Some(rowid) => write!(f, "{} row {} -> {}", self.table, rowid, self.parent),
            None => write!(f, "{} (a row) -> {}", self.table, self.parent),
        }
    }
}

/// What kept a database from being written ([`Error::Storage`](super::Error::Storage)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageFault {
    /// The file, or the connection, is read-only.
    ReadOnly,
    /// The database's folder is not writable: SQLite creates its journal
    /// (`-journal`, or `-wal` and `-shm`) beside the file.
    FolderNotWritable,
    /// The disk is full, or the database reached its `max_page_count`.
    DiskFull,
    /// The operating system failed a read or a write.
    Io,
}

impl StorageFault {
    pub(super) fn says(self, cause: &Option<DatabaseError>) -> String {
        match self {
            StorageFault::ReadOnly => "is read-only, so strata cannot change it (open it read-write, or check the file's permissions)".to_owned(),
            StorageFault::FolderNotWritable => "cannot be written because its folder is not writable, and SQLite creates its journal beside the file (make the folder writable for this user)".to_owned(),
            StorageFault::DiskFull => "could not grow: the disk is full, or the database reached its max_page_count (free space, then run again; what failed was rolled back)".to_owned(),
            StorageFault::Io => match cause {
                Some(cause) => format!("could not be read or written: the operating system reported an I/O error ({cause}; check the disk)"),
                None => "could not be read or written: the operating system reported an I/O error (check the disk)".to_owned(),
            },
        }
    }
}

/// An error from the database driver.
#[derive(Debug)]
#[non_exhaustive]
pub enum DatabaseError {
    /// From rusqlite (boxed: rusqlite's error is large, and strata's
    /// errors stay small enough to return by value).
    #[cfg(feature = "sqlite")]
    Sqlite(Box<rusqlite::Error>),
    /// From PostgreSQL: `postgres` and `tokio-postgres` share this error
    /// type (`postgres::Error` is `tokio_postgres::Error`).
    #[cfg(pg)]
    Postgres(tokio_postgres::Error),
    /// From sqlx, before strata had the connection's handle: its worker
    /// thread is gone (boxed, as rusqlite's).
    #[cfg(feature = "sqlx-sqlite")]
    Sqlx(Box<sqlx_core::Error>),
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            // rusqlite's syntax error repeats the whole text it was given;
            // strata names the file, the line and the statement instead.
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => match **e {
                rusqlite::Error::SqlInputError { ref msg, .. } => _f.write_str(msg),
                ref e => fmt::Display::fmt(e, _f),
            },
            // The driver's own text is "db error: ERROR: ..."; the server's
            // message with its detail and hint says more.
            #[cfg(pg)]
            DatabaseError::Postgres(ref e) => match e.as_db_error() {
                Some(db) => {
                    write!(_f, "{}", db.message())?;
                    if let Some(detail) = db.detail() {
                        write!(_f, " ({detail})")?;
                    }
                    if let Some(hint) = db.hint() {
                        write!(_f, "; hint: {hint}")?;
                    }
                    Ok(())
                }
                None => fmt::Display::fmt(e, _f),
            },
            #[cfg(feature = "sqlx-sqlite")]
            DatabaseError::Sqlx(ref e) => fmt::Display::fmt(e, _f),
        }
    }
}

impl std::error::Error for DatabaseError {
    /// The driver's own error, for downcasting (`rusqlite::Error`,
    /// `tokio_postgres::Error`, `sqlx::Error`) and for chains of causes.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => Some(&**e),
            #[cfg(pg)]
            DatabaseError::Postgres(ref e) => Some(e),
            #[cfg(feature = "sqlx-sqlite")]
            DatabaseError::Sqlx(ref e) => Some(&**e),
        }
    }
}

#[cfg(pg)]
impl From<tokio_postgres::Error> for DatabaseError {
    fn from(e: tokio_postgres::Error) -> Self {
        DatabaseError::Postgres(e)
    }
}

#[cfg(pg)]
impl From<tokio_postgres::Error> for super::Error {
    fn from(e: tokio_postgres::Error) -> Self {
        super::Error::Database(DatabaseError::Postgres(e))
    }
}

#[cfg(feature = "sqlx-sqlite")]
impl From<sqlx_core::Error> for super::Error {
    fn from(e: sqlx_core::Error) -> Self {
        super::Error::Database(DatabaseError::Sqlx(Box::new(e)))
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for DatabaseError {
    fn from(e: rusqlite::Error) -> Self {
        DatabaseError::Sqlite(Box::new(e))
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for super::Error {
    fn from(e: rusqlite::Error) -> Self {
        super::Error::Database(DatabaseError::Sqlite(Box::new(e)))
    }
}

impl DatabaseError {
    /// Whether the database refused a statement because it ran inside a
    /// transaction (PostgreSQL's SQLSTATE 25001 and 2D000; SQLite's
    /// "cannot … within a transaction").
    pub(super) fn needs_no_transaction(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => e.to_string().contains("within a transaction"),
            #[cfg(pg)]
            DatabaseError::Postgres(ref e) => matches!(
                e.code().map(tokio_postgres::error::SqlState::code),
                Some("25001" | "2D000")
            ),
            #[cfg(feature = "sqlx-sqlite")]
            DatabaseError::Sqlx(_) => false,
        }
    }

    /// Whether the database refused to create something because it is
    /// there already (SQLite's "already exists" and "duplicate column";
    /// PostgreSQL's duplicate_table, duplicate_object, duplicate_schema,
    /// duplicate_function and duplicate_column).
    pub(crate) fn is_already_there(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(ref e) => {
                let text = e.to_string();
                text.contains("already exists") || text.starts_with("duplicate column name")
            }
            #[cfg(pg)]
            DatabaseError::Postgres(ref e) => matches!(
                e.code().map(tokio_postgres::error::SqlState::code),
                Some("42P07" | "42710" | "42P06" | "42723" | "42701")
            ),
            #[cfg(feature = "sqlx-sqlite")]
            DatabaseError::Sqlx(_) => false,
        }
    }

    /// Whether the server gave up waiting for a lock (PostgreSQL's
    /// SQLSTATE 55P03, lock_not_available).
    #[cfg_attr(not(pg), allow(dead_code))]
    pub(crate) fn is_lock_not_available(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(_) => false,
            #[cfg(pg)]
            DatabaseError::Postgres(ref e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
            }
            #[cfg(feature = "sqlx-sqlite")]
            DatabaseError::Sqlx(_) => false,
        }
    }

    /// Whether the server refused for want of a privilege (PostgreSQL's
    /// SQLSTATE 42501).
    pub(super) fn is_insufficient_privilege(&self) -> bool {
        match *self {
            #[cfg(feature = "sqlite")]
            DatabaseError::Sqlite(_) => false,
            #[cfg(pg)]
            DatabaseError::Postgres(ref e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
            }
            #[cfg(feature = "sqlx-sqlite")]
            DatabaseError::Sqlx(_) => false,
        }
    }
}
