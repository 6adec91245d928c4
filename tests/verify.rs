//! `verify`: every down file must restore the schema before its up file.

#[macro_use]
mod common;

use common::lite::{LiteConn, LiteDriver, Operations};
use common::*;
use strata::{Error, Migrations, VerifyFailure};

static CHAT: Migrations = strata::embed_migrations!("examples/chat/migrations");
static TESTS: Migrations = strata::embed_migrations!("tests/migrations");

const BASE: [(&str, &str); 2] = [
    (
        "000001_messages.up.sql",
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT NOT NULL, sent_at TEXT);\nCREATE INDEX messages_sent ON messages (sent_at);\n",
    ),
    ("000001_messages.down.sql", "DROP TABLE messages;\n"),
];

fn failures(err: Error) -> Vec<VerifyFailure> {
    match err {
        Error::VerifyFailed(failures) => failures.failures,
        other => panic!("{other:?}"),
    }
}

fn correct_folders_pass(driver: LiteDriver) {
    let report = CHAT.verify_on(&mut LiteConn::memory(driver)).unwrap();
    assert_eq!(report.checked, [1, 2]);
    let report = TESTS.verify_on(&mut LiteConn::memory(driver)).unwrap();
    assert_eq!(
        (report.checked, report.irreversible.clone()),
        (vec![1, 2], vec![10])
    );
    assert!(
        TESTS
            .verify_on(&mut LiteConn::memory(driver))
            .unwrap()
            .to_string()
            .ends_with("(irreversible, not reverted: 10)")
    );
}

fn a_down_that_forgets_a_column_is_named_with_the_column(driver: LiteDriver) {
    let folder = folder(&BASE);
    write_files(
        folder.path(),
        &[
            (
                "000002_memory.up.sql",
                "ALTER TABLE messages ADD COLUMN used_memories TEXT;\n",
            ),
            (
                "000002_memory.down.sql",
                "-- forgot the column\nSELECT 1;\n",
            ),
        ],
    );
    let failures = failures(
        load(&folder)
            .verify_on(&mut LiteConn::memory(driver))
            .unwrap_err(),
    );
    assert_eq!(failures.len(), 1);
    let VerifyFailure::NotReverted {
        version,
        file,
        differences,
    } = &failures[0]
    else {
        panic!("{failures:?}")
    };
    assert_eq!(*version, 2);
    assert!(file.ends_with("/000002_memory.down.sql"));
    assert_eq!(
        differences,
        &["table messages: column used_memories (TEXT) left behind by 000002_memory.down.sql"]
    );
}

#[test]
fn a_down_that_drops_the_wrong_index_is_named_with_both_indexes() {
    let folder = folder(&BASE);
    write_files(
        folder.path(),
        &[
            (
                "000002_by_body.up.sql",
                "CREATE UNIQUE INDEX messages_body ON messages (body) WHERE body <> '';\n",
            ),
            ("000002_by_body.down.sql", "DROP INDEX messages_sent;\n"),
        ],
    );
    let failures = failures(
        load(&folder)
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    let VerifyFailure::NotReverted { differences, .. } = &failures[0] else {
        panic!("{failures:?}")
    };
    assert_eq!(
        differences,
        &[
            "index messages_body (unique, on messages (body) WHERE body <> '') left behind by 000002_by_body.down.sql",
            "index messages_sent (on messages (sent_at)) missing after 000002_by_body.down.sql",
        ]
    );
}

fn every_problem_is_reported_and_the_report_is_readable(driver: LiteDriver) {
    let folder = folder(&BASE);
    write_files(
        folder.path(),
        &[
            (
                "000002_col.up.sql",
                "ALTER TABLE messages ADD COLUMN a TEXT;\n",
            ),
            ("000002_col.down.sql", "SELECT 1;\n"),
            (
                "000003_view.up.sql",
                "CREATE VIEW recent AS SELECT * FROM messages;\n",
            ),
            ("000003_view.down.sql", "DROP VIEW nope;\n"),
            (
                "000004_trigger.up.sql",
                "CREATE TABLE log (x);\nCREATE TRIGGER t AFTER INSERT ON messages BEGIN INSERT INTO log VALUES (1); END;\n",
            ),
            ("000004_trigger.down.sql", "DROP TABLE log;\n"),
            (
                "000005_fk.up.sql",
                "CREATE TABLE replies (id INTEGER PRIMARY KEY, message INTEGER REFERENCES messages (id));\n",
            ),
            ("000005_fk.down.sql", "DROP TABLE replies;\n"),
            ("000006_broken.up.sql", "CREATE TABLE x (;\n"),
            ("000006_broken.down.sql", "DROP TABLE x;\n"),
        ],
    );
    let err = load(&folder)
        .verify_on(&mut LiteConn::memory(driver))
        .unwrap_err();
    let text = format!("{err:?}");
    let failures = failures(err);
    let versions: Vec<u64> = failures
        .iter()
        .map(|f| match f {
            VerifyFailure::NotReverted { version, .. }
            | VerifyFailure::DownFailed { version, .. }
            | VerifyFailure::UpFailed { version, .. }
            | VerifyFailure::UpAgainFailed { version, .. } => *version,
            _ => 0,
        })
        .collect();
    assert_eq!(versions, [2, 3, 4, 6]);
    assert!(matches!(&failures[1], VerifyFailure::DownFailed { .. }));
    assert!(matches!(&failures[3], VerifyFailure::UpFailed { .. }));
    // What `verify().unwrap()` prints in a failing test.
    assert!(text.contains("verify found 4 problems:\n  "), "{text}");
    assert!(
        text.contains("000003_view.down.sql:1: no such view: nope"),
        "{text}"
    );
    assert!(
        text.contains("\n    trigger t left behind by 000004_trigger.down.sql"),
        "{text}"
    );
    assert!(text.contains("000006_broken.up.sql:1:"), "{text}");
}

#[test]
fn functions_the_app_registers_on_verify_s_connection_are_there_for_the_migrations() {
    let folder = folder(&BASE);
    write_files(
        folder.path(),
        &[
            (
                "000002_slugs.up.sql",
                "ALTER TABLE messages ADD COLUMN slug TEXT;\nUPDATE messages SET slug = slugify(body);\n",
            ),
            (
                "000002_slugs.down.sql",
                "ALTER TABLE messages DROP COLUMN slug;\n",
            ),
        ],
    );
    let migrations = load(&folder);
    let err = migrations
        .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
        .unwrap_err();
    assert!(
        format!("{err}").contains("no such function: slugify"),
        "{err}"
    );
    let mut conn = strata::rusqlite::Connection::open_in_memory().unwrap();
    use strata::rusqlite::functions::FunctionFlags;
    conn.create_scalar_function("slugify", 1, FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(ctx.get::<String>(0)?.to_lowercase().replace(' ', "-"))
    })
    .unwrap();
    migrations.verify(&mut conn).unwrap();
}

#[test]
fn a_table_recreation_and_its_reversal_pass() {
    // Renames rewrite the table's SQL and its automatic index's name; verify
    // compares what the schema means, not its text.
    let folder = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY, code TEXT UNIQUE, note TEXT);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_strict.up.sql",
            "CREATE TABLE a_new (id INTEGER PRIMARY KEY, code TEXT UNIQUE, note TEXT NOT NULL DEFAULT '');
             INSERT INTO a_new SELECT id, code, coalesce(note, '') FROM a;
             DROP TABLE a;
             ALTER TABLE a_new RENAME TO a;",
        ),
        (
            "2_strict.down.sql",
            "CREATE TABLE a_old (id INTEGER PRIMARY KEY, code TEXT UNIQUE, note TEXT);
             INSERT INTO a_old SELECT * FROM a;
             DROP TABLE a;
             ALTER TABLE a_old RENAME TO a;",
        ),
    ]);
    load(&folder)
        .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
        .unwrap();
}

/// The objects of a SQLite database, from its schema table.
fn objects(conn: &strata::rusqlite::Connection) -> Vec<String> {
    let mut statement = conn
        .prepare("SELECT type || ' ' || name FROM sqlite_master ORDER BY name")
        .unwrap();
    let names = statement.query_map([], |r| r.get(0)).unwrap();
    names.collect::<Result<_, _>>().unwrap()
}

/// What a connection holds beyond a new in-memory database: the objects
/// of `main` and `temp`, the databases attached, the header's numbers.
fn state(conn: &strata::rusqlite::Connection) -> (Vec<String>, Vec<String>, Vec<String>, i64) {
    let list = |sql: &str| -> Vec<String> {
        let mut statement = conn.prepare(sql).unwrap();
        let names = statement.query_map([], |r| r.get(0)).unwrap();
        names.collect::<Result<_, _>>().unwrap()
    };
    (
        objects(conn),
        list("SELECT type || ' ' || name FROM temp.sqlite_master ORDER BY name"),
        list("SELECT name FROM pragma_database_list WHERE name NOT IN ('main', 'temp')"),
        count(conn, "PRAGMA user_version"),
    )
}

/// verify runs in the in-memory database it is given and makes it new
/// again at the end, as if it had opened a connection of its own: after a
/// pass, after failures and a rebuild from the up files, and after
/// migrations that made temporary objects, attached a database and set
/// `user_version`; the connection stays usable for another verify.
#[test]
fn verify_leaves_its_in_memory_database_new_whatever_happened() {
    let new = (vec![], vec![], vec![], 0);
    let mut conn = strata::rusqlite::Connection::open_in_memory().unwrap();
    CHAT.verify(&mut conn).unwrap();
    assert_eq!(state(&conn), new);
    let wrong = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (x);"),
        ("1_a.down.sql", "SELECT 'forgot a';"),
        (
            "2_b.up.sql",
            "-- strata:no-transaction\nCREATE TABLE b (x);",
        ),
        (
            "2_b.down.sql",
            "-- strata:no-transaction\nSELECT 'forgot b';",
        ),
        ("3_c.up.sql", "CREATE TABLE c (x);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ]);
    let failures = failures(load(&wrong).verify(&mut conn).unwrap_err());
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(state(&conn), new);
    let leaves_things = folder(&[
        (
            "1_a.up.sql",
            "-- strata:no-transaction\nCREATE TEMP TABLE scratch (x);\nATTACH ':memory:' AS side;\nPRAGMA user_version = 7;",
        ),
        (
            "1_a.down.sql",
            "-- strata:no-transaction\nPRAGMA user_version = 0;",
        ),
    ]);
    let _ = load(&leaves_things).verify(&mut conn);
    assert_eq!(state(&conn), new);
    CHAT.verify(&mut conn).unwrap();
}

/// A connection that is not a new in-memory database is refused before
/// verify changes anything, with what it is or holds named: a file (even
/// an empty one, which another connection may use), tables, temporary
/// objects, an attached database, a header number; so is a connection
/// inside a transaction.
#[test]
fn verify_refuses_a_database_that_is_not_new_and_changes_nothing() {
    let refused = |conn: &mut strata::rusqlite::Connection| match CHAT.verify(conn).unwrap_err() {
        Error::VerifyNeedsEmptyDatabase { found, .. } => found,
        other => panic!("{other:?}"),
    };
    let (_dir, path) = database();
    let mut file = open(&path);
    let err = CHAT.verify(&mut file).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("{} is a file on disk", path.display())),
        "{err}"
    );
    assert_eq!(objects(&file), Vec::<String>::new());

    let mut conn = strata::rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY); INSERT INTO users VALUES (7);",
    )
    .unwrap();
    assert_eq!(refused(&mut conn), ["holds table users"]);
    assert_eq!(count(&conn, "SELECT id FROM users"), 7);

    let mut conn = strata::rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TEMP TABLE t (x); ATTACH ':memory:' AS side; PRAGMA user_version = 42;",
    )
    .unwrap();
    assert_eq!(
        refused(&mut conn),
        [
            "holds the temporary table t",
            "has the database side attached",
            "has user_version 42"
        ]
    );
    assert_eq!(count(&conn, "PRAGMA user_version"), 42);

    let mut empty = strata::rusqlite::Connection::open_in_memory().unwrap();
    empty.execute_batch("BEGIN").unwrap();
    assert!(matches!(CHAT.verify(&mut empty), Err(Error::InTransaction)));
}

/// One entry point over any connection, chosen at run time too.
#[test]
fn verify_takes_a_connection_as_dyn_database() {
    let mut conn = strata::rusqlite::Connection::open_in_memory().unwrap();
    let db: &mut dyn strata::Database = &mut conn;
    assert_eq!(
        CHAT.runner().table("history").verify(db).unwrap().checked,
        [1, 2]
    );
}

// The tests above, with each SQLite driver built.
for_each_lite_driver!(
    correct_folders_pass,
    a_down_that_forgets_a_column_is_named_with_the_column,
    every_problem_is_reported_and_the_report_is_readable,
);
