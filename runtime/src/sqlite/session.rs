//! The connection state every migration starts from. SQLite keeps some
//! settings per connection, not per transaction: a `PRAGMA` that a file
//! runs stays in force for every later file and for the application after
//! the run, even when the file's transaction is rolled back. `PRAGMA
//! foreign_keys = ON` at the end of one file would make the next file's
//! table recreation cascade deletes into child tables.
//!
//! strata reads these settings before the first file of a run whose text
//! holds the word `PRAGMA` (SQLite applies many pragmas as it prepares
//! them, so later is too late), and puts them back after every file that
//! assigned one (the authorizer reports each assignment). Files that hold
//! none cost one scan of their text.

use rusqlite::Connection;
use rusqlite::types::Value;

/// The connection-level pragmas that change how later SQL runs, what
/// strata's own statements do, or how they are committed. Each is read as a
/// table-valued function; `case_sensitive_like`, which cannot be read, is
/// read through its effect.
const PRAGMAS: [&str; 21] = [
    "foreign_keys",
    "legacy_alter_table",
    "recursive_triggers",
    "ignore_check_constraints",
    "reverse_unordered_selects",
    "automatic_index",
    "trusted_schema",
    "query_only",
    "writable_schema",
    "cell_size_check",
    "synchronous",
    "secure_delete",
    "temp_store",
    "cache_size",
    "cache_spill",
    "busy_timeout",
    "analysis_limit",
    "journal_size_limit",
    "locking_mode",
    "checkpoint_fullfsync",
    "fullfsync",
];

const CASE_SENSITIVE_LIKE: &str = "case_sensitive_like";

/// The values of [`PRAGMAS`] and of `case_sensitive_like`, in that order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pragmas(Vec<Value>);

/// One statement that reads every setting: each pragma's function gives
/// one row of one column.
fn select() -> String {
    let functions: Vec<String> = PRAGMAS
        .iter()
        .map(|name| format!("pragma_{name}()"))
        .collect();
    format!("SELECT *, NOT ('a' LIKE 'A') FROM {}", functions.join(", "))
}

/// The settings now.
pub(super) fn read(conn: &Connection) -> rusqlite::Result<Pragmas> {
    let mut statement = conn.prepare_cached(&select())?;
    statement.query_row([], |row| {
        (0..=PRAGMAS.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map(Pragmas)
    })
}

/// Puts back every setting that differs from `saved`; returns the names of
/// those it put back. `foreign_keys` changes only outside a transaction,
/// and a file inside one cannot change it (the authorizer refuses it).
pub(super) fn restore(conn: &Connection, saved: &Pragmas) -> rusqlite::Result<Vec<&'static str>> {
    let now = read(conn)?;
    let mut restored = Vec::new();
    let names = PRAGMAS.iter().copied().chain([CASE_SENSITIVE_LIKE]);
    for ((name, was), is) in names.zip(&saved.0).zip(&now.0) {
        if was == is {
            continue;
        }
        let value = match was {
            Value::Integer(n) => n.to_string(),
            // `locking_mode`: a keyword.
            Value::Text(word) if word.chars().all(|c| c.is_ascii_alphabetic()) => word.clone(),
            _ => continue,
        };
        conn.execute_batch(&format!("PRAGMA {name} = {value}"))?;
        restored.push(name);
    }
    Ok(restored)
}
