//! A chat backend's schema, migrated on startup.
//!
//! The database first gets the app's first release (version 1) and some
//! data; then the current release migrates it to version 2, which recreates
//! the `messages` table to allow a new role. The messages survive, the new
//! role is accepted, and a second run has nothing to do.
//!
//! Run it with `cargo run --example chat`.

use strata::rusqlite::Connection;

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("examples/chat/migrations");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("chat.db");
    let mut conn = Connection::open(&path)?;
    println!("database: {}", path.display());

    // The first release of the app shipped only migration 1.
    let report = MIGRATIONS.runner().target(1).run(&mut conn)?;
    println!("\nfirst release: {report}");
    conn.execute_batch(
        "INSERT INTO sessions (session_id, title, model) VALUES ('s-1', 'Trip to Lisbon', 'small-1');
         INSERT INTO messages (session_id, role, content) VALUES
             ('s-1', 'user', 'Where should I eat?'),
             ('s-1', 'assistant', 'Try the Time Out Market.');",
    )?;
    let rejected = conn.execute(
        "INSERT INTO messages (session_id, role, content) VALUES ('s-1', 'thinking', 'hmm')",
        [],
    );
    println!(
        "a 'thinking' message before migration 2: {}",
        match rejected {
            Ok(_) => "accepted".to_owned(),
            Err(e) => format!("rejected ({e})"),
        }
    );

    // The current release: migration 2 recreates the messages table.
    let report = MIGRATIONS.run(&mut conn)?;
    println!("\ncurrent release: {report}");
    let kept: i64 = conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
    println!("messages kept through the table recreation: {kept}");
    conn.execute(
        "INSERT INTO messages (session_id, role, content) VALUES ('s-1', 'thinking', 'The user wants food.')",
        [],
    )?;
    println!("a 'thinking' message after migration 2: accepted");
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    println!("foreign keys still enforced: {foreign_keys}");

    // Every later start: one indexed read, nothing to do.
    let report = MIGRATIONS.run(&mut conn)?;
    println!("\nnext start: {report}");

    println!("\nhistory:");
    let mut history = conn.prepare(
        "SELECT version, name, substr(checksum, 1, 12), applied_at, execution_ms FROM schema_migrations ORDER BY version",
    )?;
    let mut rows = history.query([])?;
    while let Some(row) = rows.next()? {
        println!(
            "  {:>3}  {:<14} {}…  {}  {} ms",
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, i64>(4)?,
        );
    }
    Ok(())
}
