//! `status` and `validate`: seeing the state without changing it.

mod common;

use common::*;
use strata::{Error, MigrationState};

#[test]
fn status_of_a_new_database_is_all_pending_and_creates_nothing() {
    let migrations = load(&tables_folder([1, 2]));
    let (_dir, path) = database();
    let status = migrations.status(&mut open(&path)).unwrap();
    let states: Vec<(u64, MigrationState)> = status
        .entries
        .iter()
        .map(|e| (e.version, e.state))
        .collect();
    assert_eq!(
        states,
        [(1, MigrationState::Pending), (2, MigrationState::Pending)]
    );
    assert_eq!(status.version(), None);
    assert!(status.needs_attention());
    assert!(tables(&open(&path)).is_empty());
}

#[test]
fn status_shows_applied_pending_modified_missing_and_dirty() {
    let folder = tables_folder([1, 2, 3, 4]);
    let (_dir, path) = database();
    let mut conn = open(&path);
    load(&folder).runner().target(3).run(&mut conn).unwrap();
    conn.execute(
        "UPDATE schema_migrations SET dirty = 1 WHERE version = 3",
        [],
    )
    .unwrap();
    // Migration 2's file edited, migration 1's deleted, 5 added.
    write_files(
        folder.path(),
        &[(
            "000002_t2.up.sql",
            "CREATE TABLE t2 (id INTEGER PRIMARY KEY, x);\n",
        )],
    );
    std::fs::remove_file(folder.path().join("000001_t1.up.sql")).unwrap();
    std::fs::remove_file(folder.path().join("000001_t1.down.sql")).unwrap();
    let migrations = load(&folder);

    let before = std::fs::read(&path).unwrap();
    let status = migrations.status(&mut conn).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let states: Vec<(u64, &str, String)> = status
        .entries
        .iter()
        .map(|e| (e.version, e.name.as_str(), e.state.to_string()))
        .collect();
    assert_eq!(
        states,
        [
            (1, "t1", "missing".to_owned()),
            (2, "t2", "modified".to_owned()),
            (3, "t3", "dirty".to_owned()),
            (4, "t4", "pending".to_owned()),
        ]
    );
    assert_eq!(status.version(), Some(3));
    assert!(status.entries[0].applied_at.is_some() && status.entries[3].applied_at.is_none());

    let text = status.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("version  name  state     applied at"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("      1  t1    missing   20"),
        "{text}"
    );
    assert!(lines[4].starts_with("      4  t4    pending   -"), "{text}");
    assert!(lines[4].ends_with("  -"), "{text}");
    let MigrationState::Modified { applied, current } = status.entries[1].state else {
        panic!()
    };
    assert_eq!(
        lines[5],
        format!(
            "version 2 was modified: applied with checksum {applied}, the file now has {current}"
        )
    );
}

#[test]
fn validate_checks_what_run_checks_and_changes_nothing() {
    let folder = tables_folder([1, 2, 3]);
    let (_dir, path) = database();
    let migrations = load(&folder);
    assert_eq!(
        migrations.runner().validate(&mut open(&path)).unwrap(),
        [1, 2, 3]
    );
    assert!(tables(&open(&path)).is_empty());

    migrations.runner().target(1).run(&mut open(&path)).unwrap();
    assert_eq!(
        migrations.runner().validate(&mut open(&path)).unwrap(),
        [2, 3]
    );
    assert_eq!(
        migrations
            .runner()
            .target(2)
            .validate(&mut open(&path))
            .unwrap(),
        [2]
    );

    write_files(
        folder.path(),
        &[("000001_t1.up.sql", "CREATE TABLE t1 (id INTEGER);\n")],
    );
    let before = std::fs::read(&path).unwrap();
    let err = load(&folder)
        .runner()
        .validate(&mut open(&path))
        .unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 1, .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn validate_reads_every_row_and_catches_a_checksum_changed_in_the_database() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    migrations.run(&mut open(&path)).unwrap();
    open(&path)
        .execute(
            "UPDATE schema_migrations SET checksum = ?1 WHERE version = 2",
            [strata::Checksum::of_sql("x").to_hex()],
        )
        .unwrap();
    // The startup check trusts the newest row's chain: one read, as designed.
    assert!(migrations.run(&mut open(&path)).unwrap().is_empty());
    let err = migrations.runner().validate(&mut open(&path)).unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 2, .. }),
        "{err:?}"
    );
}
