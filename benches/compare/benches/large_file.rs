//! One large migration file: 10k, 40k and 100k `INSERT`s, and a 38 MB seed
//! file of multi-row `INSERT`s, beside the floor of running the same file
//! with the database's own loop in one transaction: SQLite's `sqlite3_exec`
//! on the NUL-terminated file (what the sqlite3 shell and Python's
//! `executescript` do), PostgreSQL's server reading the whole file sent
//! with `batch_execute`. The ratio must stay flat as the file grows:
//! applying a file costs time linear in its size.
//!
//! rusqlite's `execute_batch` is shown beside them up to 40k statements: it
//! prepares each statement from the rest of the file, which SQLite copies,
//! so its time grows with the square of the file (as strata's did).
//!
//! SQLite runs on tmpfs where there is one (the CPU cost of running the
//! file). PostgreSQL runs when `STRATA_TEST_POSTGRES_URL` names a server;
//! the cases use a database of their own, `strata_bench_large`, dropped
//! after, and each run starts after a `CHECKPOINT`.

use std::path::Path;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use postgres::{Client, NoTls};
use strata::Migrations;

use strata_compare::{config, fresh, scratch, smoke, tmpfs};

/// The files: (name, SQL).
fn files() -> Vec<(String, String)> {
    let counts: &[usize] = if smoke() {
        &[10]
    } else {
        &[10_000, 40_000, 100_000]
    };
    let mut files: Vec<(String, String)> = counts
        .iter()
        .map(|&n| (format!("{} INSERTs", short(n)), inserts(n)))
        .collect();
    let seed = if smoke() { 10_000 } else { 38_000_000 };
    files.push((format!("{}B seed file", short(seed)), seed_file(seed)));
    files
}

/// 10k, 38M.
fn short(n: usize) -> String {
    match n {
        1_000_000.. => format!("{}M", n / 1_000_000),
        1_000.. => format!("{}k", n / 1_000),
        _ => n.to_string(),
    }
}

const CREATE: &str = "CREATE TABLE seed (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);\n";

/// `n` one-row INSERTs, whose strings hold what a splitter must not take
/// for the end of a statement or a comment.
fn inserts(n: usize) -> String {
    let mut sql = String::from(CREATE);
    for i in 0..n {
        sql.push_str(&format!(
            "INSERT INTO seed (id, name, note) VALUES ({i}, 'name {i}', 'a note; with -- and /* */ inside');\n"
        ));
    }
    sql
}

/// Multi-row INSERTs of 100 rows each, about `bytes` long, as a seed file
/// written by a dump tool looks.
fn seed_file(bytes: usize) -> String {
    let mut sql = String::from(CREATE);
    let mut id = 0;
    while sql.len() < bytes {
        sql.push_str("INSERT INTO seed (id, name, note) VALUES\n");
        let rows: Vec<String> = (id..id + 100)
            .map(|i| format!("  ({i}, 'name {i}', 'a note; with -- and /* */ inside, padded to a realistic width')"))
            .collect();
        sql.push_str(&rows.join(",\n"));
        sql.push_str(";\n");
        id += 100;
    }
    sql
}

/// The file as a folder of one migration, loaded by strata.
fn migrations(dir: &Path, sql: &str) -> Migrations {
    std::fs::write(dir.join("000001_seed.up.sql"), sql).unwrap();
    std::fs::write(dir.join("000001_seed.down.sql"), "DROP TABLE seed;\n").unwrap();
    Migrations::from_dir(dir).unwrap()
}

fn sqlite(c: &mut Criterion) {
    // On tmpfs where there is one: the cost of running the file, without
    // the disk's swings in writing it out.
    let base = tmpfs().unwrap_or_else(scratch);
    let mut group = c.benchmark_group("large file, SQLite");
    group.sample_size(10);
    for (name, sql) in files() {
        let dir = tempfile::tempdir().unwrap();
        let set = migrations(dir.path(), &sql);
        group.bench_with_input(
            BenchmarkId::new("floor: sqlite3_exec", &name),
            &sql,
            |b, sql| {
                let sql = std::ffi::CString::new(sql.as_str()).unwrap();
                b.iter_batched(
                    || fresh(&base),
                    |(_d, conn)| {
                        conn.execute_batch("BEGIN").unwrap();
                        exec(&conn, &sql);
                        conn.execute_batch("COMMIT").unwrap();
                    },
                    BatchSize::PerIteration,
                )
            },
        );
        if sql.len() <= 4_000_000 {
            group.bench_with_input(
                BenchmarkId::new("rusqlite execute_batch", &name),
                &sql,
                |b, sql| {
                    b.iter_batched(
                        || fresh(&base),
                        |(_d, conn)| {
                            conn.execute_batch("BEGIN").unwrap();
                            conn.execute_batch(sql).unwrap();
                            conn.execute_batch("COMMIT").unwrap();
                        },
                        BatchSize::PerIteration,
                    )
                },
            );
        }
        group.bench_with_input(BenchmarkId::new("strata", &name), &set, |b, set| {
            b.iter_batched(
                || fresh(&base),
                |(_d, mut conn)| {
                    set.run(&mut conn).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// `sqlite3_exec`: SQLite's own loop over a NUL-terminated text, which
/// prepares each statement in place (nothing copied), as the floor.
fn exec(conn: &rusqlite::Connection, sql: &std::ffi::CStr) {
    // SAFETY: the handle is the open connection's, used on this thread
    // while `conn` is borrowed; `sql` is NUL-terminated; no callback.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_exec(
            conn.handle(),
            sql.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
}

fn postgres(c: &mut Criterion) {
    let Some(database) =
        strata_compare::pg::Server::new("strata_bench_large", "the PostgreSQL large-file cases")
    else {
        return;
    };
    let client = std::cell::RefCell::new(Client::connect(&database.url, NoTls).unwrap());
    let mut group = c.benchmark_group("large file, PostgreSQL");
    group.sample_size(10);
    // Each run starts from the same server state: the table gone and its
    // pages written out, so that one run's checkpoint does not land in
    // the next one's time (CHECKPOINT needs a superuser; without one, the
    // figures swing more).
    let empty = || {
        let mut client = client.borrow_mut();
        client
            .batch_execute("DROP TABLE IF EXISTS seed, schema_migrations")
            .unwrap();
        let _ = client.batch_execute("CHECKPOINT");
    };
    for (name, sql) in files() {
        let dir = tempfile::tempdir().unwrap();
        let set = migrations(dir.path(), &sql);
        group.bench_with_input(
            BenchmarkId::new("floor: batch_execute", &name),
            &sql,
            |b, sql| {
                b.iter_batched(
                    empty,
                    |()| {
                        let mut client = client.borrow_mut();
                        client.batch_execute("BEGIN").unwrap();
                        client.batch_execute(sql).unwrap();
                        client.batch_execute("COMMIT").unwrap();
                    },
                    BatchSize::PerIteration,
                )
            },
        );
        group.bench_with_input(BenchmarkId::new("strata", &name), &set, |b, set| {
            b.iter_batched(
                empty,
                |()| {
                    set.run(&mut *client.borrow_mut()).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = config(); targets = sqlite, postgres }
criterion_main!(benches);
