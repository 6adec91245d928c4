//! The PostgreSQL drivers the backend runs over, behind one small trait:
//! the synchronous `postgres::Client`, whose calls block and are ready when
//! they return, and `tokio_postgres::Client`, whose calls are futures. The
//! backend (`Pg`) is written once, as `async` code over [`PgClient`]; both
//! drivers share tokio-postgres's types (rows, statements, errors).

use std::future::Future;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Error, Row, SimpleQueryMessage, Statement, ToStatement};

use crate::call::Call;

/// A parameter with the type the server should read it as.
pub(crate) type Typed<'p> = (&'p (dyn ToSql + Sync), Type);

/// What the backend asks of a PostgreSQL driver.
pub(crate) trait PgClient: Send {
    /// A backend method's body as the seam returns it: done now, for a
    /// blocking driver (each of its calls is ready), or a future.
    fn call<'a, T: 'a>(body: impl Future<Output = T> + Send + 'a) -> Call<'a, T>;

    /// Runs `sql` (any number of statements) by the simple protocol.
    fn batch_execute(&mut self, sql: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Runs `sql` by the simple protocol and returns its rows, as text.
    fn simple_query(
        &mut self,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<SimpleQueryMessage>, Error>> + Send;

    fn query<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;

    fn query_one<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, Error>> + Send;

    fn execute<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Parsed and run in one round trip (not prepared first).
    fn query_typed(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;

    fn query_typed_opt(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send;

    /// Runs one statement, parsed and run in one round trip; its rows are
    /// read and dropped, not kept.
    fn execute_typed(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    fn prepare(&mut self, sql: &str) -> impl Future<Output = Result<Statement, Error>> + Send;

    /// What a backend dropped part-way (a panic, a cancelled future) does
    /// to leave the connection as it found it: runs each of `cleanup` by
    /// the simple protocol, each on its own, errors dropped. A blocking
    /// driver runs them now. An async one queues them on the connection
    /// without waiting: the server runs them after the statement of
    /// strata's that may still run (as tokio-postgres lets any dropped
    /// query run to its end). Not cancelled: a cancel request travels on a
    /// connection of its own and could land on a later statement of the
    /// caller's instead.
    fn abandon(&mut self, cleanup: &[String]);
}

#[cfg(feature = "postgres")]
impl PgClient for postgres::Client {
    fn call<'a, T: 'a>(body: impl Future<Output = T> + Send + 'a) -> Call<'a, T> {
        Call::ready(crate::call::complete(body))
    }

    fn batch_execute(&mut self, sql: &str) -> impl Future<Output = Result<(), Error>> + Send {
        std::future::ready(postgres::Client::batch_execute(self, sql))
    }

    fn simple_query(
        &mut self,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<SimpleQueryMessage>, Error>> + Send {
        std::future::ready(postgres::Client::simple_query(self, sql))
    }

    fn query<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        std::future::ready(postgres::Client::query(self, statement, params))
    }

    fn query_one<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, Error>> + Send {
        std::future::ready(postgres::Client::query_one(self, statement, params))
    }

    fn execute<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        std::future::ready(postgres::Client::execute(self, statement, params))
    }

    fn query_typed(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        std::future::ready(postgres::Client::query_typed(self, sql, params))
    }

    fn query_typed_opt(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send {
        std::future::ready(postgres::Client::query_typed_opt(self, sql, params))
    }

    fn execute_typed(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        std::future::ready(postgres::Client::execute_typed(self, sql, params))
    }

    fn prepare(&mut self, sql: &str) -> impl Future<Output = Result<Statement, Error>> + Send {
        std::future::ready(postgres::Client::prepare(self, sql))
    }

    fn abandon(&mut self, cleanup: &[String]) {
        for sql in cleanup {
            let _ = postgres::Client::batch_execute(self, sql);
        }
    }
}

#[cfg(feature = "tokio-postgres")]
impl PgClient for tokio_postgres::Client {
    fn call<'a, T: 'a>(body: impl Future<Output = T> + Send + 'a) -> Call<'a, T> {
        Call::later(body)
    }

    fn batch_execute(&mut self, sql: &str) -> impl Future<Output = Result<(), Error>> + Send {
        tokio_postgres::Client::batch_execute(self, sql)
    }

    fn simple_query(
        &mut self,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<SimpleQueryMessage>, Error>> + Send {
        tokio_postgres::Client::simple_query(self, sql)
    }

    fn query<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        tokio_postgres::Client::query(self, statement, params)
    }

    fn query_one<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, Error>> + Send {
        tokio_postgres::Client::query_one(self, statement, params)
    }

    fn execute<T: ?Sized + ToStatement + Sync>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        tokio_postgres::Client::execute(self, statement, params)
    }

    fn query_typed(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        tokio_postgres::Client::query_typed(self, sql, params)
    }

    fn query_typed_opt(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send {
        tokio_postgres::Client::query_typed_opt(self, sql, params)
    }

    fn execute_typed(
        &mut self,
        sql: &str,
        params: &[Typed<'_>],
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        tokio_postgres::Client::execute_typed(self, sql, params)
    }

    fn prepare(&mut self, sql: &str) -> impl Future<Output = Result<Statement, Error>> + Send {
        tokio_postgres::Client::prepare(self, sql)
    }

    fn abandon(&mut self, cleanup: &[String]) {
        for sql in cleanup {
            // tokio-postgres queues a request on the connection's channel
            // the first time its future is polled, before it waits for any
            // answer; the connection task sends it and drops the answer
            // nobody reads. One poll here does just that.
            let mut request = std::pin::pin!(tokio_postgres::Client::batch_execute(self, sql));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let _ = request.as_mut().poll(&mut cx);
        }
    }
}
