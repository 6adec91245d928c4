//! verify beside `up` of the same folder: verify applies each up twice
//! and each down once, so the goal is at most 4x `up`, at every N. See
//! BENCHMARKS.md at the root of the repository for the figures.

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

use strata_compare::{Set, config, fresh, scratch, smoke};

fn verify(c: &mut Criterion) {
    let base = scratch();
    let sizes: &[u32] = if smoke() { &[3] } else { &[50, 200, 1000] };
    let mut group = c.benchmark_group("verify");
    for &n in sizes {
        let set = Set::new(n);
        if n >= 200 {
            group.sample_size(10);
        }
        // `up` as users run it: a new database file on the disk, a
        // transaction per migration.
        group.bench_with_input(BenchmarkId::new("up", n), &n, |b, _| {
            b.iter_batched(
                || fresh(&base),
                |(_d, mut conn)| {
                    set.strata.run(&mut conn).unwrap();
                },
                BatchSize::PerIteration,
            )
        });
        // verify: a scratch database in memory.
        group.bench_with_input(BenchmarkId::new("verify", n), &n, |b, _| {
            b.iter(|| {
                set.strata
                    .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify
}
criterion_main!(benches);
