//! Each migration starts from the same connection state, whatever the file
//! before it changed, and the connection goes back to the application as it
//! came: SQLite's connection pragmas, PostgreSQL's session settings, role
//! and session user. Failures on the way out included.

mod common;

use common::{count, database, folder, history, load, open, tables_folder, write_files};
use strata::Error;
use strata::rusqlite::Connection;

/// A parent with a child that cascades, one row each.
const PARENT_CHILD: &str = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1, 'p');
INSERT INTO child VALUES (1, 1);
";

/// The golang-migrate idiom: the whole file in its own transaction, with
/// foreign keys off around it, and on again at the end.
const GOLANG_STYLE: &str = "-- strata:no-transaction
PRAGMA foreign_keys=OFF;
BEGIN;
CREATE TABLE note (id INTEGER PRIMARY KEY);
COMMIT;
PRAGMA foreign_keys=ON;
";

/// Recreates the parent table: with enforcement on, the DROP deletes every
/// child row.
const RECREATE_PARENT: &str =
    "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO parent_new SELECT id, coalesce(name, '') FROM parent;
DROP TABLE parent;
ALTER TABLE parent_new RENAME TO parent;
";

fn foreign_keys(conn: &Connection) -> bool {
    conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap()
}

fn three_files() -> tempfile::TempDir {
    folder(&[
        ("1_tables.up.sql", PARENT_CHILD),
        ("1_tables.down.sql", "DROP TABLE child; DROP TABLE parent;"),
        ("2_note.up.sql", GOLANG_STYLE),
        ("2_note.down.sql", "DROP TABLE note;"),
        ("3_recreate.up.sql", RECREATE_PARENT),
        ("3_recreate.down.sql", "SELECT 1;"),
    ])
}

/// The issue's case: in one run, the child row survives the recreation of
/// its parent, as it does when the files run in separate runs; and the
/// application's own setting, on or off, is what it gets back.
#[test]
fn foreign_keys_switched_on_by_a_file_are_off_for_the_next_and_restored_after() {
    for enforced in [false, true] {
        let folder = three_files();
        let (_dir, path) = database();
        let mut conn = open(&path);
        conn.pragma_update(None, "foreign_keys", enforced).unwrap();
        let report = load(&folder).run(&mut conn).unwrap();
        assert_eq!(report.applied.len(), 3);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM child"),
            1,
            "enforced={enforced}"
        );
        assert_eq!(foreign_keys(&conn), enforced);

        // The same files, one run each.
        let (_dir2, path2) = database();
        let mut conn2 = open(&path2);
        conn2.pragma_update(None, "foreign_keys", enforced).unwrap();
        for target in 1..=3 {
            load(&folder)
                .runner()
                .target(target)
                .run(&mut conn2)
                .unwrap();
            conn2.pragma_update(None, "foreign_keys", enforced).unwrap();
        }
        assert_eq!(count(&conn2, "SELECT count(*) FROM child"), 1);
        assert_eq!(history(&conn), history(&conn2));
    }
}

/// Every connection pragma a file may change, read as the application sees it.
fn pragmas(conn: &Connection) -> Vec<(String, String)> {
    [
        "foreign_keys",
        "legacy_alter_table",
        "recursive_triggers",
        "ignore_check_constraints",
        "reverse_unordered_selects",
        "automatic_index",
        "trusted_schema",
        "query_only",
        "synchronous",
        "secure_delete",
        "temp_store",
        "cache_size",
        "busy_timeout",
        "locking_mode",
        "journal_mode",
        "max_page_count",
        "wal_autocheckpoint",
        "mmap_size",
        "count_changes",
    ]
    .iter()
    .map(|name| {
        let value: strata::rusqlite::types::Value = conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap();
        ((*name).to_owned(), format!("{value:?}"))
    })
    .chain([(
        "case_sensitive_like".to_owned(),
        count(conn, "SELECT NOT ('a' LIKE 'A')").to_string(),
    )])
    .collect()
}

/// Files that change settings, inside strata's transaction and outside,
/// each followed by a file whose result shows the setting it starts with.
#[test]
fn pragmas_a_file_changes_are_put_back_before_the_next_file() {
    let folder = folder(&[
        (
            "1_settings.up.sql",
            "-- strata:no-transaction
PRAGMA recursive_triggers = ON;
PRAGMA case_sensitive_like = ON;
PRAGMA synchronous = OFF;
PRAGMA busy_timeout = 1;
PRAGMA cache_size = 77;
PRAGMA locking_mode = EXCLUSIVE;
PRAGMA query_only = ON;
PRAGMA journal_mode = OFF;
PRAGMA max_page_count = 5;
PRAGMA wal_autocheckpoint = 7;
PRAGMA mmap_size = 4096;
PRAGMA count_changes = 1;
",
        ),
        ("1_settings.down.sql", "SELECT 1;"),
        (
            "2_observe.up.sql",
            "CREATE TABLE r (n INTEGER);
CREATE TRIGGER r_more AFTER INSERT ON r WHEN new.n < 5 BEGIN INSERT INTO r VALUES (new.n + 1); END;
INSERT INTO r VALUES (1);
CREATE TABLE seen (what TEXT, value INTEGER);
INSERT INTO seen VALUES ('like', 'a' LIKE 'A');
CREATE TABLE big (b BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO big SELECT randomblob(100) FROM n;
",
        ),
        (
            "2_observe.down.sql",
            "DROP TABLE big; DROP TABLE seen; DROP TABLE r;",
        ),
        (
            "3_in_transaction.up.sql",
            "PRAGMA legacy_alter_table = ON;\nPRAGMA recursive_triggers = ON;\nCREATE TABLE p (id INTEGER PRIMARY KEY);\n",
        ),
        ("3_in_transaction.down.sql", "DROP TABLE p;"),
        (
            "4_rename.up.sql",
            "CREATE TABLE c (p INTEGER REFERENCES p (id));\nALTER TABLE p RENAME TO p2;\nINSERT INTO r VALUES (3);\n",
        ),
        ("4_rename.down.sql", "SELECT 1;"),
    ]);
    let (_dir, path) = database();
    let mut conn = open(&path);
    let before = pragmas(&conn);
    load(&folder).run(&mut conn).unwrap();
    // Triggers did not recurse: 1 and 2 from file 2, 3 and 4 from file 4.
    assert_eq!(count(&conn, "SELECT count(*) FROM r"), 4);
    assert_eq!(
        count(&conn, "SELECT value FROM seen WHERE what = 'like'"),
        1
    );
    // Without legacy_alter_table the rename updated the reference.
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'c'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(sql.contains("\"p2\""), "{sql}");
    assert_eq!(pragmas(&conn), before);
    assert_eq!(history(&conn).len(), 4);
}

/// `PRAGMA journal_mode = OFF` in one file must not reach the next: a
/// failure there would be rolled back without a journal, which corrupts
/// the database.
#[test]
fn a_journal_switched_off_by_a_file_is_on_again_for_the_next() {
    for mode in ["delete", "wal"] {
        journal_switched_off(mode);
    }
}

fn journal_switched_off(mode: &str) {
    let folder = folder(&[
        (
            "1_big.up.sql",
            "CREATE TABLE big (x);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO big SELECT 'orig' FROM n;
",
        ),
        ("1_big.down.sql", "DROP TABLE big;"),
        (
            "2_journal.up.sql",
            "-- strata:no-transaction\nPRAGMA journal_mode = OFF;\n",
        ),
        ("2_journal.down.sql", "SELECT 1;"),
        (
            "3_fails.up.sql",
            "UPDATE big SET x = randomblob(50);\nSELECT * FROM nowhere;\n",
        ),
        ("3_fails.down.sql", "SELECT 1;"),
    ]);
    let (_dir, path) = database();
    let mut conn = open(&path);
    let set: String = conn
        .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get(0))
        .unwrap();
    assert_eq!(set, mode);
    // A small page cache: the update writes pages out before it fails.
    conn.pragma_update(None, "cache_size", 10).unwrap();
    let err = load(&folder).run(&mut conn).unwrap_err();
    assert!(
        matches!(err.failure(), Error::Statement { version: 3, .. }),
        "{err:?}"
    );
    let conn = open(&path);
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM big WHERE x = 'orig'"),
        20000
    );
    assert_eq!(history(&conn).len(), 2);
    let now: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(now, mode);
}

/// A no-transaction file that switches enforcement on and then fails: the
/// connection still goes back as it came.
#[test]
fn settings_are_put_back_after_a_failure_too() {
    let folder = tables_folder([1]);
    write_files(
        folder.path(),
        &[
            (
                "000002_fails.up.sql",
                "-- strata:no-transaction\nPRAGMA foreign_keys = ON;\nPRAGMA legacy_alter_table = ON;\nINSERT INTO nowhere VALUES (1);\n",
            ),
            ("000002_fails.down.sql", "SELECT 1;"),
        ],
    );
    let (_dir, path) = database();
    let mut conn = open(&path);
    let before = pragmas(&conn);
    let err = load(&folder).run(&mut conn).unwrap_err();
    assert!(
        matches!(err.failure(), Error::LeftDirty { version: 2, .. }),
        "{err:?}"
    );
    assert_eq!(pragmas(&conn), before);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::common::pg::TestDb;
    use strata::postgres::Client;

    /// The settings the tests watch, as `SHOW` gives them.
    const WATCHED: [&str; 8] = [
        "search_path",
        "role",
        "statement_timeout",
        "lock_timeout",
        "session_replication_role",
        "check_function_bodies",
        "work_mem",
        "standard_conforming_strings",
    ];

    fn settings(client: &mut Client) -> Vec<(String, String)> {
        WATCHED
            .iter()
            .map(|name| {
                let value: String = client
                    .query_one(&format!("SELECT current_setting('{name}')"), &[])
                    .unwrap()
                    .get(0);
                ((*name).to_owned(), value)
            })
            .collect()
    }

    /// A role of its own, dropped on the way out.
    struct Role {
        name: String,
        url: String,
    }

    impl Role {
        fn new(db: &TestDb, test: &str) -> Role {
            let name = format!("strata_{test}_{}", std::process::id());
            let mut client = db.client();
            client
                .batch_execute(&format!(
                    "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} NOLOGIN"
                ))
                .unwrap();
            Role {
                name,
                url: db.url.clone(),
            }
        }
    }

    impl Drop for Role {
        fn drop(&mut self) {
            if let Ok(mut client) = Client::connect(&self.url, strata::postgres::NoTls) {
                let _ = client.batch_execute(&format!(
                    "DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}",
                    self.name
                ));
            }
        }
    }

    /// pg_dump's preamble, a role, a trigger-disabling replication role and
    /// timeouts, from files inside strata's transaction and outside: the
    /// next file starts from the application's settings, strata's history
    /// goes where it belongs, and the session comes back as it was.
    #[test]
    fn session_settings_a_file_changes_are_put_back_before_the_next_file() {
        let Some(db) = TestDb::new("session_state") else {
            return;
        };
        let role = Role::new(&db, "state");
        let mut client = db.client();
        client
            .batch_execute("CREATE SCHEMA elsewhere; SET work_mem = '8MB'")
            .unwrap();
        let before = settings(&mut client);
        let dir = folder(&[
            (
                "1_dump.up.sql",
                "SET statement_timeout = 0;
SET lock_timeout = 0;
SET standard_conforming_strings = off;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET work_mem = '1MB';
CREATE TABLE public.audit (what text);
CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.audit VALUES (TG_TABLE_NAME); RETURN NEW; END $$;
CREATE FUNCTION public.elsewhere() RETURNS text LANGUAGE sql AS $$ SELECT pg_catalog.set_config('search_path', 'elsewhere', false) $$;
",
            ),
            ("1_dump.down.sql", "DROP FUNCTION public.audit(); DROP TABLE public.audit;"),
            (
                "2_outside.up.sql",
                &format!(
                    "-- strata:no-transaction
SET search_path = elsewhere;
SET statement_timeout = '50ms';
SET session_replication_role = replica;
SET ROLE {};
",
                    role.name
                ),
            ),
            ("2_outside.down.sql", "SELECT 1;"),
            // Changes the search path through a function: the file's text
            // does not show it.
            ("3_call.up.sql", "SELECT public.elsewhere();\n"),
            ("3_call.down.sql", "SELECT 1;"),
            (
                "4_observe.up.sql",
                "CREATE TABLE t (id int);
CREATE TRIGGER t_audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION public.audit();
INSERT INTO t VALUES (1);
SELECT pg_sleep(0.2);
CREATE TABLE seen AS SELECT current_setting('work_mem') AS work_mem, current_setting('standard_conforming_strings') AS strings, current_user::text AS who;
",
            ),
            ("4_observe.down.sql", "DROP TABLE seen; DROP TABLE t;"),
        ]);
        load(&dir).run(&mut client).unwrap();
        // The table went to the application's search path, owned by the
        // application's user; the trigger fired; the sleep was not cut.
        let row = client
            .query_one(
                "SELECT schemaname::text, tableowner::text FROM pg_tables WHERE tablename = 't'",
                &[],
            )
            .unwrap();
        assert_eq!(
            (row.get::<_, String>(0), row.get::<_, String>(1)),
            ("public".to_owned(), "postgres".to_owned())
        );
        let audited: i64 = client
            .query_one("SELECT count(*) FROM public.audit", &[])
            .unwrap()
            .get(0);
        assert_eq!(audited, 1);
        let seen = client
            .query_one("SELECT work_mem, strings, who FROM public.seen", &[])
            .unwrap();
        assert_eq!(
            (
                seen.get::<_, String>(0),
                seen.get::<_, String>(1),
                seen.get::<_, String>(2)
            ),
            ("8MB".to_owned(), "on".to_owned(), "postgres".to_owned())
        );
        assert_eq!(settings(&mut client), before);
        let recorded: i64 = client
            .query_one("SELECT count(*) FROM public.schema_migrations", &[])
            .unwrap()
            .get(0);
        assert_eq!(recorded, 4);
        let elsewhere: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'elsewhere'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(elsewhere, 0);
    }

    /// A file that releases strata's advisory lock, by itself or through a
    /// function it calls, fails: what ran after it ran unlocked. Inside
    /// strata's transaction it is rolled back; outside one it stays dirty.
    #[test]
    fn a_file_that_releases_the_advisory_lock_fails() {
        let Some(db) = TestDb::new("lock_released") else {
            return;
        };
        let cases = [
            ("-- strata:no-transaction\nDISCARD ALL;\n", true),
            (
                "CREATE TABLE x (id int);\nSELECT pg_advisory_unlock_all();\n",
                false,
            ),
            // The file's text names nothing of it.
            ("CREATE TABLE x (id int);\nSELECT public.free();\n", false),
        ];
        for (up, outside) in cases {
            let mut client = db.client();
            client
                .batch_execute(
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public;
                     CREATE FUNCTION public.free() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_unlock_all(); END $$;",
                )
                .unwrap();
            let dir = folder(&[
                ("1_a.up.sql", "CREATE TABLE a (id int);"),
                ("1_a.down.sql", "DROP TABLE a;"),
                ("2_release.up.sql", up),
                ("2_release.down.sql", "SELECT 1;"),
            ]);
            let err = load(&dir).run(&mut client).unwrap_err();
            if outside {
                assert!(
                    matches!(err.failure(), Error::LeftDirty { version: 2, file_completed: true, cause, .. } if matches!(**cause, Error::LockReleased)),
                    "{err:?}"
                );
            } else {
                assert!(matches!(err.failure(), Error::LockReleased), "{err:?}");
                assert_eq!(
                    crate::common::pg::history(&mut client).len(),
                    1,
                    "rolled back"
                );
                assert!(!crate::common::pg::tables(&mut client).contains(&"x".to_owned()));
            }
            let held: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
                    &[],
                )
                .unwrap()
                .get(0);
            assert_eq!(held, 0);
        }
    }

    /// A setting the server will not put back (`temp_buffers` once a
    /// temporary table was used) is left, and the run goes on.
    #[test]
    fn a_harmless_setting_the_server_keeps_does_not_stop_the_run() {
        let Some(db) = TestDb::new("temp_buffers") else {
            return;
        };
        let dir = folder(&[
            (
                "1_temp.up.sql",
                "SET temp_buffers = 2000;\nCREATE TEMP TABLE tt (x int);\nINSERT INTO tt VALUES (1);\n",
            ),
            ("1_temp.down.sql", "SELECT 1;"),
            ("2_a.up.sql", "CREATE TABLE a (id int);"),
            ("2_a.down.sql", "DROP TABLE a;"),
        ]);
        let report = load(&dir).run(&mut db.client()).unwrap();
        assert_eq!(report.applied.len(), 2);
    }

    /// A user who may become a superuser role: a file that does so and
    /// switches triggers off leaves the role first; the setting is put back
    /// under the file's role, before the role itself, so foreign keys hold
    /// for the next file.
    #[test]
    fn a_setting_only_the_file_s_role_may_change_is_put_back_before_the_role() {
        let Some(db) = TestDb::new("role_order") else {
            return;
        };
        let admin = format!("strata_admin_{}", std::process::id());
        let user = format!("strata_user_{}", std::process::id());
        let mut superuser = db.client();
        superuser
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {user}; DROP ROLE IF EXISTS {admin};
                 CREATE ROLE {admin} SUPERUSER NOLOGIN; CREATE ROLE {user} LOGIN IN ROLE {admin};
                 GRANT ALL ON SCHEMA public TO {user};"
            ))
            .unwrap();
        let url = db.url.replacen("postgres@", &format!("{user}@"), 1);
        let result = {
            let mut client = Client::connect(&url, strata::postgres::NoTls).unwrap();
            let dir = folder(&[
                (
                    "1_tables.up.sql",
                    "CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (parent int REFERENCES parent);\n",
                ),
                ("1_tables.down.sql", "DROP TABLE child; DROP TABLE parent;"),
                (
                    "2_replica.up.sql",
                    &format!(
                        "-- strata:no-transaction\nSET ROLE {admin};\nSET session_replication_role = replica;\n"
                    ),
                ),
                ("2_replica.down.sql", "SELECT 1;"),
                ("3_orphan.up.sql", "INSERT INTO child VALUES (42);\n"),
                ("3_orphan.down.sql", "DELETE FROM child;"),
            ]);
            let err = load(&dir).run(&mut client).unwrap_err();
            let orphans: i64 = client
                .query_one("SELECT count(*) FROM child", &[])
                .unwrap()
                .get(0);
            let replication: String = client
                .query_one("SELECT current_setting('session_replication_role')", &[])
                .unwrap()
                .get(0);
            (err, orphans, replication)
        };
        let _ = superuser.batch_execute(&format!(
            "DROP OWNED BY {user}; DROP ROLE IF EXISTS {user}; DROP ROLE IF EXISTS {admin}"
        ));
        let (err, orphans, replication) = result;
        assert!(
            matches!(err.failure(), Error::Statement { version: 3, .. }),
            "{err:?}"
        );
        assert_eq!((orphans, replication.as_str()), (0, "origin"));
    }

    /// A file that releases the lock and then waits: another session takes
    /// the lock meanwhile, and the run stops when the file ends.
    #[test]
    fn a_lock_taken_by_another_session_meanwhile_stops_the_run() {
        let Some(db) = TestDb::new("lock_taken") else {
            return;
        };
        const STOP: i64 = 8_821_003;
        let mut holder = db.client();
        holder
            .batch_execute("CREATE TABLE public.strata_key (key bigint)")
            .unwrap();
        holder
            .query_one("SELECT pg_advisory_lock($1)", &[&STOP])
            .unwrap();
        // The file writes down strata's key, releases every lock, and
        // waits for STOP.
        let dir = folder(&[
            ("1_a.up.sql", "CREATE TABLE a (id int);"),
            ("1_a.down.sql", "DROP TABLE a;"),
            (
                "2_release.up.sql",
                &format!(
                    "-- strata:no-transaction
INSERT INTO public.strata_key SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 1;
SELECT pg_advisory_unlock_all();
SELECT pg_advisory_lock({STOP});
"
                ),
            ),
            ("2_release.down.sql", "SELECT 1;"),
        ]);
        let migrations = load(&dir);
        let url = db.url.clone();
        let run = std::thread::spawn(move || {
            let mut client = Client::connect(&url, strata::postgres::NoTls).unwrap();
            migrations.run(&mut client).map(drop)
        });
        loop {
            let waiting: i64 = holder
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let key: i64 = holder
            .query_one("SELECT key FROM public.strata_key", &[])
            .unwrap()
            .get(0);
        let taken: bool = holder
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .unwrap()
            .get(0);
        assert!(taken);
        holder
            .query_one("SELECT pg_advisory_unlock($1)", &[&STOP])
            .unwrap();
        let err = run.join().unwrap().unwrap_err();
        assert!(
            matches!(err.failure(), Error::LeftDirty { version: 2, file_completed: true, cause, .. } if matches!(**cause, Error::LockReleased)),
            "{err:?}"
        );
        let dirty: bool = holder
            .query_one(
                "SELECT dirty FROM public.schema_migrations WHERE version = 2",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(dirty);
    }

    /// A no-transaction file that changes settings and fails: dirty, and the
    /// session back as it was.
    #[test]
    fn session_settings_are_put_back_after_a_failure_too() {
        let Some(db) = TestDb::new("session_failure") else {
            return;
        };
        let role = Role::new(&db, "failure");
        let mut client = db.client();
        let before = settings(&mut client);
        let dir = folder(&[
            (
                "1_fails.up.sql",
                &format!(
                    "-- strata:no-transaction\nSET search_path = nowhere;\nSET ROLE {};\nSET lock_timeout = '1s';\nCREATE TABLE public.x (id int);\n",
                    role.name
                ),
            ),
            ("1_fails.down.sql", "SELECT 1;"),
        ]);
        let err = load(&dir).run(&mut client).unwrap_err();
        assert!(
            matches!(
                err.failure(),
                Error::LeftDirty {
                    version: 1,
                    previous: None,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(settings(&mut client), before);
        let dirty: bool = client
            .query_one("SELECT dirty FROM public.schema_migrations", &[])
            .unwrap()
            .get(0);
        assert!(dirty);
    }
}
