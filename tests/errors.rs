//! The message of every folder problem that the UI tests do not reach, as a
//! user reads it. (Every error variant's message is tested beside the
//! variants, in the runtime's `error/tests.rs`.)

use strata::Problem;

#[test]
fn problems_not_covered_by_the_ui_tests() {
    let cases = [
        (
            Problem::Unreadable {
                path: "migrations/1_a.up.sql".into(),
                reason: "permission denied".into(),
            },
            "cannot read migrations/1_a.up.sql: permission denied (check that it exists and is readable)",
        ),
        (
            Problem::NameNotUtf8 {
                file: "migrations/1_\u{fffd}.up.sql".into(),
            },
            "the name of migrations/1_\u{fffd}.up.sql is not valid UTF-8 (rename it; names are VERSION_NAME.up.sql and VERSION_NAME.down.sql, such as 000001_init.up.sql)",
        ),
        (
            Problem::NulByte {
                file: "migrations/1_a.up.sql".into(),
                line: 2,
            },
            "migrations/1_a.up.sql:2: the file holds a NUL byte, where SQLite would stop reading and PostgreSQL refuses the file (remove it; write `char(0)` or `'\\x00'::bytea` for a zero value)",
        ),
        (
            Problem::NoName {
                file: "migrations/000001.up.sql".into(),
            },
            "migrations/000001.up.sql has no name after the version (names are VERSION_NAME.up.sql and VERSION_NAME.down.sql, such as 000001_init.up.sql)",
        ),
        (
            Problem::BadName {
                file: "migrations/1init.up.sql".into(),
            },
            "migrations/1init.up.sql is not a migration file name (names are VERSION_NAME.up.sql and VERSION_NAME.down.sql, such as 000001_init.up.sql)",
        ),
    ];
    for (problem, expected) in cases {
        assert_eq!(problem.to_string(), expected);
    }
}
