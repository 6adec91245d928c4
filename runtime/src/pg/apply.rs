//! Running a migration's file, and putting the session back after it.

use super::{Pg, PgClient, catalog, session, verify};
use crate::backend::refuse_in_transaction;
use crate::call::Call;
use crate::history::SequenceValues;
use crate::source::Direction;
use crate::source::sql::{self, Dialect, PgStrings};
use crate::{Error, Migration, Result};
use std::time::{Duration, Instant};

impl<C: PgClient> crate::backend::Apply for Pg<'_, C> {
    /// Inside strata's transaction, the whole file goes to the server in
    /// one round trip, which the server splits by its own grammar: the
    /// cost of `psql -1 -f` or of golang-migrate, not a round trip per
    /// statement. A savepoint around it lets strata find the failing
    /// statement when the server's error does not point at it.
    ///
    /// Outside a transaction (`-- strata:no-transaction`) each statement
    /// goes on its own, as psql sends them: a string of several statements
    /// would be one implicit transaction, which `CREATE INDEX CONCURRENTLY`
    /// refuses.
    fn execute<'a>(
        &'a mut self,
        m: &'a Migration,
        direction: Direction,
        file: &'a str,
        in_transaction: bool,
    ) -> Call<'a, Result<Duration>> {
        C::call(async move {
            if self.session.is_none() {
                self.session = Some(
                    session::read(&mut *self.client)
                        .await
                        .map_err(|e| self.db(e))?,
                );
            }
            self.changed_in_transaction = true;
            self.head_ahead = None;
            let text = m.sql(direction);
            // No lock outlives a statement outside a transaction, nor says what
            // a write to a catalog's rows changed; a function that may write
            // them may be called by any later file; counts turned off and on
            // again within a file miss what it did meanwhile.
            let writes = catalog::writes_catalog(text);
            self.catalog_function |= writes == catalog::Writes::Function;
            if let Some(described) = &mut self.described {
                if self.catalog_function {
                    described.note_always();
                }
                if writes != catalog::Writes::No
                    || !in_transaction
                    || sql::holds_words(text, &[b"track_counts"]) != 0
                {
                    described.note_everything();
                }
            }
            self.may_set = sql::holds_words(text, &[b"set"]) != 0;
            self.quick_now = None;
            // Only a backslash can read differently when the session's
            // strings are not standard-conforming.
            let backslash = text.contains('\\');
            let strings = if backslash {
                self.strings().await?
            } else {
                PgStrings::Standard
            };
            let started = Instant::now();
            if in_transaction {
                let lexed = sql::lex_with(text, Dialect::Postgres, strings);
                refuse_in_transaction(m, file, &lexed.statements)?;
                self.execute_file(m, file, text, strings, &lexed)
                    .await
                    .map_err(|e| self.table_lock_error(e, text))?;
            } else {
                // No `SET LOCAL` holds outside a transaction: the table lock
                // wait is set for the session, and `restore` puts the session's
                // own back after the file (a file that sets its own wins).
                if let Some(timeout) = self.table_lock_timeout {
                    let sql = format!("SET lock_timeout = '{}ms'", timeout.as_millis().max(1));
                    self.client
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| self.db(e))?;
                    self.may_set = true;
                }
                self.run_statements(m, file, text, strings, false)
                    .await
                    .map_err(|e| self.table_lock_error(e, text))?;
            }
            Ok(started.elapsed())
        })
    }

    /// After every file: whether the advisory lock is still held, and the
    /// cheap comparison of settings, in one statement (for a file inside
    /// strata's transaction, read already with the savepoint's release);
    /// the full comparison when that differs, or the file's text holds
    /// `set`.
    fn restore(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            let full = std::mem::take(&mut self.may_set);
            let quick_now = self.quick_now.take();
            let Some(saved) = &self.session else {
                return Ok(());
            };
            let now = match quick_now {
                Some(now) => now,
                None => session::quick(&mut *self.client, &self.quick_select).await?,
            };
            if self.locked.is_some() && !now.locked {
                // Nothing to unlock any more.
                self.locked = None;
                self.quick_select = session::quick_select(None);
                return Err(Error::LockReleased);
            }
            if !full && !session::quick_differs(saved, &now) {
                return Ok(());
            }
            // strata's own `SET LOCAL lock_timeout` holds until the commit.
            let held = match self.table_lock_timeout {
                Some(timeout) if self.in_transaction => {
                    Some(timeout.as_millis().max(1).to_string())
                }
                _ => None,
            };
            let local = held.as_deref().map(|ms| ("lock_timeout", ms));
            let restored =
                session::restore(&mut *self.client, saved, local, self.in_transaction).await?;
            for name in restored {
                log::debug!("put back setting {name}, which a migration changed");
                // Without counts, verify's description could not see what the
                // file changed: read everything at the next snapshot.
                if let (true, Some(described)) = (
                    name.eq_ignore_ascii_case("track_counts"),
                    &mut self.described,
                ) {
                    described.note_everything();
                }
            }
            Ok(())
        })
    }

    fn sequence_values(&mut self) -> Call<'_, Result<SequenceValues>> {
        C::call(async move {
            // `last_value` is read outside transactions, as it moves; NULL
            // for a sequence never used, or that this role may not read.
            let rows = self
                .client
                .query(
                    "SELECT format('%s.%s', quote_ident(schemaname), quote_ident(sequencename)), last_value
                     FROM pg_sequences ORDER BY 1",
                    &[],
                )
                .await
                .map_err(|e| self.db(e))?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn check_deferred(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            verify::checks_at_commit(&mut *self.client)
                .await
                .map_err(|e| self.db(e))
        })
    }
}

impl<C: PgClient> Pg<'_, C> {
    /// A migration's statement that waited for a table lock past the
    /// `lock_timeout` strata set is [`Error::TableLockTimeout`], which
    /// names the setting; not when the file sets `lock_timeout` itself, or
    /// asks for `NOWAIT`, where the limit was the file's own.
    pub(super) fn table_lock_error(&self, e: Error, text: &str) -> Error {
        match (e, self.table_lock_timeout) {
            (
                Error::Statement {
                    version,
                    file,
                    line,
                    statement,
                    in_transaction,
                    cause,
                },
                Some(timeout),
            ) if cause.is_lock_not_available()
                && sql::holds_words(text, &[b"lock_timeout", b"nowait"]) == 0 =>
            {
                Error::TableLockTimeout {
                    version,
                    file,
                    line,
                    statement,
                    timeout,
                    in_transaction,
                    cause,
                }
            }
            (e, _) => e,
        }
    }

    /// How the session reads strings now (`standard_conforming_strings`).
    pub(super) async fn strings(&mut self) -> Result<PgStrings> {
        let row = self
            .client
            .query_one(
                "SELECT current_setting('standard_conforming_strings') = 'on'",
                &[],
            )
            .await
            .map_err(|e| self.db(e))?;
        Ok(if row.get(0) {
            PgStrings::Standard
        } else {
            PgStrings::Escaped
        })
    }
}
