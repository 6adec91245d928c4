//! Crashes inside `-- strata:no-transaction` migrations, at chosen points:
//! in the middle of the file, at its end, and (PostgreSQL) while strata
//! waits to clean the history row after it. A child process runs the
//! migration and stops at the point (SQLite: a SQL function `pause()` that
//! the child registers; PostgreSQL: an advisory lock the parent holds, or a
//! row lock on the history row); the parent sees it stopped, kills it, and
//! checks that the version is dirty, that the next run refuses with the
//! exact `force` to run, and that following that advice leads to a
//! complete, clean history. Up and down. Before the kill, while the child
//! is stopped in the file, the version is in progress, not dirty: a run or
//! a `force` waits for the child, and a run that does not wait (its folder
//! has no no-transaction migration) is told to wait.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Child;

use common::reliability::spawn_child;
use common::write_files;
use strata::rusqlite::Connection;
use strata::rusqlite::functions::FunctionFlags;
use strata::{Error, MigrationState, Migrations};

const CHILD_DATABASE: &str = "STRATA_OUTSIDE_DATABASE";
const CHILD_FOLDER: &str = "STRATA_OUTSIDE_FOLDER";
/// `up`, or `down` (one step).
const CHILD_DIRECTION: &str = "STRATA_OUTSIDE_DIRECTION";

/// Registers `pause()`: in the child it says "paused" and waits for a line
/// on standard input (which never comes: the parent kills it); in the
/// parent, where the same files run again, it returns at once.
fn register_pause(conn: &Connection, child: bool) {
    conn.create_scalar_function("pause", 0, FunctionFlags::SQLITE_UTF8, move |_| {
        if child {
            // On a line of its own: the harness has written "test … " before it.
            println!("\npaused");
            std::io::stdout().flush().unwrap();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
        }
        Ok(0)
    })
    .unwrap();
}

/// A child: runs the folder on the database, up or one step down.
#[test]
#[ignore = "a child process of the crash tests"]
fn crash_outside_child() {
    let (Some(database), Some(folder), Some(direction)) = (
        std::env::var_os(CHILD_DATABASE),
        std::env::var_os(CHILD_FOLDER),
        std::env::var_os(CHILD_DIRECTION),
    ) else {
        return;
    };
    let migrations = Migrations::from_dir(folder).unwrap();
    let database = database.to_str().unwrap().to_owned();
    #[cfg(feature = "postgres")]
    if database.starts_with("postgres") {
        let mut client =
            strata::postgres::Client::connect(&database, strata::postgres::NoTls).unwrap();
        if direction == "up" {
            migrations.run(&mut client).unwrap();
        } else {
            migrations.runner().down(&mut client, 1).unwrap();
        }
        return;
    }
    let mut conn = Connection::open(&database).unwrap();
    register_pause(&conn, true);
    if direction == "up" {
        migrations.run(&mut conn).unwrap();
    } else {
        migrations.runner().down(&mut conn, 1).unwrap();
    }
}

fn spawn(database: &str, folder: &Path, direction: &str) -> Child {
    spawn_child(
        "crash_outside_child",
        &[
            (CHILD_DATABASE, database),
            (CHILD_FOLDER, folder.to_str().unwrap()),
            (CHILD_DIRECTION, direction),
        ],
    )
}

/// Kills the child; it must not have finished on its own.
fn kill(mut child: Child) {
    assert!(
        child.try_wait().unwrap().is_none(),
        "the child ended before the kill"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Version 1 makes `base`; version 2, outside a transaction, makes `a` and
/// `b` with `stop` between or after them; version 3 makes `c`. The down of
/// version 2 runs outside a transaction too, with `stop` between its drops
/// when `stop_down`.
fn folder(stop: &str, stop_at_end: bool, stop_down: Option<&str>) -> tempfile::TempDir {
    let up = if stop_at_end {
        format!(
            "-- strata:no-transaction\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n{stop}\n"
        )
    } else {
        format!(
            "-- strata:no-transaction\nCREATE TABLE a (id int);\n{stop}\nCREATE TABLE b (id int);\n"
        )
    };
    let down = match stop_down {
        Some(stop) => format!("-- strata:no-transaction\nDROP TABLE b;\n{stop}\nDROP TABLE a;\n"),
        None => "-- strata:no-transaction\nDROP TABLE b;\nDROP TABLE a;\n".to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("1_base.up.sql", "CREATE TABLE base (id int);\n"),
            ("1_base.down.sql", "DROP TABLE base;\n"),
            ("2_outside.up.sql", &up),
            ("2_outside.down.sql", &down),
            ("3_c.up.sql", "CREATE TABLE c (id int);\n"),
            ("3_c.down.sql", "DROP TABLE c;\n"),
        ],
    );
    dir
}

/// While a child is stopped inside version 2's file: `status` says it is
/// in progress; `run` and `force` of the folder wait for the child (here
/// for 100 ms, then fail as locked, having changed nothing). So do a run,
/// a `force` and a `down` of an older folder, with version 1 only, which
/// has no no-transaction migration (before, on SQLite, its `force` removed
/// the running migration's row, which then ran again); its `validate`,
/// which waits for nothing, says the migration is in progress, and its
/// `status` shows it so.
fn assert_in_progress(conn: &mut dyn strata::Database, folder: &Path) {
    let migrations = Migrations::from_dir(folder).unwrap();
    let status = migrations.runner().status(conn).unwrap();
    let states: Vec<_> = status.entries.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            MigrationState::Applied,
            MigrationState::InProgress,
            MigrationState::Pending
        ]
    );
    let short = migrations
        .runner()
        .lock_timeout(std::time::Duration::from_millis(100));
    let err = short.run(conn).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    let err = short.force(conn, Some(1)).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    let older = tempfile::tempdir().unwrap();
    for file in ["1_base.up.sql", "1_base.down.sql"] {
        std::fs::copy(folder.join(file), older.path().join(file)).unwrap();
    }
    let older = Migrations::from_dir(older.path()).unwrap();
    let short = older
        .runner()
        .lock_timeout(std::time::Duration::from_millis(100));
    for (name, err) in [
        ("run", short.run(conn).unwrap_err()),
        ("force", short.force(conn, Some(1)).unwrap_err()),
        ("down", short.down(conn, 1).unwrap_err()),
    ] {
        assert!(matches!(err, Error::Locked { .. }), "older {name}: {err:?}");
    }
    let err = older.runner().validate(conn).unwrap_err();
    assert!(
        matches!(err, Error::InProgress { version: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("wait for it to finish"), "{err}");
    let states: Vec<_> = older
        .runner()
        .status(conn)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(
        states,
        [MigrationState::Applied, MigrationState::InProgress]
    );
}

/// The next run refuses, naming version 2 as dirty and both ways out.
fn assert_refused(err: &Error) {
    assert!(
        matches!(
            err,
            Error::Dirty {
                version: 2,
                previous: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "`strata force 2` if the migration is now applied in full, `strata force 1` if none of it is"
        ),
        "{err}"
    );
}

mod sqlite {
    use super::*;

    fn open(path: &Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        register_pause(&conn, false);
        conn
    }

    fn tables(conn: &Connection) -> Vec<String> {
        common::tables(conn)
    }

    fn history(conn: &Connection) -> Vec<(i64, bool)> {
        common::history(conn)
            .into_iter()
            .map(|(v, _, dirty)| (v, dirty))
            .collect()
    }

    /// Runs a child until it says "paused", then kills it.
    fn crash(path: &Path, folder: &Path, direction: &str) {
        let mut child = spawn(path.to_str().unwrap(), folder, direction);
        let stdout = child.stdout.take().unwrap();
        let paused = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l == "paused");
        assert!(paused, "the child did not reach pause()");
        assert_in_progress(&mut open(path), folder);
        kill(child);
        let integrity: String = open(path)
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
    }

    #[test]
    fn killed_in_the_middle_of_a_no_transaction_file() {
        let dir = folder("SELECT pause();", false, None);
        let (_db, path) = common::database();
        crash(&path, dir.path(), "up");
        let mut conn = open(&path);
        assert_eq!(history(&conn), [(1, false), (2, true)]);
        assert_eq!(tables(&conn), ["a", "base", "schema_migrations"]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        assert_refused(&migrations.run(&mut conn).unwrap_err());
        // None of it in place: undo the half, record version 1, run again.
        conn.execute_batch("DROP TABLE a").unwrap();
        migrations.runner().force(&mut conn, Some(1)).unwrap();
        migrations.run(&mut conn).unwrap();
        assert_eq!(history(&conn), [(1, false), (2, false), (3, false)]);
        assert_eq!(tables(&conn), ["a", "b", "base", "c", "schema_migrations"]);
    }

    #[test]
    fn killed_at_the_end_of_a_no_transaction_file_before_its_row_is_cleaned() {
        let dir = folder("SELECT pause();", true, None);
        let (_db, path) = common::database();
        crash(&path, dir.path(), "up");
        let mut conn = open(&path);
        assert_eq!(history(&conn), [(1, false), (2, true)]);
        assert_eq!(tables(&conn), ["a", "b", "base", "schema_migrations"]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        assert_refused(&migrations.run(&mut conn).unwrap_err());
        // All of it in place: record version 2, and the run goes on.
        migrations.runner().force(&mut conn, Some(2)).unwrap();
        let report = migrations.run(&mut conn).unwrap();
        assert_eq!(report.applied.len(), 1);
        assert_eq!(history(&conn), [(1, false), (2, false), (3, false)]);
    }

    #[test]
    fn killed_in_the_middle_of_a_no_transaction_down() {
        let dir = folder("SELECT 1;", true, Some("SELECT pause();"));
        let (_db, path) = common::database();
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        let mut conn = open(&path);
        migrations.runner().target(2).run(&mut conn).unwrap();
        drop(conn);
        crash(&path, dir.path(), "down");
        let mut conn = open(&path);
        assert_eq!(history(&conn), [(1, false), (2, true)]);
        assert_eq!(tables(&conn), ["a", "base", "schema_migrations"]);
        assert_refused(&migrations.run(&mut conn).unwrap_err());
        // Finish the down by hand: none of version 2 is in place.
        conn.execute_batch("DROP TABLE a").unwrap();
        migrations.runner().force(&mut conn, Some(1)).unwrap();
        migrations.run(&mut conn).unwrap();
        assert_eq!(history(&conn), [(1, false), (2, false), (3, false)]);
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::common::pg::{TestDb, tables};
    use std::time::{Duration, Instant};
    use strata::postgres::Client;

    /// The advisory lock that stops the child: held by the parent.
    const STOP_KEY: i64 = 7_340_512;

    fn history(client: &mut Client) -> Vec<(i64, bool)> {
        common::pg::history(client)
            .into_iter()
            .map(|(v, _, dirty)| (v, dirty))
            .collect()
    }

    /// Waits until a session of this database waits for a lock of `kind`
    /// (`advisory`, `transactionid`): the child has reached it.
    fn wait_for_lock(watcher: &mut Client, kind: &str) {
        let started = Instant::now();
        loop {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = $1 AND NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())",
                    &[&kind],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the child never waited for a {kind} lock"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills the child and ends its session on the server, as the server
    /// would once it noticed the closed connection.
    fn kill_and_end_session(child: Child, watcher: &mut Client) {
        kill(child);
        watcher
            .batch_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .unwrap();
        let started = Instant::now();
        loop {
            let sessions: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .unwrap()
                .get(0);
            if sessions == 0 {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30));
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop() -> String {
        format!("SELECT pg_advisory_lock({STOP_KEY});")
    }

    /// Holds the stop lock, runs a child until it waits for it, kills it.
    fn crash(db: &TestDb, folder: &Path, direction: &str) {
        let mut holder = db.client();
        holder
            .query_one("SELECT pg_advisory_lock($1)", &[&STOP_KEY])
            .unwrap();
        let child = spawn(&db.url, folder, direction);
        wait_for_lock(&mut holder, "advisory");
        assert_in_progress(&mut db.client(), folder);
        kill_and_end_session(child, &mut holder);
    }

    #[test]
    fn postgres_killed_in_the_middle_of_a_no_transaction_file() {
        let Some(db) = TestDb::new("outside_mid") else {
            return;
        };
        let dir = folder(&stop(), false, None);
        crash(&db, dir.path(), "up");
        let mut client = db.client();
        assert_eq!(history(&mut client), [(1, false), (2, true)]);
        assert_eq!(tables(&mut client), ["a", "base", "schema_migrations"]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        assert_refused(&migrations.run(&mut client).unwrap_err());
        client.batch_execute("DROP TABLE a").unwrap();
        migrations.runner().force(&mut client, Some(1)).unwrap();
        migrations.run(&mut client).unwrap();
        assert_eq!(history(&mut client), [(1, false), (2, false), (3, false)]);
        assert_eq!(
            tables(&mut client),
            ["a", "b", "base", "c", "schema_migrations"]
        );
    }

    /// The file ran to its end; strata's update of the row waits for a row
    /// lock the parent holds, and the child is killed there.
    #[test]
    fn postgres_killed_after_a_no_transaction_file_before_its_row_is_cleaned() {
        let Some(db) = TestDb::new("outside_clean") else {
            return;
        };
        let dir = folder(&stop(), true, None);
        let mut holder = db.client();
        holder
            .query_one("SELECT pg_advisory_lock($1)", &[&STOP_KEY])
            .unwrap();
        let child = spawn(&db.url, dir.path(), "up");
        wait_for_lock(&mut holder, "advisory");
        let mut row = db.client();
        row.batch_execute("BEGIN; SELECT * FROM schema_migrations WHERE version = 2 FOR UPDATE")
            .unwrap();
        holder
            .query_one("SELECT pg_advisory_unlock($1)", &[&STOP_KEY])
            .unwrap();
        wait_for_lock(&mut holder, "transactionid");
        // The child dies first: its update, if it ever ran, has no one to
        // commit it. Ending the sessions releases the row lock too.
        kill_and_end_session(child, &mut holder);
        drop(row);
        let mut client = db.client();
        assert_eq!(history(&mut client), [(1, false), (2, true)]);
        assert_eq!(tables(&mut client), ["a", "b", "base", "schema_migrations"]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        assert_refused(&migrations.run(&mut client).unwrap_err());
        migrations.runner().force(&mut client, Some(2)).unwrap();
        assert_eq!(migrations.run(&mut client).unwrap().applied.len(), 1);
        assert_eq!(history(&mut client), [(1, false), (2, false), (3, false)]);
    }

    #[test]
    fn postgres_killed_in_the_middle_of_a_no_transaction_down() {
        let Some(db) = TestDb::new("outside_down") else {
            return;
        };
        let dir = folder("SELECT 1;", true, Some(&stop()));
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        migrations.runner().target(2).run(&mut db.client()).unwrap();
        crash(&db, dir.path(), "down");
        let mut client = db.client();
        assert_eq!(history(&mut client), [(1, false), (2, true)]);
        assert_eq!(tables(&mut client), ["a", "base", "schema_migrations"]);
        assert_refused(&migrations.run(&mut client).unwrap_err());
        client.batch_execute("DROP TABLE a").unwrap();
        migrations.runner().force(&mut client, Some(1)).unwrap();
        migrations.run(&mut client).unwrap();
        assert_eq!(history(&mut client), [(1, false), (2, false), (3, false)]);
    }
}
