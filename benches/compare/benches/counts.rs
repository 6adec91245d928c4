//! Counts, not time: the commits each tool makes to apply N migrations (a
//! commit hook counts them), and the heap allocations of one startup check
//! on an up-to-date database (a counting global allocator). Both are steady
//! where wall time swings with fsync. Prints Markdown tables.

use std::sync::atomic::Ordering;

use strata_compare::counting::{self, Counting};
use strata_compare::{Set, count_commits, floor, fresh, scratch, smoke};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations made by `f` (this program runs one thread).
fn allocations(f: impl FnOnce()) -> u64 {
    counting::allocations(f).0
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter is not supported here.
    let base = scratch();
    let sizes: &[u32] = if smoke() { &[3] } else { &[10, 100, 1000] };

    println!("## Commits to apply N migrations to a new database\n");
    println!(
        "| N | floor | strata | refinery | floor, single | strata, single | refinery grouped | rusqlite_migration |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for &n in sizes {
        let set = Set::new(n);
        let commits = |apply: &dyn Fn(&mut rusqlite::Connection)| {
            let (_dir, mut conn) = fresh(&base);
            let commits = count_commits(&conn);
            apply(&mut conn);
            commits.load(Ordering::Relaxed)
        };
        let row = [
            commits(&|c| floor(c, &set.strata, false)),
            commits(&|c| {
                set.strata.run(c).unwrap();
            }),
            commits(&|c| {
                refinery::Runner::new(&set.refinery).run(c).unwrap();
            }),
            commits(&|c| floor(c, &set.strata, true)),
            commits(&|c| {
                set.strata.runner().single_transaction(true).run(c).unwrap();
            }),
            commits(&|c| {
                refinery::Runner::new(&set.refinery)
                    .set_grouped(true)
                    .run(c)
                    .unwrap();
            }),
            commits(&|c| set.rusqlite_migration().to_latest(c).unwrap()),
        ];
        let row: Vec<String> = row.iter().map(u64::to_string).collect();
        println!("| {n} | {} |", row.join(" | "));
    }

    let sizes: &[u32] = if smoke() {
        &[3]
    } else {
        &[10, 100, 1000, 10_000]
    };
    println!("\n## Heap allocations of one startup check, up to date\n");
    println!("| N applied | strata | refinery | rusqlite_migration | PRAGMA user_version |");
    println!("| --- | --- | --- | --- | --- |");
    for &n in sizes {
        let set = Set::new(n);
        let rusqlite_migration = set.rusqlite_migration();
        let [(_a, mut strata), (_b, mut refinery), (_c, mut rmig)] = set.applied(&base);
        // The first call fills the connection's statement cache; count the
        // second, as an application that checks on every start pays it.
        let mut strata_run = || assert!(set.strata.run(&mut strata).unwrap().is_empty());
        strata_run();
        let strata_allocations = allocations(strata_run);
        let mut refinery_run = || {
            let report = refinery::Runner::new(&set.refinery)
                .run(&mut refinery)
                .unwrap();
            assert!(report.applied_migrations().is_empty());
        };
        refinery_run();
        let refinery_allocations = allocations(refinery_run);
        let mut rmig_run = || rusqlite_migration.to_latest(&mut rmig).unwrap();
        rmig_run();
        let rmig_allocations = allocations(rmig_run);
        let pragma = || {
            strata
                .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                .unwrap();
        };
        pragma();
        let pragma_allocations = allocations(pragma);
        println!(
            "| {n} | {strata_allocations} | {refinery_allocations} | {rmig_allocations} | {pragma_allocations} |"
        );
    }
}
