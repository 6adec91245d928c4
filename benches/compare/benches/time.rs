//! Time: strata against the floor and the peers, in one run. See
//! BENCHMARKS.md at the root of the repository for the figures.

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use std::path::Path;

use strata_compare::{Set, config, floor, fresh, scratch, smoke, tmpfs};

/// Apply all N to a new database file: on disk (with fsync), and on tmpfs
/// where the machine has one (CPU cost alone).
fn apply(c: &mut Criterion) {
    apply_in(c, "apply", &scratch());
    if let Some(tmpfs) = tmpfs() {
        apply_in(c, "apply on tmpfs", &tmpfs);
    }
}

fn apply_in(c: &mut Criterion, group: &str, base: &Path) {
    let sizes: &[u32] = if smoke() { &[3] } else { &[10, 100, 1000] };
    let mut group = c.benchmark_group(group);
    for &n in sizes {
        let set = Set::new(n);
        if n >= 1000 {
            group.sample_size(10);
        }
        let mut case = |name: &str, run: &dyn Fn(&mut rusqlite::Connection)| {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter_batched(
                    || fresh(base),
                    |(_d, mut conn)| run(&mut conn),
                    BatchSize::PerIteration,
                )
            });
        };
        // A transaction per migration.
        case("floor", &|conn| floor(conn, &set.strata, false));
        case("strata", &|conn| {
            set.strata.run(conn).unwrap();
        });
        case("refinery", &|conn| {
            refinery::Runner::new(&set.refinery).run(conn).unwrap();
        });
        // One transaction for all.
        case("floor single transaction", &|conn| {
            floor(conn, &set.strata, true)
        });
        case("strata single transaction", &|conn| {
            set.strata
                .runner()
                .single_transaction(true)
                .run(conn)
                .unwrap();
        });
        case("refinery grouped", &|conn| {
            refinery::Runner::new(&set.refinery)
                .set_grouped(true)
                .run(conn)
                .unwrap();
        });
        case("rusqlite_migration", &|conn| {
            set.rusqlite_migration().to_latest(conn).unwrap()
        });
    }
    group.finish();
}

/// What every application pays on every start: the check on a database
/// that is up to date, on an open connection.
fn startup(c: &mut Criterion) {
    let base = scratch();
    let sizes: &[u32] = if smoke() {
        &[3]
    } else {
        &[10, 100, 1000, 10_000]
    };
    let mut group = c.benchmark_group("startup");
    for &n in sizes {
        let set = Set::new(n);
        let rusqlite_migration = set.rusqlite_migration();
        let [(_a, mut strata), (_b, mut refinery), (_c, mut rmig)] = set.applied(&base);
        group.bench_with_input(BenchmarkId::new("PRAGMA user_version", n), &n, |b, _| {
            b.iter(|| {
                strata
                    .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("strata", n), &n, |b, _| {
            b.iter(|| assert!(set.strata.run(&mut strata).unwrap().is_empty()))
        });
        group.bench_with_input(BenchmarkId::new("refinery", n), &n, |b, _| {
            b.iter(|| {
                let report = refinery::Runner::new(&set.refinery)
                    .run(&mut refinery)
                    .unwrap();
                assert!(report.applied_migrations().is_empty());
            })
        });
        group.bench_with_input(BenchmarkId::new("rusqlite_migration", n), &n, |b, _| {
            b.iter(|| rusqlite_migration.to_latest(&mut rmig).unwrap())
        });
    }
    group.finish();
}

/// Status and validation with N applied, and verify with N = 100.
fn inspect(c: &mut Criterion) {
    let base = scratch();
    let sizes: &[u32] = if smoke() { &[3] } else { &[100, 1000] };
    let mut group = c.benchmark_group("inspect");
    for &n in sizes {
        let set = Set::new(n);
        let rusqlite_migration = set.rusqlite_migration();
        let [(_a, mut strata), (_b, mut refinery), (_c, rmig)] = set.applied(&base);
        group.bench_with_input(BenchmarkId::new("strata status", n), &n, |b, _| {
            b.iter(|| set.strata.status(&mut strata).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("strata validate", n), &n, |b, _| {
            b.iter(|| set.strata.runner().validate(&mut strata).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("refinery applied migrations", n),
            &n,
            |b, _| {
                b.iter(|| {
                    refinery::Runner::new(&set.refinery)
                        .get_applied_migrations(&mut refinery)
                        .unwrap()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("rusqlite_migration current version", n),
            &n,
            |b, _| b.iter(|| rusqlite_migration.current_version(&rmig).unwrap()),
        );
    }
    // Verify: every migration applied to a scratch in-memory database.
    // strata goes up and back down, comparing schemas; rusqlite_migration's
    // validate goes up only.
    let n = if smoke() { 3 } else { 100 };
    let set = Set::new(n);
    let rusqlite_migration = set.rusqlite_migration();
    group.bench_with_input(BenchmarkId::new("strata verify", n), &n, |b, _| {
        b.iter(|| {
            set.strata
                .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
                .unwrap()
        })
    });
    group.bench_with_input(
        BenchmarkId::new("rusqlite_migration validate", n),
        &n,
        |b, _| b.iter(|| rusqlite_migration.validate().unwrap()),
    );
    group.finish();
}

criterion_group! { name = benches; config = config(); targets = apply, startup, inspect }
criterion_main!(benches);
