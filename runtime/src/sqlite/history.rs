//! The history table: its rows, its creation, and another tool's table.

use super::{Sqlite, hot_journal, quote_identifier, storage_fault, version_param};
use crate::call::Call;
use crate::dialect::SQLITE;
use crate::history::{AppliedMigration, COLUMNS, Foreign, ForeignRow, Head, NewRow, TableState};
use crate::{Checksum, Error, ForeignTable, Result};
use rusqlite::types::ValueRef;
use rusqlite::{ErrorCode, OptionalExtension, Row};
use std::time::Duration;

impl crate::backend::HistoryStore for Sqlite<'_> {
    fn read_head(&mut self) -> Call<'_, Result<TableState>> {
        self.mapped(|db| -> Result<TableState> { db.waiting(|db| db.head()) })
    }

    fn read_all(&mut self) -> Call<'_, Result<Vec<AppliedMigration>>> {
        self.mapped(|db| -> Result<Vec<AppliedMigration>> {
            db.waiting(|db| match db.head()? {
                TableState::Missing => Ok(Vec::new()),
                TableState::Strata(_) => db.rows(),
            })
        })
    }

    fn create_table(&mut self) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.conn
                .execute_batch(&SQLITE.create_table(&db.table))
                .map_err(|e| db.db(e))?;
            let columns = db.columns()?;
            if columns != COLUMNS {
                return Err(db.foreign_table(columns));
            }
            Ok(())
        })
    }

    fn insert_row<'a>(&'a mut self, row: &'a NewRow<'_>) -> Call<'a, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.prepare(&SQLITE.insert(&db.table))?
                .execute((
                    version_param(row.version),
                    row.name,
                    row.checksum.to_hex(),
                    row.chain.to_hex(),
                    row.applied_at,
                    i64::try_from(row.execution_ms).unwrap_or(i64::MAX),
                    row.dirty,
                ))
                .map_err(|e| db.db(e))?;
            Ok(())
        })
    }

    fn delete_rows_above(&mut self, version: Option<u64>) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.conn
                .execute(
                    &SQLITE.delete_above(&db.table),
                    [version.map_or(-1, version_param)],
                )
                .map_err(|e| db.db(e))?;
            Ok(())
        })
    }

    fn delete_row(&mut self, version: u64) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            db.conn
                .execute(&SQLITE.delete_one(&db.table), [version_param(version)])
                .map_err(|e| db.db(e))?;
            Ok(())
        })
    }

    fn set_dirty(
        &mut self,
        version: u64,
        dirty: bool,
        duration: Option<Duration>,
    ) -> Call<'_, Result<()>> {
        self.mapped(|db| -> Result<()> {
            let sql = SQLITE.set_dirty(&db.table);
            let ms = duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            db.conn
                .execute(&sql, (dirty, ms, version_param(version)))
                .map_err(|e| db.db(e))?;
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
        self.mapped(|db| -> Result<()> {
            db.conn
                .execute(
                    &SQLITE.update_row(&db.table),
                    (
                        name,
                        checksum.to_hex(),
                        chain.to_hex(),
                        version_param(version),
                    ),
                )
                .map_err(|e| db.db(e))?;
            Ok(())
        })
    }

    fn read_foreign(&mut self) -> Call<'_, Result<Option<Foreign>>> {
        self.mapped(|db| -> Result<Option<Foreign>> {
            let columns = db.columns()?;
            if columns.is_empty() || columns == COLUMNS {
                return Ok(None);
            }
            let Some(kind) = ForeignTable::adoptable(&columns) else {
                return Err(db.foreign_table(columns));
            };
            let sql = SQLITE.foreign_rows(&db.table, kind, &[]);
            let mut statement = db.conn.prepare(&sql)?;
            let rows = statement
                .query_map([], |r| {
                    Ok(ForeignRow {
                        version: r.get(0)?,
                        name: r.get(1)?,
                        applied_at: r.get(2)?,
                        dirty: r.get::<_, Option<bool>>(3)?.unwrap_or(false),
                    })
                })
                .map_err(|e| db.db(e))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some((kind, rows)))
        })
    }

    fn replace_foreign<'a>(&'a mut self, rows: &'a [NewRow<'_>]) -> Call<'a, Result<()>> {
        self.mapped(|db| -> Result<()> {
            let old = quote_identifier(&format!("{}_before_strata", db.name));
            db.conn
                .execute_batch(&format!("ALTER TABLE {} RENAME TO {old}", db.table))
                .map_err(|e| db.db(e))?;
            db.create_table().now()?;
            for row in rows {
                db.insert_row(row).now()?;
            }
            db.conn
                .execute_batch(&format!("DROP TABLE {old}"))
                .map_err(|e| db.db(e))?;
            Ok(())
        })
    }
}

impl<'a> Sqlite<'a> {
    pub(super) fn columns(&self) -> Result<Vec<String>> {
        let mut statement = self.prepare(SQLITE.columns).map_err(|e| self.db(e))?;
        let names = statement.query_map([self.name], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    pub(super) fn foreign_table(&self, columns: Vec<String>) -> Error {
        Error::ForeignHistoryTable {
            table: self.name.to_string(),
            kind: ForeignTable::of_columns(&columns),
            columns,
        }
    }

    /// The newest row: one read of the primary key's b-tree.
    pub(super) fn head(&self) -> Result<TableState> {
        let sql = SQLITE.head(&self.table);
        // The statement may fail as it is prepared, or (a cached one, whose
        // table a rolled-back run had created) as it runs.
        let first = self
            .prepare(&sql)
            .and_then(|mut statement| self.query_head(&mut statement));
        let head = match first {
            Ok(head) => head,
            Err(e) => {
                if matches!(
                    e.sqlite_error_code(),
                    Some(
                        ErrorCode::NotADatabase
                            | ErrorCode::DatabaseBusy
                            | ErrorCode::DatabaseLocked
                    )
                ) || hot_journal(&e)
                    || storage_fault(&e).is_some()
                {
                    return Err(self.db(e));
                }
                // No such table, or no such column: look at what is there.
                // Another process may have created the table since the
                // statement failed; then it is strata's, and readable now.
                let columns = self.columns()?;
                if columns.is_empty() {
                    return Ok(TableState::Missing);
                }
                if columns != COLUMNS {
                    return Err(self.foreign_table(columns));
                }
                self.conn
                    .prepare(&sql)
                    .and_then(|mut statement| self.query_head(&mut statement))
                    .map_err(|e| self.db(e))?
            }
        };
        Ok(TableState::Strata(head.transpose()?))
    }

    /// Runs the head query: the row, read (or why it could not be), or none.
    fn query_head(
        &self,
        statement: &mut rusqlite::Statement<'_>,
    ) -> rusqlite::Result<Option<Result<Head>>> {
        statement
            .query_row([], |row| {
                Ok((|| {
                    let version = self.version(row)?;
                    Ok::<_, Error>(Head {
                        version,
                        chain: self.checksum(row, 1, "chain", version)?,
                        dirty: self.flag(row, 2, "dirty", version)?,
                    })
                })())
            })
            .optional()
    }

    pub(super) fn rows(&self) -> Result<Vec<AppliedMigration>> {
        let mut statement = self.conn.prepare(&SQLITE.rows(&self.table))?;
        let mut rows = statement.query([])?;
        let mut all = Vec::new();
        while let Some(row) = rows.next()? {
            let version = self.version(row)?;
            all.push(AppliedMigration {
                version,
                name: self.text(row, 1, "name", version)?.to_owned(),
                checksum: self.checksum(row, 2, "checksum", version)?,
                chain: self.checksum(row, 3, "chain", version)?,
                applied_at: self.text(row, 4, "applied_at", version)?.to_owned(),
                duration: Duration::from_millis(
                    u64::try_from(self.integer(row, 5, "execution_ms", version as i64)?)
                        .unwrap_or(0),
                ),
                dirty: self.flag(row, 6, "dirty", version)?,
            });
        }
        Ok(all)
    }

    pub(super) fn corrupt(&self, version: i64, column: &'static str, value: ValueRef<'_>) -> Error {
        Error::CorruptHistory {
            table: self.name.to_string(),
            version,
            column,
            value: match value {
                ValueRef::Null => "NULL".to_owned(),
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(f) => f.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
            },
        }
    }

    pub(super) fn integer(
        &self,
        row: &Row<'_>,
        index: usize,
        column: &'static str,
        version: i64,
    ) -> Result<i64> {
        match row.get_ref(index)? {
            ValueRef::Integer(i) => Ok(i),
            other => Err(self.corrupt(version, column, other)),
        }
    }

    pub(super) fn version(&self, row: &Row<'_>) -> Result<u64> {
        let version = self.integer(row, 0, "version", -1)?;
        u64::try_from(version)
            .map_err(|_| self.corrupt(version, "version", ValueRef::Integer(version)))
    }

    pub(super) fn flag(
        &self,
        row: &Row<'_>,
        index: usize,
        column: &'static str,
        version: u64,
    ) -> Result<bool> {
        Ok(self.integer(row, index, column, version as i64)? != 0)
    }

    pub(super) fn text<'row>(
        &self,
        row: &'row Row<'_>,
        index: usize,
        column: &'static str,
        version: u64,
    ) -> Result<&'row str> {
        match row.get_ref(index)? {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map_err(|_| self.corrupt(version as i64, column, ValueRef::Text(t))),
            other => Err(self.corrupt(version as i64, column, other)),
        }
    }

    pub(super) fn checksum(
        &self,
        row: &Row<'_>,
        index: usize,
        column: &'static str,
        version: u64,
    ) -> Result<Checksum> {
        let text = self.text(row, index, column, version)?;
        Checksum::from_hex(text)
            .ok_or_else(|| self.corrupt(version as i64, column, ValueRef::Text(text.as_bytes())))
    }
}
