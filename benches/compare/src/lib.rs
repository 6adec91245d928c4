//! What the comparison benchmarks share: the generated folders, in strata's
//! format and refinery's, the floor, and the places database files go.
//!
//! This crate is its own workspace, not a member of strata's: refinery and
//! rusqlite_migration pin their own rusqlite, and only one `libsqlite3-sys`
//! may be linked into a binary, so strata is built here against theirs
//! (strata accepts rusqlite 0.39 to 0.41).

pub mod counting;
pub mod pg;
mod shared;

pub use shared::{config, smoke, sql};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use strata::Migrations;

/// Writes N migrations in strata's (golang-migrate's) format:
/// `000001_m1.up.sql` and `000001_m1.down.sql`.
pub fn write_strata(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for v in 1..=n {
        let (up, down) = sql(v);
        std::fs::write(dir.join(format!("{v:06}_m{v}.up.sql")), up).unwrap();
        std::fs::write(dir.join(format!("{v:06}_m{v}.down.sql")), down).unwrap();
    }
}

/// Writes the same N migrations in refinery's format: `V1__m1.sql` (up
/// only; refinery has no down migrations).
pub fn write_refinery(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for v in 1..=n {
        std::fs::write(dir.join(format!("V{v}__m{v}.sql")), sql(v).0).unwrap();
    }
}

/// One generated folder, loaded by each tool.
pub struct Set {
    _dir: tempfile::TempDir,
    pub strata: Migrations,
    pub refinery: Vec<refinery::Migration>,
    /// The SQL that rusqlite_migration's `M::up` borrows.
    pub sql: Vec<(String, String)>,
}

impl Set {
    pub fn new(n: u32) -> Set {
        let dir = tempfile::tempdir().unwrap();
        write_strata(&dir.path().join("strata"), n);
        write_refinery(&dir.path().join("refinery"), n);
        Set {
            strata: Migrations::from_dir(dir.path().join("strata")).unwrap(),
            refinery: refinery::load_sql_migrations(dir.path().join("refinery")).unwrap(),
            sql: (1..=n).map(sql).collect(),
            _dir: dir,
        }
    }

    /// Three new database files with every migration applied, by strata,
    /// refinery and rusqlite_migration, each in one transaction.
    pub fn applied(&self, base: &Path) -> [(tempfile::TempDir, Connection); 3] {
        let mut strata = fresh(base);
        self.strata
            .runner()
            .single_transaction(true)
            .run(&mut strata.1)
            .unwrap();
        let mut refinery = fresh(base);
        refinery::Runner::new(&self.refinery)
            .set_grouped(true)
            .run(&mut refinery.1)
            .unwrap();
        let mut rusqlite_migration = fresh(base);
        self.rusqlite_migration()
            .to_latest(&mut rusqlite_migration.1)
            .unwrap();
        [strata, refinery, rusqlite_migration]
    }

    /// rusqlite_migration's set: up and down SQL, in order.
    pub fn rusqlite_migration(&self) -> rusqlite_migration::Migrations<'_> {
        rusqlite_migration::Migrations::new(
            self.sql
                .iter()
                .map(|(up, down)| rusqlite_migration::M::up(up).down(down))
                .collect(),
        )
    }
}

/// The floor: the same SQL and one history insert per migration, in one
/// transaction per migration or one for all, with nothing checked. The
/// history table is created inside the first transaction, as strata does:
/// N commits for N migrations (or one), like strata.
pub fn floor(conn: &mut Connection, migrations: &Migrations, single: bool) {
    const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)";
    for (i, m) in migrations.iter().enumerate() {
        if i == 0 || !single {
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        }
        if i == 0 {
            conn.execute_batch(CREATE).unwrap();
        }
        conn.execute_batch(m.up_sql()).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?1, ?2, ?3)",
            (m.version() as i64, m.name(), m.checksum().to_hex()),
        )
        .unwrap();
        if !single || i + 1 == migrations.len() {
            conn.execute_batch("COMMIT").unwrap();
        }
    }
}

/// Where database files go: `STRATA_BENCH_DIR`, else `target/bench-db`
/// here, on the disk (with fsync).
pub fn scratch() -> PathBuf {
    let base = std::env::var_os("STRATA_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-db"));
    std::fs::create_dir_all(&base).unwrap();
    base
}

/// A tmpfs for database files, to see CPU cost without fsync:
/// `STRATA_BENCH_TMPFS`, else /dev/shm where it exists.
pub fn tmpfs() -> Option<PathBuf> {
    let dir = std::env::var_os("STRATA_BENCH_TMPFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/shm"));
    let dir = dir.join("strata-bench");
    std::fs::create_dir_all(&dir).ok().map(|()| dir)
}

/// A new, empty database file.
pub fn fresh(base: &Path) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let conn = Connection::open(dir.path().join("bench.db")).unwrap();
    (dir, conn)
}

/// Counts the commits made on a connection from now on.
pub fn count_commits(conn: &Connection) -> Arc<AtomicU64> {
    let commits = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&commits);
    conn.commit_hook(Some(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        false
    }))
    .unwrap();
    commits
}
