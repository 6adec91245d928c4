//! A tokio service on a deadpool-sqlite pool: strata's SQLite backend is
//! synchronous (rusqlite), so it runs where the pool runs every rusqlite
//! call, on a blocking thread, through `interact`. strata and the pool
//! share one rusqlite and one SQLite library.
//!
//! ```sh
//! cargo run --manifest-path examples/async-services/Cargo.toml --example deadpool_sqlite [path]
//! ```

use deadpool_sqlite::{Config, Runtime};

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("../chat/migrations");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("strata-deadpool.db")
            .display()
            .to_string()
    });
    let pool = Config::new(&path).create_pool(Runtime::Tokio1)?;

    let conn = pool.get().await?;
    let report = conn
        .interact(|conn| MIGRATIONS.run(conn))
        .await
        .map_err(|e| e.to_string())??;
    println!("{report}");

    let sessions: i64 = conn
        .interact(|conn| conn.query_row("SELECT count(*) FROM sessions", [], |row| row.get(0)))
        .await
        .map_err(|e| e.to_string())??;
    println!("{sessions} session(s) in {path}");
    Ok(())
}
