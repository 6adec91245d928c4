//! What a run says when it stops partway, the error chain, and the paths of
//! a project moving from golang-migrate or deployed replica by replica
//! (issue 16), on SQLite files on disk.

mod common;

use std::error::Error as _;

use common::{count, database, folder, history, load, open, tables, tables_folder};
use strata::{Change, Error};

/// Versions 1 to 3 create t1 to t3; version 4 fails on its second line.
fn three_good_then_a_bad_one() -> tempfile::TempDir {
    let dir = tables_folder([1, 2, 3]);
    common::write_files(
        dir.path(),
        &[
            (
                "000004_bad.up.sql",
                "CREATE TABLE t4 (id INTEGER PRIMARY KEY);\nINSERT INTO missing VALUES (1);\n",
            ),
            ("000004_bad.down.sql", "DROP TABLE t4;\n"),
        ],
    );
    dir
}

#[test]
fn a_run_that_fails_partway_reports_what_it_committed() {
    let migrations = load(&three_good_then_a_bad_one());
    let (_dir, path) = database();
    let mut conn = open(&path);
    let err = migrations.run(&mut conn).unwrap_err();

    let report = err
        .report()
        .unwrap_or_else(|| panic!("no partial report: {err:?}"));
    let applied: Vec<u64> = report.applied.iter().map(|s| s.version).collect();
    assert_eq!(applied, [1, 2, 3]);
    assert_eq!(report.version, Some(3));
    assert!(
        matches!(
            err.failure(),
            Error::Statement {
                version: 4,
                line: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with(
            " (before this failure the run applied 3 migrations; they stay committed, and the database is now at version 3)"
        ),
        "{err}"
    );
    // The report is the truth: the history says the same.
    assert_eq!(history(&conn).len(), 3);
    assert_eq!(tables(&conn), ["schema_migrations", "t1", "t2", "t3"]);

    // A failure before anything was committed is the failure alone.
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(err.report().is_none(), "{err:?}");
    assert!(
        matches!(err, Error::Statement { version: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn single_transaction_commits_nothing_so_its_failure_has_no_report() {
    let migrations = load(&three_good_then_a_bad_one());
    let (_dir, path) = database();
    let mut conn = open(&path);
    let err = migrations
        .runner()
        .single_transaction(true)
        .run(&mut conn)
        .unwrap_err();
    assert!(err.report().is_none(), "{err:?}");
    assert!(tables(&conn).is_empty());
}

/// Versions 1 to 3 (tables t1 to t3), applied to a new database, where
/// version 2's down file is `down`: the folder, the migrations, the
/// database's folder and a connection.
fn applied_with_down_of_2(
    down: &str,
) -> (
    tempfile::TempDir,
    strata::Migrations,
    tempfile::TempDir,
    strata::rusqlite::Connection,
) {
    let dir = tables_folder([1, 3]);
    common::write_files(
        dir.path(),
        &[
            (
                "000002_t2.up.sql",
                "CREATE TABLE t2 (id INTEGER PRIMARY KEY);\n",
            ),
            ("000002_t2.down.sql", down),
        ],
    );
    let migrations = load(&dir);
    let (db, path) = database();
    let mut conn = open(&path);
    migrations.run(&mut conn).unwrap();
    (dir, migrations, db, conn)
}

#[test]
fn down_goto_and_redo_that_fail_partway_report_what_they_committed() {
    // Version 2's down fails: it drops a table that is not there.
    let (dir, migrations, _db, mut conn) =
        applied_with_down_of_2("DROP TABLE t2;\nDROP TABLE nowhere;\n");

    type Move = fn(
        &strata::Migrations,
        &mut strata::rusqlite::Connection,
    ) -> strata::Result<strata::Report>;
    let moves: [Move; 2] = [
        |m, conn| m.runner().down_all(conn),
        |m, conn| m.runner().goto(conn, 1),
    ];
    for move_down in moves {
        let err = move_down(&migrations, &mut conn).unwrap_err();
        let report = err
            .report()
            .unwrap_or_else(|| panic!("no partial report: {err:?}"));
        let reverted: Vec<u64> = report.reverted.iter().map(|s| s.version).collect();
        assert_eq!(reverted, [3], "{err}");
        assert_eq!(report.version, Some(2), "{err}");
        assert!(
            matches!(err.failure(), Error::Statement { version: 2, .. }),
            "{err:?}"
        );
        migrations.run(&mut conn).unwrap();
    }

    // redo: the down of 3 is committed, its up fails (t3 was not dropped).
    common::write_files(dir.path(), &[("000003_t3.down.sql", "SELECT 1;\n")]);
    let migrations = load(&dir);
    let err = migrations.runner().redo(&mut conn).unwrap_err();
    let report = err
        .report()
        .unwrap_or_else(|| panic!("no partial report: {err:?}"));
    assert_eq!(report.reverted.len(), 1);
    assert!(report.applied.is_empty());
    assert_eq!(report.version, Some(2));
    assert!(
        err.to_string()
            .contains("reverted 1 migration; it stays committed"),
        "{err}"
    );
}

#[test]
fn the_error_chain_reaches_the_driver_through_anyhow() {
    let migrations = load(&three_good_then_a_bad_one());
    let (_dir, path) = database();
    let err = migrations.run(&mut open(&path)).unwrap_err();

    // Partial -> Statement -> DatabaseError -> rusqlite::Error.
    let mut chain = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(e) = cause {
        chain.push(e.to_string());
        cause = e.source();
    }
    assert!(chain.len() >= 4, "{chain:#?}");
    assert!(
        chain[1].starts_with("/") && chain[1].contains(":2: no such table: missing"),
        "{chain:#?}"
    );
    assert!(
        chain[2..].iter().any(|e| e == "no such table: missing"),
        "{chain:#?}"
    );

    let err = anyhow::Error::from(err).context("migrating app.db");
    let found = err
        .chain()
        .find_map(|e| e.downcast_ref::<strata::rusqlite::Error>());
    assert!(
        matches!(found, Some(strata::rusqlite::Error::SqliteFailure(..))),
        "{err:?}"
    );
    let found = err.chain().find_map(|e| e.downcast_ref::<Error>());
    assert!(matches!(found, Some(Error::Partial { .. })), "{err:?}");
    assert!(
        format!("{err:#}").starts_with("migrating app.db: "),
        "{err:#}"
    );
    assert!(format!("{err:?}").contains("Caused by:"), "{err:?}");
}

#[test]
fn debug_is_the_message_so_main_returning_an_error_reads_well() {
    let migrations = load(&three_good_then_a_bad_one());
    let (_dir, path) = database();
    let err = migrations.run(&mut open(&path)).unwrap_err();
    assert_eq!(format!("{err:?}"), err.to_string());
    let long = format!("{err:#?}");
    assert!(long.starts_with(&err.to_string()), "{long}");
    assert!(long.contains("\n\ncaused by: "), "{long}");
    // What `fn main() -> Result<(), Box<dyn Error>>` prints after "Error: ".
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(!format!("{boxed:?}").contains("Partial {"), "{boxed:?}");
}

#[test]
fn a_foreign_key_failure_counts_every_broken_row() {
    let migrations = load(&folder(&[
        (
            "1_a.up.sql",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id));\n\
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 950)\n\
             INSERT INTO child SELECT i, i FROM n;\n",
        ),
        ("1_a.down.sql", "DROP TABLE child;\nDROP TABLE parent;\n"),
    ]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    let err = migrations.run(&mut conn).unwrap_err();
    let Error::ForeignKeyViolation {
        rows, violations, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*rows, 950);
    assert_eq!(violations.len(), 5);
    assert!(
        err.to_string()
            .contains("would leave 950 rows with a broken foreign key")
            && err.to_string().contains(" and 945 more "),
        "{err}"
    );
    assert!(tables(&conn).is_empty());
}

/// golang-migrate's table: one row, the version, and the dirty flag.
fn golang_migrate(conn: &strata::rusqlite::Connection, version: i64, dirty: bool) {
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO schema_migrations VALUES (?1, ?2)",
        (version, dirty),
    )
    .unwrap();
}

#[test]
fn adopting_a_version_the_files_lack_says_its_name_is_unknown() {
    let migrations = load(&tables_folder([1, 2]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    golang_migrate(&conn, 12, false);
    let err = migrations.runner().adopt(&mut conn).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::MissingMigration {
                version: 12,
                name: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("version 12 (name unknown) is applied"),
        "{err}"
    );
}

#[test]
fn a_dirty_golang_migrate_table_is_adopted_at_the_version_the_user_states() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch(
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    golang_migrate(&conn, 3, true);
    let err = migrations.runner().adopt(&mut conn).unwrap_err();
    assert!(
        err.to_string().contains("strata adopt --force-version V"),
        "{err}"
    );

    // The person repaired the database: 3 is not applied, 2 is.
    let dry = migrations
        .runner()
        .dry_run(true)
        .adopt_forced(&mut conn, Some(2))
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(count(&conn, "SELECT count(*) FROM schema_migrations"), 1);
    let changes = migrations
        .runner()
        .adopt_forced(&mut conn, Some(2))
        .unwrap();
    let adopted: Vec<(u64, Change)> = changes
        .changes
        .iter()
        .map(|c| (c.version, c.change.clone()))
        .collect();
    assert_eq!(adopted, [(1, Change::Adopted), (2, Change::Adopted)]);
    assert_eq!(
        history(&conn),
        [(1, "t1".to_owned(), false), (2, "t2".to_owned(), false)]
    );
    let report = migrations.run(&mut conn).unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.version, Some(3));

    // golang-migrate's "no version" (-1), dirty: a first migration failed.
    let (_dir, path) = database();
    let mut conn = open(&path);
    golang_migrate(&conn, -1, true);
    let err = migrations.runner().adopt(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::AdoptDirty { version: None, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "records golang-migrate's \"no version\" (-1, before its first migration) as dirty"
        ),
        "{err}"
    );
    assert!(
        migrations
            .runner()
            .adopt_forced(&mut conn, None)
            .unwrap()
            .is_empty()
    );
    assert!(history(&conn).is_empty());
    assert_eq!(migrations.run(&mut conn).unwrap().applied.len(), 3);
}

/// A run of versions 1 and 2 on a new database that holds `table`.
fn run_where_exists(table: &str) -> (Error, tempfile::TempDir, strata::rusqlite::Connection) {
    let migrations = load(&tables_folder([1, 2]));
    let (dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch(&format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);"))
        .unwrap();
    (migrations.run(&mut conn).unwrap_err(), dir, conn)
}

#[test]
fn a_database_built_without_strata_is_pointed_to_baseline() {
    // After a migration of the run, an object that is there may be one
    // this run made (a folder that creates a table twice): the failure is
    // said as it is, never "built without strata".
    let (err, _dir, _conn) = run_where_exists("t2");
    assert_eq!(err.report().map(|r| r.applied.len()), Some(1));
    assert!(
        matches!(err.failure(), Error::Statement { version: 2, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("without strata"), "{err}");

    let migrations = load(&tables_folder([1, 2]));
    let (err, _dir, mut conn) = run_where_exists("t1");
    assert!(
        matches!(&err, Error::SchemaExists { version: 1, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("migrations") || text.contains("table t1 already exists"),
        "{text}"
    );
    assert!(
        text.contains("had no history table schema_migrations")
            && text.contains("`strata baseline VERSION`")
            && text.contains("name it with --table"),
        "{text}"
    );
    assert!(matches!(err.source(), Some(e) if e.to_string().contains("already exists")));
    // Once a history exists, the same failure is the failure alone.
    migrations.runner().baseline(&mut conn, 1).unwrap();
    conn.execute_batch("CREATE TABLE t2 (id INTEGER PRIMARY KEY);")
        .unwrap();
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::Statement { version: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn an_older_build_runs_beside_a_database_a_newer_build_migrated() {
    let newer = load(&tables_folder([1, 2, 3, 4]));
    let older_dir = tables_folder([1, 2]);
    let older = load(&older_dir);
    let (_dir, path) = database();
    let mut conn = open(&path);
    newer.run(&mut conn).unwrap();

    let err = older.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::MissingMigration { version: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("--allow-newer"), "{err}");

    let report = older.runner().allow_newer(true).run(&mut conn).unwrap();
    assert!(report.is_empty());
    assert_eq!(report.newer, [3, 4]);
    assert_eq!(report.version, Some(4));
    assert_eq!(
        report.to_string(),
        "nothing to do: the database is at version 4 (versions 3, 4 applied by a newer build, without files here: left as they are)"
    );
    assert_eq!(
        older
            .runner()
            .allow_newer(true)
            .validate(&mut conn)
            .unwrap(),
        Vec::<u64>::new()
    );

    // The build's own migrations are still checked.
    common::write_files(
        older_dir.path(),
        &[(
            "000002_t2.up.sql",
            "CREATE TABLE t2 (id INTEGER PRIMARY KEY, edited INTEGER);\n",
        )],
    );
    let edited = load(&older_dir);
    let err = edited
        .runner()
        .allow_newer(true)
        .run(&mut conn)
        .unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 2, .. }),
        "{err:?}"
    );

    // A gap below the build's newest is still a missing migration.
    let gap = load(&tables_folder([1, 3]));
    let (_dir2, path2) = database();
    let mut conn2 = open(&path2);
    load(&tables_folder([1, 2, 3])).run(&mut conn2).unwrap();
    let err = gap.runner().allow_newer(true).run(&mut conn2).unwrap_err();
    assert!(
        matches!(err, Error::MissingMigration { version: 2, .. }),
        "{err:?}"
    );

    // A down never steps over what a newer build applied.
    let err = older
        .runner()
        .allow_newer(true)
        .down(&mut conn, 1)
        .unwrap_err();
    assert!(
        matches!(err, Error::MissingMigration { version: 3, .. }),
        "{err:?}"
    );
    assert_eq!(history(&conn).len(), 4);
}

/// Applies version 3 below 4, and dates the history as if 3 came weeks
/// after 1, 2 and 4.
fn apply_late(migrations: &strata::Migrations, conn: &mut strata::rusqlite::Connection) {
    let report = migrations
        .runner()
        .allow_out_of_order(true)
        .run(conn)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    applied_at(conn, &[1, 2, 4, 3]);
}

/// Sets when each version was applied, in whole seconds after a fixed
/// day: the history as weeks of deploys would leave it.
fn applied_at(conn: &strata::rusqlite::Connection, order: &[i64]) {
    for (second, version) in order.iter().enumerate() {
        conn.execute(
            "UPDATE schema_migrations SET applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', ?1 || ' seconds') WHERE version = ?2",
            (second as i64, version),
        )
        .unwrap();
    }
}

#[test]
fn down_follows_the_order_of_application_and_can_revert_one_version() {
    let all = tables_folder([1, 2, 3, 4]);
    let migrations = load(&all);
    let (_dir, path) = database();
    let mut conn = open(&path);
    // 1, 2 and 4 first; 3, merged late, weeks after.
    load(&tables_folder([1, 2, 4])).run(&mut conn).unwrap();
    apply_late(&migrations, &mut conn);

    let report = migrations.runner().down(&mut conn, 1).unwrap();
    let reverted: Vec<u64> = report.reverted.iter().map(|s| s.version).collect();
    assert_eq!(reverted, [3]);
    assert_eq!(report.version, Some(4));
    assert_eq!(tables(&conn), ["schema_migrations", "t1", "t2", "t4"]);

    // Applied late again; down --all reverts 3, then 4, 2, 1.
    apply_late(&migrations, &mut conn);
    let dry = migrations
        .runner()
        .dry_run(true)
        .down_all(&mut conn)
        .unwrap();
    let order: Vec<u64> = dry.reverted.iter().map(|s| s.version).collect();
    assert_eq!(order, [3, 4, 2, 1]);

    // down_to(2) reverts what is above 2, the late one first.
    let report = migrations.runner().down_to(&mut conn, 2).unwrap();
    let order: Vec<u64> = report.reverted.iter().map(|s| s.version).collect();
    assert_eq!(order, [3, 4]);

    // One named version alone, below applied ones.
    migrations
        .runner()
        .allow_out_of_order(true)
        .run(&mut conn)
        .unwrap();
    let report = migrations.runner().down_only(&mut conn, 2).unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(report.version, Some(4));
    let versions: Vec<i64> = history(&conn).iter().map(|r| r.0).collect();
    assert_eq!(versions, [1, 3, 4]);
    // The history's chain was rewritten: it reads as clean, and the gap is
    // a pending migration below applied ones.
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::OutOfOrder { version: 2, .. }),
        "{err:?}"
    );
    migrations
        .runner()
        .allow_out_of_order(true)
        .run(&mut conn)
        .unwrap();
    assert!(migrations.runner().validate(&mut conn).unwrap().is_empty());

    let err = migrations.runner().down_only(&mut conn, 9).unwrap_err();
    assert!(
        matches!(err, Error::UnknownVersion { version: 9, .. }),
        "{err:?}"
    );
    migrations.runner().down_only(&mut conn, 4).unwrap();
    let err = migrations.runner().down_only(&mut conn, 4).unwrap_err();
    assert!(
        matches!(err, Error::NotApplied { version: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn a_no_transaction_down_never_runs_below_an_applied_version() {
    let (_dir, migrations, _db, mut conn) =
        applied_with_down_of_2("-- strata:no-transaction\nDROP TABLE t2;\n");
    let err = migrations.runner().down_only(&mut conn, 2).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoTransactionRevertBelow {
                version: 2,
                newest_applied: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(history(&conn).len(), 3);
    // In order, it runs.
    let report = migrations.runner().down(&mut conn, 2).unwrap();
    assert_eq!(report.reverted.len(), 2);
}

#[test]
fn no_op_migrations_run_and_revert_as_nothing() {
    let dir = tables_folder([1, 3]);
    common::write_files(
        dir.path(),
        &[
            (
                "000002_nothing.up.sql",
                "-- strata:no-op\n-- kept from golang-migrate\n",
            ),
            ("000002_nothing.down.sql", "-- strata:no-op\n"),
        ],
    );
    let migrations = load(&dir);
    let (_dir, path) = database();
    let mut conn = open(&path);
    assert_eq!(migrations.run(&mut conn).unwrap().applied.len(), 3);
    let report = migrations.runner().goto(&mut conn, 1).unwrap();
    assert_eq!(report.reverted.len(), 2);
    assert_eq!(
        migrations
            .runner()
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap()
            .checked,
        [1, 2, 3]
    );
    // Adopted from golang-migrate at the no-op version.
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch("CREATE TABLE t1 (id INTEGER PRIMARY KEY);")
        .unwrap();
    golang_migrate(&conn, 2, false);
    migrations.runner().adopt(&mut conn).unwrap();
    assert_eq!(
        migrations
            .runner()
            .down(&mut conn, 1)
            .unwrap()
            .reverted
            .len(),
        1
    );
}

#[test]
fn a_pairing_problem_never_hides_what_is_wrong_inside_the_files() {
    let dir = folder(&[
        // No down file; the up file breaks two content rules.
        (
            "1_a.up.sql",
            "CREATE TABLE a (id integer);\n-- strata:bogus\n",
        ),
        // No up file; the down file is empty.
        ("2_b.down.sql", "-- nothing\n"),
        // Names that differ; both files hold problems.
        (
            "3_c.up.sql",
            "BEGIN;\nCREATE TABLE c (id integer);\nCOMMIT;\n",
        ),
        ("3_d.down.sql", ""),
        // One version twice; one of its files is empty.
        ("4_e.up.sql", "CREATE TABLE e (id integer);\n"),
        ("4_f.up.sql", "-- strata:no-op\nSELECT 1;\n"),
        ("4_e.down.sql", "DROP TABLE e;\n"),
    ]);
    let err = strata::Migrations::from_dir(dir.path()).unwrap_err();
    let Error::InvalidFolder { problems, .. } = &err else {
        panic!("{err:?}")
    };
    let kinds: Vec<String> = problems
        .iter()
        .map(|p| {
            format!("{p:?}")
                .split([' ', '{'])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "MissingDown",
            "DirectiveAfterSql",
            "MissingUp",
            "EmptyDown",
            "NameMismatch",
            "RefusedInTransaction",
            "RefusedInTransaction",
            "EmptyDown",
            "DuplicateVersion",
            "NoOpWithSql",
        ],
        "{err}"
    );
}

/// The same paths on PostgreSQL, where history rows, lock errors and
/// "already exists" come from the server.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use common::pg::TestDb;
    use std::time::Duration;

    #[test]
    fn partial_reports_existing_schemas_and_the_order_of_down() {
        let Some(db) = TestDb::new("porting_paths") else {
            return;
        };
        let mut client = db.client();
        // Built without strata: the first migration's table is there.
        client
            .batch_execute("CREATE TABLE t1 (id integer)")
            .unwrap();
        let migrations = load(&tables_folder([1, 2, 3, 4]));
        let err = migrations.run(&mut client).unwrap_err();
        assert!(
            matches!(err, Error::SchemaExists { version: 1, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("`strata baseline VERSION`"),
            "{err}"
        );
        client.batch_execute("DROP TABLE t1").unwrap();

        // 1, 2, 4 first; then a run that applies 3 late and fails at 5.
        load(&tables_folder([1, 2, 4])).run(&mut client).unwrap();
        let dir = tables_folder([1, 2, 3, 4]);
        common::write_files(
            dir.path(),
            &[
                ("000005_bad.up.sql", "SELECT 1 / 0;\n"),
                ("000005_bad.down.sql", "SELECT 1;\n"),
            ],
        );
        let err = load(&dir)
            .runner()
            .allow_out_of_order(true)
            .run(&mut client)
            .unwrap_err();
        let report = err.report().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(report.applied.len(), 1);
        assert_eq!(report.version, Some(4));
        assert!(
            matches!(err.failure(), Error::Statement { version: 5, .. }),
            "{err:?}"
        );
        client
            .batch_execute(
                "UPDATE schema_migrations SET applied_at = '2026-01-01'::timestamptz + version * interval '1 day' WHERE version <> 3;
                 UPDATE schema_migrations SET applied_at = '2026-02-01' WHERE version = 3;",
            )
            .unwrap();
        let four = load(&tables_folder([1, 2, 3, 4]));
        let order: Vec<u64> = four
            .runner()
            .dry_run(true)
            .down_all(&mut client)
            .unwrap()
            .reverted
            .iter()
            .map(|s| s.version)
            .collect();
        assert_eq!(order, [3, 4, 2, 1]);
        four.runner().down_only(&mut client, 2).unwrap();
        let versions: Vec<i64> = common::pg::history(&mut client)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(versions, [1, 3, 4]);

        // An older build beside it.
        let report = load(&tables_folder([1]))
            .runner()
            .allow_newer(true)
            .run(&mut client)
            .unwrap();
        assert_eq!(report.newer, [3, 4]);
    }

    #[test]
    fn a_table_lock_timeout_is_named_not_mistaken_for_the_file_s_own() {
        let Some(db) = TestDb::new("porting_lock_timeout") else {
            return;
        };
        let mut client = db.client();
        client.batch_execute("CREATE TABLE a (id integer)").unwrap();
        let mut app = db.client();
        app.batch_execute("BEGIN; LOCK TABLE a IN ACCESS SHARE MODE")
            .unwrap();
        // The file sets its own limit: the error is the statement's.
        let own = load(&folder(&[
            (
                "1_b.up.sql",
                "SET LOCAL lock_timeout = '100ms';\nALTER TABLE a ADD COLUMN b integer;\n",
            ),
            ("1_b.down.sql", "ALTER TABLE a DROP COLUMN b;\n"),
        ]));
        let err = own.run(&mut client).unwrap_err();
        assert!(
            matches!(err, Error::Statement { version: 1, .. }),
            "{err:?}"
        );
        let err = load(&folder(&[
            ("1_b.up.sql", "ALTER TABLE a ADD COLUMN b integer;\n"),
            ("1_b.down.sql", "ALTER TABLE a DROP COLUMN b;\n"),
        ]))
        .runner()
        .table_lock_timeout(Some(Duration::from_millis(100)))
        .run(&mut client)
        .unwrap_err();
        let Error::TableLockTimeout { timeout, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*timeout, Duration::from_millis(100));
        let found = err
            .source()
            .and_then(|e| e.source())
            .and_then(|e| e.downcast_ref::<strata::postgres::Error>());
        assert_eq!(
            found.and_then(strata::postgres::Error::code),
            Some(&strata::postgres::error::SqlState::LOCK_NOT_AVAILABLE)
        );
    }
}

#[test]
fn redo_of_a_late_migration_applies_it_again_and_a_gap_stops_it_first() {
    let migrations = load(&tables_folder([1, 2, 3, 4]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    load(&tables_folder([1, 2, 4])).run(&mut conn).unwrap();
    apply_late(&migrations, &mut conn);
    let report = migrations.runner().redo(&mut conn).unwrap();
    let reverted: Vec<u64> = report.reverted.iter().map(|s| s.version).collect();
    let applied: Vec<u64> = report.applied.iter().map(|s| s.version).collect();
    assert_eq!((reverted, applied), (vec![3], vec![3]));
    assert_eq!(report.version, Some(4));
    assert_eq!(history(&conn).len(), 4);

    // A gap below the newest: redo would apply it too, so it is refused
    // before anything is reverted.
    migrations.runner().down_only(&mut conn, 2).unwrap();
    let err = migrations.runner().redo(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::OutOfOrder { version: 2, .. }),
        "{err:?}"
    );
    let versions: Vec<i64> = history(&conn).iter().map(|r| r.0).collect();
    assert_eq!(versions, [1, 3, 4]);
}

#[test]
fn where_a_failed_run_left_the_database_is_true_for_every_kind_of_failure() {
    // A no-transaction migration fails after three committed: its row is
    // recorded, dirty.
    let dir = tables_folder([1, 2, 3]);
    common::write_files(
        dir.path(),
        &[
            (
                "000004_outside.up.sql",
                "-- strata:no-transaction\nCREATE TABLE t4 (id INTEGER);\nINSERT INTO missing VALUES (1);\n",
            ),
            ("000004_outside.down.sql", "DROP TABLE t4;\n"),
        ],
    );
    let (_dir, path) = database();
    let mut conn = open(&path);
    let err = load(&dir).run(&mut conn).unwrap_err();
    let report = err.report().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(report.applied.len(), 3);
    assert_eq!(report.version, Some(4));
    assert!(
        matches!(err.failure(), Error::LeftDirty { version: 4, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("the database is now at version 4, marked dirty)"),
        "{err}"
    );
    assert_eq!(
        history(&conn).last(),
        Some(&(4, "outside".to_owned(), true))
    );

    // Newer versions stay the newest when this build applies one late.
    let (_dir, path) = database();
    let mut conn = open(&path);
    load(&tables_folder([1, 3, 4, 5])).run(&mut conn).unwrap();
    let report = load(&tables_folder([1, 2, 3]))
        .runner()
        .allow_newer(true)
        .allow_out_of_order(true)
        .run(&mut conn)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.newer, [4, 5]);
    assert_eq!(report.version, Some(5));
}

#[test]
fn adopt_told_a_version_on_strata_s_own_history_is_an_error() {
    let migrations = load(&tables_folder([1, 2]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    migrations.run(&mut conn).unwrap();
    assert!(migrations.runner().adopt(&mut conn).unwrap().is_empty());
    let err = migrations
        .runner()
        .adopt_forced(&mut conn, Some(1))
        .unwrap_err();
    assert!(matches!(err, Error::AdoptedAlready { .. }), "{err:?}");
    assert!(err.to_string().contains("`strata force V`"), "{err}");
    assert_eq!(history(&conn).len(), 2);
}

#[test]
fn goto_and_redo_refuse_a_gap_before_they_revert_anything() {
    let dir = tables_folder([1, 2, 4, 5]);
    common::write_files(
        dir.path(),
        &[
            (
                "000003_outside.up.sql",
                "-- strata:no-transaction\nCREATE TABLE t3 (id INTEGER);\nCREATE TABLE t3x (id INTEGER);\n",
            ),
            ("000003_outside.down.sql", "DROP TABLE t3;\n"),
        ],
    );
    let migrations = load(&dir);
    let (_dir, path) = database();
    let mut conn = open(&path);
    migrations.run(&mut conn).unwrap();
    migrations.runner().down_only(&mut conn, 2).unwrap();
    let before = history(&conn);
    for err in [
        migrations.runner().goto(&mut conn, 4).unwrap_err(),
        migrations.runner().redo(&mut conn).unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::OutOfOrder { version: 2, .. }),
            "{err:?}"
        );
        assert_eq!(history(&conn), before);
    }
    // With the gap allowed, goto 4 reverts 5 and applies 2.
    let report = migrations
        .runner()
        .allow_out_of_order(true)
        .goto(&mut conn, 4)
        .unwrap();
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(report.applied.len(), 1);

    // redo of the no-transaction 3, whose up fails the second time (its
    // down left t3x): the report says where the database is, dirty.
    let (_dir, path) = database();
    let mut conn = open(&path);
    migrations.runner().target(3).run(&mut conn).unwrap();
    let err = migrations.runner().redo(&mut conn).unwrap_err();
    let report = err.report().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(report.reverted.len(), 1);
    assert_eq!(report.version, Some(3));
    assert!(
        err.to_string()
            .ends_with("is now at version 3, marked dirty)"),
        "{err}"
    );
    assert_eq!(
        history(&conn).last(),
        Some(&(3, "outside".to_owned(), true))
    );
}

#[test]
fn a_no_transaction_migration_never_runs_below_a_newer_build_s_versions() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    load(&tables_folder([1, 2, 5, 6])).run(&mut conn).unwrap();
    let dir = tables_folder([1, 2, 3]);
    common::write_files(
        dir.path(),
        &[
            (
                "000004_outside.up.sql",
                "-- strata:no-transaction\nCREATE TABLE t4 (id INTEGER);\n",
            ),
            ("000004_outside.down.sql", "DROP TABLE t4;\n"),
        ],
    );
    let migrations = load(&dir);
    let older = migrations
        .runner()
        .allow_newer(true)
        .allow_out_of_order(true);
    for err in [
        older.clone().dry_run(true).run(&mut conn).unwrap_err(),
        older.run(&mut conn).unwrap_err(),
        older.validate(&mut conn).unwrap_err(),
    ] {
        assert!(
            matches!(
                err.failure(),
                Error::NoTransactionOutOfOrder {
                    version: 4,
                    newest_applied: 6,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert!(!tables(&conn).contains(&"t4".to_owned()));
}

/// sqlx's history table on SQLite, as `sqlx::migrate!` creates it, with a
/// row per migration it ran.
fn sqlx_table(conn: &strata::rusqlite::Connection, rows: &[(i64, &str, bool)]) {
    conn.execute_batch(
        "CREATE TABLE _sqlx_migrations (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
             success BOOLEAN NOT NULL,
             checksum BLOB NOT NULL,
             execution_time BIGINT NOT NULL
         );",
    )
    .unwrap();
    for (version, description, success) in rows {
        conn.execute(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (?1, ?2, '2024-03-01 12:30:00', ?3, x'00', 1000)",
            (version, description, success),
        )
        .unwrap();
    }
}

/// A project moving from `sqlx::migrate!`: its history is adopted under
/// its name, each version with the time sqlx recorded; a migration sqlx
/// recorded as failed (`success = false`) is dirty, and adopt refuses it
/// until the user says which version the database is at.
#[test]
fn sqlx_history_is_adopted_and_a_failed_migration_refused() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch(
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    sqlx_table(&conn, &[(1, "t1", true), (2, "t2", true)]);
    let runner = migrations.runner().table("_sqlx_migrations");
    let err = runner.run(&mut conn).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::ForeignHistoryTable {
                kind: strata::ForeignTable::Sqlx,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("sqlx's history table"), "{err}");
    let changes = runner.adopt(&mut conn).unwrap();
    assert_eq!(changes.changes.len(), 2);
    let kept: Vec<(i64, String)> = conn
        .prepare("SELECT version, applied_at FROM _sqlx_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kept,
        [
            (1, "2024-03-01T12:30:00.000Z".to_owned()),
            (2, "2024-03-01T12:30:00.000Z".to_owned())
        ]
    );
    let report = runner.run(&mut conn).unwrap();
    assert_eq!(report.applied.len(), 1);

    let (_dir, path) = database();
    let mut conn = open(&path);
    sqlx_table(&conn, &[(1, "t1", true), (2, "t2", false)]);
    let err = runner.adopt(&mut conn).unwrap_err();
    assert!(
        matches!(
            err,
            Error::AdoptDirty {
                version: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    conn.execute_batch("CREATE TABLE t1 (id INTEGER PRIMARY KEY);")
        .unwrap();
    runner.adopt_forced(&mut conn, Some(1)).unwrap();
    assert_eq!(runner.run(&mut conn).unwrap().applied.len(), 2);
}
