//! The words the messages share: how a database, a line, a count, a
//! dirty migration's choices or another tool's table are said.

use super::{DatabaseError, ForeignKeyViolation};
use crate::Direction;
use crate::history::ForeignTable;
use crate::source::Problem;

impl ForeignTable {
    pub(super) fn hint(self, table: &str) -> String {
        let what = match self {
            ForeignTable::GolangMigrate => "golang-migrate's history table",
            ForeignTable::HomeMade => "the history table of another migration runner",
            ForeignTable::Sqlx => "sqlx's history table",
            ForeignTable::Other => {
                return format!(
                    "strata leaves it as it is: rename or drop {table} if it is not needed, or give strata another table name"
                );
            }
        };
        format!(
            "it looks like {what}: convert it into strata's, keeping every recorded version, with adopt (`strata adopt`, or Runner::adopt)"
        )
    }
}

/// Sequences as `name before -> after`, for messages.
pub(super) fn moved(sequences: &[crate::SequenceAdvanced]) -> String {
    crate::report::moved(sequences)
}

/// A database as a message's subject: `database app.db`, or the
/// backend's own words (`the PostgreSQL database`).
pub(super) fn database(path: &str) -> String {
    if path.starts_with("the ") {
        path.to_owned()
    } else {
        format!("database {path}")
    }
}

pub(super) fn at_line(line: Option<usize>) -> String {
    line.map_or_else(String::new, |line| format!(":{line}"))
}

pub(super) fn in_statement(statement: Option<&str>) -> String {
    statement.map_or_else(String::new, |s| format!(" (in `{s}`)"))
}

/// The `-- strata:no-transaction` hint for the errors a database gives a
/// statement that cannot run inside a transaction, where strata could not
/// tell beforehand (a procedure that commits, a function that vacuums).
pub(super) fn transaction_hint(cause: &DatabaseError, in_transaction: bool) -> &'static str {
    if in_transaction && cause.needs_no_transaction() {
        "; strata ran this migration inside a transaction: to run it without one, put `-- strata:no-transaction` at the top of the file"
    } else {
        ""
    }
}

/// The two ways to record a dirty migration's state after a repair: by
/// what the database holds now, applied in full or not at all.
pub(super) fn force_choices(version: u64, previous: Option<u64>, direction: Direction) -> String {
    let previous = previous.map_or_else(|| "none".to_owned(), |v| v.to_string());
    match direction {
        Direction::Up => format!(
            "`strata force {version}` if the migration is now applied in full, `strata force {previous}` if none of it is"
        ),
        Direction::Down => format!(
            "`strata force {previous}` if the migration is now reverted in full, `strata force {version}` if none of it is"
        ),
    }
}

/// What a failed no-transaction file may have left in the database.
pub(super) fn left_behind(file: &str, completed: bool, direction: Direction) -> String {
    if completed {
        return format!(
            "{file} ran to its end outside a transaction (`-- strata:no-transaction`), but strata could not record that it did"
        );
    }
    let example = match direction {
        Direction::Up => {
            "a table it created or, on PostgreSQL, an INVALID index left by a failed CREATE INDEX CONCURRENTLY"
        }
        Direction::Down => "a table it dropped while others are still there",
    };
    format!(
        "{file} runs outside a transaction (`-- strata:no-transaction`), so what it committed before the failure stays in the database, such as {example}"
    )
}

pub(super) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// One problem as it is; several under a line that counts them.
pub(super) fn folder_problems(folder: &str, problems: &[Problem]) -> String {
    match problems {
        [one] => one.to_string(),
        _ => {
            let list: String = problems.iter().map(|p| format!("\n  {p}")).collect();
            format!(
                "{} in migrations folder {folder}:{list}",
                count(problems.len(), "problem")
            )
        }
    }
}

pub(super) fn list_inline(violations: &[ForeignKeyViolation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
