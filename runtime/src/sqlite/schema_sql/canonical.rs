//! The canonical form of SQL as verify compares it: tokens as SQLite's
//! scanner reads them, comments and white space dropped, keywords and
//! names in lower case, a quoted name unquoted where that means the same.
//! Two texts with the same canonical form behave the same.

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
pub(in crate::sqlite) fn plain(name: &str) -> bool {
    name.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii())
        && !VALUES.contains(&name.to_ascii_lowercase().as_str())
}

/// The text inside a quoted token (`"a""b"`, `` `a` ``, `[a]`, and with
/// `strings`, `'a'`), case kept; `None` for a token that is not quoted so.
pub(in crate::sqlite) fn unquote(token: &str, strings: bool) -> Option<String> {
    let bytes = token.as_bytes();
    let (&first, &last) = (bytes.first()?, bytes.last()?);
    // Both ends are ASCII quotes, so the slice between them is on
    // character boundaries.
    let inner = || &token[1..token.len() - 1];
    match (first, last) {
        _ if token.len() < 2 => None,
        (b'[', b']') => Some(inner().to_owned()),
        (b'"', b'"') => Some(inner().replace("\"\"", "\"")),
        (b'`', b'`') => Some(inner().replace("``", "`")),
        (b'\'', b'\'') if strings => Some(inner().replace("''", "'")),
        _ => None,
    }
}

/// A token in canonical form: a string literal as written; a word in
/// lower case (SQLite's names and keywords ignore ASCII case); a quoted
/// name unquoted where that means the same (a plain identifier), else in
/// double quotes. A double-quoted token keeps its case: where no column
/// has its name, SQLite reads it as a string.
fn canonical_token(token: &str) -> String {
    if token.starts_with('\'') {
        return token.to_owned();
    }
    let Some(name) = unquote(token, false) else {
        return token.to_ascii_lowercase();
    };
    // Brackets and backticks only ever quote names.
    let name = if token.starts_with('"') {
        name
    } else {
        name.to_ascii_lowercase()
    };
    if plain(&name) && name == name.to_ascii_lowercase() {
        name
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
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

/// Words after which a parenthesised expression stands on its own: it is
/// the whole of a clause's expression when its `)` ends the clause.
const CLAUSES: [&str; 5] = ["where", "when", "having", "then", "else"];

/// Words (or the end, or `)`) that end such a clause.
const CLAUSE_ENDS: [&str; 14] = [
    ")",
    ";",
    "group",
    "order",
    "limit",
    "window",
    "union",
    "intersect",
    "except",
    "begin",
    "then",
    "else",
    "end",
    "when",
];

/// The index of the `)` that closes the `(` at `open`.
fn closing(tokens: &[&str], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match *token {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the tokens between a `(` and its `)` are one expression that
/// the parentheses only group: not empty, no top-level comma (a row value
/// or a list), not a subquery.
fn grouped(inside: &[&str]) -> bool {
    let Some(first) = inside.first() else {
        return false;
    };
    if ["select", "with", "values"].contains(&first.to_ascii_lowercase().as_str()) {
        return false;
    }
    let mut depth = 0usize;
    inside.iter().all(|token| {
        match *token {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "," if depth == 0 => return false,
            _ => {}
        }
        true
    })
}

/// `tokens` without the parentheses that change nothing, which SQLite's
/// parser drops: a pair directly inside another that holds nothing else
/// (`CHECK ((a >= 0))`), a pair around the whole of what is given (an
/// index's `WHERE` clause), and a pair around the whole expression of a
/// `WHERE`, `WHEN`, `HAVING`, `THEN` or `ELSE`. Others may group against
/// the operators' precedence, and stay.
fn without_grouping<'a>(tokens: &[&'a str]) -> Vec<&'a str> {
    let mut tokens = tokens.to_vec();
    let mut open = 0;
    while open < tokens.len() {
        if tokens[open] != "(" {
            open += 1;
            continue;
        }
        let Some(close) = closing(&tokens, open) else {
            break;
        };
        let before = open.checked_sub(1).map(|i| tokens[i].to_ascii_lowercase());
        let after = tokens.get(close + 1).map(|t| t.to_ascii_lowercase());
        let doubled = before.as_deref() == Some("(") && after.as_deref() == Some(")") && {
            closing(&tokens, open - 1) == Some(close + 1)
        };
        let whole = open == 0 && close + 1 == tokens.len();
        let clause = before.as_deref().is_some_and(|b| CLAUSES.contains(&b))
            && after.as_deref().is_none_or(|a| CLAUSE_ENDS.contains(&a));
        if (doubled || whole || clause) && grouped(&tokens[open + 1..close]) {
            tokens.remove(close);
            tokens.remove(open);
            // What is now at `open` may open a pair of its own, and the
            // pair around it may have become a doubled one.
            open = open.saturating_sub(1);
        } else {
            open += 1;
        }
    }
    tokens
}

/// `tokens` in canonical form, joined with single spaces where SQL needs
/// or usually has them; parentheses that only group a whole expression are
/// dropped (see [`without_grouping`]).
pub(crate) fn canonical(tokens: &[&str]) -> String {
    let tokens = without_grouping(tokens);
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
pub(crate) fn canonical_sql(sql: &str) -> String {
    let mut tokens = tokens(sql, Dialect::Sqlite);
    without_main(&mut tokens);
    canonical(&tokens)
}

/// Without the schema `main.` before a name: verify compares the objects
/// of `main`, where a view's or a trigger's names are looked up in `main`
/// whether written so or not (a temporary table of the same name does not
/// hide a table from them).
fn without_main(tokens: &mut Vec<&str>) {
    let mut i = 0;
    while i + 1 < tokens.len() {
        let after_dot = i > 0 && tokens[i - 1] == ".";
        if !after_dot && tokens[i + 1] == "." && canonical_token(tokens[i]) == "main" {
            tokens.drain(i..i + 2);
        } else {
            i += 1;
        }
    }
}

/// A name as SQLite compares it: unquoted, ASCII case folded.
pub(super) fn name(token: &str) -> String {
    unquote(token, true)
        .unwrap_or_else(|| token.to_owned())
        .to_ascii_lowercase()
}

/// The canonical form of a `CREATE TRIGGER`, without `FOR EACH ROW`, the
/// only kind of trigger SQLite has, written or not.
pub(crate) fn canonical_trigger(sql: &str) -> String {
    let mut tokens = tokens(sql, Dialect::Sqlite);
    let body = tokens
        .iter()
        .position(|t| t.eq_ignore_ascii_case("begin"))
        .unwrap_or(tokens.len());
    if let Some(at) = tokens[..body].windows(3).position(|w| {
        w[0].eq_ignore_ascii_case("for")
            && w[1].eq_ignore_ascii_case("each")
            && w[2].eq_ignore_ascii_case("row")
    }) {
        tokens.drain(at..at + 3);
    }
    without_main(&mut tokens);
    canonical(&tokens)
}
