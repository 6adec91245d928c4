//! Several processes that start at the same moment and migrate one new
//! database: all succeed and each version is applied exactly once. For
//! N = 2, 8 and 16 processes, on SQLite in both journal modes and on
//! PostgreSQL, with each driver built (rusqlite and sqlx on SQLite,
//! postgres and tokio-postgres on PostgreSQL; CI's rounds split between
//! them); also with a slow `-- strata:no-transaction` migration among
//! them, which the others wait for instead of finding it dirty, and with 8
//! threads of one process on SQLite (8 tokio tasks, with sqlx).
//!
//! The children are this test binary itself, started with the ignored test
//! `child` selected; they block on their standard input until the parent
//! has started every one of them, then run the migrations together.
//! Rounds: `STRATA_RELIABILITY=full` for CI's (RELIABILITY.md), one per N
//! otherwise.

#[macro_use]
mod common;

use std::io::{BufRead, Write};
use std::path::Path;

use common::lite::LiteDriver;
use common::reliability::{count, spawn_child};
use strata::Migrations;
use strata::rusqlite::Connection;

const DATABASE: &str = "STRATA_TEST_CHILD_DATABASE";
const FOLDER: &str = "STRATA_TEST_CHILD_FOLDER";
/// The driver a child migrates with (`Driver::name`, `LiteDriver::name`).
const DRIVER: &str = "STRATA_TEST_CHILD_DRIVER";
const MIGRATIONS: u64 = 20;

/// Run by the parent tests only: without its variables it has nothing to do.
#[test]
#[ignore = "a child process of the concurrency tests"]
fn child() {
    let (Some(database), Some(folder)) = (std::env::var_os(DATABASE), std::env::var_os(FOLDER))
    else {
        return;
    };
    let migrations = Migrations::from_dir(folder).unwrap();
    let database = database.to_str().unwrap().to_owned();
    let barrier = || {
        // The parent writes a line once every child is started.
        std::io::stdin()
            .lock()
            .read_line(&mut String::new())
            .unwrap();
    };
    let result = if database.starts_with("postgres") {
        #[cfg(feature = "postgres")]
        {
            use common::drivers::{Conn, Driver, Operations};
            let name = std::env::var(DRIVER).unwrap_or_default();
            let driver = Driver::ALL
                .iter()
                .copied()
                .find(|d| d.name() == name)
                .unwrap_or(Driver::Postgres);
            let mut conn = Conn::connect(&database, driver);
            barrier();
            migrations.run_on(&mut conn)
        }
        #[cfg(not(feature = "postgres"))]
        unreachable!("PostgreSQL children need the postgres feature")
    } else {
        use common::lite::{LiteConn, LiteDriver, Operations};
        let driver = LiteDriver::named(&std::env::var(DRIVER).unwrap_or_default());
        let mut conn = LiteConn::open(Path::new(&database), driver);
        barrier();
        migrations.run_on(&mut conn)
    };
    match result {
        Ok(report) => {
            let versions: Vec<String> = report
                .applied
                .iter()
                .map(|s| s.version.to_string())
                .collect();
            // The harness has printed "test child ... " without a newline.
            println!("\nchild-applied:{}", versions.join(","));
        }
        Err(e) => {
            println!("\nchild-error:{e}");
            std::process::exit(1);
        }
    }
}

/// A folder whose migrations each do some work, so that runs overlap. The
/// SQL is the same on SQLite and PostgreSQL.
fn busy_folder() -> tempfile::TempDir {
    folder(None)
}

/// The version of [`slow_folder`]'s no-transaction migration.
const SLOW: u64 = 10;

/// [`busy_folder`] where migration [`SLOW`] runs outside a transaction and
/// takes a while (its statements commit one by one, with its history row
/// dirty from before the first to after the last): the other processes
/// reach it while it runs.
fn slow_folder() -> tempfile::TempDir {
    folder(Some(SLOW))
}

fn folder(no_transaction: Option<u64>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for v in 1..=MIGRATIONS {
        // The slow part only reads: between its statements' commits, and
        // while it runs, the others can take SQLite's write lock and read
        // the history.
        let (directive, slow_part) = if no_transaction == Some(v) {
            (
                "-- strata:no-transaction\n",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)\n\
                 SELECT count(*) FROM n;\n",
            )
        } else {
            ("", "")
        };
        let up = format!(
            "{directive}CREATE TABLE t{v} (id integer, x text);\n{slow_part}\
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)\n\
             INSERT INTO t{v} (id, x) SELECT i, 'row ' || i FROM n;\n\
             CREATE INDEX t{v}_x ON t{v} (x);\n"
        );
        common::write_files(
            dir.path(),
            &[
                (&format!("{v:04}_t{v}.up.sql"), &up),
                (
                    &format!("{v:04}_t{v}.down.sql"),
                    &format!("DROP TABLE t{v};\n"),
                ),
            ],
        );
    }
    dir
}

/// One round: `processes` children released together on `database`,
/// migrating with the driver named `driver`. Returns how many of them
/// applied anything.
fn race_with(processes: usize, database: &str, folder: &Path, driver: &str) -> usize {
    let mut children: Vec<_> = (0..processes)
        .map(|_| {
            spawn_child(
                "child",
                &[
                    (DATABASE, database),
                    (FOLDER, folder.to_str().unwrap()),
                    (DRIVER, driver),
                ],
            )
        })
        .collect();
    for child in &mut children {
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    }
    let mut applied = Vec::new();
    let mut workers = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a child failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("child-applied:"))
            .unwrap_or_else(|| panic!("no report from a child: {stdout}"));
        let versions: Vec<u64> = line
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        if !versions.is_empty() {
            workers += 1;
        }
        applied.extend(versions);
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        (1..=MIGRATIONS).collect::<Vec<_>>(),
        "each version applied by exactly one process"
    );
    workers
}

/// A new SQLite database in `journal_mode`.
fn sqlite_database(journal_mode: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = common::database();
    common::set_journal_mode(&path, journal_mode);
    (dir, path)
}

/// Every migration of the folder applied once, none dirty.
fn check_sqlite(path: &Path) {
    let conn = Connection::open(path).unwrap();
    let history = common::history(&conn);
    assert_eq!(history.len() as u64, MIGRATIONS);
    assert!(history.iter().all(|(_, _, dirty)| !dirty));
    assert_eq!(common::count(&conn, "SELECT count(*) FROM t20"), 2000);
}

fn sqlite_rounds(journal_mode: &str, driver: LiteDriver) {
    let folder = busy_folder();
    // CI's 20 rounds per N, split between the two drivers.
    let rounds = count(1, 10);
    for processes in [2, 8, 16] {
        let mut single = 0;
        for _ in 0..rounds {
            let (_dir, path) = sqlite_database(journal_mode);
            if race_with(
                processes,
                path.to_str().unwrap(),
                folder.path(),
                driver.name(),
            ) == 1
            {
                single += 1;
            }
            check_sqlite(&path);
        }
        // SQLite's lock is per transaction, so a waiting process may take
        // over between two migrations; the work is then shared, never
        // repeated. How often that happens is a figure, not a rule.
        println!(
            "concurrency, SQLite ({driver:?}) journal_mode={journal_mode}, {processes} processes: {rounds} rounds, 0 failures, \
             each version applied once; one process did all the work in {single} of {rounds} rounds"
        );
    }
}

fn processes_started_together_on_sqlite_with_a_rollback_journal(driver: LiteDriver) {
    sqlite_rounds("delete", driver);
}

fn processes_started_together_on_sqlite_in_wal_mode(driver: LiteDriver) {
    sqlite_rounds("wal", driver);
}

/// 16 processes, one of them running the slow no-transaction migration
/// while the others reach it: they wait for it (the lock file beside the
/// database spans it) and none is told that it is dirty. Before the lock
/// file, 15 of 16 failed with "marked dirty ... repair by hand".
fn sqlite_slow_rounds(journal_mode: &str, driver: LiteDriver) {
    let folder = slow_folder();
    // CI's 10 rounds, split between the two drivers.
    let rounds = count(1, 5);
    for _ in 0..rounds {
        let (_dir, path) = sqlite_database(journal_mode);
        race_with(16, path.to_str().unwrap(), folder.path(), driver.name());
        check_sqlite(&path);
    }
    println!(
        "concurrency, SQLite ({driver:?}) journal_mode={journal_mode}, a slow no-transaction migration, 16 processes: \
         {rounds} rounds, 0 failures, none found it dirty, each version applied once"
    );
}

fn processes_wait_for_a_no_transaction_migration_on_sqlite_with_a_rollback_journal(
    driver: LiteDriver,
) {
    sqlite_slow_rounds("delete", driver);
}

fn processes_wait_for_a_no_transaction_migration_on_sqlite_in_wal_mode(driver: LiteDriver) {
    sqlite_slow_rounds("wal", driver);
}

for_each_lite_driver!(
    processes_started_together_on_sqlite_with_a_rollback_journal,
    processes_started_together_on_sqlite_in_wal_mode,
    processes_wait_for_a_no_transaction_migration_on_sqlite_with_a_rollback_journal,
    processes_wait_for_a_no_transaction_migration_on_sqlite_in_wal_mode,
);

/// The same race between 8 threads of one process, each with its own
/// connection: the lock file excludes them from each other too.
#[test]
fn threads_wait_for_a_no_transaction_migration_on_sqlite() {
    let folder = slow_folder();
    let migrations = Migrations::from_dir(folder.path()).unwrap();
    let (_dir, path) = sqlite_database("delete");
    let start = std::sync::Barrier::new(8);
    let applied: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = Connection::open(&path).unwrap();
                    start.wait();
                    let report = migrations.run(&mut conn).unwrap_or_else(|e| panic!("{e}"));
                    report.applied.iter().map(|s| s.version).collect()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let mut all: Vec<u64> = applied.concat();
    all.sort_unstable();
    assert_eq!(all, (1..=MIGRATIONS).collect::<Vec<_>>());
    check_sqlite(&path);
}

/// The same race between 8 tokio tasks of one service, each with its own
/// sqlx connection, on a runtime of two threads: `run_async` futures
/// spawned together, the slow no-transaction migration among them.
#[cfg(feature = "sqlx-sqlite")]
#[test]
fn tokio_tasks_wait_for_a_no_transaction_migration_on_sqlite_with_sqlx() {
    use sqlx::ConnectOptions;
    let folder = slow_folder();
    let migrations = std::sync::Arc::new(Migrations::from_dir(folder.path()).unwrap());
    let (_dir, path) = sqlite_database("delete");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let applied: Vec<Vec<u64>> = runtime.block_on(async {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .connect()
                .await
                .unwrap();
            let start = std::sync::Arc::clone(&start);
            let migrations = std::sync::Arc::clone(&migrations);
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let report = migrations
                    .run_async(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                report
                    .applied
                    .iter()
                    .map(|s| s.version)
                    .collect::<Vec<u64>>()
            }));
        }
        let mut applied = Vec::new();
        for task in tasks {
            applied.push(task.await.unwrap());
        }
        applied
    });
    let mut all: Vec<u64> = applied.concat();
    all.sort_unstable();
    assert_eq!(all, (1..=MIGRATIONS).collect::<Vec<_>>());
    check_sqlite(&path);
}

#[cfg(feature = "postgres")]
fn replicas_wait_for_a_no_transaction_migration_on_postgres(driver: common::drivers::Driver) {
    let Some(db) = common::drivers::TestDb::with_driver("concurrency_slow", driver) else {
        return;
    };
    let folder = slow_folder();
    // CI's rounds, split between the two drivers.
    for _ in 0..count(1, 3) {
        let mut client = db.client();
        client
            .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            .unwrap();
        // The advisory lock spans the whole run, the no-transaction
        // migration included.
        assert_eq!(race_with(16, &db.url, folder.path(), driver.name()), 1);
        assert_eq!(common::pg::history(&mut client).len() as u64, MIGRATIONS);
    }
}

#[cfg(feature = "postgres")]
fn replicas_started_together_on_postgres(driver: common::drivers::Driver) {
    let Some(db) = common::drivers::TestDb::with_driver("concurrency", driver) else {
        return;
    };
    let folder = busy_folder();
    // CI's 20 rounds per N, split between the two drivers.
    let rounds = count(1, 10);
    for processes in [2, 8, 16] {
        for _ in 0..rounds {
            let mut client = db.client();
            client
                .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                .unwrap();
            // The advisory lock is held for a whole run: one replica
            // migrates, the others wait and find nothing to do.
            assert_eq!(
                race_with(processes, &db.url, folder.path(), driver.name()),
                1
            );
            let history = common::pg::history(&mut client);
            assert_eq!(history.len() as u64, MIGRATIONS);
        }
        println!(
            "concurrency, PostgreSQL ({driver:?}), {processes} replicas: {rounds} rounds, 0 failures, each version applied once, \
             one replica migrated and the others found nothing to do in every round"
        );
    }
}

#[cfg(feature = "postgres")]
for_each_driver!(
    replicas_wait_for_a_no_transaction_migration_on_postgres,
    replicas_started_together_on_postgres,
);
