//! The built `strata` binary, run as a person or a script would, against real
//! files in temporary folders, and a real PostgreSQL server when
//! `STRATA_TEST_POSTGRES_URL` names one.

#[path = "../../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

mod common;

use std::path::Path;
use std::process::Command;

use common::{Shell, text, with_db};

/// A shell with three applied-ready migrations.
fn three() -> Shell {
    let shell = Shell::new();
    shell.migration(
        "000001_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
        "DROP TABLE users;\n",
    );
    shell.migration(
        "000002_name",
        "ALTER TABLE users ADD COLUMN name TEXT;\n",
        "ALTER TABLE users DROP COLUMN name;\n",
    );
    shell.migration(
        "000003_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE posts;\n",
    );
    shell
}

#[test]
fn create_numbers_follow_the_folder_and_nothing_is_overwritten() {
    let shell = Shell::new();
    let out = shell.ok(&["create", "init"]);
    assert_eq!(
        out,
        "created migrations/000001_init.up.sql\ncreated migrations/000001_init.down.sql\n"
    );
    shell.ok(&["create", "add_users"]);
    assert_eq!(
        shell.files(),
        [
            "000001_init.down.sql",
            "000001_init.up.sql",
            "000002_add_users.down.sql",
            "000002_add_users.up.sql"
        ]
    );
    // The new files hold only comments: the folder does not build until
    // someone writes the SQL, and the message says so.
    let err = shell.fails(1, &["validate"]);
    assert!(
        err.contains("migrations/000002_add_users.up.sql has no SQL"),
        "{err}"
    );

    let narrow = Shell::new();
    narrow.migration("0009_a", "SELECT 1;", "SELECT 1;");
    let before = std::fs::read(narrow.path("migrations/0009_a.up.sql")).unwrap();
    narrow.ok(&["create", "b"]);
    assert_eq!(narrow.files()[2..], ["0010_b.down.sql", "0010_b.up.sql"]);
    assert_eq!(
        std::fs::read(narrow.path("migrations/0009_a.up.sql")).unwrap(),
        before
    );

    let stamped = Shell::new();
    stamped.ok(&["create", "first", "--timestamp"]);
    stamped.ok(&["create", "second", "--timestamp"]);
    let files = stamped.files();
    let first: u64 = files[0].split('_').next().unwrap().parse().unwrap();
    let second: u64 = files[2].split('_').next().unwrap().parse().unwrap();
    assert_eq!(files[0].split('_').next().unwrap().len(), 14);
    assert!(second > first, "{files:?}");
}

#[test]
fn create_refuses_names_that_break_the_rules() {
    let shell = Shell::new();
    for name in ["", "has space", "../escape", "x.sql", ".hidden"] {
        let err = shell.fails(2, &["create", name]);
        assert!(
            err.starts_with("error: cannot create migration"),
            "{name}: {err}"
        );
    }
    assert!(!shell.path("escape.up.sql").exists());
}

#[test]
fn a_session_up_status_down_redo_goto() {
    let shell = three();
    let out = shell.ok(&["up", "1"]);
    assert!(
        out.starts_with(
            "applied 1 migration, the database is now at version 1\n  up   000001_users  "
        ),
        "{out}"
    );
    let out = shell.ok(&["up"]);
    assert!(
        out.starts_with("applied 2 migrations, the database is now at version 3\n"),
        "{out}"
    );
    assert_eq!(shell.ok(&["version"]), "3\n");
    assert_eq!(
        shell.ok(&["up"]),
        "nothing to do: the database is at version 3\n"
    );

    let status = shell.ok(&["status"]);
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 4, "{status}");
    assert!(
        lines[0].starts_with("version  name   state    applied at"),
        "{status}"
    );
    assert!(
        lines[3].starts_with("      3  posts  applied  20"),
        "{status}"
    );
    assert!(!status.contains('\x1b'), "no colour when not on a terminal");
    shell.ok(&["status", "--check"]);

    let out = shell.ok(&["down"]);
    assert!(
        out.starts_with(
            "reverted 1 migration, the database is now at version 2\n  down 000003_posts"
        ),
        "{out}"
    );
    shell.fails(1, &["status", "--check"]);
    let out = shell.ok(&["redo"]);
    assert!(
        out.starts_with(
            "reverted 1 migration and applied 1 migration, the database is now at version 2"
        ),
        "{out}"
    );
    shell.ok(&["goto", "3"]);
    assert_eq!(shell.ok(&["version"]), "3\n");
    shell.ok(&["goto", "1"]);
    assert_eq!(shell.ok(&["version"]), "1\n");
    shell.ok(&["down", "--all"]);
    assert_eq!(shell.ok(&["version"]), "none\n");
    shell.ok(&["up", "--single-transaction"]);
    shell.ok(&["down", "2"]);
    assert_eq!(shell.ok(&["version"]), "1\n");
}

#[test]
fn status_json_for_scripts() {
    let shell = three();
    shell.ok(&["up", "2"]);
    let json: serde_json::Value = serde_json::from_str(&shell.ok(&["status", "--json"])).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(json["needs_attention"], true);
    let migrations = json["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 3);
    assert_eq!(migrations[0]["name"], "users");
    assert_eq!(migrations[1]["state"], "applied");
    assert_eq!(migrations[2]["state"], "pending");
    assert!(migrations[2]["applied_at"].is_null());
    assert!(migrations[0]["applied_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn dry_runs_change_nothing() {
    let shell = three();
    shell.ok(&["up", "2"]);
    let before = shell.database();
    for args in [
        vec!["up", "--dry-run"],
        vec!["down", "--dry-run"],
        vec!["down", "--all", "--dry-run"],
        vec!["goto", "3", "--dry-run"],
        vec!["redo", "--dry-run"],
        vec!["force", "1", "--dry-run"],
        vec!["repair", "--dry-run"],
    ] {
        let out = shell.ok(&args);
        assert!(
            out.starts_with("dry run, rolled back, nothing changed: "),
            "{args:?}: {out}"
        );
        assert_eq!(shell.database(), before, "{args:?}");
    }
    let out = shell.ok(&["up", "--dry-run"]);
    assert!(
        out.starts_with("dry run, rolled back, nothing changed: would apply 1 migration, the database would be at version 3\n  up   000003_posts"),
        "{out}"
    );

    // A dry run reports the failure that the real command would meet.
    shell.migration(
        "000004_bad",
        "INSERT INTO nowhere VALUES (1);\n",
        "SELECT 1;\n",
    );
    let err = shell.fails(1, &["up", "--dry-run"]);
    assert!(
        err.contains("000004_bad.up.sql:1: no such table: nowhere"),
        "{err}"
    );
    assert_eq!(shell.database(), before);

    // On a database that does not exist yet, nothing is created.
    let fresh = three();
    fresh.ok(&["up", "--dry-run"]);
    fresh.ok(&["baseline", "2", "--dry-run"]);
    assert!(!fresh.path("app.db").exists());
}

#[test]
fn dry_run_of_adoption() {
    let shell = three();
    let conn = rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
         CREATE TABLE schema_migrations (version bigint, dirty boolean); INSERT INTO schema_migrations VALUES (1, 0);",
    )
        .unwrap();
    drop(conn);
    let before = shell.database();
    let out = shell.ok(&["adopt", "--dry-run"]);
    assert_eq!(
        out,
        "dry run, rolled back, nothing changed: 1 history row would change:\n  1 users: adopted\n"
    );
    assert_eq!(shell.database(), before);
    let err = shell.fails(1, &["up"]);
    assert!(
        err.contains("it looks like golang-migrate's history table"),
        "{err}"
    );
    shell.ok(&["adopt"]);
    assert!(shell.ok(&["up"]).starts_with("applied 2 migrations"));
}

#[test]
fn recovering_a_dirty_database_from_the_shell() {
    let shell = three();
    shell.migration(
        "000004_index",
        "-- strata:no-transaction\nCREATE INDEX users_email ON users (email);\nCREATE INDEX nope ON nowhere (x);\n",
        "DROP INDEX users_email;\n",
    );
    let err = shell.fails(1, &["up"]);
    assert!(
        err.contains("000004_index.up.sql:3: no such table: main.nowhere"),
        "{err}"
    );
    // The first failure says that the version is dirty and how to get out.
    let advice = "`strata force 4` if the migration is now applied in full, `strata force 3` if none of it is";
    assert!(err.contains("version 4 is now marked dirty"), "{err}");
    assert!(err.contains(advice), "{err}");
    assert_eq!(shell.ok(&["version"]), "4 (dirty)\n");
    assert!(shell.ok(&["status"]).contains("      4  index  dirty "));

    // While a process holds the lock file that a run of this folder holds
    // (as one running version 4 would), the version is in progress: no
    // command tells anyone to force it, and `up` and `force` wait.
    let lock = std::fs::File::create(shell.path("app.db-strata-lock")).unwrap();
    lock.lock().unwrap();
    assert_eq!(shell.ok(&["version"]), "4 (in progress)\n");
    assert!(
        shell
            .ok(&["status"])
            .contains("      4  index  in progress ")
    );
    for args in [
        &["--lock-timeout", "0", "up"][..],
        &["--lock-timeout", "0", "force", "3"],
    ] {
        let err = shell.fails(1, args);
        assert!(err.contains("stayed locked"), "{err}");
    }
    drop(lock);

    // Anything but a file at the lock file's path is never opened (a FIFO
    // there hung status): status reads it as no lock, up refuses it.
    #[cfg(unix)]
    {
        std::fs::remove_file(shell.path("app.db-strata-lock")).unwrap();
        let made = Command::new("mkfifo")
            .arg(shell.path("app.db-strata-lock"))
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(shell.ok(&["version"]), "4 (dirty)\n");
        let err = shell.fails(1, &["up"]);
        assert!(err.contains("it is not a regular file"), "{err}");
        // Also from a folder without no-transaction migrations, which goes
        // on without a lock file only where one cannot be made.
        for file in std::fs::read_dir(shell.path("migrations")).unwrap() {
            let file = file.unwrap();
            let name = file.file_name().into_string().unwrap();
            if !name.starts_with("000004") {
                shell.write(
                    &format!("older/{name}"),
                    &std::fs::read_to_string(file.path()).unwrap(),
                );
            }
        }
        let err = shell.fails(1, &["--dir", "older", "force", "3"]);
        assert!(err.contains("it is not a regular file"), "{err}");
        std::fs::remove_file(shell.path("app.db-strata-lock")).unwrap();
    }

    let err = shell.fails(1, &["up"]);
    assert!(err.contains("migration 4 (index) is marked dirty"), "{err}");
    assert!(err.contains(advice), "{err}");

    // Someone looked: the first statement ran, the second was a mistake.
    // They undo the first, fix the file, and record the version it is at.
    let conn = rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch("DROP INDEX users_email").unwrap();
    drop(conn);
    shell.write(
        "migrations/000004_index.up.sql",
        "-- strata:no-transaction\nCREATE INDEX users_email ON users (email);\n",
    );
    let out = shell.ok(&["force", "3"]);
    assert_eq!(out, "1 history row changed:\n  4 index: row removed\n");
    let out = shell.ok(&["up"]);
    assert!(
        out.starts_with("applied 1 migration, the database is now at version 4"),
        "{out}"
    );
}

#[test]
fn recovering_from_an_edited_migration() {
    let shell = three();
    shell.ok(&["up"]);
    shell.write(
        "migrations/000002_name.up.sql",
        "-- the display name\nALTER TABLE users ADD COLUMN name TEXT;\n",
    );
    let err = shell.fails(1, &["up"]);
    assert!(
        err.contains(
            "migration 2 (migrations/000002_name.up.sql) was changed after it was applied"
        ),
        "{err}"
    );
    assert!(shell.ok(&["status"]).contains("      2  name   modified"));
    shell.fails(1, &["validate"]);
    let out = shell.ok(&["repair"]);
    assert!(
        out.starts_with("1 history row changed:\n  2 name: checksum "),
        "{out}"
    );
    assert_eq!(
        shell.ok(&["validate"]),
        "ok: the folder follows the rules and the database is up to date\n"
    );
}

#[test]
fn baseline_and_verify() {
    let shell = three();
    let conn = rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);")
        .unwrap();
    drop(conn);
    let out = shell.ok(&["baseline", "2"]);
    assert!(
        out.contains("  2 name: recorded as applied (not run)"),
        "{out}"
    );
    assert_eq!(
        shell.ok(&["validate"]),
        "ok: the folder follows the rules and the history matches it; 1 pending: 3\n"
    );
    let out = shell.run(&["verify"]);
    assert_eq!(out.status.code(), Some(0));
    let said = text(&out.stdout);
    assert!(
        said.starts_with("verifying on a new in-memory SQLite database (")
            && said
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("verified 3 migrations"),
        "{said}"
    );

    shell.write("migrations/000003_posts.down.sql", "SELECT 1;\n");
    let err = shell.fails(1, &["verify"]);
    assert!(
        err.contains("table posts left behind by 000003_posts.down.sql"),
        "{err}"
    );
}

#[test]
fn wrong_usage_exits_2() {
    let shell = three();
    let run = |args: &[&str]| shell.run(args);
    for args in [
        vec!["frobnicate"],
        vec!["down", "2", "--all"],
        vec!["up", "0"],
        vec!["--database", "sqlite:app.db", "force", "abc"],
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    let output = run(&["status"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr)
            .starts_with("error: no database: pass --database URL or set DATABASE_URL"),
        "{}",
        text(&output.stderr)
    );
    for (url, says) in [
        ("mysql://localhost/app", "cannot read the database URL"),
        ("sqlite:", "names no file"),
    ] {
        let output = run(&["--database", url, "status"]);
        assert_eq!(output.status.code(), Some(2), "{url}");
        assert!(
            text(&output.stderr).contains(says),
            "{url}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn database_url_from_the_environment() {
    let shell = three();
    let output = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["up"])
        .current_dir(shell.dir.path())
        .env("DATABASE_URL", "app.db")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(shell.ok(&["version"]), "3\n");
}

#[test]
fn bad_folders_and_missing_databases_exit_1_with_the_macro_messages() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "--dir",
            "tests/ui/folders/three_problems",
            "--database",
            "sqlite:x.db",
            "status",
        ])
        .current_dir(repo)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let snapshot =
        std::fs::read_to_string(repo.join("tests/ui/fail/three_problems.stderr")).unwrap();
    let expected: Vec<&str> = snapshot
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .collect();
    assert_eq!(expected.len(), 3);
    for message in expected {
        assert!(
            stderr.contains(&format!("\n  {message}")),
            "{message}\n{stderr}"
        );
    }
    assert!(!repo.join("x.db").exists());

    let shell = Shell::new();
    let err = shell.fails(1, &["status"]);
    assert_eq!(
        err,
        "error: migrations folder migrations does not exist (create it, or fix the path: it is relative to the current directory)\n"
    );
    let shell = three();
    let err = shell.fails(1, &["status"]);
    assert!(
        err.starts_with("error: database app.db does not exist"),
        "{err}"
    );
    assert!(
        !shell.path("app.db").exists(),
        "a read-only command creates no file"
    );
    // Nor does a command that changes a database it expects to exist: a
    // mistyped path is an error, not a new empty database (before, most of
    // these created one and reported success). `up` and `baseline` may
    // start a database.
    for args in [
        &["down"][..],
        &["down", "--all"],
        &["goto", "1"],
        &["redo"],
        &["force", "1"],
        &["repair"],
        &["adopt"],
        &["down", "--dry-run"],
    ] {
        let err = shell.fails(1, args);
        assert!(
            err.starts_with("error: database app.db does not exist"),
            "{args:?}: {err}"
        );
        assert!(!shell.path("app.db").exists(), "{args:?} created the file");
    }
    shell.ok(&["baseline", "1"]);
    assert!(shell.path("app.db").exists());
    let output = shell.run(&["--database", "sqlite:no/such/dir/app.db", "up"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("its folder does not exist"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn quiet_and_verbose() {
    let shell = three();
    let output = shell.run(&with_db(&["--quiet", "up"]));
    assert_eq!(
        (
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr)
        ),
        (Some(0), String::new(), String::new())
    );
    shell.ok(&["down", "--all"]);
    let output = shell.run(&with_db(&["--verbose", "up", "1"]));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        text(&output.stderr)
            .starts_with("info: applied migration migrations/000001_users.up.sql in "),
        "{}",
        text(&output.stderr)
    );
    // Data for scripts is printed even when quiet.
    let output = shell.run(&with_db(&["--quiet", "version"]));
    assert_eq!(text(&output.stdout), "1\n");
}

#[test]
fn colour_on_a_terminal_only_and_never_with_no_color() {
    // `script` (util-linux, in every Debian) gives the command a terminal.
    let shell = three();
    shell.ok(&["up", "1"]);
    let on_terminal = |no_color: bool| {
        let command = format!(
            "{}{} --database sqlite:app.db status",
            if no_color { "NO_COLOR=1 " } else { "" },
            env!("CARGO_BIN_EXE_strata")
        );
        let output = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(shell.dir.path())
            .env_remove("NO_COLOR")
            .output()
            .expect("`script` runs the command on a terminal");
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let coloured = on_terminal(false);
    assert!(coloured.contains("\x1b[32mapplied\x1b[0m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[33mpending\x1b[0m"), "{coloured:?}");
    assert!(!on_terminal(true).contains('\x1b'));
}

#[test]
fn every_command_on_postgres() {
    let Some(db) = pg::TestDb::new("cli") else {
        return;
    };
    let shell = three();
    let run = |args: &[&str]| {
        let mut all = vec!["--database", db.url.as_str()];
        all.extend_from_slice(args);
        let output = shell.run(&all);
        (
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };
    let (code, out, err) = run(&["up", "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("dry run, rolled back, nothing changed: would apply 3 migrations"),
        "{out}"
    );
    let (code, out, _) = run(&["up", "2"]);
    assert_eq!(
        (code, out.lines().next()),
        (
            Some(0),
            Some("applied 2 migrations, the database is now at version 2")
        )
    );
    let (_, out, _) = run(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            json["version"].as_u64(),
            json["migrations"][2]["state"].as_str()
        ),
        (Some(2), Some("pending"))
    );
    assert_eq!(run(&["status", "--check"]).0, Some(1));
    assert_eq!(run(&["up"]).0, Some(0));
    assert_eq!(run(&["version"]).1, "3\n");
    assert_eq!(run(&["validate"]).0, Some(0));
    let (code, out, err) = run(&["verify"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("verifying on PostgreSQL\n"), "{out}");
    assert!(out.contains("\nverified 3 migrations"), "{out}");
    assert_eq!(run(&["down", "--all"]).0, Some(0));
    assert_eq!(run(&["version"]).1, "none\n");
    let (code, _, err) = run(&["--table", "bad\"name", "force", "9"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("there is no migration with version 9"),
        "{err}"
    );

    // The server's own message, not the driver's "db error".
    let missing = db.url.replacen("/strata_cli_", "/strata_missing_", 1);
    assert_ne!(missing, db.url);
    let output = shell.run(&["--database", &missing, "status"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("database \"strata_missing_"),
        "{}",
        text(&output.stderr)
    );

    let output = shell.run(&["--database", "postgres://nobody@127.0.0.1:1/none", "status"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).starts_with("error: cannot connect to the PostgreSQL database"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn validate_without_a_database_checks_the_folder_alone() {
    let shell = three();
    let output = shell.run(&["validate"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "ok: the folder follows the rules (3 migrations); no database was given, so no history was checked\n"
    );
    assert!(!shell.path("app.db").exists());
    // A statement that cannot run in strata's transaction, as the build
    // would report it.
    shell.migration(
        "000004_index",
        "CREATE INDEX CONCURRENTLY users_email ON users (email);\n",
        "DROP INDEX users_email;\n",
    );
    let output = shell.run(&["validate"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: migrations/000004_index.up.sql:1: `CREATE INDEX CONCURRENTLY users_email ON users (email);` cannot run inside a transaction, and strata runs this migration inside one (put `-- strata:no-transaction` at the top of the file, ideally with this statement alone in its migration: a file run without a transaction that fails halfway stays half-applied)\n"
    );
}

/// verify says where it verifies in its first line, and never falls back
/// to SQLite from a `--database` it cannot use.
#[test]
fn verify_says_where_it_runs_and_never_falls_back() {
    let shell = Shell::new();
    std::fs::create_dir(shell.path("migrations")).unwrap();
    std::fs::write(
        shell.path("migrations/1_t.up.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(shell.path("migrations/1_t.down.sql"), "DROP TABLE t;\n").unwrap();

    let out = shell.run(&["verify"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with(
            "verifying on a new in-memory SQLite database (no --database given; pass a postgres:// URL to verify on PostgreSQL)\nverified 1 migration"
        ),
        "{}",
        text(&out.stdout)
    );
    // A SQLite file is named, and not opened (nor created).
    let said = shell.ok(&["verify"]);
    assert!(
        said.starts_with("verifying on a new in-memory SQLite database (app.db is not opened"),
        "{said}"
    );
    assert!(!shell.path("app.db").exists());

    // `--table` names the history table verify creates, as in `up`.
    std::fs::write(
        shell.path("migrations/2_sm.up.sql"),
        "CREATE TABLE schema_migrations (v INT);\n",
    )
    .unwrap();
    std::fs::write(
        shell.path("migrations/2_sm.down.sql"),
        "DROP TABLE schema_migrations;\n",
    )
    .unwrap();
    assert_eq!(shell.run(&["verify"]).status.code(), Some(1));
    let out = shell.run(&["--table", "history", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    for (url, code, expected) in [
        (
            "mysql://root@localhost/app",
            2,
            "cannot read the database URL",
        ),
        ("app.txt", 2, "cannot read the database URL"),
        ("sqlite:", 2, "names no file"),
        (
            "postgres://u@127.0.0.1:notaport/db",
            2,
            "cannot read the database URL",
        ),
        (
            "postgres://u@127.0.0.1:1/db?sslmode=bogus",
            2,
            "cannot read the database URL",
        ),
        (
            "postgres://nobody@127.0.0.1:1/none",
            1,
            "cannot connect to the PostgreSQL database",
        ),
    ] {
        let out = shell.run(&["--database", url, "verify"]);
        assert_eq!(out.status.code(), Some(code), "{url}");
        assert!(
            text(&out.stderr).contains(expected),
            "{url}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stdout).contains("verified"), "{url}");
    }
}

/// A lock timeout beyond what the databases count (2^31 - 1 ms) waits that
/// long; it used to panic inside rusqlite.
#[test]
fn a_lock_timeout_too_long_to_count_is_the_longest() {
    let shell = three();
    for seconds in ["2147484", "18446744073709551615"] {
        shell.ok(&["--lock-timeout", seconds, "up"]);
        shell.ok(&["--lock-timeout", seconds, "down", "--all"]);
    }
}

/// `--lock-timeout` is the wait of every command, those that only read
/// included (they waited rusqlite's default of 5 s before), and the error
/// says how long that was.
#[test]
fn every_command_waits_for_the_lock_timeout_it_was_given() {
    let shell = three();
    shell.ok(&["up"]);
    let holder = rusqlite::Connection::open(shell.path("app.db")).unwrap();
    // A rollback journal: an exclusive lock keeps readers out too.
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // And the lock file, which a change waits for after the database's
    // lock: the wait counts from the start, not twice (it took 11 s for 6).
    let lock = std::fs::File::create(shell.path("app.db-strata-lock")).unwrap();
    lock.lock().unwrap();
    for command in ["status", "version", "validate", "down"] {
        let started = std::time::Instant::now();
        let err = shell.fails(1, &["--lock-timeout", "1", command]);
        let took = started.elapsed();
        assert!(
            err.contains("stayed locked by another connection for 1.0s"),
            "{command}: {err}"
        );
        assert!(
            took >= std::time::Duration::from_millis(900)
                && took < std::time::Duration::from_millis(1800),
            "{command}: {took:?}"
        );
    }
    holder.execute_batch("COMMIT").unwrap();
    drop(lock);
    shell.ok(&["--lock-timeout", "1", "status"]);
}

/// A process killed in the middle of a transactional migration leaves the
/// rollback journal of its transaction (hot). The commands that only read
/// roll it back, as any SQLite reader must before reading, and show the
/// database as it was before that migration; before, they opened the file
/// read-only and failed with "attempt to write a readonly database". The
/// library, on a connection opened read-only, says what happened.
#[test]
fn read_only_commands_after_a_crash_in_a_transaction() {
    let shell = three();
    shell.ok(&["up"]);
    // Enough rows that SQLite writes pages to the file before the commit,
    // then a statement that runs until the kill.
    shell.migration(
        "000004_big",
        "CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT i, 'row ' || i || ' padding padding' AS s FROM n;\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) FROM n;\n",
        "DROP TABLE big;\n",
    );
    let before = shell.database().len() as u64;
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(with_db(&["up"]))
        .current_dir(shell.path(""))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The migration has written into the file once it grew.
    let started = std::time::Instant::now();
    while std::fs::metadata(shell.path("app.db")).unwrap().len() <= before {
        assert!(child.try_wait().unwrap().is_none(), "the migration ended");
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let journal = shell.path("app.db-journal");
    assert!(std::fs::metadata(&journal).unwrap().len() > 0);

    let read_only = rusqlite::Connection::open_with_flags(
        shell.path("app.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let migrations = strata::Migrations::from_dir(shell.path("migrations")).unwrap();
    let err = migrations.runner().status(&mut { read_only }).unwrap_err();
    assert!(matches!(err, strata::Error::HotJournal { .. }), "{err:?}");
    assert!(err.to_string().contains("rollback journal"), "{err}");

    // A user who may write the file and the journal but not the folder
    // cannot remove the journal after rolling it back: the folder is named
    // (it was "disk I/O error"). As root, that user is `nobody`.
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        use std::os::unix::process::CommandExt;
        let set = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        let as_root = std::fs::metadata(shell.path("app.db")).unwrap().uid() == 0;
        set(&shell.path("app.db"), 0o666);
        set(&journal, 0o666);
        set(&shell.path(""), 0o555);
        let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
        command
            .args(with_db(&["status"]))
            .current_dir(shell.path(""))
            .env_remove("DATABASE_URL");
        if as_root {
            command.uid(65534).gid(65534);
        }
        let output = command.output().unwrap();
        set(&shell.path(""), 0o755);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            text(&output.stderr).contains("cannot be written because its folder is not writable"),
            "{}",
            text(&output.stderr)
        );
    }

    assert_eq!(shell.ok(&["version"]), "3\n");
    assert!(shell.ok(&["status"]).contains("      4  big    pending"));
    assert!(shell.ok(&["validate"]).contains("1 pending: 4"));
    assert!(!journal.exists() || std::fs::metadata(&journal).unwrap().len() == 0);
    let conn = rusqlite::Connection::open(shell.path("app.db")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

/// strata reads only regular files, up to a size limit: a FIFO named like
/// a migration used to hang every command, and a link to `/dev/zero` to
/// grow memory until the process was killed.
#[cfg(unix)]
#[test]
fn special_files_are_refused_and_the_size_limit_holds() {
    let shell = three();
    let fifo = shell.path("migrations/000004_pipe.up.sql");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    shell.write("migrations/000004_pipe.down.sql", "SELECT 1;\n");
    std::os::unix::fs::symlink("/dev/zero", shell.path("migrations/000005_zero.up.sql")).unwrap();
    shell.write("migrations/000005_zero.down.sql", "SELECT 1;\n");
    let output = shell.run(&["validate"]);
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    for file in ["000004_pipe.up.sql", "000005_zero.up.sql"] {
        assert!(
            err.contains(&format!("migrations/{file} is not a regular file")),
            "{err}"
        );
    }
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_file(shell.path("migrations/000004_pipe.down.sql")).unwrap();
    std::fs::remove_file(shell.path("migrations/000005_zero.up.sql")).unwrap();
    std::fs::remove_file(shell.path("migrations/000005_zero.down.sql")).unwrap();

    // The limit: STRATA_MAX_FILE_SIZE bytes (the files here are 40 to 60).
    let limited = |limit: &str| {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("validate")
            .current_dir(shell.path(""))
            .env_remove("DATABASE_URL")
            .env("STRATA_MAX_FILE_SIZE", limit)
            .output()
            .unwrap()
    };
    let output = limited("30");
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(
        err.contains(
            "migrations/000001_users.up.sql is larger than 30 bytes, the most strata reads"
        ),
        "{err}"
    );
    assert_eq!(limited("1000").status.code(), Some(0));
    let output = limited("30 MiB");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("STRATA_MAX_FILE_SIZE is \"30 MiB\", not a number of bytes"),
        "{}",
        text(&output.stderr)
    );
    // Said once, not once per file.
    assert_eq!(
        text(&output.stderr).matches("STRATA_MAX_FILE_SIZE").count(),
        1
    );
}

/// A control character in a migration's file name is refused, and the
/// message shows it escaped: before, the scanner accepted such names and
/// every message printed them raw (an ESC sequence rewrote the terminal).
#[test]
fn control_characters_in_file_names_are_refused_and_shown_escaped() {
    let shell = three();
    shell.migration("000004_a\u{1b}[2Jb", "SELECT 1;\n", "SELECT 1;\n");
    shell.migration("000005_line\nbreak", "SELECT 1;\n", "SELECT 1;\n");
    let output = shell.run(&["validate"]);
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(
        err.contains(
            "migrations/000004_a\\u{1b}[2Jb.up.sql has a control or invisible character in its name"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "migrations/000005_line\\u{a}break.down.sql has a control or invisible character in its name"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 5, "{err}");
}

/// A database whose folder this user may not write: SQLite cannot create
/// the journal beside it, which was reported as an error in the migration's
/// SQL at line 1. It is now its own error, naming the migration and the
/// cause; `force` says the same. Root may write anywhere, so as root the
/// commands run as `nobody`.
#[cfg(unix)]
#[test]
fn a_folder_that_cannot_be_written_is_named_as_the_cause() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let shell = three();
    shell.ok(&["up", "2"]);
    let folder = shell.path("");
    let as_root = std::fs::metadata(shell.path("app.db")).unwrap().uid() == 0;
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // The user that runs the commands may write the file but not the folder.
    mode(&shell.path("app.db"), 0o666);
    mode(&folder, 0o555);
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
        command
            .args(with_db(args))
            .current_dir(&folder)
            .env_remove("DATABASE_URL");
        if as_root {
            command.uid(65534).gid(65534);
        }
        command.output().unwrap()
    };
    let up = run(&["up"]);
    let force = run(&["force", "3"]);
    mode(&folder, 0o755);
    assert_eq!(up.status.code(), Some(1), "{}", text(&up.stderr));
    let err = text(&up.stderr);
    assert!(
        err.contains("migrations/000003_posts.up.sql: database "),
        "{err}"
    );
    assert!(
        err.contains("app.db cannot be written because its folder is not writable"),
        "{err}"
    );
    assert_eq!(force.status.code(), Some(1));
    assert!(
        text(&force.stderr).contains("app.db cannot be written because its folder is not writable"),
        "{}",
        text(&force.stderr)
    );
    assert_eq!(shell.ok(&["version"]), "2\n");

    // A new database in such a folder, and a folder where a file should be.
    let sub = shell.path("closed");
    std::fs::create_dir(&sub).unwrap();
    mode(&sub, 0o555);
    let new = {
        let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
        command
            .args(["--database", "sqlite:closed/new.db", "up"])
            .current_dir(&folder)
            .env_remove("DATABASE_URL");
        if as_root {
            command.uid(65534).gid(65534);
        }
        command.output().unwrap()
    };
    assert_eq!(new.status.code(), Some(1));
    assert!(
        text(&new.stderr)
            .contains("cannot create database closed/new.db: its folder is not writable"),
        "{}",
        text(&new.stderr)
    );
    std::fs::create_dir(shell.path("dir.db")).unwrap();
    let output = shell.run(&["--database", "sqlite:dir.db", "status"]);
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(
        err.contains("database dir.db is a folder, not a SQLite file"),
        "{err}"
    );
}

/// On PostgreSQL too, `--lock-timeout` bounds every wait for a lock on the
/// history table, reads included (status waited without end while another
/// session locked it), and a wait that ran out is `Locked`, not a database
/// error blamed on a migration.
#[test]
fn postgres_history_locks_are_waited_for_within_the_lock_timeout() {
    let Some(db) = pg::TestDb::new("cli_history_lock") else {
        return;
    };
    let shell = three();
    let run = |args: &[&str]| {
        let mut all = vec!["--database", db.url.as_str(), "--lock-timeout", "1"];
        all.extend_from_slice(args);
        let started = std::time::Instant::now();
        let output = shell.run(&all);
        (
            output.status.code(),
            text(&output.stderr),
            started.elapsed(),
        )
    };
    let (code, err, _) = run(&["up", "2"]);
    assert_eq!(code, Some(0), "{err}");
    let mut holder = db.client();
    holder
        .batch_execute("BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    for command in [&["status"][..], &["version"], &["validate"]] {
        let (code, err, took) = run(command);
        assert_eq!(code, Some(1), "{command:?}: {err}");
        assert!(
            err.contains("stayed locked by another connection"),
            "{command:?}: {err}"
        );
        assert!(
            took < std::time::Duration::from_secs(5),
            "{command:?}: {took:?}"
        );
    }
    // Inside strata's transaction the history is written under the table
    // lock wait (10 s unless the library's runner says otherwise): typed,
    // not blamed on a migration.
    let (code, err, took) = run(&["force", "1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("stayed locked by another connection for 10.0s"),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    holder.batch_execute("ROLLBACK").unwrap();
    let (code, err, _) = run(&["status"]);
    assert_eq!(code, Some(0), "{err}");
}

/// Nothing a file name, a file's content or a history row holds can act on
/// the terminal: invisible and direction-changing characters in names are
/// refused like control characters, a name that is not UTF-8 is shown
/// escaped, and statements and history names in messages are escaped.
#[test]
fn nothing_from_files_or_history_reaches_the_terminal_raw() {
    let shell = three();
    shell.migration("000004_a\u{202e}b", "SELECT 1;\n", "SELECT 1;\n");
    shell.migration("000005_zero\u{200b}width", "SELECT 1;\n", "SELECT 1;\n");
    let output = shell.run(&["validate"]);
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("000004_a\\u{202e}b.up.sql has a control or invisible character"),
        "{err}"
    );
    assert!(
        err.contains("000005_zero\\u{200b}width.up.sql has a control or invisible character"),
        "{err}"
    );
    assert!(
        !err.contains('\u{202e}') && !err.contains('\u{200b}'),
        "{err:?}"
    );
    for stem in ["000004_a\u{202e}b", "000005_zero\u{200b}width"] {
        for direction in ["up", "down"] {
            std::fs::remove_file(shell.path(&format!("migrations/{stem}.{direction}.sql")))
                .unwrap();
        }
    }
    // A statement that fails, holding an escape sequence.
    shell.migration(
        "000004_evil",
        "CREATE TABLE \"\u{1b}]0;pwned\u{7}\u{1b}[2J\" (x;\n",
        "SELECT 1;\n",
    );
    let err = shell.fails(1, &["up"]);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("\\u{1b}]0;pwned\\u{7}"), "{err}");
    std::fs::remove_file(shell.path("migrations/000004_evil.up.sql")).unwrap();
    std::fs::remove_file(shell.path("migrations/000004_evil.down.sql")).unwrap();
    // A history row's name, written by someone else.
    let conn = rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch(
        "UPDATE schema_migrations SET name = 'x' || char(27) || '[31mEVIL' WHERE version = 1",
    )
    .unwrap();
    drop(conn);
    let out = shell.ok(&["status"]);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    // Nor in what repair (and force) say they changed.
    let out = shell.ok(&["repair"]);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("x\\u{1b}[31mEVIL"), "{out}");
}
