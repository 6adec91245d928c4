//! strata's async backend (tokio-postgres) beside `sqlx::migrate!`,
//! refinery's `run_async` and the floor, on the same generated folder and
//! the same PostgreSQL server, in one run. See BENCHMARKS.md at the root
//! of the repository.
//!
//! - "apply": N migrations on a new database (a fresh one per iteration);
//!   also with files that do nothing (`SELECT 1`), where only what each
//!   tool adds per migration is left of the time.
//! - "startup": the check a service runs at every start, on a database
//!   where all N are applied already.
//!
//! The floor is what any tool must do per migration, over tokio-postgres:
//! `BEGIN`, the file as one batch, the history insert (prepared once),
//! `COMMIT`. strata runs with both of its drivers: `run_async` on
//! tokio-postgres and `run` on the synchronous `postgres` crate (outside
//! the runtime: it has its own). sqlx and strata read the same folder (`NNNNNN_mN.up.sql`
//! with its `.down.sql`); refinery reads `VN__mN.sql`. Needs
//! `STRATA_TEST_POSTGRES_URL`; without it, says so and measures nothing.

use std::path::Path;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls};

use strata::Migrations;
use strata_async_compare::pg::{Server, sql};
use strata_async_compare::{config, smoke};

/// A folder of N migrations in strata's (and sqlx's) format and the same
/// in refinery's.
struct Folders {
    strata: tempfile::TempDir,
    refinery: tempfile::TempDir,
}

impl Folders {
    /// The generated folder.
    fn new(n: u32) -> Folders {
        Folders::of(n, sql)
    }

    /// N migrations that do nothing.
    fn empty(n: u32) -> Folders {
        Folders::of(n, |_| ("SELECT 1;\n".to_owned(), "SELECT 1;\n".to_owned()))
    }

    fn of(n: u32, sql: impl Fn(u32) -> (String, String)) -> Folders {
        let (strata, refinery) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for v in 1..=n {
            let (up, down) = sql(v);
            std::fs::write(strata.path().join(format!("{v:06}_m{v}.up.sql")), &up).unwrap();
            std::fs::write(strata.path().join(format!("{v:06}_m{v}.down.sql")), down).unwrap();
            std::fs::write(refinery.path().join(format!("V{v}__m{v}.sql")), up).unwrap();
        }
        Folders { strata, refinery }
    }
}

/// The loaded migrations of each tool.
struct Tools {
    strata: Migrations,
    sqlx: sqlx::migrate::Migrator,
    refinery: refinery::Runner,
}

impl Tools {
    fn load(folders: &Folders, runtime: &Runtime) -> Tools {
        let sqlx = runtime
            .block_on(sqlx::migrate::Migrator::new(folders.strata.path()))
            .unwrap();
        let refinery =
            refinery::Runner::new(&refinery::load_sql_migrations(folders.refinery.path()).unwrap());
        Tools {
            strata: Migrations::from_dir(folders.strata.path()).unwrap(),
            sqlx,
            refinery,
        }
    }
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn connect_sqlx(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.unwrap()
}

/// The floor over tokio-postgres: per migration `BEGIN`, the file, the
/// history insert, `COMMIT`; four round trips.
async fn floor(client: &mut Client, dir: &Path, n: u32) {
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, \
             applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .unwrap();
    let insert = client
        .prepare("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
        .await
        .unwrap();
    for v in 1..=n {
        let up = std::fs::read_to_string(dir.join(format!("{v:06}_m{v}.up.sql"))).unwrap();
        client.batch_execute("BEGIN").await.unwrap();
        client.batch_execute(&up).await.unwrap();
        client
            .execute(&insert, &[&i64::from(v), &format!("m{v}")])
            .await
            .unwrap();
        client.batch_execute("COMMIT").await.unwrap();
    }
}

/// Which tool a case runs.
#[derive(Clone, Copy)]
enum Tool {
    Floor,
    Strata,
    StrataSync,
    Sqlx,
    Refinery,
}

impl Tool {
    const ALL: [(Tool, &'static str); 5] = [
        (Tool::Floor, "floor"),
        (Tool::Strata, "strata run_async"),
        (Tool::StrataSync, "strata run (postgres crate)"),
        (Tool::Sqlx, "sqlx migrate"),
        (Tool::Refinery, "refinery run_async"),
    ];

    /// One run of the tool on the database at `url`, with a connection of
    /// its own, already open (`Conn`).
    async fn run(self, conn: &mut Conn, tools: &Tools, folders: &Folders, n: u32) {
        match (self, conn) {
            (Tool::Floor, Conn::Postgres(client)) => floor(client, folders.strata.path(), n).await,
            (Tool::Strata, Conn::Postgres(client)) => {
                tools.strata.run_async(client).await.unwrap();
            }
            (Tool::Refinery, Conn::Postgres(client)) => {
                tools.refinery.run_async(client).await.unwrap();
            }
            (Tool::Sqlx, Conn::Sqlx(conn)) => tools.sqlx.run(&mut **conn).await.unwrap(),
            (Tool::StrataSync, Conn::Sync(client)) => {
                // Its own runtime inside: not on a thread of this one.
                let strata = &tools.strata;
                std::thread::scope(|s| {
                    s.spawn(|| strata.run(&mut **client).unwrap());
                });
            }
            _ => unreachable!("each tool gets its driver's connection"),
        }
    }

    async fn connect(self, url: &str) -> Conn {
        match self {
            Tool::Sqlx => Conn::Sqlx(Box::new(connect_sqlx(url).await)),
            Tool::StrataSync => {
                let url = url.to_owned();
                let client =
                    std::thread::spawn(move || postgres::Client::connect(&url, postgres::NoTls))
                        .join()
                        .unwrap()
                        .unwrap();
                Conn::Sync(Box::new(client))
            }
            _ => Conn::Postgres(connect(url).await),
        }
    }
}

enum Conn {
    Postgres(Client),
    Sqlx(Box<sqlx::PgConnection>),
    Sync(Box<postgres::Client>),
}

fn apply(c: &mut Criterion) {
    let Some(server) = Server::new("strata_bench_async", "the async PostgreSQL cases") else {
        return;
    };
    let runtime = Runtime::new().unwrap();
    let sizes: &[u32] = if smoke() { &[3] } else { &[100, 1000] };
    apply_group(
        c,
        &server,
        &runtime,
        "apply on PostgreSQL, async",
        sizes,
        Folders::new,
    );
    let sizes: &[u32] = if smoke() { &[3] } else { &[1000] };
    apply_group(
        c,
        &server,
        &runtime,
        "apply on PostgreSQL, async, empty migrations",
        sizes,
        Folders::empty,
    );

    // Startup: every migration applied already; each tool's check, on a
    // connection that stays open, as a service's would.
    let n = if smoke() { 3 } else { 100 };
    let folders = Folders::new(n);
    let tools = Tools::load(&folders, &runtime);
    let mut group = c.benchmark_group("startup on PostgreSQL, async, up to date");
    for (tool, name) in Tool::ALL.into_iter().skip(1) {
        server.renew();
        let mut conn = runtime.block_on(tool.connect(&server.url));
        runtime.block_on(tool.run(&mut conn, &tools, &folders, n));
        group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
            b.iter(|| runtime.block_on(tool.run(&mut conn, &tools, &folders, n)))
        });
    }
    group.finish();
}

/// One group: each tool applies N migrations of `folders` to a new
/// database, for each N of `sizes`.
fn apply_group(
    c: &mut Criterion,
    server: &Server,
    runtime: &Runtime,
    name: &str,
    sizes: &[u32],
    folders: fn(u32) -> Folders,
) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for &n in sizes {
        let folders = folders(n);
        let tools = Tools::load(&folders, runtime);
        for (tool, name) in Tool::ALL {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter_batched(
                    || {
                        server.renew();
                        runtime.block_on(tool.connect(&server.url))
                    },
                    |mut conn| runtime.block_on(tool.run(&mut conn, &tools, &folders, n)),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group! { name = benches; config = config(); targets = apply }
criterion_main!(benches);
