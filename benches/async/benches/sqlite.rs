//! strata on sqlx's SQLite connection (`run_async`, feature `sqlx-sqlite`)
//! beside `sqlx::migrate!` on the same connection type, strata's
//! synchronous `run` on rusqlite, and the floor, on the same generated
//! folder, in one run, each on a new database file. See BENCHMARKS.md at
//! the root of the repository.
//!
//! - "apply": N migrations on a new database (a fresh file per iteration).
//! - "startup": the check a service runs at every start, on a database
//!   where all N are applied already, on a connection that stays open.
//! - Commits per migration are counted once, before the timed cases, with
//!   a commit hook on the connection each tool migrates with.
//!
//! The floor is what any tool must do per migration, over rusqlite: `BEGIN`,
//! the file as one batch, the history insert (prepared once), `COMMIT`.
//! rusqlite and sqlx link the same SQLite here (one libsqlite3-sys, sqlx's
//! bundled build).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use strata::Migrations;
use strata::rusqlite::Connection;
use strata_async_compare::{config, smoke, sql};
use tokio::runtime::Runtime;

/// A folder of N migrations in strata's (and sqlx's) format.
fn folder(n: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for v in 1..=n {
        let (up, down) = sql(v);
        std::fs::write(dir.path().join(format!("{v:06}_m{v}.up.sql")), up).unwrap();
        std::fs::write(dir.path().join(format!("{v:06}_m{v}.down.sql")), down).unwrap();
    }
    dir
}

/// The loaded migrations of each tool.
struct Tools {
    strata: Migrations,
    sqlx: sqlx::migrate::Migrator,
}

impl Tools {
    fn load(dir: &Path, runtime: &Runtime) -> Tools {
        Tools {
            strata: Migrations::from_dir(dir).unwrap(),
            sqlx: runtime.block_on(sqlx::migrate::Migrator::new(dir)).unwrap(),
        }
    }
}

/// The floor over rusqlite: per migration `BEGIN`, the file, the history
/// insert, `COMMIT`.
fn floor(conn: &Connection, dir: &Path, n: u32) {
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
         applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .unwrap();
    let mut insert = conn
        .prepare("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)")
        .unwrap();
    for v in 1..=n {
        let up = std::fs::read_to_string(dir.join(format!("{v:06}_m{v}.up.sql"))).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        conn.execute_batch(&up).unwrap();
        insert.execute((i64::from(v), format!("m{v}"))).unwrap();
        conn.execute_batch("COMMIT").unwrap();
    }
}

/// Which tool a case runs.
#[derive(Clone, Copy)]
enum Tool {
    Floor,
    Strata,
    StrataSync,
    Sqlx,
}

impl Tool {
    const ALL: [(Tool, &'static str); 4] = [
        (Tool::Floor, "floor"),
        (Tool::Strata, "strata run_async (sqlx)"),
        (Tool::StrataSync, "strata run (rusqlite)"),
        (Tool::Sqlx, "sqlx migrate"),
    ];

    fn connect(self, path: &Path, runtime: &Runtime) -> Conn {
        match self {
            Tool::Floor | Tool::StrataSync => Conn::Rusqlite(Connection::open(path).unwrap()),
            Tool::Strata | Tool::Sqlx => Conn::Sqlx(Box::new(
                runtime
                    .block_on(
                        SqliteConnectOptions::new()
                            .filename(path)
                            .create_if_missing(true)
                            .connect(),
                    )
                    .unwrap(),
            )),
        }
    }

    /// One run of the tool with its connection.
    fn run(self, conn: &mut Conn, tools: &Tools, dir: &Path, n: u32, runtime: &Runtime) {
        match (self, conn) {
            (Tool::Floor, Conn::Rusqlite(conn)) => floor(conn, dir, n),
            (Tool::StrataSync, Conn::Rusqlite(conn)) => {
                tools.strata.run(conn).unwrap();
            }
            (Tool::Strata, Conn::Sqlx(conn)) => {
                runtime
                    .block_on(tools.strata.run_async(&mut **conn))
                    .unwrap();
            }
            (Tool::Sqlx, Conn::Sqlx(conn)) => {
                runtime.block_on(tools.sqlx.run(&mut **conn)).unwrap()
            }
            _ => unreachable!("each tool gets its driver's connection"),
        }
    }
}

enum Conn {
    Rusqlite(Connection),
    Sqlx(Box<SqliteConnection>),
}

/// A new database file, in a folder of its own.
struct Database {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Database {
    fn new() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.db");
        Database { _dir: dir, path }
    }
}

/// How many transactions each tool commits to apply `n` migrations: a
/// commit hook on its connection counts them.
fn commits(runtime: &Runtime, n: u32) {
    let dir = folder(n);
    let tools = Tools::load(dir.path(), runtime);
    for (tool, name) in Tool::ALL {
        let database = Database::new();
        let mut conn = tool.connect(&database.path, runtime);
        let count = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&count);
        let commit = move || {
            counter.fetch_add(1, Ordering::Relaxed);
        };
        // The hooks' answers are opposite: rusqlite's `true` and sqlx's
        // `false` turn the commit into a rollback.
        match &mut conn {
            Conn::Rusqlite(conn) => conn
                .commit_hook(Some(move || {
                    commit();
                    false
                }))
                .unwrap(),
            Conn::Sqlx(conn) => {
                let mut handle = runtime.block_on(conn.lock_handle()).unwrap();
                handle.set_commit_hook(move || {
                    commit();
                    true
                });
            }
        }
        tool.run(&mut conn, &tools, dir.path(), n, runtime);
        println!(
            "commits on SQLite, {name}: {} for {n} migrations",
            count.load(Ordering::Relaxed)
        );
    }
}

fn apply(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    commits(&runtime, if smoke() { 3 } else { 100 });
    let sizes: &[u32] = if smoke() { &[3] } else { &[100, 1000] };
    let mut group = c.benchmark_group("apply on SQLite, async");
    group.sample_size(10);
    for &n in sizes {
        let dir = folder(n);
        let tools = Tools::load(dir.path(), &runtime);
        for (tool, name) in Tool::ALL {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter_batched(
                    || {
                        let database = Database::new();
                        let conn = tool.connect(&database.path, &runtime);
                        (database, conn)
                    },
                    |(database, mut conn)| {
                        tool.run(&mut conn, &tools, dir.path(), n, &runtime);
                        (database, conn)
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();

    // Startup: every migration applied already; each tool's check, on a
    // connection that stays open, as a service's would.
    let n = if smoke() { 3 } else { 100 };
    let dir = folder(n);
    let tools = Tools::load(dir.path(), &runtime);
    let mut group = c.benchmark_group("startup on SQLite, async, up to date");
    for (tool, name) in Tool::ALL.into_iter().skip(1) {
        let database = Database::new();
        let mut conn = tool.connect(&database.path, &runtime);
        tool.run(&mut conn, &tools, dir.path(), n, &runtime);
        group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
            b.iter(|| tool.run(&mut conn, &tools, dir.path(), n, &runtime))
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = config(); targets = apply }
criterion_main!(benches);
