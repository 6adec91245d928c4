//! The history table: its rows, its creation, and another tool's table.

use super::{APPLIED_AT, Pg, quote_identifier, version_param};
use crate::backend::Transactions;
use crate::call::Call;
use crate::history::{AppliedMigration, COLUMNS, Foreign, ForeignRow, Head, NewRow, TableState};
use crate::{Checksum, Error, ForeignTable, Result};
use postgres::Row;
use postgres::error::SqlState;
use postgres::types::Type;
use std::time::Duration;

impl crate::backend::HistoryStore for Pg<'_> {
    fn read_head(&mut self) -> Call<'_, Result<TableState>> {
        Call::of(|| -> Result<TableState> {
            // A statement that fails inside the caller's transaction (a client
            // handed over in one) would abort it: ask once whether it is idle.
            if self.caller_idle.is_none() && !self.in_transaction {
                self.caller_idle = Some(self.check_idle().now().is_ok());
            }
            if !self.in_transaction && self.caller_idle == Some(true) {
                // The startup path: one statement. An error ends nothing here.
                match self.select_head() {
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
            let columns = self.columns()?;
            if columns.is_empty() {
                return Ok(TableState::Missing);
            }
            if columns != COLUMNS {
                return Err(self.foreign_table(columns));
            }
            let row = self.select_head().map_err(|e| self.db(e))?;
            self.head(row)
        })
    }

    fn read_all(&mut self) -> Call<'_, Result<Vec<AppliedMigration>>> {
        Call::of(|| -> Result<Vec<AppliedMigration>> {
            match self.read_head().now()? {
                TableState::Missing => return Ok(Vec::new()),
                TableState::Strata(_) => {}
            }
            let sql = format!(
                "SELECT version, name, checksum, chain, {APPLIED_AT}, execution_ms, dirty FROM {} ORDER BY version",
                self.table
            );
            let rows = self.client.query(&sql, &[]).map_err(|e| self.db(e))?;
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
        Call::of(|| -> Result<()> {
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
                    .map_err(|e| self.db(e))?
                    .get(0);
                if !exists {
                    let sql = format!("CREATE SCHEMA {}", quote_identifier(schema));
                    self.client.batch_execute(&sql).map_err(|e| self.db(e))?;
                }
            }
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    chain text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    execution_ms bigint NOT NULL,
                    dirty boolean NOT NULL DEFAULT false
                )",
                self.table
            );
            self.client.batch_execute(&sql).map_err(|e| self.db(e))?;
            let columns = self.columns()?;
            if columns != COLUMNS {
                return Err(self.foreign_table(columns));
            }
            Ok(())
        })
    }

    fn insert_row<'a>(&'a mut self, row: &'a NewRow<'_>) -> Call<'a, Result<()>> {
        Call::of(|| -> Result<()> {
            let sql = format!(
                "INSERT INTO {} (version, name, checksum, chain, applied_at, execution_ms, dirty) \
                 VALUES ($1, $2, $3, $4, coalesce($5::text::timestamptz, now()), $6, $7)",
                self.table
            );
            self.execute_sql(
                &sql,
                &[
                    &version_param(row.version),
                    &row.name,
                    &row.checksum.to_hex(),
                    &row.chain.to_hex(),
                    &row.applied_at,
                    &i64::try_from(row.execution_ms).unwrap_or(i64::MAX),
                    &row.dirty,
                ],
            )?;
            Ok(())
        })
    }

    fn delete_rows_above(&mut self, version: Option<u64>) -> Call<'_, Result<()>> {
        Call::of(|| -> Result<()> {
            let sql = format!("DELETE FROM {} WHERE version > $1", self.table);
            self.execute_sql(&sql, &[&version.map_or(-1, version_param)])?;
            Ok(())
        })
    }

    fn delete_row(&mut self, version: u64) -> Call<'_, Result<()>> {
        Call::of(|| -> Result<()> {
            let sql = format!("DELETE FROM {} WHERE version = $1", self.table);
            self.execute_sql(&sql, &[&version_param(version)])?;
            Ok(())
        })
    }

    fn set_dirty(
        &mut self,
        version: u64,
        dirty: bool,
        duration: Option<Duration>,
    ) -> Call<'_, Result<()>> {
        Call::of(|| -> Result<()> {
            let sql = format!(
                "UPDATE {} SET dirty = $1, execution_ms = coalesce($2, execution_ms) WHERE version = $3",
                self.table
            );
            let ms = duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            self.execute_sql(&sql, &[&dirty, &ms, &version_param(version)])?;
            Ok(())
        })
    }

    fn update_row<'a>(
        &'a mut self,
        version: u64,
        name: &'a str,
        checksum: Checksum,
        chain: Checksum,
    ) -> Call<'a, Result<()>> {
        Call::of(|| -> Result<()> {
            let sql = format!(
                "UPDATE {} SET name = $1, checksum = $2, chain = $3 WHERE version = $4",
                self.table
            );
            self.execute_sql(
                &sql,
                &[
                    &name,
                    &checksum.to_hex(),
                    &chain.to_hex(),
                    &version_param(version),
                ],
            )?;
            Ok(())
        })
    }

    fn read_foreign(&mut self) -> Call<'_, Result<Option<Foreign>>> {
        Call::of(|| -> Result<Option<Foreign>> {
            let columns = self.column_types()?;
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            if names.is_empty() || names == COLUMNS {
                return Ok(None);
            }
            let Some(kind) = ForeignTable::adoptable(&names) else {
                return Err(self.foreign_table(names));
            };
            let has = |name: &str| {
                columns
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, t)| t.as_str())
            };
            let name = if has("name").is_some() {
                "name::text"
            } else {
                "NULL::text"
            };
            // Keep the recorded time, in strata's format where it can be read.
            let applied_at = match has("applied_at") {
                Some(t) if t.starts_with("timestamp") => {
                    r#"to_char(applied_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
                }
                Some(
                    "integer" | "bigint" | "smallint" | "numeric" | "double precision" | "real",
                ) => {
                    r#"to_char(to_timestamp(applied_at::double precision) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
                }
                Some(_) => "applied_at::text",
                None => "NULL::text",
            };
            let dirty = if has("dirty").is_some() {
                "dirty::boolean"
            } else {
                "false"
            };
            let sql = format!(
                "SELECT version::bigint, {name}, {applied_at}, {dirty} FROM {} ORDER BY version",
                self.table
            );
            let rows = self.client.query(&sql, &[]).map_err(|e| self.db(e))?;
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

    fn replace_foreign<'a>(&'a mut self, rows: &'a [NewRow<'_>]) -> Call<'a, Result<()>> {
        Call::of(|| -> Result<()> {
            // Dropped first: the new table's primary key would want the old
            // one's index name. All of it is one transaction.
            self.client
                .batch_execute(&format!("DROP TABLE {}", self.table))
                .map_err(|e| self.db(e))?;
            self.create_table().now()?;
            for row in rows {
                self.insert_row(row).now()?;
            }
            Ok(())
        })
    }
}

impl<'a> Pg<'a> {
    pub(super) fn columns(&mut self) -> Result<Vec<String>> {
        let rows = self
            .client
            .query_typed(
                // What information_schema.columns gives, read in a tenth of
                // its time (it is read after every migration verify checks),
                // and typed: parsed and run in one round trip.
                "SELECT a.attname::text FROM pg_attribute a
                 JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = coalesce($2, current_schema()) AND c.relname = $1
                   AND c.relkind IN ('r', 'v', 'f', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                   AND (pg_has_role(c.relowner, 'USAGE')
                        OR has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
                 ORDER BY a.attnum",
                &[(&self.name, Type::TEXT), (&self.schema, Type::TEXT)],
            )
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(super) fn column_types(&mut self) -> Result<Vec<(String, String)>> {
        let rows = self
            .client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = coalesce($2, current_schema()) AND table_name = $1 ORDER BY ordinal_position",
                &[&self.name, &self.schema],
            )
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

    pub(super) fn select_head(&mut self) -> std::result::Result<Option<Row>, postgres::Error> {
        let sql = format!(
            "SELECT version, chain, dirty FROM {} ORDER BY version DESC LIMIT 1",
            self.table
        );
        // Typed: parsed and run in one round trip.
        self.client.query_typed_opt(&sql, &[])
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
