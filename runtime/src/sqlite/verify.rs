//! The SQLite side of `verify`: a scratch in-memory database, and the
//! description of its schema.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::Sqlite;
use crate::backend::Backend;
use crate::report::VerifyReport;
use crate::verify::{Column, Object, Schema, Table, fold};
use crate::{Migrations, Result};

impl Migrations {
    /// Checks on a scratch in-memory SQLite database that every down file
    /// restores the schema that its up file changed, and that the up file
    /// applies again after it.
    ///
    /// Meant as a one-line `#[test]` in the application's crate, whose
    /// failure message is the report:
    ///
    /// ```
    /// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::Migrations::__embedded("migrations", &[]);
    /// fn migrations_roundtrip() {
    ///     MIGRATIONS.verify().unwrap();
    /// }
    /// # migrations_roundtrip();
    /// ```
    ///
    /// Compared after each down: every table's columns in order (name,
    /// declared type, not null, default, primary key), its foreign keys, its
    /// indexes (uniqueness, columns, partial condition), and triggers and
    /// views by their SQL with white space folded. A migration whose down
    /// file is irreversible is applied and not reverted; the report says so.
    /// Every failing up, failing down and schema difference is reported, not
    /// only the first.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with(|_| Ok(()))
    }

    /// [`verify`](Migrations::verify), with `setup` run on the scratch
    /// connection first: register there the SQL functions, collations or
    /// extensions that your migrations use and your application registers.
    pub fn verify_with(
        &self,
        setup: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<VerifyReport> {
        let mut conn = Connection::open_in_memory()?;
        setup(&conn)?;
        let mut db = Sqlite::new(&mut conn, crate::DEFAULT_TABLE, crate::DEFAULT_LOCK_TIMEOUT);
        db.enter()?;
        let result = crate::verify::verify(self, &mut db);
        db.leave()?;
        result
    }
}

/// The schema of a SQLite database, as verify compares it.
pub(super) fn describe(conn: &Connection) -> Result<Schema> {
    let mut schema = Schema::default();
    let mut objects = conn.prepare(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows: Vec<(String, String, Option<String>)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, sql) in rows {
        match kind.as_str() {
            "table" => {
                let columns = conn
                    .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")?
                    .query_map([&name], |r| {
                        Ok(Column {
                            name: r.get(0)?,
                            declared_type: r.get(1)?,
                            not_null: r.get(2)?,
                            default: r.get(3)?,
                            primary_key: r.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let constraints = foreign_keys(conn, &name)?;
                describe_indexes(conn, &name, &mut schema)?;
                schema.tables.insert(
                    name,
                    Table {
                        columns,
                        constraints,
                    },
                );
            }
            "trigger" | "view" => {
                schema.objects.insert(
                    (kind, name),
                    Object {
                        definition: fold(sql.as_deref().unwrap_or("")),
                        shown: false,
                        exact: None,
                    },
                );
            }
            // Indexes are described with their tables.
            _ => {}
        }
    }
    Ok(schema)
}

/// One foreign key, gathered from its rows in `pragma_foreign_key_list`.
#[derive(Default)]
struct ForeignKey {
    columns: Vec<String>,
    parent: String,
    parent_columns: Vec<String>,
    on_update: String,
    on_delete: String,
}

/// Each foreign key of a table, in one line.
fn foreign_keys(conn: &Connection, table: &str) -> Result<BTreeSet<String>> {
    let mut keys: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    let mut statement = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let mut rows = statement.query([table])?;
    while let Some(r) = rows.next()? {
        let key = keys.entry(r.get(0)?).or_default();
        key.columns.push(r.get(2)?);
        key.parent = r.get(1)?;
        key.parent_columns
            .push(r.get::<_, Option<String>>(3)?.unwrap_or_default());
        key.on_update = r.get(4)?;
        key.on_delete = r.get(5)?;
    }
    Ok(keys
        .into_values()
        .map(|k| {
            format!(
                "foreign key ({}) -> {} ({}) ON UPDATE {} ON DELETE {}",
                k.columns.join(", "),
                k.parent,
                k.parent_columns.join(", "),
                k.on_update,
                k.on_delete
            )
        })
        .collect())
}

fn describe_indexes(conn: &Connection, table: &str, schema: &mut Schema) -> Result<()> {
    let mut list =
        conn.prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)")?;
    let indexes: Vec<(String, bool, String, bool)> = list
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (name, unique, origin, partial) in indexes {
        let columns = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?
            .query_map([&name], |r| {
                Ok(r.get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| "<expression>".to_owned()))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let condition = if partial {
            let sql: Option<String> = conn.query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [&name],
                |r| r.get(0),
            )?;
            sql.and_then(|sql| {
                let upper = sql.to_ascii_uppercase();
                upper
                    .rfind("WHERE")
                    .map(|at| format!(" WHERE {}", fold(&sql[at + 5..])))
            })
        } else {
            None
        };
        let definition = format!(
            "{}on {table} ({}){}",
            if unique { "unique, " } else { "" },
            columns.join(", "),
            condition.unwrap_or_default()
        );
        // The automatic index of a constraint is named after the table as it
        // was created, which a table recreation changes: key it by content.
        let (kind, key) = if origin == "c" {
            ("index", name)
        } else {
            let what = if origin == "pk" {
                "primary key"
            } else {
                "unique constraint"
            };
            (what, definition.clone())
        };
        schema.objects.insert(
            (kind.to_owned(), key),
            Object {
                definition,
                shown: origin == "c",
                exact: None,
            },
        );
    }
    Ok(())
}
