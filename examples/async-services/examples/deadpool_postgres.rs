//! A tokio service on a deadpool-postgres pool: on startup, before it
//! serves, every replica migrates with a client of the pool, through the
//! async API (`run_async`); the replicas that start together wait for the
//! one that migrates, then find nothing to do. The service's handlers then
//! take clients from the same pool (with axum, the pool goes into the
//! router's state after `migrate`).
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --manifest-path examples/async-services/Cargo.toml --example deadpool_postgres
//! ```

use deadpool_postgres::{Manager, Pool};
use strata::tokio_postgres::NoTls;

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("../postgres/migrations");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Migrates the database the pool opens: what every replica runs first.
async fn migrate(pool: &Pool) -> Result<(), BoxError> {
    let mut client = pool.get().await?;
    // A pooled client derefs to a `tokio_postgres::Client`.
    let report = MIGRATIONS.run_async(&mut **client).await?;
    println!("{report}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL to a PostgreSQL database, such as postgres://postgres@127.0.0.1:5432/test")?;
    let manager = Manager::new(url.parse()?, NoTls);
    let pool = Pool::builder(manager).max_size(4).build()?;

    // Replicas starting together: here, three tasks of one process.
    let replicas: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { migrate(&pool).await })
        })
        .collect();
    for replica in replicas {
        replica.await??;
    }

    // A handler's work, on the migrated schema.
    let client = pool.get().await?;
    client
        .batch_execute(
            "INSERT INTO sessions (session_id, title, model) VALUES ('s-1', 'Trip to Lisbon', 'small-1')
                 ON CONFLICT (session_id) DO NOTHING",
        )
        .await?;
    let sessions: i64 = client
        .query_one("SELECT count(*) FROM sessions", &[])
        .await?
        .get(0);
    println!("{sessions} session(s)");
    let mut client = client;
    println!("\n{}", MIGRATIONS.status_async(&mut **client).await?);
    Ok(())
}
