//! The content of one migration file: its directives, whether it holds
//! SQL, and the statements refused inside strata's transaction.

use crate::sql::{self, Dialect};
use crate::{Direction, Problem};

/// About how many characters of a refused statement a message shows.
pub const REFUSED_SHOWN: usize = 60;

/// What the directives of a file say.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Directives {
    /// `-- strata:no-transaction`.
    pub no_transaction: bool,
    /// `-- strata:irreversible`.
    pub irreversible: bool,
    /// `-- strata:no-op`: the file is meant to hold no SQL.
    pub no_op: bool,
}

/// Checks the content of one file, named `file` in messages.
///
/// Directives are `--` comments above the first statement. A file needs
/// SQL, unless it is marked `-- strata:no-op` (meant to do nothing, as
/// golang-migrate runs an empty file) or, a down file, irreversible; such a
/// file may hold nothing else. A file that strata runs inside its own transaction must
/// not begin, commit or roll back one itself.
pub fn check_sql(
    sql: &str,
    file: &str,
    direction: Direction,
    up_name: &str,
    problems: &mut Vec<Problem>,
) -> Directives {
    let text = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    // The database is not known at build time: the file is split as each
    // dialect splits it, and only what both see is judged (a directive is
    // a comment to both, a refused statement a statement to both). The
    // backend judges the rest by its own dialect before it runs the file.
    let lexes = Dialect::ALL.map(|d| sql::lex(text, d));
    let first_token = lexes
        .iter()
        .filter_map(sql::Lexed::first_token)
        .min()
        .unwrap_or(usize::MAX);
    let mut found = Directives::default();
    let mut irreversible_line = None;
    let mut no_op_line = None;
    let [sqlite, postgres] = &lexes;
    let comments = in_both(&sqlite.line_comments, &postgres.line_comments, |c| c.start);
    for (comment, _) in comments {
        let Some(directive) = comment.body.trim_start().strip_prefix("strata:") else {
            continue;
        };
        let directive = directive.split_whitespace().next().unwrap_or("").to_owned();
        let line = sql::line_of(text, comment.start);
        if comment.start > first_token {
            problems.push(Problem::DirectiveAfterSql {
                file: file.to_owned(),
                line,
                directive,
            });
            continue;
        }
        match directive.as_str() {
            "no-transaction" => found.no_transaction = true,
            "irreversible" => {
                found.irreversible = true;
                irreversible_line = Some(line);
            }
            "no-op" => {
                found.no_op = true;
                no_op_line = Some(line);
            }
            _ => problems.push(Problem::UnknownDirective {
                file: file.to_owned(),
                line,
                directive,
            }),
        }
    }
    let file = file.to_owned();
    // Empty when neither dialect sees a statement (one that sees none runs
    // nothing, as the database would); the first SQL is where either sees
    // it begin.
    let first = lexes
        .iter()
        .map(|l| l.statements.first())
        .min_by_key(|s| s.map_or(usize::MAX, |s| s.start))
        .flatten();
    let empty = lexes.iter().all(|l| l.statements.is_empty());
    match direction {
        Direction::Up if found.irreversible => problems.push(Problem::IrreversibleUp {
            file: file.clone(),
            line: irreversible_line.unwrap_or(1),
        }),
        Direction::Down if found.irreversible && found.no_op => {
            problems.push(Problem::NoOpIrreversible {
                file: file.clone(),
                line: irreversible_line.max(no_op_line).unwrap_or(1),
            });
        }
        _ if found.no_op => {
            if let Some(first) = first {
                problems.push(Problem::NoOpWithSql {
                    file: file.clone(),
                    line: first.line,
                });
            }
        }
        Direction::Up if empty => problems.push(Problem::EmptyUp { file: file.clone() }),
        Direction::Down if found.irreversible => {
            if let Some(first) = first {
                problems.push(Problem::IrreversibleWithSql {
                    file: file.clone(),
                    line: first.line,
                });
            }
        }
        Direction::Down if empty => problems.push(Problem::EmptyDown {
            file: file.clone(),
            up: up_name.to_owned(),
        }),
        _ => {}
    }
    if !found.no_transaction {
        // A file that uses what only one dialect has (a dollar quote, a
        // `[name]`) is judged by that dialect alone: the other one's reading
        // of it means nothing, and may hide the rest of the file. Otherwise
        // the statements both dialects see are judged by the rules of both.
        let refused: Vec<(&sql::Statement<'_>, sql::Refusal)> =
            match (sqlite.dialect_specific, postgres.dialect_specific) {
                (true, false) => refusals(sqlite.statements.iter()),
                (false, true) => refusals(postgres.statements.iter()),
                _ => in_both(&sqlite.statements, &postgres.statements, |s| s.start)
                    .filter_map(|(s, other)| Some((s, s.refusal().or_else(|| other.refusal())?)))
                    .collect(),
            };
        for (statement, refusal) in refused {
            problems.push(Problem::RefusedInTransaction {
                file: file.clone(),
                line: statement.line,
                statement: statement.shortened(REFUSED_SHOWN),
                refusal,
            });
        }
    }
    found
}

/// The statements refused inside a transaction, with why.
fn refusals<'l, 'a: 'l>(
    statements: impl Iterator<Item = &'l sql::Statement<'a>>,
) -> Vec<(&'l sql::Statement<'a>, sql::Refusal)> {
    statements.filter_map(|s| Some((s, s.refusal()?))).collect()
}

/// The pairs of items, one from each list (both in ascending order of
/// offset), that begin at the same offset: what both dialects agree on.
fn in_both<'l, T>(
    first: &'l [T],
    second: &'l [T],
    start: impl Fn(&T) -> usize,
) -> impl Iterator<Item = (&'l T, &'l T)> {
    let mut others = second.iter().peekable();
    first.iter().filter_map(move |item| {
        let at = start(item);
        while others.next_if(|o| start(o) < at).is_some() {}
        others
            .next_if(|o| start(o) == at)
            .map(|other| (item, other))
    })
}
