//! `verify` on SQLite compares everything that makes two schemas behave
//! differently, names each difference as object and property, raises no
//! false alarm for a difference in writing only, and checks every
//! migration, going on after every kind of problem.

mod common;

use common::*;
use strata::{Error, VerifyFailure, VerifyFailures};

/// One kind of schema property: a table `t` (with what else it needs)
/// that migration 1 creates; migration 2's up changes it (by default it
/// adds a column); a wrong down that rebuilds it without the property,
/// named in `expected`; and a right down that rebuilds it, written
/// differently (case, quotes, white space, comments), which must pass.
struct Kind {
    name: &'static str,
    base: &'static str,
    up: Option<&'static str>,
    wrong: &'static str,
    right: &'static str,
    expected: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "column collation",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE UNIQUE);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE);",
        right: "DROP TABLE t; CREATE TABLE \"t\" (\"id\" integer primary key, name text collate nocase unique);",
        expected: "t.name: collation NOCASE -> BINARY after 2_change.down.sql",
    },
    Kind {
        name: "column type",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, n integer);",
        expected: "t.n: type INTEGER -> TEXT after",
    },
    Kind {
        name: "not null",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT NOT NULL);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT NOT NULL);",
        expected: "t.n: not null yes -> no after",
    },
    Kind {
        name: "default",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT DEFAULT 'a');",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT DEFAULT 'b');",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT DEFAULT ('a'));",
        expected: "t.n: default 'a' -> 'b' after",
    },
    Kind {
        name: "column check",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, age INT CHECK (age >= 0));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, age INT);",
        // A table check is the same constraint.
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, age INT, CHECK(age>=0));",
        expected: "table t: check (age >= 0) missing after",
    },
    Kind {
        name: "named table check",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, CONSTRAINT ordered CHECK (a < b));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, CHECK (a <= b));",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, constraint \"ordered\" check (a<b));",
        expected: "table t: check ordered (a < b) missing after",
    },
    Kind {
        name: "autoincrement",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);",
        right: "DROP TABLE t; CREATE TABLE t (id integer primary key autoincrement, x text);",
        expected: "t.id: autoincrement yes -> no after",
    },
    Kind {
        name: "stored generated column",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT GENERATED ALWAYS AS (a * 2) STORED);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT GENERATED ALWAYS AS (a * 2) VIRTUAL);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT AS (a*2) STORED);",
        expected: "t.b: generated (a * 2) STORED -> (a * 2) VIRTUAL after",
    },
    Kind {
        name: "generated column left behind",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT);",
        up: Some("ALTER TABLE t ADD COLUMN c INT AS (a + 1);"),
        wrong: "SELECT 1;",
        right: "ALTER TABLE t DROP COLUMN c;",
        expected: "table t: column c (INT GENERATED ALWAYS AS (a + 1) VIRTUAL) left behind",
    },
    Kind {
        name: "foreign key action",
        base: "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE CASCADE);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id));",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES \"p\" (id) ON DELETE CASCADE);",
        expected: "table t: foreign key (pid) -> p (id) ON UPDATE NO ACTION ON DELETE CASCADE missing after",
    },
    Kind {
        name: "unique constraint",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, UNIQUE (a, b));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, unique(a,b));",
        expected: "table t: unique (a, b) missing after",
    },
    Kind {
        name: "primary key",
        base: "CREATE TABLE t (a TEXT, b TEXT, PRIMARY KEY (a, b));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (a TEXT, b TEXT, PRIMARY KEY (b, a));",
        right: "DROP TABLE t; CREATE TABLE t (a TEXT, b TEXT, PRIMARY KEY (a, b));",
        expected: "table t: primary key (a, b) missing after",
    },
    Kind {
        name: "without rowid",
        base: "CREATE TABLE t (id TEXT PRIMARY KEY) WITHOUT ROWID;",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id TEXT PRIMARY KEY);",
        right: "DROP TABLE t; CREATE TABLE t (id TEXT PRIMARY KEY) without rowid;",
        expected: "table t: without rowid missing after",
    },
    Kind {
        name: "index sort order",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_at ON t (at DESC);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_at ON t (at);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX \"t_at\" ON t(at desc);",
        expected: "index t_at is defined differently after 2_change.down.sql: on t (at), was on t (at DESC)",
    },
    Kind {
        name: "index collation",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_at ON t (at COLLATE NOCASE);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_at ON t (at);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_at ON t (at collate nocase);",
        expected: "was on t (at COLLATE NOCASE)",
    },
    Kind {
        name: "partial index",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT, gone INT); CREATE INDEX t_live ON t (at) WHERE gone IS NULL;",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT, gone INT); CREATE INDEX t_live ON t (at);",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT, gone INT); CREATE INDEX t_live ON t (at) where \"gone\" is null;",
        expected: "was on t (at) WHERE gone is null",
    },
    Kind {
        name: "expression index",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_day ON t (substr(at, 1, 10));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_day ON t (substr(at, 1, 7));",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE INDEX t_day ON t (SUBSTR(at,1,10));",
        expected: "was on t (substr(at, 1, 10))",
    },
    Kind {
        name: "view",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE VIEW v AS SELECT id FROM t WHERE at > '2020';",
        up: Some("DROP VIEW v; CREATE VIEW v AS SELECT id, at FROM t;"),
        wrong: "DROP VIEW v; CREATE VIEW v AS SELECT id FROM t;",
        right: "DROP VIEW v; CREATE VIEW v AS\n  select id -- the key\n  from t where at>'2020';",
        expected: "view v is defined differently after 2_change.down.sql",
    },
    Kind {
        name: "trigger",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE TRIGGER stamp AFTER INSERT ON t BEGIN UPDATE t SET at = 'now' WHERE id = new.id; END;",
        up: Some("DROP TRIGGER stamp;"),
        wrong: "CREATE TRIGGER stamp AFTER INSERT ON t BEGIN UPDATE t SET at = 'NOW' WHERE id = new.id; END;",
        right: "CREATE TRIGGER stamp AFTER INSERT ON \"t\"\nBEGIN\n  UPDATE t SET at = 'now' WHERE id = NEW.id;\nEND;",
        expected: "trigger stamp is defined differently after 2_change.down.sql",
    },
    Kind {
        name: "deferred foreign key",
        base: "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id));",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p(id) deferrable initially deferred);",
        expected: "table t: foreign key (pid) initially deferred missing after",
    },
    Kind {
        name: "primary key conflict clause",
        base: "CREATE TABLE t (a INT PRIMARY KEY ON CONFLICT REPLACE);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (a INT PRIMARY KEY);",
        right: "DROP TABLE t; CREATE TABLE t (a INT, PRIMARY KEY (a) ON CONFLICT REPLACE);",
        expected: "table t: primary key (a) on conflict REPLACE missing after",
    },
    Kind {
        name: "unique conflict clause",
        base: "CREATE TABLE t (a INT UNIQUE ON CONFLICT IGNORE);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (a INT UNIQUE);",
        right: "DROP TABLE t; CREATE TABLE t (a INT, UNIQUE (a) on conflict ignore);",
        expected: "table t: unique (a) on conflict IGNORE missing after",
    },
    Kind {
        name: "a quoted name that unquoted means another",
        base: "CREATE TABLE t (a INT, \"t.a\" INT, CHECK (\"t.a\" > 0));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (a INT, \"t.a\" INT, CHECK (t.a > 0));",
        right: "DROP TABLE t; CREATE TABLE t (a INT, \"t.a\" INT, check (\"t.a\">0));",
        expected: "table t: check (\"t.a\" > 0) missing after",
    },
    Kind {
        name: "a double-quoted string",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CHECK (a <> \"X\"));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CHECK (a <> \"x\"));",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CHECK(a<>\"X\"));",
        expected: "table t: check (a <> \"X\") missing after",
    },
    Kind {
        name: "a blob and a name",
        base: "CREATE TABLE t (x INT); CREATE VIEW v AS SELECT x'41' FROM t;",
        up: Some("DROP VIEW v; CREATE VIEW v AS SELECT 1 FROM t;"),
        wrong: "DROP VIEW v; CREATE VIEW v AS SELECT x '41' FROM t;",
        // (`X'41'` would name the view's column `X'41'`, another name.)
        right: "DROP VIEW v; CREATE VIEW v AS SELECT x'41' FROM \"t\";",
        expected: "view v is defined differently after 2_change.down.sql",
    },
    Kind {
        name: "a deferral written after another clause",
        base: "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT NOT NULL REFERENCES p (id));",
        up: None,
        // SQLite applies a deferral clause to the table's latest foreign
        // key, wherever it stands.
        wrong: "DROP TABLE t; CREATE TABLE t (a INT REFERENCES p (id) NOT NULL DEFERRABLE INITIALLY DEFERRED);",
        right: "DROP TABLE t; CREATE TABLE t (a INT REFERENCES p (id) NOT NULL NOT DEFERRABLE);",
        expected: "table t: foreign key (a) initially deferred left behind by 2_change.down.sql",
    },
    Kind {
        name: "a view's column named by its expression",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE VIEW v AS SELECT id+1 FROM t;",
        up: Some("DROP VIEW v; CREATE VIEW v AS SELECT id+1 AS next FROM t;"),
        wrong: "DROP VIEW v; CREATE VIEW v AS SELECT id + 1 FROM t;",
        right: "DROP VIEW v; CREATE VIEW v AS\n  select id+1 FROM [t];",
        expected: "view v is defined differently after 2_change.down.sql: create view v as select id + 1 from t (columns id + 1), was create view v as select id + 1 from t (columns id+1)",
    },
    Kind {
        name: "a view whose table is gone",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY);",
        up: Some("CREATE TABLE u (id INT); CREATE VIEW w AS SELECT id FROM u;"),
        wrong: "DROP TABLE u;",
        right: "DROP VIEW w; DROP TABLE u;",
        expected: "view w left behind by 2_change.down.sql",
    },
    Kind {
        name: "user_version",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;",
        up: Some("PRAGMA user_version = 2;"),
        wrong: "SELECT 1;",
        right: "pragma USER_VERSION=1;",
        expected: "pragma user_version is defined differently after 2_change.down.sql: 2, was 1",
    },
    Kind {
        name: "application_id",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY);",
        up: Some("PRAGMA application_id = 1234;"),
        wrong: "SELECT 1;",
        right: "PRAGMA application_id = 0;",
        expected: "pragma application_id is defined differently after 2_change.down.sql: 1234, was 0",
    },
    Kind {
        name: "a name as a default",
        base: "CREATE TABLE t (a TEXT DEFAULT X);",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (a TEXT DEFAULT x);",
        right: "DROP TABLE t; CREATE TABLE t (a TEXT DEFAULT 'X');",
        expected: "t.a: default 'X' -> 'x' after",
    },
    Kind {
        name: "parentheses that group against precedence",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, CHECK ((a + b) * 2 > 0));",
        up: None,
        wrong: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, CHECK (a + b * 2 > 0));",
        right: "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT, CHECK (((a + b) * 2 > 0)));",
        expected: "table t: check ((a + b) * 2 > 0) missing after",
    },
];

/// Downs that rebuild the table in other words, which SQLite reads the
/// same: no difference.
const SAME: &[(&str, &str)] = &[
    // Parentheses around a whole expression, which SQLite's parser drops
    // (found by a new user's trial: each was a false alarm).
    (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, d INT, a INT CHECK (a >= 0), g INT AS (a + 1), n INT DEFAULT (1 + 1));
         CREATE UNIQUE INDEX o ON t (s) WHERE d IS NULL;
         CREATE VIEW v AS SELECT a FROM t WHERE a > 0;",
        "DROP VIEW v; DROP TABLE t;
         CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, d INT, a INT CHECK ((a >= 0)), g INT AS ((a + 1)), n INT DEFAULT ((1 + 1)));
         CREATE UNIQUE INDEX o ON t (s) WHERE (d IS NULL);
         CREATE VIEW v AS SELECT a FROM t WHERE (a > 0);",
    ),
    (
        "CREATE TABLE t (a DECIMAL(10,2));",
        "DROP TABLE t; CREATE TABLE t (a decimal( 10, 2 ));",
    ),
    // The case of a table's or an index's name (a column's is how a query
    // names its result column: see `a_column_name_in_another_case_is_named`).
    (
        "CREATE TABLE T (id INTEGER PRIMARY KEY); CREATE INDEX I ON T (id);",
        "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE INDEX i ON t (ID);",
    ),
    (
        "CREATE TABLE t (a TEXT DEFAULT NULL, b INT DEFAULT +1, c TEXT DEFAULT \"abc\");",
        "DROP TABLE t; CREATE TABLE t (a TEXT, b INT DEFAULT 1, c TEXT DEFAULT 'abc');",
    ),
    // A view's and a trigger's names are looked up in `main`, written so
    // or not.
    (
        "CREATE TABLE t (id INT); CREATE VIEW v AS SELECT id FROM main.t;
         CREATE TRIGGER tr AFTER INSERT ON main.t BEGIN SELECT main.t.id FROM main.t; END;",
        "ALTER TABLE t DROP COLUMN extra; DROP VIEW v; DROP TRIGGER tr;
         CREATE VIEW v AS SELECT id FROM \"main\".t;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT t.id FROM t; END;",
    ),
    (
        "CREATE TABLE t (a INT DEFAULT true, b INT DEFAULT 0x10, c REAL DEFAULT 1.0, d INT DEFAULT (-01));",
        "DROP TABLE t; CREATE TABLE t (a INT DEFAULT 1, b INT DEFAULT 16, c REAL DEFAULT 10e-1, d INT DEFAULT -1);",
    ),
    (
        "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (pid INT REFERENCES P (ID));",
        "DROP TABLE t; CREATE TABLE t (pid INT REFERENCES p (id));",
    ),
    (
        "CREATE TABLE t (\"a b\" TEXT COLLATE NOCASE, [c] INT CHECK ([c] > 0));",
        "DROP TABLE t; CREATE TABLE t (`a b` TEXT COLLATE nocase, \"c\" INT, CHECK (c>0));",
    ),
    (
        "CREATE TABLE t (a INT UNIQUE ON CONFLICT ABORT NOT NULL ON CONFLICT ABORT);",
        "DROP TABLE t; CREATE TABLE t (a INT UNIQUE NOT NULL);",
    ),
    (
        "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT REFERENCES p (id), b INT DEFERRABLE INITIALLY DEFERRED);",
        "DROP TABLE t; CREATE TABLE t (a INT REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED, b INT);",
    ),
    (
        "CREATE TABLE t (a BLOB CHECK (a <> x'4A'));",
        "DROP TABLE t; CREATE TABLE t (a BLOB CHECK (a <> X'4a'));",
    ),
    (
        "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, pid INT REFERENCES p);",
        "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id));",
    ),
    (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE TRIGGER stamp AFTER INSERT ON t FOR EACH ROW BEGIN UPDATE t SET at = 'x' WHERE id = new.id; END;",
        "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT); CREATE TRIGGER stamp AFTER INSERT ON t BEGIN UPDATE t SET at = 'x' WHERE id = new.id; END;",
    ),
];

/// A column declared in another case is another name to a query's result
/// (`SELECT *` names its columns as declared, and an application that maps
/// rows by name reads that), though not to SQLite's own name look-ups:
/// named, for a table's column and a view's (found by a new user's trial,
/// where both passed).
#[test]
fn a_column_name_in_another_case_is_named() {
    let table = Kind {
        name: "column name case",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, userName TEXT);",
        up: None,
        wrong: "CREATE TABLE t2 (id INTEGER PRIMARY KEY, username TEXT); INSERT INTO t2 SELECT id, userName FROM t; DROP TABLE t; ALTER TABLE t2 RENAME TO t;",
        right: "ALTER TABLE t DROP COLUMN extra;",
        expected: "t.username: written as userName -> username after 2_change.down.sql",
    };
    let view = Kind {
        name: "view column name case",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); CREATE VIEW v AS SELECT id, name AS userName FROM t;",
        up: Some("DROP VIEW v; CREATE VIEW v AS SELECT id FROM t;"),
        wrong: "DROP VIEW v; CREATE VIEW v AS SELECT id, name AS USERNAME FROM t;",
        right: "DROP VIEW v; CREATE VIEW v AS\n  select ID, name as userName from T;",
        expected: "(columns id, USERNAME), was",
    };
    for kind in [table, view] {
        let err = load(&folder_for(&kind, kind.wrong))
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err();
        let text = failures(err).to_string();
        assert!(text.contains(kind.expected), "{}: {text}", kind.name);
        let result = load(&folder_for(&kind, kind.right))
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap());
        assert!(result.is_ok(), "{}: {result:?}", kind.name);
    }
}

/// A virtual table is one object: an FTS5 table left behind by a down is
/// named once, not with the five tables it keeps its index in (found by a
/// new user's trial: six differences for one).
#[test]
fn a_virtual_table_is_one_object() {
    let kind = Kind {
        name: "fts5",
        base: "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT);",
        up: Some("CREATE VIRTUAL TABLE f USING fts5(body);"),
        wrong: "SELECT 1;",
        right: "DROP TABLE f;",
        expected: "",
    };
    let err = load(&folder_for(&kind, kind.wrong))
        .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
        .unwrap_err();
    let text = failures(err).to_string();
    let differences: Vec<&str> = text.lines().filter(|l| l.contains("left behind")).collect();
    assert_eq!(differences.len(), 1, "{text}");
    assert!(differences[0].contains("virtual table f "), "{text}");
    load(&folder_for(&kind, kind.right))
        .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
        .unwrap();
}

/// A foreign key that names no parent columns names the parent's primary
/// key: when an up changes that key, the child is described again.
#[test]
fn a_foreign_key_follows_the_parent_primary_key() {
    let folder = folder(&[
        (
            "1_base.up.sql",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT); CREATE TABLE t (pid REFERENCES p);",
        ),
        ("1_base.down.sql", "DROP TABLE t; DROP TABLE p;"),
        (
            "2_key.up.sql",
            "DROP TABLE p; CREATE TABLE p (id INTEGER, code TEXT PRIMARY KEY);",
        ),
        ("2_key.down.sql", "SELECT 'forgot p';"),
    ]);
    let failures = failures(
        load(&folder)
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    let text = failures.to_string();
    assert!(
        text.contains("table t: foreign key (pid) -> p (code) ON UPDATE NO ACTION ON DELETE NO ACTION left behind by 2_key.down.sql"),
        "{text}"
    );
    assert!(
        text.contains("table t: foreign key (pid) -> p (id) ON UPDATE NO ACTION ON DELETE NO ACTION missing after 2_key.down.sql"),
        "{text}"
    );
}

#[test]
fn a_table_rebuilt_in_other_words_passes() {
    for (base, down) in SAME {
        let kind = Kind {
            name: "same",
            base,
            up: None,
            wrong: "",
            right: down,
            expected: "",
        };
        let result = load(&folder_for(&kind, down))
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap());
        assert!(result.is_ok(), "{base}\n{down}\n{result:?}");
    }
}

fn folder_for(kind: &Kind, down: &str) -> tempfile::TempDir {
    folder(&[
        ("1_base.up.sql", kind.base),
        (
            "1_base.down.sql",
            "DROP VIEW IF EXISTS v; DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS p; PRAGMA user_version = 0;",
        ),
        (
            "2_change.up.sql",
            kind.up.unwrap_or("ALTER TABLE t ADD COLUMN extra INT;"),
        ),
        ("2_change.down.sql", down),
    ])
}

fn failures(err: Error) -> Box<VerifyFailures> {
    match err {
        Error::VerifyFailed(failures) => failures,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_kind_is_named_when_a_down_loses_it_and_passes_when_it_keeps_it() {
    for kind in KINDS {
        let name = kind.name;
        let right = load(&folder_for(kind, kind.right))
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap());
        assert!(right.is_ok(), "{name}: a right down fails: {right:?}");
        let wrong = load(&folder_for(kind, kind.wrong))
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .expect_err(name);
        let failures = failures(wrong);
        let text = failures.to_string();
        assert!(
            matches!(
                failures.failures.as_slice(),
                [VerifyFailure::NotReverted { version: 2, .. }]
            ),
            "{name}: {text}"
        );
        assert!(
            text.contains(kind.expected),
            "{name}: expected {:?} in:\n{text}",
            kind.expected
        );
    }
}

/// A down that names none of the kinds wrongly is still found wrong
/// only for what it changed: the message lists that one difference.
#[test]
fn one_lost_property_is_one_difference() {
    let kind = &KINDS[0];
    let failures = failures(
        load(&folder_for(kind, kind.wrong))
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    match &failures.failures[0] {
        VerifyFailure::NotReverted { differences, .. } => {
            assert_eq!(
                differences,
                &["t.name: collation NOCASE -> BINARY after 2_change.down.sql"]
            );
        }
        other => panic!("{other}"),
    }
}

const NO_TX: &str = "-- strata:no-transaction\n";

/// A temporary folder holding `files`, whose contents are built.
fn folder_of(files: &[(&str, String)]) -> tempfile::TempDir {
    let files: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    folder(&files)
}

/// Three downs wrong in three ways, in files that run in a transaction:
/// all three are reported in one run, and the migrations after them are
/// checked.
#[test]
fn three_downs_failing_three_ways_are_all_reported() {
    let folder = folder(&[
        ("1_t.up.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);"),
        ("1_t.down.sql", "DROP TABLE t;"),
        ("2_a.up.sql", "CREATE TABLE a (x);"),
        ("2_a.down.sql", "DROP TABLE nope;"),
        ("3_b.up.sql", "CREATE TABLE b (x);"),
        ("3_b.down.sql", "SELECT 1;"),
        ("4_row.up.sql", "INSERT INTO t (id) VALUES (1);"),
        ("4_row.down.sql", "SELECT 'forgot the row';"),
        ("5_c.up.sql", "CREATE TABLE c (x);"),
        ("5_c.down.sql", "DROP TABLE c;"),
    ]);
    let failures = failures(
        load(&folder)
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    let text = failures.to_string();
    assert!(
        matches!(
            failures.failures.as_slice(),
            [
                VerifyFailure::DownFailed { version: 2, .. },
                VerifyFailure::NotReverted { version: 3, .. },
                VerifyFailure::UpAgainFailed { version: 4, .. },
            ]
        ),
        "{text}"
    );
    assert_eq!(failures.report.checked, [1, 2, 3, 4, 5]);
    assert!(failures.report.unchecked.is_empty());
    assert!(text.ends_with("\n  every migration was checked"), "{text}");
}

/// The same in files that run outside a transaction, whose round trips
/// are real: after each problem verify rebuilds the scratch database from
/// the up files and goes on. Without the rebuild, migration 4 would fail
/// on a database that lost `t` to 3's wrong down: a false alarm.
#[test]
fn outside_a_transaction_every_migration_is_checked_after_a_rebuild() {
    let no_tx = |sql: &str| format!("{NO_TX}{sql}");
    let files = [
        (
            "1_t.up.sql",
            no_tx("CREATE TABLE t (id INTEGER PRIMARY KEY);"),
        ),
        ("1_t.down.sql", no_tx("DROP TABLE t;")),
        ("2_a.up.sql", no_tx("CREATE TABLE a (x);")),
        ("2_a.down.sql", no_tx("DROP TABLE a; DROP TABLE nope;")),
        ("3_b.up.sql", no_tx("CREATE TABLE b (x);")),
        ("3_b.down.sql", no_tx("DROP TABLE b; DROP TABLE t;")),
        ("4_col.up.sql", no_tx("ALTER TABLE t ADD COLUMN note TEXT;")),
        ("4_col.down.sql", no_tx("ALTER TABLE t DROP COLUMN note;")),
        ("5_row.up.sql", no_tx("INSERT INTO t (id) VALUES (1);")),
        ("5_row.down.sql", no_tx("SELECT 'forgot the row';")),
        ("6_c.up.sql", no_tx("CREATE TABLE c (x);")),
        ("6_c.down.sql", no_tx("DROP TABLE c;")),
    ];
    let folder = folder_of(&files);
    let failures = failures(
        load(&folder)
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    let text = failures.to_string();
    assert!(
        matches!(
            failures.failures.as_slice(),
            [
                VerifyFailure::DownFailed { version: 2, .. },
                VerifyFailure::NotReverted { version: 3, .. },
                VerifyFailure::UpAgainFailed { version: 5, .. },
            ]
        ),
        "{text}"
    );
    assert!(
        text.contains("table t missing after 3_b.down.sql"),
        "{text}"
    );
    assert_eq!(failures.report.checked, [1, 2, 3, 4, 5, 6]);
    assert!(text.ends_with("\n  every migration was checked"), "{text}");
}

/// Where verify truly cannot go on (an up file fails: every later
/// migration builds on it), it says how many migrations it did not check.
#[test]
fn a_failing_up_says_how_many_migrations_were_not_checked() {
    let folder = folder(&[
        ("1_t.up.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);"),
        ("1_t.down.sql", "DROP TABLE t;"),
        ("2_a.up.sql", "CREATE TABLE a (;"),
        ("2_a.down.sql", "DROP TABLE a;"),
        ("3_b.up.sql", "CREATE TABLE b (x);"),
        ("3_b.down.sql", "DROP TABLE b;"),
        ("4_c.up.sql", "CREATE TABLE c (x);"),
        ("4_c.down.sql", "DROP TABLE c;"),
    ]);
    let failures = failures(
        load(&folder)
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    assert_eq!(failures.report.checked, [1]);
    assert_eq!(failures.report.unchecked, [2, 3, 4]);
    let text = failures.to_string();
    assert!(
        text.ends_with(
            "\n  1 migration checked; 3 not checked (versions 2 to 4), because of the problem above"
        ),
        "{text}"
    );
}

/// An up that applied once but fails on the rebuilt scratch database is
/// reported, with the migrations that could not be checked. Here the
/// function the up uses (registered on verify's connection) answers the
/// up and the up again, and fails from its third call on: the rebuild.
#[test]
fn a_rebuild_that_fails_is_reported_with_what_was_not_checked() {
    let files = [
        (
            "1_t.up.sql",
            format!("{NO_TX}CREATE TABLE t AS SELECT answer() AS v;"),
        ),
        ("1_t.down.sql", format!("{NO_TX}DROP TABLE t;")),
        ("2_a.up.sql", format!("{NO_TX}CREATE TABLE a (x);")),
        ("2_a.down.sql", format!("{NO_TX}SELECT 'forgot a';")),
        ("3_b.up.sql", "CREATE TABLE b (x);".to_owned()),
        ("3_b.down.sql", "DROP TABLE b;".to_owned()),
    ];
    let folder = folder_of(&files);
    let conn = strata::rusqlite::Connection::open_in_memory().unwrap();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    use strata::rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "answer",
        0,
        FunctionFlags::SQLITE_DETERMINISTIC,
        move |_| match calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
            0 | 1 => Ok(42),
            _ => Err(strata::rusqlite::Error::UserFunctionError(
                "answer() is asked a third time".into(),
            )),
        },
    )
    .unwrap();
    let err = load(&folder).verify(&mut { conn }).unwrap_err();
    let failures = failures(err);
    let text = failures.to_string();
    assert!(
        matches!(
            failures.failures.as_slice(),
            [
                VerifyFailure::NotReverted { version: 2, .. },
                VerifyFailure::RebuildFailed { version: 1, .. },
            ]
        ),
        "{text}"
    );
    assert!(text.contains("answer() is asked a third time"), "{text}");
    assert_eq!(failures.report.checked, [1, 2]);
    assert_eq!(failures.report.unchecked, [3]);
    assert!(
        text.ends_with(
            "\n  2 migrations checked; 1 not checked (version 3), because of the problem above"
        ),
        "{text}"
    );
}

/// A no-transaction file that begins a transaction and leaves it open
/// fails in verify as in `up`, with the same message.
#[test]
fn a_transaction_left_open_is_the_failure_up_reports() {
    let files = [
        (
            "1_t.up.sql",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);".to_owned(),
        ),
        ("1_t.down.sql", "DROP TABLE t;".to_owned()),
        (
            "2_b.up.sql",
            format!("{NO_TX}BEGIN;\nCREATE TABLE b (x);\n"),
        ),
        ("2_b.down.sql", "DROP TABLE b;".to_owned()),
    ];
    let folder = folder_of(&files);
    let failures = failures(
        load(&folder)
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    let text = failures.to_string();
    match failures.failures.as_slice() {
        [VerifyFailure::UpFailed { version: 2, cause }] => {
            assert!(
                matches!(**cause, Error::TransactionLeftOpen { version: 2, .. }),
                "{text}"
            );
        }
        _ => panic!("{text}"),
    }
    assert!(
        text.contains("2_b.up.sql began a transaction and did not commit it"),
        "{text}"
    );
    assert_eq!(failures.report.unchecked, [2]);
}

/// A folder that creates a table named like the default history table
/// verifies with the history table the runner names, as `up` runs it.
#[test]
fn the_runner_history_table_is_the_one_verify_creates() {
    let folder = folder(&[
        ("1_sm.up.sql", "CREATE TABLE schema_migrations (v INT);"),
        ("1_sm.down.sql", "DROP TABLE schema_migrations;"),
        ("2_t.up.sql", "CREATE TABLE t (x);"),
        ("2_t.down.sql", "DROP TABLE t;"),
    ]);
    let migrations = load(&folder);
    let failures = failures(
        migrations
            .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
            .unwrap_err(),
    );
    assert!(
        matches!(
            failures.failures.as_slice(),
            [VerifyFailure::UpFailed { version: 1, .. }]
        ),
        "{failures}"
    );
    let report = migrations
        .runner()
        .table("history")
        .verify(&mut strata::rusqlite::Connection::open_in_memory().unwrap())
        .unwrap();
    assert_eq!(report.checked, [1, 2]);
}
