//! verify's scratch databases on PostgreSQL: their names, the advisory
//! lock a running verify holds on its own, and the cleanup of those that a
//! killed verify left.

use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;

use super::{PgClient, quote_identifier};
#[cfg(feature = "postgres")]
use crate::DatabaseError;
use crate::report::VerifyReport;
use crate::{Error, Result};

/// The names of scratch databases: this prefix, the process id and a clock
/// reading.
pub(super) const SCRATCH: &str = "strata_verify";

/// Scratch databases that killed verifies left: those dropped, and those
/// still in use.
#[derive(Default)]
pub(super) struct Leftovers {
    dropped: Vec<String>,
    in_use: Vec<String>,
    not_dropped: Vec<String>,
}

/// The leftovers, in the report or in the failure's.
pub(super) fn with_leftovers(
    result: Result<VerifyReport>,
    leftovers: Leftovers,
) -> Result<VerifyReport> {
    let fill = |report: &mut VerifyReport| {
        report.dropped = leftovers.dropped;
        report.in_use = leftovers.in_use;
        report.not_dropped = leftovers.not_dropped;
    };
    match result {
        Ok(mut report) => {
            fill(&mut report);
            Ok(report)
        }
        Err(Error::VerifyFailed(mut failures)) => {
            fill(&mut failures.report);
            Err(Error::VerifyFailed(failures))
        }
        Err(e) => Err(e),
    }
}

/// A name no other verify uses at the same time.
#[cfg(feature = "postgres")]
pub(super) fn scratch_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{SCRATCH}_{}_{nanos}", std::process::id())
}

/// The advisory lock that a verify holds on its scratch database's name
/// while it uses it.
pub(super) fn scratch_key(name: &str) -> i64 {
    let mut hasher = Sha256::new();
    for part in [SCRATCH, name] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let mut key = [0u8; 8];
    key.copy_from_slice(&hasher.finalize()[..8]);
    i64::from_be_bytes(key)
}

/// Opens a session in a database of the same server, by name.
#[cfg(feature = "postgres")]
pub(super) type Connect<'a> =
    &'a mut dyn FnMut(&str) -> std::result::Result<postgres::Client, postgres::Error>;

/// Drops the scratch databases that killed verifies left. A verify that
/// runs holds an advisory lock on its database's name, in the database it
/// started from and in the scratch database (advisory locks are per
/// database). With `free_inside` (whether the lock on a name is free
/// inside the database of that name: `None` when it cannot be opened), a
/// leftover whose locks are free is dropped `WITH (FORCE)`: the session of
/// a killed verify may still be finishing a statement. Without, only one
/// that no session uses.
pub(super) async fn drop_leftovers(
    client: &mut impl PgClient,
    mut free_inside: Option<impl FnMut(&str, i64) -> Option<bool>>,
) -> Result<Leftovers> {
    let pattern = format!("^{SCRATCH}_[0-9]+_[0-9]+$");
    let names: Vec<String> = client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname ~ $1 ORDER BY 1",
            &[&pattern],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut leftovers = Leftovers::default();
    for name in names {
        let key = scratch_key(&name);
        // A verify that runs holds the lock in the database it started
        // from before its scratch database exists, in whatever database
        // that is, and inside it: `pg_locks` shows every database's. One
        // from this database is not named.
        let held: Option<bool> = client
            .query_one(
                "SELECT bool_or(l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))
                 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
                     AND l.classid = (($1::bigint >> 32) & 4294967295)::text::oid
                     AND l.objid = ($1::bigint & 4294967295)::text::oid AND l.objsubid = 1",
                &[&key],
            )
            .await?
            .get(0);
        match held {
            Some(true) => continue,
            Some(false) => {
                leftovers.in_use.push(name);
                continue;
            }
            None => {}
        }
        let free: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?
            .get(0);
        if !free {
            // A verify that runs, from this database.
            continue;
        }
        let quoted = quote_identifier(&name);
        let result = match free_inside.as_mut().map(|free| free(&name, key)) {
            Some(Some(true)) => drop_database(client, &quoted, true).await,
            Some(Some(false)) => Ok(Dropped::InUse),
            // Not open to this role: only if no session uses it.
            Some(None) | None => drop_database(client, &quoted, false).await,
        };
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&key])
            .await?;
        match result {
            Ok(Dropped::Gone) => {}
            Ok(Dropped::Now) => {
                log::warn!(
                    "dropped the scratch database {name}, left by a verify that was interrupted"
                );
                leftovers.dropped.push(name);
            }
            Ok(Dropped::InUse) => leftovers.in_use.push(name),
            Err(e) => {
                let message = e
                    .as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned());
                leftovers.not_dropped.push(format!("{name} ({message})"));
            }
        }
    }
    Ok(leftovers)
}

/// Whether the lock on `name` is free inside the database `name`: `None`
/// when that database cannot be opened.
#[cfg(feature = "postgres")]
pub(super) fn free_inside(connect: Connect<'_>, name: &str, key: i64) -> Option<bool> {
    let mut inside = connect(name).ok()?;
    let row = inside
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .ok()?;
    Some(row.get(0))
}

/// What became of a leftover.
enum Dropped {
    Now,
    /// Sessions still use it.
    InUse,
    /// It was gone already (its own verify dropped it meanwhile).
    Gone,
}

/// `DROP DATABASE`, `WITH (FORCE)` where asked and the server has it
/// (PostgreSQL 13).
async fn drop_database(
    client: &mut impl PgClient,
    quoted: &str,
    force: bool,
) -> std::result::Result<Dropped, tokio_postgres::Error> {
    // Not IF EXISTS: one that its own verify dropped meanwhile was not
    // left behind.
    let plain = format!("DROP DATABASE {quoted}");
    let result = if force {
        match client.batch_execute(&format!("{plain} WITH (FORCE)")).await {
            Err(e) if e.code() == Some(&SqlState::SYNTAX_ERROR) => {
                client.batch_execute(&plain).await
            }
            other => other,
        }
    } else {
        client.batch_execute(&plain).await
    };
    match result {
        Ok(()) => Ok(Dropped::Now),
        Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) => Ok(Dropped::InUse),
        Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => Ok(Dropped::Gone),
        Err(e) => Err(e),
    }
}

/// The scratch database, dropped on every way out; its name's advisory
/// lock is held on `admin` until then.
#[cfg(feature = "postgres")]
pub(super) struct ScratchDatabase {
    pub(super) admin: postgres::Client,
    pub(super) name: String,
    pub(super) key: i64,
    pub(super) created: bool,
    /// The server process of verify's own connection to it, once made.
    pub(super) backend: Option<i32>,
}

#[cfg(feature = "postgres")]
impl ScratchDatabase {
    pub(super) fn create(&mut self) -> Result<()> {
        let sql = format!("CREATE DATABASE {}", quote_identifier(&self.name));
        self.admin
            .batch_execute(&sql)
            .map_err(|e| Error::ScratchDatabase {
                database: self.name.clone(),
                created: false,
                cause: DatabaseError::Postgres(e),
            })?;
        self.created = true;
        Ok(())
    }

    /// Drops the database now; an error says so.
    pub(super) fn drop_now(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.created) {
            return Ok(());
        }
        // Verify's own connection, closed before, may not have ended yet:
        // wait for its server process (PostgreSQL 14 and later), or
        // DROP would wait for it in steps of 100 ms.
        if let Some(pid) = self.backend.take() {
            let _ = self.admin.query(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE pid = $1 AND datname = $2",
                &[&pid, &self.name],
            );
        }
        // With FORCE (PostgreSQL 13), for a server process that is still
        // there.
        let plain = format!("DROP DATABASE IF EXISTS {}", quote_identifier(&self.name));
        let result = match self.admin.batch_execute(&format!("{plain} WITH (FORCE)")) {
            Err(e) if e.code() == Some(&SqlState::SYNTAX_ERROR) => self.admin.batch_execute(&plain),
            other => other,
        };
        let _ = self
            .admin
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key]);
        result.map_err(|e| Error::ScratchDatabase {
            database: self.name.clone(),
            created: true,
            cause: DatabaseError::Postgres(e),
        })
    }
}

#[cfg(feature = "postgres")]
impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.drop_now() {
            log::warn!("{e}");
        }
    }
}
