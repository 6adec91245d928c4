//! The SQLite drivers, for the suites that run a test with each driver
//! built: [`LiteDriver`], a connection of either ([`LiteConn`]), which
//! [`Operations`] drive. Tests read what a run left through a
//! `rusqlite::Connection` of their own, whatever the driver.

use std::path::Path;

#[allow(unused_imports)] // for the suites that name it from here
pub use super::operate::Operations;
use super::operate::{Drive, Driven};
use strata::rusqlite::Connection;

/// The SQLite drivers strata migrates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteDriver {
    /// `rusqlite::Connection`, through the synchronous operations.
    Rusqlite,
    /// sqlx's `SqliteConnection`, through the `_async` operations.
    #[cfg(feature = "sqlx-sqlite")]
    Sqlx,
}

impl LiteDriver {
    /// Every driver built.
    pub const ALL: &[LiteDriver] = &[
        LiteDriver::Rusqlite,
        #[cfg(feature = "sqlx-sqlite")]
        LiteDriver::Sqlx,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LiteDriver::Rusqlite => "rusqlite",
            #[cfg(feature = "sqlx-sqlite")]
            LiteDriver::Sqlx => "sqlx",
        }
    }

    /// The driver of that name (a child process's variable); rusqlite when
    /// none is named. A name of no driver built is a mistake of the test's.
    pub fn named(name: &str) -> LiteDriver {
        if name.is_empty() {
            return LiteDriver::Rusqlite;
        }
        LiteDriver::ALL
            .iter()
            .copied()
            .find(|d| d.name() == name)
            .unwrap_or_else(|| panic!("no SQLite driver {name:?} is built"))
    }
}

/// Runs each named test function (which takes a [`LiteDriver`]) once per
/// driver: `mod rusqlite_driver` and `mod sqlx_driver`.
#[macro_export]
macro_rules! for_each_lite_driver {
    ($($test:ident),* $(,)?) => {
        mod rusqlite_driver {
            $(
                #[test]
                fn $test() {
                    super::$test($crate::common::lite::LiteDriver::Rusqlite)
                }
            )*
        }
        #[cfg(feature = "sqlx-sqlite")]
        mod sqlx_driver {
            $(
                #[test]
                fn $test() {
                    super::$test($crate::common::lite::LiteDriver::Sqlx)
                }
            )*
        }
    };
}

/// An sqlx connection with the runtime that runs its operations, as in a
/// service.
#[cfg(feature = "sqlx-sqlite")]
pub struct SqlxConn {
    pub runtime: tokio::runtime::Runtime,
    pub conn: sqlx::SqliteConnection,
}

#[cfg(feature = "sqlx-sqlite")]
impl SqlxConn {
    pub fn connect(options: sqlx::sqlite::SqliteConnectOptions) -> SqlxConn {
        use sqlx::ConnectOptions;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let conn = runtime.block_on(options.connect()).unwrap();
        SqlxConn { runtime, conn }
    }
}

/// A connection of one SQLite driver.
pub enum LiteConn {
    Rusqlite(Connection),
    #[cfg(feature = "sqlx-sqlite")]
    Sqlx(SqlxConn),
}

impl LiteConn {
    /// A connection to the database file at `path` (created if missing).
    pub fn open(path: &Path, driver: LiteDriver) -> LiteConn {
        match driver {
            LiteDriver::Rusqlite => LiteConn::Rusqlite(Connection::open(path).unwrap()),
            #[cfg(feature = "sqlx-sqlite")]
            LiteDriver::Sqlx => LiteConn::Sqlx(SqlxConn::connect(
                sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true),
            )),
        }
    }

    /// A connection to a new in-memory database (what verify takes).
    pub fn memory(driver: LiteDriver) -> LiteConn {
        match driver {
            LiteDriver::Rusqlite => LiteConn::Rusqlite(Connection::open_in_memory().unwrap()),
            #[cfg(feature = "sqlx-sqlite")]
            LiteDriver::Sqlx => LiteConn::Sqlx(SqlxConn::connect(
                sqlx::sqlite::SqliteConnectOptions::new().in_memory(true),
            )),
        }
    }

    /// Runs `sql` (one or more statements) on this connection.
    pub fn execute_batch(&mut self, sql: &str) {
        self.try_execute_batch(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// [`execute_batch`](LiteConn::execute_batch), with the driver's error
    /// in words.
    pub fn try_execute_batch(&mut self, sql: &str) -> Result<(), String> {
        match self {
            LiteConn::Rusqlite(conn) => conn.execute_batch(sql).map_err(|e| e.to_string()),
            #[cfg(feature = "sqlx-sqlite")]
            LiteConn::Sqlx(s) => s
                .runtime
                .block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut s.conn))
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    /// The first column of the first row of `sql`, an integer.
    pub fn integer(&mut self, sql: &str) -> i64 {
        match self {
            LiteConn::Rusqlite(conn) => conn.query_row(sql, [], |r| r.get(0)).unwrap(),
            #[cfg(feature = "sqlx-sqlite")]
            LiteConn::Sqlx(s) => s
                .runtime
                .block_on(
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                        .fetch_one(&mut s.conn),
                )
                .unwrap(),
        }
    }
}

impl Drive for LiteConn {
    fn driven(&mut self) -> Driven<'_> {
        match self {
            LiteConn::Rusqlite(conn) => Driven::Sync(conn),
            #[cfg(feature = "sqlx-sqlite")]
            LiteConn::Sqlx(s) => Driven::Async(&s.runtime, &mut s.conn),
        }
    }
}
