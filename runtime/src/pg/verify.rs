//! The PostgreSQL side of `verify`: where the round trips run, so that
//! nothing is ever left behind.
//!
//! In a scratch database (`verify_postgres_scratch`), created and dropped
//! by verify (see `scratch`), each migration commits as in `up`. Or inside
//! one transaction of the given connection that is always rolled back
//! (`Runner::verify` on a `Client`): a kill, a panic or an error leaves the database as
//! it was; the end of each migration is checked as its commit would be.
//! Either way the comparison covers every schema that is not the system's
//! (see `catalog`), so objects named with their schema (`public.users`, as
//! `pg_dump` writes them) are seen.

#[cfg(feature = "postgres")]
use postgres::tls::{MakeTlsConnect, TlsConnect};
#[cfg(feature = "postgres")]
use postgres::{Client, Config, Socket};
use tokio_postgres::error::SqlState;

#[cfg(feature = "postgres")]
use super::scratch::{ScratchDatabase, free_inside, scratch_key, scratch_name};
use super::scratch::{drop_leftovers, with_leftovers};
use super::{Pg, PgClient};
use crate::backend::Transactions;
use crate::error::VerifyFailure;
use crate::report::VerifyReport;
use crate::verify::{Next, Pass, Scratch};
use crate::{DEFAULT_LOCK_TIMEOUT, DatabaseError, Direction, Error, Migrations, Result};

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl Migrations {
    /// [`verify`](Migrations::verify) in a scratch
    /// database that verify creates on the server `config` names, and
    /// drops afterwards, also after an error or a panic: the way to verify
    /// a folder with migrations that run outside a transaction
    /// (`-- strata:no-transaction`), which a transaction cannot roll back.
    /// It works for any folder. The database `config` names is only
    /// connected to, to create and drop the scratch database.
    ///
    /// A verify that is killed leaves its scratch database (named
    /// `strata_verify_<process>_<nanoseconds>`); the next verify on that
    /// server drops it and names it in its report. One that is still
    /// running is left alone: it holds an advisory lock on its name.
    ///
    /// # Errors
    ///
    /// [`Error::ScratchDatabase`] when the role may not create or drop the
    /// scratch database (it needs `CREATEDB`), [`Error::VerifyFailed`] with
    /// every problem found, and database errors.
    pub fn verify_postgres_scratch<T>(&self, config: &Config, tls: T) -> Result<VerifyReport>
    where
        T: MakeTlsConnect<Socket> + Clone + 'static + Send,
        T::TlsConnect: Send,
        T::Stream: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        self.runner().verify_postgres_scratch(config, tls)
    }
}

impl Migrations {
    /// The first migration with a file that runs outside a transaction.
    fn first_outside_transaction(&self) -> Option<(u64, String)> {
        if !self.any_outside_transaction() {
            return None;
        }
        self.iter().find_map(|m| {
            [Direction::Up, Direction::Down]
                .into_iter()
                .find(|&d| m.no_transaction(d))
                .map(|d| (m.version(), self.file_path(m, d)))
        })
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl crate::Runner<'_> {
    /// [`Migrations::verify_postgres_scratch`] with this runner's history
    /// table ([`table`](crate::Runner::table)), which verify creates as `up` would.
    ///
    /// # Errors
    ///
    /// As [`Migrations::verify_postgres_scratch`].
    pub fn verify_postgres_scratch<T>(&self, config: &Config, tls: T) -> Result<VerifyReport>
    where
        T: MakeTlsConnect<Socket> + Clone + 'static + Send,
        T::TlsConnect: Send,
        T::Stream: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let mut admin = config.connect(tls.clone())?;
        let mut connect = |name: &str| config.clone().dbname(name).connect(tls.clone());
        let free = |name: &str, key: i64| free_inside(&mut connect, name, key);
        let leftovers = crate::call::complete(drop_leftovers(&mut admin, Some(free)))?;
        let mut scratch = InScratch {
            database: ScratchDatabase {
                admin,
                name: String::new(),
                key: 0,
                created: false,
                backend: None,
            },
            client: None,
            connect: &mut connect,
            table: &self.options.table,
            catalog_function: false,
        };
        let result = crate::call::complete(crate::verify::verify(self.migrations, &mut scratch));
        drop(scratch.client.take());
        let dropped_now = scratch.database.drop_now();
        if let (Err(_), Err(e)) = (&result, &dropped_now) {
            log::warn!("{e}");
        }
        with_leftovers(
            result.and_then(|report| dropped_now.map(|()| report)),
            leftovers,
        )
    }
}

/// verify inside one transaction of `client` that is always rolled back:
/// see [`Runner::verify`](crate::Runner::verify).
pub(super) async fn in_transaction(
    client: &mut impl PgClient,
    migrations: &Migrations,
    table: &str,
) -> Result<VerifyReport> {
    if let Some((version, file)) = migrations.first_outside_transaction() {
        return Err(Error::VerifyNeedsScratchDatabase {
            version,
            file,
            new_enum_value: false,
        });
    }
    Pg::new(&mut *client, table, DEFAULT_LOCK_TIMEOUT, None)
        .check_idle()
        .await?;
    let no_connect = None::<fn(&str, i64) -> Option<bool>>;
    let leftovers = drop_leftovers(client, no_connect).await?;
    // The guard first: a future dropped while `BEGIN` is on its way still
    // rolls back (with none open, PostgreSQL only warns).
    let mut outer = RolledBack { client, table };
    outer.client.batch_execute("BEGIN").await?;
    let result = crate::verify::verify(migrations, &mut outer).await;
    drop(outer);
    with_leftovers(needs_commits(migrations, result), leftovers)
}

/// A folder that failed because PostgreSQL allows a new enum value's use
/// only after its commit: say that it needs a scratch database (where a
/// file that adds and uses a value itself gets its own error, as in `up`).
fn needs_commits(migrations: &Migrations, result: Result<VerifyReport>) -> Result<VerifyReport> {
    let Err(Error::VerifyFailed(failures)) = &result else {
        return result;
    };
    let enum_value = failures.failures.iter().find_map(|failure| match failure {
        VerifyFailure::UpFailed { version, cause }
        | VerifyFailure::UpAgainFailed { version, cause }
            if matches!(
                &**cause,
                Error::Statement { cause: DatabaseError::Postgres(e), .. }
                    if e.code() == Some(&SqlState::UNSAFE_NEW_ENUM_VALUE_USAGE)
            ) =>
        {
            Some(*version)
        }
        _ => None,
    });
    match enum_value.and_then(|v| migrations.iter().find(|m| m.version() == v)) {
        Some(m) => Err(Error::VerifyNeedsScratchDatabase {
            version: m.version(),
            file: migrations.file_path(m, Direction::Up),
            new_enum_value: true,
        }),
        None => result,
    }
}

/// verify's scratch database in the transaction mode: one transaction of
/// the caller's connection, rolled back on every way out. It is never
/// renewed: a folder that would need it (a file outside a transaction)
/// is refused before.
struct RolledBack<'a, C: PgClient> {
    client: &'a mut C,
    table: &'a str,
}

impl<C: PgClient> Scratch for RolledBack<'_, C> {
    async fn run(&mut self, pass: Pass<'_>) -> Result<Next> {
        let mut db = Pg::new(&mut *self.client, self.table, DEFAULT_LOCK_TIMEOUT, None);
        db.nested = Some(0);
        db.in_transaction = true;
        pass.perform(&mut db).await
    }

    async fn renew(&mut self) -> Result<bool> {
        Ok(false)
    }
}

impl<C: PgClient> Drop for RolledBack<'_, C> {
    /// Also when verify's future is dropped part-way (an async driver
    /// queues it; the server runs it after what it runs now).
    fn drop(&mut self) {
        self.client.abandon(&["ROLLBACK".to_owned()]);
    }
}

/// verify's scratch database in the scratch mode: a database of its own,
/// created, and dropped when verify starts a new one or ends.
#[cfg(feature = "postgres")]
struct InScratch<'a> {
    database: ScratchDatabase,
    /// Connected to `database`, holding the advisory lock on its name.
    client: Option<Client>,
    connect: &'a mut dyn FnMut(&str) -> std::result::Result<Client, postgres::Error>,
    table: &'a str,
    /// See `Pg::catalog_function`: kept from one scratch database to the
    /// next.
    catalog_function: bool,
}

#[cfg(feature = "postgres")]
impl Scratch for InScratch<'_> {
    async fn run(&mut self, pass: Pass<'_>) -> Result<Next> {
        let mut client = match self.client.take() {
            Some(client) => client,
            None => self.create()?,
        };
        let mut db = Pg::new(&mut client, self.table, DEFAULT_LOCK_TIMEOUT, None);
        db.catalog_function = self.catalog_function;
        let next = pass.perform(&mut db).await;
        self.catalog_function = db.catalog_function;
        drop(db);
        self.client = Some(client);
        next
    }

    async fn renew(&mut self) -> Result<bool> {
        drop(self.client.take());
        self.client = Some(self.create()?);
        Ok(true)
    }
}

#[cfg(feature = "postgres")]
impl InScratch<'_> {
    /// Drops the scratch database, if any, and creates a new one: a
    /// connection to it.
    fn create(&mut self) -> Result<Client> {
        self.database.drop_now()?;
        self.database.name = scratch_name();
        self.database.key = scratch_key(&self.database.name);
        self.database
            .admin
            .execute("SELECT pg_advisory_lock($1)", &[&self.database.key])?;
        self.database.create()?;
        let mut client = (self.connect)(&self.database.name)?;
        // Held in the scratch database too, where a verify started from
        // another database looks (advisory locks are per database).
        client.execute("SELECT pg_advisory_lock($1)", &[&self.database.key])?;
        self.database.backend = Some(client.query_one("SELECT pg_backend_pid()", &[])?.get(0));
        Ok(client)
    }
}

/// Inside verify's one transaction, at the end of a migration: what its
/// commit would check. Deferred constraints and constraint triggers fire
/// now (an error here is the error the commit would give), then those
/// that are initially deferred are deferred again for the next migration.
pub(super) async fn checks_at_commit(
    client: &mut impl PgClient,
) -> std::result::Result<(), tokio_postgres::Error> {
    client
        .batch_execute("SET CONSTRAINTS ALL IMMEDIATE")
        .await?;
    // Typed: parsed and run in one round trip.
    let deferred: Option<String> = client
        .query_typed_opt(
            "SELECT string_agg(DISTINCT quote_ident(n.nspname) || '.' || quote_ident(con.conname), ', ')
             FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
             WHERE con.condeferred AND has_schema_privilege(n.oid, 'USAGE')",
            &[],
        )
        .await?
        .and_then(|row| row.get(0));
    if let Some(names) = deferred {
        client
            .batch_execute(&format!("SET CONSTRAINTS {names} DEFERRED"))
            .await?;
    }
    Ok(())
}
