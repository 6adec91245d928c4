//! The PostgreSQL drivers, for the suites that run each test with every
//! driver built: [`Driver`], a connection of either ([`Conn`]), and
//! strata's operations on it ([`Operations`], shared with SQLite's drivers).

use super::pg::Sql;
pub use super::pg::TestDb;
use strata::postgres::{Client, NoTls};

impl TestDb {
    /// A new, empty database for `test` with `driver`: its name tells the
    /// drivers apart, so that both runs of a test can run at once.
    pub fn with_driver(test: &str, driver: Driver) -> Option<TestDb> {
        TestDb::new(&format!("{test}_{}", driver.name()))
    }

    /// A connection with `driver`.
    pub fn conn(&self, driver: Driver) -> Conn {
        Conn::connect(&self.url, driver)
    }
}

/// The PostgreSQL drivers strata migrates with. The suites run their tests
/// with each driver built (a parameter, not a copy of the test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The synchronous `postgres::Client`.
    Postgres,
    /// `tokio_postgres::Client`, through the `_async` operations.
    #[cfg(feature = "tokio-postgres")]
    TokioPostgres,
}

impl Driver {
    /// Every driver built.
    pub const ALL: &[Driver] = &[
        Driver::Postgres,
        #[cfg(feature = "tokio-postgres")]
        Driver::TokioPostgres,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Driver::Postgres => "pg",
            #[cfg(feature = "tokio-postgres")]
            Driver::TokioPostgres => "tokio",
        }
    }
}

/// Runs each named test function (which takes a [`Driver`]) once per
/// driver: `mod postgres_driver` and `mod tokio_postgres_driver`.
#[macro_export]
macro_rules! for_each_driver {
    ($($test:ident),* $(,)?) => {
        mod postgres_driver {
            $(
                #[test]
                fn $test() {
                    super::$test($crate::common::drivers::Driver::Postgres)
                }
            )*
        }
        #[cfg(feature = "tokio-postgres")]
        mod tokio_postgres_driver {
            $(
                #[test]
                fn $test() {
                    super::$test($crate::common::drivers::Driver::TokioPostgres)
                }
            )*
        }
    };
}

/// A tokio-postgres client with the runtime that drives it, its connection
/// a task on that runtime, as in a service.
#[cfg(feature = "tokio-postgres")]
pub struct TokioConn {
    pub runtime: tokio::runtime::Runtime,
    pub client: strata::tokio_postgres::Client,
}

#[cfg(feature = "tokio-postgres")]
impl TokioConn {
    pub fn connect(url: &str) -> TokioConn {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
            tokio::spawn(connection);
            client
        });
        TokioConn { runtime, client }
    }
}

/// A connection of one driver. SQL through it blocks, with the methods of
/// `postgres::Client`; strata's operations go through [`On`].
pub enum Conn {
    Postgres(Client),
    #[cfg(feature = "tokio-postgres")]
    Tokio(TokioConn),
}

type PgResult<T> = Result<T, strata::postgres::Error>;
type Params<'a> = &'a [&'a (dyn strata::postgres::types::ToSql + Sync)];

impl Conn {
    pub fn connect(url: &str, driver: Driver) -> Conn {
        match driver {
            Driver::Postgres => Conn::Postgres(Client::connect(url, NoTls).unwrap()),
            #[cfg(feature = "tokio-postgres")]
            Driver::TokioPostgres => Conn::Tokio(TokioConn::connect(url)),
        }
    }

    pub fn batch_execute(&mut self, sql: &str) -> PgResult<()> {
        match self {
            Conn::Postgres(c) => c.batch_execute(sql),
            #[cfg(feature = "tokio-postgres")]
            Conn::Tokio(t) => t.runtime.block_on(t.client.batch_execute(sql)),
        }
    }

    pub fn query(&mut self, sql: &str, params: Params<'_>) -> PgResult<Vec<strata::postgres::Row>> {
        match self {
            Conn::Postgres(c) => c.query(sql, params),
            #[cfg(feature = "tokio-postgres")]
            Conn::Tokio(t) => t.runtime.block_on(t.client.query(sql, params)),
        }
    }

    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> PgResult<strata::postgres::Row> {
        match self {
            Conn::Postgres(c) => c.query_one(sql, params),
            #[cfg(feature = "tokio-postgres")]
            Conn::Tokio(t) => t.runtime.block_on(t.client.query_one(sql, params)),
        }
    }

    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> PgResult<u64> {
        match self {
            Conn::Postgres(c) => c.execute(sql, params),
            #[cfg(feature = "tokio-postgres")]
            Conn::Tokio(t) => t.runtime.block_on(t.client.execute(sql, params)),
        }
    }

    pub fn simple_query(
        &mut self,
        sql: &str,
    ) -> PgResult<Vec<strata::postgres::SimpleQueryMessage>> {
        match self {
            Conn::Postgres(c) => c.simple_query(sql),
            #[cfg(feature = "tokio-postgres")]
            Conn::Tokio(t) => t.runtime.block_on(t.client.simple_query(sql)),
        }
    }
}

impl Sql for Conn {
    fn rows(&mut self, sql: &str) -> Vec<strata::postgres::Row> {
        self.query(sql, &[]).unwrap()
    }
}

#[allow(unused_imports)] // for the suites that name it from here
pub use super::operate::Operations;

impl super::operate::Drive for Conn {
    fn driven(&mut self) -> super::operate::Driven<'_> {
        match self {
            Conn::Postgres(client) => super::operate::Driven::Sync(client),
            #[cfg(feature = "tokio-postgres")]
            Conn::Tokio(t) => super::operate::Driven::Async(&t.runtime, &mut t.client),
        }
    }
}
