//! Migration sets built in code (`Migration::new`, `Migrations::new`) and
//! the history as recorded (`Runner::applied`).

mod common;

use std::time::Duration;

use common::{database, folder, open};
use strata::{Direction, Error, Migration, Migrations, Problem};

const USERS_UP: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY);";
const USERS_DOWN: &str = "DROP TABLE users;";
const EMAIL_UP: &str = "-- strata:no-transaction\nALTER TABLE users ADD email TEXT;";
const EMAIL_DOWN: &str = "-- strata:irreversible\n";

fn in_code() -> Migrations {
    // Given out of order: the set sorts them.
    Migrations::new(
        "in_code",
        [
            Migration::new(2, "email", EMAIL_UP, EMAIL_DOWN),
            Migration::new(1, "users", USERS_UP, USERS_DOWN),
        ],
    )
    .unwrap()
}

#[test]
fn a_set_built_in_code_is_the_set_its_folder_would_give() {
    let dir = folder(&[
        ("1_users.up.sql", USERS_UP),
        ("1_users.down.sql", USERS_DOWN),
        ("2_email.up.sql", EMAIL_UP),
        ("2_email.down.sql", EMAIL_DOWN),
    ]);
    let from_folder = Migrations::from_dir(dir.path()).unwrap();
    let built = in_code();
    assert_eq!(built.folder(), "in_code");
    assert_eq!(built.len(), from_folder.len());
    for (b, f) in built.iter().zip(&from_folder) {
        assert_eq!(
            (b.version(), b.stem(), b.name(), b.checksum(), b.chain()),
            (f.version(), f.stem(), f.name(), f.checksum(), f.chain())
        );
        for direction in [Direction::Up, Direction::Down] {
            assert_eq!(b.sql(direction), f.sql(direction));
            assert_eq!(b.no_transaction(direction), f.no_transaction(direction));
        }
        assert_eq!(b.irreversible(), f.irreversible());
    }
    // The directives were read from the SQL.
    assert!(built.as_slice()[1].no_transaction(Direction::Up));
    assert!(built.as_slice()[1].irreversible());
    assert_eq!(
        built.file_path(&built.as_slice()[0], Direction::Up),
        "in_code/1_users.up.sql"
    );
}

#[test]
fn a_set_built_in_code_refuses_names_and_versions_a_folder_could_not_hold() {
    let err = Migrations::new(
        "in_code",
        [
            Migration::new(1, "users", USERS_UP, USERS_DOWN),
            Migration::new(1, "again", USERS_UP, USERS_DOWN),
            Migration::new(2, "nested/name", USERS_UP, USERS_DOWN),
            Migration::new(3, "", USERS_UP, USERS_DOWN),
            Migration::new(u64::MAX, "huge", USERS_UP, USERS_DOWN),
        ],
    )
    .unwrap_err();
    let Error::InvalidFolder {
        folder, problems, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(folder, "in_code");
    assert!(
        problems.iter().any(
            |p| matches!(p, Problem::DuplicateVersion { version: 1, files, .. }
            if files == &["in_code/1_users.up.sql", "in_code/1_again.up.sql"]
                || files == &["in_code/1_again.up.sql", "in_code/1_users.up.sql"])
        ),
        "{err}"
    );
    assert!(
        problems.iter().any(
            |p| matches!(p, Problem::BadName { file } if file == "in_code/2_nested/name.up.sql")
        ),
        "{err}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::NoName { file } if file == "in_code/3_.up.sql")),
        "{err}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::VersionTooLarge { .. })),
        "{err}"
    );
    assert_eq!(problems.len(), 4, "{err}");
}

#[test]
fn a_set_built_in_code_runs_and_its_history_reads_back_as_recorded() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    let migrations = in_code();
    // No history table yet: nothing recorded.
    assert!(migrations.runner().applied(&mut conn).unwrap().is_empty());

    let report = migrations.run(&mut conn).unwrap();
    assert_eq!(report.version, Some(2));

    let applied = migrations.runner().applied(&mut conn).unwrap();
    let versions: Vec<(u64, &str)> = applied
        .iter()
        .map(|a| (a.version, a.name.as_str()))
        .collect();
    assert_eq!(versions, [(1, "users"), (2, "email")]);
    for (row, m) in applied.iter().zip(&migrations) {
        assert_eq!(row.checksum, m.checksum());
        assert_eq!(row.chain, m.chain());
        assert!(!row.dirty);
        // Recorded in whole milliseconds.
        assert_eq!(row.duration.subsec_nanos() % 1_000_000, 0);
        assert!(row.duration < Duration::from_secs(60));
    }
    let recorded: Vec<i64> = conn
        .prepare("SELECT execution_ms FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let read: Vec<i64> = applied
        .iter()
        .map(|a| i64::try_from(a.duration.as_millis()).unwrap())
        .collect();
    assert_eq!(read, recorded);

    // As recorded, whatever the files say now: an empty set reads the
    // same rows.
    let none = Migrations::new("in_code", []).unwrap();
    assert_eq!(none.runner().applied(&mut conn).unwrap(), applied);
}

#[test]
fn applied_refuses_a_table_of_another_shape() {
    let (_dir, path) = database();
    let mut conn = open(&path);
    conn.execute_batch("CREATE TABLE schema_migrations (id INTEGER, note TEXT);")
        .unwrap();
    let err = in_code().runner().applied(&mut conn).unwrap_err();
    assert!(matches!(err, Error::ForeignHistoryTable { .. }), "{err:?}");
}

#[cfg(feature = "postgres")]
#[test]
fn applied_reads_the_history_on_postgres() {
    let Some(db) = common::pg::TestDb::new("in_code_applied") else {
        return;
    };
    let mut client = db.client();
    // The no-transaction migration runs on PostgreSQL as on SQLite.
    let migrations = in_code();
    assert!(migrations.runner().applied(&mut client).unwrap().is_empty());
    migrations.run(&mut client).unwrap();
    let applied = migrations.runner().applied(&mut client).unwrap();
    let recorded: Vec<(i64, String, i64)> = client
        .query(
            "SELECT version, name, execution_ms FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let read: Vec<(i64, String, i64)> = applied
        .iter()
        .map(|a| {
            (
                i64::try_from(a.version).unwrap(),
                a.name.clone(),
                i64::try_from(a.duration.as_millis()).unwrap(),
            )
        })
        .collect();
    assert_eq!(read, recorded);
    assert_eq!(read.len(), 2);
    for (row, m) in applied.iter().zip(&migrations) {
        assert_eq!((row.checksum, row.chain), (m.checksum(), m.chain()));
    }
}

#[test]
fn a_set_built_in_code_refuses_what_a_folder_refuses_in_its_files() {
    let err = Migrations::new(
        "in_code",
        [
            // Three with one version: one problem naming the three.
            Migration::new(1, "a", USERS_UP, USERS_DOWN),
            Migration::new(1, "b", USERS_UP, USERS_DOWN),
            Migration::new(1, "c", USERS_UP, USERS_DOWN),
            // A mistyped directive would otherwise run the file inside a
            // transaction.
            Migration::new(2, "typo", "-- strata:no-transacton\nVACUUM;", "SELECT 1;"),
            Migration::new(
                3,
                "sql_after",
                USERS_UP,
                "-- strata:irreversible\nDROP TABLE users;",
            ),
            Migration::new(4, "empty", "-- nothing here\n", USERS_DOWN),
            Migration::new(5, "bell\u{7}", USERS_UP, USERS_DOWN),
        ],
    )
    .unwrap_err();
    let Error::InvalidFolder { problems, .. } = &err else {
        panic!("{err:?}");
    };
    let duplicates: Vec<&Problem> = problems
        .iter()
        .filter(|p| matches!(p, Problem::DuplicateVersion { .. }))
        .collect();
    assert!(
        matches!(duplicates.as_slice(), [Problem::DuplicateVersion { version: 1, files, .. }] if files.len() == 3),
        "{err}"
    );
    assert!(
        problems.iter().any(|p| matches!(p, Problem::UnknownDirective { file, line: 1, .. } if file == "in_code/2_typo.up.sql")),
        "{err}"
    );
    assert!(
        problems.iter().any(|p| matches!(p, Problem::IrreversibleWithSql { file, line: 2, .. } if file == "in_code/3_sql_after.down.sql")),
        "{err}"
    );
    assert!(
        problems.iter().any(
            |p| matches!(p, Problem::EmptyUp { file, .. } if file == "in_code/4_empty.up.sql")
        ),
        "{err}"
    );
    assert!(
        problems.iter().any(|p| matches!(p, Problem::ControlCharacter { file, .. } if file.starts_with("in_code/5_bell"))),
        "{err}"
    );
    // The terminal never sees the raw control character.
    assert!(!err.to_string().contains('\u{7}'), "{err}");
    assert_eq!(problems.len(), 5, "{err}");
}

#[test]
fn a_statement_refused_in_a_transaction_is_refused_when_it_runs() {
    // Built in code, the set is accepted; the run refuses the file, naming
    // it, before anything of it applies (as `tests/run.rs` checks for
    // `COMMIT`).
    let migrations = Migrations::new(
        "in_code/",
        [Migration::new(1, "vacuum", "VACUUM;", "SELECT 1;")],
    )
    .unwrap();
    assert_eq!(migrations.folder(), "in_code");
    let (_dir, path) = database();
    let mut conn = open(&path);
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(&err, Error::RefusedInTransaction { version: 1, file, .. } if file == "in_code/1_vacuum.up.sql"),
        "{err:?}"
    );
    assert!(migrations.runner().applied(&mut conn).unwrap().is_empty());
}

/// Every operation on the connection of a run whose first migration failed,
/// which rolled back the history table it had created: each must see no
/// history table, not a stale one (SQLite's statement cache once kept the
/// table's query, and the next run failed with "no such table").
fn after_a_failed_first_run(conn: &mut (impl strata::Database + ?Sized)) {
    let failing = Migrations::new(
        "in_code",
        [Migration::new(
            1,
            "bad",
            "CREATE TABLE t (id INTEGER);\nSELECT * FROM missing;",
            "DROP TABLE t;",
        )],
    )
    .unwrap();
    let first = failing.run(conn).unwrap_err();
    assert!(
        matches!(first, Error::Statement { version: 1, .. }),
        "{first:?}"
    );
    // The same failure again, not another one.
    let again = failing.run(conn).unwrap_err();
    assert!(
        matches!(again, Error::Statement { version: 1, .. }),
        "{again:?}"
    );
    let runner = failing.runner();
    assert!(runner.applied(conn).unwrap().is_empty());
    let status = runner.status(conn).unwrap();
    assert_eq!(status.entries.len(), 1);
    assert_eq!(status.entries[0].state, strata::MigrationState::Pending);
    assert_eq!(runner.validate(conn).unwrap(), [1]);
    assert!(runner.down_all(conn).unwrap().is_empty());
    // And a good set then runs on that connection.
    in_code().run(conn).unwrap();
    assert_eq!(in_code().runner().applied(conn).unwrap().len(), 2);
}

#[test]
fn every_operation_after_a_failed_first_run_sees_no_history_table_on_sqlite() {
    let (_dir, path) = database();
    after_a_failed_first_run(&mut open(&path));
}

#[cfg(feature = "postgres")]
#[test]
fn every_operation_after_a_failed_first_run_sees_no_history_table_on_postgres() {
    let Some(db) = common::pg::TestDb::new("in_code_failed_first") else {
        return;
    };
    // The set's no-transaction migration needs nothing special here; the
    // failing one is an ordinary statement error.
    after_a_failed_first_run(&mut db.client());
}
