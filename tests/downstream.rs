//! A new crate that depends on strata by path, as a user's would: it builds
//! and migrates a file database; a migration added to its folder is picked
//! up by the next build (the `build.rs` line); deleting a down file makes
//! `cargo build` fail naming that file. A second crate names strata
//! otherwise in its `Cargo.toml`, and the macro still works.

#[cfg(feature = "postgres")]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cargo(app: &Path, args: &[&str]) -> Output {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        // Before the subcommand: after `run -- ...` it would be the
        // program's argument.
        .arg("--offline")
        .args(args)
        .current_dir(app)
        // Its own target folder, kept between runs, so only the first build
        // compiles the dependencies.
        .env("CARGO_TARGET_DIR", repo.join("target/downstream"))
        .env_remove("STRATA_MANIFEST_DIR_OVERRIDE")
        .output()
        .unwrap()
}

fn write(path: PathBuf, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A new crate `name` whose dependency on strata is `key = { package =
/// "strata", path = ... }`, with `main` as its `src/main.rs` and migration 1
/// (table `users`) in its folder.
fn new_app(name: &str, key: &str, main: &str) -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).display().to_string();
    new_app_with(
        name,
        &format!("{key} = {{ package = \"strata\", path = {repo:?} }}\n"),
        main,
    )
}

/// [`new_app`] with `dependencies` as its `[dependencies]` table, and this
/// workspace's lock file.
fn new_app_with(name: &str, dependencies: &str, main: &str) -> tempfile::TempDir {
    let app = new_unlocked_app(name, dependencies, main);
    // The same versions of the dependencies as this workspace.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("Cargo.lock"), app.path().join("Cargo.lock")).unwrap();
    app
}

/// [`new_app_with`] without a lock file: cargo resolves the versions itself,
/// as for a new user's crate (from the crates this machine has: the builds
/// are offline).
fn new_unlocked_app(name: &str, dependencies: &str, main: &str) -> tempfile::TempDir {
    let app = tempfile::tempdir().unwrap();
    let root = app.path();
    write(
        root.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n{dependencies}\n[workspace]\n"
        ),
    );
    write(root.join("src/main.rs"), main);
    write(
        root.join("migrations/000001_init.up.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    write(
        root.join("migrations/000001_init.down.sql"),
        "DROP TABLE users;\n",
    );
    app
}

/// `cargo run` in `app`, which must succeed; its output must begin with
/// `expected`.
fn runs(app: &Path, args: &[&str], expected: &str) {
    let mut all = vec!["run", "--quiet", "--"];
    all.extend_from_slice(args);
    let run = cargo(app, &all);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.starts_with(expected), "{stdout}");
}

/// `cargo build` in `app`, which must fail; returns its standard error.
fn build_fails(app: &Path) -> String {
    let build = cargo(app, &["build", "--quiet"]);
    assert!(!build.status.success());
    String::from_utf8_lossy(&build.stderr).into_owned()
}

#[test]
fn a_downstream_crate_builds_migrates_and_fails_to_build_without_a_down_file() {
    let app = new_app(
        "downstream_app",
        "strata",
        r#"static MIGRATIONS: strata::Migrations = strata::embed_migrations!("migrations");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: downstream_app DATABASE")?;
    let mut conn = strata::rusqlite::Connection::open(path)?;
    let report = MIGRATIONS.run(&mut conn)?;
    println!("{report}");
    Ok(())
}
"#,
    );
    let root = app.path();
    write(
        root.join("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n",
    );
    let database = root.join("app.db");
    let database = database.to_str().unwrap();
    runs(
        root,
        &[database],
        "applied 1 migration, the database is now at version 1",
    );

    // A new file: the build script's line makes cargo rebuild and embed it.
    write(
        root.join("migrations/000002_email.up.sql"),
        "ALTER TABLE users ADD COLUMN email TEXT;\n",
    );
    write(
        root.join("migrations/000002_email.down.sql"),
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    runs(
        root,
        &[database],
        "applied 1 migration, the database is now at version 2",
    );

    std::fs::remove_file(root.join("migrations/000002_email.down.sql")).unwrap();
    let stderr = build_fails(root);
    assert!(
        stderr.contains("error: missing down file migrations/000002_email.down.sql (write the SQL that reverts 000002_email.up.sql, or put `-- strata:irreversible` in it)"),
        "{stderr}"
    );
}

/// A crate that names strata otherwise in its `Cargo.toml` (`package =
/// "strata"` under another key): the macro's expansion reaches strata
/// through the name the crate gave it.
#[test]
fn the_macro_works_when_the_dependency_is_renamed() {
    let app = new_app(
        "downstream_renamed",
        "db-migrations",
        r#"// No crate named `strata` is in scope here.
static MIGRATIONS: db_migrations::Migrations = db_migrations::embed_migrations!("migrations");

fn main() {
    let mut conn = db_migrations::rusqlite::Connection::open_in_memory().unwrap();
    println!("{}", MIGRATIONS.run(&mut conn).unwrap());
}
"#,
    );
    let root = app.path();
    runs(
        root,
        &[],
        "applied 1 migration, the database is now at version 1",
    );
    // A folder that breaks a rule is still a build error naming the file.
    std::fs::remove_file(root.join("migrations/000001_init.down.sql")).unwrap();
    let stderr = build_fails(root);
    assert!(
        stderr.contains("missing down file migrations/000001_init.down.sql"),
        "{stderr}"
    );
}

/// An async service's crate: strata with `default-features = false` and
/// the feature `tokio-postgres`, beside tokio and tokio-postgres. It links
/// no SQLite library (so a sqlx SQLite driver of its own would be the only
/// one), builds, and, with a server, migrates a database through
/// `run_async`.
#[test]
fn an_async_service_crate_links_no_sqlite_and_migrates() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).display().to_string();
    let app = new_app_with(
        "downstream_async",
        &format!(
            "strata = {{ path = {repo:?}, default-features = false, features = [\"tokio-postgres\"] }}\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\
             tokio-postgres = \"0.7.17\"\n"
        ),
        r#"static MIGRATIONS: strata::Migrations = strata::embed_migrations!("migrations");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(url) = std::env::args().nth(1) else {
        println!("built");
        return Ok(());
    };
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    println!("{}", MIGRATIONS.run_async(&mut client).await?);
    Ok(())
}
"#,
    );
    let root = app.path();
    let tree = cargo(root, &["tree", "-e", "normal"]);
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains("tokio-postgres v"), "{tree}");
    assert!(
        !tree.contains("libsqlite3-sys") && !tree.contains("rusqlite"),
        "{tree}"
    );
    runs(root, &[], "built");
    #[cfg(feature = "postgres")]
    if let Some(db) = common::pg::TestDb::new("downstream_async") {
        runs(
            root,
            &[&db.url],
            "applied 1 migration, the database is now at version 1",
        );
    }
}

/// A service on sqlx's SQLite driver: strata with `default-features =
/// false` and the feature `sqlx-sqlite`, beside sqlx with its `sqlite`
/// feature. Resolved afresh (no lock file), cargo finds one libsqlite3-sys
/// for rusqlite and sqlx-sqlite (a `links = "sqlite3"` crate can be in a
/// build once): before this feature, strata's rusqlite needed a newer one
/// than sqlx accepts and the crate could not be built. The app migrates a
/// file database through a pooled connection (`&mut *conn`) and reads it
/// back through sqlx.
#[test]
fn a_sqlx_sqlite_service_crate_resolves_one_sqlite_and_migrates() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).display().to_string();
    let app = new_unlocked_app(
        "downstream_sqlx_sqlite",
        &format!(
            "strata = {{ path = {repo:?}, default-features = false, features = [\"sqlx-sqlite\"] }}\n\
             sqlx = {{ version = \"0.9\", default-features = false, features = [\"sqlite\", \"runtime-tokio\"] }}\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n"
        ),
        r#"static MIGRATIONS: strata::Migrations = strata::embed_migrations!("migrations");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("a database path")?;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await?;
    let mut conn = pool.acquire().await?;
    let report = MIGRATIONS.run_async(&mut *conn).await?;
    println!("applied {:?}", report.applied.iter().map(|step| step.version).collect::<Vec<_>>());
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *conn)
        .await?;
    println!("users: {users}");
    Ok(())
}
"#,
    );
    let root = app.path();
    let tree = cargo(root, &["tree", "-e", "normal", "-i", "libsqlite3-sys"]);
    let text = String::from_utf8_lossy(&tree.stdout);
    assert!(
        tree.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    // Both drivers on the one libsqlite3-sys: strata's rusqlite is the
    // release on sqlx's (before, no rusqlite that strata took was).
    assert!(
        text.contains("rusqlite v0.39") && text.contains("sqlx-sqlite v"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("app.db");
    runs(
        root,
        &[database.to_str().unwrap()],
        "applied [1]\nusers: 0\n",
    );
}
