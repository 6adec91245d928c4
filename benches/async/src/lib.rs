//! What the async comparison shares with `benches/compare`: the generated
//! migrations, criterion's settings and the scratch database, the same
//! files, read through `#[path]` (this crate cannot depend on that one,
//! whose rusqlite the lock file entry of sqlx's SQLite driver excludes).

#[path = "../../compare/src/pg.rs"]
pub mod pg;
#[path = "../../compare/src/shared.rs"]
mod shared;

pub use shared::{config, smoke, sql};
