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

use crate::source::sql::{Dialect, tokens};

/// Words that a quoted name must not become when it is unquoted: bare,
/// they are values, not names.
const VALUES: [&str; 6] = [
    "current_date",
    "current_time",
    "current_timestamp",
    "true",
    "false",
    "null",
];

/// A name that means the same quoted or not: a plain identifier that is
/// not a value.
fn plain(name: &str) -> bool {
    name.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii())
        && !VALUES.contains(&name.to_ascii_lowercase().as_str())
}

/// A token in canonical form: a string literal as written; a word in
/// lower case (SQLite's names and keywords ignore ASCII case); a quoted
/// name unquoted where that means the same (a plain identifier), else in
/// double quotes. A double-quoted token keeps its case: where no column
/// has its name, SQLite reads it as a string.
fn canonical_token(token: &str) -> String {
    let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    match token.as_bytes().first() {
        Some(b'\'') => token.to_owned(),
        Some(b'"') if token.len() >= 2 => {
            let name = token[1..token.len() - 1].replace("\"\"", "\"");
            if plain(&name) && name == name.to_ascii_lowercase() {
                name
            } else {
                quoted(&name)
            }
        }
        Some(b'`') if token.len() >= 2 => {
            let name = token[1..token.len() - 1]
                .replace("``", "`")
                .to_ascii_lowercase();
            if plain(&name) { name } else { quoted(&name) }
        }
        Some(b'[') if token.len() >= 2 => {
            let name = token[1..token.len() - 1].to_ascii_lowercase();
            if plain(&name) { name } else { quoted(&name) }
        }
        _ => token.to_ascii_lowercase(),
    }
}

/// Whether `next` starts where `previous` ends in the text both are
/// slices of.
fn adjacent(previous: &str, next: &str) -> bool {
    previous.as_ptr() as usize + previous.len() == next.as_ptr() as usize
}

/// Operators that the scanner reads as two one-character tokens, written
/// back without a space between them.
const PAIRS: [&str; 9] = [">=", "<=", "<>", "!=", "==", "||", "<<", ">>", "->"];

/// `tokens` in canonical form, joined with single spaces where SQL needs
/// or usually has them.
pub(super) fn canonical(tokens: &[&str]) -> String {
    let mut out = String::new();
    let mut previous = String::new();
    // A sign that starts an expression or follows `(` or `,`: unary.
    let mut unary = false;
    let mut i = 0;
    while i < tokens.len() {
        // `x'41'` is one blob; `x '41'` a name and a string.
        let token = match tokens.get(i + 1) {
            Some(next)
                if tokens[i].eq_ignore_ascii_case("x")
                    && next.starts_with('\'')
                    && adjacent(tokens[i], next) =>
            {
                i += 1;
                format!("x{}", next.to_ascii_lowercase())
            }
            _ => canonical_token(tokens[i]),
        };
        i += 1;
        let glued = unary
            || previous == "("
            || (token == "("
                && previous
                    .bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_'))
            || previous == "."
            || token == ")"
            || token == ","
            || token == "."
            || PAIRS.contains(&format!("{previous}{token}").as_str());
        if !out.is_empty() && !glued {
            out.push(' ');
        }
        unary = (token == "-" || token == "+")
            && (out.is_empty() || matches!(previous.as_str(), "(" | ","));
        out.push_str(&token);
        previous = token;
    }
    out
}

/// The canonical form of a whole statement (a view's or a trigger's).
pub(super) fn canonical_sql(sql: &str) -> String {
    canonical(&tokens(sql, Dialect::Sqlite))
}

/// A name as SQLite compares it: unquoted, ASCII case folded.
fn name(token: &str) -> String {
    let inner = |quote: &str| {
        token[1..token.len() - 1]
            .replace(&quote.repeat(2), quote)
            .to_ascii_lowercase()
    };
    match token.as_bytes().first() {
        Some(b'"') if token.len() >= 2 => inner("\""),
        Some(b'`') if token.len() >= 2 => inner("`"),
        Some(b'\'') if token.len() >= 2 => inner("'"),
        Some(b'[') if token.len() >= 2 => token[1..token.len() - 1].to_ascii_lowercase(),
        _ => token.to_ascii_lowercase(),
    }
}

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
    match constraint {
        Some(constraint) => format!("check {constraint} {}", canonical(&expression[..end])),
        None => format!("check {}", canonical(&expression[..end])),
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
                column.generated = Some(format!("{} {kind}", canonical(&item[i..end])));
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
mod tests {
    use super::*;

    #[test]
    fn columns_checks_and_options() {
        let table = parse_table(
            "CREATE TABLE \"T\" (id INTEGER PRIMARY KEY AUTOINCREMENT, -- the key\n\
             [Name] VARCHAR(20) NOT NULL ON CONFLICT IGNORE COLLATE nocase CHECK(length(name)>0),\n\
             parent INT REFERENCES t(id) ON DELETE SET NULL NOT DEFERRABLE NOT NULL,\n\
             total AS (id * 2) STORED, twice INT GENERATED ALWAYS AS (id+id),\n\
             CONSTRAINT positive CHECK (id >= 0), UNIQUE (name COLLATE binary)) WITHOUT ROWID, STRICT",
        )
        .unwrap();
        assert_eq!(table.options, ["without rowid", "strict"]);
        assert_eq!(
            table.checks,
            ["check (length(name) > 0)", "check positive (id >= 0)"]
        );
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "name", "parent", "total", "twice"]);
        assert!(table.columns[0].autoincrement);
        assert_eq!(table.columns[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(
            table.columns[1].not_null_conflict.as_deref(),
            Some("IGNORE")
        );
        assert_eq!(table.columns[2].collation, None);
        let spaced = parse_table("CREATE TABLE t (\"a \"\"b\" TEXT COLLATE NOCASE)").unwrap();
        assert_eq!(spaced.columns[0].name, "a \"b");
        assert_eq!(spaced.columns[0].collation.as_deref(), Some("NOCASE"));
        assert_eq!(
            table.columns[3].generated.as_deref(),
            Some("(id * 2) STORED")
        );
        assert_eq!(
            table.columns[4].generated.as_deref(),
            Some("(id + id) VIRTUAL")
        );
    }

    #[test]
    fn index_terms_and_condition() {
        let index = parse_index(
            "CREATE UNIQUE INDEX i ON t (lower(name) COLLATE NOCASE DESC, \"id\") WHERE deleted IS NULL",
        )
        .unwrap();
        assert_eq!(index.terms, ["lower(name)", "id"]);
        assert_eq!(index.condition.as_deref(), Some("deleted is null"));
    }

    #[test]
    fn canonical_form_ignores_layout_case_quotes_and_comments() {
        assert_eq!(
            canonical_sql("CREATE VIEW v AS SELECT \"a\" , b/*x*/FROM [t] WHERE a>='X'"),
            canonical_sql("create view V as\n  select a, B from t -- c\n where A >= 'X'")
        );
        assert_ne!(
            canonical_sql("CREATE VIEW v AS SELECT 'a'"),
            canonical_sql("CREATE VIEW v AS SELECT 'A'")
        );
        assert_eq!(canonical_sql("-1"), "-1");
        assert_eq!(canonical_sql("f(-1, +2) - 3"), "f(-1, +2) - 3");
    }

    /// SQLite is the authority: for tables built from random column
    /// definitions (quoting, comments, every kind of constraint in any
    /// order), what the parser reads of each column is what SQLite does.
    /// The collation SQLite gives a column shows in an index on it that
    /// names none; a generated column's kind in `pragma_table_xinfo`.
    mod against_sqlite {
        use super::*;
        use proptest::prelude::*;
        use rusqlite::Connection;

        fn clause() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("NOT NULL".to_owned()),
                Just("NOT NULL ON CONFLICT REPLACE".to_owned()),
                Just("NULL".to_owned()),
                Just("UNIQUE".to_owned()),
                Just("DEFAULT 'x'".to_owned()),
                Just("DEFAULT -1".to_owned()),
                Just("DEFAULT (1 + 2)".to_owned()),
                Just("DEFAULT CURRENT_TIMESTAMP".to_owned()),
                Just("COLLATE NOCASE".to_owned()),
                Just("COLLATE \"rtrim\"".to_owned()),
                Just("collate binary".to_owned()),
                Just("CONSTRAINT c1 CHECK (length(x) < 5)".to_owned()),
                Just("CHECK(x <> 'bad')".to_owned()),
                Just("REFERENCES p(id) ON DELETE SET NULL".to_owned()),
                Just("REFERENCES p ON UPDATE CASCADE NOT DEFERRABLE".to_owned()),
                Just("REFERENCES \"p\" (id) DEFERRABLE INITIALLY DEFERRED".to_owned()),
                Just("/* c */".to_owned()),
                Just("-- c\n".to_owned()),
            ]
        }

        fn column() -> impl Strategy<Value = (String, Vec<String>)> {
            (
                prop_oneof![
                    Just(""),
                    Just("TEXT"),
                    Just("VARCHAR(10)"),
                    Just("unsigned big int"),
                    Just("\"TEXT\"")
                ],
                proptest::collection::vec(clause(), 0..4),
                prop_oneof![
                    Just(""),
                    Just("GENERATED ALWAYS AS (x || 'g') STORED"),
                    Just("AS (upper(x))"),
                    Just("AS (x) VIRTUAL")
                ],
            )
                .prop_map(|(kind, mut clauses, generated)| {
                    // A generated column takes no default.
                    if !generated.is_empty() {
                        clauses.retain(|c| !c.starts_with("DEFAULT"));
                        clauses.push(generated.to_owned());
                    }
                    (kind.to_owned(), clauses)
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn parser_reads_what_sqlite_does(columns in proptest::collection::vec(column(), 1..5), quote in any::<bool>()) {
                let conn = Connection::open_in_memory().unwrap();
                conn.execute_batch("CREATE TABLE p (id INTEGER PRIMARY KEY)").unwrap();
                let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
                let definitions: Vec<String> = columns
                    .iter()
                    .zip(&names)
                    .map(|((kind, clauses), name)| {
                        let name = if quote { format!("\"{name}\"") } else { name.clone() };
                        format!("{name} {kind} {}", clauses.join(" "))
                    })
                    .collect();
                let sql = format!("CREATE TABLE t (x TEXT, {})", definitions.join(",\n"));
                // SQLite refuses some mixes (a generated column with a
                // foreign key to another table is fine; two clauses that
                // clash are not): those say nothing.
                prop_assume!(conn.execute_batch(&sql).is_ok());
                let parsed = parse_table(&sql).unwrap();
                prop_assert_eq!(parsed.columns.len(), columns.len() + 1);
                for (i, name) in names.iter().enumerate() {
                    let column = &parsed.columns[i + 1];
                    prop_assert_eq!(&column.name, name);
                    conn.execute_batch(&format!("CREATE INDEX probe ON t ({name})")).unwrap();
                    let collation: String = conn
                        .query_row("SELECT coll FROM pragma_index_xinfo('probe') WHERE key", [], |r| r.get(0))
                        .unwrap();
                    conn.execute_batch("DROP INDEX probe").unwrap();
                    prop_assert_eq!(
                        column.collation.clone().unwrap_or_else(|| "BINARY".into()),
                        collation.to_ascii_uppercase(),
                        "{}", sql
                    );
                    let hidden: i64 = conn
                        .query_row("SELECT hidden FROM pragma_table_xinfo('t') WHERE name = ?1", [name], |r| r.get(0))
                        .unwrap();
                    let kind = column.generated.as_deref().map(|g| g.rsplit(' ').next().unwrap());
                    prop_assert_eq!(kind, match hidden { 2 => Some("VIRTUAL"), 3 => Some("STORED"), _ => None }, "{}", sql);
                }
                // Every CHECK clause is found, none taken from a foreign
                // key clause or a comment.
                let checks = columns.iter().flat_map(|(_, c)| c).filter(|c| c.contains("CHECK")).count();
                prop_assert_eq!(parsed.checks.len(), checks, "{}", sql);
            }
        }

        /// Deferral, against SQLite: a foreign key is deferred exactly
        /// when a row that breaks it is taken until the commit. Clauses
        /// stand anywhere after the key, among other clauses, and at table
        /// level.
        fn deferral() -> impl Strategy<Value = &'static str> {
            prop_oneof![
                Just(""),
                Just("DEFERRABLE INITIALLY DEFERRED"),
                Just("deferrable initially immediate"),
                Just("DEFERRABLE"),
                Just("NOT DEFERRABLE"),
                Just("NOT DEFERRABLE INITIALLY DEFERRED"),
            ]
        }

        fn other() -> impl Strategy<Value = &'static str> {
            prop_oneof![
                Just(""),
                Just("DEFAULT NULL"),
                Just("COLLATE NOCASE"),
                Just("CHECK (1)"),
                Just("/* c */"),
                Just("UNIQUE"),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn deferral_is_read_as_sqlite_does(
                columns in proptest::collection::vec(
                    (0..3u8, deferral(), other(), deferral(), other()),
                    1..5,
                ),
            ) {
                let conn = Connection::open_in_memory().unwrap();
                conn.execute_batch("PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY)").unwrap();
                let mut definitions = Vec::new();
                let mut table_keys = Vec::new();
                for (i, (key, first, between, second, after)) in columns.iter().enumerate() {
                    let name = format!("c{i}");
                    match key {
                        // A column-level key with clauses around it.
                        0 => definitions.push(format!("{name} INT {between} REFERENCES p (id) {first} {after} {second}")),
                        // A table-level key.
                        1 => {
                            definitions.push(format!("{name} INT {between} {first}"));
                            table_keys.push(format!("FOREIGN KEY ({name}) REFERENCES p {second}"));
                        }
                        // No key: a stray clause applies to an earlier key.
                        _ => definitions.push(format!("{name} INT {between} {first} {after}")),
                    }
                }
                definitions.extend(table_keys);
                let sql = format!("CREATE TABLE t ({})", definitions.join(", "));
                prop_assume!(conn.execute_batch(&sql).is_ok());
                let parsed = parse_table(&sql).unwrap();
                for i in 0..columns.len() {
                    let name = format!("c{i}");
                    let keyed: i64 = conn
                        .query_row("SELECT count(*) FROM pragma_foreign_key_list('t') WHERE \"from\" = ?1", [&name], |r| r.get(0))
                        .unwrap();
                    if keyed == 0 {
                        continue;
                    }
                    conn.execute_batch("BEGIN").unwrap();
                    let taken = conn.execute_batch(&format!("INSERT INTO t ({name}) VALUES (999)")).is_ok();
                    conn.execute_batch("ROLLBACK").unwrap();
                    let line = format!("foreign key ({name}) initially deferred");
                    prop_assert_eq!(parsed.keys.contains(&line), taken, "{}\n{:?}", sql, parsed.keys);
                }
            }
        }
    }
}
