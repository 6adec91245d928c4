//! PostgreSQL: the history table has a fixed, explicit schema. Named
//! (`app.schema_migrations`), or the one current when a run begins; every
//! history statement names it, whatever search path a migration sets and
//! whatever temporary table shadows the name.
#![cfg(feature = "postgres")]

mod common;

use common::pg::TestDb;
use common::{folder, load};
use strata::Error;
use strata::postgres::Client;

fn rows(client: &mut Client, table: &str) -> Vec<(i64, bool)> {
    client
        .query(
            &format!("SELECT version, dirty FROM {table} ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn tables_in(client: &mut Client, schema: &str) -> Vec<String> {
    client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY 1",
            &[&schema],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Two services in two schemas of one database, each with its own history
/// table, migrate at the same time and neither touches the other's.
#[test]
fn two_services_in_two_schemas_migrate_independently() {
    let Some(db) = TestDb::new("two_services") else {
        return;
    };
    let service = |schema: &'static str, count: usize| {
        let mut files = Vec::new();
        for v in 1..=count {
            files.push((
                format!("{v}_t{v}.up.sql"),
                format!("CREATE TABLE {schema}.t{v} (id int);\n"),
            ));
            files.push((
                format!("{v}_t{v}.down.sql"),
                format!("DROP TABLE {schema}.t{v};\n"),
            ));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str()))
            .collect();
        folder(&files)
    };
    let (a, b) = (service("a", 3), service("b", 2));
    let runs: Vec<_> = [("a", a), ("b", b)]
        .into_iter()
        .map(|(schema, dir)| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut client = Client::connect(&url, strata::postgres::NoTls).unwrap();
                load(&dir)
                    .runner()
                    .table(format!("{schema}.schema_migrations"))
                    .run(&mut client)
                    .map(|report| report.applied.len())
            })
        })
        .collect();
    let applied: Vec<usize> = runs
        .into_iter()
        .map(|run| run.join().unwrap().unwrap())
        .collect();
    assert_eq!(applied, [3, 2]);
    let mut client = db.client();
    assert_eq!(
        rows(&mut client, "a.schema_migrations"),
        [(1, false), (2, false), (3, false)]
    );
    assert_eq!(
        rows(&mut client, "b.schema_migrations"),
        [(1, false), (2, false)]
    );
    assert_eq!(tables_in(&mut client, "public"), Vec::<String>::new());
    assert_eq!(
        tables_in(&mut client, "a"),
        ["schema_migrations", "t1", "t2", "t3"]
    );
    assert_eq!(
        tables_in(&mut client, "b"),
        ["schema_migrations", "t1", "t2"]
    );
}

/// A migration points the search path at another service's schema, even
/// at its commit (a deferred trigger): strata's rows stay in its own table,
/// and the other service's table is untouched.
#[test]
fn the_history_stays_in_its_schema_whatever_the_search_path() {
    let Some(db) = TestDb::new("history_schema") else {
        return;
    };
    let mut client = db.client();
    // The other service, already migrated.
    client
        .batch_execute(
            "CREATE SCHEMA other;
             CREATE TABLE other.schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, chain text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms bigint NOT NULL, dirty boolean NOT NULL DEFAULT false);",
        )
        .unwrap();
    let dir = folder(&[
        (
            "1_wander.up.sql",
            "CREATE TABLE public.marks (id int);
CREATE FUNCTION public.wander() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('search_path', 'other', false); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER marks_wander AFTER INSERT ON public.marks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.wander();
INSERT INTO public.marks VALUES (1);
",
        ),
        ("1_wander.down.sql", "DROP TABLE public.marks; DROP FUNCTION public.wander();"),
        ("2_plain.up.sql", "SET search_path = other;\nCREATE TABLE public.p (id int);\n"),
        ("2_plain.down.sql", "DROP TABLE public.p;"),
        ("3_after.up.sql", "CREATE TABLE public.q (id int);\n"),
        ("3_after.down.sql", "DROP TABLE public.q;"),
    ]);
    let report = load(&dir).run(&mut client).unwrap();
    assert_eq!(report.applied.len(), 3);
    assert_eq!(
        rows(&mut client, "public.schema_migrations"),
        [(1, false), (2, false), (3, false)]
    );
    assert_eq!(rows(&mut client, "other.schema_migrations"), []);
}

/// A temporary table named like the history table takes none of its rows,
/// in the run that creates it and in the next run on the same session.
#[test]
fn a_temporary_table_named_like_the_history_table_takes_nothing() {
    let Some(db) = TestDb::new("temp_shadow") else {
        return;
    };
    let mut client = db.client();
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_shadow.up.sql",
            "CREATE TEMP TABLE schema_migrations (LIKE public.schema_migrations INCLUDING ALL);",
        ),
        ("2_shadow.down.sql", "SELECT 1;"),
        ("3_c.up.sql", "CREATE TABLE c (id int);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ]);
    assert_eq!(load(&dir).run(&mut client).unwrap().applied.len(), 3);
    assert_eq!(
        rows(&mut client, "public.schema_migrations"),
        [(1, false), (2, false), (3, false)]
    );
    assert!(load(&dir).run(&mut client).unwrap().is_empty());
    let status = load(&dir).runner().status(&mut db.client()).unwrap();
    assert!(
        status
            .entries
            .iter()
            .all(|e| e.state == strata::MigrationState::Applied)
    );
}

/// A named schema that is missing is created; a table of another shape
/// there is named with its schema; a session without a current schema is
/// told to name one.
#[test]
fn a_named_schema_is_created_and_named_in_errors() {
    let Some(db) = TestDb::new("named_schema") else {
        return;
    };
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE public.a (id int);"),
        ("1_a.down.sql", "DROP TABLE public.a;"),
    ]);
    let mut client = db.client();
    load(&dir)
        .runner()
        .table("\"Ops Team\".\"History\"")
        .run(&mut client)
        .unwrap();
    assert_eq!(rows(&mut client, "\"Ops Team\".\"History\""), [(1, false)]);

    client
        .batch_execute("CREATE SCHEMA legacy; CREATE TABLE legacy.schema_migrations (id int)")
        .unwrap();
    let err = load(&dir)
        .runner()
        .table("legacy.schema_migrations")
        .run(&mut client)
        .unwrap_err();
    assert!(
        matches!(err.failure(), Error::ForeignHistoryTable { table, .. } if table == "legacy.schema_migrations"),
        "{err:?}"
    );

    client
        .batch_execute("SELECT set_config('search_path', '', false)")
        .unwrap();
    let err = load(&dir).run(&mut client).unwrap_err();
    assert!(
        matches!(err.failure(), Error::NoSchema { table, .. } if table == "schema_migrations"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("--table app.schema_migrations"),
        "{err}"
    );
}

/// A migration that drops the history table's schema (as `pg_dump --clean`
/// output does): the error names the schema, the table and the file, and
/// the migration is rolled back with it.
#[test]
fn a_migration_that_drops_the_history_schema_is_named() {
    let Some(db) = TestDb::new("history_dropped") else {
        return;
    };
    let dir = folder(&[
        ("1_a.up.sql", "CREATE TABLE public.a (id int);"),
        ("1_a.down.sql", "DROP TABLE public.a;"),
        (
            "2_clean.up.sql",
            "DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\nCREATE TABLE public.b (id int);\n",
        ),
        ("2_clean.down.sql", "DROP TABLE public.b;"),
    ]);
    let mut client = db.client();
    let err = load(&dir).run(&mut client).unwrap_err();
    match err.failure() {
        Error::HistoryTable {
            table,
            version: 2,
            file,
            in_transaction: true,
            ..
        } => {
            assert_eq!(table, "public.schema_migrations");
            assert!(file.ends_with("2_clean.up.sql"), "{file}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("relation \"public.schema_migrations\" does not exist"),
        "{err}"
    );
    assert_eq!(tables_in(&mut client, "public"), ["a", "schema_migrations"]);
    assert_eq!(rows(&mut client, "public.schema_migrations"), [(1, false)]);
}

/// The history began in `public`; then the database's search path put
/// another schema first. strata does not start a second history there
/// (which would run every migration again): it says where the table is.
#[test]
fn a_changed_search_path_does_not_start_a_second_history() {
    let Some(db) = TestDb::new("history_moved") else {
        return;
    };
    let database = db.url.rsplit('/').next().unwrap().to_owned();
    let dir = folder(&[
        (
            "1_app.up.sql",
            "CREATE SCHEMA IF NOT EXISTS app;\nCREATE TABLE IF NOT EXISTS app.users (id int);",
        ),
        ("1_app.down.sql", "DROP TABLE app.users;\nDROP SCHEMA app;"),
        (
            "2_path.up.sql",
            &format!("ALTER DATABASE {database} SET search_path = app, public;"),
        ),
        (
            "2_path.down.sql",
            &format!("ALTER DATABASE {database} RESET search_path;"),
        ),
        ("3_more.up.sql", "CREATE TABLE app.more (id int);"),
        ("3_more.down.sql", "DROP TABLE app.more;"),
    ]);
    let migrations = load(&dir);
    migrations.runner().target(2).run(&mut db.client()).unwrap();
    // A new session: the current schema is now app.
    let mut client = db.client();
    let err = migrations.run(&mut client).unwrap_err();
    match err.failure() {
        Error::HistoryTableElsewhere {
            table,
            current,
            found,
            ..
        } => {
            assert_eq!(
                (table.as_str(), current.as_str(), found.as_str()),
                ("schema_migrations", "app", "public")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(tables_in(&mut client, "app"), ["users"]);
    assert_eq!(
        rows(&mut client, "public.schema_migrations"),
        [(1, false), (2, false)]
    );
    // Named, it goes on where it was.
    let report = migrations
        .runner()
        .table("public.schema_migrations")
        .run(&mut client)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(
        rows(&mut client, "public.schema_migrations"),
        [(1, false), (2, false), (3, false)]
    );
}
