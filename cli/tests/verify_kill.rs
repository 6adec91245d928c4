//! `strata verify` killed with SIGKILL at random moments leaves the
//! database it was given as it was (`pg_dump -s`, or a SQLite file's
//! bytes). A scratch database that a killed verify left is named by the
//! next verify and dropped.
//!
//! Counts: `STRATA_RELIABILITY=full` for CI's (RELIABILITY.md), the quick
//! ones otherwise.

#[path = "../../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;
#[path = "../../tests/common/reliability.rs"]
#[allow(dead_code)]
mod reliability;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use reliability::{Random, count};
use strata::postgres::{Client, NoTls};

const VERSIONS: u64 = 16;

/// Migrations that take a while: each fills a table.
fn write_folder(dir: &Path, outside: Option<u64>) {
    for v in 1..=VERSIONS {
        let directive = if Some(v) == outside {
            "-- strata:no-transaction\n"
        } else {
            ""
        };
        std::fs::write(
            dir.join(format!("{v:03}_t{v}.up.sql")),
            format!(
                "{directive}CREATE TABLE t{v} (id int PRIMARY KEY, body text);\nINSERT INTO t{v} SELECT i, md5(i::text) FROM generate_series(1, 8000) AS i;\nCREATE INDEX t{v}_body ON t{v} (body);\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{v:03}_t{v}.down.sql")),
            format!("{directive}DROP TABLE t{v};\n"),
        )
        .unwrap();
    }
}

fn verify(dir: &Path, url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args(["--dir", dir.to_str().unwrap(), "--database", url, "verify"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs verify to the end; returns how long it took and what it said.
fn full_run(dir: &Path, url: &str) -> (Duration, String) {
    let started = Instant::now();
    let output = verify(dir, url).output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (started.elapsed(), said)
}

/// Starts verify and kills it after a random part of `full`; returns
/// whether it was killed before it ended.
fn kill_during(dir: &Path, url: &str, full: Duration, random: &mut Random) -> bool {
    let mut child = verify(dir, url).spawn().unwrap();
    // This pause is the crash's timing, not a synchronisation.
    let delay = Duration::from_micros(random.below(full.as_micros() as u64 * 11 / 10));
    std::thread::sleep(delay);
    let killed = child.try_wait().unwrap().is_none();
    if killed {
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    assert!(killed || status.success(), "verify failed without a kill");
    killed
}

/// Waits until the server has ended the sessions of killed processes, in
/// `database` and in scratch databases: until then their transactions and
/// locks are still there.
fn sessions_ended(watcher: &mut Client, database: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE pid <> pg_backend_pid()
                   AND (datname = $1 OR datname ~ '^strata_verify_[0-9]+_[0-9]+$')",
                &[&database],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "sessions of killed processes still open after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Each verify drops the scratch databases it finds unused, and each test
/// counts those it left: one test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `in_transaction`: as a role that may not create databases, so that
/// `strata verify` runs inside one transaction of the database; else in a
/// scratch database.
fn postgres_kills(what: &str, outside: Option<u64>, in_transaction: bool) {
    let Some(db) = pg::TestDb::new(what) else {
        return;
    };
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let admin = std::env::var(pg::URL_VARIABLE).unwrap();
    let mut watcher = Client::connect(&admin, NoTls).unwrap();
    let database = db.url.rsplit('/').next().unwrap().to_owned();
    // The application's own table, which verify must leave alone.
    db.client()
        .batch_execute("CREATE TABLE app_data (id int); INSERT INTO app_data VALUES (1)")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), outside);
    let role = format!("strata_kill_{}", std::process::id());
    let url = if in_transaction {
        watcher
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN NOCREATEDB; ALTER DATABASE {database} OWNER TO {role}"
            ))
            .unwrap();
        let url = db.url.replacen("://postgres@", &format!("://{role}@"), 1);
        assert_ne!(url, db.url, "the test URL names the user postgres");
        url
    } else {
        db.url.clone()
    };
    let before = pg::dump(&db.url, &[]);
    let (full, said) = full_run(dir.path(), &url);
    assert!(
        said.contains(&format!("verified {VERSIONS} migrations")),
        "{said}"
    );
    assert_eq!(
        said.contains("verifying inside one transaction of the database, rolled back"),
        in_transaction,
        "{said}"
    );
    let mut random = Random::new(what);
    let kills = count(5, 20);
    let mut killed = 0;
    while killed < kills {
        if kill_during(dir.path(), &url, full, &mut random) {
            killed += 1;
        }
        sessions_ended(&mut watcher, &database);
        assert_eq!(
            pg::dump(&db.url, &[]),
            before,
            "{what}: kill {killed} changed the database"
        );
    }
    // The next verify names every scratch database left, and drops it.
    let left = pg::scratch_databases(&mut watcher);
    let (_, said) = full_run(dir.path(), &url);
    for name in &left {
        assert!(
            said.contains(&format!(
                "dropped the scratch database {name}, left by a verify that was interrupted"
            )),
            "{name} not named in:\n{said}"
        );
    }
    assert_eq!(pg::scratch_databases(&mut watcher), Vec::<String>::new());
    assert_eq!(pg::dump(&db.url, &[]), before);
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM app_data", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    if in_transaction {
        watcher
            .batch_execute(&format!(
                "ALTER DATABASE {database} OWNER TO postgres; DROP ROLE {role}"
            ))
            .unwrap();
    }
    println!(
        "verify, {what}: {killed} kills within a full run of {full:?}, the database unchanged after each; scratch databases left after the last kill: {}, each named and dropped by the next verify",
        left.len()
    );
}

/// In one transaction that is always rolled back.
#[test]
fn postgres_verify_killed_in_its_transaction_leaves_nothing() {
    postgres_kills("verify_kill_tx", None, true);
}

/// In a scratch database, for a folder with a no-transaction migration.
#[test]
fn postgres_verify_killed_in_a_scratch_database_leaves_nothing() {
    postgres_kills("verify_kill_scratch", Some(VERSIONS / 2), false);
}

/// On SQLite verify works in memory: the file is not touched, killed or not.
#[test]
fn sqlite_verify_killed_leaves_the_file_as_it_was() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("migrations");
    std::fs::create_dir(&dir).unwrap();
    for v in 1..=VERSIONS {
        std::fs::write(
            dir.join(format!("{v:03}_t{v}.up.sql")),
            format!(
                "CREATE TABLE t{v} (id INTEGER PRIMARY KEY, body TEXT);\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000) INSERT INTO t{v} SELECT i, hex(randomblob(16)) FROM n;\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{v:03}_t{v}.down.sql")),
            format!("DROP TABLE t{v};\n"),
        )
        .unwrap();
    }
    let db = work.path().join("app.db");
    let conn = strata::rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE app_data (id INTEGER); INSERT INTO app_data VALUES (1);")
        .unwrap();
    drop(conn);
    let url = format!("sqlite:{}", db.display());
    let before = std::fs::read(&db).unwrap();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(work.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let (full, _) = full_run(&dir, &url);
    let mut random = Random::new("sqlite verify kill");
    let kills = count(5, 20);
    let mut killed = 0;
    while killed < kills {
        if kill_during(&dir, &url, full, &mut random) {
            killed += 1;
        }
        assert_eq!(std::fs::read(&db).unwrap(), before, "kill {killed}");
        assert_eq!(files(), ["app.db", "migrations"]);
    }
    println!(
        "verify, SQLite: {killed} kills within a full run of {full:?}, the database file byte-identical after each"
    );
}

/// Ctrl-C (SIGINT) or SIGTERM while verify works in its scratch database:
/// it drops that database, says so and exits with 130 (before, the
/// database stayed until the next verify).
#[test]
fn postgres_verify_interrupted_drops_its_scratch_database() {
    let Some(db) = pg::TestDb::new("verify_interrupted") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_slow.up.sql"),
        "CREATE TABLE a (id int);\nSELECT pg_sleep(60);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("1_slow.down.sql"), "DROP TABLE a;\n").unwrap();
    let mut watcher = db.client();
    for signal in ["INT", "TERM"] {
        let child = verify(dir.path(), &db.url).spawn().unwrap();
        let own = format!("strata_verify_{}_", child.id());
        // Until the scratch database is there and the slow statement runs.
        let started = Instant::now();
        loop {
            let running: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1 || '%' AND query LIKE '%pg_sleep%'",
                    &[&own],
                )
                .unwrap()
                .get(0);
            if running > 0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "verify never reached pg_sleep"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains("interrupted: dropped the scratch database of this verify"),
            "SIG{signal}: {stderr}"
        );
        let left: Vec<String> = pg::scratch_databases(&mut watcher)
            .into_iter()
            .filter(|d| d.starts_with(&own))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "SIG{signal}");
    }
}
