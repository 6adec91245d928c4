//! What SQLite keeps only in the SQL text of a table or an index, read
//! from it: a column's collation, generated expression and
//! `AUTOINCREMENT`, `CHECK` constraints, table options, an index's
//! expressions and partial clause. SQLite stores that text as written
//! (or as `ALTER TABLE` rewrote it) and parses it again each time it opens
//! the database; the pragmas give the rest.
//!
//! Expressions are compared in a canonical form: tokens as SQLite's
//! scanner reads them, comments and white space dropped, keywords and
//! names in lower case, quoted names unquoted. Two texts with the same
//! canonical form behave the same.

mod canonical;
mod constraints;

use crate::source::sql::{Dialect, tokens};
pub(super) use canonical::canonical;
use canonical::name;
pub(in crate::sqlite) use canonical::{canonical_sql, canonical_trigger, plain, unquote};
use constraints::{check, constraint_name, deferred_keys, key_clauses, key_columns, parse_column};

/// The index just past the parenthesis that closes the one at `open`.
fn past_close(tokens: &[&str], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match *token {
            "(" => depth += 1,
            ")" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// `tokens` split at the commas outside parentheses.
fn split_commas<'a, 'b>(tokens: &'b [&'a str]) -> Vec<&'b [&'a str]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "," if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// What a `CREATE TABLE` text says that the pragmas do not.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct TableSql {
    pub columns: Vec<ColumnSql>,
    /// Each `CHECK`, column or table level (the same to SQLite), as
    /// `check (expr)`, with its constraint name when it has one (which
    /// SQLite's error message shows).
    pub checks: Vec<String>,
    /// `without rowid`, `strict`.
    pub options: Vec<String>,
    /// What the pragmas do not say of keys: `foreign key (a) initially
    /// deferred`, `unique (a, b) on conflict REPLACE`, `primary key (a) on
    /// conflict IGNORE`.
    pub keys: Vec<String>,
}

/// What a column's definition says that the pragmas do not.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ColumnSql {
    /// Unquoted, lower case.
    pub name: String,
    /// The last `COLLATE`, upper case (SQLite's collation names ignore
    /// case).
    pub collation: Option<String>,
    /// `(expr) STORED` or `(expr) VIRTUAL`.
    pub generated: Option<String>,
    pub autoincrement: bool,
    /// The `ON CONFLICT` of its `NOT NULL`, upper case.
    pub not_null_conflict: Option<String>,
}

/// Words that start a column constraint.
const COLUMN_CONSTRAINTS: [&str; 10] = [
    "constraint",
    "primary",
    "not",
    "null",
    "unique",
    "check",
    "default",
    "collate",
    "references",
    "generated",
];

/// Words that start a table constraint.
const TABLE_CONSTRAINTS: [&str; 5] = ["constraint", "primary", "unique", "check", "foreign"];

/// Reads a `CREATE TABLE` text; `None` for one without a column list
/// (`CREATE TABLE ... AS SELECT`, whose columns the pragmas give).
pub(super) fn parse_table(sql: &str) -> Option<TableSql> {
    let tokens = tokens(sql, Dialect::Sqlite);
    let open = tokens.iter().position(|t| *t == "(")?;
    // `CREATE TABLE t AS SELECT (...)`: no column list.
    if tokens[..open].iter().any(|t| t.eq_ignore_ascii_case("as")) {
        return None;
    }
    let close = past_close(&tokens, open);
    let mut table = TableSql {
        options: split_commas(tokens.get(close..).unwrap_or_default())
            .into_iter()
            .filter(|o| !o.is_empty())
            .map(canonical)
            .collect(),
        ..TableSql::default()
    };
    let body = &tokens[open + 1..close.saturating_sub(1).max(open + 1)];
    let items = split_commas(body);
    table.keys.extend(deferred_keys(&items));
    for item in items {
        let Some(first) = item.first() else { continue };
        if TABLE_CONSTRAINTS.contains(&name(first).as_str()) {
            let (constraint, rest) = constraint_name(item);
            let word = |i: usize| rest.get(i).map(|t| name(t)).unwrap_or_default();
            match word(0).as_str() {
                "check" => table.checks.push(check(constraint, &rest[1..])),
                // `PRIMARY KEY (...)`, `UNIQUE (...)`.
                what @ ("primary" | "unique") => {
                    let open = if what == "unique" { 1 } else { 2 };
                    if rest.get(open) != Some(&"(") {
                        continue;
                    }
                    let close = past_close(rest, open);
                    let columns =
                        key_columns(&rest[open + 1..close.saturating_sub(1).max(open + 1)]);
                    let what = if what == "primary" {
                        "primary key"
                    } else {
                        "unique"
                    };
                    key_clauses(what, &columns, &rest[close..], &mut table.keys);
                }
                _ => {}
            }
        } else {
            let column = parse_column(item, &mut table.checks, &mut table.keys);
            table.columns.push(column);
        }
    }
    Some(table)
}

/// What a `CREATE INDEX` text says that the pragmas do not.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct IndexSql {
    /// Each indexed term, canonical, without its `COLLATE` and sort order
    /// (the pragmas give those).
    pub terms: Vec<String>,
    /// The partial index's condition, canonical.
    pub condition: Option<String>,
}

/// Reads a `CREATE INDEX` text.
pub(super) fn parse_index(sql: &str) -> Option<IndexSql> {
    let tokens = tokens(sql, Dialect::Sqlite);
    let on = tokens.iter().position(|t| name(t) == "on")?;
    let open = on + tokens[on..].iter().position(|t| *t == "(")?;
    let close = past_close(&tokens, open);
    let terms = split_commas(&tokens[open + 1..close.saturating_sub(1).max(open + 1)])
        .into_iter()
        .map(|term| {
            let mut end = term.len();
            loop {
                match term[..end].last().map(|t| name(t)).as_deref() {
                    Some("asc" | "desc") => end -= 1,
                    _ if end >= 2 && name(term[end - 2]) == "collate" => end -= 2,
                    _ => break,
                }
            }
            canonical(&term[..end])
        })
        .collect();
    let condition = tokens
        .get(close..)
        .filter(|rest| rest.first().is_some_and(|t| name(t) == "where"))
        .map(|rest| canonical(&rest[1..]));
    Some(IndexSql { terms, condition })
}

#[cfg(test)]
mod tests;
