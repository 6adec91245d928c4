//! What every comparison crate shares: the generated migrations, the smoke
//! switch and criterion's settings. Also read by `benches/async` (through
//! `#[path]`: that crate cannot depend on this one, whose rusqlite sqlx's
//! lock file entry excludes).

use std::time::Duration;

use criterion::Criterion;

/// `STRATA_BENCH_SMOKE=1`: every case once, with tiny N, as CI runs them.
pub fn smoke() -> bool {
    std::env::var_os("STRATA_BENCH_SMOKE").is_some()
}

/// The up and down SQL of migration `v`: a table with an index and three
/// rows; every tenth adds a column to an earlier table instead.
pub fn sql(v: u32) -> (String, String) {
    if v.is_multiple_of(10) {
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
    }
}

/// Criterion as every case runs it.
pub fn config() -> Criterion {
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
