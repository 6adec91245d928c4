//! Bringing existing databases under strata without losing a row.
//!
//! 1. A database kept by a home-made runner: it recorded
//!    `schema_migrations(version, name, applied_at)` but ran every file on
//!    every start, ignoring "duplicate column name" errors. strata refuses
//!    to touch that table until asked to adopt it, then converts it.
//! 2. A database with tables and no history at all: `baseline` records what
//!    it already has, and `run` applies only what is new.
//!
//! Run it with `cargo run --example existing_db`.

use strata::rusqlite::Connection;

static MIGRATIONS: strata::Migrations =
    strata::embed_migrations!("examples/existing_db/migrations");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;

    println!("== a database kept by a home-made runner");
    let mut conn = Connection::open(dir.path().join("home_made.db"))?;
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT);
         CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
         ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
         INSERT INTO schema_migrations VALUES
             (1, 'notes', '2025-01-10 09:00:00'),
             (2, 'add_pinned', '2025-02-03 17:30:00');
         INSERT INTO notes (body, pinned) VALUES ('buy milk', 0), ('call Ana', 1);",
    )?;
    // What the old runner did on every start, and why it was replaced:
    if let Err(e) = conn.execute_batch(MIGRATIONS.get(2).map_or("", |m| m.up_sql())) {
        println!("the old runner, re-running 000002 on start: {e}");
    }

    match MIGRATIONS.run(&mut conn) {
        Err(e) => println!("strata, before adopting: {e}"),
        Ok(report) => println!("unexpected: {report}"),
    }
    let adopted = MIGRATIONS.runner().adopt(&mut conn)?;
    println!("adopt: {adopted}");
    println!("run: {}", MIGRATIONS.run(&mut conn)?);
    let notes: i64 = conn.query_row("SELECT count(*) FROM notes", [], |r| r.get(0))?;
    println!("notes kept: {notes}");
    println!("{}", MIGRATIONS.status(&mut conn)?);

    println!("\n== a database with tables and no history");
    let mut conn = Connection::open(dir.path().join("no_history.db"))?;
    conn.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0);
         INSERT INTO notes (body) VALUES ('water the plants');",
    )?;
    let baseline = MIGRATIONS.runner().baseline(&mut conn, 2)?;
    println!("baseline 2: {baseline}");
    println!("run: {}", MIGRATIONS.run(&mut conn)?);
    println!("{}", MIGRATIONS.status(&mut conn)?);

    // The check to run in CI: every down file reverts its up file.
    println!(
        "\n{}",
        MIGRATIONS.verify(&mut Connection::open_in_memory()?)?
    );
    Ok(())
}
