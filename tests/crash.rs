//! Crashes: a child process applies about a hundred migrations (table
//! recreations that copy 8,000 rows, a no-transaction migration) and is
//! killed with SIGKILL at random moments. After every kill the database is
//! intact, its history matches its schema exactly, and the next run
//! completes (after `force`, where a dirty row says so). Each test runs
//! with every driver built (rusqlite and sqlx on SQLite, postgres and
//! tokio-postgres on PostgreSQL), CI's kills split between them.
//!
//! Counts: `STRATA_RELIABILITY=full` for CI's (RELIABILITY.md), the quick
//! ones otherwise.

#[macro_use]
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use common::lite::LiteDriver;
use common::reliability::{Random, count, spawn_child};
use strata::rusqlite::Connection;
use strata::{Error, Migrations};

const VERSIONS: u64 = 100;
const ROWS: i64 = 8_000;
/// The migration that runs outside a transaction.
const OUTSIDE: u64 = 55;

const CHILD_DATABASE: &str = "STRATA_CRASH_DATABASE";
const CHILD_FOLDER: &str = "STRATA_CRASH_FOLDER";
/// The PostgreSQL driver a child migrates with (`Driver::name`).
const CHILD_DRIVER: &str = "STRATA_CRASH_DRIVER";

/// What migration `v` leaves behind: a table `m{v}`, or for every tenth a
/// column `c{v}` of the table `big`, which it recreates.
fn sqlite_folder(dir: &Path) {
    let mut columns = vec![
        "id INTEGER PRIMARY KEY".to_owned(),
        "payload TEXT NOT NULL".to_owned(),
    ];
    for v in 1..=VERSIONS {
        let (up, down) = if v == 1 {
            (
                format!(
                    "CREATE TABLE big ({});\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})\nINSERT INTO big (payload) SELECT hex(randomblob(24)) FROM n;\n",
                    columns.join(", ")
                ),
                "DROP TABLE big;\n".to_owned(),
            )
        } else if v % 10 == 0 {
            columns.push(format!("c{v} INTEGER NOT NULL DEFAULT {v}"));
            (
                format!(
                    "CREATE TABLE big_new ({});\nINSERT INTO big_new SELECT *, {v} FROM big;\nDROP TABLE big;\nALTER TABLE big_new RENAME TO big;\n",
                    columns.join(", ")
                ),
                "-- strata:irreversible\n".to_owned(),
            )
        } else if v == OUTSIDE {
            (
                format!(
                    "-- strata:no-transaction\nCREATE TABLE m{v} (id INTEGER PRIMARY KEY, x TEXT);\nINSERT INTO m{v} (x) SELECT payload FROM big;\n"
                ),
                format!("DROP TABLE m{v};\n"),
            )
        } else {
            (
                format!(
                    "CREATE TABLE m{v} (id INTEGER PRIMARY KEY, x TEXT);\nINSERT INTO m{v} (x) SELECT payload FROM big LIMIT 300;\n"
                ),
                format!("DROP TABLE m{v};\n"),
            )
        };
        common::write_files(
            dir,
            &[
                (&format!("{v:03}_m{v}.up.sql"), &up),
                (&format!("{v:03}_m{v}.down.sql"), &down),
            ],
        );
    }
}

/// A child: applies the folder to the database until done or killed.
#[test]
#[ignore = "a child process of the crash tests"]
fn crash_child() {
    let (Some(database), Some(folder)) = (
        std::env::var_os(CHILD_DATABASE),
        std::env::var_os(CHILD_FOLDER),
    ) else {
        return;
    };
    let migrations = Migrations::from_dir(folder).unwrap();
    let database = database.to_str().unwrap().to_owned();
    // Connected, and past a read (which recovers a hot journal or WAL left
    // by the last kill), before the parent starts timing the kill.
    let ready = || {
        println!("\nready");
        std::io::Write::flush(&mut std::io::stdout()).unwrap();
    };
    #[cfg(feature = "postgres")]
    if database.starts_with("postgres") {
        use common::drivers::{Conn, Driver, Operations};
        let name = std::env::var(CHILD_DRIVER).unwrap_or_default();
        let driver = Driver::ALL
            .iter()
            .copied()
            .find(|d| d.name() == name)
            .unwrap_or(Driver::Postgres);
        let mut client = Conn::connect(&database, driver);
        client
            .batch_execute("SET client_connection_check_interval = '50ms'")
            .unwrap();
        ready();
        migrations.run_on(&mut client).unwrap();
        return;
    }
    use common::lite::{LiteConn, LiteDriver, Operations};
    let driver = LiteDriver::named(&std::env::var(CHILD_DRIVER).unwrap_or_default());
    let mut conn = LiteConn::open(Path::new(&database), driver);
    conn.integer("SELECT count(*) FROM sqlite_schema");
    ready();
    migrations.run_on(&mut conn).unwrap();
}

/// What a check found in the database after a kill.
struct Found {
    /// Versions recorded, and whether dirty.
    history: Vec<(u64, bool)>,
    /// Whether the object of each version 1..=100 exists.
    objects: Vec<bool>,
    /// Rows of `big`, if it exists.
    rows: Option<i64>,
}

/// The history matches the schema exactly: each recorded version's object
/// exists, none of an unrecorded version's does, and a dirty row is the
/// no-transaction migration's, whose object may be half there.
fn check(found: &Found, what: &str) {
    let recorded = |v: u64| {
        found
            .history
            .iter()
            .find(|(r, _)| *r == v)
            .map(|&(_, dirty)| dirty)
    };
    for v in 1..=VERSIONS {
        let exists = found.objects[(v - 1) as usize];
        match recorded(v) {
            Some(true) => assert_eq!(v, OUTSIDE, "{what}: version {v} is dirty"),
            Some(false) => assert!(
                exists,
                "{what}: version {v} is recorded but its object is missing"
            ),
            None => assert!(
                !exists,
                "{what}: version {v} is not recorded but its object exists"
            ),
        }
    }
    if let Some(rows) = found.rows {
        assert_eq!(rows, ROWS, "{what}: rows of big lost or doubled");
    }
}

fn sqlite_found(path: &Path) -> Found {
    let conn = Connection::open(path).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let history = if tables.iter().any(|t| t == "schema_migrations") {
        conn.prepare("SELECT version, dirty FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    } else {
        Vec::new()
    };
    let big = tables.iter().any(|t| t == "big");
    let columns: Vec<String> = if big {
        conn.prepare("SELECT name FROM pragma_table_info('big')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    } else {
        Vec::new()
    };
    let objects = (1..=VERSIONS)
        .map(|v| match v {
            1 => big,
            v if v % 10 == 0 => columns.contains(&format!("c{v}")),
            v => tables.contains(&format!("m{v}")),
        })
        .collect();
    let rows = big.then(|| {
        conn.query_row("SELECT count(*) FROM big", [], |r| r.get(0))
            .unwrap()
    });
    Found {
        history,
        objects,
        rows,
    }
}

/// After a dirty no-transaction migration: undo its half, record the
/// version before it, as a person following the playbook would.
fn sqlite_recover(path: &Path, migrations: &Migrations) {
    let mut conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!("DROP TABLE IF EXISTS m{OUTSIDE}"))
        .unwrap();
    migrations
        .runner()
        .force(&mut conn, Some(OUTSIDE - 1))
        .unwrap();
}

/// Kills children at random moments until `kills` kills, and checks after
/// each. Returns (kills, completed runs, dirty recoveries).
fn kill_loop(
    what: &str,
    kills: usize,
    // The database, and the driver the children use.
    (database, driver): (&str, &str),
    folder: &Path,
    found: &dyn Fn() -> Found,
    recover: &dyn Fn(),
    reset: &dyn Fn(),
) -> (usize, usize, usize) {
    let mut random = Random::new(what);
    // How long an uninterrupted run takes, to kill within it.
    let mut child = spawn_child(
        "crash_child",
        &[
            (CHILD_DATABASE, database),
            (CHILD_FOLDER, folder.to_str().unwrap()),
            (CHILD_DRIVER, driver),
        ],
    );
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l == "ready")));
    let started = Instant::now();
    assert!(
        child.wait().unwrap().success(),
        "{what}: an uninterrupted run failed"
    );
    let full_run = started.elapsed();
    let mut seen = std::collections::BTreeSet::new();
    check(&found(), what);
    reset();
    let (mut killed, mut completed, mut recovered) = (0, 0, 0);
    let mut applied = 0;
    while killed < kills {
        let mut child = spawn_child(
            "crash_child",
            &[
                (CHILD_DATABASE, database),
                (CHILD_FOLDER, folder.to_str().unwrap()),
                (CHILD_DRIVER, driver),
            ],
        );
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.by_ref().map_while(Result::ok).any(|l| l == "ready");
        assert!(ready, "{what}: the child did not start");
        // Read to its end: a child whose standard output was closed dies
        // of the broken pipe when its test harness reports, and a run that
        // finished would read as one that failed (and every later kill
        // would land on a database with nothing left to apply).
        std::thread::spawn(move || lines.for_each(drop));
        // A random moment of what is left of the run: this pause is the
        // crash's timing.
        let left = 2 * full_run.as_micros() as u64 * (VERSIONS - applied).max(5) / VERSIONS;
        let delay = Duration::from_micros(random.below(left));
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        let status = child.wait().unwrap();
        let state = found();
        check(&state, &format!("{what}, kill {killed} after {delay:?}"));
        applied = state.history.len() as u64;
        seen.insert(applied);
        if state.history.iter().any(|&(_, dirty)| dirty) {
            recover();
            recovered += 1;
            check(&found(), &format!("{what}, after recovery"));
        }
        if status.success() {
            // Ran to the end before the kill: all applied, start again.
            assert_eq!(state.history.len() as u64, VERSIONS, "{what}");
            completed += 1;
            applied = 0;
            reset();
        }
    }
    // The next run completes.
    let mut child = spawn_child(
        "crash_child",
        &[
            (CHILD_DATABASE, database),
            (CHILD_FOLDER, folder.to_str().unwrap()),
            (CHILD_DRIVER, driver),
        ],
    );
    assert!(
        child.wait().unwrap().success(),
        "{what}: the run after the last kill failed"
    );
    let state = found();
    check(&state, what);
    assert_eq!(state.history.len() as u64, VERSIONS);
    println!(
        "crash, {what}: {killed} kills at {} different points of the history (a full run takes {full_run:?}), every one consistent; \
         {recovered} dirty rows recovered with force; {completed} runs finished before their kill; data lost: 0",
        seen.len()
    );
    (killed, completed, recovered)
}

fn sqlite_crashes(journal_mode: &str, driver: LiteDriver) {
    let folder = tempfile::tempdir().unwrap();
    sqlite_folder(folder.path());
    let migrations = Migrations::from_dir(folder.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let reset = || {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        common::set_journal_mode(&path, journal_mode);
    };
    reset();
    // CI's 100 kills, split between the two drivers.
    let kills = count(8, 50);
    // What a read-only reader (`strata status` before it rolls a hot
    // journal back) meets first after a kill: the history, or, after a
    // kill inside a transaction that had written to the file, the typed
    // error that says so; never another error.
    let hot = std::cell::Cell::new(0);
    let found = || {
        let mut read_only =
            Connection::open_with_flags(&path, strata::rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        match migrations.runner().status(&mut read_only) {
            Ok(_) => {}
            Err(Error::HotJournal { .. }) => hot.set(hot.get() + 1),
            Err(e) => panic!("a read-only status after a kill: {e:?}"),
        }
        sqlite_found(&path)
    };
    kill_loop(
        &format!("SQLite ({driver:?}), journal_mode={journal_mode}"),
        kills,
        (path.to_str().unwrap(), driver.name()),
        folder.path(),
        &found,
        &|| sqlite_recover(&path, &migrations),
        &reset,
    );
    println!(
        "crash, SQLite ({driver:?}), journal_mode={journal_mode}: a read-only status after each kill met a hot journal {} times and said so (HotJournal), and read the history otherwise",
        hot.get()
    );
}

fn sqlite_rollback_journal_survives_kills(driver: LiteDriver) {
    sqlite_crashes("delete", driver);
}

fn sqlite_wal_survives_kills(driver: LiteDriver) {
    sqlite_crashes("wal", driver);
}

for_each_lite_driver!(
    sqlite_rollback_journal_survives_kills,
    sqlite_wal_survives_kills
);

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::common::drivers::{Driver, TestDb};
    use strata::postgres::{Client, NoTls};

    fn folder(dir: &Path) {
        for v in 1..=VERSIONS {
            let (up, down) = if v == 1 {
                (
                    format!(
                        "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);\nINSERT INTO big SELECT i, md5(i::text) FROM generate_series(1, {ROWS}) AS i;\n"
                    ),
                    "DROP TABLE big;\n".to_owned(),
                )
            } else if v % 10 == 0 {
                (
                    format!(
                        "ALTER TABLE big ADD COLUMN c{v} integer;\nUPDATE big SET c{v} = {v};\n"
                    ),
                    format!("ALTER TABLE big DROP COLUMN c{v};\n"),
                )
            } else if v == OUTSIDE {
                (
                    format!(
                        "-- strata:no-transaction\nCREATE TABLE m{v} (id bigint, x text);\nINSERT INTO m{v} SELECT id, payload FROM big;\n"
                    ),
                    format!("DROP TABLE m{v};\n"),
                )
            } else {
                (
                    format!(
                        "CREATE TABLE m{v} (id bigint, x text);\nINSERT INTO m{v} SELECT id, payload FROM big LIMIT 300;\n"
                    ),
                    format!("DROP TABLE m{v};\n"),
                )
            };
            common::write_files(
                dir,
                &[
                    (&format!("{v:03}_m{v}.up.sql"), &up),
                    (&format!("{v:03}_m{v}.down.sql"), &down),
                ],
            );
        }
    }

    fn found(url: &str) -> Found {
        let mut client = Client::connect(url, NoTls).unwrap();
        // A killed client's session lives until the server notices the
        // closed connection (within client_connection_check_interval); its
        // transaction is rolled back and its advisory lock released then.
        // Wait for that, so the next child does not spend its time waiting.
        let mut sessions = 1;
        for _ in 0..500 {
            sessions = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .unwrap()
                .get::<_, i64>(0);
            if sessions == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            sessions, 0,
            "a killed client's session outlived five seconds"
        );
        let tables: Vec<String> = client
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let history = if tables.iter().any(|t| t == "schema_migrations") {
            client
                .query(
                    "SELECT version, dirty FROM schema_migrations ORDER BY version",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
                .collect()
        } else {
            Vec::new()
        };
        let columns: Vec<String> = client
            .query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'big'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let big = tables.iter().any(|t| t == "big");
        let objects = (1..=VERSIONS)
            .map(|v| match v {
                1 => big,
                v if v % 10 == 0 => columns.contains(&format!("c{v}")),
                v => tables.contains(&format!("m{v}")),
            })
            .collect();
        let rows = big.then(|| {
            client
                .query_one("SELECT count(*) FROM big", &[])
                .unwrap()
                .get(0)
        });
        Found {
            history,
            objects,
            rows,
        }
    }

    pub(super) fn postgres_survives_killed_clients(driver: Driver) {
        let Some(db) = TestDb::with_driver("crash", driver) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        folder(dir.path());
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        let url = db.url.clone();
        let reset = || {
            Client::connect(&url, NoTls)
                .unwrap()
                .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                .unwrap();
        };
        let recover = || {
            let mut client = Client::connect(&url, NoTls).unwrap();
            client
                .batch_execute(&format!("DROP TABLE IF EXISTS m{OUTSIDE}"))
                .unwrap();
            migrations
                .runner()
                .lock_timeout(Duration::from_secs(30))
                .force(&mut client, Some(OUTSIDE - 1))
                .unwrap();
        };
        kill_loop(
            &format!("PostgreSQL ({driver:?})"),
            // CI's 50 kills, split between the two drivers.
            count(4, 25),
            (&url, driver.name()),
            dir.path(),
            &|| found(&url),
            &recover,
            &reset,
        );
    }
}

#[cfg(feature = "postgres")]
use postgres::postgres_survives_killed_clients;

#[cfg(feature = "postgres")]
for_each_driver!(postgres_survives_killed_clients);
