//! The `strata` binary on the paths of issue 16: a run that fails partway,
//! an empty folder, a golang-migrate folder and history, rolling deploys,
//! and PostgreSQL's table lock timeout.

#[path = "../../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

mod common;

use common::{Shell, text, with_db};

/// Versions 1 to 3 create tables; version 4 fails on its second line.
fn three_good_then_a_bad_one() -> Shell {
    let shell = Shell::new();
    for (version, table) in [(1, "users"), (2, "posts"), (3, "tags")] {
        shell.migration(
            &format!("00000{version}_{table}"),
            &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);\n"),
            &format!("DROP TABLE {table};\n"),
        );
    }
    shell.migration(
        "000004_bad",
        "CREATE TABLE bad (id INTEGER PRIMARY KEY);\nINSERT INTO missing VALUES (1);\n",
        "DROP TABLE bad;\n",
    );
    shell
}

#[test]
fn a_run_that_fails_partway_prints_its_steps_the_error_and_where_the_database_is() {
    let shell = three_good_then_a_bad_one();
    let output = shell.run(&with_db(&["up"]));
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "before the failure below, this run applied 3 migrations, which stay committed:"
    );
    assert!(lines[1].starts_with("  up   000001_users"), "{stdout}");
    assert!(lines[3].starts_with("  up   000003_tags"), "{stdout}");
    assert_eq!(lines.len(), 4, "{stdout}");
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().collect();
    assert!(
        errors[0].starts_with("error: migrations/000004_bad.up.sql:2: no such table: missing"),
        "{stderr}"
    );
    // The partial report is not said twice.
    assert!(!stderr.contains("before this failure"), "{stderr}");
    assert_eq!(errors.last(), Some(&"the database is now at version 3"));
    assert_eq!(shell.ok(&["version"]).trim(), "3");

    // Down that fails partway: 3 goes, 2's down fails.
    shell.write(
        "migrations/000004_bad.up.sql",
        "CREATE TABLE bad (id INTEGER PRIMARY KEY);\n",
    );
    shell.ok(&["up"]);
    shell.write("migrations/000002_posts.down.sql", "DROP TABLE nowhere;\n");
    let output = shell.run(&with_db(&["down", "3"]));
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(
            "before the failure below, this run reverted 2 migrations, which stay committed:\n  down 000004_bad"
        ),
        "{stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.ends_with("the database is now at version 2\n"),
        "{stderr}"
    );

    // --quiet keeps the error and where the database is.
    shell.ok(&["up"]);
    let output = shell.run(&with_db(&["--quiet", "down", "--all"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).is_empty());
    assert_eq!(
        text(&output.stderr),
        "error: migrations/000002_posts.down.sql:1: no such table: nowhere (in `DROP TABLE nowhere;`)\nthe database is now at version 2\n"
    );
}

#[test]
fn an_empty_folder_is_an_error_unless_it_is_meant_to_be() {
    let shell = Shell::new();
    shell.write(
        "db/migrations/000001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    shell.write("db/migrations/000001_users.down.sql", "DROP TABLE users;\n");
    shell.write("db/README.md", "the migrations are in migrations/\n");
    for command in [
        &["up"][..],
        &["status"],
        &["validate"],
        &["verify"],
        &["version"],
    ] {
        let mut args = vec!["--dir", "db"];
        args.extend_from_slice(command);
        let stderr = shell.fails(1, &args);
        assert!(
            stderr.starts_with("error: no migrations in db: it holds no VERSION_NAME.up.sql files, but db/migrations does: point --dir at it"),
            "{command:?}: {stderr}"
        );
        assert!(stderr.contains("--allow-empty"), "{stderr}");
    }
    assert!(!shell.path("app.db").exists());
    shell.write("empty/.gitkeep", "");
    let stdout = shell.ok(&["--dir", "empty", "--allow-empty", "up"]);
    assert_eq!(
        stdout.trim(),
        "nothing to do: the database is at no version"
    );
    shell.ok(&["--dir", "db/migrations", "up"]);
}

#[test]
fn porting_a_golang_migrate_folder_and_its_history() {
    let shell = Shell::new();
    shell.migration(
        "1_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE users;\n",
    );
    // golang-migrate runs any extension.
    shell.write(
        "migrations/2_posts.up.txt",
        "CREATE TABLE posts (id INTEGER);\n",
    );
    shell.write("migrations/2_posts.down.txt", "DROP TABLE posts;\n");
    let stderr = shell.fails(1, &["validate"]);
    assert!(
        stderr.contains("migrations/2_posts.up.txt: strata runs migration files named .up.sql and .down.sql only (golang-migrate takes other extensions), so this file would be skipped (rename it to 2_posts.up.sql)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(rename it to 2_posts.down.sql)"),
        "{stderr}"
    );
    std::fs::rename(
        shell.path("migrations/2_posts.up.txt"),
        shell.path("migrations/2_posts.up.sql"),
    )
    .unwrap();
    std::fs::rename(
        shell.path("migrations/2_posts.down.txt"),
        shell.path("migrations/2_posts.down.sql"),
    )
    .unwrap();

    // An empty pair, as golang-migrate runs it: refused, with the way out.
    shell.migration("3_placeholder", "", "-- nothing to undo\n");
    let stderr = shell.fails(1, &["validate"]);
    assert!(stderr.contains("migrations/3_placeholder.up.sql has no SQL, only blanks and comments (write the migration; if it is meant to do nothing, as golang-migrate runs an empty file, put `-- strata:no-op` in it)"), "{stderr}");
    assert!(
        stderr.contains("migrations/3_placeholder.down.sql has no SQL"),
        "{stderr}"
    );
    shell.migration(
        "3_placeholder",
        "-- strata:no-op\n",
        "-- strata:no-op\n-- nothing to undo\n",
    );

    // golang-migrate's history, dirty at 3 after a failure.
    let conn = strata::rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY); CREATE TABLE posts (id INTEGER);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (3, 1);",
    )
    .unwrap();
    drop(conn);
    let stderr = shell.fails(1, &["adopt"]);
    assert!(
        stderr.contains("`strata adopt --force-version V`"),
        "{stderr}"
    );
    let stdout = shell.ok(&["adopt", "--force-version", "3"]);
    assert!(stdout.contains("3 placeholder"), "{stdout}");
    assert_eq!(shell.ok(&["version"]).trim(), "3");
    // Down through the no-op migration.
    shell.ok(&["down", "2"]);
    assert_eq!(shell.ok(&["version"]).trim(), "1");
    shell.ok(&["up"]);
    shell.ok(&["verify"]);
}

#[test]
fn the_history_of_a_version_without_files_shows_name_unknown() {
    let shell = Shell::new();
    shell.migration(
        "1_users",
        "CREATE TABLE users (id INTEGER);\n",
        "DROP TABLE users;\n",
    );
    let conn = strata::rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (12, 0);",
    )
    .unwrap();
    drop(conn);
    let stderr = shell.fails(1, &["adopt"]);
    assert!(
        stderr.starts_with("error: version 12 (name unknown) is applied"),
        "{stderr}"
    );
}

#[test]
fn a_database_built_without_strata_points_to_baseline() {
    let shell = Shell::new();
    shell.migration(
        "1_users",
        "CREATE TABLE users (id INTEGER);\n",
        "DROP TABLE users;\n",
    );
    shell.migration(
        "2_posts",
        "CREATE TABLE posts (id INTEGER);\n",
        "DROP TABLE posts;\n",
    );
    let conn = strata::rusqlite::Connection::open(shell.path("app.db")).unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER);")
        .unwrap();
    drop(conn);
    let stderr = shell.fails(1, &["up"]);
    assert!(stderr.contains("table users already exists"), "{stderr}");
    assert!(stderr.contains("`strata baseline VERSION`"), "{stderr}");
    shell.ok(&["baseline", "1"]);
    assert!(shell.ok(&["up"]).starts_with("applied 1 migration"));
}

#[test]
fn rolling_deploys_and_a_late_migration_reverted_alone() {
    let newer = Shell::new();
    for version in 1..=3 {
        newer.migration(
            &format!("{version}_t{version}"),
            &format!("CREATE TABLE t{version} (id INTEGER);\n"),
            &format!("DROP TABLE t{version};\n"),
        );
    }
    newer.ok(&["up"]);
    // The old build's folder: versions 1 and 2 only, same database.
    let old = Shell::new();
    for version in 1..=2 {
        old.migration(
            &format!("{version}_t{version}"),
            &format!("CREATE TABLE t{version} (id INTEGER);\n"),
            &format!("DROP TABLE t{version};\n"),
        );
    }
    std::fs::copy(newer.path("app.db"), old.path("app.db")).unwrap();
    let stderr = old.fails(1, &["up"]);
    assert!(stderr.contains("--allow-newer"), "{stderr}");
    let stdout = old.ok(&["up", "--allow-newer"]);
    assert_eq!(
        stdout.trim(),
        "nothing to do: the database is at version 3 (version 3 applied by a newer build, without files here: left as it is)"
    );
    let stdout = old.ok(&["validate", "--allow-newer"]);
    assert!(
        stdout.contains("applied by a newer build, without files here: 3"),
        "{stdout}"
    );

    // Out of order: 2 merged late, applied after 3; down reverts it first.
    let late = Shell::new();
    for version in [1, 3] {
        late.migration(
            &format!("{version}_t{version}"),
            &format!("CREATE TABLE t{version} (id INTEGER);\n"),
            &format!("DROP TABLE t{version};\n"),
        );
    }
    late.ok(&["up"]);
    late.migration(
        "2_t2",
        "CREATE TABLE t2 (id INTEGER);\n",
        "DROP TABLE t2;\n",
    );
    late.ok(&["up", "--allow-out-of-order"]);
    let conn = strata::rusqlite::Connection::open(late.path("app.db")).unwrap();
    conn.execute_batch("UPDATE schema_migrations SET applied_at = '2026-01-0' || version || 'T00:00:00.000Z' WHERE version <> 2; UPDATE schema_migrations SET applied_at = '2026-02-01T00:00:00.000Z' WHERE version = 2;").unwrap();
    drop(conn);
    let stdout = late.ok(&["down", "--dry-run"]);
    assert!(stdout.contains("down 2_t2"), "{stdout}");
    let stdout = late.ok(&["down", "--only", "3"]);
    assert!(stdout.contains("down 3_t3"), "{stdout}");
    let status = late.ok(&["status"]);
    assert!(status.contains("pending"), "{status}");
    let stderr = late.fails(1, &["down", "--only", "3"]);
    assert!(stderr.contains("version 3 is not applied"), "{stderr}");
    late.fails(2, &["down", "--only", "3", "--all"]);
}

#[test]
fn postgres_table_lock_timeout_is_an_option_and_its_error_names_it() {
    let Some(db) = pg::TestDb::new("cli_table_lock") else {
        return;
    };
    let shell = Shell::new();
    shell.migration("1_a", "CREATE TABLE a (id integer);\n", "DROP TABLE a;\n");
    shell.migration(
        "2_b",
        "ALTER TABLE a ADD COLUMN b integer;\n",
        "ALTER TABLE a DROP COLUMN b;\n",
    );
    let url = db.url.as_str();
    let run = |args: &[&str]| {
        let mut all = vec!["--database", url];
        all.extend_from_slice(args);
        shell.run(&all)
    };
    assert_eq!(run(&["up", "1"]).status.code(), Some(0));
    let mut app = db.client();
    app.batch_execute("BEGIN; LOCK TABLE a IN ACCESS SHARE MODE")
        .unwrap();
    let output = run(&["--table-lock-timeout", "1", "up"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .starts_with("error: migrations/2_b.up.sql:1: canceling statement due to lock timeout"),
        "{stderr}"
    );
    assert!(
        stderr.contains("strata sets lock_timeout to 1000 ms for each statement of a migration")
            && stderr.contains("the migration was rolled back")
            && stderr.contains("`--table-lock-timeout SECONDS`"),
        "{stderr}"
    );
    app.batch_execute("ROLLBACK").unwrap();
    assert_eq!(run(&["up"]).status.code(), Some(0));
}

#[test]
fn a_failed_no_transaction_migration_and_a_failed_dry_run_say_where_things_are() {
    let shell = three_good_then_a_bad_one();
    shell.write(
        "migrations/000004_bad.up.sql",
        "-- strata:no-transaction\nCREATE TABLE bad (id INTEGER);\nINSERT INTO missing VALUES (1);\n",
    );
    let output = shell.run(&with_db(&["up", "--dry-run"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    shell.write(
        "migrations/000003_tags.up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\nSELECT * FROM nowhere;\n",
    );
    let output = shell.run(&with_db(&["up", "--dry-run"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).ends_with("\ndry run, rolled back: nothing changed\n"),
        "{}",
        text(&output.stderr)
    );
    shell.write(
        "migrations/000003_tags.up.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
    );
    let output = shell.run(&with_db(&["up"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).starts_with(
            "before the failure below, this run applied 3 migrations, which stay committed:\n"
        ),
        "{}",
        text(&output.stdout)
    );
    assert!(
        text(&output.stderr).ends_with("\nthe database is now at version 4, marked dirty\n"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(shell.ok(&["version"]).trim(), "4 (dirty)");
}
