//! The connection's transactions, its settings around a run, and strata's
//! advisory lock.

use super::{Pg, PgClient, session, verify};
use crate::backend::Apply;
use crate::call::Call;
use crate::source::sql::Dialect;
use crate::{DatabaseError, Error, Result};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

impl<C: PgClient> crate::backend::Transactions for Pg<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn location(&self) -> String {
        "the PostgreSQL database".to_owned()
    }

    fn history_table(&self) -> String {
        self.display()
    }

    fn check_idle(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            // Inside a transaction block, the transaction began before this
            // statement; outside, each statement is its own transaction. (The
            // simple protocol: one message, so one statement time.)
            let messages = self
                .client
                .simple_query("SELECT transaction_timestamp() = statement_timestamp()")
                .await
                .map_err(|e| self.db(e))?;
            let idle = messages.iter().any(
                |m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t")),
            );
            if idle {
                Ok(())
            } else {
                Err(Error::InTransaction)
            }
        })
    }

    fn read_only(&mut self) -> Call<'_, Result<bool>> {
        C::call(async move {
            let row = self
                .client
                .query_one(
                    "SELECT current_setting('transaction_read_only') = 'on'",
                    &[],
                )
                .await
                .map_err(|e| self.db(e))?;
            Ok(row.get(0))
        })
    }

    /// Takes the advisory lock, trying again with growing pauses until the
    /// lock wait runs out. The pauses are the server's (`pg_sleep`), so
    /// that the same code waits on a blocking and on an async connection,
    /// which needs no timer of the caller's runtime.
    fn enter(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            let key = self.lock_key().await?;
            let started = Instant::now();
            let mut pause = Duration::ZERO;
            self.locking = Some(key);
            loop {
                // Also the session's statement_timeout (ms; 0: none), which
                // each pause must stay below.
                let row = self
                    .client
                    .query_one(
                        "SELECT pg_sleep($2), pg_try_advisory_lock($1),
                                (SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout')",
                        &[&key, &pause.as_secs_f64()],
                    )
                    .await
                    .map_err(|e| self.db(e))?;
                let statement_timeout: i64 = row.get(2);
                if row.get(1) {
                    // Held twice, so that the check after each file can give
                    // one hold back and take it again without ever letting the
                    // lock go (see `session::quick_select`).
                    self.client
                        .execute("SELECT pg_advisory_lock($1)", &[&key])
                        .await
                        .map_err(|e| self.db(e))?;
                    self.locked = Some(key);
                    self.locking = None;
                    self.quick_select = session::quick_select(Some(key));
                    self.session = Some(
                        session::read(&mut *self.client)
                            .await
                            .map_err(|e| self.db(e))?,
                    );
                    return Ok(());
                }
                let waited = started.elapsed();
                if waited >= self.lock_timeout {
                    self.locking = None;
                    return Err(Error::Locked {
                        waited: self.lock_timeout,
                    });
                }
                // Polling is what pg_try_advisory_lock asks for: the blocking
                // form cannot time out.
                pause = (pause * 2)
                    .clamp(Duration::from_millis(5), Duration::from_millis(250))
                    .min(self.lock_timeout - waited);
                if let Ok(ms @ 1..) = u64::try_from(statement_timeout) {
                    pause = pause.min(Duration::from_millis(ms) / 2);
                }
            }
        })
    }

    /// Puts back the settings a file changed (after a failure too), then
    /// releases the lock.
    fn leave(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            self.rollback().await;
            self.may_set = true;
            let restored = self.restore().await;
            self.session = None;
            let unlocked = self.unlock().await;
            restored.and(unlocked)
        })
    }

    fn run_in_progress(&mut self) -> Call<'_, bool> {
        C::call(async move {
            if self.locked.is_some() {
                return false;
            }
            let Ok(key) = self.lock_key().await else {
                return false;
            };
            // A bigint key is held as two oids: its high and its low half.
            self.client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks
                        WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                          AND classid = (($1::bigint >> 32) & 4294967295)::oid
                          AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1)",
                    &[&key],
                )
                .await
                .is_ok_and(|row| row.get(0))
        })
    }

    fn begin(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            if let Some(open) = &mut self.nested {
                *open += 1;
                // Each migration starts with the constraints' own modes, as
                // after a commit (a rolled-back step does not restore them).
                if *open == 1 {
                    verify::checks_at_commit(&mut *self.client)
                        .await
                        .map_err(|e| Error::Database(DatabaseError::Postgres(e)))?;
                }
                return self
                    .client
                    .batch_execute("SAVEPOINT strata_step")
                    .await
                    .map_err(|e| Error::Database(DatabaseError::Postgres(e)));
            }
            let mut sql = "BEGIN".to_owned();
            if let Some(timeout) = self.table_lock_timeout {
                sql.push_str(&format!(
                    "; SET LOCAL lock_timeout = '{}ms'",
                    timeout.as_millis().max(1)
                ));
            }
            self.head_ahead = None;
            // Where the history table is known, the step's history read
            // goes in the same message: one round trip, not three.
            if self.table_known && self.locked.is_some() {
                let with_read = format!("{sql}; {}", self.ahead_sql());
                match self.client.simple_query(&with_read).await {
                    Ok(messages) => {
                        self.in_transaction = true;
                        self.head_ahead = Some(Self::ahead_of(&messages));
                        return Ok(());
                    }
                    // A migration dropped or changed the table: the
                    // transaction failed with the read; begin again, and
                    // `read_head` looks at what is there first.
                    Err(e)
                        if e.code() == Some(&SqlState::UNDEFINED_TABLE)
                            || e.code() == Some(&SqlState::UNDEFINED_COLUMN) =>
                    {
                        self.table_known = false;
                        self.client
                            .batch_execute("ROLLBACK")
                            .await
                            .map_err(|e| self.db(e))?;
                    }
                    Err(e) => {
                        let _ = self.client.batch_execute("ROLLBACK").await;
                        return Err(self.db(e));
                    }
                }
            }
            self.client
                .batch_execute(&sql)
                .await
                .map_err(|e| self.db(e))?;
            self.in_transaction = true;
            Ok(())
        })
    }

    fn commit(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            if let Some(open) = &mut self.nested {
                *open = open.saturating_sub(1);
                // What the commit of a migration would check; a failure undoes
                // the step, as the commit's would.
                let checked = if *open == 0 {
                    verify::checks_at_commit(&mut *self.client).await
                } else {
                    Ok(())
                };
                let end = if checked.is_ok() {
                    "RELEASE SAVEPOINT strata_step"
                } else {
                    "ROLLBACK TO SAVEPOINT strata_step; RELEASE SAVEPOINT strata_step"
                };
                let ended = self.client.batch_execute(end).await;
                return checked
                    .and(ended)
                    .map_err(|e| Error::Database(DatabaseError::Postgres(e)));
            }
            if self.described.is_some() && self.changed_in_transaction {
                // What a deferred trigger does at the commit (DDL too), done
                // now, so that the locks it takes are noted: the same as the
                // commit would do, and its error is the commit's.
                if let Err(e) = self
                    .client
                    .batch_execute("SET CONSTRAINTS ALL IMMEDIATE")
                    .await
                {
                    self.rollback().await;
                    return Err(self.db(e));
                }
            }
            self.note_touched().await;
            self.in_transaction = false;
            self.head_ahead = None;
            self.client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| self.db(e))
        })
    }

    fn rollback(&mut self) -> Call<'_, ()> {
        C::call(async move {
            if let Some(open) = &mut self.nested {
                // Only a step that is open: a ROLLBACK TO a savepoint that does
                // not exist would end the outer transaction's use.
                if *open > 0 {
                    *open -= 1;
                    let _ = self
                        .client
                        .batch_execute(
                            "ROLLBACK TO SAVEPOINT strata_step; RELEASE SAVEPOINT strata_step",
                        )
                        .await;
                }
                return;
            }
            self.note_touched().await;
            self.head_ahead = None;
            // Also ends a transaction that a no-transaction file left open; with
            // none open, PostgreSQL only warns.
            let _ = self.client.batch_execute("ROLLBACK").await;
            self.in_transaction = false;
        })
    }

    fn in_transaction(&mut self) -> Call<'_, bool> {
        Call::ready(self.in_transaction)
    }
}

impl<C: PgClient> Pg<'_, C> {
    /// Fixes the history table's schema, unless it was named: the one
    /// current now, at the start of a run that changes anything. From here
    /// on every history statement names it, whatever search path a
    /// migration sets, and whatever temporary table shadows the name.
    /// Returns the key of the advisory lock: the database, the schema and
    /// the table, so that two applications in one server, or two schemas,
    /// do not wait for each other (the same key as strata's before the
    /// schema was named, so that old and new replicas exclude each other).
    pub(super) async fn lock_key(&mut self) -> Result<i64> {
        // Also: where a history table of this name is on the search path,
        // when not in the current schema.
        let row = self
            .client
            .query_one(
                "SELECT current_database()::text, current_schema()::text,
                        (SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.relname = $1 AND c.relkind IN ('r', 'p')
                           AND n.nspname = ANY (current_schemas(false))
                         ORDER BY n.nspname IS DISTINCT FROM current_schema(),
                                  array_position(current_schemas(false), n.nspname)
                         LIMIT 1)",
                &[&self.name],
            )
            .await
            .map_err(|e| self.db(e))?;
        let database: String = row.get(0);
        if self.schema.is_none() {
            let current = self.fix_schema(row.get(1))?;
            // The history stays where it is: a database whose search path
            // changed (ALTER DATABASE ... SET search_path, a schema named
            // like the role) must not start a second history.
            if let Some(found) = row.get::<_, Option<String>>(2)
                && found != current
            {
                self.schema = None;
                self.table = self.quoted();
                return Err(Error::HistoryTableElsewhere {
                    table: self.name.clone(),
                    current,
                    found,
                });
            }
        }
        let schema = self.schema.clone().unwrap_or_default();
        let mut hasher = Sha256::new();
        for part in ["strata", &database, &schema, &self.name] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        Ok(i64::from_be_bytes(key))
    }

    /// Releases the advisory lock: both holds (see `enter`).
    pub(super) async fn unlock(&mut self) -> Result<()> {
        self.quick_select = session::quick_select(None);
        self.table_known = false;
        let Some(key) = self.locked else {
            return Ok(());
        };
        // One message, sent when the future is first polled; `locked`
        // stays set until it is done, so that a future dropped meanwhile
        // still releases the lock (see `Drop`: a hold released twice only
        // warns).
        let unlocked = self
            .client
            .batch_execute(&format!(
                "SELECT pg_advisory_unlock({key}), pg_advisory_unlock({key})"
            ))
            .await;
        self.locked = None;
        unlocked.map_err(|e| self.db(e))
    }
}
