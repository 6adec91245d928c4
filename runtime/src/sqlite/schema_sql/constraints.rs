//! A table's constraints and a column's definition, read from the
//! `CREATE TABLE` text: checks, keys with their clauses, collation,
//! generated expression, `AUTOINCREMENT`.

use super::canonical::{canonical, name};
use super::{COLUMN_CONSTRAINTS, ColumnSql, TABLE_CONSTRAINTS, past_close, split_commas};

/// `CONSTRAINT name` at the start of `tokens`, and what follows it.
pub(super) fn constraint_name<'a, 'b>(tokens: &'b [&'a str]) -> (Option<String>, &'b [&'a str]) {
    match tokens {
        [first, constraint, rest @ ..] if name(first) == "constraint" => {
            (Some(name(constraint)), rest)
        }
        _ => (None, tokens),
    }
}

/// A check as compared: `check (expr)` or `check name (expr)`.
pub(super) fn check(constraint: Option<String>, expression: &[&str]) -> String {
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
pub(super) fn key_columns(list: &[&str]) -> String {
    split_commas(list)
        .iter()
        .filter_map(|term| term.first().map(|t| name(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A conflict clause after a primary key's or unique constraint's column
/// list: `ON CONFLICT x`, where x is not `ABORT` (the default, the same as
/// none).
pub(super) fn key_clauses(what: &str, columns: &str, clause: &[&str], keys: &mut Vec<String>) {
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
pub(super) fn deferred_keys(items: &[&[&str]]) -> Vec<String> {
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
pub(super) fn parse_column(
    item: &[&str],
    checks: &mut Vec<String>,
    keys: &mut Vec<String>,
) -> ColumnSql {
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
