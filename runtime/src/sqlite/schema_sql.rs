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

use crate::source::sql::{Dialect, tokens};
pub(super) use canonical::canonical;
use canonical::name;
pub(in crate::sqlite) use canonical::{canonical_sql, canonical_trigger, plain, unquote};

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

/// `CONSTRAINT name` at the start of `tokens`, and what follows it.
fn constraint_name<'a, 'b>(tokens: &'b [&'a str]) -> (Option<String>, &'b [&'a str]) {
    match tokens {
        [first, constraint, rest @ ..] if name(first) == "constraint" => {
            (Some(name(constraint)), rest)
        }
        _ => (None, tokens),
    }
}

/// A check as compared: `check (expr)` or `check name (expr)`.
fn check(constraint: Option<String>, expression: &[&str]) -> String {
    let end = if expression.first() == Some(&"(") {
        past_close(expression, 0)
    } else {
        expression.len()
    };
    // Within its own parentheses, which are the syntax's.
    let expression = match &expression[..end] {
        ["(", inside @ .., ")"] => format!("({})", canonical(inside)),
        other => canonical(other),
    };
    match constraint {
        Some(constraint) => format!("check {constraint} {expression}"),
        None => format!("check {expression}"),
    }
}

/// The columns of a key, by name (their collation and order are the
/// pragmas').
fn key_columns(list: &[&str]) -> String {
    split_commas(list)
        .iter()
        .filter_map(|term| term.first().map(|t| name(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A conflict clause after a primary key's or unique constraint's column
/// list: `ON CONFLICT x`, where x is not `ABORT` (the default, the same as
/// none).
fn key_clauses(what: &str, columns: &str, clause: &[&str], keys: &mut Vec<String>) {
    let words: Vec<String> = clause.iter().map(|t| name(t)).collect();
    for i in 0..words.len() {
        if words[i] == "on" && words.get(i + 1).is_some_and(|w| w == "conflict") {
            let algorithm = words.get(i + 2).cloned().unwrap_or_default();
            if !algorithm.eq_ignore_ascii_case("abort") {
                keys.push(format!(
                    "{what} ({columns}) on conflict {}",
                    algorithm.to_ascii_uppercase()
                ));
            }
            return;
        }
    }
}

/// The foreign keys that are `DEFERRABLE INITIALLY DEFERRED`, SQLite's
/// only deferred kind, as `foreign key (a) initially deferred`. As in
/// SQLite's parser, a deferral clause applies to the foreign key made
/// last in the table so far (by a column's `REFERENCES` or a `FOREIGN
/// KEY`), wherever it is written, and a later one overrides it.
fn deferred_keys(items: &[&[&str]]) -> Vec<String> {
    let mut keys: Vec<(String, bool)> = Vec::new();
    for item in items {
        let Some(first) = item.first() else { continue };
        let column = (!TABLE_CONSTRAINTS.contains(&name(first).as_str())).then(|| name(first));
        let word = |i: usize| item.get(i).map(|t| name(t)).unwrap_or_default();
        let mut i = usize::from(column.is_some());
        while i < item.len() {
            if item[i] == "(" {
                i = past_close(item, i);
                continue;
            }
            match word(i).as_str() {
                "references" if column.is_some() => {
                    keys.push((column.clone().unwrap_or_default(), false));
                }
                "foreign"
                    if column.is_none()
                        && word(i + 1) == "key"
                        && item.get(i + 2) == Some(&"(") =>
                {
                    let close = past_close(item, i + 2);
                    keys.push((
                        key_columns(&item[i + 3..close.saturating_sub(1).max(i + 3)]),
                        false,
                    ));
                    i = close;
                    continue;
                }
                "not" if word(i + 1) == "deferrable" => {
                    if let Some(last) = keys.last_mut() {
                        last.1 = false;
                    }
                    i += 2;
                    continue;
                }
                "deferrable" => {
                    if let Some(last) = keys.last_mut() {
                        last.1 = word(i + 1) == "initially" && word(i + 2) == "deferred";
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    keys.into_iter()
        .filter(|(_, deferred)| *deferred)
        .map(|(columns, _)| format!("foreign key ({columns}) initially deferred"))
        .collect()
}

/// One column definition: its name, its type (the pragmas have it), then
/// its constraints.
fn parse_column(item: &[&str], checks: &mut Vec<String>, keys: &mut Vec<String>) -> ColumnSql {
    let mut column = ColumnSql {
        name: name(item[0]),
        ..ColumnSql::default()
    };
    let word = |i: usize| item.get(i).map(|t| name(t)).unwrap_or_default();
    let starts_constraint = |i: usize| {
        let w = word(i);
        COLUMN_CONSTRAINTS.contains(&w.as_str()) || w == "as"
    };
    // The type: words and a parenthesised size, up to the first constraint.
    let mut i = 1;
    while i < item.len() && !starts_constraint(i) {
        i = if item[i] == "(" {
            past_close(item, i)
        } else {
            i + 1
        };
    }
    let mut constraint = None;
    // `ON CONFLICT x` after `i`, if there: x, and the index past it.
    let conflict = |i: usize| {
        (word(i) == "on" && word(i + 1) == "conflict")
            .then(|| (word(i + 2).to_ascii_uppercase(), i + 3))
    };
    while i < item.len() {
        match word(i).as_str() {
            "constraint" => {
                constraint = Some(word(i + 1));
                i += 2;
                continue;
            }
            "primary" => {
                i += 2;
                while matches!(word(i).as_str(), "asc" | "desc") {
                    i += 1;
                }
                if let Some((algorithm, next)) = conflict(i) {
                    keys.push(format!(
                        "primary key ({}) on conflict {algorithm}",
                        column.name
                    ));
                    i = next;
                }
                if word(i) == "autoincrement" {
                    column.autoincrement = true;
                    i += 1;
                }
            }
            "not" if word(i + 1) == "null" => {
                i += 2;
                if let Some((algorithm, next)) = conflict(i) {
                    column.not_null_conflict = (algorithm != "ABORT").then_some(algorithm);
                    i = next;
                }
            }
            "null" => {
                i += 1;
                if let Some((_, next)) = conflict(i) {
                    i = next;
                }
            }
            "unique" => {
                i += 1;
                if let Some((algorithm, next)) = conflict(i) {
                    if algorithm != "ABORT" {
                        keys.push(format!("unique ({}) on conflict {algorithm}", column.name));
                    }
                    i = next;
                }
            }
            "check" => {
                let end = if item.get(i + 1) == Some(&"(") {
                    past_close(item, i + 1)
                } else {
                    item.len()
                };
                checks.push(check(constraint.take(), &item[i + 1..end]));
                i = end;
            }
            "default" => {
                i += 1;
                if item.get(i) == Some(&"(") {
                    i = past_close(item, i);
                } else {
                    if matches!(item.get(i), Some(&"-" | &"+")) {
                        i += 1;
                    }
                    i += 1;
                }
            }
            "collate" => {
                column.collation = Some(word(i + 1).to_ascii_uppercase());
                i += 2;
            }
            "generated" | "as" => {
                while i < item.len() && item[i] != "(" {
                    i += 1;
                }
                let end = past_close(item, i);
                let kind = if word(end) == "stored" {
                    "STORED"
                } else {
                    "VIRTUAL"
                };
                let expression = match item.get(i..end).unwrap_or_default() {
                    ["(", inside @ .., ")"] => format!("({})", canonical(inside)),
                    other => canonical(other),
                };
                column.generated = Some(format!("{expression} {kind}"));
                i = end;
                if matches!(word(i).as_str(), "stored" | "virtual") {
                    i += 1;
                }
            }
            "references" => {
                // The foreign key clause (the pragmas have the rest) runs
                // to the next constraint; its `SET NULL` and `NOT
                // DEFERRABLE` are no `NULL` or `NOT NULL`.
                i += 1;
                while i < item.len() {
                    let w = word(i);
                    let ends = match w.as_str() {
                        "not" => word(i + 1) == "null",
                        "null" => word(i - 1) != "set",
                        w => COLUMN_CONSTRAINTS.contains(&w) || w == "as",
                    };
                    if ends && w != "references" {
                        break;
                    }
                    i = if item[i] == "(" {
                        past_close(item, i)
                    } else {
                        i + 1
                    };
                }
            }
            _ => i += 1,
        }
        constraint = None;
    }
    column
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
