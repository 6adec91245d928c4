//! The options of a run, as the operations and the backends read them, and
//! the constants behind their defaults.

use core::fmt;
use std::borrow::Cow;
use std::time::Duration;

/// The history table's name unless [`Runner::table`](crate::Runner::table) says otherwise.
pub const DEFAULT_TABLE: &str = "schema_migrations";

/// How long a run waits for another connection's write lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// On PostgreSQL, how long a migration's statement waits for a table lock
/// by default.
pub const DEFAULT_TABLE_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest lock timeout the databases take, 2^31 - 1 milliseconds
/// (about 24.8 days): SQLite's busy timeout and PostgreSQL's `lock_timeout`
/// are 32-bit counts of milliseconds.
pub const MAX_LOCK_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// A duration as people read it in a migration log.
pub(crate) struct Millis(pub Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_secs_f64() * 1000.0;
        if ms < 10.0 {
            write!(f, "{ms:.1} ms")
        } else if ms < 10_000.0 {
            write!(f, "{ms:.0} ms")
        } else {
            write!(f, "{:.1} s", ms / 1000.0)
        }
    }
}

/// What a [`Runner`](crate::Runner) was told: everything an operation and a
/// backend need besides the migrations.
#[derive(Debug, Clone)]
pub struct Options {
    pub table: Cow<'static, str>,
    pub single_transaction: bool,
    pub lock_timeout: Duration,
    pub target: Option<u64>,
    pub allow_out_of_order: bool,
    pub allow_newer: bool,
    pub dry_run: bool,
    pub table_lock_timeout: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            table: Cow::Borrowed(DEFAULT_TABLE),
            single_transaction: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            target: None,
            allow_out_of_order: false,
            allow_newer: false,
            dry_run: false,
            table_lock_timeout: Some(DEFAULT_TABLE_LOCK_TIMEOUT),
        }
    }
}
