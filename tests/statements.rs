//! Statements run exactly as the database runs them.
//!
//! Files are generated from statements, comments (nested, unterminated, at
//! the end without a line break), strings of every kind, quoted
//! identifiers, dollar quotes and routine and trigger bodies. Each fragment
//! that would insert a row does so with a number of its own, so a statement
//! run from inside a comment or a string shows as a row. Each file is run
//! by strata and by the database's own means, and the rows must agree:
//!
//! - SQLite: `execute_batch`, which is SQLite preparing statement after
//!   statement from the tail it reports, against strata's run of the file
//!   as a migration; and SQLite's statement ends against strata's.
//! - PostgreSQL: psql sending the file statement by statement (autocommit,
//!   stopping at the first error) against strata's split sent the same way
//!   (the no-transaction path); and the server reading the whole file at
//!   once, in a transaction, against strata's run of it as a migration in
//!   its transaction (each statement of its split in a message of its
//!   own, which the server parses as exactly one statement or refuses).

mod common;

use std::process::Command;

use proptest::prelude::*;
use strata::rusqlite::Connection;
use strata::rusqlite::fallible_iterator::FallibleIterator;
use strata::{Error, Migrations};
use strata_source::sql::{self, Dialect};

use common::{folder, write_files};

/// Builds a file from fragments: `{k}` becomes the fragment's position, so
/// that every row it inserts is its own.
fn file(fragments: &[&str], parts: &[(usize, usize)], tail: &str) -> String {
    const SEPARATORS: &[&str] = &["", " ", "\n", "\r\n", "\t", "\n-- c;\n", "/* c; */"];
    let mut sql = String::new();
    for (k, &(fragment, separator)) in parts.iter().enumerate() {
        sql.push_str(&fragments[fragment % fragments.len()].replace("{k}", &(k + 1).to_string()));
        sql.push_str(SEPARATORS[separator % SEPARATORS.len()]);
    }
    sql.push_str(tail);
    sql
}

// ---------------------------------------------------------------- SQLite

const SQLITE_FRAGMENTS: &[&str] = &[
    "INSERT INTO log VALUES ({k});",
    "-- INSERT INTO log VALUES ({k});\n",
    "/* INSERT INTO log VALUES ({k}); */",
    // SQLite's comments do not nest: the INSERT is real.
    "/* a /* b */ INSERT INTO log VALUES ({k});",
    "SELECT 'a;'';INSERT INTO log VALUES ({k});';",
    "SELECT \"a;b\" FROM (SELECT 1 AS \"a;b\");",
    "SELECT 1 AS \"x\"\";INSERT INTO log VALUES ({k});--\";",
    "SELECT [a;b] FROM (SELECT 1 AS [a;b]);",
    "SELECT `a;b` FROM (SELECT 1 AS `a;b`);",
    "CREATE TRIGGER IF NOT EXISTS t{k} AFTER INSERT ON log WHEN new.n < 0 BEGIN SELECT CASE WHEN 1 THEN 2 END; INSERT INTO side VALUES ({k}); END;",
    "CREATE TEMP TRIGGER IF NOT EXISTS tt{k} AFTER INSERT ON log BEGIN INSERT INTO side VALUES (-{k}); END;",
    "EXPLAIN SELECT 1;",
    // SQLite's `--` comment runs to `\n`, past a lone `\r`.
    "-- note\rINSERT INTO log VALUES ({k});\n",
    ";",
    "CREATE TABLE IF NOT EXISTS trigger{k} (\"end\", [begin]);",
    "SELECT 1 -- ; INSERT INTO log VALUES ({k});\n;",
    "INSERT INTO log SELECT {k} WHERE 'x;' <> 'end;';",
    "CREATE VIEW IF NOT EXISTS v{k} AS SELECT 'end; begin;' AS x;",
    "SELECT 1end;",
];

const SQLITE_TAILS: &[&str] = &[
    "",
    "-- tail",
    "/* unterminated; INSERT INTO log VALUES (999);",
    " \n",
    "INSERT INTO log VALUES (998)",
    "'unterminated; INSERT INTO log VALUES (997);",
];

fn sqlite_setup(conn: &Connection) {
    conn.execute_batch("CREATE TABLE log (n INTEGER); CREATE TABLE side (n INTEGER);")
        .unwrap();
}

/// Every row of `log` and `side`, in the order they were written.
fn sqlite_rows(conn: &Connection) -> Vec<(String, i64)> {
    let mut statement = conn
        .prepare("SELECT 'log', n FROM log UNION ALL SELECT 'side', n FROM side")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// SQLite's own run of the file, in one transaction, on a file on disk.
fn sqlite_reference(sql: &str) -> Result<Vec<(String, i64)>, String> {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("reference.db")).unwrap();
    sqlite_setup(&conn);
    conn.execute_batch("BEGIN").unwrap();
    match conn.execute_batch(sql) {
        Ok(()) => {
            conn.execute_batch("COMMIT").unwrap();
            Ok(sqlite_rows(&conn))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// strata's run of the file as a migration, on a file on disk.
fn sqlite_strata(sql: &str) -> Result<Vec<(String, i64)>, String> {
    let migrations = folder(&[
        ("000001_lex.up.sql", sql),
        ("000001_lex.down.sql", "-- strata:irreversible\n"),
    ]);
    let migrations = match Migrations::from_dir(migrations.path()) {
        Ok(migrations) => migrations,
        Err(e) => return Err(format!("folder rules: {e}")),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("strata.db")).unwrap();
    sqlite_setup(&conn);
    match migrations.run(&mut conn) {
        Ok(_) => Ok(sqlite_rows(&conn)),
        Err(e) => Err(e.to_string()),
    }
}

/// Where SQLite ends each statement, preparing from the tail it reports,
/// as far as it gets.
fn sqlite_ends(sql: &str) -> Vec<usize> {
    let conn = Connection::open_in_memory().unwrap();
    sqlite_setup(&conn);
    let mut batch = strata::rusqlite::Batch::new(&conn, sql);
    let mut ends = Vec::new();
    let mut offset = 0;
    while let Ok(Some(mut statement)) = batch.next() {
        // The statement's text runs from where preparing began to its end.
        offset += statement.expanded_sql().map_or(0, |s| s.len());
        ends.push(offset);
        if statement.raw_execute().is_err() {
            break;
        }
    }
    ends
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sqlite_runs_what_sqlite_runs(
        parts in prop::collection::vec((0..SQLITE_FRAGMENTS.len(), 0..7usize), 1..10),
        tail in 0..SQLITE_TAILS.len(),
    ) {
        let sql = file(SQLITE_FRAGMENTS, &parts, SQLITE_TAILS[tail]);
        // The same statement ends as SQLite's, as far as SQLite runs (the
        // last statement of a file without a `;` ends, to SQLite, after the
        // comments that follow it).
        let ends = sqlite_ends(&sql);
        let ours: Vec<usize> = sql::lex(&sql, Dialect::Sqlite)
            .statements
            .iter()
            .map(|s| s.end)
            .collect();
        for (i, &end) in ends.iter().enumerate() {
            let our = ours.get(i).copied();
            let last_without_semicolon = i + 1 == ours.len() && !sql[..end].ends_with(';');
            prop_assert!(
                our == Some(end) || (last_without_semicolon && our.is_some_and(|o| o <= end)),
                "statement {} ends at {:?} for strata, {} for SQLite, in {:?}", i, our, end, sql
            );
        }
        // And the same rows.
        let reference = sqlite_reference(&sql);
        match sqlite_strata(&sql) {
            Err(e) if e.contains("has no SQL") => {
                prop_assert_eq!(reference, Ok(Vec::new()), "{:?}", sql);
            }
            strata => {
                prop_assert_eq!(
                    reference.is_ok(),
                    strata.is_ok(),
                    "reference {:?}, strata {:?}, file {:?}",
                    reference,
                    strata,
                    sql
                );
                if let (Ok(reference), Ok(strata)) = (&reference, &strata) {
                    prop_assert_eq!(reference, strata, "{:?}", sql);
                }
            }
        }
    }
}

/// The file: on SQLite the comment ends at the first `*/`, so the
/// DELETE is a statement to SQLite, and the rest a syntax error. strata
/// does what SQLite does, and names the line.
#[test]
fn sqlite_comments_do_not_nest() {
    let sql = "CREATE TABLE t (x);\nINSERT INTO t VALUES (1);\n/* old /* note */ DELETE FROM t; */ SELECT 1;\n";
    assert!(sqlite_reference(sql).is_err());
    let err = sqlite_strata(sql).unwrap_err();
    assert!(err.contains("000001_lex.up.sql:3: "), "{err}");
    assert!(err.contains("(in `*/ SELECT 1;`)"), "{err}");
}

// ------------------------------------------------------- refused statements

/// Each statement that strata refuses in a transactional SQLite file is
/// refused or ignored by SQLite itself inside a transaction.
#[test]
fn sqlite_refuses_or_ignores_what_strata_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("app.db")).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF; CREATE TABLE t (x);")
        .unwrap();
    let settings = |conn: &Connection| -> (i64, String, i64) {
        (
            conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))
                .unwrap(),
            conn.pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap(),
            conn.pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap(),
        )
    };
    let before = settings(&conn);
    for statement in [
        "VACUUM",
        "PRAGMA synchronous = OFF",
        "PRAGMA main.synchronous(0)",
        "PRAGMA foreign_keys = ON",
        "PRAGMA journal_mode = WAL",
        "PRAGMA journal_mode(truncate)",
    ] {
        let lexed = sql::lex(statement, Dialect::Sqlite);
        assert!(lexed.statements[0].refusal().is_some(), "{statement}");
        conn.execute_batch("BEGIN; INSERT INTO t VALUES (1)")
            .unwrap();
        let result = conn.execute_batch(statement);
        conn.execute_batch("COMMIT").unwrap();
        assert!(
            result.is_err() || settings(&conn) == before,
            "{statement} took effect inside a transaction"
        );
    }
    // Reads are not refused.
    for statement in ["PRAGMA foreign_keys", "PRAGMA journal_mode;", "VACUUMS"] {
        let lexed = sql::lex(statement, Dialect::Sqlite);
        assert_eq!(lexed.statements[0].refusal(), None, "{statement}");
    }
}

/// A refused statement is refused by the folder rules, by `validate` and
/// by the run, before anything of the file runs.
#[test]
fn refused_statements_are_refused_before_anything_runs() {
    let dir = folder(&[
        ("000001_a.up.sql", "CREATE TABLE a (x);\n"),
        ("000001_a.down.sql", "DROP TABLE a;\n"),
    ]);
    let (_db, path) = common::database();
    let mut conn = common::open(&path);
    Migrations::from_dir(dir.path())
        .unwrap()
        .run(&mut conn)
        .unwrap();
    write_files(
        dir.path(),
        &[
            (
                "000002_b.up.sql",
                "CREATE TABLE b (x);\n-- compact\nVACUUM;\n",
            ),
            ("000002_b.down.sql", "DROP TABLE b;\n"),
        ],
    );
    let err = Migrations::from_dir(dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("000002_b.up.sql:3: `VACUUM;` cannot run inside a transaction, and strata runs this migration inside one (put `-- strata:no-transaction` at the top of the file, ideally with this statement alone in its migration: a file run without a transaction that fails halfway stays half-applied)"),
        "{err}"
    );
    // What the folder rules leave to the dialect (a nested comment is a
    // comment to PostgreSQL only), the SQLite backend refuses itself.
    write_files(
        dir.path(),
        &[(
            "000002_b.up.sql",
            "CREATE TABLE b (x);\n/* note /* nested */\nPRAGMA foreign_keys = ON; -- */\n",
        )],
    );
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    let err = migrations.runner().validate(&mut conn).unwrap_err();
    assert!(
        matches!(&err, Error::RefusedInTransaction { version: 2, line: 3, statement, .. } if statement == "PRAGMA foreign_keys = ON;"),
        "{err:?}"
    );
    let err = migrations.run(&mut conn).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::RefusedInTransaction {
                version: 2,
                line: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(common::tables(&conn), ["a", "schema_migrations"]);
    // With the directive, it runs.
    write_files(
        dir.path(),
        &[(
            "000002_b.up.sql",
            "-- strata:no-transaction\nCREATE TABLE b (x);\nVACUUM;\n",
        )],
    );
    Migrations::from_dir(dir.path())
        .unwrap()
        .run(&mut conn)
        .unwrap();
    assert_eq!(common::tables(&conn), ["a", "b", "schema_migrations"]);
}

/// A syntax error names its line and its statement, never the rest of
/// the file.
#[test]
fn a_sqlite_syntax_error_shows_its_statement_not_the_rest_of_the_file() {
    let mut sql = String::from("CREATE TABLE t (x);\nINSERT INTO t VALUES (1),\n  (2) oops;\n");
    for i in 0..200 {
        sql.push_str(&format!("INSERT INTO t VALUES ({i});\n"));
    }
    let err = sqlite_strata(&sql).unwrap_err();
    assert!(
        err.ends_with(
            "000001_lex.up.sql:3: near \"oops\": syntax error (in `INSERT INTO t VALUES (1), (2) oops;`)"
        ),
        "{err}"
    );
}

// ------------------------------------------------------------ PostgreSQL

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::common::pg::TestDb;
    use strata::postgres::Client;

    /// Fragments that read the same whether the file is sent at once or
    /// statement by statement.
    const FRAGMENTS: &[&str] = &[
        "INSERT INTO lex_log (n) VALUES ({k});",
        "-- INSERT INTO lex_log (n) VALUES ({k});\n",
        "/* INSERT INTO lex_log (n) VALUES ({k}); */",
        // PostgreSQL's comments nest: all of this is one comment.
        "/* a /* b */ INSERT INTO lex_log (n) VALUES ({k}); */",
        "/*/* x */ INSERT INTO lex_log (n) VALUES ({k}); */",
        "SELECT 'a;'';INSERT INTO lex_log (n) VALUES ({k});';",
        "SELECT E'\\';INSERT INTO lex_log (n) VALUES ({k});--';",
        // A string goes on after a line break.
        "SELECT 'x'\n  '\\';INSERT INTO lex_log (n) VALUES ({k});--';",
        "SELECT 'a\\';INSERT INTO lex_log (n) VALUES ({k});--';",
        "SELECT $$;INSERT INTO lex_log (n) VALUES ({k});$$;",
        "SELECT $t$ $$; INSERT INTO lex_log (n) VALUES ({k}); $t$;",
        "SELECT \"a;b\" FROM (SELECT 1 AS \"a;b\") s;",
        "SELECT 1 AS \"x\"\";INSERT INTO lex_log (n) VALUES ({k});--\";",
        "DO $$BEGIN INSERT INTO lex_log (n) VALUES ({k}); END$$;",
        "CREATE OR REPLACE FUNCTION lex_f{k}() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN {k} END; END;",
        "CREATE OR REPLACE PROCEDURE lex_p{k}() LANGUAGE sql BEGIN ATOMIC INSERT INTO lex_log (n) VALUES (-{k}); END; CALL lex_p{k}(); DROP PROCEDURE IF EXISTS lex_p{k};",
        // PostgreSQL's `--` comment ends at `\r` too.
        "-- note\rINSERT INTO lex_log (n) VALUES ({k});\n",
        "SELECT U&'d\\0061t\\+000061;';",
        "SELECT 1 /* ; */ ;",
        ";",
        "SELECT CASE WHEN true THEN 1 END AS \"end\";",
        "SELECT x[1] FROM (SELECT ARRAY[1, 2] AS x) s;",
        "SELECT B'10', X'1F';",
        "SELECT 'a' -- joined\n 'b;';",
        "SELECT 1 AS begin_, 2 AS end_, a$b$ FROM (SELECT 3 AS a$b$) s;",
        "CREATE OR REPLACE RULE lex_r AS ON UPDATE TO lex_log DO ALSO (SELECT 1; SELECT 2);",
    ];

    /// Fragments that change how later strings read: statement by
    /// statement only, since the server reads a file sent at once under
    /// the setting it arrived with. The line break after each `SET` is for
    /// psql, which reads a line under the setting of when it read the line
    /// (strata and the server follow it from the next statement on).
    const SET_FRAGMENTS: &[&str] = &[
        "SET standard_conforming_strings = off;\nSELECT 'a\\';INSERT INTO lex_log (n) VALUES ({k});--'; SET standard_conforming_strings TO on;\n",
        "SET standard_conforming_strings = 'off';\nSELECT E'\\\\', 'b\\'; RESET standard_conforming_strings;\n",
    ];

    /// Fragments that the server reads otherwise than psql: an `E'...'`
    /// string goes on after a line break as an escaped string, where psql's
    /// scanner reads the rest as a plain one. strata reads them as the
    /// server does; compared with the server only.
    const SERVER_FRAGMENTS: &[&str] = &[
        "SELECT E'x'\n-- c\n'\\';INSERT INTO lex_log (n) VALUES ({k});--';",
        "SELECT E'x' -- c\n'\\';INSERT INTO lex_log (n) VALUES ({k});--';",
        "SELECT E'x'\n\n'\\' ; SELECT 1;",
    ];

    const TAILS: &[&str] = &[
        "",
        "-- tail",
        "/* unterminated; INSERT INTO lex_log (n) VALUES (999);",
        "INSERT INTO lex_log (n) VALUES (998)",
        "$$ unterminated; INSERT INTO lex_log (n) VALUES (997);",
    ];

    struct Pg {
        db: TestDb,
        client: Client,
    }

    type Rows = Result<Vec<i32>, String>;

    /// Runs `up` as the one migration of a new folder (its down file
    /// irreversible), refused by the folder rules or run, on a database
    /// whose history is forgotten first, so that every file runs.
    fn run_once(client: &mut Client, up: &str) -> Result<(), Error> {
        client
            .batch_execute("DROP TABLE IF EXISTS schema_migrations")
            .unwrap();
        let dir = folder(&[
            ("000001_a.up.sql", up),
            ("000001_a.down.sql", "-- strata:irreversible\n"),
        ]);
        Migrations::from_dir(dir.path()).and_then(|m| m.run(client).map(drop))
    }

    impl Pg {
        fn new(test: &str) -> Option<Pg> {
            let db = TestDb::new(test)?;
            let mut client = db.client();
            client
                .batch_execute("CREATE TABLE lex_log (id bigserial PRIMARY KEY, n int)")
                .unwrap();
            Some(Pg { db, client })
        }

        fn rows(&mut self) -> Vec<i32> {
            let rows = self
                .client
                .query("SELECT n FROM lex_log ORDER BY id", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            self.client
                .batch_execute("RESET ALL; TRUNCATE lex_log")
                .unwrap();
            rows
        }

        /// The server reading the whole file at once, in a transaction.
        fn server(&mut self, sql: &str) -> Rows {
            self.client.batch_execute("BEGIN").unwrap();
            let result = self.client.batch_execute(sql);
            self.client
                .batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })
                .unwrap();
            let rows = self.rows();
            result.map(|()| rows).map_err(|e| e.to_string())
        }

        /// strata's run of the file as a migration, inside its
        /// transaction: each statement of strata's split in a message of
        /// its own, which the server parses as exactly one statement.
        fn strata_in_transaction(&mut self, sql: &str) -> Rows {
            let result = match run_once(&mut self.client, sql) {
                // Only comments: nothing to run, as the server runs nothing.
                Err(e) if e.to_string().contains("has no SQL") => Ok(()),
                result => result.map_err(|e| e.to_string()),
            };
            let rows = self.rows();
            result.map(|()| rows)
        }

        /// strata's run of the file as a `-- strata:no-transaction`
        /// migration: statement by statement, as psql sends it.
        fn strata_outside(&mut self, sql: &str) -> Rows {
            let result = match run_once(
                &mut self.client,
                &format!("-- strata:no-transaction\n{sql}"),
            ) {
                // Only comments: nothing to run, as psql runs nothing.
                Err(e) if e.to_string().contains("has no SQL") => Ok(()),
                result => result.map_err(|e| e.to_string()),
            };
            let rows = self.rows();
            result.map(|()| rows)
        }

        /// psql sending the file statement by statement, stopping at the
        /// first error.
        fn psql(&mut self, sql: &str) -> Rows {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("file.sql");
            std::fs::write(&path, sql).unwrap();
            let output = Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    &self.db.url,
                    "-f",
                ])
                .arg(&path)
                .output()
                .expect("psql runs (CI installs the PostgreSQL client)");
            let rows = self.rows();
            if output.status.success() {
                Ok(rows)
            } else {
                Err(String::from_utf8_lossy(&output.stderr).into_owned())
            }
        }
    }

    fn same(name: &str, theirs: &Rows, ours: &Rows, sql: &str) {
        assert_eq!(
            theirs.is_ok(),
            ours.is_ok(),
            "{name}: {theirs:?}, strata: {ours:?}, file: {sql:?}"
        );
        if theirs.is_ok() || name == "psql" {
            // Statement by statement, the rows before an error stay.
            assert_eq!(
                theirs.as_ref().unwrap_or(&Vec::new()),
                ours.as_ref().unwrap_or(&Vec::new()),
                "{name} and strata differ on {sql:?}"
            );
        }
    }

    #[test]
    fn postgres_runs_what_postgres_and_psql_run() {
        let Some(pg) = Pg::new("lex_differential") else {
            return;
        };
        let pg = std::cell::RefCell::new(pg);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(96));
        let all: Vec<&str> = FRAGMENTS
            .iter()
            .chain(SET_FRAGMENTS)
            .chain(SERVER_FRAGMENTS)
            .copied()
            .collect();
        let set = FRAGMENTS.len()..FRAGMENTS.len() + SET_FRAGMENTS.len();
        let strategy = (
            prop::collection::vec((0..all.len(), 0..7usize), 1..8),
            0..TAILS.len(),
        );
        runner
            .run(&strategy, |(parts, tail)| {
                let with_set = parts.iter().any(|(f, _)| set.contains(f));
                let server_only = parts.iter().any(|&(f, _)| f >= set.end);
                let sql = file(&all, &parts, TAILS[tail]);
                let mut pg = pg.borrow_mut();
                if !server_only {
                    let psql = pg.psql(&sql);
                    let ours = pg.strata_outside(&sql);
                    same("psql", &psql, &ours, &sql);
                    // A file that changes how its strings read runs in
                    // strata's transaction as psql reads it, statement by
                    // statement (when psql runs it to its end).
                    if with_set && psql.is_ok() {
                        let ours = pg.strata_in_transaction(&sql);
                        same("psql", &psql, &ours, &sql);
                    }
                }
                if !with_set {
                    let server = pg.server(&sql);
                    let ours = pg.strata_in_transaction(&sql);
                    same("the server", &server, &ours, &sql);
                }
                Ok(())
            })
            .unwrap();
    }

    /// Each statement that strata refuses in a transactional PostgreSQL
    /// file is refused by the server inside a transaction block (SQLSTATE
    /// 25001); what strata lets through runs inside one.
    #[test]
    fn postgres_refuses_what_strata_refuses() {
        let Some(pg) = Pg::new("lex_refused") else {
            return;
        };
        let mut client = pg.client;
        client
            .batch_execute(
                "CREATE TABLE t (id int); CREATE INDEX t_id ON t (id);
                 CREATE TABLE parted (id int) PARTITION BY RANGE (id);
                 CREATE TABLE part1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
                 CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one; CREATE UNIQUE INDEX mv_one ON mv (one);",
            )
            .unwrap();
        let database = pg.db.url.rsplit('/').next().unwrap().to_owned();
        let refused = [
            "VACUUM t".to_owned(),
            "CREATE INDEX CONCURRENTLY t_id2 ON t (id)".to_owned(),
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_id3 ON t (id)".to_owned(),
            "DROP INDEX CONCURRENTLY t_id".to_owned(),
            "REINDEX TABLE CONCURRENTLY t".to_owned(),
            "REINDEX (VERBOSE) DATABASE ".to_owned() + &database,
            "REINDEX SCHEMA public".to_owned(),
            "ALTER TABLE parted DETACH PARTITION part1 CONCURRENTLY".to_owned(),
            "ALTER SYSTEM SET work_mem = '4MB'".to_owned(),
            "ALTER SYSTEM RESET work_mem".to_owned(),
            "CREATE DATABASE strata_never_created".to_owned(),
            "DROP DATABASE IF EXISTS strata_never_created".to_owned(),
            "CREATE TABLESPACE never LOCATION '/nonexistent'".to_owned(),
            "DROP TABLESPACE IF EXISTS never".to_owned(),
            "DISCARD ALL".to_owned(),
            "CLUSTER".to_owned(),
            "ALTER DATABASE ".to_owned() + &database + " SET TABLESPACE pg_default",
        ];
        for statement in &refused {
            let lexed = sql::lex(statement, Dialect::Postgres);
            assert!(lexed.statements[0].refusal().is_some(), "{statement}");
            client.batch_execute("BEGIN").unwrap();
            let err = client.batch_execute(statement).unwrap_err();
            client.batch_execute("ROLLBACK").unwrap();
            assert_eq!(
                err.code().map(|c| c.code()),
                Some("25001"),
                "{statement}: {err}"
            );
        }
        for statement in [
            "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
            "REINDEX TABLE t",
            "CLUSTER t USING t_id",
            "ALTER TABLE t ADD COLUMN c int",
            "CREATE INDEX t_c ON t (c)",
        ] {
            let lexed = sql::lex(statement, Dialect::Postgres);
            assert_eq!(lexed.statements[0].refusal(), None, "{statement}");
            client.batch_execute("BEGIN").unwrap();
            client.batch_execute(statement).unwrap();
            client.batch_execute("COMMIT").unwrap();
        }
    }

    /// The file through the runner, both ways: nothing inside the
    /// nested comment runs, in a transaction or out of one.
    #[test]
    fn postgres_nested_comments_hide_their_statements() {
        let Some(pg) = Pg::new("lex_nested") else {
            return;
        };
        let mut client = pg.client;
        client
            .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)")
            .unwrap();
        for directive in ["", "-- strata:no-transaction\n"] {
            let up = format!("{directive}/* old /* note */ DELETE FROM t; */ SELECT 1;\n");
            run_once(&mut client, &up).unwrap();
            let rows: i64 = client
                .query_one("SELECT count(*) FROM t", &[])
                .unwrap()
                .get(0);
            assert_eq!(rows, 2, "{directive:?}");
        }
    }

    /// A transactional file goes to the server in one round trip. An error
    /// the server points at names its line; one it does not point at (a
    /// constraint) is found by running the file again statement by
    /// statement; a statement the server refuses inside a transaction, where
    /// strata could not see it (a procedure that commits), gets the hint.
    /// Nothing of a failed migration stays.
    #[test]
    fn postgres_errors_name_their_statement() {
        let Some(pg) = Pg::new("lex_errors") else {
            return;
        };
        let mut client = pg.client;
        let cases = [
            (
                "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n\nINSERT INTO a\n  VALUES (1);\n",
                "000001_a.up.sql:4: duplicate key value violates unique constraint \"a_pkey\" (Key (id)=(1) already exists.) (in `INSERT INTO a VALUES (1);`)",
            ),
            (
                "CREATE TABLE a (id int);\nSELECT nothing\n  FROM a;\n",
                "000001_a.up.sql:2: column \"nothing\" does not exist (in `SELECT nothing FROM a;`)",
            ),
            (
                "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\nCALL p();\n",
                "000001_a.up.sql:2: invalid transaction termination (in `CALL p();`); strata ran this migration inside a transaction: to run it without one, put `-- strata:no-transaction` at the top of the file",
            ),
        ];
        for (up, expected) in cases {
            let err = run_once(&mut client, up).unwrap_err();
            assert!(err.to_string().ends_with(expected), "{err}");
            let tables: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('schema_migrations', 'lex_log')",
                    &[],
                )
                .unwrap()
                .get(0);
            assert_eq!(tables, 0, "{up}");
            client.batch_execute("DROP PROCEDURE IF EXISTS p").unwrap();
        }
    }

    /// A session whose strings are not standard-conforming reads a
    /// backslash as an escape, and strata splits the file as it does.
    #[test]
    fn postgres_follows_the_sessions_strings() {
        let Some(pg) = Pg::new("lex_strings") else {
            return;
        };
        let mut client = pg.client;
        client
            .batch_execute(
                "SET standard_conforming_strings = off; SET escape_string_warning = off;",
            )
            .unwrap();
        let up = "SELECT 'a\\';INSERT INTO lex_log (n) VALUES (1);--';\nINSERT INTO lex_log (n) VALUES (2);\n";
        for directive in ["", "-- strata:no-transaction\n"] {
            run_once(&mut client, &format!("{directive}{up}")).unwrap();
            let rows: Vec<i32> = client
                .query("SELECT n FROM lex_log ORDER BY id", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert_eq!(rows, [2], "{directive:?}");
            client.batch_execute("TRUNCATE lex_log").unwrap();
        }
    }

    /// The hint is for files strata runs inside its transaction: a
    /// no-transaction file that opened one itself is told no such thing.
    #[test]
    fn postgres_no_hint_outside_strata_transaction() {
        let Some(pg) = Pg::new("lex_no_hint") else {
            return;
        };
        let mut client = pg.client;
        let up = "-- strata:no-transaction\nBEGIN;\nVACUUM;\nCOMMIT;\n";
        let err = run_once(&mut client, up).unwrap_err();
        let Error::LeftDirty { cause, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(
            matches!(
                **cause,
                Error::Statement {
                    line: Some(3),
                    in_transaction: false,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            cause.to_string().ends_with(
                "000001_a.up.sql:3: VACUUM cannot run inside a transaction block (in `VACUUM;`)"
            ),
            "{cause}"
        );
    }

    /// Files from an attack on the split: each one fails with the error
    /// given (from the folder rules or from the run), and leaves nothing
    /// behind.
    #[test]
    fn postgres_attack_files_fail_and_leave_nothing() {
        let Some(pg) = Pg::new("lex_attack") else {
            return;
        };
        let mut client = pg.client;
        let cases = [
            // The server reads `E'a'` and `'b\''` as one escaped string,
            // so the COMMIT is a statement, refused before anything runs.
            (
                "CREATE TABLE t (a int);\nSELECT E'a'\n'b\\'' ; COMMIT; SELECT 1 -- '\n;\nINSERT INTO t VALUES (1);\n",
                &["000001_a.up.sql:3: ", "begins, ends or nests a transaction"][..],
            ),
            // `begin` is a name here, not a body.
            (
                "CREATE TABLE t (a int);\nCREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1';\nCOMMIT;\nINSERT INTO t VALUES (1);\n",
                &["000001_a.up.sql:3: ", "begins, ends or nests a transaction"][..],
            ),
            (
                "CREATE TABLE period (id int, begin date);\nCREATE FUNCTION first_begin() RETURNS date LANGUAGE sql BEGIN ATOMIC SELECT begin FROM period ORDER BY begin LIMIT 1; END;\nCOMMIT;\n",
                &["000001_a.up.sql:3: ", "begins, ends or nests a transaction"][..],
            ),
            // Sent statement by statement, as strata does, the SET makes
            // the third line read as a COMMIT (the check of the whole file
            // before it ran read it under the setting it started with): it
            // is refused as it comes, and everything before it rolled back.
            (
                "CREATE TABLE t (a int PRIMARY KEY);\nSET standard_conforming_strings = off;\nSELECT 'x\\' /* ' ; COMMIT ; SELECT 'y' -- */\n;\nINSERT INTO t VALUES (1), (1);\n",
                &["000001_a.up.sql:3: ", "begins, ends or nests a transaction"][..],
            ),
            // The file's last statement is unfinished.
            (
                "CREATE TABLE t (a int);\nSELECT (1",
                &["000001_a.up.sql:2: syntax error at end of input (in `SELECT (1`)"],
            ),
            (
                "CREATE TABLE t (a int);\nSELECT 'x",
                &[
                    "000001_a.up.sql:2: unterminated quoted string at or near \"'x\" (in `SELECT 'x`)",
                ],
            ),
        ];
        for (up, expected) in cases {
            // Refused by the folder rules, or when it runs.
            let err = run_once(&mut client, up).unwrap_err().to_string();
            for part in expected {
                assert!(err.contains(part), "{err}\n{up}");
            }
            let tables: Vec<String> = client
                .query(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('lex_log')",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert_eq!(tables, Vec::<String>::new(), "{up}");
            client
                .batch_execute("DROP FUNCTION IF EXISTS begin, first_begin; RESET ALL")
                .unwrap();
        }
    }
}
