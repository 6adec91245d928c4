//! The PostgreSQL backend against a real server: every operation, a client
//! killed while it holds the lock (replicas that start together are in
//! `tests/concurrency.rs`),
//! `CREATE INDEX CONCURRENTLY`, failures that leave no trace, and a folder of
//! real size. Each test has a database of its own (see `common/pg.rs`).
#![cfg(feature = "postgres")]

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::drivers::{Conn, Driver, Operations};
use common::pg::{TestDb, history, tables};
use common::{commit_inside, folder, load, write_files};
use strata::postgres::{Client, NoTls};
use strata::{Error, ForeignTable, MigrationState, Migrations};

/// The tests that verify in scratch databases count them: one at a time.
static SCRATCH: Mutex<()> = Mutex::new(());

fn scratch_lock() -> MutexGuard<'static, ()> {
    SCRATCH.lock().unwrap_or_else(PoisonError::into_inner)
}

static CHAT: Migrations = strata::embed_migrations!("examples/postgres/migrations");

fn versions(steps: &[strata::AppliedStep]) -> Vec<u64> {
    steps.iter().map(|s| s.version).collect()
}

fn every_operation_on_the_chat_schema(driver: Driver) {
    let Some(db) = TestDb::with_driver("operations", driver) else {
        return;
    };
    let mut client = db.conn(driver);

    let report = CHAT.run_on(&mut client).unwrap();
    assert_eq!(versions(&report.applied), [1, 2, 3, 4]);
    assert!(CHAT.run_on(&mut client).unwrap().is_empty());
    let rows = client
        .query(
            "SELECT version, name, checksum, chain, dirty, applied_at > now() - interval '1 hour' FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap();
    for (row, m) in rows.iter().zip(&CHAT) {
        assert_eq!(row.get::<_, i64>(0) as u64, m.version());
        assert_eq!(row.get::<_, String>(1), m.name());
        assert_eq!(row.get::<_, String>(2), m.checksum().to_hex());
        assert_eq!(row.get::<_, String>(3), m.chain().to_hex());
        assert!(!row.get::<_, bool>(4) && row.get::<_, bool>(5));
    }
    let status = CHAT.status_on(&mut client).unwrap();
    assert!(
        status
            .entries
            .iter()
            .all(|e| e.state == MigrationState::Applied)
    );
    assert!(
        status.entries[0]
            .applied_at
            .as_deref()
            .unwrap()
            .ends_with('Z')
    );
    assert!(CHAT.runner().validate_on(&mut client).unwrap().is_empty());

    // Down through the no-transaction index, the trigger, the constraint.
    client
        .batch_execute(
            "INSERT INTO sessions (session_id, model) VALUES ('s', 'm');
             INSERT INTO messages (session_id, role, content) VALUES ('s', 'user', 'a'), ('s', 'thinking', 'b');",
        )
        .unwrap();
    let report = CHAT.runner().down_to_on(&mut client, 1).unwrap();
    assert_eq!(versions(&report.reverted), [4, 3, 2]);
    let kept: i64 = client
        .query_one("SELECT count(*) FROM messages", &[])
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
    let report = CHAT.runner().goto_on(&mut client, 3).unwrap();
    assert_eq!(versions(&report.applied), [2, 3]);
    let report = CHAT.runner().redo_on(&mut client).unwrap();
    assert_eq!(
        (versions(&report.reverted), versions(&report.applied)),
        (vec![3], vec![3])
    );
    CHAT.runner().down_all_on(&mut client).unwrap();
    assert_eq!(tables(&mut client), ["schema_migrations"]);

    // A dry run changes nothing, and stops before the no-transaction file.
    let dry = CHAT.runner().dry_run(true).run_on(&mut client).unwrap();
    assert_eq!(
        (versions(&dry.applied), dry.untried.clone()),
        (vec![1, 2, 3], vec![4])
    );
    assert_eq!(tables(&mut client), ["schema_migrations"]);
    CHAT.run_on(&mut client).unwrap();

    let _scratch = scratch_lock();
    // Migration 4 runs outside a transaction, which verify cannot roll
    // back in this database: it says so, and changes nothing.
    let path_before: String = client.query_one("SHOW search_path", &[]).unwrap().get(0);
    match CHAT.verify_on(&mut client).unwrap_err() {
        Error::VerifyNeedsScratchDatabase {
            version: 4,
            file,
            new_enum_value: false,
            ..
        } => {
            assert!(file.ends_with("000004_content_search.up.sql"), "{file}");
        }
        other => panic!("{other:?}"),
    }
    // In a scratch database of its own, which it drops.
    let config: strata::postgres::Config = db.url.parse().unwrap();
    let report = CHAT.verify_postgres_scratch(&config, NoTls).unwrap();
    assert_eq!(report.checked, [1, 2, 3, 4]);
    let path_after: String = client.query_one("SHOW search_path", &[]).unwrap().get(0);
    assert_eq!(path_before, path_after);
    let scratch: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname ~ '^strata_verify_[0-9]+_[0-9]+$'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(scratch, 0);
}

fn checks_refusals_and_recovery(driver: Driver) {
    let Some(db) = TestDb::with_driver("recovery", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "CREATE TABLE b (id int PRIMARY KEY);"),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    load(&dir).run_on(&mut client).unwrap();

    // An edited migration: refused, then repaired.
    write_files(
        dir.path(),
        &[(
            "1_a.up.sql",
            "-- the a table\nCREATE TABLE a (id int PRIMARY KEY);",
        )],
    );
    let err = load(&dir).run_on(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(), Error::ChecksumMismatch { version: 1, .. }),
        "{err:?}"
    );
    let changes = load(&dir).runner().repair_on(&mut client).unwrap();
    assert_eq!(changes.changes.len(), 1);
    assert!(load(&dir).run_on(&mut client).unwrap().is_empty());

    // A failing migration leaves no trace; the error names the line.
    write_files(
        dir.path(),
        &[
            (
                "3_c.up.sql",
                "CREATE TABLE c (id int);\nINSERT INTO c VALUES (1);\nSELECT\n    no_such_column\nFROM c;\n",
            ),
            ("3_c.down.sql", "DROP TABLE c;"),
        ],
    );
    let err = load(&dir).run_on(&mut client).unwrap_err();
    let Error::Statement {
        version: 3, line, ..
    } = err.failure()
    else {
        panic!("{err:?}")
    };
    assert_eq!(*line, Some(4), "{err}");
    assert!(
        err.to_string()
            .contains("3_c.up.sql:4: column \"no_such_column\" does not exist"),
        "{err}"
    );
    assert_eq!(tables(&mut client), ["a", "b", "schema_migrations"]);
    assert_eq!(history(&mut client).len(), 2);

    // A no-transaction migration that fails halfway: dirty, refused, forced.
    write_files(
        dir.path(),
        &[
            (
                "3_c.up.sql",
                "-- strata:no-transaction\nCREATE TABLE c (id int);\nCREATE INDEX CONCURRENTLY c_id ON nowhere (id);\n",
            ),
            ("3_c.down.sql", "DROP TABLE c;"),
        ],
    );
    let err = load(&dir).run_on(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(),
            Error::LeftDirty { version: 3, previous: Some(2), cause, .. } if matches!(**cause, Error::Statement {
                version: 3,
                line: Some(3),
                ..
            })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "`strata force 3` if the migration is now applied in full, `strata force 2` if none of it is"
        ),
        "{err}"
    );
    assert_eq!(history(&mut client)[2], (3, "c".to_owned(), true));
    let err = load(&dir).run_on(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(), Error::Dirty { version: 3, .. }),
        "{err:?}"
    );
    client.batch_execute("DROP TABLE c").unwrap();
    load(&dir).runner().force_on(&mut client, Some(2)).unwrap();
    write_files(
        dir.path(),
        &[(
            "3_c.up.sql",
            "-- strata:no-transaction\nCREATE TABLE c (id int);\nCREATE INDEX CONCURRENTLY c_id ON c (id);\n",
        )],
    );
    assert_eq!(
        versions(&load(&dir).run_on(&mut client).unwrap().applied),
        [3]
    );

    // Missing files, out of order, irreversible.
    let err = load(&folder(&[
        (
            "1_a.up.sql",
            "-- the a table\nCREATE TABLE a (id int PRIMARY KEY);",
        ),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]))
    .run_on(&mut client)
    .unwrap_err();
    assert!(
        matches!(err.failure(), Error::MissingMigration { version: 2, .. }),
        "{err:?}"
    );
    write_files(
        dir.path(),
        &[
            ("0_zero.up.sql", "SELECT 1;"),
            ("0_zero.down.sql", "-- strata:irreversible"),
        ],
    );
    let err = load(&dir).run_on(&mut client).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::OutOfOrder {
                version: 0,
                newest_applied: 3,
                ..
            }
        ),
        "{err:?}"
    );
    load(&dir)
        .runner()
        .allow_out_of_order(true)
        .run_on(&mut client)
        .unwrap();
    let err = load(&dir).runner().down_all_on(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(), Error::Irreversible { version: 0, .. }),
        "{err:?}"
    );
    assert_eq!(history(&mut client).len(), 4);
}

fn baseline_and_adoption_of_golang_migrate(driver: Driver) {
    let Some(db) = TestDb::with_driver("adoption", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    // What golang-migrate leaves on PostgreSQL.
    client
        .batch_execute(
            "CREATE TABLE sessions (id bigint);
             CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
             INSERT INTO schema_migrations VALUES (1, true);",
        )
        .unwrap();
    let err = CHAT.run_on(&mut client).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::ForeignHistoryTable {
                kind: ForeignTable::GolangMigrate,
                ..
            }
        ),
        "{err:?}"
    );
    let err = CHAT.runner().adopt_on(&mut client).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::AdoptDirty {
                version: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    client
        .batch_execute("DROP TABLE sessions; UPDATE schema_migrations SET dirty = false")
        .unwrap();
    // Version 1 is in place, as golang-migrate says.
    client.batch_execute(CHAT.get(1).unwrap().up_sql()).unwrap();
    let changes = CHAT.runner().adopt_on(&mut client).unwrap();
    assert_eq!(changes.changes.len(), 1);
    assert_eq!(
        versions(&CHAT.run_on(&mut client).unwrap().applied),
        [2, 3, 4]
    );

    let Some(fresh) = TestDb::with_driver("baseline", driver) else {
        return;
    };
    let mut client = fresh.conn(driver);
    client.batch_execute(CHAT.get(1).unwrap().up_sql()).unwrap();
    CHAT.runner().baseline_on(&mut client, 1).unwrap();
    let err = CHAT.runner().baseline_on(&mut client, 1).unwrap_err();
    assert!(
        matches!(err.failure(), Error::HistoryExists { newest: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        versions(&CHAT.run_on(&mut client).unwrap().applied),
        [2, 3, 4]
    );
}

/// `sqlx::migrate!`'s history table, as sqlx creates it on PostgreSQL:
/// adopted under its name with sqlx's times, refused while a migration is
/// recorded as failed.
fn sqlx_history_is_adopted(driver: Driver) {
    let Some(db) = TestDb::with_driver("sqlx_adopt", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    client
        .batch_execute(
            "CREATE TABLE _sqlx_migrations (
                 version BIGINT PRIMARY KEY,
                 description TEXT NOT NULL,
                 installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
                 success BOOLEAN NOT NULL,
                 checksum BYTEA NOT NULL,
                 execution_time BIGINT NOT NULL
             );
             INSERT INTO _sqlx_migrations VALUES
                 (1, 'chat', '2024-03-01 12:30:00+00', true, '\\x00', 1000),
                 (2, 'thinking role', '2024-03-01 12:30:01+00', false, '\\x00', 1000);",
        )
        .unwrap();
    client.batch_execute(CHAT.get(1).unwrap().up_sql()).unwrap();
    let runner = CHAT.runner().table("_sqlx_migrations");
    let err = runner.run_on(&mut client).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::ForeignHistoryTable {
                kind: ForeignTable::Sqlx,
                ..
            }
        ),
        "{err:?}"
    );
    let err = runner.adopt_on(&mut client).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::AdoptDirty {
                version: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    client
        .batch_execute("DELETE FROM _sqlx_migrations WHERE version = 2")
        .unwrap();
    assert_eq!(runner.adopt_on(&mut client).unwrap().changes.len(), 1);
    let at: String = client
        .query_one(
            "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM _sqlx_migrations",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(at, "2024-03-01 12:30:00");
    assert_eq!(
        versions(&runner.run_on(&mut client).unwrap().applied),
        [2, 3, 4]
    );
}

/// A session whose `statement_timeout` is shorter than strata's pauses
/// between tries of the lock (which are the server's `pg_sleep`) still
/// waits for another replica, in shorter pauses, instead of failing with
/// the timeout's cancel.
fn the_lock_wait_keeps_below_the_statement_timeout(driver: Driver) {
    let Some(db) = TestDb::with_driver("lock_wait_timeout", driver) else {
        return;
    };
    let dir = folder(&[
        (
            "1_a.up.sql",
            "CREATE TABLE a (id int);\nSELECT pg_sleep(1.5);",
        ),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]);
    let migrations = load(&dir);
    let mut holder = db.client();
    let mut observer = db.client();
    let mut client = db.conn(driver);
    client
        .batch_execute("SET statement_timeout = '40ms'")
        .unwrap();
    std::thread::scope(|s| {
        let held = s.spawn(|| migrations.run(&mut holder));
        // Until the holder runs its migration, under the lock.
        let started = std::time::Instant::now();
        while !observer
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active'
                     AND pid <> pg_backend_pid() AND datname = current_database()
                     AND position('pg_sleep(1.5)' in query) > 0)",
                &[],
            )
            .unwrap()
            .get::<_, bool>(0)
        {
            assert!(started.elapsed() < Duration::from_secs(60));
        }
        let waited = migrations
            .runner()
            .lock_timeout(Duration::from_secs(30))
            .run_on(&mut client);
        let held = held.join().unwrap().unwrap();
        assert_eq!(held.applied.len(), 1, "{held:?}");
        let report = waited.unwrap();
        assert!(report.is_empty(), "{report:?}");
    });
}

fn transaction_control_is_refused_before_it_runs(driver: Driver) {
    let Some(db) = TestDb::with_driver("txn_control", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let err = commit_inside().run_on(&mut client).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::TransactionControl {
                version: 1,
                line: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(tables(&mut client), Vec::<String>::new());
}

/// A migration that changes the history table's shape: the next step's
/// read under the lock (sent with its `BEGIN`) finds another table there
/// and stops, naming its columns; the migrations before it stay applied.
fn a_migration_that_changes_the_history_table_stops_the_next_step(driver: Driver) {
    let Some(db) = TestDb::with_driver("history_changed", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "ALTER TABLE schema_migrations ADD COLUMN note text;",
        ),
        (
            "2_b.down.sql",
            "ALTER TABLE schema_migrations DROP COLUMN note;",
        ),
        ("3_c.up.sql", "CREATE TABLE c (id int);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ]);
    let err = load(&dir).run_on(&mut client).unwrap_err();
    match err.failure() {
        Error::ForeignHistoryTable { columns, .. } => {
            assert_eq!(columns.last().map(String::as_str), Some("note"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(versions(&err.report().unwrap().applied), [1, 2]);
    assert_eq!(tables(&mut client), ["a", "schema_migrations"]);
}

/// A no-transaction file that begins a transaction and forgets its COMMIT:
/// rolled back, not recorded as applied, the row dirty.
fn a_no_transaction_file_that_leaves_a_transaction_open_stays_dirty(driver: Driver) {
    let Some(db) = TestDb::with_driver("left_open", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        (
            "1_forgot.up.sql",
            "-- strata:no-transaction\nBEGIN;\nCREATE TABLE x (id int);\n",
        ),
        ("1_forgot.down.sql", "DROP TABLE x;"),
    ]);
    let err = load(&dir).run_on(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(), Error::LeftDirty { version: 1, previous: None, cause, .. }
            if matches!(**cause, Error::TransactionLeftOpen { version: 1, .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("`strata force none` if none of it is"),
        "{err}"
    );
    assert_eq!(tables(&mut client), ["schema_migrations"]);
    assert_eq!(history(&mut client), [(1, "forgot".to_owned(), true)]);
    let err = load(&dir).run_on(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(), Error::Dirty { version: 1, .. }),
        "{err:?}"
    );
}

fn a_migration_waiting_for_a_table_lock_fails_fast(driver: Driver) {
    let Some(db) = TestDb::with_driver("lock_timeout", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "ALTER TABLE a ADD COLUMN b int;"),
        ("2_b.down.sql", "ALTER TABLE a DROP COLUMN b;"),
    ]);
    let migrations = load(&dir);
    migrations.runner().target(1).run_on(&mut client).unwrap();
    // The application holds a lock on the table in a long transaction.
    let mut app = db.client();
    app.batch_execute("BEGIN; LOCK TABLE a IN ACCESS SHARE MODE")
        .unwrap();
    let err = migrations
        .runner()
        .table_lock_timeout(Some(Duration::from_millis(200)))
        .run_on(&mut client)
        .unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::TableLockTimeout {
                version: 2,
                line: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("lock timeout"), "{err}");
    app.batch_execute("COMMIT").unwrap();
    assert_eq!(
        versions(&migrations.run_on(&mut client).unwrap().applied),
        [2]
    );
}

/// The same outside a transaction: the table lock wait holds for the
/// file's statements too (set for the session around the file), and the
/// session's own `lock_timeout` is back after it. Before, the file waited
/// for the lock without end, and every reader of the table queued behind
/// it; the client's `statement_timeout` here ends that wait with another
/// error.
fn a_no_transaction_migration_waiting_for_a_table_lock_fails_fast(driver: Driver) {
    let Some(db) = TestDb::with_driver("lock_timeout_outside", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    client
        .batch_execute("SET statement_timeout = '20s'; SET lock_timeout = '7s'")
        .unwrap();
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "-- strata:no-transaction\nCREATE TABLE c (id int);\nALTER TABLE a ADD COLUMN b int;",
        ),
        ("2_b.down.sql", "ALTER TABLE a DROP COLUMN b;"),
    ]);
    let migrations = load(&dir);
    migrations.runner().target(1).run_on(&mut client).unwrap();
    let mut app = db.client();
    app.batch_execute("BEGIN; LOCK TABLE a IN ACCESS SHARE MODE")
        .unwrap();
    let started = std::time::Instant::now();
    let err = migrations
        .runner()
        .table_lock_timeout(Some(Duration::from_millis(200)))
        .run_on(&mut client)
        .unwrap_err();
    let Error::LeftDirty {
        version: 2, cause, ..
    } = err.failure()
    else {
        panic!("{err:?}");
    };
    assert!(
        matches!(
            **cause,
            Error::TableLockTimeout {
                line: Some(3),
                in_transaction: false,
                ..
            }
        ),
        "{cause:?}"
    );
    assert!(err.to_string().contains("lock timeout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    let setting: String = client.query_one("SHOW lock_timeout", &[]).unwrap().get(0);
    assert_eq!(setting, "7s");
    app.batch_execute("COMMIT").unwrap();
}

/// A client handed over inside a transaction of the caller's: a run that
/// would change anything returns `InTransaction` and leaves that
/// transaction as it was (before, the first read of a missing history
/// table failed inside it and aborted it); reading an up-to-date history
/// there is harmless and succeeds.
fn a_client_inside_a_transaction_is_refused_and_its_transaction_kept(driver: Driver) {
    let Some(db) = TestDb::with_driver("caller_transaction", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let migrations = load(&dir);
    let runner = migrations.runner();
    let step = |client: &mut Conn, target: u64, history: bool| {
        client
            .batch_execute("BEGIN; CREATE TABLE app (id int); INSERT INTO app VALUES (1)")
            .unwrap();
        let err = runner.clone().target(target).run_on(client).unwrap_err();
        assert!(matches!(err.failure(), Error::InTransaction), "{err:?}");
        // Reads that find nothing to do, and status, change nothing either.
        if history {
            assert_eq!(
                runner
                    .clone()
                    .target(target - 1)
                    .run_on(client)
                    .unwrap()
                    .applied
                    .len(),
                0
            );
        }
        runner.status_on(client).unwrap();
        let rows: i64 = client
            .query_one("SELECT count(*) FROM app", &[])
            .unwrap()
            .get(0);
        assert_eq!(rows, 1, "the caller's transaction goes on");
        client.batch_execute("ROLLBACK").unwrap();
    };
    // No history table yet.
    step(&mut client, 1, false);
    assert_eq!(tables(&mut client), Vec::<String>::new());
    // A history with a pending migration.
    runner.clone().target(1).run_on(&mut client).unwrap();
    step(&mut client, 2, true);
    assert_eq!(history(&mut client).len(), 1);
}

/// Migration 1 of the dry-run folders: a table with a serial key.
const USERS: [(&str, &str); 2] = [
    (
        "1_users.up.sql",
        "CREATE TABLE users (id serial PRIMARY KEY, name text);\nINSERT INTO users (name) VALUES ('a');",
    ),
    ("1_users.down.sql", "DROP TABLE users;"),
];

/// A dry run cannot roll back `nextval`: its report names each sequence
/// that moved while it ran, with the values, and says so; a sequence the
/// dry run made itself is rolled back with it and not named.
fn a_dry_run_names_the_sequences_it_moved(driver: Driver) {
    let Some(db) = TestDb::with_driver("dry_run_sequences", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        USERS[0],
        USERS[1],
        (
            "2_more.up.sql",
            "INSERT INTO users (name) VALUES ('b'), ('c'), ('d');\nCREATE SEQUENCE made;\nSELECT nextval('made');",
        ),
        (
            "2_more.down.sql",
            "DELETE FROM users WHERE name <> 'a';\nDROP SEQUENCE made;",
        ),
    ]);
    let migrations = load(&dir);
    migrations.runner().target(1).run_on(&mut client).unwrap();
    let report = migrations
        .runner()
        .dry_run(true)
        .run_on(&mut client)
        .unwrap();
    assert_eq!(versions(&report.applied), [2]);
    let moved: Vec<(String, Option<i64>, i64)> = report
        .sequences_advanced
        .iter()
        .map(|s| (s.name.clone(), s.before, s.after))
        .collect();
    assert_eq!(moved, [("public.users_id_seq".to_owned(), Some(1), 4)]);
    assert!(
        report.to_string().contains(
            "sequences moved while the dry run ran, which its rollback does not undo (values used up, not reused): public.users_id_seq 1 -> 4"
        ),
        "{report}"
    );
    // The rows are not there; the sequence's values are spent.
    let rows: i64 = client
        .query_one("SELECT count(*) FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    // A dry run that moves none says nothing of sequences.
    let report = migrations
        .runner()
        .dry_run(true)
        .down_on(&mut client, 1)
        .unwrap();
    assert!(report.sequences_advanced.is_empty(), "{report:?}");

    // One that fails says it in its error, around the failure a run meets.
    let failing = folder(&[
        USERS[0],
        USERS[1],
        (
            "2_fail.up.sql",
            "INSERT INTO users (name) VALUES ('e');\nSELECT 1 / 0;",
        ),
        ("2_fail.down.sql", "SELECT 1;"),
    ]);
    let err = load(&failing)
        .runner()
        .dry_run(true)
        .run_on(&mut client)
        .unwrap_err();
    match &err {
        Error::DryRunFailed {
            cause,
            sequences_advanced,
            ..
        } => {
            assert!(
                matches!(**cause, Error::Statement { version: 2, .. }),
                "{cause:?}"
            );
            assert_eq!(sequences_advanced[0].name, "public.users_id_seq");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("division by zero"), "{err}");
    assert!(
        err.to_string().contains("public.users_id_seq 4 -> "),
        "{err}"
    );
}

fn a_hundred_migrations_with_functions_triggers_and_do_blocks(driver: Driver) {
    let Some(db) = TestDb::with_driver("hundred", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = tempfile::tempdir().unwrap();
    for v in 1..=100u32 {
        let up = format!(
            "CREATE TABLE t{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL, touched int NOT NULL DEFAULT 0);

CREATE FUNCTION touch_t{v}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    -- semicolons; inside the body
    NEW.touched := NEW.touched + 1;
    RETURN NEW;
END;
$body$;

CREATE TRIGGER t{v}_touch BEFORE INSERT OR UPDATE ON t{v}
    FOR EACH ROW EXECUTE FUNCTION touch_t{v}();

DO $$
BEGIN
    FOR i IN 1..5 LOOP
        INSERT INTO t{v} (note) VALUES ('row ' || i || '; of {v}');
    END LOOP;
END
$$;

CREATE INDEX t{v}_note ON t{v} (note) WHERE touched > 0;
"
        );
        let down = format!("DROP TABLE t{v};\nDROP FUNCTION touch_t{v}();\n");
        write_files(
            dir.path(),
            &[
                (&format!("{v:04}_t{v}.up.sql"), &up),
                (&format!("{v:04}_t{v}.down.sql"), &down),
            ],
        );
    }
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    assert_eq!(migrations.run_on(&mut client).unwrap().applied.len(), 100);
    let touched: i64 = client
        .query_one("SELECT sum(touched) FROM t100", &[])
        .unwrap()
        .get(0);
    assert_eq!(touched, 5);
    assert!(migrations.run_on(&mut client).unwrap().is_empty());
    // verify in a scratch database: this one holds the migrations.
    let _scratch = scratch_lock();
    let config: strata::postgres::Config = db.url.parse().unwrap();
    assert_eq!(
        migrations
            .verify_postgres_scratch(&config, NoTls)
            .unwrap()
            .checked
            .len(),
        100
    );
    assert_eq!(
        migrations
            .runner()
            .down_all_on(&mut client)
            .unwrap()
            .reverted
            .len(),
        100
    );
    assert_eq!(tables(&mut client), ["schema_migrations"]);
}

fn verify_names_what_a_down_file_forgets(driver: Driver) {
    let Some(db) = TestDb::with_driver("down_forgets", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        (
            "1_a.up.sql",
            "CREATE TABLE messages (id int PRIMARY KEY, body text);",
        ),
        ("1_a.down.sql", "DROP TABLE messages;"),
        (
            "2_b.up.sql",
            "ALTER TABLE messages ADD COLUMN used_memories text;\nCREATE INDEX messages_body ON messages (body);",
        ),
        ("2_b.down.sql", "DROP INDEX messages_body;"),
    ]);
    let err = load(&dir).verify_on(&mut client).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("table messages: column used_memories (text) left behind by 2_b.down.sql"),
        "{text}"
    );
    assert_eq!(
        tables(&mut client),
        Vec::<String>::new(),
        "verify leaves nothing, after a failure too"
    );
}

#[test]
fn from_an_async_application_through_spawn_blocking() {
    let Some(db) = TestDb::new("async") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = db.url.clone();
    let report = runtime.block_on(async move {
        tokio::task::spawn_blocking(move || {
            let mut client = Client::connect(&url, NoTls)?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(CHAT.run(&mut client)?)
        })
        .await
        .unwrap()
    });
    assert_eq!(report.unwrap().applied.len(), 4);
}

const CHILD_URL: &str = "STRATA_TEST_CHILD_POSTGRES_URL";
const CHILD_FOLDER: &str = "STRATA_TEST_CHILD_FOLDER";

/// Logs to standard output, so that the parent sees each step.
struct Stdout;

impl log::Log for Stdout {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        println!("\nlog:{}", record.args());
        let _ = std::io::stdout().flush();
    }
    fn flush(&self) {}
}

/// A replica, started by the tests below with their variables set.
#[test]
#[ignore = "a child process of the PostgreSQL process tests"]
fn child() {
    let (Some(url), Some(dir)) = (std::env::var_os(CHILD_URL), std::env::var_os(CHILD_FOLDER))
    else {
        return;
    };
    static LOGGER: Stdout = Stdout;
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let migrations = Migrations::from_dir(dir).unwrap();
    let mut client = Client::connect(url.to_str().unwrap(), NoTls).unwrap();
    // Let the server notice a dead client even in the middle of a statement.
    client
        .batch_execute("SET client_connection_check_interval = '100ms'")
        .unwrap();
    // The barrier: the parent writes a line once every child is started.
    std::io::stdin()
        .lock()
        .read_line(&mut String::new())
        .unwrap();
    match migrations.run(&mut client) {
        Ok(report) => println!(
            "\nchild-applied:{}",
            versions(&report.applied)
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Err(e) => {
            println!("\nchild-error:{e}");
            std::process::exit(1);
        }
    }
}

fn a_client_killed_while_holding_the_lock_does_not_block_the_next_run(driver: Driver) {
    let Some(db) = TestDb::with_driver("killed", driver) else {
        return;
    };
    // The child gets stuck in migration 2, holding the advisory lock.
    let stuck = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "CREATE TABLE b (id int);\nSELECT pg_sleep(600);",
        ),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let mut child = common::reliability::spawn_child(
        "child",
        &[
            (CHILD_URL, &db.url),
            (CHILD_FOLDER, stuck.path().to_str().unwrap()),
        ],
    );
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Migration 1 is committed; migration 2 is running.
    lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("log:applied migration") && l.contains("1_a.up.sql"))
        .expect("the child applies migration 1");
    child.kill().unwrap();
    child.wait().unwrap();

    let quick = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let mut client = db.conn(driver);
    let report = load(&quick)
        .runner()
        .lock_timeout(Duration::from_secs(30))
        .run_on(&mut client)
        .unwrap();
    assert_eq!(versions(&report.applied), [2]);
    assert_eq!(history(&mut client).len(), 2);
}

/// A dry run checks at each migration's end what its commit would: a
/// deferred key violated is named with its file, and a migration that makes
/// constraints immediate for itself does not do so for the next.
fn a_dry_run_checks_what_each_commit_would(driver: Driver) {
    let Some(db) = TestDb::with_driver("dry_deferred", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let keyed = (
        "1_a.up.sql",
        "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);",
    );
    let down = ("1_a.down.sql", "DROP TABLE c;\nDROP TABLE p;");
    let broken = folder(&[
        keyed,
        down,
        ("2_orphan.up.sql", "INSERT INTO c VALUES (1, 42);"),
        ("2_orphan.down.sql", "DELETE FROM c;"),
    ]);
    let err = load(&broken)
        .runner()
        .dry_run(true)
        .run_on(&mut client)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "2_orphan.up.sql: insert or update on table \"c\" violates foreign key constraint"
        ) && err.contains("(in `COMMIT`)"),
        "{err}"
    );
    let fine = folder(&[
        keyed,
        down,
        (
            "2_now.up.sql",
            "SET CONSTRAINTS ALL IMMEDIATE;\nINSERT INTO p VALUES (42);\nINSERT INTO c VALUES (1, 42);",
        ),
        ("2_now.down.sql", "DELETE FROM c;\nDELETE FROM p;"),
        (
            "3_later.up.sql",
            "INSERT INTO c VALUES (2, 43);\nINSERT INTO p VALUES (43);",
        ),
        (
            "3_later.down.sql",
            "DELETE FROM c WHERE id = 2;\nDELETE FROM p WHERE id = 43;",
        ),
    ]);
    let report = load(&fine)
        .runner()
        .dry_run(true)
        .run_on(&mut client)
        .unwrap();
    assert_eq!(report.applied.len(), 3);
    assert_eq!(tables(&mut client), Vec::<String>::new());
    load(&fine).run_on(&mut client).unwrap();
    let reverted = load(&fine)
        .runner()
        .dry_run(true)
        .down_all_on(&mut client)
        .unwrap();
    assert_eq!(reverted.reverted.len(), 3);
}

/// A step's history insert and its `COMMIT` go in one message; each
/// failure is still told apart. A deferred key that the commit finds
/// violated names the file and `COMMIT`; a migration that drops the
/// history table fails at its insert, named as a history-table error. Both
/// roll the migration back, and the next run applies it once fixed.
fn the_insert_and_the_commit_fail_each_with_its_own_error(driver: Driver) {
    let Some(db) = TestDb::with_driver("insert_commit", driver) else {
        return;
    };
    let mut client = db.conn(driver);
    let dir = folder(&[
        (
            "1_keys.up.sql",
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);",
        ),
        ("1_keys.down.sql", "DROP TABLE c; DROP TABLE p;"),
        (
            "2_orphan.up.sql",
            "CREATE TABLE seen (id int);\nINSERT INTO c VALUES (1, 7);",
        ),
        ("2_orphan.down.sql", "DROP TABLE seen; DELETE FROM c;"),
    ]);
    let err = load(&dir).run_on(&mut client).unwrap_err();
    match err.failure() {
        Error::Statement {
            version: 2,
            file,
            statement: Some(statement),
            in_transaction: true,
            ..
        } => {
            assert!(file.ends_with("2_orphan.up.sql"), "{file}");
            assert_eq!(statement, "COMMIT");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("violates foreign key constraint"),
        "{err}"
    );
    assert_eq!(versions(&err.report().unwrap().applied), [1]);
    assert_eq!(history(&mut client), [(1, "keys".to_owned(), false)]);
    assert_eq!(tables(&mut client), ["c", "p", "schema_migrations"]);

    write_files(
        dir.path(),
        &[(
            "2_orphan.up.sql",
            "CREATE TABLE seen (id int);\nDROP TABLE schema_migrations;",
        )],
    );
    let err = load(&dir).run_on(&mut client).unwrap_err();
    match err.failure() {
        Error::HistoryTable {
            version: 2,
            file,
            in_transaction: true,
            ..
        } => assert!(file.ends_with("2_orphan.up.sql"), "{file}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(history(&mut client), [(1, "keys".to_owned(), false)]);
    assert_eq!(tables(&mut client), ["c", "p", "schema_migrations"]);

    write_files(
        dir.path(),
        &[("2_orphan.up.sql", "CREATE TABLE seen (id int);")],
    );
    let report = load(&dir).run_on(&mut client).unwrap();
    assert_eq!(versions(&report.applied), [2]);
    assert_eq!(
        history(&mut client),
        [
            (1, "keys".to_owned(), false),
            (2, "orphan".to_owned(), false)
        ]
    );
}

for_each_driver!(
    the_insert_and_the_commit_fail_each_with_its_own_error,
    the_lock_wait_keeps_below_the_statement_timeout,
    sqlx_history_is_adopted,
    every_operation_on_the_chat_schema,
    checks_refusals_and_recovery,
    baseline_and_adoption_of_golang_migrate,
    transaction_control_is_refused_before_it_runs,
    a_migration_that_changes_the_history_table_stops_the_next_step,
    a_no_transaction_file_that_leaves_a_transaction_open_stays_dirty,
    a_migration_waiting_for_a_table_lock_fails_fast,
    a_no_transaction_migration_waiting_for_a_table_lock_fails_fast,
    a_client_inside_a_transaction_is_refused_and_its_transaction_kept,
    a_dry_run_names_the_sequences_it_moved,
    a_hundred_migrations_with_functions_triggers_and_do_blocks,
    verify_names_what_a_down_file_forgets,
    a_client_killed_while_holding_the_lock_does_not_block_the_next_run,
    a_dry_run_checks_what_each_commit_would,
);
