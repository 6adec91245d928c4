//! Several processes that start at the same moment and migrate one new
//! database file: all succeed and each version is applied once.
//!
//! The children are this test binary itself, started with the ignored test
//! `child` selected; they block on their standard input until the parent
//! has started every one of them, then run the migrations together.

mod common;

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use strata::Migrations;
use strata::rusqlite::Connection;

const DATABASE: &str = "STRATA_TEST_CHILD_DATABASE";
const FOLDER: &str = "STRATA_TEST_CHILD_FOLDER";
const MIGRATIONS: u64 = 20;

/// Run by the parent test only: without its variables it has nothing to do.
#[test]
#[ignore = "a child process of eight_processes_started_together_apply_each_version_once"]
fn child() {
    let (Some(database), Some(folder)) = (std::env::var_os(DATABASE), std::env::var_os(FOLDER))
    else {
        return;
    };
    let migrations = Migrations::from_dir(folder).unwrap();
    let mut conn = Connection::open(database).unwrap();
    // The barrier: the parent writes a line once every child is started.
    std::io::stdin()
        .lock()
        .read_line(&mut String::new())
        .unwrap();
    match migrations.run(&mut conn) {
        Ok(report) => {
            let versions: Vec<String> = report
                .applied
                .iter()
                .map(|s| s.version.to_string())
                .collect();
            // The harness has printed "test child ... " without a newline.
            println!("\nchild-applied:{}", versions.join(","));
        }
        Err(e) => {
            println!("\nchild-error:{e}");
            std::process::exit(1);
        }
    }
}

/// A folder whose migrations each do some work, so that runs overlap.
fn busy_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for v in 1..=MIGRATIONS {
        let up = format!(
            "CREATE TABLE t{v} (id INTEGER PRIMARY KEY, x TEXT);\n\
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)\n\
             INSERT INTO t{v} (x) SELECT hex(randomblob(16)) FROM n;\n\
             CREATE INDEX t{v}_x ON t{v} (x);\n"
        );
        common::write_files(
            dir.path(),
            &[
                (&format!("{v:04}_t{v}.up.sql"), &up),
                (
                    &format!("{v:04}_t{v}.down.sql"),
                    &format!("DROP TABLE t{v};\n"),
                ),
            ],
        );
    }
    dir
}

fn race(processes: usize, wal: bool) {
    let folder = busy_folder();
    let (_dir, path) = common::database();
    if wal {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "child",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(DATABASE, &path)
                .env(FOLDER, folder.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in &mut children {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
    }
    let mut applied = Vec::new();
    let mut idle = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a child failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("child-applied:"))
            .unwrap_or_else(|| panic!("no report from a child: {stdout}"));
        let versions: Vec<u64> = line
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        if versions.is_empty() {
            idle += 1;
        }
        applied.extend(versions);
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        (1..=MIGRATIONS).collect::<Vec<_>>(),
        "each version applied by exactly one process"
    );
    assert!(idle < processes);
    let conn = Connection::open(&path).unwrap();
    let history = common::history(&conn);
    assert_eq!(history.len() as u64, MIGRATIONS);
    assert!(history.iter().all(|(_, _, dirty)| !dirty));
    assert_eq!(common::count(&conn, "SELECT count(*) FROM t20"), 2000);
}

#[test]
fn eight_processes_started_together_apply_each_version_once() {
    for wal in [false, true] {
        for _ in 0..2 {
            race(8, wal);
        }
    }
}
