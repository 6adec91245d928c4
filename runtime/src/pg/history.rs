//! The history table: its rows, its creation, and another tool's table.

use super::{Pg, PgClient, quote_identifier, quote_literal, version_param};
use crate::backend::Transactions;
use crate::call::Call;
use crate::dialect::{POSTGRES, POSTGRES_COLUMN_TYPES};
use crate::history::{AppliedMigration, COLUMNS, Foreign, ForeignRow, Head, NewRow, TableState};
use crate::{Checksum, Error, ForeignTable, Result};
use std::time::Duration;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

impl<C: PgClient> crate::backend::HistoryStore for Pg<'_, C> {
    fn read_head(&mut self) -> Call<'_, Result<TableState>> {
        C::call(async move {
            // Read with the transaction's `BEGIN`, nothing written since.
            if let Some(ahead) = self.head_ahead.take() {
                return self.ahead_state(ahead);
            }
            // A statement that fails inside the caller's transaction (a client
            // handed over in one) would abort it: ask once whether it is idle.
            if self.caller_idle.is_none() && !self.in_transaction {
                self.caller_idle = Some(self.check_idle().await.is_ok());
            }
            if !self.in_transaction && self.caller_idle == Some(true) {
                // The startup path: one statement. An error ends nothing here.
                match self.select_head().await {
                    Ok(row) => return self.head(row),
                    Err(e)
                        if e.code() != Some(&SqlState::UNDEFINED_TABLE)
                            && e.code() != Some(&SqlState::UNDEFINED_COLUMN) =>
                    {
                        return Err(self.db(e));
                    }
                    Err(_) => {}
                }
            }
            // Inside a transaction (strata's or the caller's) a failed
            // statement would abort it: look first.
            let columns = self.columns().await?;
            if columns.is_empty() {
                return Ok(TableState::Missing);
            }
            if columns != COLUMNS {
                return Err(self.foreign_table(columns));
            }
            self.table_known = self.locked.is_some();
            let row = self.select_head().await.map_err(|e| self.db(e))?;
            self.head(row)
        })
    }

    fn read_all(&mut self) -> Call<'_, Result<Vec<AppliedMigration>>> {
        C::call(async move {
            match self.read_head().await? {
                TableState::Missing => return Ok(Vec::new()),
                TableState::Strata(_) => {}
            }
            let sql = POSTGRES.rows(&self.table);
            let rows = self.client.query(&sql, &[]).await.map_err(|e| self.db(e))?;
            rows.iter()
                .map(|row| {
                    let version: i64 = row.get(0);
                    Ok(AppliedMigration {
                        version: self.version(version)?,
                        name: row.get(1),
                        checksum: self.checksum(version, "checksum", row.get(2))?,
                        chain: self.checksum(version, "chain", row.get(3))?,
                        applied_at: row.get(4),
                        duration: Duration::from_millis(
                            u64::try_from(row.get::<_, i64>(5)).unwrap_or(0),
                        ),
                        dirty: row.get(6),
                    })
                })
                .collect()
        })
    }

    fn create_table(&mut self) -> Call<'_, Result<()>> {
        C::call(async move {
            // In a transaction, verify notes what this touched before its end.
            // Outside one, during verify, this runs before the first snapshot
            // (which reads everything), or after verify found the table there
            // (when it changes nothing).
            if self.in_transaction {
                self.changed_in_transaction = true;
            }
            // Outside a run (verify), the schema current now.
            if self.schema.is_none() {
                let current = self
                    .client
                    .query_one("SELECT current_schema()::text", &[])
                    .await
                    .map_err(|e| self.db(e))?
                    .get(0);
                self.fix_schema(current)?;
            }
            if let (true, Some(schema)) = (self.schema_named, &self.schema) {
                let exists: bool = self
                    .client
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                        &[schema],
                    )
                    .await
                    .map_err(|e| self.db(e))?
                    .get(0);
                if !exists {
                    let sql = format!("CREATE SCHEMA {}", quote_identifier(schema));
                    self.client
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| self.db(e))?;
                }
            }
            let sql = POSTGRES.create_table(&self.table);
            self.client
                .batch_execute(&sql)
                .await
                .map_err(|e| self.db(e))?;
            let columns = self.columns().await?;
            if columns != COLUMNS {
                return Err(self.foreign_table(columns));
            }
            self.table_known = self.locked.is_some();
            Ok(())
        })
    }

    fn insert_row<'a>(&'a mut self, row: &'a NewRow<'_>) -> Call<'a, Result<()>> {
        C::call(async move {
            let sql = POSTGRES.insert(&self.table);
            self.write_typed(
                &sql,
                &[
                    (&version_param(row.version), Type::INT8),
                    (&row.name, Type::TEXT),
                    (&row.checksum.to_hex(), Type::TEXT),
                    (&row.chain.to_hex(), Type::TEXT),
                    (&row.applied_at, Type::TEXT),
                    (
                        &i64::try_from(row.execution_ms).unwrap_or(i64::MAX),
                        Type::INT8,
                    ),
                    (&row.dirty, Type::BOOL),
                ],
            )
            .await
        })
    }

    fn delete_rows_above(&mut self, version: Option<u64>) -> Call<'_, Result<()>> {
        C::call(async move {
            let sql = POSTGRES.delete_above(&self.table);
            self.write_typed(&sql, &[(&version.map_or(-1, version_param), Type::INT8)])
                .await
        })
    }

    fn delete_row(&mut self, version: u64) -> Call<'_, Result<()>> {
        C::call(async move {
            let sql = POSTGRES.delete_one(&self.table);
            self.write_typed(&sql, &[(&version_param(version), Type::INT8)])
                .await
        })
    }

    fn set_dirty(
        &mut self,
        version: u64,
        dirty: bool,
        duration: Option<Duration>,
    ) -> Call<'_, Result<()>> {
        C::call(async move {
            let sql = POSTGRES.set_dirty(&self.table);
            let ms = duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            self.write_typed(
                &sql,
                &[
                    (&dirty, Type::BOOL),
                    (&ms, Type::INT8),
                    (&version_param(version), Type::INT8),
                ],
            )
            .await
        })
    }

    fn update_row<'a>(
        &'a mut self,
        version: u64,
        name: &'a str,
        checksum: Checksum,
        chain: Checksum,
    ) -> Call<'a, Result<()>> {
        C::call(async move {
            let sql = POSTGRES.update_row(&self.table);
            self.write_typed(
                &sql,
                &[
                    (&name, Type::TEXT),
                    (&checksum.to_hex(), Type::TEXT),
                    (&chain.to_hex(), Type::TEXT),
                    (&version_param(version), Type::INT8),
                ],
            )
            .await
        })
    }

    fn read_foreign(&mut self) -> Call<'_, Result<Option<Foreign>>> {
        C::call(async move {
            let columns = self.column_types().await?;
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            if names.is_empty() || names == COLUMNS {
                return Ok(None);
            }
            let Some(kind) = ForeignTable::adoptable(&names) else {
                return Err(self.foreign_table(names));
            };
            let sql = POSTGRES.foreign_rows(&self.table, kind, &columns);
            let rows = self.client.query(&sql, &[]).await.map_err(|e| self.db(e))?;
            let rows = rows
                .iter()
                .map(|r| ForeignRow {
                    version: r.get(0),
                    name: r.get(1),
                    applied_at: r.get(2),
                    dirty: r.get(3),
                })
                .collect();
            Ok(Some((kind, rows)))
        })
    }

    /// The insert, with its values written into it, and `COMMIT` in one
    /// message: one round trip where there were two. When the message
    /// fails, a `SELECT 1` tells which of the two did: after a failed
    /// insert the transaction is still open and refuses it (SQLSTATE
    /// 25P02); after a failed commit it is over. Not inside verify's or a
    /// dry run's transaction, whose steps end at savepoints, nor where
    /// verify follows the commit's deferred work.
    fn insert_row_then_commit<'a>(
        &'a mut self,
        row: &'a NewRow<'_>,
    ) -> Option<Call<'a, std::result::Result<(), crate::backend::Finish>>> {
        use crate::backend::Finish;
        if self.nested.is_some() || self.described.is_some() || !self.in_transaction {
            return None;
        }
        Some(C::call(async move {
            let sql = format!("{}; COMMIT", self.insert_literal(row));
            self.note_touched().await;
            self.head_ahead = None;
            let Err(e) = self.client.batch_execute(&sql).await else {
                self.in_transaction = false;
                return Ok(());
            };
            match self.client.simple_query("SELECT 1").await {
                Err(probe) if probe.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => {
                    Err(Finish::Insert(self.db(e)))
                }
                Ok(_) => {
                    self.in_transaction = false;
                    Err(Finish::Commit(self.db(e)))
                }
                // The connection broke or the session ended: which part
                // failed, and whether the commit happened, is not known,
                // as when a lone COMMIT's answer is lost. Reported as the
                // commit's, with its own error; the caller's rollback
                // ends a transaction that may still be open.
                Err(probe) => {
                    log::warn!(
                        "after a failed history insert and commit, the check of which failed failed too: {probe}"
                    );
                    Err(Finish::Commit(self.db(e)))
                }
            }
        }))
    }

    fn replace_foreign<'a>(&'a mut self, rows: &'a [NewRow<'_>]) -> Call<'a, Result<()>> {
        C::call(async move {
            self.head_ahead = None;
            // Dropped first: the new table's primary key would want the old
            // one's index name. All of it is one transaction.
            self.client
                .batch_execute(&format!("DROP TABLE {}", self.table))
                .await
                .map_err(|e| self.db(e))?;
            self.create_table().await?;
            for row in rows {
                self.insert_row(row).await?;
            }
            Ok(())
        })
    }
}

/// The history read that a step's `BEGIN` carries: the table's columns
/// and its newest row, as the simple protocol returns them (text).
#[derive(Debug)]
pub(super) struct Ahead {
    columns: Vec<String>,
    head: Option<(String, String, bool)>,
}

impl<C: PgClient> Pg<'_, C> {
    /// The statements that read what `read_head` reads inside strata's
    /// own transaction, in one message after `BEGIN`: the table's columns,
    /// then its newest row. Only for a table that this operation found
    /// with strata's columns under the lock, in a schema it named: the
    /// columns are read by the table's name as the history statements
    /// write it, which costs a third of the catalog query `columns`
    /// (which also looks for the table). Should a migration have dropped
    /// the table, the message fails, and `begin` begins again without it.
    pub(super) fn ahead_sql(&self) -> String {
        format!(
            "SELECT array_to_string(ARRAY(SELECT attname::text FROM pg_attribute \
             WHERE attrelid = to_regclass({}) AND attnum > 0 AND NOT attisdropped \
             ORDER BY attnum), chr(31)); {}",
            quote_literal(&self.table),
            POSTGRES.head(&self.table)
        )
    }

    /// [`Ahead`] from the messages of `BEGIN ...; ahead_sql()`: the first
    /// row is the columns', a second one the newest row.
    pub(super) fn ahead_of(messages: &[tokio_postgres::SimpleQueryMessage]) -> Ahead {
        let mut rows = messages.iter().filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        });
        let columns = rows
            .next()
            .and_then(|row| row.get(0))
            .filter(|joined| !joined.is_empty())
            .map(|joined| joined.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default();
        let head = rows.next().map(|row| {
            (
                row.get(0).unwrap_or_default().to_owned(),
                row.get(1).unwrap_or_default().to_owned(),
                row.get(2) == Some("t"),
            )
        });
        Ahead { columns, head }
    }

    /// What `read_head` says of a read sent with `BEGIN`.
    fn ahead_state(&self, ahead: Ahead) -> Result<TableState> {
        if ahead.columns.is_empty() {
            return Ok(TableState::Missing);
        }
        if ahead.columns != COLUMNS {
            return Err(self.foreign_table(ahead.columns));
        }
        let Some((version, chain, dirty)) = ahead.head else {
            return Ok(TableState::Strata(None));
        };
        let version: i64 = version
            .parse()
            .map_err(|_| self.corrupt(-1, "version", version.clone()))?;
        Ok(TableState::Strata(Some(Head {
            version: self.version(version)?,
            chain: self.checksum(version, "chain", &chain)?,
            dirty,
        })))
    }

    /// [`POSTGRES`]'s insert of `row`, its values written into the SQL as
    /// literals (read the same under either `standard_conforming_strings`),
    /// so that it can share a message with other statements.
    fn insert_literal(&self, row: &NewRow<'_>) -> String {
        let applied_at = row.applied_at.map_or("NULL".to_owned(), quote_literal);
        POSTGRES.insert_values(
            &self.table,
            &format!(
                "{}, {}, '{}', '{}', coalesce({applied_at}::text::timestamptz, now()), {}, {}",
                version_param(row.version),
                quote_literal(row.name),
                row.checksum.to_hex(),
                row.chain.to_hex(),
                i64::try_from(row.execution_ms).unwrap_or(i64::MAX),
                row.dirty,
            ),
        )
    }

    /// One statement that writes history rows, typed: parsed and run in
    /// one round trip (an untyped one is prepared first, in another).
    async fn write_typed(&mut self, sql: &str, params: &[super::client::Typed<'_>]) -> Result<()> {
        self.head_ahead = None;
        self.client
            .execute_typed(sql, params)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    pub(super) async fn columns(&mut self) -> Result<Vec<String>> {
        let rows = self
            .client
            .query_typed(
                // Typed: parsed and run in one round trip.
                POSTGRES.columns,
                &[(&self.name, Type::TEXT), (&self.schema, Type::TEXT)],
            )
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(super) async fn column_types(&mut self) -> Result<Vec<(String, String)>> {
        let rows = self
            .client
            .query(POSTGRES_COLUMN_TYPES, &[&self.name, &self.schema])
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub(super) fn foreign_table(&self, columns: Vec<String>) -> Error {
        Error::ForeignHistoryTable {
            table: self.display(),
            kind: ForeignTable::of_columns(&columns),
            columns,
        }
    }

    pub(super) async fn select_head(
        &mut self,
    ) -> std::result::Result<Option<Row>, tokio_postgres::Error> {
        let sql = POSTGRES.head(&self.table);
        // Typed: parsed and run in one round trip.
        self.client.query_typed_opt(&sql, &[]).await
    }

    pub(super) fn head(&self, row: Option<Row>) -> Result<TableState> {
        let Some(row) = row else {
            return Ok(TableState::Strata(None));
        };
        let version: i64 = row.get(0);
        let chain: String = row.get(1);
        Ok(TableState::Strata(Some(Head {
            version: self.version(version)?,
            chain: self.checksum(version, "chain", &chain)?,
            dirty: row.get(2),
        })))
    }

    pub(super) fn version(&self, version: i64) -> Result<u64> {
        u64::try_from(version).map_err(|_| self.corrupt(version, "version", version.to_string()))
    }

    pub(super) fn checksum(
        &self,
        version: i64,
        column: &'static str,
        text: &str,
    ) -> Result<Checksum> {
        Checksum::from_hex(text).ok_or_else(|| self.corrupt(version, column, text.to_owned()))
    }

    pub(super) fn corrupt(&self, version: i64, column: &'static str, value: String) -> Error {
        Error::CorruptHistory {
            table: self.display(),
            version,
            column,
            value,
        }
    }
}
