//! Bad input, at build time and at run time: each malformed folder is
//! rejected with its own message or accepted as documented, and each bad
//! database gives its typed error and stays as it was.
//!
//! The folders go through the runtime scanner, which is the macro's (the UI
//! tests and `tests/embed.rs` show that the two agree).

mod common;

use std::path::Path;

use common::*;
use strata::Migrations;
use strata::Problem;

const UP: &str = "CREATE TABLE t (id INTEGER);\n";
const DOWN: &str = "DROP TABLE t;\n";

/// What a folder must give.
enum Expect {
    /// Accepted, with these versions.
    Versions(&'static [u64]),
    /// Rejected; every problem's message contains one of these, in order.
    Problems(&'static [&'static str]),
}

fn pair(dir: &Path, stem: &str) {
    std::fs::write(dir.join(format!("{stem}.up.sql")), UP).unwrap();
    std::fs::write(dir.join(format!("{stem}.down.sql")), DOWN).unwrap();
}

type Setup = fn(&Path);

fn cases() -> Vec<(&'static str, Setup, Expect)> {
    use Expect::*;
    vec![
        ("empty folder", |_| {}, Versions(&[])),
        ("one good pair", |d| pair(d, "000001_init"), Versions(&[1])),
        (
            "missing down",
            |d| std::fs::write(d.join("000001_a.up.sql"), UP).unwrap(),
            Problems(&["missing down file"]),
        ),
        (
            "down without up",
            |d| std::fs::write(d.join("000001_a.down.sql"), DOWN).unwrap(),
            Problems(&["has no up file"]),
        ),
        (
            "single file",
            |d| std::fs::write(d.join("001_rooms.sql"), UP).unwrap(),
            Problems(&["neither an up nor a down file"]),
        ),
        (
            "dash separator",
            |d| pair(d, "0001-init"),
            Problems(&["not a dash", "not a dash"]),
        ),
        (
            "uppercase direction",
            |d| std::fs::write(d.join("000001_a.UP.sql"), UP).unwrap(),
            Problems(&["are lowercase"]),
        ),
        (
            "uppercase extension",
            |d| std::fs::write(d.join("000001_a.up.SQL"), UP).unwrap(),
            Problems(&["are lowercase"]),
        ),
        (
            "no version",
            |d| pair(d, "init"),
            Problems(&["has no version", "has no version"]),
        ),
        (
            "no name",
            |d| pair(d, "000001_"),
            Problems(&["has no name", "has no name"]),
        ),
        (
            "letters after the version",
            |d| pair(d, "1a_x"),
            Problems(&[
                "is not a migration file name",
                "is not a migration file name",
            ]),
        ),
        (
            "version beyond u64",
            |d| pair(d, "18446744073709551616_x"),
            Problems(&["is larger than", "is larger than"]),
        ),
        (
            "forty-digit version",
            |d| pair(d, "1234567890123456789012345678901234567890_x"),
            Problems(&["is larger than", "is larger than"]),
        ),
        (
            "version just above i64",
            |d| pair(d, "9223372036854775808_x"),
            Problems(&["is larger than", "is larger than"]),
        ),
        (
            "largest version",
            |d| pair(d, "9223372036854775807_max"),
            Versions(&[9223372036854775807]),
        ),
        ("version zero", |d| pair(d, "0_zero"), Versions(&[0])),
        (
            "duplicate version, other width",
            |d| {
                pair(d, "1_a");
                pair(d, "0001_b");
            },
            Problems(&["is used more than once"]),
        ),
        (
            "mixed widths, distinct versions",
            |d| {
                pair(d, "1_a");
                pair(d, "000002_b");
                pair(d, "20260101000000_c");
            },
            Versions(&[1, 2, 20260101000000]),
        ),
        (
            "name mismatch",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), UP).unwrap();
                std::fs::write(d.join("1_b.down.sql"), DOWN).unwrap();
            },
            Problems(&["share a version but not a name"]),
        ),
        (
            "empty up",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), "-- nothing\n;\n").unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["has no SQL"]),
        ),
        (
            "empty down",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), UP).unwrap();
                std::fs::write(d.join("1_a.down.sql"), "  \n").unwrap();
            },
            Problems(&["has no SQL"]),
        ),
        (
            "irreversible down",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), UP).unwrap();
                std::fs::write(d.join("1_a.down.sql"), "-- strata:irreversible\n").unwrap();
            },
            Versions(&[1]),
        ),
        (
            "irreversible up",
            |d| {
                std::fs::write(
                    d.join("1_a.up.sql"),
                    format!("-- strata:irreversible\n{UP}"),
                )
                .unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["belongs in the down file"]),
        ),
        (
            "unknown directive",
            |d| {
                std::fs::write(
                    d.join("1_a.up.sql"),
                    format!("-- strata:notransaction\n{UP}"),
                )
                .unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["unknown directive"]),
        ),
        (
            "directive after SQL",
            |d| {
                std::fs::write(
                    d.join("1_a.up.sql"),
                    format!("{UP}-- strata:no-transaction\n"),
                )
                .unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["comes after SQL"]),
        ),
        (
            "invalid UTF-8",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), b"SELECT '\xff';\n").unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["is not valid UTF-8"]),
        ),
        (
            "a NUL byte, where SQLite would stop reading",
            |d| {
                std::fs::write(
                    d.join("1_a.up.sql"),
                    b"CREATE TABLE t (id INTEGER);\n\0\nCREATE TABLE u (id INTEGER);\n",
                )
                .unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["1_a.up.sql:2: the file holds a NUL byte"]),
        ),
        (
            "commit in a transactional file",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), format!("{UP}COMMIT;\n")).unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Problems(&["begins, ends or nests a transaction"]),
        ),
        (
            "commit in a no-transaction file",
            |d| {
                std::fs::write(
                    d.join("1_a.up.sql"),
                    format!("-- strata:no-transaction\nBEGIN;\n{UP}COMMIT;\n"),
                )
                .unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Versions(&[1]),
        ),
        (
            "trigger body with BEGIN and END",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), "CREATE TABLE t (x);\nCREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END;\n").unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Versions(&[1]),
        ),
        (
            "BOM in the content",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), format!("\u{feff}{UP}")).unwrap();
                std::fs::write(d.join("1_a.down.sql"), DOWN).unwrap();
            },
            Versions(&[1]),
        ),
        (
            "BOM in the file name",
            |d| pair(d, "\u{feff}1_a"),
            Problems(&["has no version", "has no version"]),
        ),
        (
            "hidden files are skipped",
            |d| {
                pair(d, "1_a");
                pair(d, ".2_hidden");
                std::fs::write(d.join("._1_a.up.sql"), "garbage").unwrap();
            },
            Versions(&[1]),
        ),
        (
            "editor leftovers are skipped",
            |d| {
                pair(d, "1_a");
                std::fs::write(d.join("1_a.up.sql~"), "x").unwrap();
                std::fs::write(d.join("1_a.up.sql.bak"), "x").unwrap();
                std::fs::write(d.join("1_a.up.sql.swp"), "x").unwrap();
            },
            Versions(&[1]),
        ),
        (
            "subfolder named like a migration is skipped",
            |d| {
                pair(d, "1_a");
                std::fs::create_dir(d.join("2_b.up.sql")).unwrap();
            },
            Versions(&[1]),
        ),
        (
            "symlink to a file is followed",
            |d| {
                pair(d, "1_a");
                let elsewhere = d.join("elsewhere");
                std::fs::create_dir(&elsewhere).unwrap();
                std::fs::write(elsewhere.join("two.sql.txt"), UP.replace('t', "u")).unwrap();
                std::os::unix::fs::symlink(elsewhere.join("two.sql.txt"), d.join("2_b.up.sql"))
                    .unwrap();
                std::fs::write(d.join("2_b.down.sql"), "DROP TABLE u;").unwrap();
            },
            Versions(&[1, 2]),
        ),
        (
            "dangling symlink",
            |d| {
                pair(d, "1_a");
                std::os::unix::fs::symlink(d.join("nowhere"), d.join("2_b.up.sql")).unwrap();
                std::fs::write(d.join("2_b.down.sql"), DOWN).unwrap();
            },
            Problems(&["cannot read"]),
        ),
        (
            "very large file",
            |d| {
                let mut big = String::from("CREATE TABLE big (x TEXT);\n");
                while big.len() < 8 << 20 {
                    big.push_str(
                        "INSERT INTO big VALUES ('0123456789012345678901234567890123456789');\n",
                    );
                }
                std::fs::write(d.join("1_big.up.sql"), big).unwrap();
                std::fs::write(d.join("1_big.down.sql"), "DROP TABLE big;").unwrap();
            },
            Versions(&[1]),
        ),
        (
            "three problems at once",
            |d| {
                std::fs::write(d.join("1_a.up.sql"), UP).unwrap();
                pair(d, "2-b");
                std::fs::write(d.join("3_c.up.sql"), "").unwrap();
                std::fs::write(d.join("3_c.down.sql"), DOWN).unwrap();
            },
            Problems(&[
                "not a dash",
                "not a dash",
                "missing down file",
                "has no SQL",
            ]),
        ),
    ]
}

#[test]
fn malformed_folders_are_rejected_with_their_own_message_or_accepted_as_documented() {
    let cases = cases();
    let mut tried = 0;
    for (what, setup, expect) in &cases {
        let dir = tempfile::tempdir().unwrap();
        setup(dir.path());
        let result = Migrations::from_dir(dir.path());
        match (expect, result) {
            (Expect::Versions(versions), Ok(found)) => {
                let found: Vec<u64> = found.iter().map(|m| m.version()).collect();
                assert_eq!(found, *versions, "{what}");
            }
            (Expect::Problems(expected), Err(strata::Error::InvalidFolder { problems, .. })) => {
                let messages: Vec<String> = problems.iter().map(Problem::to_string).collect();
                assert_eq!(messages.len(), expected.len(), "{what}: {messages:#?}");
                for (message, part) in messages.iter().zip(*expected) {
                    assert!(message.contains(part), "{what}: {message:?} lacks {part:?}");
                    assert!(
                        message.contains(&dir.path().display().to_string()),
                        "{what}: {message} names no file"
                    );
                }
            }
            (_, other) => panic!("{what}: {other:?}"),
        }
        tried += 1;
    }
    assert!(tried >= 30);
    println!(
        "bad input at build time: {tried} folders, each rejected with its own message or accepted as documented"
    );
}

#[test]
fn a_full_disk_fails_the_migration_and_keeps_the_database() {
    let folder = tables_folder([1]);
    let mut big = String::from("CREATE TABLE big (x TEXT);\n");
    for _ in 0..200 {
        big.push_str("INSERT INTO big VALUES (hex(randomblob(2000)));\n");
    }
    write_files(
        folder.path(),
        &[
            ("000002_big.up.sql", &big),
            ("000002_big.down.sql", "DROP TABLE big;"),
        ],
    );
    let (_dir, path) = database();
    let migrations = load(&folder);
    migrations.runner().target(1).run(&mut open(&path)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut conn = open(&path);
    // SQLite's own way to make the disk full: no page past this count.
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    conn.query_row(
        &format!("PRAGMA max_page_count = {}", pages + 20),
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap();
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(
            &err,
            strata::Error::Storage {
                fault: strata::StorageFault::DiskFull,
                version: Some(2),
                file: Some(file),
                ..
            } if file.ends_with("000002_big.up.sql")
        ) && err.to_string().contains("could not grow: the disk is full"),
        "{err:?}"
    );
    drop(conn);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
