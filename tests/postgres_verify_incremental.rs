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
    let migrations = Migrations::from_dir(folder(files).path()).unwrap();
    let whole = findings(&migrations.verify_postgres(&mut db.client()));
    let config: Config = db.url.parse().unwrap();
    let incremental = findings(&migrations.verify_postgres_scratch(&config, NoTls));
    assert_eq!(
        incremental, whole,
        "read where it changed (left) and read whole (right) disagree on {files:#?}"
    );
    incremental
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
            match both_ways(&db, &files) {
                Ok(checked) if !wrong => assert_eq!(checked, [1, 5, 8, 9]),
                Err(problems) if wrong => {
                    let text = problems.join("\n");
                    assert!(
                        text.contains(named) && text.contains("5_case.down.sql"),
                        "{up}\nexpected {named:?} in:\n{text}"
                    );
                }
                other => panic!("{up}\n{down}\n{other:?}"),
            }
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
";

const NAMED_DOWN: &str = "DROP VIEW public.v9; DROP TABLE s9.t; DROP SCHEMA s9;
DROP FUNCTION public.all_solo(); DROP TABLE public.typed; DROP FUNCTION public.touch();
DROP FUNCTION public.f(); DROP TYPE public.pair; DROP DOMAIN public.pos; DROP TYPE public.mood;
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
        "ALTER TYPE public.pair ADD ATTRIBUTE c int;",
        "ALTER TYPE public.pair DROP ATTRIBUTE c;",
    ),
    (
        "ALTER TYPE public.pair RENAME ATTRIBUTE a TO aa;",
        "ALTER TYPE public.pair RENAME ATTRIBUTE aa TO a;",
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
            match both_ways(&db, &files) {
                Ok(checked) if !wrong => assert_eq!(checked, [1, 2, 5, 8, 9]),
                Err(problems) if wrong => assert!(
                    problems.iter().all(|p| p.contains("5_change.down.sql")),
                    "{up}\n{problems:#?}"
                ),
                other => panic!("{up}\n{down}\n{other:?}"),
            }
        }
    }
}
