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

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// The connection-level pragmas that change how later SQL runs, what
/// strata's own statements do, or how they are committed. A pragma this
/// SQLite was built without reads as nothing and is skipped.
const PRAGMAS: [&str; 29] = [
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
    "journal_mode",
    "max_page_count",
    "wal_autocheckpoint",
    "mmap_size",
    "count_changes",
    "full_column_names",
    "short_column_names",
    "empty_result_callbacks",
];

/// The pragmas of [`PRAGMAS`] that each attached database has its own of,
/// read (unqualified) as the main database's. (`locking_mode` unqualified
/// reads and sets the connection's default, which is what a file sets.)
const PER_DATABASE: [&str; 8] = [
    "synchronous",
    "secure_delete",
    "cache_size",
    "cache_spill",
    "journal_size_limit",
    "journal_mode",
    "max_page_count",
    "mmap_size",
];

/// Cannot be read: read through its effect.
const CASE_SENSITIVE_LIKE: &str = "case_sensitive_like";

/// The values of [`PRAGMAS`] and of `case_sensitive_like`, in that order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pragmas(Vec<Value>);

/// The settings now: a statement each, cached, run only around files that
/// hold a pragma.
pub(super) fn read(conn: &Connection) -> rusqlite::Result<Pragmas> {
    let mut values = Vec::with_capacity(PRAGMAS.len() + 1);
    for name in PRAGMAS {
        let mut statement = conn.prepare_cached(&format!("PRAGMA {name}"))?;
        let value = statement
            .query_row([], |row| row.get::<_, Value>(0))
            .optional()?;
        values.push(value.unwrap_or(Value::Null));
    }
    let mut like = conn.prepare_cached("SELECT NOT ('a' LIKE 'A')")?;
    values.push(like.query_row([], |row| row.get::<_, Value>(0))?);
    Ok(Pragmas(values))
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
        // WAL lives in the database file: entering it, or leaving it for
        // another journal on disk, is the database's change, which stays.
        // A journal in memory or none is the connection's, and goes.
        let mode = |v: &Value, modes: &[&str]| matches!(v, Value::Text(mode) if modes.iter().any(|m| mode.eq_ignore_ascii_case(m)));
        if name == "journal_mode"
            && (mode(is, &["wal"]) || mode(was, &["wal"]) && !mode(is, &["off", "memory"]))
        {
            continue;
        }
        let value = match was {
            Value::Integer(n) => n.to_string(),
            // `locking_mode`, `journal_mode`: a keyword.
            Value::Text(word) if word.chars().all(|c| c.is_ascii_alphabetic()) => word.clone(),
            _ => continue,
        };
        // The main database's, as read: unqualified, some would change
        // every attached database too.
        let schema = if PER_DATABASE.contains(&name) {
            "main."
        } else {
            ""
        };
        conn.execute_batch(&format!("PRAGMA {schema}{name} = {value}"))?;
        restored.push(name);
    }
    Ok(restored)
}
