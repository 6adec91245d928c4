//! The schema of a SQLite database as verify compares it.
//!
//! Everything SQLite knows about a table or an index follows from its
//! `CREATE` text in `sqlite_schema` (and, for an index, its table's): SQLite
//! parses that text to open the database. So each one is described once,
//! from the pragmas and the text ([`schema_sql`](super::schema_sql)), and
//! kept under its text in a [`Cache`]; describing the schema again costs
//! one read of `sqlite_schema` and a lookup per object, whatever the
//! number of migrations before.

use std::collections::HashMap;

use rusqlite::Connection;

mod objects;

use objects::{Parents, describe_index, describe_table};

use super::schema_sql::{canonical_sql, canonical_trigger};
use crate::Result;
use crate::schema::{Object, Schema, Table};

/// Every object described so far, by its `CREATE` text (which names
/// it).
#[derive(Default)]
pub(super) struct Cache {
    /// SQL -> the table, with the parents its description depends on.
    tables: HashMap<String, Vec<(Parents, Table)>>,
    /// SQL -> its table's SQL -> the index.
    indexes: HashMap<String, HashMap<String, Object>>,
    /// SQL -> the view, trigger or virtual table.
    statements: HashMap<String, Object>,
}

/// One row of `sqlite_schema`, as the snapshot text holds it.
struct Row<'a> {
    kind: &'a str,
    name: &'a str,
    table: &'a str,
    sql: &'a str,
}

/// The snapshot text: every row of `main.sqlite_schema` but SQLite's own
/// and a virtual table's shadow tables (`f_data`, `f_idx`... of an FTS5
/// table `f`: its implementation, which the virtual table stands for, as
/// an extension does for its functions), and the two numbers an application keeps in the database's header
/// (`PRAGMA user_version`, often its own schema version, and `PRAGMA
/// application_id`) as rows of the kind `pragma`, each field as its length
/// in bytes, `:`, and its bytes, so that no text in a name or a statement
/// can be read as a separator. Built inside SQLite: one string crosses
/// into Rust, and comparing two of them is comparing two schemas' every
/// statement.
const SNAPSHOT: &str = "SELECT coalesce(group_concat(
        length(CAST(type AS BLOB)) || ':' || type
        || length(CAST(name AS BLOB)) || ':' || name
        || length(CAST(tbl_name AS BLOB)) || ':' || tbl_name
        || length(CAST(coalesce(sql, '') AS BLOB)) || ':' || coalesce(sql, ''), ''), '')
     FROM (SELECT type, name, tbl_name, sql FROM main.sqlite_schema
           WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             AND (NOT EXISTS (SELECT 1 FROM main.sqlite_schema WHERE upper(substr(sql, 1, 14)) = 'CREATE VIRTUAL')
                  OR tbl_name NOT IN (SELECT name FROM pragma_table_list
                                      WHERE schema = 'main' AND type = 'shadow'))
           UNION ALL
           SELECT 'pragma', 'user_version', '', CAST(user_version AS TEXT) FROM pragma_user_version
           UNION ALL
           SELECT 'pragma', 'application_id', '', CAST(application_id AS TEXT) FROM pragma_application_id
           ORDER BY 1, 2)";

/// The rows of a snapshot text.
fn rows(text: &str) -> Vec<Row<'_>> {
    let mut fields = Vec::with_capacity(4);
    let mut rows = Vec::new();
    let mut rest = text;
    while let Some((length, after)) = rest.split_once(':') {
        let length: usize = length.parse().unwrap_or(after.len()).min(after.len());
        // A length SQLite wrote ends on a character boundary.
        let at = (length..=after.len())
            .find(|&i| after.is_char_boundary(i))
            .unwrap_or(after.len());
        fields.push(&after[..at]);
        rest = &after[at..];
        if let [kind, name, table, sql] = fields[..] {
            rows.push(Row {
                kind,
                name,
                table,
                sql,
            });
            fields.clear();
        }
    }
    rows
}

/// A snapshot of `conn`'s main database: its text, with every object in
/// it described in `cache` (from the pragmas, while it exists).
pub(super) fn snapshot(conn: &Connection, cache: &mut Cache) -> Result<String> {
    let text: String = conn.prepare_cached(SNAPSHOT)?.query_row([], |r| r.get(0))?;
    let rows = rows(&text);
    let table_sql: HashMap<String, &str> = rows
        .iter()
        .filter(|r| r.kind == "table")
        .map(|r| (r.name.to_ascii_lowercase(), r.sql))
        .collect();
    for row in &rows {
        match row.kind {
            "table" | "view" | "trigger"
                if (row.kind != "table" || is_virtual(row.sql))
                    && !cache.statements.contains_key(row.sql) =>
            {
                let mut object = statement_of(row.kind, row.sql);
                if row.kind == "view" {
                    object.definition = with_columns(conn, row.name, object.definition)?;
                }
                cache.statements.insert(row.sql.to_owned(), object);
            }
            "table"
                if !is_virtual(row.sql) && cached_table(cache, row.sql, &table_sql).is_none() =>
            {
                let (table, parents) = describe_table(conn, row.name, row.sql, &table_sql)?;
                cache
                    .tables
                    .entry(row.sql.to_owned())
                    .or_default()
                    .push((parents, table));
            }
            // An index a constraint made has no SQL: it is described with
            // its table.
            "index" if !row.sql.is_empty() => {
                let table_sql = table_sql
                    .get(&row.table.to_ascii_lowercase())
                    .copied()
                    .unwrap_or_default();
                let known = cache
                    .indexes
                    .get(row.sql)
                    .is_some_and(|by_table| by_table.contains_key(table_sql));
                if !known {
                    let index = describe_index(conn, row.name, row.table, row.sql, table_sql)?;
                    cache
                        .indexes
                        .entry(row.sql.to_owned())
                        .or_default()
                        .insert(table_sql.to_owned(), index);
                }
            }
            _ => {}
        }
    }
    Ok(text)
}

/// The description of the table `sql` creates, among the tables whose
/// names and SQL are `tables`.
fn cached_table<'c>(
    cache: &'c Cache,
    sql: &str,
    tables: &HashMap<String, &str>,
) -> Option<&'c Table> {
    cache.tables.get(sql)?.iter().find_map(|(parents, table)| {
        parents
            .iter()
            .all(|(parent, then)| tables.get(parent).copied().unwrap_or_default() == then)
            .then_some(table)
    })
}

/// The schema a snapshot text stands for, from `cache`, where
/// [`snapshot`] put every object in it.
pub(super) fn expand(text: &str, cache: &Cache) -> Schema {
    let rows = rows(text);
    let table_sql: HashMap<String, &str> = rows
        .iter()
        .filter(|r| r.kind == "table")
        .map(|r| (r.name.to_ascii_lowercase(), r.sql))
        .collect();
    let mut schema = Schema::default();
    for row in &rows {
        // SQLite's names ignore ASCII case.
        let key = |kind: &str| (kind.to_owned(), row.name.to_ascii_lowercase());
        match row.kind {
            "table" if is_virtual(row.sql) => {
                if let Some(object) = cache.statements.get(row.sql) {
                    schema.objects.insert(key("virtual table"), object.clone());
                }
            }
            "table" => {
                if let Some(table) = cached_table(cache, row.sql, &table_sql) {
                    schema
                        .tables
                        .insert(row.name.to_ascii_lowercase(), table.clone());
                }
            }
            "index" if !row.sql.is_empty() => {
                let table_sql = table_sql
                    .get(&row.table.to_ascii_lowercase())
                    .copied()
                    .unwrap_or_default();
                if let Some(index) = cache.indexes.get(row.sql).and_then(|i| i.get(table_sql)) {
                    schema.objects.insert(key("index"), index.clone());
                }
            }
            "view" | "trigger" => {
                if let Some(object) = cache.statements.get(row.sql) {
                    schema.objects.insert(key(row.kind), object.clone());
                }
            }
            "pragma" => {
                let value = Object {
                    definition: row.sql.to_owned(),
                    shown: true,
                    exact: None,
                };
                schema.objects.insert(key("pragma"), value);
            }
            _ => {}
        }
    }
    schema
}

/// A view's canonical SQL with the names of its columns as SQLite gives
/// them, case kept: a column without an alias is named by its expression
/// as written, which the canonical form does not keep (`SELECT id+1` names
/// a column `id+1`, `SELECT id + 1` one `id + 1`), and a query's result
/// names its columns so (`AS userName`), which an application that maps
/// rows by name reads with their case.
/// A view that SQLite cannot read (its table is gone, which SQLite allows)
/// has no columns to name: it is described by its SQL, with a word saying
/// so.
fn with_columns(conn: &Connection, view: &str, definition: String) -> Result<String> {
    let columns: rusqlite::Result<Option<String>> = conn
        .prepare_cached("SELECT group_concat(name, ', ') FROM pragma_table_xinfo(?1, 'main')")?
        .query_row([view], |r| r.get(0));
    Ok(match columns {
        Ok(columns) => format!("{definition} (columns {})", columns.unwrap_or_default()),
        Err(_) => format!("{definition} (columns unreadable)"),
    })
}

fn is_virtual(sql: &str) -> bool {
    sql.split_whitespace()
        .nth(1)
        .is_some_and(|w| w.eq_ignore_ascii_case("virtual"))
}

/// A view, trigger or virtual table: its statement in canonical form.
fn statement_of(kind: &str, sql: &str) -> Object {
    Object {
        definition: if kind == "trigger" {
            canonical_trigger(sql)
        } else {
            canonical_sql(sql)
        },
        shown: false,
        exact: None,
    }
}

impl crate::backend::Describe for super::Sqlite<'_> {
    fn snapshot(&mut self) -> crate::call::Call<'_, Result<crate::schema::Snapshot>> {
        crate::call::Call::of(|| {
            Ok(crate::schema::Snapshot {
                text: Some(snapshot(&self.conn, &mut self.described)?),
                schema: crate::schema::Schema::default(),
            })
        })
    }

    fn expand<'s>(
        &mut self,
        snapshot: &'s crate::schema::Snapshot,
    ) -> Result<std::borrow::Cow<'s, crate::schema::Schema>> {
        Ok(match &snapshot.text {
            Some(text) => std::borrow::Cow::Owned(expand(text, &self.described)),
            None => std::borrow::Cow::Borrowed(&snapshot.schema),
        })
    }
}
