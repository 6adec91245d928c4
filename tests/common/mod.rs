//! Small helpers for the integration tests: folders of migrations and
//! database files in temporary directories.
#![allow(dead_code)]

#[cfg(feature = "postgres")]
pub mod drivers;
pub mod lite;
pub mod operate;
#[cfg(feature = "postgres")]
pub mod pg;
#[cfg(feature = "postgres")]
pub mod pg_kinds;
pub mod reliability;

use std::path::{Path, PathBuf};

use strata::Migrations;
use strata::rusqlite::Connection;
use tempfile::TempDir;

/// Writes `files` (name, content) into `dir`, replacing what was there.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

/// A temporary migrations folder holding `files`.
pub fn folder(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    dir
}

/// Reads a folder with the runtime scanner.
pub fn load(dir: &TempDir) -> Migrations {
    Migrations::from_dir(dir.path()).unwrap()
}

/// A path for a new database file in its own temporary directory.
pub fn database() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    (dir, path)
}

pub fn open(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

/// Names of the user tables, sorted.
pub fn tables(conn: &Connection) -> Vec<String> {
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// (version, name, dirty) of every history row.
pub fn history(conn: &Connection) -> Vec<(i64, String, bool)> {
    let mut statement = conn
        .prepare("SELECT version, name, dirty FROM schema_migrations ORDER BY version")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A pair of files creating and dropping table `t{version}`.
pub fn table_pair(version: u64) -> [(String, String); 2] {
    [
        (
            format!("{version:06}_t{version}.up.sql"),
            format!("CREATE TABLE t{version} (id INTEGER PRIMARY KEY);\n"),
        ),
        (
            format!("{version:06}_t{version}.down.sql"),
            format!("DROP TABLE t{version};\n"),
        ),
    ]
}

/// A folder of `table_pair`s for each version.
pub fn tables_folder(versions: impl IntoIterator<Item = u64>) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for version in versions {
        for (name, sql) in table_pair(version) {
            std::fs::write(dir.path().join(name), sql).unwrap();
        }
    }
    dir
}

/// One migration, version 1, whose up file holds a `COMMIT` on line 2: the
/// folder rules refuse it at build time, so it is built by hand, as a
/// migration set made some other way would be. The SQL suits SQLite and
/// PostgreSQL.
pub fn commit_inside() -> Migrations {
    const UP: &str = "CREATE TABLE a (id integer);\nCOMMIT;\nCREATE TABLE b (id integer);\n";
    Migrations::new(
        "hand_made",
        [strata::Migration::new(1, "a", UP, "DROP TABLE a;")],
    )
    .unwrap()
}

/// Sets a SQLite database's journal mode (`delete`, `wal`), and checks
/// that it took.
pub fn set_journal_mode(path: &Path, journal_mode: &str) {
    let conn = Connection::open(path).unwrap();
    let mode: String = conn
        .query_row(&format!("PRAGMA journal_mode = {journal_mode}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode, journal_mode);
}
