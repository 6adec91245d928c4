//! The schema of a SQLite database as verify compares it.
//!
//! Everything SQLite knows about a table or an index follows from its
//! `CREATE` text in `sqlite_schema` (and, for an index, its table's): SQLite
//! parses that text to open the database. So each one is described once,
//! from the pragmas and the text ([`schema_sql`](super::schema_sql)), and
//! kept under its text in a [`Cache`]; describing the schema again costs
//! one read of `sqlite_schema` and a lookup per object, whatever the
//! number of migrations before.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;

use super::schema_sql::{canonical_sql, parse_index, parse_table};
use crate::Result;
use crate::verify::{Column, Object, Schema, Table};

/// Every object described so far, by its `CREATE` text (which names
/// it).
#[derive(Default)]
pub(super) struct Cache {
    /// SQL -> the table.
    tables: HashMap<String, Table>,
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

/// The snapshot text: every row of `main.sqlite_schema` but SQLite's own,
/// each field as its length in bytes, `:`, and its bytes, so that no text
/// in a name or a statement can be read as a separator. Built inside
/// SQLite: one string crosses into Rust, and comparing two of them is
/// comparing two schemas' every statement.
const SNAPSHOT: &str = "SELECT coalesce(group_concat(
        length(CAST(type AS BLOB)) || ':' || type
        || length(CAST(name AS BLOB)) || ':' || name
        || length(CAST(tbl_name AS BLOB)) || ':' || tbl_name
        || length(CAST(coalesce(sql, '') AS BLOB)) || ':' || coalesce(sql, ''), ''), '')
     FROM (SELECT type, name, tbl_name, sql FROM main.sqlite_schema
           WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name)";

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
                cache
                    .statements
                    .insert(row.sql.to_owned(), statement_of(row.sql));
            }
            "table" if !is_virtual(row.sql) && !cache.tables.contains_key(row.sql) => {
                let table = describe_table(conn, row.name, row.sql)?;
                cache.tables.insert(row.sql.to_owned(), table);
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
                if let Some(table) = cache.tables.get(row.sql) {
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
            _ => {}
        }
    }
    schema
}

fn is_virtual(sql: &str) -> bool {
    sql.split_whitespace()
        .nth(1)
        .is_some_and(|w| w.eq_ignore_ascii_case("virtual"))
}

/// A view, trigger or virtual table: its statement in canonical form.
fn statement_of(sql: &str) -> Object {
    Object {
        definition: canonical_sql(sql),
        shown: false,
        exact: None,
    }
}

/// A table: its columns (with what its SQL says of each), foreign keys,
/// checks, the indexes of its primary key and unique constraints, and its
/// options.
fn describe_table(conn: &Connection, name: &str, sql: &str) -> Result<Table> {
    let parsed = parse_table(sql).unwrap_or_default();
    let mut columns = Vec::new();
    let mut statement = conn.prepare_cached(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    let mut rows = statement.query([name])?;
    while let Some(r) = rows.next()? {
        let column: String = r.get(0)?;
        let declared: String = r.get(1)?;
        let not_null: bool = r.get(2)?;
        let default: Option<String> = r.get(3)?;
        let primary_key: i64 = r.get(4)?;
        let hidden: i64 = r.get(5)?;
        let from_sql = parsed
            .columns
            .iter()
            .find(|c| c.name == column.to_ascii_lowercase());
        let mut properties = Vec::new();
        if !declared.is_empty() {
            properties.push(("type", canonical_sql(&declared).to_ascii_uppercase()));
        }
        if not_null {
            let conflict = from_sql.and_then(|c| c.not_null_conflict.clone());
            properties.push((
                "not null",
                conflict.map_or("yes".into(), |c| format!("ON CONFLICT {c}")),
            ));
        }
        if let Some(default) = default.as_deref().and_then(default_value) {
            properties.push(("default", default));
        }
        if primary_key > 0 {
            properties.push(("primary key", "yes".into()));
        }
        properties.push((
            "collation",
            from_sql
                .and_then(|c| c.collation.clone())
                .unwrap_or_else(|| "BINARY".into()),
        ));
        if let Some(c) = from_sql {
            if c.autoincrement {
                properties.push(("autoincrement", "yes".into()));
            }
            if let Some(generated) = &c.generated {
                properties.push(("generated", generated.clone()));
            }
        }
        // 1: hidden in a virtual table; 2 and 3 are generated columns,
        // which the SQL describes.
        if hidden == 1 {
            properties.push(("hidden", "yes".into()));
        }
        columns.push(Column {
            // SQLite's names ignore ASCII case.
            name: column.to_ascii_lowercase(),
            properties,
        });
    }
    let mut constraints = foreign_keys(conn, name)?;
    constraints.extend(parsed.checks);
    constraints.extend(parsed.keys);
    constraints.extend(parsed.options);
    constraints.extend(key_indexes(conn, name, sql)?);
    Ok(Table {
        columns,
        constraints,
    })
}

/// A column's default as compared: none for `NULL` (no default is a
/// `NULL` default), without a leading `+`, and a double-quoted default
/// read as the string SQLite takes it for.
fn default_value(written: &str) -> Option<String> {
    let canonical = canonical_sql(written);
    let canonical = canonical.strip_prefix('+').unwrap_or(&canonical);
    if canonical == "null" {
        return None;
    }
    // A name as a default is the string of its text, case kept.
    let text = written.trim();
    let string = |inner: String| Some(format!("'{}'", inner.replace('\'', "''")));
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(b'"'), Some(b'"')) if text.len() >= 2 => {
            return string(text[1..text.len() - 1].replace("\"\"", "\""));
        }
        (Some(b'`'), Some(b'`')) if text.len() >= 2 => {
            return string(text[1..text.len() - 1].replace("``", "`"));
        }
        (Some(b'['), Some(b']')) => return string(text[1..text.len() - 1].to_owned()),
        _ => {}
    }
    let bare = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii());
    let keyword = [
        "current_date",
        "current_time",
        "current_timestamp",
        "true",
        "false",
    ]
    .contains(&text.to_ascii_lowercase().as_str());
    if bare && !keyword {
        return string(text.to_owned());
    }
    Some(canonical.to_owned())
}

/// One foreign key, gathered from its rows in `pragma_foreign_key_list`.
#[derive(Default)]
struct ForeignKey {
    columns: Vec<String>,
    parent: String,
    parent_columns: Vec<String>,
    on_update: String,
    on_delete: String,
    matching: String,
}

/// Each foreign key of a table, in one line.
fn foreign_keys(conn: &Connection, table: &str) -> Result<BTreeSet<String>> {
    let mut keys: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    let mut statement = conn.prepare_cached(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete, \"match\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let mut rows = statement.query([table])?;
    while let Some(r) = rows.next()? {
        let key = keys.entry(r.get(0)?).or_default();
        key.columns
            .push(r.get::<_, String>(2)?.to_ascii_lowercase());
        key.parent = r.get::<_, String>(1)?.to_ascii_lowercase();
        if let Some(column) = r.get::<_, Option<String>>(3)? {
            key.parent_columns.push(column.to_ascii_lowercase());
        }
        key.on_update = r.get(4)?;
        key.on_delete = r.get(5)?;
        key.matching = r.get(6)?;
    }
    Ok(keys
        .into_values()
        .map(|k| {
            // No parent columns: the parent's primary key.
            let parent_columns = if k.parent_columns.is_empty() {
                " (its primary key)".to_owned()
            } else {
                format!(" ({})", k.parent_columns.join(", "))
            };
            format!(
                "foreign key ({}) -> {}{parent_columns} ON UPDATE {} ON DELETE {}{}",
                k.columns.join(", "),
                k.parent,
                k.on_update,
                k.on_delete,
                if k.matching == "NONE" {
                    String::new()
                } else {
                    format!(" MATCH {}", k.matching)
                }
            )
        })
        .collect())
}

/// The collation of each column of a table, by lower-case name, that its
/// SQL names (the others are `BINARY`).
fn collations(table_sql: &str) -> HashMap<String, String> {
    parse_table(table_sql)
        .map(|t| {
            t.columns
                .into_iter()
                .filter_map(|c| c.collation.map(|coll| (c.name, coll)))
                .collect()
        })
        .unwrap_or_default()
}

/// The key columns of index `index`, with sort order and collation (when
/// it is not the column's own: a column's collation is its property), and
/// the expression of each `None` (from the index's SQL) in `expressions`.
fn index_columns(
    conn: &Connection,
    index: &str,
    expressions: &[String],
    columns_collation: &HashMap<String, String>,
) -> Result<Vec<String>> {
    let mut statement = conn.prepare_cached(
        "SELECT seqno, name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key ORDER BY seqno",
    )?;
    let mut rows = statement.query([index])?;
    let mut columns = Vec::new();
    while let Some(r) = rows.next()? {
        let seqno: i64 = r.get(0)?;
        let name: Option<String> = r.get(1)?;
        let descending: bool = r.get(2)?;
        let collation: Option<String> = r.get(3)?;
        let own = name
            .as_ref()
            .and_then(|n| columns_collation.get(&n.to_ascii_lowercase()))
            .map_or("BINARY", String::as_str);
        let mut term = name.map(|n| n.to_ascii_lowercase()).unwrap_or_else(|| {
            expressions
                .get(usize::try_from(seqno).unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_else(|| "<expression>".into())
        });
        if let Some(collation) = collation.filter(|c| !c.eq_ignore_ascii_case(own)) {
            term.push_str(" COLLATE ");
            term.push_str(&collation.to_ascii_uppercase());
        }
        if descending {
            term.push_str(" DESC");
        }
        columns.push(term);
    }
    Ok(columns)
}

/// The indexes of a table's primary key and unique constraints, one line
/// each. They are named after the table as it was created, which a
/// table's recreation changes: they are compared by what they index.
fn key_indexes(conn: &Connection, table: &str, sql: &str) -> Result<Vec<String>> {
    let columns_collation = collations(sql);
    let mut statement =
        conn.prepare_cached("SELECT name, origin FROM pragma_index_list(?1) WHERE origin <> 'c'")?;
    let indexes: Vec<(String, String)> = statement
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut lines = Vec::new();
    for (index, origin) in indexes {
        let columns = index_columns(conn, &index, &[], &columns_collation)?;
        let what = if origin == "pk" {
            "primary key"
        } else {
            "unique"
        };
        lines.push(format!("{what} ({})", columns.join(", ")));
    }
    Ok(lines)
}

/// An index made by `CREATE INDEX`: uniqueness, table, terms with sort
/// order and collation, and partial condition.
fn describe_index(
    conn: &Connection,
    name: &str,
    table: &str,
    sql: &str,
    table_sql: &str,
) -> Result<Object> {
    let parsed = parse_index(sql).unwrap_or_default();
    let unique = sql
        .split_whitespace()
        .nth(1)
        .is_some_and(|w| w.eq_ignore_ascii_case("unique"));
    let columns = index_columns(conn, name, &parsed.terms, &collations(table_sql))?;
    Ok(Object {
        definition: format!(
            "{}on {} ({}){}",
            if unique { "unique, " } else { "" },
            table.to_ascii_lowercase(),
            columns.join(", "),
            parsed
                .condition
                .map(|c| format!(" WHERE {c}"))
                .unwrap_or_default()
        ),
        shown: true,
        exact: None,
    })
}
