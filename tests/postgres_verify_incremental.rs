//! verify in a scratch database keeps its description of the schema from
//! one migration to the next and reads again only what a migration touched
//! (the relations it locked, what depends on them, and everything when an
//! object of the database as a whole changed: see
//! `runtime/src/pg/catalog/changes.rs`). verify in one transaction reads
//! the whole catalog at every migration. Whatever a migration changes, and
//! however the change reaches an object (a rename that changes how a
//! foreign key, a view, a default or a column's type is written), the two
//! must find exactly the same.
#![cfg(feature = "postgres")]

mod common;

use common::folder;
use common::pg::TestDb;
use common::pg_kinds::{BASE_DOWN, BASE_UP, KINDS};
use strata::postgres::{Config, NoTls};
use strata::{Error, Migrations, VerifyReport};

/// What verify found: the migrations checked, or every problem.
type Findings = std::result::Result<Vec<u64>, Vec<String>>;

fn findings(result: &strata::Result<VerifyReport>) -> Findings {
    match result {
        Ok(report) => Ok(report.checked.clone()),
        Err(Error::VerifyFailed(failures)) => {
            Err(failures.failures.iter().map(ToString::to_string).collect())
        }
        Err(e) => Err(vec![e.to_string()]),
    }
}

/// verify of `files` both ways: what it found, the same both ways.
fn both_ways(db: &TestDb, files: &[(&str, &str)]) -> Findings {
    both_ways_with(&db.url.parse().unwrap(), files)
}

/// [`both_ways`], connected with `config`.
fn both_ways_with(config: &Config, files: &[(&str, &str)]) -> Findings {
    let migrations = Migrations::from_dir(folder(files).path()).unwrap();
    let whole = findings(&migrations.verify(&mut config.connect(NoTls).unwrap()));
    let incremental = findings(&migrations.verify_postgres_scratch(config, NoTls));
    assert_eq!(
        incremental, whole,
        "read where it changed (left) and read whole (right) disagree on {files:#?}"
    );
    incremental
}

/// What verify found, as a right down (`wrong` false) or a wrong one
/// should: the migrations `checked`; or problems about `down_file`, one of
/// which holds `named` (with `None`, each names the file).
fn expect(
    found: Findings,
    wrong: bool,
    checked: &[u64],
    down_file: &str,
    named: Option<&str>,
    case: &str,
) {
    match found {
        Ok(got) if !wrong => assert_eq!(got, checked, "{case}"),
        Err(problems) if wrong => match named {
            Some(named) => {
                let text = problems.join("\n");
                assert!(
                    text.contains(named) && text.contains(down_file),
                    "{case}\nexpected {named:?} in:\n{text}"
                );
            }
            None => assert!(
                problems.iter().all(|p| p.contains(down_file)),
                "{case}\n{problems:#?}"
            ),
        },
        other => panic!("{case}\n{other:?}"),
    }
}

/// Migrations after the one under test: the first changes a table the
/// base made, the second makes a new one, so that the description read
/// after the round trip of the one under test is compared again.
const LATER: [(&str, &str); 4] = [
    (
        "8_later.up.sql",
        "ALTER TABLE public.base ADD COLUMN later int;",
    ),
    (
        "8_later.down.sql",
        "ALTER TABLE public.base DROP COLUMN later;",
    ),
    ("9_last.up.sql", "CREATE TABLE public.last (id int);"),
    ("9_last.down.sql", "DROP TABLE public.last;"),
];

/// As [`LATER`], where the migration under test renames what the base
/// made.
const LATER_OWN: [(&str, &str); 4] = [
    ("8_later.up.sql", "CREATE TABLE public.later (id int);"),
    ("8_later.down.sql", "DROP TABLE public.later;"),
    (
        "9_last.up.sql",
        "ALTER TABLE public.later ADD COLUMN name text;",
    ),
    (
        "9_last.down.sql",
        "ALTER TABLE public.later DROP COLUMN name;",
    ),
];

/// Each kind of object, created or changed by a migration between others:
/// a right down passes and a down that forgets it is named, both ways.
#[test]
fn every_kind_of_object_is_seen_where_it_changed() {
    let Some(db) = TestDb::new("incremental_kinds") else {
        return;
    };
    for &(up, down, named) in KINDS {
        let up = format!("SELECT pg_catalog.set_config('search_path', '', false);\n{up}\n");
        for wrong in [false, true] {
            let down = if wrong { "SELECT 1;" } else { down };
            let mut files = vec![
                ("1_base.up.sql", BASE_UP),
                ("1_base.down.sql", BASE_DOWN),
                ("5_case.up.sql", &up),
                ("5_case.down.sql", down),
            ];
            files.extend(LATER);
            let found = both_ways(&db, &files);
            let case = format!("{up}\n{down}");
            expect(
                found,
                wrong,
                &[1, 5, 8, 9],
                "5_case.down.sql",
                Some(named),
                &case,
            );
        }
    }
}

/// Objects that other objects name: a table that foreign keys, a view, a
/// statistics object, a partition, a child table and another table's
/// column (of its row type) name; a sequence a default names and that a
/// column owns; types, a domain and functions that columns, a default, a
/// check and a trigger name; a schema a view reads from.
const NAMED: &str = "CREATE TABLE public.own (id serial PRIMARY KEY, b int REFERENCES public.base (id));
CREATE TABLE public.holder (x public.solo);
CREATE TABLE public.kid () INHERITS (public.solo);
CREATE TABLE public.pt (id int) PARTITION BY RANGE (id);
CREATE TABLE public.pt1 PARTITION OF public.pt FOR VALUES FROM (0) TO (10);
CREATE TYPE public.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN public.pos AS int CHECK (VALUE > 0);
CREATE TYPE public.pair AS (a int, b text);
CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE public.typed (m public.mood, p public.pos, pr public.pair, d int DEFAULT public.f() CHECK (d < public.f() + 10));
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER touch BEFORE INSERT ON public.typed FOR EACH ROW EXECUTE FUNCTION public.touch();
CREATE FUNCTION public.all_solo() RETURNS SETOF public.solo LANGUAGE sql AS 'SELECT * FROM public.solo';
CREATE SCHEMA s9;
CREATE TABLE s9.t (id int REFERENCES public.base (id));
CREATE VIEW public.v9 AS SELECT id FROM s9.t;
ALTER TABLE public.solo ADD CONSTRAINT positive CHECK (id > 0) NOT VALID;
CREATE TABLE public.arronly (x public.solo[] DEFAULT '{}'::public.solo[]);
CREATE VIEW public.varr AS SELECT NULL::public.solo[] AS s;
CREATE DOMAIN public.darr AS int[];
CREATE TABLE public.typed_of OF public.pair;
ALTER TABLE public.typed ADD COLUMN da public.darr;
CREATE INDEX base_pattern ON public.base (name text_pattern_ops);
CREATE INDEX base_fts ON public.base (to_tsvector('english', name));
";

const NAMED_DOWN: &str = "DROP INDEX public.base_fts; DROP INDEX public.base_pattern;
DROP TABLE public.typed_of; DROP VIEW public.varr; DROP TABLE public.arronly;
DROP VIEW public.v9; DROP TABLE s9.t; DROP SCHEMA s9;
DROP FUNCTION public.all_solo(); DROP TABLE public.typed; DROP FUNCTION public.touch();
DROP FUNCTION public.f(); DROP TYPE public.pair; DROP DOMAIN public.darr; DROP DOMAIN public.pos; DROP TYPE public.mood;
DROP TABLE public.pt; DROP TABLE public.kid; DROP TABLE public.holder; DROP TABLE public.own;
ALTER TABLE public.solo DROP CONSTRAINT positive;
";

/// Changes that reach objects other than the one changed, each with a
/// down that reverts it.
const THROUGH: &[(&str, &str)] = &[
    (
        "ALTER TABLE public.base RENAME TO base2;",
        "ALTER TABLE public.base2 RENAME TO base;",
    ),
    (
        "ALTER TABLE public.base RENAME COLUMN id TO ident;",
        "ALTER TABLE public.base RENAME COLUMN ident TO id;",
    ),
    (
        "ALTER TABLE public.solo RENAME TO solo2;",
        "ALTER TABLE public.solo2 RENAME TO solo;",
    ),
    (
        "ALTER TABLE public.solo ADD COLUMN extra int;",
        "ALTER TABLE public.solo DROP COLUMN extra;",
    ),
    (
        "ALTER TABLE public.pt RENAME TO pt_all;",
        "ALTER TABLE public.pt_all RENAME TO pt;",
    ),
    (
        "ALTER TABLE public.own RENAME COLUMN id TO ident;",
        "ALTER TABLE public.own RENAME COLUMN ident TO id;",
    ),
    (
        "ALTER SEQUENCE public.own_id_seq RENAME TO own_seq;",
        "ALTER SEQUENCE public.own_seq RENAME TO own_id_seq;",
    ),
    (
        "ALTER INDEX public.base_lower RENAME TO base_lower2;",
        "ALTER INDEX public.base_lower2 RENAME TO base_lower;",
    ),
    (
        "ALTER INDEX public.base_pkey RENAME TO base_key;",
        "ALTER INDEX public.base_key RENAME TO base_pkey;",
    ),
    (
        "ALTER VIEW public.bv RENAME COLUMN id TO ident;",
        "ALTER VIEW public.bv RENAME COLUMN ident TO id;",
    ),
    (
        "ALTER SCHEMA s9 RENAME TO s10;",
        "ALTER SCHEMA s10 RENAME TO s9;",
    ),
    (
        "ALTER TYPE public.mood RENAME TO feeling;",
        "ALTER TYPE public.feeling RENAME TO mood;",
    ),
    (
        "ALTER TYPE public.mood RENAME VALUE 'ok' TO 'fine';",
        "ALTER TYPE public.mood RENAME VALUE 'fine' TO 'ok';",
    ),
    (
        "ALTER DOMAIN public.pos RENAME TO positive;",
        "ALTER DOMAIN public.positive RENAME TO pos;",
    ),
    (
        "ALTER DOMAIN public.pos ADD CONSTRAINT small CHECK (VALUE < 100);",
        "ALTER DOMAIN public.pos DROP CONSTRAINT small;",
    ),
    (
        "ALTER TYPE public.pair ADD ATTRIBUTE c int CASCADE;",
        "ALTER TYPE public.pair DROP ATTRIBUTE c CASCADE;",
    ),
    (
        "ALTER TYPE public.pair RENAME ATTRIBUTE a TO aa CASCADE;",
        "ALTER TYPE public.pair RENAME ATTRIBUTE aa TO a CASCADE;",
    ),
    (
        "ALTER FUNCTION public.f() RENAME TO g;",
        "ALTER FUNCTION public.g() RENAME TO f;",
    ),
    (
        "ALTER FUNCTION public.touch() RENAME TO touch2;",
        "ALTER FUNCTION public.touch2() RENAME TO touch;",
    ),
    (
        "CREATE OR REPLACE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 2';",
        "CREATE OR REPLACE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
    ),
    (
        "ALTER TABLE public.solo VALIDATE CONSTRAINT positive;",
        "ALTER TABLE public.solo DROP CONSTRAINT positive;
ALTER TABLE public.solo ADD CONSTRAINT positive CHECK (id > 0) NOT VALID;",
    ),
    (
        "ALTER TABLE public.child ALTER CONSTRAINT child_id_fkey DEFERRABLE;",
        "ALTER TABLE public.child ALTER CONSTRAINT child_id_fkey NOT DEFERRABLE;",
    ),
    (
        "ALTER TABLE public.solo SET SCHEMA s9;",
        "ALTER TABLE s9.solo SET SCHEMA public;",
    ),
    (
        "ALTER DOMAIN public.darr RENAME TO darr9;",
        "ALTER DOMAIN public.darr9 RENAME TO darr;",
    ),
    (
        "ALTER TYPE public.pair SET SCHEMA s9;",
        "ALTER TYPE s9.pair SET SCHEMA public;",
    ),
    // Objects the system made, which only an update changes.
    (
        "ALTER OPERATOR CLASS pg_catalog.text_pattern_ops USING btree RENAME TO tp9_ops;",
        "ALTER OPERATOR CLASS pg_catalog.tp9_ops USING btree RENAME TO text_pattern_ops;",
    ),
    (
        "ALTER TEXT SEARCH CONFIGURATION pg_catalog.english RENAME TO eng9;",
        "ALTER TEXT SEARCH CONFIGURATION pg_catalog.eng9 RENAME TO english;",
    ),
    (
        "ALTER FUNCTION pg_catalog.lower(text) RENAME TO lower9;",
        "ALTER FUNCTION pg_catalog.lower9(text) RENAME TO lower;",
    ),
    // A write to a catalog's rows, which locks no relation of the user's.
    (
        "UPDATE pg_catalog.pg_attribute SET attnotnull = true
WHERE attrelid = 'public.solo'::regclass AND attname = 'id';",
        "UPDATE pg_catalog.pg_attribute SET attnotnull = false
WHERE attrelid = 'public.solo'::regclass AND attname = 'id';",
    ),
    (
        "DEALLOCATE ALL;\nALTER TABLE public.solo ADD COLUMN z int;",
        "DEALLOCATE ALL;\nALTER TABLE public.solo DROP COLUMN z;",
    ),
];

/// Each change that reaches other objects: a right down passes, and a
/// down that forgets it is named, with the same differences both ways.
#[test]
fn a_change_that_reaches_other_objects_is_seen_there() {
    let Some(db) = TestDb::new("incremental_through") else {
        return;
    };
    for &(up, down) in THROUGH {
        for wrong in [false, true] {
            let down = if wrong { "SELECT 1;" } else { down };
            let mut files = vec![
                ("1_base.up.sql", BASE_UP),
                ("1_base.down.sql", BASE_DOWN),
                ("2_named.up.sql", NAMED),
                ("2_named.down.sql", NAMED_DOWN),
                ("5_change.up.sql", up),
                ("5_change.down.sql", down),
            ];
            // After a change that stays: tables of their own.
            files.extend(LATER_OWN);
            let found = both_ways(&db, &files);
            let case = format!("{up}\n{down}");
            expect(
                found,
                wrong,
                &[1, 2, 5, 8, 9],
                "5_change.down.sql",
                None,
                &case,
            );
        }
    }
}

/// Around a migration, with a right down and one that forgets it: the
/// findings of [`both_ways_with`].
fn right_and_wrong(config: &Config, before: (&str, &str), up: &str, down: &str) {
    for wrong in [false, true] {
        let files = [
            ("1_before.up.sql", before.0),
            ("1_before.down.sql", before.1),
            ("2_change.up.sql", up),
            ("2_change.down.sql", if wrong { "SELECT 1;" } else { down }),
            ("3_later.up.sql", "CREATE TABLE public.later (id int);"),
            ("3_later.down.sql", "DROP TABLE public.later;"),
        ];
        let found = both_ways_with(config, &files);
        expect(found, wrong, &[1, 2, 3], "2_change.down.sql", None, up);
    }
}

/// Where names are looked up in two schemas, a new table hides another of
/// its name, which foreign keys and views then write with its schema.
#[test]
fn a_table_that_hides_another_of_its_name_is_seen() {
    let Some(db) = TestDb::new("incremental_hides") else {
        return;
    };
    let mut config: Config = db.url.parse().unwrap();
    config.options("-c search_path=shadow,public");
    right_and_wrong(
        &config,
        (
            "CREATE SCHEMA shadow;
CREATE TABLE public.t1 (id int PRIMARY KEY);
CREATE TABLE public.r (id int REFERENCES public.t1);
CREATE VIEW public.v AS SELECT id FROM public.t1;",
            "DROP VIEW public.v; DROP TABLE public.r; DROP TABLE public.t1; DROP SCHEMA shadow;",
        ),
        "CREATE TABLE shadow.t1 (id int);",
        "DROP TABLE shadow.t1;",
    );
}

/// `DROP OWNED BY` takes a role out of a policy without locking its table.
#[test]
fn a_role_taken_out_of_a_policy_is_seen() {
    let Some(db) = TestDb::new("incremental_roles") else {
        return;
    };
    let mut admin = db.client();
    let roles = ["strata_incremental_r1", "strata_incremental_r2"];
    for role in roles {
        admin
            .batch_execute(&format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role}"))
            .unwrap();
    }
    right_and_wrong(
        &db.url.parse().unwrap(),
        (
            "CREATE TABLE public.p (id int);
CREATE POLICY pp ON public.p TO strata_incremental_r1, strata_incremental_r2 USING (true);",
            "DROP TABLE public.p;",
        ),
        "DROP OWNED BY strata_incremental_r2;",
        "ALTER POLICY pp ON public.p TO strata_incremental_r1, strata_incremental_r2;",
    );
    for role in roles {
        admin.batch_execute(&format!("DROP ROLE {role}")).unwrap();
    }
}

/// Changes that take no lock on what they change, found by attack: each
/// after a first migration that is irreversible (so that no round trip of
/// it makes verify read everything again anyway), with a right down, a
/// wrong one, and what verify names about the wrong one.
const UNLOCKED: &[(&str, &str, &str, &str, &str)] = &[
    // An extension takes in a function: only `pg_depend` changes.
    (
        "CREATE EXTENSION fuzzystrmatch;
CREATE FUNCTION public.name_key(text) RETURNS text LANGUAGE sql AS 'SELECT lower($1)';",
        "ALTER EXTENSION fuzzystrmatch ADD FUNCTION public.name_key(text);",
        "ALTER EXTENSION fuzzystrmatch DROP FUNCTION public.name_key(text);",
        "SELECT 1;",
        "function name_key(text) missing",
    ),
    // A deferred trigger makes an index at the commit.
    (
        "CREATE TABLE public.customers (id int, name text);
CREATE TABLE public.jobs (id int);
CREATE FUNCTION public.run_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('public.customers_name') IS NULL THEN
        CREATE INDEX customers_name ON public.customers (name);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER run_job AFTER INSERT ON public.jobs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.run_job();",
        "INSERT INTO public.jobs VALUES (1);",
        "DELETE FROM public.jobs;\nDROP INDEX public.customers_name;",
        "DELETE FROM public.jobs;",
        "index customers_name",
    ),
    // A temporary table hides a table of its name: a view then names the
    // table with its schema. (The session's schema for temporary tables is
    // made by the first one.)
    (
        "CREATE TABLE public.accounts (id int PRIMARY KEY, owner text);
CREATE VIEW public.owners AS SELECT owner FROM public.accounts;
CREATE TEMP TABLE warm_up (id int) ON COMMIT DROP;",
        "CREATE TEMP TABLE IF NOT EXISTS accounts (LIKE public.accounts);\nCREATE TABLE public.audit (id int);",
        "DROP TABLE public.audit;\nDROP TABLE pg_temp.accounts;",
        "DROP TABLE public.audit;",
        "view owners is defined differently",
    ),
    // A function sets how names are written, for the rest of the session:
    // put back after the file, the right down passes both ways.
    (
        "CREATE FUNCTION public.quote_all() RETURNS void LANGUAGE sql
AS $$ SELECT set_config('quote_all_identifiers', 'on', false) $$;
CREATE TABLE public.accounts (id int PRIMARY KEY, owner text);",
        "SELECT public.quote_all();\nCREATE TABLE public.exports (id int);",
        "DROP TABLE public.exports;",
        "SELECT 1;",
        "table exports left behind",
    ),
    // A function that writes a catalog's rows, called by a later file.
    (
        "CREATE TABLE public.customers (name varchar(100));
CREATE FUNCTION public.set_length(t regclass, c name, len int) RETURNS void LANGUAGE sql AS $$
UPDATE pg_catalog.pg_attribute SET atttypmod = len + 4 WHERE attrelid = t AND attname = c
$$;",
        "SELECT public.set_length('public.customers', 'name', 200);",
        "SELECT public.set_length('public.customers', 'name', 100);",
        "SELECT public.set_length('public.customers', 'name', 150);",
        "customers.name: type character varying(100) -> character varying(150)",
    ),
    // Renames in catalogs of objects that others name.
    (
        "CREATE LANGUAGE mylang HANDLER plpgsql_call_handler VALIDATOR plpgsql_validator;
CREATE FUNCTION public.f() RETURNS int LANGUAGE mylang AS 'BEGIN RETURN 1; END';",
        "CREATE TABLE public.x1 (id int);",
        "DROP TABLE public.x1;",
        "DROP TABLE public.x1;\nALTER LANGUAGE mylang RENAME TO mylang_old;",
        "function f() is defined differently",
    ),
    (
        "CREATE TEXT SEARCH TEMPLATE public.mytmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH DICTIONARY public.mydict (TEMPLATE = public.mytmpl);",
        "CREATE TABLE public.x1 (id int);",
        "DROP TABLE public.x1;",
        "DROP TABLE public.x1;\nALTER TEXT SEARCH TEMPLATE public.mytmpl RENAME TO mytmpl_old;",
        "text search dictionary mydict is defined differently",
    ),
    // A file that stops the counts that catch a renamed object of the
    // system's.
    (
        "CREATE TABLE public.customers (name text);
CREATE INDEX customers_prefix ON public.customers (name text_pattern_ops);",
        "CREATE TABLE public.x1 (id int);",
        "DROP TABLE public.x1;",
        "SET track_counts = off;
DROP TABLE public.x1;
ALTER OPERATOR CLASS pg_catalog.text_pattern_ops USING btree RENAME TO tp_ops;",
        "index customers_prefix is defined differently",
    ),
];

/// Each change of [`UNLOCKED`]: the right down passes and the wrong one is
/// named, the same both ways.
#[test]
fn a_change_that_takes_no_lock_is_seen() {
    let Some(db) = TestDb::new("incremental_unlocked") else {
        return;
    };
    for &(first, up, right, wrong_down, named) in UNLOCKED {
        for wrong in [false, true] {
            let files = [
                ("1_first.up.sql", first),
                ("1_first.down.sql", "-- strata:irreversible"),
                ("2_change.up.sql", up),
                ("2_change.down.sql", if wrong { wrong_down } else { right }),
                ("3_later.up.sql", "CREATE TABLE public.later (id int);"),
                ("3_later.down.sql", "DROP TABLE public.later;"),
            ];
            let found = both_ways(&db, &files);
            expect(found, wrong, &[2, 3], "2_change.down.sql", Some(named), up);
        }
    }
}

/// A down that writes a catalog's rows, or turns the counts off, inside
/// the transaction verify rolls back: what it changed is read again after
/// the rollback, and a later migration that touches the same table is
/// compared with the table as it was.
#[test]
fn what_a_rollback_undoes_is_read_again() {
    let Some(db) = TestDb::new("incremental_rollback") else {
        return;
    };
    let first = "CREATE TABLE public.customers (name text);
CREATE INDEX customers_prefix ON public.customers (name text_pattern_ops);";
    for wrong_down in [
        "DROP TABLE public.x1;
UPDATE pg_catalog.pg_attribute SET attnotnull = true
WHERE attrelid = 'public.customers'::regclass AND attname = 'name';",
        "SET track_counts = off;
DROP TABLE public.x1;
ALTER OPERATOR CLASS pg_catalog.text_pattern_ops USING btree RENAME TO tp_ops;",
    ] {
        let files = [
            ("1_first.up.sql", first),
            ("1_first.down.sql", "-- strata:irreversible"),
            ("2_change.up.sql", "CREATE TABLE public.x1 (id int);"),
            ("2_change.down.sql", wrong_down),
            (
                "3_later.up.sql",
                "ALTER TABLE public.customers ADD COLUMN z int;",
            ),
            (
                "3_later.down.sql",
                "ALTER TABLE public.customers DROP COLUMN z;",
            ),
        ];
        match both_ways(&db, &files) {
            Err(problems) => assert!(
                problems.iter().all(|p| p.contains("2_change.down.sql")),
                "{wrong_down}\n{problems:#?}"
            ),
            other => panic!("{wrong_down}\n{other:?}"),
        }
    }
}
