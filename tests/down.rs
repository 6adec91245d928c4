//! Moving down and between versions: down, down_to, down_all, redo, goto,
//! and out-of-order migrations.

#[macro_use]
mod common;

use common::lite::{LiteConn, LiteDriver, Operations};
use common::*;
use strata::rusqlite::Connection;
use strata::{Checksum, Error, Migrations};

static CHAT: Migrations = strata::embed_migrations!("examples/chat/migrations");
static TESTS: Migrations = strata::embed_migrations!("tests/migrations");

fn reverted(report: &strata::Report) -> Vec<u64> {
    report.reverted.iter().map(|s| s.version).collect()
}

fn applied(report: &strata::Report) -> Vec<u64> {
    report.applied.iter().map(|s| s.version).collect()
}

fn down_steps_to_and_all(driver: LiteDriver) {
    let migrations = load(&tables_folder([1, 2, 3, 4]));
    let (_dir, path) = database();
    let mut conn = LiteConn::open(&path, driver);
    migrations.run_on(&mut conn).unwrap();

    let report = migrations.down_on(&mut conn, 1).unwrap();
    assert_eq!((reverted(&report), report.version), (vec![4], Some(3)));
    assert_eq!(
        tables(&open(&path)),
        ["schema_migrations", "t1", "t2", "t3"]
    );

    let report = migrations.down_to_on(&mut conn, 1).unwrap();
    assert_eq!((reverted(&report), report.version), (vec![3, 2], Some(1)));
    assert_eq!(history(&open(&path)), [(1, "t1".to_owned(), false)]);

    let report = migrations.down_all_on(&mut conn).unwrap();
    assert_eq!((reverted(&report), report.version), (vec![1], None));
    assert_eq!(tables(&open(&path)), ["schema_migrations"]);
    assert!(history(&open(&path)).is_empty());

    let report = migrations.down_on(&mut conn, 3).unwrap();
    assert!(report.is_empty());
    assert_eq!(
        report.to_string(),
        "nothing to do: the database is at no version"
    );
}

#[test]
fn version_zero_is_a_version() {
    let migrations = load(&tables_folder([0, 1]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    migrations.run(&mut conn).unwrap();
    let report = migrations.runner().down_to(&mut conn, 0).unwrap();
    assert_eq!((reverted(&report), report.version), (vec![1], Some(0)));
    assert_eq!(tables(&conn), ["schema_migrations", "t0"]);
    migrations.runner().down_all(&mut conn).unwrap();
    assert_eq!(tables(&conn), ["schema_migrations"]);
}

fn redo_and_goto(driver: LiteDriver) {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    let mut conn = LiteConn::open(&path, driver);
    migrations.runner().target(2).run_on(&mut conn).unwrap();
    conn.execute_batch("INSERT INTO t2 (id) VALUES (7)");

    let report = migrations.redo_on(&mut conn).unwrap();
    assert_eq!(
        (reverted(&report), applied(&report), report.version),
        (vec![2], vec![2], Some(2))
    );
    assert_eq!(
        count(&open(&path), "SELECT count(*) FROM t2"),
        0,
        "the table was dropped and created again"
    );
    let text = report.to_string();
    assert!(text.starts_with("reverted 1 migration and applied 1 migration, the database is now at version 2\n  down 000002_t2  "), "{text}");

    let report = migrations.goto_on(&mut conn, 3).unwrap();
    assert_eq!(
        (reverted(&report), applied(&report), report.version),
        (vec![], vec![3], Some(3))
    );
    let report = migrations.goto_on(&mut conn, 1).unwrap();
    assert_eq!(
        (reverted(&report), applied(&report), report.version),
        (vec![3, 2], vec![], Some(1))
    );
    let err = migrations.goto_on(&mut conn, 9).unwrap_err();
    assert!(
        matches!(err, Error::UnknownVersion { version: 9, .. }),
        "{err:?}"
    );
}

#[test]
fn down_recreating_a_table_keeps_foreign_keys_safe() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    CHAT.run(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO sessions (session_id, model) VALUES ('s', 'm');
         INSERT INTO messages (session_id, role, content) VALUES ('s', 'user', 'a'), ('s', 'thinking', 'b');",
    )
    .unwrap();
    CHAT.runner().down(&mut conn, 1).unwrap();
    // The down file keeps what the old CHECK allows and drops the rest.
    assert_eq!(count(&conn, "SELECT count(*) FROM messages"), 1);
    assert!(
        conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, bool>(0))
            .unwrap()
    );
    assert!(
        conn.execute(
            "INSERT INTO messages (session_id, role, content) VALUES ('s', 'thinking', 'c')",
            []
        )
        .is_err()
    );
}

#[test]
fn an_irreversible_migration_stops_the_down_before_anything_changes() {
    let (_dir, path) = database();
    TESTS.run(&mut open(&path)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = TESTS.runner().down_all(&mut open(&path)).unwrap_err();
    assert!(
        matches!(&err, Error::Irreversible { version: 10, file, .. } if file == "tests/migrations/000010_compact.down.sql"),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Down to it is fine: it stays applied.
    assert!(
        TESTS
            .runner()
            .down_to(&mut open(&path), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn checksums_are_validated_before_a_down() {
    let folder = tables_folder([1, 2]);
    let (_dir, path) = database();
    load(&folder).run(&mut open(&path)).unwrap();
    write_files(
        folder.path(),
        &[(
            "000001_t1.up.sql",
            "CREATE TABLE t1 (id INTEGER PRIMARY KEY, x);\n",
        )],
    );
    let before = std::fs::read(&path).unwrap();
    let err = load(&folder)
        .runner()
        .down(&mut open(&path), 1)
        .unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 1, .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_failing_down_leaves_the_database_as_it_was() {
    let folder = tables_folder([1]);
    write_files(
        folder.path(),
        &[
            (
                "000002_b.up.sql",
                "CREATE TABLE b (id INTEGER);\nINSERT INTO b VALUES (1);\n",
            ),
            ("000002_b.down.sql", "DELETE FROM b;\nDROP TABLE nope;\n"),
        ],
    );
    let (_dir, path) = database();
    load(&folder).run(&mut open(&path)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = load(&folder)
        .runner()
        .down(&mut open(&path), 2)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Statement { version: 2, line: Some(2), file, .. } if file.ends_with("000002_b.down.sql")),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_no_transaction_down_removes_its_row_or_leaves_it_dirty() {
    let folder = tables_folder([1]);
    write_files(
        folder.path(),
        &[
            ("000002_idx.up.sql", "CREATE INDEX t1_id ON t1 (id);\n"),
            (
                "000002_idx.down.sql",
                "-- strata:no-transaction\nDROP INDEX t1_id;\n",
            ),
        ],
    );
    let (_dir, path) = database();
    let mut conn = open(&path);
    let migrations = load(&folder);
    migrations.run(&mut conn).unwrap();
    migrations.runner().down(&mut conn, 1).unwrap();
    assert_eq!(history(&conn), [(1, "t1".to_owned(), false)]);

    migrations.run(&mut conn).unwrap();
    conn.execute_batch("DROP INDEX t1_id").unwrap();
    let err = migrations.runner().down(&mut conn, 1).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::LeftDirty { version: 2, previous: Some(1), file, cause, direction: strata::Direction::Down, file_completed: false, .. }
                if file.ends_with("000002_idx.down.sql") && matches!(**cause, Error::Statement {
                version: 2,
                line: Some(2),
                ..
            })
        ),
        "{err:?}"
    );
    // A down that ran in full means the version below.
    assert!(
        err.to_string().contains(
            "`strata force 1` if the migration is now reverted in full, `strata force 2` if none of it is"
        ),
        "{err}"
    );
    assert_eq!(history(&conn)[1], (2, "idx".to_owned(), true));
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(matches!(err, Error::Dirty { version: 2, .. }), "{err:?}");
}

#[test]
fn out_of_order_migrations_apply_only_when_allowed_and_keep_the_chain_right() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    load(&tables_folder([1, 3])).run(&mut conn).unwrap();
    let migrations = load(&tables_folder([1, 2, 3, 4]));
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::OutOfOrder { version: 2, .. }),
        "{err:?}"
    );

    let report = migrations
        .runner()
        .allow_out_of_order(true)
        .run(&mut conn)
        .unwrap();
    assert_eq!((applied(&report), report.version), (vec![2, 4], Some(4)));
    // Every row's chain is now the chain of the files, so the next start is
    // the one-read fast path, and the default runner accepts the database.
    let chains: Vec<String> = conn
        .prepare("SELECT chain FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = migrations.iter().map(|m| m.chain().to_hex()).collect();
    assert_eq!(chains, expected);
    assert!(migrations.run(&mut conn).unwrap().is_empty());
}

#[test]
fn out_of_order_in_one_transaction() {
    let (_dir, path) = database();
    let mut conn: Connection = open(&path);
    load(&tables_folder([2])).run(&mut conn).unwrap();
    let migrations = load(&tables_folder([1, 2, 3]));
    let report = migrations
        .runner()
        .allow_out_of_order(true)
        .single_transaction(true)
        .run(&mut conn)
        .unwrap();
    assert_eq!(applied(&report), [1, 3]);
    let mut chain = Checksum::ZERO;
    for m in &migrations {
        chain = chain.chain(m.version(), &m.checksum());
    }
    let head: String = conn
        .query_row(
            "SELECT chain FROM schema_migrations ORDER BY version DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(head, chain.to_hex());
}

// The tests above, with each SQLite driver built.
for_each_lite_driver!(down_steps_to_and_all, redo_and_goto,);
