//! The async PostgreSQL backend (tokio-postgres) where async differs:
//! its futures run in `tokio::spawn`, many tasks migrate one database at
//! once, and a future dropped part-way (a cancelled task, a timeout)
//! leaves no lock, no open transaction, no half-applied migration and no
//! setting of the migration's behind. Every operation's behaviour is
//! tested with both drivers in `tests/postgres.rs`.
#![cfg(feature = "tokio-postgres")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pg::TestDb;
use common::{folder, load};
use strata::tokio_postgres::{self, Client, NoTls};
use strata::{Error, Migrations};

static CHAT: Migrations = strata::embed_migrations!("examples/postgres/migrations");

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A future that must be `Send` (`tokio::spawn` would say so too; this
/// names the operation that is not).
fn send<T: Send>(future: T) -> T {
    future
}

/// Every operation's future is `Send`, on a client that a task owns.
#[test]
fn every_future_is_send_and_runs_in_a_spawned_task() {
    let Some(db) = TestDb::new("async_send") else {
        return;
    };
    let url = db.url.clone();
    runtime().block_on(async move {
        let task = tokio::spawn(async move {
            let mut client = connect(&url).await;
            let runner = CHAT.runner();
            let applied = send(CHAT.run_async(&mut client)).await?.applied.len();
            send(CHAT.status_async(&mut client)).await?;
            send(runner.validate_async(&mut client)).await?;
            send(runner.applied_async(&mut client)).await?;
            send(runner.down_async(&mut client, 1)).await?;
            send(runner.down_to_async(&mut client, 2)).await?;
            send(runner.goto_async(&mut client, 3)).await?;
            send(runner.redo_async(&mut client)).await?;
            send(runner.down_only_async(&mut client, 3)).await?;
            send(runner.repair_async(&mut client)).await?;
            send(runner.force_async(&mut client, Some(2))).await?;
            send(runner.down_all_async(&mut client)).await?;
            send(runner.baseline_async(&mut client, 1)).await?;
            send(runner.adopt_async(&mut client)).await?;
            let adopted = send(runner.adopt_forced_async(&mut client, None)).await;
            assert!(
                matches!(adopted, Err(Error::AdoptedAlready { .. })),
                "{adopted:?}"
            );
            let verify = send(CHAT.verify_async(&mut client)).await;
            Ok::<_, Error>((applied, verify))
        });
        let (applied, verify) = task.await.unwrap().unwrap();
        assert_eq!(applied, 4);
        // Migration 4 runs outside a transaction: verify says it needs a
        // scratch database, as the synchronous one does.
        assert!(
            matches!(
                verify,
                Err(Error::VerifyNeedsScratchDatabase { version: 4, .. })
            ),
            "{verify:?}"
        );
    });
}

/// Replicas of a service start together, each a task with a client of its
/// own: exactly one applies each migration, the others find it applied.
#[test]
fn many_tasks_starting_together_apply_each_migration_once() {
    let Some(db) = TestDb::new("async_tasks") else {
        return;
    };
    const TASKS: usize = 8;
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "CREATE TABLE b (id int);\nINSERT INTO b SELECT generate_series(1, 10000);",
        ),
        ("2_b.down.sql", "DROP TABLE b;"),
        ("3_c.up.sql", "ALTER TABLE b ADD COLUMN c int;"),
        ("3_c.down.sql", "ALTER TABLE b DROP COLUMN c;"),
    ]);
    let migrations: &'static Migrations = Box::leak(Box::new(load(&dir)));
    let url = db.url.clone();
    let reports = runtime().block_on(async move {
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (url, barrier) = (url.clone(), barrier.clone());
                tokio::spawn(async move {
                    let mut client = connect(&url).await;
                    barrier.wait().await;
                    migrations.run_async(&mut client).await
                })
            })
            .collect();
        let mut reports = Vec::new();
        for task in tasks {
            reports.push(task.await.unwrap().unwrap());
        }
        reports
    });
    let mut applied: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.applied.iter().map(|s| s.version))
        .collect();
    applied.sort_unstable();
    assert_eq!(applied, [1, 2, 3], "each version applied exactly once");
    assert!(reports.iter().all(|r| r.version == Some(3)));
    let mut client = db.client();
    let rows: i64 = client
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 3);
}

/// Whether `client` is outside any transaction: by the simple protocol,
/// one message, where a transaction that began before it would show.
async fn idle(client: &Client) -> bool {
    let messages = client
        .simple_query("SELECT transaction_timestamp() = statement_timestamp()")
        .await
        .unwrap();
    messages.iter().any(
        |m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t")),
    )
}

/// Waits until another session of this database runs a statement containing
/// `text`; gives up after a minute.
async fn until_running(observer: &Client, text: &str) {
    let started = Instant::now();
    loop {
        let running: bool = observer
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()
                     AND datname = current_database() AND position($1 in query) > 0)",
                &[&text],
            )
            .await
            .unwrap()
            .get(0);
        if running {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing ran {text}"
        );
        tokio::task::yield_now().await;
    }
}

/// A run whose future is dropped while a migration runs (a cancelled
/// request, a timeout around start-up): once the statement that was
/// running ends, the migration is rolled back with its history row, the
/// advisory lock released and the migration's setting put back, all on
/// the caller's client, which goes on as it was; the next run applies the
/// migration.
#[test]
fn a_run_dropped_while_a_migration_runs_leaves_nothing_behind() {
    let Some(db) = TestDb::new("async_dropped") else {
        return;
    };
    let stuck = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "SET work_mem = '77MB';\nCREATE TABLE b (id int);\nSELECT pg_sleep(2);",
        ),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let quick = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let (stuck, quick) = (load(&stuck), load(&quick));
    let url = db.url.clone();
    runtime().block_on(async move {
        let mut client = connect(&url).await;
        client
            .batch_execute("SET work_mem = '5MB'; SET statement_timeout = '123s'")
            .await
            .unwrap();
        let observer = connect(&url).await;
        tokio::select! {
            result = stuck.run_async(&mut client) => panic!("the run ended: {result:?}"),
            () = until_running(&observer, "pg_sleep(2)") => {}
        }
        // The run's future is dropped. What it queued runs before this.
        let row = client
            .query_one(
                "SELECT current_setting('work_mem'), current_setting('statement_timeout'),
                        EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        let state: (String, String, bool) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            state,
            ("5MB".to_owned(), "123s".to_owned(), false),
            "the caller's settings, no advisory lock held"
        );
        assert!(idle(&client).await, "no transaction open");
        let history: Vec<i64> = client
            .query("SELECT version FROM schema_migrations ORDER BY 1", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(history, [1], "migration 2 rolled back with its row");
        // Another replica gets the lock at once and applies it.
        let mut other = connect(&url).await;
        let report = quick
            .runner()
            .lock_timeout(Duration::from_secs(5))
            .run_async(&mut other)
            .await
            .unwrap();
        assert_eq!(report.applied.len(), 1);
    });
}

/// The same for a verify dropped part-way: its one transaction is rolled
/// back, nothing of the folder stays.
#[test]
fn a_verify_dropped_part_way_leaves_nothing_behind() {
    let Some(db) = TestDb::new("async_verify_dropped") else {
        return;
    };
    let stuck = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "CREATE TABLE b (id int);\nSELECT pg_sleep(2);",
        ),
        ("2_b.down.sql", "DROP TABLE b;"),
    ]);
    let stuck = load(&stuck);
    let url = db.url.clone();
    runtime().block_on(async move {
        let mut client = connect(&url).await;
        let observer = connect(&url).await;
        tokio::select! {
            result = stuck.verify_async(&mut client) => panic!("verify ended: {result:?}"),
            () = until_running(&observer, "pg_sleep(2)") => {}
        }
        assert!(idle(&client).await, "verify's transaction rolled back");
        let tables: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 0);
    });
}

/// Dropped during a migration that runs outside a transaction: after its
/// statement, its setting is put back and the lock released, and its row
/// stays dirty, as after a crash (whether the file ran in full is not
/// known): the next run says so at once instead of waiting.
#[test]
fn a_run_dropped_outside_a_transaction_leaves_its_row_dirty_and_no_lock() {
    let Some(db) = TestDb::new("async_dropped_outside") else {
        return;
    };
    let stuck = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "-- strata:no-transaction\nSET work_mem = '77MB';\nSET statement_timeout = '9s';\nSELECT pg_sleep(2);",
        ),
        ("2_b.down.sql", "SELECT 1;"),
    ]);
    let stuck = load(&stuck);
    let url = db.url.clone();
    runtime().block_on(async move {
        let mut client = connect(&url).await;
        // A custom setting too, which `pg_settings` does not list.
        client
            .batch_execute("SET work_mem = '5MB'; SET app.tenant = 'acme'")
            .await
            .unwrap();
        let observer = connect(&url).await;
        tokio::select! {
            result = stuck.run_async(&mut client) => panic!("the run ended: {result:?}"),
            () = until_running(&observer, "pg_sleep(2)") => {}
        }
        // work_mem, which the caller had set, back to the caller's value;
        // statement_timeout, which the caller had not, back to its default.
        let row = client
            .query_one(
                "SELECT current_setting('work_mem'), current_setting('statement_timeout'),
                        current_setting('app.tenant'),
                        EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (
                row.get::<_, String>(0),
                row.get::<_, String>(1),
                row.get::<_, String>(2),
                row.get::<_, bool>(3)
            ),
            ("5MB".to_owned(), "0".to_owned(), "acme".to_owned(), false)
        );
        assert!(idle(&client).await);
        let mut other = connect(&url).await;
        let err = stuck
            .runner()
            .lock_timeout(Duration::from_secs(5))
            .run_async(&mut other)
            .await
            .unwrap_err();
        assert!(
            matches!(err.failure(), Error::Dirty { version: 2, .. }),
            "{err:?}"
        );
    });
}

/// Dropped while it waits for another replica's lock: it took no hold, and
/// a custom setting of the caller's (`app.tenant`, which `pg_settings` does
/// not list) is still there; once the other replica is done, the next run
/// finds the work done.
#[test]
fn a_run_dropped_while_it_waits_for_the_lock_takes_nothing() {
    let Some(db) = TestDb::new("async_dropped_waiting") else {
        return;
    };
    let stuck = folder(&[
        (
            "1_a.up.sql",
            "CREATE TABLE a (id int);\nSELECT pg_sleep(3);",
        ),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]);
    let stuck = load(&stuck);
    let url = db.url.clone();
    runtime().block_on(async move {
        let mut holder = connect(&url).await;
        let observer = connect(&url).await;
        let mut client = connect(&url).await;
        client
            .batch_execute("SET app.tenant = 'acme'")
            .await
            .unwrap();
        let holding = async {
            let report = stuck.run_async(&mut holder).await.unwrap();
            assert_eq!(report.applied.len(), 1);
        };
        let waiting = async {
            until_running(&observer, "pg_sleep(3)").await;
            tokio::select! {
                result = stuck.run_async(&mut client) => panic!("the waiting run ended: {result:?}"),
                () = until_running(&observer, "pg_sleep($2)") => {}
            }
        };
        tokio::join!(holding, waiting);
        let row = client
            .query_one(
                "SELECT current_setting('app.tenant'),
                        EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (row.get::<_, String>(0), row.get::<_, bool>(1)),
            ("acme".to_owned(), false)
        );
        assert!(idle(&client).await);
        assert!(stuck.run_async(&mut client).await.unwrap().is_empty());
    });
}
