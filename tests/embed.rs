//! What `embed_migrations!` embeds at build time equals what the runtime
//! scanner reads from the same folder at run time.

use strata::{Checksum, Direction, Migrations};

static TESTS: Migrations = strata::embed_migrations!("tests/migrations");
static CHAT: Migrations = strata::embed_migrations!("examples/chat/migrations");

fn assert_same(embedded: &Migrations, folder: &str) {
    let read = Migrations::from_dir(folder).unwrap();
    assert_eq!(embedded.folder(), read.folder());
    assert_eq!(embedded.len(), read.len());
    for (e, r) in embedded.iter().zip(&read) {
        assert_eq!(e.version(), r.version());
        assert_eq!(e.name(), r.name());
        assert_eq!(e.stem(), r.stem());
        assert_eq!(e.up_sql(), r.up_sql());
        assert_eq!(e.down_sql(), r.down_sql());
        assert_eq!(e.checksum(), r.checksum());
        assert_eq!(e.chain(), r.chain());
        assert_eq!(e.irreversible(), r.irreversible());
        for direction in [Direction::Up, Direction::Down] {
            assert_eq!(e.no_transaction(direction), r.no_transaction(direction));
        }
    }
}

#[test]
fn macro_and_runtime_scanner_agree() {
    assert_same(&TESTS, "tests/migrations");
    assert_same(&CHAT, "examples/chat/migrations");
}

#[test]
fn embedded_values_are_what_the_rules_say() {
    let versions: Vec<u64> = TESTS.iter().map(|m| m.version()).collect();
    assert_eq!(versions, [1, 2, 10]);
    let users = TESTS.get(1).unwrap();
    assert_eq!(users.name(), "users");
    assert_eq!(
        TESTS.file_path(users, Direction::Up),
        "tests/migrations/000001_users.up.sql"
    );
    // The file on disk has a byte-order mark and CRLF line endings; the
    // checksum is that of the normalized text, and the SQL has no BOM.
    let raw = std::fs::read_to_string("tests/migrations/000001_users.up.sql").unwrap();
    assert!(raw.starts_with('\u{feff}') && raw.contains("\r\n"));
    let normalized = raw.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    assert_eq!(users.checksum(), Checksum::of_sql(&normalized));
    assert!(!users.up_sql().starts_with('\u{feff}'));
    // The chain runs over the list: gaps between versions do not matter.
    let mut chain = Checksum::ZERO;
    for m in &TESTS {
        chain = chain.chain(m.version(), &m.checksum());
        assert_eq!(m.chain(), chain, "chain of {}", m.version());
    }
    let compact = TESTS.get(10).unwrap();
    assert!(compact.no_transaction(Direction::Up) && compact.irreversible());
    assert_eq!(TESTS.get(3).map(|m| m.version()), None);
}

#[test]
fn from_dir_reports_every_problem_with_the_same_messages() {
    let err = Migrations::from_dir("tests/ui/folders/three_problems").unwrap_err();
    let strata::Error::InvalidFolder {
        folder, problems, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(folder, "tests/ui/folders/three_problems");
    assert_eq!(problems.len(), 3);
    // The compile errors of the UI test carry the same text.
    let stderr = std::fs::read_to_string("tests/ui/fail/three_problems.stderr").unwrap();
    for problem in problems {
        assert!(stderr.contains(&format!("error: {problem}")), "{problem}");
    }
    assert!(
        err.to_string()
            .starts_with("3 problems in migrations folder tests/ui/folders/three_problems:\n  ")
    );
}
