//! `run` on real SQLite files: applying, recording, checking and refusing.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::lite::{LiteConn, LiteDriver, Operations};
use common::*;
use strata::rusqlite::trace::{TraceEvent, TraceEventCodes};
use strata::rusqlite::{Connection, OpenFlags, StatementStatus};
use strata::{Checksum, Error, ForeignTable, Migrations};

static TESTS: Migrations = strata::embed_migrations!("tests/migrations");

#[test]
fn applies_and_records_everything_then_has_nothing_to_do() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    let report = TESTS.run(&mut conn).unwrap();
    let applied: Vec<u64> = report.applied.iter().map(|s| s.version).collect();
    assert_eq!(applied, [1, 2, 10]);
    assert_eq!(report.version, Some(10));

    let mut statement = conn
        .prepare("SELECT version, name, checksum, chain, applied_at, execution_ms, dirty FROM schema_migrations ORDER BY version")
        .unwrap();
    let rows: Vec<(i64, String, String, String, String, i64, bool)> = statement
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(statement);
    assert_eq!(rows.len(), 3);
    for (row, m) in rows.iter().zip(&TESTS) {
        assert_eq!(row.0 as u64, m.version());
        assert_eq!(row.1, m.name());
        assert_eq!(row.2, m.checksum().to_hex());
        assert_eq!(row.3, m.chain().to_hex());
        // UTC, ISO 8601: 2026-11-22T02:32:17.985Z
        let at = row.4.as_bytes();
        assert_eq!(
            (at.len(), at[4], at[10], at[19], at[23]),
            (24, b'-', b'T', b'.', b'Z'),
            "{}",
            row.4
        );
        assert!(row.5 >= 0);
        assert!(!row.6);
    }
    // The trigger of migration 2 kept the semicolons of its body.
    conn.execute("INSERT INTO users (email) VALUES ('a@example.com')", [])
        .unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM audit"), 2);

    let again = TESTS.run(&mut conn).unwrap();
    assert!(again.is_empty());
    assert_eq!(again.version, Some(10));
    assert_eq!(
        again.to_string(),
        "nothing to do: the database is at version 10"
    );
}

#[test]
fn report_lists_what_was_applied() {
    let folder = tables_folder([1, 2]);
    let migrations = load(&folder);
    let (_dir, path) = database();
    let report = migrations.run(&mut open(&path)).unwrap();
    let text = report.to_string();
    assert!(
        text.starts_with(
            "applied 2 migrations, the database is now at version 2\n  up   000001_t1  "
        ),
        "{text}"
    );
    assert!(
        text.contains("\n  up   000002_t2  ") && text.ends_with(" ms"),
        "{text}"
    );
}

thread_local! {
    /// What [`traced_run`]'s trace callback saw on this thread (a function
    /// pointer, not a closure: rusqlite 0.39, which strata also builds on,
    /// takes no closure there). SQLite calls it on the thread that runs the
    /// statement, so tests running at once do not mix their statements.
    static TRACED: std::cell::RefCell<Vec<(String, i32)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn trace_profile(event: TraceEvent<'_>) {
    if let TraceEvent::Profile(statement, _) = event {
        let scans = statement.get_status(StatementStatus::FullscanStep);
        TRACED.with_borrow_mut(|seen| seen.push((statement.sql().into_owned(), scans)));
    }
}

/// Every statement that a run executes, with its full-scan steps.
fn traced_run(
    migrations: &Migrations,
    conn: &mut Connection,
) -> (strata::Result<strata::Report>, Vec<(String, i32)>) {
    TRACED.with_borrow_mut(Vec::clear);
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_PROFILE,
        Some(trace_profile as fn(TraceEvent<'_>)),
    );
    let result = migrations.run(conn);
    conn.trace_v2(TraceEventCodes::empty(), None::<fn(TraceEvent<'_>)>);
    (result, TRACED.with_borrow_mut(std::mem::take))
}

#[test]
fn startup_on_an_up_to_date_database_is_one_indexed_read_and_still_sees_an_edit() {
    let folder = tables_folder(1..=1000);
    let migrations = load(&folder);
    let (_dir, path) = database();
    migrations.run(&mut open(&path)).unwrap();

    let mut conn = open(&path);
    let (result, statements) = traced_run(&migrations, &mut conn);
    assert!(result.unwrap().is_empty());
    assert_eq!(statements.len(), 1, "{statements:?}");
    let (sql, full_scan_steps) = &statements[0];
    assert!(sql.contains("ORDER BY version DESC LIMIT 1"), "{sql}");
    assert_eq!(*full_scan_steps, 0);

    // An edit to migration 500 changes the chain of every later one, so the
    // newest row no longer matches and the runner looks at every row.
    std::fs::write(
        folder.path().join("000500_t500.up.sql"),
        "CREATE TABLE t500 (id INTEGER PRIMARY KEY, edited TEXT);\n",
    )
    .unwrap();
    let edited = load(&folder);
    let (result, statements) = traced_run(&edited, &mut conn);
    let err = result.unwrap_err();
    assert!(
        matches!(err.failure(), Error::ChecksumMismatch { version: 500, .. }),
        "{err}"
    );
    assert!(statements.len() > 1);
}

fn an_edited_migration_is_refused_with_both_checksums_and_nothing_changes(driver: LiteDriver) {
    let folder = tables_folder([1, 2]);
    let (_dir, path) = database();
    load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap();
    let applied = Checksum::of_sql("CREATE TABLE t1 (id INTEGER PRIMARY KEY);\n");

    let edited_sql = "CREATE TABLE t1 (id INTEGER PRIMARY KEY); -- edited\n";
    write_files(folder.path(), &[("000001_t1.up.sql", edited_sql)]);
    write_files(
        folder.path(),
        &table_pair(3)
            .each_ref()
            .map(|(n, s)| (n.as_str(), s.as_str())),
    );
    let before = std::fs::read(&path).unwrap();
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    let Error::ChecksumMismatch {
        version,
        file,
        applied: recorded,
        current,
        ..
    } = err.failure()
    else {
        panic!("{err:?}")
    };
    assert_eq!(*version, 1);
    assert!(file.ends_with("/000001_t1.up.sql"), "{file}");
    assert_eq!(*recorded, applied);
    assert_eq!(*current, Checksum::of_sql(edited_sql));
    let message = err.to_string();
    assert!(
        message.contains(&applied.to_hex()) && message.contains(&current.to_hex()),
        "{message}"
    );
    // Migration 3 was pending, and was not applied: the file is unchanged.
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn line_ending_and_byte_order_mark_changes_are_not_edits() {
    let folder = tables_folder([1, 2]);
    let (_dir, path) = database();
    load(&folder).run(&mut open(&path)).unwrap();
    write_files(
        folder.path(),
        &[
            (
                "000001_t1.up.sql",
                "\u{feff}CREATE TABLE t1 (id INTEGER PRIMARY KEY);\r\n",
            ),
            (
                "000002_t2.up.sql",
                "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\r\n",
            ),
        ],
    );
    let report = load(&folder).run(&mut open(&path)).unwrap();
    assert!(report.is_empty());
}

#[test]
fn an_applied_version_missing_from_the_files_is_refused() {
    let folder = tables_folder([1, 2, 3]);
    let (_dir, path) = database();
    load(&folder).run(&mut open(&path)).unwrap();
    let older = tables_folder([1, 3]);
    let err = load(&older).run(&mut open(&path)).unwrap_err();
    assert!(
        matches!(err.failure(), Error::MissingMigration { version: 2, name: Some(name), .. } if name == "t2"),
        "{err:?}"
    );
}

#[test]
fn a_pending_version_below_the_newest_applied_is_refused() {
    let (_dir, path) = database();
    load(&tables_folder([1, 3])).run(&mut open(&path)).unwrap();
    let folder = tables_folder([1, 2, 3, 4]);
    let err = load(&folder).run(&mut open(&path)).unwrap_err();
    assert!(
        matches!(err.failure(), Error::OutOfOrder { version: 2, newest_applied: 3, file, .. } if file.ends_with("000002_t2.up.sql")),
        "{err:?}"
    );
    assert_eq!(tables(&open(&path)), ["schema_migrations", "t1", "t3"]);
}

fn a_dirty_row_stops_the_run(driver: LiteDriver) {
    let (_dir, path) = database();
    load(&tables_folder([1, 2]))
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap();
    open(&path)
        .execute(
            "UPDATE schema_migrations SET dirty = 1 WHERE version = 2",
            [],
        )
        .unwrap();
    let err = load(&tables_folder([1, 2, 3]))
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(err.failure(), Error::Dirty { version: 2, name, previous: Some(1), .. } if name == "t2"),
        "{err:?}"
    );
    assert!(!tables(&open(&path)).contains(&"t3".to_owned()));
}

fn a_failing_statement_names_file_and_line_and_leaves_nothing_of_its_migration(driver: LiteDriver) {
    let folder = folder(&[
        (
            "000001_a.up.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
        ),
        ("000001_a.down.sql", "DROP TABLE a;\n"),
        (
            "000002_b.up.sql",
            "-- two good statements, then a bad one\nCREATE TABLE b (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n\nINSERT INTO missing_table\n  VALUES (1);\n",
        ),
        ("000002_b.down.sql", "DROP TABLE b;\n"),
    ]);
    let (_dir, path) = database();
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    let Error::Statement {
        version,
        file,
        line,
        ..
    } = err.failure()
    else {
        panic!("{err:?}")
    };
    assert_eq!((*version, *line), (2, Some(5)));
    assert!(file.ends_with("/000002_b.up.sql"));
    let message = err.failure().to_string();
    assert!(
        message.ends_with(
            "000002_b.up.sql:5: no such table: missing_table (in `INSERT INTO missing_table VALUES (1);`)"
        ),
        "{message}"
    );

    let conn = open(&path);
    assert_eq!(tables(&conn), ["a", "schema_migrations"]);
    assert_eq!(count(&conn, "SELECT count(*) FROM a"), 0);
    assert_eq!(history(&conn), [(1, "a".to_owned(), false)]);
}

fn a_syntax_error_is_reported_at_its_statement(driver: LiteDriver) {
    let folder = folder(&[
        (
            "1_a.up.sql",
            "CREATE TABLE a (id INTEGER);\n/* a comment */ CREATE TABLEE b (id);\n",
        ),
        ("1_a.down.sql", "DROP TABLE a;\n"),
    ]);
    let (_dir, path) = database();
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::Statement {
                version: 1,
                line: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("syntax error"), "{err}");
    assert!(!tables(&open(&path)).contains(&"a".to_owned()));
}

fn transaction_control_is_refused_as_it_is_prepared(driver: LiteDriver) {
    // The folder rules refuse this at build time; the runner refuses it too,
    // for a migration set built some other way.
    let migrations = commit_inside();
    let (_dir, path) = database();
    let err = migrations
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(err.failure(), Error::TransactionControl { version: 1, line: Some(2), file, .. } if file == "hand_made/1_a.up.sql"),
        "{err:?}"
    );
    // Nothing remains, not even the history table that the same
    // transaction created.
    assert!(tables(&open(&path)).is_empty());
}

const PARENT_CHILD: &str = "
CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    body TEXT
);
INSERT INTO sessions VALUES ('s1', 'one'), ('s2', 'two');
INSERT INTO messages (session, body) VALUES ('s1', 'hello'), ('s2', 'hi'), ('s2', 'there');
";

fn recreating_a_parent_table_fires_no_cascade(driver: LiteDriver) {
    let folder = folder(&[
        ("1_chat.up.sql", PARENT_CHILD),
        (
            "1_chat.down.sql",
            "DROP TABLE messages; DROP TABLE sessions;",
        ),
        (
            "2_title_not_null.up.sql",
            "CREATE TABLE sessions_new (id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '');
             INSERT INTO sessions_new SELECT id, coalesce(title, '') FROM sessions;
             DROP TABLE sessions;
             ALTER TABLE sessions_new RENAME TO sessions;",
        ),
        ("2_title_not_null.down.sql", "SELECT 1;"),
    ]);
    let (_dir, path) = database();
    let mut conn = LiteConn::open(&path, driver);
    conn.execute_batch("PRAGMA foreign_keys = ON");
    load(&folder).run_on(&mut conn).unwrap();
    // With enforcement on, DROP TABLE sessions would have deleted every message.
    assert_eq!(conn.integer("SELECT count(*) FROM messages"), 3);
    assert_eq!(conn.integer("PRAGMA foreign_keys"), 1);
    // And enforcement is back on for the application.
    assert!(
        conn.try_execute_batch("INSERT INTO messages (session, body) VALUES ('nope', 'x')")
            .is_err()
    );
}

fn a_foreign_key_violation_rolls_the_migration_back_and_names_the_rows(driver: LiteDriver) {
    let folder = folder(&[
        ("1_chat.up.sql", PARENT_CHILD),
        (
            "1_chat.down.sql",
            "DROP TABLE messages; DROP TABLE sessions;",
        ),
        (
            "2_drop_s2.up.sql",
            "CREATE TABLE sessions_new (id TEXT PRIMARY KEY, title TEXT);
             INSERT INTO sessions_new SELECT * FROM sessions WHERE id <> 's2';
             DROP TABLE sessions;
             ALTER TABLE sessions_new RENAME TO sessions;",
        ),
        ("2_drop_s2.down.sql", "SELECT 1;"),
    ]);
    let (_dir, path) = database();
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    let conn = open(&path);
    let Error::ForeignKeyViolation {
        version,
        file,
        violations,
        ..
    } = err.failure()
    else {
        panic!("{err:?}")
    };
    assert_eq!(*version, 2);
    assert!(file.ends_with("/2_drop_s2.up.sql"));
    let rows: Vec<(&str, Option<i64>, &str)> = violations
        .iter()
        .map(|v| (v.table.as_str(), v.rowid, v.parent.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("messages", Some(2), "sessions"),
            ("messages", Some(3), "sessions")
        ]
    );
    assert!(
        err.to_string()
            .contains("messages row 2 -> sessions, messages row 3 -> sessions"),
        "{err}"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM sessions"), 2);
    assert_eq!(tables(&conn), ["messages", "schema_migrations", "sessions"]);
    assert_eq!(history(&conn).len(), 1);
}

/// A second migration over [`PARENT_CHILD`], and the rows the foreign-key
/// check names when it fails (empty when the run succeeds).
fn violations_after(second: &str) -> Vec<(String, Option<i64>, String)> {
    let folder = folder(&[
        ("1_chat.up.sql", PARENT_CHILD),
        (
            "1_chat.down.sql",
            "DROP TABLE messages; DROP TABLE sessions;",
        ),
        ("2_second.up.sql", second),
        ("2_second.down.sql", "SELECT 1;"),
    ]);
    let (_dir, path) = database();
    let mut conn = open(&path);
    let err = match load(&folder).run(&mut conn) {
        Ok(_) => return Vec::new(),
        Err(err) => err,
    };
    match err.failure() {
        Error::ForeignKeyViolation {
            version: 2,
            violations,
            ..
        } => {
            // Rolled back: the second migration left nothing.
            assert_eq!(history(&conn).len(), 1);
            assert_eq!(count(&conn, "SELECT count(*) FROM sessions"), 2);
            violations
                .iter()
                .map(|v| (v.table.clone(), v.rowid, v.parent.clone()))
                .collect()
        }
        _ => panic!("{err:?}"),
    }
}

#[test]
fn foreign_keys_are_checked_without_a_rename_too() {
    let dangling = |rows: &[i64]| -> Vec<(String, Option<i64>, String)> {
        rows.iter()
            .map(|&r| ("messages".to_owned(), Some(r), "sessions".to_owned()))
            .collect()
    };
    // A parent that loses rows (its children were not touched).
    assert_eq!(
        violations_after("DELETE FROM sessions WHERE id = 's2';"),
        dangling(&[2, 3])
    );
    // A parent whose key changes.
    assert_eq!(
        violations_after("UPDATE sessions SET id = 's9' WHERE id = 's1';"),
        dangling(&[1])
    );
    // A child row pointing nowhere.
    assert_eq!(
        violations_after("INSERT INTO messages (session, body) VALUES ('s7', 'x');"),
        dangling(&[4])
    );
    // A new table whose rows point nowhere.
    assert_eq!(
        violations_after(
            "CREATE TABLE reads (message INTEGER NOT NULL REFERENCES messages (id));
             INSERT INTO reads VALUES (1), (42);"
        ),
        [("reads".to_owned(), Some(2), "messages".to_owned())]
    );
    // Dropped tables, views written through triggers, and SQLite's own
    // tables are not checked, and fail nothing.
    assert_eq!(
        violations_after(
            "CREATE VIEW titles AS SELECT id, title FROM sessions;
             CREATE TRIGGER titles_insert INSTEAD OF INSERT ON titles
             BEGIN INSERT INTO sessions VALUES (NEW.id, NEW.title); END;
             INSERT INTO titles VALUES ('s3', 'three');
             DROP TABLE messages;
             CREATE TABLE scratch (a); DROP TABLE scratch;"
        ),
        []
    );
}

#[test]
fn a_rename_that_leaves_references_behind_is_refused() {
    // Under `legacy_alter_table`, SQLite renames a table without updating
    // the foreign keys that point at it: its children are checked, and the
    // migration is rolled back.
    let folder = folder(&[
        ("1_chat.up.sql", PARENT_CHILD),
        (
            "1_chat.down.sql",
            "DROP TABLE messages; DROP TABLE sessions;",
        ),
        ("2_rename.up.sql", "ALTER TABLE sessions RENAME TO chats;"),
        ("2_rename.down.sql", "SELECT 1;"),
    ]);
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.pragma_update(None, "legacy_alter_table", true)
        .unwrap();
    let err = load(&folder).run(&mut conn).unwrap_err();
    let Error::ForeignKeyViolation {
        version: 2,
        violations,
        ..
    } = err.failure()
    else {
        panic!("{err:?}")
    };
    assert_eq!(violations.len(), 3, "{err}");
    assert!(violations.iter().all(|v| v.table == "messages"), "{err}");
    assert_eq!(history(&conn).len(), 1);
    assert_eq!(tables(&conn), ["messages", "schema_migrations", "sessions"]);
}

fn connection_settings_are_restored(driver: LiteDriver) {
    let (_dir, path) = database();
    let mut conn = LiteConn::open(&path, driver);
    conn.execute_batch("PRAGMA busy_timeout = 1234; PRAGMA foreign_keys = OFF");
    load(&tables_folder([1])).run_on(&mut conn).unwrap();
    let busy = conn.integer("PRAGMA busy_timeout");
    let foreign_keys = conn.integer("PRAGMA foreign_keys");
    assert_eq!((busy, foreign_keys), (1234, 0));
}

#[test]
fn a_history_table_of_another_shape_is_left_alone() {
    for (create, kind) in [
        (
            "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
            ForeignTable::GolangMigrate,
        ),
        (
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)",
            ForeignTable::HomeMade,
        ),
        (
            "CREATE TABLE schema_migrations (id INTEGER, note TEXT)",
            ForeignTable::Other,
        ),
    ] {
        let (_dir, path) = database();
        open(&path).execute_batch(create).unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = load(&tables_folder([1])).run(&mut open(&path)).unwrap_err();
        let Error::ForeignHistoryTable {
            table, kind: found, ..
        } = err.failure()
        else {
            panic!("{err:?}")
        };
        assert_eq!((table.as_str(), *found), ("schema_migrations", kind));
        assert_eq!(std::fs::read(&path).unwrap(), before, "{create}");
    }
}

#[test]
fn a_custom_history_table_name() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    let migrations = load(&tables_folder([1]));
    migrations
        .runner()
        .table("app \"history\"")
        .run(&mut conn)
        .unwrap();
    assert_eq!(tables(&conn), ["app \"history\"", "t1"]);
    assert!(
        migrations
            .runner()
            .table("app \"history\"")
            .run(&mut conn)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_file_that_is_not_a_database_is_named() {
    let (_dir, path) = database();
    std::fs::write(&path, "these are my notes, not a database\n".repeat(100)).unwrap();
    let err = load(&tables_folder([1])).run(&mut open(&path)).unwrap_err();
    assert!(
        matches!(err.failure(), Error::NotADatabase { path: p, .. } if p.ends_with("app.db")),
        "{err:?}"
    );
}

#[test]
fn a_read_only_database_with_pending_work_is_refused() {
    let (_dir, path) = database();
    let folder = tables_folder([1, 2]);
    load(&tables_folder([1])).run(&mut open(&path)).unwrap();
    let mut read_only =
        Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let err = load(&folder).run(&mut read_only).unwrap_err();
    assert!(
        matches!(err.failure(), Error::ReadOnly { pending: 1, .. }),
        "{err:?}"
    );
    // Up to date, a read-only connection is fine.
    assert!(
        load(&tables_folder([1]))
            .run(&mut read_only)
            .unwrap()
            .is_empty()
    );
}

fn a_connection_inside_a_transaction_is_refused(driver: LiteDriver) {
    let (_dir, path) = database();
    let mut conn = LiteConn::open(&path, driver);
    conn.execute_batch("BEGIN");
    let err = load(&tables_folder([1])).run_on(&mut conn).unwrap_err();
    assert!(matches!(err.failure(), Error::InTransaction), "{err:?}");
}

fn a_lock_held_past_the_wait_is_a_typed_error(driver: LiteDriver) {
    let (_dir, path) = database();
    let holder = open(&path);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let migrations = load(&tables_folder([1]));
    let err = migrations
        .runner()
        .lock_timeout(Duration::from_millis(50))
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(err.failure(), Error::Locked { waited, .. } if *waited == Duration::from_millis(50)),
        "{err:?}"
    );
    holder.execute_batch("COMMIT").unwrap();
    assert_eq!(
        migrations
            .run_on(&mut LiteConn::open(&path, driver))
            .unwrap()
            .applied
            .len(),
        1
    );
}

/// Reads wait for the runner's lock wait too, the commands that only read
/// included, and the error says how long they really waited. The first
/// read runs under the connection's own busy timeout (so that the startup
/// check stays one statement), then waits for what is left of the runner's
/// wait; before, a read waited for the connection's timeout alone and the
/// error named the runner's. The connection gets its own timeout back.
#[test]
fn reads_wait_for_the_runners_lock_wait_and_say_how_long() {
    let (_dir, path) = database();
    let migrations = load(&tables_folder([1]));
    migrations.run(&mut open(&path)).unwrap();
    let holder = open(&path);
    // A rollback journal: an exclusive lock keeps readers out too.
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let wait = Duration::from_millis(300);
    let runner = migrations.runner().lock_timeout(wait);
    type Operation<'a> = &'a dyn Fn(&mut Connection) -> Error;
    let operations: [(&str, Operation); 3] = [
        ("run", &|conn| runner.run(conn).unwrap_err()),
        ("status", &|conn| runner.status(conn).unwrap_err()),
        ("validate", &|conn| runner.validate(conn).unwrap_err()),
    ];
    // (the connection's own busy timeout, the least wait expected)
    for (own, least) in [(0, wait), (100, wait), (1000, Duration::from_millis(1000))] {
        let mut conn = open(&path);
        conn.busy_timeout(Duration::from_millis(own)).unwrap();
        for (name, operation) in operations {
            let started = std::time::Instant::now();
            let err = operation(&mut conn);
            let took = started.elapsed();
            let Error::Locked { waited, .. } = err else {
                panic!("{name}, own {own} ms: {err:?}");
            };
            // SQLite's busy handler sleeps in steps: within a tenth.
            let about = least * 9 / 10;
            assert!(
                took >= about && took < least + Duration::from_secs(2),
                "{name}, own {own} ms: took {took:?}"
            );
            assert!(
                waited >= about && waited <= took + Duration::from_millis(50),
                "{name}, own {own} ms: said {waited:?}, took {took:?}"
            );
            let busy: i64 = conn
                .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
                .unwrap();
            assert_eq!(
                busy, own as i64,
                "{name}: the connection's own busy timeout"
            );
        }
    }
    holder.execute_batch("COMMIT").unwrap();
    assert_eq!(runner.status(&mut open(&path)).unwrap().entries.len(), 1);
}

/// Counts commits on a connection.
fn count_commits(conn: &mut Connection) -> Arc<Mutex<usize>> {
    let commits = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&commits);
    conn.commit_hook(Some(move || {
        *counter.lock().unwrap() += 1;
        false
    }))
    .unwrap();
    commits
}

#[test]
fn one_commit_per_migration_or_one_in_all() {
    let migrations = load(&tables_folder(1..=5));
    let (_dir, path) = database();
    let mut conn = open(&path);
    let commits = count_commits(&mut conn);
    migrations.run(&mut conn).unwrap();
    assert_eq!(*commits.lock().unwrap(), 5);

    let (_dir, path) = database();
    let mut conn = open(&path);
    let commits = count_commits(&mut conn);
    migrations
        .runner()
        .single_transaction(true)
        .run(&mut conn)
        .unwrap();
    assert_eq!(*commits.lock().unwrap(), 1);
    assert_eq!(history(&conn).len(), 5);

    // Up to date: no commit at all.
    migrations.run(&mut conn).unwrap();
    assert_eq!(*commits.lock().unwrap(), 1);
}

fn single_transaction_is_all_or_nothing(driver: LiteDriver) {
    let folder = tables_folder([1, 2]);
    write_files(
        folder.path(),
        &[
            ("000003_bad.up.sql", "INSERT INTO nowhere VALUES (1);"),
            ("000003_bad.down.sql", "SELECT 1;"),
        ],
    );
    let (_dir, path) = database();
    let err = load(&folder)
        .runner()
        .single_transaction(true)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::Statement {
                version: 3,
                line: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(tables(&open(&path)).is_empty());

    // The default keeps what came before the failure.
    load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert_eq!(tables(&open(&path)), ["schema_migrations", "t1", "t2"]);
}

#[test]
fn single_transaction_refuses_a_no_transaction_migration_up_front() {
    let (_dir, path) = database();
    let err = TESTS
        .runner()
        .single_transaction(true)
        .run(&mut open(&path))
        .unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::NoTransactionInSingleTransaction { version: 10, .. }
        ),
        "{err:?}"
    );
    assert!(tables(&open(&path)).is_empty());
}

#[test]
fn a_target_stops_early_and_never_goes_down() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    let report = migrations.runner().target(2).run(&mut conn).unwrap();
    assert_eq!(report.version, Some(2));
    assert_eq!(tables(&conn), ["schema_migrations", "t1", "t2"]);
    assert!(
        migrations
            .runner()
            .target(1)
            .run(&mut conn)
            .unwrap()
            .is_empty()
    );
    let err = migrations.runner().target(7).run(&mut conn).unwrap_err();
    assert!(
        matches!(err.failure(), Error::UnknownVersion { version: 7, .. }),
        "{err:?}"
    );
    assert_eq!(migrations.run(&mut conn).unwrap().version, Some(3));
}

fn a_failed_no_transaction_migration_leaves_a_dirty_row_that_stops_the_next_run(
    driver: LiteDriver,
) {
    let folder = tables_folder([1]);
    write_files(
        folder.path(),
        &[
            (
                "000002_two_steps.up.sql",
                "-- strata:no-transaction\nCREATE TABLE half (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
            ),
            ("000002_two_steps.down.sql", "DROP TABLE half;\n"),
        ],
    );
    let (_dir, path) = database();
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    let Error::LeftDirty {
        version: 2,
        previous: Some(1),
        cause,
        ..
    } = err.failure()
    else {
        panic!("{err:?}");
    };
    assert!(
        matches!(
            **cause,
            Error::Statement {
                version: 2,
                line: Some(3),
                in_transaction: false,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    for part in [
        "000002_two_steps.up.sql:3",
        "version 2 is now marked dirty",
        "stays in the database",
        "`strata force 2` if the migration is now applied in full, `strata force 1` if none of it is",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    let conn = open(&path);
    assert_eq!(
        history(&conn),
        [
            (1, "t1".to_owned(), false),
            (2, "two_steps".to_owned(), true)
        ]
    );
    assert!(tables(&conn).contains(&"half".to_owned()));
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::Dirty {
                version: 2,
                previous: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("`strata force 2` if the migration is now applied in full, `strata force 1` if none of it is"),
        "{err}"
    );
}

/// With out-of-order runs allowed, a no-transaction migration below an
/// applied one is still refused, by `up` and by `validate`: a failure
/// would leave a dirty version that no force can clear alone.
#[test]
fn a_no_transaction_migration_never_runs_out_of_order() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    load(&tables_folder([1, 3])).run(&mut conn).unwrap();
    let folder = tables_folder([1, 3]);
    write_files(
        folder.path(),
        &[
            (
                "000002_late.up.sql",
                "-- strata:no-transaction\nCREATE TABLE late (id INTEGER);\n",
            ),
            ("000002_late.down.sql", "DROP TABLE late;\n"),
        ],
    );
    let runner = load(&folder);
    for err in [
        runner
            .runner()
            .allow_out_of_order(true)
            .run(&mut conn)
            .unwrap_err(),
        runner
            .runner()
            .allow_out_of_order(true)
            .validate(&mut conn)
            .unwrap_err(),
    ] {
        assert!(
            matches!(err.failure(), Error::NoTransactionOutOfOrder { version: 2, newest_applied: 3, file, .. } if file.ends_with("000002_late.up.sql")),
            "{err:?}"
        );
    }
    assert_eq!(history(&conn).len(), 2);
    assert!(!tables(&conn).contains(&"late".to_owned()));
}

/// A migration that creates a TEMP table named like the history table:
/// strata's history still goes to the real one.
#[test]
fn a_temporary_table_named_like_the_history_table_takes_nothing() {
    let folder = tables_folder([1, 3]);
    write_files(
        folder.path(),
        &[
            (
                "000002_shadow.up.sql",
                "CREATE TEMP TABLE schema_migrations AS SELECT * FROM main.schema_migrations WHERE 0;\n",
            ),
            ("000002_shadow.down.sql", "SELECT 1;\n"),
        ],
    );
    let (_dir, path) = database();
    let mut conn = open(&path);
    let migrations = load(&folder);
    migrations.run(&mut conn).unwrap();
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM main.schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(recorded, 3);
    assert!(migrations.run(&mut conn).unwrap().is_empty());
    assert!(migrations.run(&mut open(&path)).unwrap().is_empty());
}

/// A no-transaction file that begins a transaction and forgets its COMMIT:
/// strata rolls it back, so its work is not applied and is not recorded as
/// applied; the row stays dirty.
fn a_no_transaction_file_that_leaves_a_transaction_open_stays_dirty(driver: LiteDriver) {
    let folder = tables_folder([1]);
    write_files(
        folder.path(),
        &[
            (
                "000002_forgot.up.sql",
                "-- strata:no-transaction\nBEGIN;\nCREATE TABLE x (id INTEGER);\n",
            ),
            ("000002_forgot.down.sql", "DROP TABLE x;\n"),
        ],
    );
    let (_dir, path) = database();
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(err.failure(), Error::LeftDirty { version: 2, previous: Some(1), cause, .. }
            if matches!(&**cause, Error::TransactionLeftOpen { version: 2, file, .. } if file.ends_with("000002_forgot.up.sql"))),
        "{err:?}"
    );
    assert!(err.to_string().contains("add the missing COMMIT"), "{err}");
    assert!(
        err.to_string()
            .contains("`strata force 1` if none of it is"),
        "{err}"
    );
    let conn = open(&path);
    assert!(!tables(&conn).contains(&"x".to_owned()));
    assert_eq!(history(&conn)[1], (2, "forgot".to_owned(), true));
    let err = load(&folder)
        .run_on(&mut LiteConn::open(&path, driver))
        .unwrap_err();
    assert!(
        matches!(err.failure(), Error::Dirty { version: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn an_empty_set_creates_the_history_table() {
    let empty = tempfile::tempdir().unwrap();
    let (_dir, path) = database();
    let report = Migrations::from_dir(empty.path())
        .unwrap()
        .run(&mut open(&path))
        .unwrap();
    assert_eq!(report.version, None);
    assert_eq!(tables(&open(&path)), ["schema_migrations"]);
}

/// Keeps every log message of this test binary.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn one_info_line_per_applied_migration() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
    let folder = tables_folder([1, 2]);
    let shown = folder.path().display().to_string();
    let (_dir, path) = database();
    load(&folder).run(&mut open(&path)).unwrap();
    load(&folder).run(&mut open(&path)).unwrap();
    // Other tests log too: keep the lines about this test's folder.
    let lines: Vec<String> = LOGGER
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains(&shown))
        .cloned()
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "INFO applied migration {shown}/000001_t1.up.sql in "
        )),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "INFO applied migration {shown}/000002_t2.up.sql in "
        )),
        "{lines:?}"
    );
}

/// A migration that drops the history table: the error names the table and
/// the file, and the migration is rolled back with it.
#[test]
fn a_migration_that_drops_the_history_table_is_named() {
    let (_dir, path) = database();
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id INTEGER);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "CREATE TABLE b (id INTEGER);\nDROP TABLE schema_migrations;",
        ),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let mut conn = open(&path);
    let err = load(&dir).run(&mut conn).unwrap_err();
    match err.failure() {
        Error::HistoryTable {
            table,
            version: 2,
            file,
            in_transaction: true,
            ..
        } => {
            assert_eq!(table, "schema_migrations");
            assert!(file.ends_with("2_b.up.sql"), "{file}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(tables(&conn), ["a", "schema_migrations"]);
    assert_eq!(history(&conn).len(), 1);
}

/// `Duration::MAX` as the lock timeout is the longest SQLite counts
/// (`MAX_LOCK_TIMEOUT`); it used to panic inside rusqlite.
#[test]
fn the_longest_lock_timeout_is_taken() {
    let (_dir, path) = database();
    let migrations = load(&tables_folder([1, 2]));
    let runner = migrations.runner().lock_timeout(Duration::MAX);
    let mut conn = open(&path);
    runner.run(&mut conn).unwrap();
    assert_eq!(history(&conn).len(), 2);
    assert_eq!(strata::MAX_LOCK_TIMEOUT.as_millis(), 2_147_483_647);
}

/// A read-only connection is its own typed error for every command that
/// changes the history (force, repair, baseline and adopt gave an untyped
/// "attempt to write a readonly database"; up and down say `ReadOnly` with
/// what is pending). A full disk: `tests/bad_input.rs`; a folder that
/// cannot be written: `cli/tests/cli.rs`.
#[test]
fn a_read_only_database_is_a_typed_error_for_every_change() {
    let (_dir, path) = database();
    let migrations = load(&tables_folder([1, 2]));
    migrations.runner().target(1).run(&mut open(&path)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut read_only =
        Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let runner = migrations.runner();
    type Operation<'a> = &'a dyn Fn(&mut Connection) -> Error;
    let operations: [(&str, Operation); 4] = [
        ("force", &|c| runner.force(c, Some(2)).unwrap_err()),
        ("repair", &|c| runner.repair(c).unwrap_err()),
        ("baseline", &|c| runner.baseline(c, 1).unwrap_err()),
        ("adopt", &|c| runner.adopt(c).unwrap_err()),
    ];
    for (name, operation) in operations {
        let err = operation(&mut read_only);
        assert!(
            matches!(
                err.failure(),
                Error::Storage {
                    fault: strata::StorageFault::ReadOnly,
                    version: None,
                    ..
                }
            ),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("is read-only"), "{name}: {err}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Every operation on a database another connection holds locked fails
/// with `Locked`, never with the driver's raw "database is locked" (each
/// error of the SQLite backend is mapped explicitly, whichever statement
/// meets the lock).
#[test]
fn every_operation_on_a_locked_database_is_locked_never_a_raw_driver_error() {
    let (_dir, path) = database();
    let migrations = load(&tables_folder([1, 2]));
    migrations.run(&mut open(&path)).unwrap();
    let holder = open(&path);
    // A rollback journal: an exclusive lock keeps readers out too.
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let runner = migrations.runner().lock_timeout(Duration::from_millis(20));
    type Operation<'a> = &'a dyn Fn(&mut Connection) -> Option<Error>;
    let operations: [(&str, Operation); 12] = [
        ("run", &|conn| runner.run(conn).err()),
        ("status", &|conn| runner.status(conn).err()),
        ("validate", &|conn| runner.validate(conn).err()),
        ("applied", &|conn| runner.applied(conn).err()),
        ("down", &|conn| runner.down(conn, 1).err()),
        ("down_all", &|conn| runner.down_all(conn).err()),
        ("redo", &|conn| runner.redo(conn).err()),
        ("goto", &|conn| runner.goto(conn, 1).err()),
        ("baseline", &|conn| runner.baseline(conn, 1).err()),
        ("force", &|conn| runner.force(conn, Some(1)).err()),
        ("repair", &|conn| runner.repair(conn).err()),
        ("adopt", &|conn| runner.adopt(conn).err()),
    ];
    for (name, operation) in operations {
        let mut conn = open(&path);
        // The first read waits for the connection's own busy timeout.
        conn.busy_timeout(Duration::ZERO).unwrap();
        let err = operation(&mut conn);
        assert!(
            matches!(err.as_ref().map(Error::failure), Some(Error::Locked { .. })),
            "{name}: {err:?}"
        );
    }
    holder.execute_batch("COMMIT").unwrap();
    assert_eq!(
        migrations.runner().applied(&mut open(&path)).unwrap().len(),
        2
    );
}

// The tests above, with each SQLite driver built.
for_each_lite_driver!(
    an_edited_migration_is_refused_with_both_checksums_and_nothing_changes,
    a_dirty_row_stops_the_run,
    a_failing_statement_names_file_and_line_and_leaves_nothing_of_its_migration,
    a_syntax_error_is_reported_at_its_statement,
    transaction_control_is_refused_as_it_is_prepared,
    recreating_a_parent_table_fires_no_cascade,
    a_foreign_key_violation_rolls_the_migration_back_and_names_the_rows,
    connection_settings_are_restored,
    a_connection_inside_a_transaction_is_refused,
    a_lock_held_past_the_wait_is_a_typed_error,
    single_transaction_is_all_or_nothing,
    a_failed_no_transaction_migration_leaves_a_dirty_row_that_stops_the_next_run,
    a_no_transaction_file_that_leaves_a_transaction_open_stays_dirty,
);

/// sqlx: a `run_async` future dropped after its first poll, while it waits
/// for sqlx's worker thread to let go of the connection (a cancelled task,
/// a timeout), leaves the connection usable: it then migrates as usual.
/// Once it has the handle the operation does not yield, so there is no
/// later point to drop it at.
#[cfg(feature = "sqlx-sqlite")]
#[test]
fn sqlx_a_run_dropped_while_it_waits_for_the_connection_leaves_it_usable() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let migrations = load(&tables_folder(1..=5));
    let (_dir, path) = database();
    let LiteConn::Sqlx(mut sqlx) = LiteConn::open(&path, LiteDriver::Sqlx) else {
        unreachable!("the sqlx driver")
    };
    for _ in 0..3 {
        let mut run = std::pin::pin!(migrations.run_async(&mut sqlx.conn));
        let polled = run.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(
            polled.is_pending(),
            "the first poll waits for sqlx's worker"
        );
        // Dropped here, unfinished.
    }
    let report = sqlx.runtime.block_on(migrations.run_async(&mut sqlx.conn));
    assert_eq!(report.unwrap().applied.len(), 5);
    assert_eq!(history(&open(&path)).len(), 5);
}

/// sqlx: a connection inside a transaction of sqlx's (`&mut *tx`) is
/// refused, as a rusqlite connection inside one is; nothing is written,
/// and the transaction is still the caller's to end.
#[cfg(feature = "sqlx-sqlite")]
#[test]
fn sqlx_a_connection_inside_an_sqlx_transaction_is_refused() {
    use sqlx::Connection;
    let (_dir, path) = database();
    let LiteConn::Sqlx(mut sqlx) = LiteConn::open(&path, LiteDriver::Sqlx) else {
        unreachable!("the sqlx driver")
    };
    sqlx.runtime.block_on(async {
        let mut tx = sqlx.conn.begin().await.unwrap();
        sqlx::query("CREATE TABLE callers (id INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = load(&tables_folder([1]))
            .run_async(&mut *tx)
            .await
            .unwrap_err();
        assert!(matches!(err.failure(), Error::InTransaction), "{err:?}");
        tx.commit().await.unwrap();
    });
    assert_eq!(tables(&open(&path)), ["callers"]);
}
