//! The chat schema of the SQLite example, in PostgreSQL: migrated on startup
//! against `$DATABASE_URL`, as every replica of a service would.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --example postgres --features postgres
//! ```

use strata::postgres::{Client, NoTls};

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("examples/postgres/migrations");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL to a PostgreSQL database, such as postgres://postgres@127.0.0.1:5432/test")?;
    let mut client = Client::connect(&url, NoTls)?;

    // What every replica runs on startup: one waits for the other, and
    // only one applies anything.
    let report = MIGRATIONS.run(&mut client)?;
    println!("{report}");

    client.batch_execute(
        "INSERT INTO sessions (session_id, title, model) VALUES ('s-1', 'Trip to Lisbon', 'small-1')
             ON CONFLICT (session_id) DO NOTHING",
    )?;
    client.batch_execute(
        "INSERT INTO messages (session_id, role, content) VALUES
             ('s-1', 'user', 'Where should I eat?'),
             ('s-1', 'thinking', 'The user wants food near the river.'),
             ('s-1', 'assistant', 'Try the Time Out Market.')",
    )?;
    let row = client.query_one(
        "SELECT (SELECT count(*) FROM messages), updated_at > created_at FROM sessions WHERE session_id = 's-1'",
        &[],
    )?;
    let (messages, touched): (i64, bool) = (row.get(0), row.get(1));
    println!("{messages} messages; the trigger of migration 3 touched the session: {touched}");
    let found: i64 = client
        .query_one(
            "SELECT count(*) FROM messages WHERE to_tsvector('english', content) @@ to_tsquery('english', 'market')",
            &[],
        )?
        .get(0);
    println!("messages about a market (through the index of migration 4): {found}");

    println!("\n{}", MIGRATIONS.status(&mut client)?);
    Ok(())
}
