//! A tokio service on an sqlx SQLite pool: on startup, before it serves,
//! it migrates with a connection of the pool through the async API
//! (`run_async` on `&mut *conn`); its handlers then use the same pool (with
//! axum, the pool goes into the router's state after `migrate`).
//!
//! Tasks (or processes) that start together on one database file each
//! migrate: one takes SQLite's write lock and applies, the others wait for
//! it and find nothing to do. The crate's `Cargo.toml` names strata with
//! `default-features = false, features = ["sqlx-sqlite"]`, so the binary
//! links the one SQLite that sqlx links.
//!
//! ```sh
//! cargo run --features sqlx-sqlite --example sqlx_sqlite [path/to/app.db]
//! ```

use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("examples/chat/migrations");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Migrates the database the pool opens: what the service runs first.
async fn migrate(pool: &SqlitePool) -> Result<(), BoxError> {
    let mut conn = pool.acquire().await?;
    // A pooled connection derefs to a `SqliteConnection`.
    let report = MIGRATIONS.run_async(&mut *conn).await?;
    println!("{report}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let path = match std::env::args_os().nth(1) {
        Some(path) => path.into(),
        None => dir.path().join("app.db"),
    };
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await?;

    // Three tasks starting together, as replicas of a service would.
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
    sqlx::query(
        "INSERT INTO sessions (session_id, title, model) VALUES ('s-1', 'Trip to Lisbon', 'small-1')
             ON CONFLICT (session_id) DO NOTHING",
    )
    .execute(&pool)
    .await?;
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&pool)
        .await?;
    println!("{sessions} session(s)");

    let mut conn = pool.acquire().await?;
    println!("\n{}", MIGRATIONS.status_async(&mut *conn).await?);
    Ok(())
}
