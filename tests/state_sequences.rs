//! Random sequences of migrations, inside strata's transaction and outside
//! it (`-- strata:no-transaction`), some of them changing connection
//! settings, run by strata in one run and by the database's own means one
//! file at a time on a fresh connection each: SQLite through rusqlite
//! (`execute_batch`), PostgreSQL through psql. The schema and every row
//! must agree, strata's history must record every file as applied and
//! clean, and the application's connection must come back as it went in.
//!
//! Each step writes what it sees (foreign keys, recursion, `LIKE`, the
//! search path, the role, timeouts) into a table, so a setting that leaked
//! from one file into the next shows as a different row.

mod common;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use strata::Migrations;
use strata::rusqlite::Connection;
use strata::rusqlite::types::Value;

/// A step: its SQL (`{i}` becomes its version) and whether it may run
/// inside strata's transaction (SQLite refuses `PRAGMA foreign_keys`
/// there, and a file with its own `BEGIN` must be outside one).
type Step = (&'static str, bool);

/// What every SQLite sequence starts from: a parent with a cascading
/// child, a trigger that would recurse, and the table of observations.
const SQLITE_BASE: &str = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1, 'p');
INSERT INTO child VALUES (1, 1);
CREATE TABLE r (n INTEGER);
CREATE TRIGGER r_more AFTER INSERT ON r WHEN new.n < 4 BEGIN INSERT INTO r VALUES (new.n + 1); END;
CREATE TABLE obs (step INTEGER, what TEXT, value);
";

const SQLITE_STEPS: &[Step] = &[
    ("PRAGMA foreign_keys = ON;", false),
    (
        "PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE g{i} (id INTEGER PRIMARY KEY);\nCOMMIT;\nPRAGMA foreign_keys=ON;",
        false,
    ),
    (
        "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO parent_new SELECT * FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;\nINSERT INTO obs SELECT {i}, 'children', count(*) FROM child;",
        true,
    ),
    ("PRAGMA recursive_triggers = ON;", true),
    (
        "DELETE FROM r;\nINSERT INTO r VALUES (1);\nINSERT INTO obs SELECT {i}, 'recursion', count(*) FROM r;",
        true,
    ),
    ("PRAGMA legacy_alter_table = ON;", true),
    (
        "CREATE TABLE p{i} (id INTEGER PRIMARY KEY);\nCREATE TABLE c{i} (p INTEGER REFERENCES p{i} (id));\nALTER TABLE p{i} RENAME TO q{i};",
        true,
    ),
    ("PRAGMA case_sensitive_like = ON;", true),
    (
        "INSERT INTO obs VALUES ({i}, 'like', 'a' LIKE 'A');\nINSERT INTO obs SELECT {i}, 'fk', foreign_keys FROM pragma_foreign_keys;",
        true,
    ),
    ("PRAGMA query_only = ON;", false),
    (
        "BEGIN;\nPRAGMA recursive_triggers = ON;\nINSERT INTO r VALUES (2);\nCOMMIT;",
        false,
    ),
    (
        "CREATE TABLE x{i} (id INTEGER);\nINSERT INTO x{i} VALUES ({i});",
        true,
    ),
];

/// A file's text: the step's SQL for version `i`, with the directive when
/// it runs outside a transaction.
fn text(step: Step, i: usize, outside: bool) -> String {
    let sql = step.0.replace("{i}", &i.to_string());
    if outside {
        format!("-- strata:no-transaction\n{sql}\n")
    } else {
        format!("{sql}\n")
    }
}

/// The files of a sequence: version 1 is `base`, then one per step.
fn files(base: &str, steps: &[Step], picks: &[(usize, bool)]) -> Vec<String> {
    let mut out = vec![format!("{base}\n")];
    for (n, &(pick, outside)) in picks.iter().enumerate() {
        let step = steps[pick % steps.len()];
        out.push(text(step, n + 2, outside || !step.1));
    }
    out
}

fn write_folder(files: &[String]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (n, sql) in files.iter().enumerate() {
        let v = n + 1;
        common::write_files(
            dir.path(),
            &[
                (&format!("{v:03}_s{v}.up.sql"), sql),
                (&format!("{v:03}_s{v}.down.sql"), "-- strata:irreversible\n"),
            ],
        );
    }
    dir
}

/// Every object's SQL and every row of every table but strata's.
fn sqlite_dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let objects: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY type, name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (kind, name, sql) in objects {
        out.push(format!("{kind} {name}: {sql:?}"));
        if kind == "table" {
            let mut statement = conn
                .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY 1, 2"))
                .unwrap_or_else(|_| {
                    conn.prepare(&format!("SELECT * FROM \"{name}\" ORDER BY 1"))
                        .unwrap()
                });
            let columns = statement.column_count();
            let rows: Vec<Vec<Value>> = statement
                .query_map([], |r| (0..columns).map(|c| r.get(c)).collect())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            out.push(format!("  rows {rows:?}"));
        }
    }
    out
}

fn sqlite_settings(conn: &Connection) -> Vec<Value> {
    [
        "foreign_keys",
        "recursive_triggers",
        "legacy_alter_table",
        "query_only",
    ]
    .iter()
    .map(|p| {
        conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
            .unwrap()
    })
    .chain([conn
        .query_row("SELECT 'a' LIKE 'A'", [], |r| r.get(0))
        .unwrap()])
    .collect()
}

/// One sequence: strata in one run on a connection with foreign keys as
/// given; the reference one file at a time, each on a new connection with
/// foreign keys off (the state strata documents for every migration).
fn sqlite_case(picks: &[(usize, bool)], enforced: bool) -> Result<(), TestCaseError> {
    let files = files(SQLITE_BASE, SQLITE_STEPS, picks);
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    for sql in &files {
        let conn = Connection::open(&reference).unwrap();
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute_batch(sql).unwrap();
    }
    let folder = write_folder(&files);
    let ours = dir.path().join("strata.db");
    let mut conn = Connection::open(&ours).unwrap();
    conn.pragma_update(None, "foreign_keys", enforced).unwrap();
    let before = sqlite_settings(&conn);
    let report = Migrations::from_dir(folder.path())
        .unwrap()
        .run(&mut conn)
        .map_err(|e| TestCaseError::fail(format!("{e}\nfiles: {files:#?}")))?;
    prop_assert_eq!(report.applied.len(), files.len());
    prop_assert_eq!(sqlite_settings(&conn), before, "settings after the run");
    let history: Vec<(i64, bool)> = conn
        .prepare("SELECT version, dirty FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(i64, bool)> = (1..=files.len() as i64).map(|v| (v, false)).collect();
    prop_assert_eq!(history, expected);
    let theirs = sqlite_dump(&Connection::open(&reference).unwrap());
    prop_assert_eq!(sqlite_dump(&conn), theirs, "files: {:#?}", files);
    Ok(())
}

#[test]
fn sqlite_sequences_match_a_run_of_each_file_on_a_fresh_connection() {
    let cases = common::reliability::count(48, 256) as u32;
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let strategy = (
        prop::collection::vec((0..SQLITE_STEPS.len(), any::<bool>()), 1..8),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(picks, enforced)| sqlite_case(&picks, enforced))
        .unwrap();
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::common::pg::TestDb;
    use std::process::Command;
    use strata::postgres::Client;

    /// What every PostgreSQL sequence starts from: a table whose trigger
    /// writes to another (off under `session_replication_role = replica`).
    const BASE: &str = "CREATE TABLE public.obs (step int, what text, value text);
CREATE TABLE public.fired (step int);
CREATE FUNCTION public.fire() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.fired VALUES (NEW.step); RETURN NEW; END $$;
CREATE TRIGGER obs_fire AFTER INSERT ON public.obs FOR EACH ROW EXECUTE FUNCTION public.fire();
CREATE FUNCTION public.wander() RETURNS text LANGUAGE sql AS $$ SELECT pg_catalog.set_config('search_path', 'pg_catalog, public', false) $$;
";

    /// `{role}` is a role of the test's own, without rights.
    const STEPS: &[Step] = &[
        ("CREATE SCHEMA s{i};\nSET search_path = s{i};", true),
        (
            "SELECT pg_catalog.set_config('search_path', '', false);",
            true,
        ),
        ("SET ROLE {role};", true),
        ("SET statement_timeout = '7s';\nSET lock_timeout = 0;", true),
        ("SET session_replication_role = replica;", true),
        (
            "SET work_mem = '2MB';\nSET check_function_bodies = false;",
            true,
        ),
        (
            "BEGIN;\nSET LOCAL work_mem = '3MB';\nCREATE TABLE public.b{i} (v text);\nINSERT INTO public.b{i} VALUES (current_setting('work_mem'));\nCOMMIT;",
            false,
        ),
        (
            "CREATE TABLE t{i} (id int);\nINSERT INTO public.obs VALUES ({i}, 'seen', concat_ws('|', current_setting('search_path'), current_user, current_setting('statement_timeout'), current_setting('session_replication_role'), current_setting('work_mem'), current_setting('check_function_bodies')));",
            true,
        ),
        (
            "CREATE INDEX CONCURRENTLY obs_{i} ON public.obs (step);",
            false,
        ),
        // A setting changed by a function: the file's text does not show it.
        ("SELECT public.wander();", true),
    ];

    /// Tables with their schema and owner, and the rows of the tables the
    /// steps write.
    fn dump(client: &mut Client) -> Vec<String> {
        let mut out: Vec<String> = client
            .query(
                "SELECT schemaname || '.' || tablename || ' owner ' || tableowner FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'schema_migrations' ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        out.extend(
            client
                .query(
                    "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0)),
        );
        for table in ["public.obs", "public.fired"] {
            let rows: Vec<String> = client
                .query(&format!("SELECT t::text FROM {table} t ORDER BY 1"), &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            out.push(format!("{table}: {rows:?}"));
        }
        out
    }

    /// Drops every schema the steps made and empties `public`.
    fn reset(client: &mut Client) {
        let schemas: Vec<String> = client
            .query(
                "SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public')",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut sql = "DROP SCHEMA public CASCADE; CREATE SCHEMA public;".to_owned();
        for schema in schemas {
            sql.push_str(&format!(" DROP SCHEMA \"{schema}\" CASCADE;"));
        }
        client.batch_execute(&sql).unwrap();
    }

    fn settings(client: &mut Client) -> Vec<String> {
        let row = client
            .query_one(
                "SELECT current_setting('search_path'), current_user::text, current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('session_replication_role'), current_setting('work_mem'), current_setting('check_function_bodies')",
                &[],
            )
            .unwrap();
        (0..7).map(|i| row.get(i)).collect()
    }

    fn psql(url: &str, sql: &str) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.sql");
        std::fs::write(&path, sql).unwrap();
        let output = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
            .arg(&path)
            .output()
            .expect("psql runs (CI installs the PostgreSQL client)");
        assert!(
            output.status.success(),
            "psql failed on {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    #[test]
    fn postgres_sequences_match_psql_running_each_file_in_a_new_session() {
        let (Some(ours), Some(theirs)) = (TestDb::new("seq_strata"), TestDb::new("seq_psql"))
        else {
            return;
        };
        let role = format!("strata_seq_{}", std::process::id());
        let mut admin = ours.client();
        admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} NOLOGIN"
            ))
            .unwrap();
        let clients = std::cell::RefCell::new((ours.client(), theirs.client()));
        let cases = common::reliability::count(24, 128) as u32;
        let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
        let strategy = prop::collection::vec((0..STEPS.len(), any::<bool>()), 1..7);
        let result = runner.run(&strategy, |picks| {
            let (client, reference) = &mut *clients.borrow_mut();
            reset(client);
            reset(reference);
            let files: Vec<String> = files(BASE, STEPS, &picks)
                .into_iter()
                .map(|sql| sql.replace("{role}", &role))
                .collect();
            for sql in &files {
                psql(&theirs.url, sql);
            }
            let folder = write_folder(&files);
            let before = settings(client);
            let report = Migrations::from_dir(folder.path())
                .unwrap()
                .run(client)
                .map_err(|e| TestCaseError::fail(format!("{e}\nfiles: {files:#?}")))?;
            prop_assert_eq!(report.applied.len(), files.len());
            prop_assert_eq!(settings(client), before, "settings after the run");
            let history: Vec<(i64, bool)> = client
                .query(
                    "SELECT version, dirty FROM public.schema_migrations ORDER BY version",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let expected: Vec<(i64, bool)> = (1..=files.len() as i64).map(|v| (v, false)).collect();
            prop_assert_eq!(history, expected);
            prop_assert_eq!(dump(client), dump(reference), "files: {:#?}", files);
            Ok(())
        });
        let _ = admin.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"));
        result.unwrap();
    }
}
