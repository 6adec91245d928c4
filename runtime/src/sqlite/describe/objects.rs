//! One table or index as verify compares it: from the pragmas, and from
//! its SQL what only the SQL says (see `schema_sql`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;

use crate::Result;
use crate::schema::{Column, Object, Table};
use crate::sqlite::schema_sql::{
    TableSql, canonical_sql, parse_index, parse_table, plain, unquote,
};

/// What a table's description depends on besides its own SQL: each
/// table whose primary key a foreign key names without columns, with that
/// table's SQL then.
pub(super) type Parents = Vec<(String, String)>;

/// A table: its columns (with what its SQL says of each), foreign keys,
/// checks, the indexes of its primary key and unique constraints, and its
/// options.
pub(super) fn describe_table(
    conn: &Connection,
    name: &str,
    sql: &str,
    tables: &HashMap<String, &str>,
) -> Result<(Table, Parents)> {
    let parsed = parse_table(sql).unwrap_or_default();
    let mut columns = Vec::new();
    let mut statement = conn.prepare_cached(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    // A rowid alias (the one `INTEGER PRIMARY KEY` of a rowid table) never
    // holds NULL: its `NOT NULL` changes nothing.
    let key_columns: i64 = conn.query_row(
        "SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0",
        [name],
        |r| r.get(0),
    )?;
    let rowid = !parsed.options.iter().any(|o| o == "without rowid");
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
        let alias = rowid
            && key_columns == 1
            && primary_key == 1
            && declared.eq_ignore_ascii_case("INTEGER");
        if not_null && !alias {
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
        // The name as declared: SQLite compares names without their case,
        // but names a query's result columns (`SELECT *`) as declared,
        // which an application that maps rows by name reads with it.
        properties.push(("written as", column.clone()));
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
    let (mut constraints, parents) = foreign_keys(conn, name, tables)?;
    constraints.extend(key_indexes(conn, name, &collations(&parsed))?);
    constraints.extend(parsed.checks);
    constraints.extend(parsed.keys);
    constraints.extend(parsed.options);
    Ok((
        Table {
            columns,
            constraints,
        },
        parents,
    ))
}

/// A column's default as compared: none for `NULL` (no default is a
/// `NULL` default), without a leading `+`, a number as its value (see
/// [`number`]), and a double-quoted default read as the string SQLite
/// takes it for.
fn default_value(written: &str) -> Option<String> {
    let canonical = canonical_sql(written);
    let canonical = canonical.strip_prefix('+').unwrap_or(&canonical);
    if canonical == "null" {
        return None;
    }
    // A number as the value it stands for: `0x10`, `016` and `+16` are
    // 16, `1.`, `1e0` and `(1.0)` are 1.0, `true` is 1.
    if let Some(number) = number(canonical) {
        return Some(number);
    }
    // A name as a default is the string of its text, case kept.
    let text = written.trim();
    let name = unquote(text, false).or_else(|| plain(text).then(|| text.to_owned()));
    if let Some(name) = name {
        return Some(format!("'{}'", name.replace('\'', "''")));
    }
    Some(canonical.to_owned())
}

/// A default that is a number, or `true` or `false` (SQLite's 1 and 0),
/// maybe signed and in parentheses, as one text per value: an integer in
/// decimal, a real as Rust writes the `f64` (always with a `.` or an
/// exponent). `None` for anything else.
fn number(canonical: &str) -> Option<String> {
    // The canonical form spaces operators: `10e - 1` is `10e-1`.
    let joined: String = canonical.split(' ').collect();
    let mut text = joined.as_str();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner;
    }
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // A negated value beyond 64 bits (`-0x8000000000000000`, which SQLite
    // refuses anyway) is not read as a number.
    let integer = |value: i64| {
        if negative {
            value.checked_neg()
        } else {
            Some(value)
        }
        .map(|v| v.to_string())
    };
    match digits {
        "true" => return integer(1),
        "false" => return integer(0),
        _ => {}
    }
    if let Some(hex) = digits.strip_prefix("0x") {
        // SQLite reads up to 16 hex digits as a 64-bit pattern.
        return u64::from_str_radix(hex, 16)
            .ok()
            .and_then(|v| integer(v as i64));
    }
    let first = *digits.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'.')
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        // SQLite reads -9223372036854775808 as the smallest integer.
        if negative && digits.trim_start_matches('0') == "9223372036854775808" {
            return Some(i64::MIN.to_string());
        }
        if let Ok(value) = digits.parse::<i64>() {
            return integer(value);
        }
    }
    // A real, or an integer too large for 64 bits, which SQLite reads as
    // a real.
    let value: f64 = digits.parse().ok()?;
    Some(format!("{:?}", if negative { -value } else { value }))
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

/// Each foreign key of a table, in one line; a key that names no parent
/// columns names its parent's primary key, resolved.
fn foreign_keys(
    conn: &Connection,
    table: &str,
    tables: &HashMap<String, &str>,
) -> Result<(BTreeSet<String>, Parents)> {
    let mut parents = Parents::new();
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
    for key in keys.values_mut() {
        if !key.parent_columns.is_empty() {
            continue;
        }
        let mut statement =
            conn.prepare_cached("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?;
        key.parent_columns = statement
            .query_map([&key.parent], |r| r.get::<_, String>(0))?
            .map(|c| c.map(|c| c.to_ascii_lowercase()))
            .collect::<rusqlite::Result<_>>()?;
        let parent_sql = tables.get(&key.parent).copied().unwrap_or_default();
        parents.push((key.parent.clone(), parent_sql.to_owned()));
    }
    let lines = keys
        .into_values()
        .map(|k| {
            // Still none: a parent without a primary key (or none at all).
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
        .collect();
    Ok((lines, parents))
}

/// The collation of each column of a table, by lower-case name, that its
/// SQL names (the others are `BINARY`).
fn collations(table: &TableSql) -> HashMap<String, String> {
    table
        .columns
        .iter()
        .filter_map(|c| Some((c.name.clone(), c.collation.clone()?)))
        .collect()
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
fn key_indexes(
    conn: &Connection,
    table: &str,
    columns_collation: &HashMap<String, String>,
) -> Result<Vec<String>> {
    let mut statement =
        conn.prepare_cached("SELECT name, origin FROM pragma_index_list(?1) WHERE origin <> 'c'")?;
    let indexes: Vec<(String, String)> = statement
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut lines = Vec::new();
    for (index, origin) in indexes {
        let columns = index_columns(conn, &index, &[], columns_collation)?;
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
pub(super) fn describe_index(
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
    let columns = index_columns(
        conn,
        name,
        &parsed.terms,
        &collations(&parse_table(table_sql).unwrap_or_default()),
    )?;
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

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::default_value;

    /// Two defaults read the same exactly when SQLite stores the same
    /// value for them (in a column without a type, which converts
    /// nothing): the database is the authority.
    #[test]
    fn defaults_are_the_same_when_sqlite_stores_the_same() {
        let spellings = [
            "1",
            "+1",
            "01",
            "(1)",
            "((+1))",
            "0x1",
            "0X01",
            "true",
            "TRUE",
            "1.0",
            "1.",
            "1e0",
            "(1.0)",
            "10e-1",
            ".1e1",
            "-1",
            "- 1",
            "-01",
            "-0x1",
            "0x10",
            "16",
            "16.0",
            "false",
            "0",
            "0.0",
            "-0",
            "'1'",
            "'true'",
            "\"true\"",
            "X",
            "'X'",
            "\"X\"",
            "x",
            "9223372036854775807",
            "9223372036854775808",
            "9.223372036854775808e18",
            "0xffffffffffffffff",
            "-9223372036854775808",
            "-9.223372036854775808e18",
            "9.223372036854775808e18",
            "0x8000000000000000",
            "1e400",
            "NULL",
            "null",
            "'a''b'",
            "x'41'",
            "X'41'",
        ];
        let conn = Connection::open_in_memory().unwrap();
        let stored: Vec<String> = spellings
            .iter()
            .map(|spelling| {
                conn.execute_batch(&format!(
                    "DROP TABLE IF EXISTS t; CREATE TABLE t (k INTEGER PRIMARY KEY, a DEFAULT {spelling});
                     INSERT INTO t (k) VALUES (1);"
                ))
                .unwrap();
                conn.query_row("SELECT typeof(a) || ':' || quote(a) FROM t", [], |r| r.get(0))
                    .unwrap()
            })
            .collect();
        for (i, a) in spellings.iter().enumerate() {
            for (j, b) in spellings.iter().enumerate() {
                let same_value = stored[i] == stored[j];
                let same_default = default_value(a) == default_value(b);
                assert_eq!(
                    same_default,
                    same_value,
                    "DEFAULT {a} ({}, read {:?}) and DEFAULT {b} ({}, read {:?})",
                    stored[i],
                    default_value(a),
                    stored[j],
                    default_value(b)
                );
            }
        }
    }
}
