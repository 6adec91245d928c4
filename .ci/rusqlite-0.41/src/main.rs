//! strata on rusqlite 0.41: the chat example's migrations applied and
//! verified, transaction control refused as it is prepared (strata's
//! authorizer), a foreign-key violation caught before the commit.

use strata::{Error, Migration, Migrations};

static CHAT: Migrations = strata::embed_migrations!("../../examples/chat/migrations");

fn main() {
    let dir = std::env::temp_dir().join(format!("strata-rusqlite-0-41-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conn = rusqlite::Connection::open(dir.join("app.db")).unwrap();
    let report = CHAT.run(&mut conn).unwrap();
    assert_eq!(report.version, Some(2), "{report}");
    CHAT.verify(&mut rusqlite::Connection::open_in_memory().unwrap())
        .unwrap();

    let commit_inside = Migrations::new(
        "hand_made",
        [Migration::new(
            1,
            "a",
            "CREATE TABLE a (id INTEGER);\nCOMMIT;\n",
            "DROP TABLE a;\n",
        )],
    )
    .unwrap();
    let mut other = rusqlite::Connection::open_in_memory().unwrap();
    let err = commit_inside.run(&mut other).unwrap_err();
    assert!(
        matches!(
            err.failure(),
            Error::TransactionControl { line: Some(2), .. }
        ),
        "{err:?}"
    );

    let dangling = Migrations::new(
        "hand_made",
        [
            Migration::new(
                1,
                "parent_child",
                "CREATE TABLE p (id INTEGER PRIMARY KEY);\n\
                 CREATE TABLE c (p INTEGER REFERENCES p (id));\n\
                 INSERT INTO p VALUES (1);\nINSERT INTO c VALUES (1);\n",
                "DROP TABLE c;\nDROP TABLE p;\n",
            ),
            Migration::new(2, "orphan", "DELETE FROM p;\n", "SELECT 1;\n"),
        ],
    )
    .unwrap();
    let err = dangling.run(&mut other).unwrap_err();
    assert!(
        matches!(err.failure(), Error::ForeignKeyViolation { version: 2, .. }),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    println!(
        "strata on rusqlite 0.41 (SQLite {}): applied, verified, refused, checked",
        rusqlite::version()
    );
}
