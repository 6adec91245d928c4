//! A new crate that depends on strata by path, as a user's would: it builds
//! and migrates a file database; a migration added to its folder is picked
//! up by the next build (the `build.rs` line); deleting a down file makes
//! `cargo build` fail naming that file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cargo(app: &Path, args: &[&str]) -> Output {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .arg("--offline")
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

#[test]
fn a_downstream_crate_builds_migrates_and_fails_to_build_without_a_down_file() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let app = tempfile::tempdir().unwrap();
    let root = app.path();
    write(
        root.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"downstream_app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nstrata = {{ path = {:?} }}\n\n[workspace]\n",
            repo.display().to_string()
        ),
    );
    // The same versions of the dependencies as this workspace.
    std::fs::copy(repo.join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    write(
        root.join("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n",
    );
    write(
        root.join("src/main.rs"),
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
    write(
        root.join("migrations/000001_init.up.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    );
    write(
        root.join("migrations/000001_init.down.sql"),
        "DROP TABLE users;\n",
    );
    let database = root.join("app.db");
    let database = database.to_str().unwrap();

    let run = cargo(root, &["run", "--quiet", "--", database]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.starts_with("applied 1 migration, the database is now at version 1"),
        "{stdout}"
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
    let run = cargo(root, &["run", "--quiet", "--", database]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.starts_with("applied 1 migration, the database is now at version 2"),
        "{stdout}"
    );

    std::fs::remove_file(root.join("migrations/000002_email.down.sql")).unwrap();
    let build = cargo(root, &["build", "--quiet"]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(!build.status.success());
    assert!(
        stderr.contains("error: missing down file migrations/000002_email.down.sql (write the SQL that reverts 000002_email.up.sql, or put `-- strata:irreversible` in it)"),
        "{stderr}"
    );
}
