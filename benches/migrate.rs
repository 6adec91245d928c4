//! strata against the floor: plain rusqlite doing the same SQL with one
//! history insert per migration. See BENCHMARKS.md for the figures and
//! `cargo bench --bench migrate` to reproduce them.
//!
//! `STRATA_BENCH_DIR` picks where the database files go (a tmpfs such as
//! /dev/shm shows CPU cost alone; the default, the target folder, includes
//! fsync). `STRATA_BENCH_SMOKE=1` runs each case once with tiny N, as CI does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use strata::Migrations;
use strata::rusqlite::Connection;

fn smoke() -> bool {
    std::env::var_os("STRATA_BENCH_SMOKE").is_some()
}

/// N migrations: each creates a table with an index and a few rows; every
/// tenth adds a column to an earlier table.
fn generate(dir: &Path, n: u32) {
    for v in 1..=n {
        let (up, down) = if v % 10 == 0 {
            (
                format!(
                    "ALTER TABLE t{} ADD COLUMN c{v} INTEGER NOT NULL DEFAULT 0;\n",
                    v - 5
                ),
                format!("ALTER TABLE t{} DROP COLUMN c{v};\n", v - 5),
            )
        } else {
            (
                format!(
                    "CREATE TABLE t{v} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, at TEXT);\n\
                     CREATE INDEX t{v}_name ON t{v} (name);\n\
                     INSERT INTO t{v} (name, at) VALUES ('a', '2026-01-01'), ('b', '2026-01-02'), ('c', '2026-01-03');\n"
                ),
                format!("DROP TABLE t{v};\n"),
            )
        };
        std::fs::write(dir.join(format!("{v:06}_m{v}.up.sql")), up).unwrap();
        std::fs::write(dir.join(format!("{v:06}_m{v}.down.sql")), down).unwrap();
    }
}

fn folder(n: u32) -> (tempfile::TempDir, Migrations) {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), n);
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    (dir, migrations)
}

fn scratch() -> PathBuf {
    let base = std::env::var_os("STRATA_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-db"));
    std::fs::create_dir_all(&base).unwrap();
    base
}

/// A new, empty database file.
fn fresh(base: &Path) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let conn = Connection::open(dir.path().join("bench.db")).unwrap();
    (dir, conn)
}

/// The floor: the same SQL and one history insert per migration, in one
/// transaction per migration or in one for all, with nothing checked.
fn floor(conn: &mut Connection, migrations: &Migrations, single: bool) {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .unwrap();
    if single {
        conn.execute_batch("BEGIN").unwrap();
    }
    for m in migrations {
        if !single {
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        }
        conn.execute_batch(m.up_sql()).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?1, ?2, ?3)",
            (m.version() as i64, m.name(), m.checksum().to_hex()),
        )
        .unwrap();
        if !single {
            conn.execute_batch("COMMIT").unwrap();
        }
    }
    if single {
        conn.execute_batch("COMMIT").unwrap();
    }
}

fn apply(c: &mut Criterion) {
    let base = scratch();
    let sizes: &[u32] = if smoke() { &[3] } else { &[10, 100] };
    let mut group = c.benchmark_group("apply");
    for &n in sizes {
        let (_dir, migrations) = folder(n);
        group.bench_with_input(BenchmarkId::new("strata", n), &n, |b, _| {
            b.iter_batched(
                || fresh(&base),
                |(_d, mut conn)| migrations.run(&mut conn).unwrap(),
                BatchSize::PerIteration,
            )
        });
        group.bench_with_input(BenchmarkId::new("floor", n), &n, |b, _| {
            b.iter_batched(
                || fresh(&base),
                |(_d, mut conn)| floor(&mut conn, &migrations, false),
                BatchSize::PerIteration,
            )
        });
        group.bench_with_input(
            BenchmarkId::new("strata single transaction", n),
            &n,
            |b, _| {
                b.iter_batched(
                    || fresh(&base),
                    |(_d, mut conn)| {
                        migrations
                            .runner()
                            .single_transaction(true)
                            .run(&mut conn)
                            .unwrap()
                    },
                    BatchSize::PerIteration,
                )
            },
        );
        group.bench_with_input(
            BenchmarkId::new("floor single transaction", n),
            &n,
            |b, _| {
                b.iter_batched(
                    || fresh(&base),
                    |(_d, mut conn)| floor(&mut conn, &migrations, true),
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    let base = scratch();
    let sizes: &[u32] = if smoke() {
        &[3]
    } else {
        &[10, 100, 1000, 10_000]
    };
    let mut group = c.benchmark_group("startup");
    for &n in sizes {
        let (_dir, migrations) = folder(n);
        let (_db, mut conn) = fresh(&base);
        migrations
            .runner()
            .single_transaction(true)
            .run(&mut conn)
            .unwrap();
        group.bench_with_input(BenchmarkId::new("strata run, up to date", n), &n, |b, _| {
            b.iter(|| assert!(migrations.run(&mut conn).unwrap().is_empty()))
        });
        group.bench_with_input(BenchmarkId::new("PRAGMA user_version", n), &n, |b, _| {
            b.iter(|| {
                conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn inspect(c: &mut Criterion) {
    let base = scratch();
    let n = if smoke() { 3 } else { 100 };
    let (_dir, migrations) = folder(n);
    let (_db, mut conn) = fresh(&base);
    migrations.run(&mut conn).unwrap();
    let mut group = c.benchmark_group("inspect");
    group.bench_function(BenchmarkId::new("status", n), |b| {
        b.iter(|| migrations.status(&mut conn).unwrap())
    });
    group.bench_function(BenchmarkId::new("validate", n), |b| {
        b.iter(|| migrations.runner().validate(&mut conn).unwrap())
    });
    group.bench_function(BenchmarkId::new("verify", n), |b| {
        b.iter(|| migrations.verify().unwrap())
    });
    group.finish();
}

fn config() -> Criterion {
    let criterion = Criterion::default().configure_from_args();
    if smoke() {
        criterion
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(1))
    } else {
        criterion
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
    }
}

criterion_group! { name = benches; config = config(); targets = apply, startup, inspect }
criterion_main!(benches);
