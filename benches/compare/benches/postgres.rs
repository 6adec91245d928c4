//! Apply all N migrations to a new PostgreSQL database: strata against the
//! floor, in one run. See BENCHMARKS.md at the root of the repository.
//!
//! The floor is what any tool must do per migration: `BEGIN`, the file as
//! one batch, the history insert (a statement prepared once), `COMMIT`.
//! Needs `STRATA_TEST_POSTGRES_URL` (a role that may create databases);
//! without it, says so and measures nothing.

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use postgres::Client;

use strata::{Migration, Migrations};
use strata_compare::pg::{self, Server};
use strata_compare::{config, smoke};

/// The generated folder of the other benchmarks in PostgreSQL's SQL.
fn set(n: u32) -> Migrations {
    set_of(n, pg::sql)
}

/// N migrations whose files do nothing (`SELECT 1`): what a tool adds per
/// migration, without the server's work on the schema, which varies more
/// between runs than that.
fn empty_set(n: u32) -> Migrations {
    set_of(n, |_| ("SELECT 1;\n".to_owned(), "SELECT 1;\n".to_owned()))
}

fn set_of(n: u32, sql: impl Fn(u32) -> (String, String)) -> Migrations {
    let list = (1..=n).map(|v| {
        let (up, down) = sql(v);
        Migration::new(u64::from(v), &format!("m{v}"), up, down)
    });
    Migrations::new("migrations", list).unwrap()
}

/// The floor: per migration `BEGIN`, the file, the history insert,
/// `COMMIT`; four round trips.
fn floor(client: &mut Client, set: &Migrations) {
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, \
             checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .unwrap();
    let insert = client
        .prepare("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
        .unwrap();
    for m in set.iter() {
        client.batch_execute("BEGIN").unwrap();
        client.batch_execute(m.up_sql()).unwrap();
        client
            .execute(
                &insert,
                &[&(m.version() as i64), &m.name(), &m.checksum().to_hex()],
            )
            .unwrap();
        client.batch_execute("COMMIT").unwrap();
    }
}

fn apply(c: &mut Criterion) {
    let Some(server) = Server::new("strata_bench_apply", "the PostgreSQL apply cases") else {
        return;
    };
    apply_in(c, &server, "apply on PostgreSQL", set, false);
    apply_in(
        c,
        &server,
        "apply on PostgreSQL, commits not waited for",
        set,
        true,
    );
    apply_in(
        c,
        &server,
        "apply on PostgreSQL, empty migrations",
        empty_set,
        false,
    );
}

/// The cases of one group. `no_wait`: `synchronous_commit = off` in the
/// session, so that a commit does not wait for its WAL to reach the disk:
/// round trips and the server's work alone, as tmpfs shows SQLite's.
fn apply_in(
    c: &mut Criterion,
    server: &Server,
    group: &str,
    set: fn(u32) -> Migrations,
    no_wait: bool,
) {
    let sizes: &[u32] = if smoke() { &[3] } else { &[10, 100, 1000] };
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    let fresh = || {
        let mut client = server.fresh();
        if no_wait {
            client
                .batch_execute("SET synchronous_commit = off")
                .unwrap();
        }
        client
    };
    for &n in sizes {
        let set = set(n);
        group.bench_with_input(BenchmarkId::new("floor", n), &n, |b, _| {
            b.iter_batched(
                fresh,
                |mut client| floor(&mut client, &set),
                BatchSize::PerIteration,
            )
        });
        group.bench_with_input(BenchmarkId::new("strata", n), &n, |b, _| {
            b.iter_batched(
                fresh,
                |mut client| {
                    set.run(&mut client).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = config(); targets = apply }
criterion_main!(benches);
