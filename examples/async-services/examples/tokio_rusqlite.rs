//! A tokio application on tokio-rusqlite, which runs every call on the
//! connection's own thread: strata's synchronous SQLite API runs there too,
//! through `call`.
//!
//! ```sh
//! cargo run --manifest-path examples/async-services/Cargo.toml --example tokio_rusqlite [path]
//! ```

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("../chat/migrations");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("strata-tokio-rusqlite.db")
            .display()
            .to_string()
    });
    let conn = tokio_rusqlite::Connection::open(&path).await?;

    let report = conn.call(|conn| MIGRATIONS.run(conn)).await?;
    println!("{report}");

    let status = conn.call(|conn| MIGRATIONS.status(conn)).await?;
    println!("{status}");
    Ok(())
}
