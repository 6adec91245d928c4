//! strata's SQLite authorizer, set on the connection's handle through
//! SQLite's C API (`sqlite3_set_authorizer`), not rusqlite's `authorizer`:
//! rusqlite sets hooks only on a connection that owns its handle, and over
//! an sqlx connection (feature `sqlx-sqlite`) the handle is sqlx's. One
//! path for both, so the SQLite suites test the one that sqlx users run.
//!
//! The callback reads and updates the [`Watch`] that the backend holds in
//! an `Arc`; SQLite gets a pointer to it, valid until
//! [`Authorizer::remove`] has taken the callback off the handle.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ffi};

use super::{Watch, lock};
use crate::Result;

/// What a statement being prepared asks to do, as strata's authorizer
/// tells apart (SQLite's action codes, with their arguments).
pub(super) enum Action<'a> {
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`.
    TransactionControl,
    Pragma {
        name: &'a str,
        /// `None` for a read (`PRAGMA name`).
        value: Option<&'a str>,
    },
    CreateTable(&'a str),
    Insert(&'a str),
    AlterTable(&'a str),
    DropTable(&'a str),
    Delete(&'a str),
    Update(&'a str),
    /// Anything else: allowed, unseen.
    Other,
}

impl<'a> Action<'a> {
    fn of(code: c_int, first: Option<&'a str>, second: Option<&'a str>) -> Self {
        match (code, first, second) {
            (ffi::SQLITE_TRANSACTION | ffi::SQLITE_SAVEPOINT, _, _) => Action::TransactionControl,
            (ffi::SQLITE_PRAGMA, Some(name), value) => Action::Pragma { name, value },
            (ffi::SQLITE_CREATE_TABLE, Some(table), _) => Action::CreateTable(table),
            (ffi::SQLITE_INSERT, Some(table), _) => Action::Insert(table),
            // The first argument is the database's name, the second the table's.
            (ffi::SQLITE_ALTER_TABLE, _, Some(table)) => Action::AlterTable(table),
            (ffi::SQLITE_DROP_TABLE, Some(table), _) => Action::DropTable(table),
            (ffi::SQLITE_DELETE, Some(table), _) => Action::Delete(table),
            (ffi::SQLITE_UPDATE, Some(table), _) => Action::Update(table),
            _ => Action::Other,
        }
    }
}

/// Whether the statement may do it: `false` fails its preparation with
/// SQLite's "not authorized".
pub(super) type Decide = fn(&mut Watch, Action<'_>) -> bool;

/// The authorizer, while set on a handle.
pub(super) struct Authorizer {
    /// What SQLite passes to the callback (an `Arc`, whose moves leave the
    /// pointer SQLite holds valid); `None` once taken off the handle.
    context: Option<Arc<Context>>,
}

struct Context {
    watch: Arc<Mutex<Watch>>,
    decide: Decide,
}

impl Authorizer {
    /// Sets the authorizer on `conn`'s handle (which expires every
    /// statement prepared on it).
    pub(super) fn set(conn: &Connection, watch: Arc<Mutex<Watch>>, decide: Decide) -> Result<Self> {
        let context = Arc::new(Context { watch, decide });
        let pointer = Arc::as_ptr(&context);
        #[allow(unsafe_code)]
        // SAFETY: `handle` is the open handle of `conn` (rusqlite's own
        // accessor), used by the one thread that holds `conn`. `pointer`
        // stays valid while the callback is set: the returned value holds
        // the `Arc`, and `remove` takes the callback off before it is
        // dropped (a value dropped without `remove` leaks it instead: see
        // `Drop`).
        let code = unsafe {
            ffi::sqlite3_set_authorizer(
                conn.handle(),
                Some(callback),
                pointer.cast_mut().cast::<c_void>(),
            )
        };
        let authorizer = Authorizer {
            context: Some(context),
        };
        check(conn, code)?;
        Ok(authorizer)
    }

    /// Takes the callback off `conn`'s handle, which must be the one it was
    /// set on.
    pub(super) fn remove(mut self, conn: &Connection) -> Result<()> {
        #[allow(unsafe_code)]
        // SAFETY: as in `set`; a null callback clears the authorizer.
        let code =
            unsafe { ffi::sqlite3_set_authorizer(conn.handle(), None, std::ptr::null_mut()) };
        check(conn, code)?;
        self.context = None;
        Ok(())
    }
}

impl Drop for Authorizer {
    /// A callback still set keeps what it points to: leaked rather than
    /// freed under SQLite (the backend removes it on every path, its own
    /// `Drop` included, so this is not reached).
    fn drop(&mut self) {
        if let Some(context) = self.context.take() {
            std::mem::forget(context);
        }
    }
}

fn check(conn: &Connection, code: c_int) -> Result<()> {
    if code == ffi::SQLITE_OK {
        return Ok(());
    }
    #[allow(unsafe_code)]
    // SAFETY: as in `Authorizer::set`.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(conn.handle())) }
        .to_string_lossy()
        .into_owned();
    Err(rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(message)).into())
}

/// SQLite's callback: decodes the action and asks `decide`. A panic in it
/// (none is expected) denies the statement rather than unwind into C.
///
/// # Safety
///
/// `context` is the pointer that [`Authorizer::set`] gave SQLite, while
/// that authorizer is set; the strings are SQLite's, null or
/// NUL-terminated, alive for the call.
#[allow(unsafe_code)]
unsafe extern "C" fn callback(
    context: *mut c_void,
    code: c_int,
    first: *const c_char,
    second: *const c_char,
    _database: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    let decided = std::panic::catch_unwind(|| {
        // SAFETY: as the caller (SQLite) promises.
        let (context, first, second) = unsafe {
            (
                &*context.cast_const().cast::<Context>(),
                text(first),
                text(second),
            )
        };
        (context.decide)(&mut lock(&context.watch), Action::of(code, first, second))
    });
    match decided {
        Ok(true) => ffi::SQLITE_OK,
        Ok(false) | Err(_) => ffi::SQLITE_DENY,
    }
}

/// A C string of SQLite's, if it is there and UTF-8.
///
/// # Safety
///
/// `text` is null or a NUL-terminated string that outlives `'a`.
#[allow(unsafe_code)]
unsafe fn text<'a>(text: *const c_char) -> Option<&'a str> {
    if text.is_null() {
        return None;
    }
    // SAFETY: as the caller promises.
    unsafe { CStr::from_ptr(text) }.to_str().ok()
}
