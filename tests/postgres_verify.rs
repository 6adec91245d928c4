//! PostgreSQL verify sees every schema and never leaves anything behind:
//! one transaction that is always rolled back, or, for a folder with a
//! migration outside a transaction, a scratch database that verify creates
//! and drops. The database is the authority: `pg_dump -s` before and after
//! is the same.
#![cfg(feature = "postgres")]

mod common;

use std::sync::{Mutex, MutexGuard, PoisonError};

use common::folder;
use common::pg::{TestDb, dump, scratch_databases};
use common::pg_kinds::{BASE_DOWN, BASE_UP, KINDS};
use strata::postgres::{Client, Config, NoTls};
use strata::{Error, Migrations, VerifyFailure};

/// Every verify drops the scratch databases it finds unused: the tests of
/// this file, which make some, run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

fn scratch_schemas(client: &mut Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'strata_verify%'",
            &[],
        )
        .unwrap()
        .get(0)
}

fn case(up: &str, down: &str) -> tempfile::TempDir {
    let up = format!("SELECT pg_catalog.set_config('search_path', '', false);\n{up}\n");
    folder(&[
        ("1_base.up.sql", BASE_UP),
        ("1_base.down.sql", BASE_DOWN),
        ("2_case.up.sql", &up),
        ("2_case.down.sql", down),
    ])
}

/// For every kind of object: a right down passes, a down that forgets it
/// is named, and the database is as before either way.
#[test]
fn verify_names_every_kind_of_object_a_down_forgets() {
    let Some(db) = TestDb::new("verify_kinds") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    let before = dump(&db.url, &[]);
    let path: String = client.query_one("SHOW search_path", &[]).unwrap().get(0);
    for &(up, down, named) in KINDS {
        let right = Migrations::from_dir(case(up, down).path()).unwrap();
        if let Err(e) = right.verify(&mut client) {
            panic!("a right down fails verify:\n{up}\n{down}\n{e}");
        }
        let wrong = Migrations::from_dir(case(up, "SELECT 1;").path()).unwrap();
        let text = match wrong.verify(&mut client) {
            Err(Error::VerifyFailed(failures)) => {
                assert_eq!(failures.report.checked, [1, 2]);
                failures.to_string()
            }
            other => panic!("a down that forgets {up:?} passes verify: {other:?}"),
        };
        assert!(
            text.contains(named) && text.contains("2_case.down.sql"),
            "{up}\nexpected {named:?} in:\n{text}"
        );
    }
    assert_eq!(dump(&db.url, &[]), before, "verify left something behind");
    assert_eq!(scratch_schemas(&mut client), 0);
    let path_after: String = client.query_one("SHOW search_path", &[]).unwrap().get(0);
    assert_eq!(path, path_after);
}

/// The inputs that failed before: a migration that empties the search path
/// (pg_dump's header) and names every object with its schema. verify used
/// to panic, or pass without comparing anything, and to leave the tables
/// in the real database. Later migrations that name the same objects
/// without a schema are checked against those objects, as `up` would run
/// them: a down that drops what an earlier migration made is named.
#[test]
fn verify_of_schema_qualified_sql_compares_and_leaves_nothing() {
    let Some(db) = TestDb::new("verify_qualified") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    // An extension the database has already, which migrations use.
    client.batch_execute("CREATE EXTENSION citext").unwrap();
    let before = dump(&db.url, &[]);
    let dir = folder(&[
        (
            "1_init.up.sql",
            "SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok');
CREATE TABLE public.users (id serial PRIMARY KEY, name public.citext NOT NULL, mood app.mood);
CREATE VIEW app.names AS SELECT name FROM public.users;
CREATE FUNCTION public.norm(t text) RETURNS text LANGUAGE sql AS $$SELECT lower(t)$$;
",
        ),
        (
            "1_init.down.sql",
            "DROP FUNCTION public.norm(text);\nDROP VIEW app.names;\nDROP TABLE public.users;\nDROP TYPE app.mood;\nDROP SCHEMA app;\n",
        ),
        (
            "2_index.up.sql",
            "SET search_path = '';\nCREATE INDEX users_mood ON public.users (mood);\nALTER TABLE public.users ADD COLUMN note text;\n",
        ),
        (
            "2_index.down.sql",
            "ALTER TABLE public.users DROP COLUMN note;\n",
        ),
        (
            "3_norm.up.sql",
            "CREATE OR REPLACE FUNCTION norm(t text) RETURNS text LANGUAGE sql AS $$SELECT lower(trim(t))$$;\n",
        ),
        ("3_norm.down.sql", "DROP FUNCTION norm(text);\n"),
        (
            "4_users.up.sql",
            "CREATE TABLE IF NOT EXISTS users (id int);\n",
        ),
        ("4_users.down.sql", "DROP TABLE users CASCADE;\n"),
    ]);
    let err = Migrations::from_dir(dir.path())
        .unwrap()
        .verify(&mut client)
        .unwrap_err();
    let text = err.to_string();
    for expected in [
        "index users_mood (CREATE INDEX users_mood ON public.users USING btree (mood)) left behind by 2_index.down.sql",
        "function norm(t text) missing after 3_norm.down.sql",
        "table users missing after 4_users.down.sql",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert_eq!(dump(&db.url, &[]), before, "verify left something behind");
    // With right downs it passes, and the folder applies for real
    // afterwards: nothing was left to collide with.
    for (file, text) in [
        (
            "2_index.down.sql",
            "DROP INDEX public.users_mood;\nALTER TABLE public.users DROP COLUMN note;\n",
        ),
        (
            "3_norm.down.sql",
            "CREATE OR REPLACE FUNCTION norm(t text) RETURNS text LANGUAGE sql AS $$SELECT lower(t)$$;\n",
        ),
        ("4_users.down.sql", "SELECT 1;\n"),
    ] {
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    assert_eq!(
        migrations.verify(&mut client).unwrap().checked,
        [1, 2, 3, 4]
    );
    assert_eq!(dump(&db.url, &[]), before);
    assert_eq!(migrations.run(&mut client).unwrap().applied.len(), 4);
}

/// What a migration's commit checks, verify checks at the end of each
/// migration, although it runs them in one transaction: a deferred foreign
/// key violated is named with its file, and a deferred key does not fail
/// a later migration for pending events. An enum value added by one
/// migration and used by a later one needs commits: verify says so.
#[test]
fn verify_checks_at_each_migration_what_its_commit_would() {
    let Some(db) = TestDb::new("verify_commit") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    let base = [
        (
            "1_a.up.sql",
            "CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (id int, parent int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);",
        ),
        ("1_a.down.sql", "DROP TABLE child;\nDROP TABLE parent;"),
    ];
    let seed = [
        (
            "2_seed.up.sql",
            "INSERT INTO child VALUES (1, 7);\nINSERT INTO parent VALUES (7);",
        ),
        ("2_seed.down.sql", "DELETE FROM child;\nDELETE FROM parent;"),
        ("3_more.up.sql", "ALTER TABLE child ADD COLUMN note text;"),
        ("3_more.down.sql", "ALTER TABLE child DROP COLUMN note;"),
    ];
    let files: Vec<_> = base.iter().chain(&seed).copied().collect();
    let report = Migrations::from_dir(folder(&files).path())
        .unwrap()
        .verify(&mut client)
        .unwrap();
    assert_eq!(report.checked, [1, 2, 3]);

    let broken = [
        ("2_seed.up.sql", "INSERT INTO child VALUES (1, 42);"),
        ("2_seed.down.sql", "DELETE FROM child;"),
    ];
    let files: Vec<_> = base.iter().chain(&broken).copied().collect();
    let text = Migrations::from_dir(folder(&files).path())
        .unwrap()
        .verify(&mut client)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(
            "2_seed.up.sql: insert or update on table \"child\" violates foreign key constraint"
        ) && text.contains("(in `COMMIT`)"),
        "{text}"
    );
    // The same at `up`'s own commit.
    let err = Migrations::from_dir(folder(&files).path())
        .unwrap()
        .run(&mut client)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "2_seed.up.sql: insert or update on table \"child\" violates foreign key constraint"
        ) && err.contains("(in `COMMIT`)"),
        "{err}"
    );

    let dir = folder(&[
        (
            "1_mood.up.sql",
            "CREATE TYPE mood AS ENUM ('a', 'b');\nCREATE TABLE t (m mood);",
        ),
        ("1_mood.down.sql", "DROP TABLE t;\nDROP TYPE mood;"),
        ("2_value.up.sql", "ALTER TYPE mood ADD VALUE 'c';"),
        ("2_value.down.sql", "-- strata:irreversible"),
        (
            "3_use.up.sql",
            "ALTER TABLE t ALTER COLUMN m SET DEFAULT 'c';",
        ),
        (
            "3_use.down.sql",
            "ALTER TABLE t ALTER COLUMN m DROP DEFAULT;",
        ),
    ]);
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    let fresh_db = TestDb::new("verify_commit_enum").unwrap();
    let mut fresh = fresh_db.client();
    match migrations.verify(&mut fresh).unwrap_err() {
        Error::VerifyNeedsScratchDatabase {
            version: 3,
            file,
            new_enum_value: true,
            ..
        } => assert!(file.ends_with("3_use.up.sql"), "{file}"),
        other => panic!("{other}"),
    }
    let config: Config = db.url.parse().unwrap();
    let report = migrations.verify_postgres_scratch(&config, NoTls).unwrap();
    assert_eq!(report.checked, [1, 3]);
    assert_eq!(report.irreversible, [2]);
}

/// A folder with a migration outside a transaction: verify on a client says
/// it needs a scratch database and touches nothing; verify_postgres_scratch
/// creates one, finds the wrong down there, and drops it. A scratch
/// database left by a killed verify is dropped by the next and named; one
/// in use is left alone.
#[test]
fn a_no_transaction_folder_is_verified_in_a_scratch_database() {
    let Some(db) = TestDb::new("verify_scratch") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    let before = dump(&db.url, &[]);
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int, body text);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "-- strata:no-transaction\nCREATE INDEX CONCURRENTLY a_body ON a (body);\nALTER TABLE a ADD COLUMN extra int;\n",
        ),
        (
            "2_b.down.sql",
            "-- strata:no-transaction\nDROP INDEX CONCURRENTLY a_body;\n",
        ),
        ("3_c.up.sql", "CREATE TABLE c (id int);"),
        ("3_c.down.sql", "DROP TABLE c;"),
        // Needs the index that 2's wrong down dropped: checked on a new
        // scratch database built from the up files, it passes.
        ("4_d.up.sql", "ALTER INDEX a_body RENAME TO a_text;"),
        ("4_d.down.sql", "ALTER INDEX a_text RENAME TO a_body;"),
    ]);
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    match migrations.verify(&mut client).unwrap_err() {
        Error::VerifyNeedsScratchDatabase {
            version: 2,
            file,
            new_enum_value: false,
            ..
        } => {
            assert!(file.ends_with("2_b.up.sql"), "{file}");
        }
        other => panic!("{other:?}"),
    }

    // Left by a verify that was killed, and one that a verify still uses:
    // its session holds the advisory lock on the name, inside it.
    for name in ["strata_verify_1_2", "strata_verify_3_4"] {
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
    }
    let config: Config = db.url.parse().unwrap();
    let mut user = config
        .clone()
        .dbname("strata_verify_3_4")
        .connect(NoTls)
        .unwrap();
    user.batch_execute(
        "SELECT pg_advisory_lock(('x' || encode(substring(sha256('strata_verify'::bytea || '\\x00'::bytea || 'strata_verify_3_4'::bytea || '\\x00'::bytea) FROM 1 FOR 8), 'hex'))::bit(64)::bigint)",
    )
    .unwrap();

    let err = migrations
        .verify_postgres_scratch(&config, NoTls)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("table a: column extra (integer) left behind by 2_b.down.sql"),
        "{text}"
    );
    assert!(
        text.contains(
            "dropped the scratch database strata_verify_1_2, left by a verify that was interrupted"
        ),
        "{text}"
    );
    match err {
        Error::VerifyFailed(failures) => {
            assert!(
                matches!(
                    failures.failures.as_slice(),
                    [VerifyFailure::NotReverted { version: 2, .. }]
                ),
                "{failures}"
            );
            assert_eq!(failures.report.checked, [1, 2, 3, 4]);
            assert_eq!(failures.report.dropped, ["strata_verify_1_2"]);
            assert_eq!(failures.report.in_use, ["strata_verify_3_4"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(scratch_databases(&mut client), ["strata_verify_3_4"]);
    user.batch_execute("SELECT 1").unwrap();
    drop(user);

    std::fs::write(
        dir.path().join("2_b.down.sql"),
        "-- strata:no-transaction\nDROP INDEX CONCURRENTLY a_body;\nALTER TABLE a DROP COLUMN extra;\n",
    )
    .unwrap();
    let report = Migrations::from_dir(dir.path())
        .unwrap()
        .verify_postgres_scratch(&config, NoTls)
        .unwrap();
    assert_eq!(report.checked, [1, 2, 3, 4]);
    assert_eq!(report.dropped, ["strata_verify_3_4"]);
    assert!(
        report
            .to_string()
            .contains("dropped the scratch database strata_verify_3_4")
    );
    assert_eq!(scratch_databases(&mut client), Vec::<String>::new());
    assert_eq!(
        dump(&db.url, &[]),
        before,
        "the database it was given is as before"
    );
}

/// A role that may not create databases is told what it lacks.
#[test]
fn without_createdb_the_error_says_so() {
    let Some(db) = TestDb::new("verify_createdb") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    let role = format!("strata_nocreatedb_{}", std::process::id());
    client
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN NOCREATEDB"
        ))
        .unwrap();
    let mut config: Config = db.url.parse().unwrap();
    config.user(&role);
    let dir = folder(&[
        (
            "1_a.up.sql",
            "-- strata:no-transaction\nCREATE TABLE a (id int);",
        ),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]);
    let result = Migrations::from_dir(dir.path())
        .unwrap()
        .verify_postgres_scratch(&config, NoTls);
    client.batch_execute(&format!("DROP ROLE {role}")).unwrap();
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::ScratchDatabase { created: false, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("(the role needs CREATEDB: `ALTER ROLE ... CREATEDB`")
            && text.contains("permission denied to create database"),
        "{text}"
    );
}

/// verify inside the caller's transaction is refused, and the caller's
/// transaction is left as it was.
#[test]
fn verify_refuses_a_connection_inside_a_transaction() {
    let Some(db) = TestDb::new("verify_in_tx") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]);
    client
        .batch_execute("BEGIN; CREATE TABLE mine (id int)")
        .unwrap();
    let err = Migrations::from_dir(dir.path())
        .unwrap()
        .verify(&mut client)
        .unwrap_err();
    assert!(matches!(err, Error::InTransaction), "{err:?}");
    client.batch_execute("COMMIT").unwrap();
    let mine: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'mine'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(mine, 1);
}

/// A function whose body a down file does not put back is named, with
/// the body before and after.
#[test]
fn a_changed_function_body_is_named_as_written() {
    let Some(db) = TestDb::new("verify_body") else {
        return;
    };
    let _serial = one_at_a_time();
    let mut client = db.client();
    let dir = folder(&[
        (
            "1_f.up.sql",
            "CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 41';",
        ),
        ("1_f.down.sql", "DROP FUNCTION answer();"),
        (
            "2_f.up.sql",
            "CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42';",
        ),
        ("2_f.down.sql", "SELECT 1;"),
    ]);
    let text = Migrations::from_dir(dir.path())
        .unwrap()
        .verify(&mut client)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("function answer() is defined differently after 2_f.down.sql: CREATE OR REPLACE FUNCTION public.answer() RETURNS integer LANGUAGE sql AS $function$SELECT 42$function$, was CREATE OR REPLACE FUNCTION public.answer() RETURNS integer LANGUAGE sql AS $function$SELECT 41$function$"),
        "{text}"
    );
    assert!(!text.contains("strata_verify"), "{text}");
}

/// A migration that deallocates the session's prepared statements does
/// not break verify's own.
#[test]
fn a_migration_that_deallocates_prepared_statements() {
    let Some(db) = TestDb::new("verify_deallocate") else {
        return;
    };
    let _serial = one_at_a_time();
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "DEALLOCATE ALL;\nCREATE TABLE b (id int);"),
        ("2_b.down.sql", "DEALLOCATE ALL;\nDROP TABLE b;"),
    ]);
    let report = Migrations::from_dir(dir.path())
        .unwrap()
        .verify(&mut db.client())
        .unwrap();
    assert_eq!(report.checked, [1, 2]);
}

/// Where verify and `up` used to disagree: a down that fails at its
/// commit (a deferred key), a migration that reads or drops the history
/// table, a migration that makes constraints immediate for itself, a new
/// schema named like the role (which becomes the current schema), options
/// set in another order, and white space inside a function's literal.
#[test]
fn verify_agrees_with_up() {
    let Some(db) = TestDb::new("verify_agrees") else {
        return;
    };
    let _serial = one_at_a_time();
    let config: Config = db.url.parse().unwrap();
    let verify = |files: &[(&str, &str)]| {
        let migrations = Migrations::from_dir(folder(files).path()).unwrap();
        let in_transaction = migrations.verify(&mut db.client());
        let scratch = migrations.verify_postgres_scratch(&config, NoTls);
        // The same findings (the lines about leftovers aside).
        let findings = |result: &strata::Result<strata::VerifyReport>| match result {
            Ok(report) => Ok(report.checked.clone()),
            Err(Error::VerifyFailed(failures)) => {
                Err(failures.failures.iter().map(ToString::to_string).collect())
            }
            Err(e) => Err(vec![e.to_string()]),
        };
        assert_eq!(
            findings(&in_transaction),
            findings(&scratch),
            "the two ways disagree"
        );
        scratch
    };
    let keyed = [
        (
            "1_a.up.sql",
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);",
        ),
        ("1_a.down.sql", "DROP TABLE c;\nDROP TABLE p;"),
    ];
    let with = |more: &[(&'static str, &'static str)]| {
        keyed.iter().chain(more).copied().collect::<Vec<_>>()
    };

    // The down deletes the parent row its child still needs: its commit
    // would fail.
    let text = verify(&with(&[
        (
            "2_seed.up.sql",
            "INSERT INTO p VALUES (42);\nINSERT INTO c VALUES (1, 42);",
        ),
        ("2_seed.down.sql", "DELETE FROM p;"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("down failed: ")
            && text.contains(
                "2_seed.down.sql: update or delete on table \"p\" violates foreign key constraint"
            )
            && text.contains("(in `COMMIT`)"),
        "{text}"
    );

    // A migration that makes the constraints immediate for itself does not
    // make them so for the next one.
    let report = verify(&with(&[
        (
            "2_now.up.sql",
            "SET CONSTRAINTS ALL IMMEDIATE;\nINSERT INTO p VALUES (42);\nINSERT INTO c VALUES (1, 42);",
        ),
        ("2_now.down.sql", "DELETE FROM c;\nDELETE FROM p;"),
        ("3_later.up.sql", "INSERT INTO c VALUES (2, 43);\nINSERT INTO p VALUES (43);"),
        ("3_later.down.sql", "DELETE FROM c WHERE id = 2;\nDELETE FROM p WHERE id = 43;"),
    ]))
    .unwrap();
    assert_eq!(report.checked, [1, 2, 3]);

    // The history table is there to read, and dropping it is named.
    let report = verify(&[
        (
            "1_view.up.sql",
            "CREATE VIEW app_version AS SELECT max(version) AS v FROM schema_migrations;",
        ),
        ("1_view.down.sql", "DROP VIEW app_version;"),
    ])
    .unwrap();
    assert_eq!(report.checked, [1]);
    let text = verify(&[
        (
            "1_clean.up.sql",
            "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\nCREATE TABLE public.a (id int);",
        ),
        ("1_clean.down.sql", "-- strata:irreversible"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("1_clean.up.sql drops or renames the history table public.schema_migrations, so `up` would fail after it"),
        "{text}"
    );

    // A schema named like the role becomes the current one: names in
    // messages do not change with it.
    let report = verify(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_role.up.sql", "CREATE SCHEMA \"postgres\";"),
        ("2_role.down.sql", "DROP SCHEMA \"postgres\";"),
        ("3_b.up.sql", "CREATE TABLE public.b (id int);"),
        ("3_b.down.sql", "DROP TABLE public.b;"),
    ])
    .unwrap();
    assert_eq!(report.checked, [1, 2, 3]);

    // Storage options put back in another order are the same options.
    let report = verify(&[
        (
            "1_t.up.sql",
            "CREATE TABLE t (id int) WITH (fillfactor = 50, autovacuum_enabled = false);",
        ),
        ("1_t.down.sql", "DROP TABLE t;"),
        ("2_reset.up.sql", "ALTER TABLE t RESET (fillfactor);"),
        ("2_reset.down.sql", "ALTER TABLE t SET (fillfactor = 50);"),
    ])
    .unwrap();
    assert_eq!(report.checked, [1, 2]);

    // Index options put back in another order are the same options.
    let report = verify(&[
        (
            "1_r.up.sql",
            "CREATE TABLE r (id int);\nCREATE INDEX ri ON r (id) WITH (fillfactor = 70, deduplicate_items = off);",
        ),
        ("1_r.down.sql", "DROP TABLE r;"),
        ("2_reset.up.sql", "ALTER INDEX ri RESET (fillfactor);"),
        ("2_reset.down.sql", "ALTER INDEX ri SET (fillfactor = 70);"),
    ])
    .unwrap();
    assert_eq!(report.checked, [1, 2]);

    // A history table of another shape stops `up` after the file.
    let text = verify(&[
        (
            "1_column.up.sql",
            "ALTER TABLE schema_migrations ADD COLUMN x int NOT NULL DEFAULT 0;",
        ),
        (
            "1_column.down.sql",
            "ALTER TABLE schema_migrations DROP COLUMN x;",
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("1_column.up.sql changes the history table public.schema_migrations, so `up` would fail after it: table public.schema_migrations exists but is not a strata history table"),
        "{text}"
    );

    // White space inside a literal is part of the function.
    let text = verify(&[
        (
            "1_f.up.sql",
            "CREATE FUNCTION greeting() RETURNS text LANGUAGE sql AS $$SELECT 'hello  world'$$;",
        ),
        ("1_f.down.sql", "DROP FUNCTION greeting();"),
        (
            "2_f.up.sql",
            "CREATE OR REPLACE FUNCTION greeting() RETURNS text LANGUAGE sql AS $$SELECT 'hello world'$$;",
        ),
        (
            "2_f.down.sql",
            "CREATE OR REPLACE FUNCTION greeting() RETURNS text LANGUAGE sql AS $$SELECT 'hello world'$$;",
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("function greeting() is defined differently after 2_f.down.sql, in white space inside a literal or a body"),
        "{text}"
    );
}

/// A verify that started from another database holds the lock on its
/// scratch database's name there, before that database exists: a verify
/// from here leaves it alone (it used to drop it, with FORCE, between its
/// creation and the lock taken inside it).
#[test]
fn a_scratch_database_another_verify_is_making_is_left_alone() {
    let (Some(db), Some(other)) = (TestDb::new("verify_making"), TestDb::new("verify_making_b"))
    else {
        return;
    };
    let _serial = one_at_a_time();
    let name = format!("strata_verify_{}_1", std::process::id());
    let mut admin = db.client();
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin.batch_execute(&sql).unwrap();
    }
    // The other verify's lock, as strata keys it, in the other database.
    let mut holder = other.client();
    holder
        .execute(
            "SELECT pg_advisory_lock(('x' || left(encode(sha256('strata_verify'::bytea || '\\x00'::bytea
                 || convert_to($1, 'UTF8') || '\\x00'::bytea), 'hex'), 16))::bit(64)::bigint)",
            &[&name],
        )
        .unwrap();
    let migrations = Migrations::from_dir(
        folder(&[
            ("1_t.up.sql", "CREATE TABLE t (id int);"),
            ("1_t.down.sql", "DROP TABLE t;"),
        ])
        .path(),
    )
    .unwrap();
    let config: Config = db.url.parse().unwrap();
    let report = migrations.verify_postgres_scratch(&config, NoTls).unwrap();
    assert_eq!(report.in_use, std::slice::from_ref(&name), "{report:?}");
    assert!(scratch_databases(&mut admin).contains(&name));
    drop(holder);
    // Once that verify is gone, the next one drops what it left.
    let report = migrations.verify_postgres_scratch(&config, NoTls).unwrap();
    assert!(report.dropped.contains(&name), "{report:?}");
}
