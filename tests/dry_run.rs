//! `dry_run`: everything in one transaction, rolled back; the report says
//! what would happen, and the database does not change.

mod common;

use common::*;
use strata::{Error, Migrations};

static TESTS: Migrations = strata::embed_migrations!("tests/migrations");

#[test]
fn a_dry_run_reports_what_a_run_would_do_and_changes_nothing() {
    let migrations = load(&tables_folder([1, 2, 3]));
    let (_dir, path) = database();
    migrations.runner().target(1).run(&mut open(&path)).unwrap();
    let before = std::fs::read(&path).unwrap();

    let dry = migrations
        .runner()
        .dry_run(true)
        .run(&mut open(&path))
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(
        dry.applied.iter().map(|s| s.version).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(dry.version, Some(3));
    assert!(dry.to_string().starts_with("dry run, rolled back, nothing changed: would apply 2 migrations, the database would be at version 3\n"));
    assert_eq!(std::fs::read(&path).unwrap(), before);

    for report in [
        migrations
            .runner()
            .dry_run(true)
            .redo(&mut open(&path))
            .unwrap(),
        migrations
            .runner()
            .dry_run(true)
            .goto(&mut open(&path), 3)
            .unwrap(),
        migrations
            .runner()
            .dry_run(true)
            .down_all(&mut open(&path))
            .unwrap(),
    ] {
        assert!(report.dry_run && !report.is_empty(), "{report}");
    }
    let goto = migrations
        .runner()
        .dry_run(true)
        .goto(&mut open(&path), 3)
        .unwrap();
    assert_eq!(goto.applied.len(), 2);
    let redo = migrations
        .runner()
        .dry_run(true)
        .redo(&mut open(&path))
        .unwrap();
    assert_eq!(
        (redo.reverted.len(), redo.applied.len(), redo.version),
        (1, 1, Some(1))
    );
    for changes in [
        migrations
            .runner()
            .dry_run(true)
            .force(&mut open(&path), Some(3))
            .unwrap(),
        migrations
            .runner()
            .dry_run(true)
            .repair(&mut open(&path))
            .unwrap(),
    ] {
        assert!(changes.dry_run);
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(history(&open(&path)).len(), 1);
}

#[test]
fn a_dry_run_meets_the_failure_a_run_would_meet() {
    let folder = tables_folder([1]);
    write_files(
        folder.path(),
        &[
            ("000002_bad.up.sql", "INSERT INTO nowhere VALUES (1);"),
            ("000002_bad.down.sql", "SELECT 1;"),
        ],
    );
    let (_dir, path) = database();
    let err = load(&folder)
        .runner()
        .dry_run(true)
        .run(&mut open(&path))
        .unwrap_err();
    assert!(
        matches!(err, Error::Statement { version: 2, .. }),
        "{err:?}"
    );
    assert!(tables(&open(&path)).is_empty());
}

#[test]
fn a_dry_run_stops_before_what_runs_outside_a_transaction() {
    let (_dir, path) = database();
    let report = TESTS.runner().dry_run(true).run(&mut open(&path)).unwrap();
    assert_eq!(
        report.applied.iter().map(|s| s.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(report.untried, [10]);
    assert!(
        report.to_string().ends_with(
            "\nnot tried, as a dry run cannot roll back what runs outside a transaction: 10"
        ),
        "{report}"
    );
    assert!(tables(&open(&path)).is_empty());
}
