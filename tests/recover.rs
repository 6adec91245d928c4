//! Recovering and adopting: baseline, force, repair, adopt.

mod common;

use common::*;
use strata::{Change, Error, ForeignTable};

fn changes(report: &strata::HistoryChanges) -> Vec<(u64, Change)> {
    report
        .changes
        .iter()
        .map(|c| (c.version, c.change.clone()))
        .collect()
}

#[test]
fn baseline_records_without_running_and_refuses_existing_history() {
    let folder = tables_folder([1, 2, 3]);
    let migrations = load(&folder);
    let (_dir, path) = database();
    let mut conn = open(&path);
    // Built by hand, or by an older tool that kept no history.
    conn.execute_batch(
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    let report = migrations.runner().baseline(&mut conn, 2).unwrap();
    assert_eq!(
        changes(&report),
        [(1, Change::Recorded), (2, Change::Recorded)]
    );
    assert_eq!(
        report.to_string(),
        "2 history rows changed:\n  1 t1: recorded as applied (not run)\n  2 t2: recorded as applied (not run)"
    );
    let run = migrations.run(&mut conn).unwrap();
    assert_eq!(
        run.applied.iter().map(|s| s.version).collect::<Vec<_>>(),
        [3]
    );

    let err = migrations.runner().baseline(&mut conn, 3).unwrap_err();
    assert!(
        matches!(err, Error::HistoryExists { newest: 3, .. }),
        "{err:?}"
    );
    let err = migrations
        .runner()
        .baseline(&mut open(&database().1), 7)
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownVersion { version: 7, .. }),
        "{err:?}"
    );
}

#[test]
fn force_clears_a_dirty_row_and_sets_the_recorded_version() {
    let folder = tables_folder([1, 3]);
    write_files(
        folder.path(),
        &[
            (
                "000002_half.up.sql",
                "-- strata:no-transaction\nCREATE TABLE half (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
            ),
            ("000002_half.down.sql", "DROP TABLE half;\n"),
        ],
    );
    let migrations = load(&folder);
    let (_dir, path) = database();
    let mut conn = open(&path);
    migrations.run(&mut conn).unwrap_err();
    assert!(matches!(
        migrations.run(&mut conn).unwrap_err(),
        Error::Dirty { version: 2, .. }
    ));

    // A person finished migration 2 by hand; the database is at version 2.
    let report = migrations.runner().force(&mut conn, Some(2)).unwrap();
    assert_eq!(changes(&report), [(2, Change::Cleaned)]);
    assert_eq!(migrations.run(&mut conn).unwrap().applied.len(), 1);

    let report = migrations.runner().force(&mut conn, Some(1)).unwrap();
    assert_eq!(
        changes(&report),
        [(2, Change::Removed), (3, Change::Removed)]
    );
    let report = migrations.runner().force(&mut conn, Some(3)).unwrap();
    assert_eq!(
        changes(&report),
        [(2, Change::Recorded), (3, Change::Recorded)]
    );
    assert!(
        migrations.run(&mut conn).unwrap().is_empty(),
        "the chains were rewritten"
    );
    let report = migrations.runner().force(&mut conn, None).unwrap();
    assert_eq!(report.changes.len(), 3);
    assert!(history(&conn).is_empty());
}

#[test]
fn repair_accepts_edited_files_and_lists_the_rows() {
    let folder = tables_folder([1, 2]);
    let (_dir, path) = database();
    let mut conn = open(&path);
    let old = load(&folder);
    old.run(&mut conn).unwrap();
    write_files(
        folder.path(),
        &[(
            "000001_t1.up.sql",
            "-- users' ids\nCREATE TABLE t1 (id INTEGER PRIMARY KEY);\n",
        )],
    );
    std::fs::rename(
        folder.path().join("000002_t2.up.sql"),
        folder.path().join("000002_second.up.sql"),
    )
    .unwrap();
    std::fs::rename(
        folder.path().join("000002_t2.down.sql"),
        folder.path().join("000002_second.down.sql"),
    )
    .unwrap();
    let edited = load(&folder);
    assert!(matches!(
        edited.run(&mut conn).unwrap_err(),
        Error::ChecksumMismatch { version: 1, .. }
    ));

    let report = edited.runner().repair(&mut conn).unwrap();
    assert_eq!(
        changes(&report),
        [
            (
                1,
                Change::ChecksumUpdated {
                    from: old.as_slice()[0].checksum(),
                    to: edited.as_slice()[0].checksum()
                }
            ),
            (2, Change::Renamed { from: "t2".into() }),
        ]
    );
    assert!(
        report
            .to_string()
            .contains("\n  2 second: name t2 -> second"),
        "{report}"
    );
    assert!(edited.run(&mut conn).unwrap().is_empty());
    assert!(edited.runner().repair(&mut conn).unwrap().is_empty());
}

#[test]
fn adopting_golang_migrate_history() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch(
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY);
         CREATE TABLE schema_migrations (version uint64, dirty bool);
         CREATE UNIQUE INDEX version_unique ON schema_migrations (version);
         INSERT INTO schema_migrations VALUES (2, false);",
    )
    .unwrap();
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignHistoryTable {
                kind: ForeignTable::GolangMigrate,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("with adopt"), "{err}");

    let report = migrations.runner().adopt(&mut conn).unwrap();
    assert_eq!(
        changes(&report),
        [(1, Change::Adopted), (2, Change::Adopted)]
    );
    assert_eq!(
        history(&conn),
        [(1, "t1".to_owned(), false), (2, "t2".to_owned(), false)]
    );
    assert_eq!(migrations.run(&mut conn).unwrap().applied.len(), 1);
    // Adopting again changes nothing.
    assert!(migrations.runner().adopt(&mut conn).unwrap().is_empty());
}

#[test]
fn a_dirty_golang_migrate_table_is_not_adopted() {
    let migrations = load(&tables_folder([1, 2]));
    let (_dir, path) = database();
    open(&path)
        .execute_batch("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, 1);")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = migrations.runner().adopt(&mut open(&path)).unwrap_err();
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
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn adopting_a_home_made_history_keeps_every_row_and_its_time() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at);
         INSERT INTO schema_migrations VALUES (1, 'init', '2024-03-01 10:00:00'), (3, 'three', 1700000000);",
    )
    .unwrap();
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignHistoryTable {
                kind: ForeignTable::HomeMade,
                ..
            }
        ),
        "{err:?}"
    );
    migrations.runner().adopt(&mut conn).unwrap();
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (1, "2024-03-01T10:00:00.000Z".to_owned()),
            (3, "2023-11-14T22:13:20.000Z".to_owned())
        ]
    );
    // Version 2 was never recorded: it is pending, below applied 3.
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::OutOfOrder { version: 2, .. }),
        "{err:?}"
    );
    assert_eq!(tables(&conn), ["schema_migrations"]);
}

#[test]
fn adoption_refuses_versions_the_files_lack_and_says_when_there_is_nothing() {
    let migrations = load(&tables_folder([1]));
    let (_dir, path) = database();
    let err = migrations.runner().adopt(&mut open(&path)).unwrap_err();
    assert!(matches!(err, Error::NothingToAdopt { .. }), "{err:?}");
    open(&path)
        .execute_batch("CREATE TABLE schema_migrations (version INTEGER, name TEXT, applied_at TEXT); INSERT INTO schema_migrations VALUES (1, 'a', NULL), (5, 'gone', NULL);")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = migrations.runner().adopt(&mut open(&path)).unwrap_err();
    assert!(
        matches!(&err, Error::MissingMigration { version: 5, name: Some(name), .. } if name == "gone"),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let (_dir, other) = database();
    open(&other)
        .execute_batch("CREATE TABLE schema_migrations (id INTEGER, note TEXT)")
        .unwrap();
    let err = migrations.runner().adopt(&mut open(&other)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignHistoryTable {
                kind: ForeignTable::Other,
                ..
            }
        ),
        "{err:?}"
    );
}
