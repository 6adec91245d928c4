//! A PostgreSQL database that was built without migrations becomes
//! migration 1, a `pg_dump -s` of it: the README's section "Starting from
//! an existing PostgreSQL database", run as written, then the dump applied
//! to a new database and compared with a plain restore of it, and
//! verified.

#[path = "../../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::path::Path;
use std::process::{Command, Output};

/// An application's schema as it grew by hand: several schemas, enums, a
/// sequence, a view, a function, a trigger, a key across schemas.
const LEGACY: &str = "
CREATE SCHEMA app;
CREATE SCHEMA billing;
CREATE TYPE app.role AS ENUM ('member', 'admin');
CREATE TYPE billing.state AS ENUM ('open', 'paid', 'void');
CREATE SEQUENCE billing.invoice_numbers START 1000;
CREATE TABLE app.users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    role app.role NOT NULL DEFAULT 'member',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE billing.invoices (
    number bigint PRIMARY KEY DEFAULT nextval('billing.invoice_numbers'),
    user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    state billing.state NOT NULL DEFAULT 'open',
    cents integer NOT NULL CHECK (cents >= 0)
);
CREATE INDEX invoices_open ON billing.invoices (user_id) WHERE state = 'open';
CREATE VIEW billing.open_totals AS
    SELECT user_id, sum(cents) AS cents FROM billing.invoices WHERE state = 'open' GROUP BY user_id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
INSERT INTO app.users (email) VALUES ('a@example.com');
";

/// The one shell block of the README's section `heading`.
fn readme_block(heading: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split_once(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("README has no section {heading:?}"))
        .1;
    let section = section.split("\n## ").next().unwrap();
    let block = section
        .split_once("```sh\n")
        .expect("the section has a sh block")
        .1;
    block.split_once("```").unwrap().0.to_owned()
}

fn ok(output: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `pg_dump -s` as the README writes it, without strata's history table.
fn dump(url: &str) -> String {
    pg::dump(
        url,
        &[
            "--no-owner",
            "--no-privileges",
            "--exclude-table=public.schema_migrations",
        ],
    )
}

fn strata(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["--database", url])
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn an_existing_database_becomes_migration_one_as_the_readme_says() {
    let Some(legacy) = pg::TestDb::new("legacy") else {
        return;
    };
    legacy.client().batch_execute(LEGACY).unwrap();
    let before = dump(&legacy.url);

    // The README's commands, as written, with `strata` on the path.
    let work = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_strata")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let script = readme_block("Starting from an existing PostgreSQL database");
    let output = Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(work.path())
        .env("PATH", path)
        .env("DATABASE_URL", &legacy.url)
        .output()
        .unwrap();
    let said = ok(output, &script);
    assert!(said.contains("recorded"), "{said}");
    assert!(said.contains("applied"), "{said}");
    let up =
        std::fs::read_to_string(work.path().join("migrations/000001_baseline.up.sql")).unwrap();
    assert!(up.contains("set_config('search_path', '', false)"), "{up}");
    assert!(!up.lines().any(|l| l.starts_with('\\')), "{up}");
    // The baseline ran nothing: the database is as it was, with a history.
    assert_eq!(dump(&legacy.url), before);
    let history: Vec<(i64, bool)> = legacy
        .client()
        .query("SELECT version, dirty FROM public.schema_migrations", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(history, [(1, false)]);

    // A new database gets the schema from `strata up`, the same as a plain
    // restore of the dump gives, and the same as the original.
    let fresh = pg::TestDb::new("legacy_fresh").unwrap();
    ok(strata(work.path(), &fresh.url, &["up"]), "strata up");
    let restored = pg::TestDb::new("legacy_restored").unwrap();
    ok(
        Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(work.path().join("migrations/000001_baseline.up.sql"))
            .arg(&restored.url)
            .output()
            .unwrap(),
        "psql -f",
    );
    assert_eq!(dump(&fresh.url), dump(&restored.url));
    assert_eq!(dump(&fresh.url), before);

    // verify on an empty database: the baseline applies, and a later
    // migration is checked on top of it; the database stays empty.
    let empty = pg::TestDb::new("legacy_verify").unwrap();
    let empty_before = dump(&empty.url);
    std::fs::write(
        work.path().join("migrations/000002_invoice_notes.up.sql"),
        "ALTER TABLE billing.invoices ADD COLUMN note text;\nCREATE INDEX invoices_state ON billing.invoices (state);\n",
    )
    .unwrap();
    std::fs::write(
        work.path().join("migrations/000002_invoice_notes.down.sql"),
        "ALTER TABLE billing.invoices DROP COLUMN note;\n",
    )
    .unwrap();
    let output = strata(work.path(), &empty.url, &["verify"]);
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("index billing.invoices_state (CREATE INDEX invoices_state ON billing.invoices USING btree (state)) left behind by 000002_invoice_notes.down.sql"),
        "{err}"
    );
    std::fs::write(
        work.path().join("migrations/000002_invoice_notes.down.sql"),
        "DROP INDEX billing.invoices_state;\nALTER TABLE billing.invoices DROP COLUMN note;\n",
    )
    .unwrap();
    let said = ok(
        strata(work.path(), &empty.url, &["verify"]),
        "strata verify",
    );
    assert!(
        said.starts_with("verifying on PostgreSQL\nverified 1 migration")
            && said.contains("irreversible, not reverted: 1"),
        "{said}"
    );
    assert_eq!(dump(&empty.url), empty_before);
    // With a down file that drops what the dump made, the baseline itself
    // is checked too.
    let irreversible = work.path().join("migrations/000001_baseline.down.sql");
    std::fs::write(&irreversible, "DROP SCHEMA app, billing CASCADE;\n").unwrap();
    let said = ok(
        strata(work.path(), &empty.url, &["verify"]),
        "strata verify",
    );
    assert!(
        said.starts_with("verifying on PostgreSQL\nverified 2 migrations"),
        "{said}"
    );
    assert_eq!(dump(&empty.url), empty_before);
    std::fs::write(&irreversible, "-- strata:irreversible\n").unwrap();

    // The original database takes the next migration, and only that one.
    let said = ok(strata(work.path(), &legacy.url, &["up"]), "strata up");
    assert!(said.starts_with("applied 1 migration"), "{said}");
}
