//! Heap allocations at startup, counted per thread by a wrapper around the
//! system allocator: the embedded set costs none, and the check on an
//! up-to-date database costs the same few whatever the number of
//! migrations. BENCHMARKS.md compares the figures with the peers'.
#![cfg(feature = "sqlite")]
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{database, open, tables_folder};
use strata::Migrations;

/// The system allocator, counting the allocations of each thread (tests run
/// on threads of their own).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    // During thread teardown the counter may be gone; nothing to count then.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (ALLOCATIONS.with(Cell::get) - before, value)
}

static EMBEDDED: Migrations = strata::embed_migrations!("tests/migrations");

#[test]
fn the_embedded_set_allocates_nothing() {
    let (count, bytes) = allocations(|| {
        let set = std::hint::black_box(&EMBEDDED);
        let mut bytes = 0;
        for m in set {
            bytes += m.up_sql().len() + m.down_sql().len();
            bytes += m.name().len() + m.checksum().as_bytes().len();
        }
        bytes += set.folder().len();
        bytes
    });
    assert!(bytes > 0);
    assert_eq!(count, 0, "reading the embedded set allocated");
}

/// Allocations of the second check of an up-to-date database holding N
/// applied migrations (the first fills the connection's statement cache).
fn startup_allocations(n: u64) -> u64 {
    let folder = tables_folder(1..=n);
    let migrations = Migrations::from_dir(folder.path()).unwrap();
    let (_dir, path) = database();
    let mut conn = open(&path);
    migrations
        .runner()
        .single_transaction(true)
        .run(&mut conn)
        .unwrap();
    assert!(migrations.run(&mut conn).unwrap().is_empty());
    let (count, report) = allocations(|| migrations.run(&mut conn).unwrap());
    assert!(report.is_empty());
    assert_eq!(report.version, Some(n));
    count
}

#[test]
fn the_startup_check_allocates_the_same_whatever_the_number_of_migrations() {
    let few = startup_allocations(10);
    let many = startup_allocations(1000);
    assert_eq!(few, many);
    // A handful: the boxed backend, the quoted table name and the query's
    // text, and rusqlite's statement cache. Not one per migration.
    assert!(few < 10, "{few} allocations");
}
