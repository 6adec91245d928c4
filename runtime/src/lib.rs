//! The runtime of [strata](https://docs.rs/strata): planning, the
//! operations, and the database backends.
//!
//! Applications depend on the `strata` crate, which re-exports what they
//! name here together with the `embed_migrations!` macro. The folder rules,
//! the SQL lexer and the checksums are the crate `strata-source`, which the
//! macro depends on alone, so building it compiles no database driver.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Built without a backend (`default-features = false` and no driver
// feature), no connection type implements `Database`, so the operations
// and the planning they call are never reached: one allowance here, not
// one per module.
#![cfg_attr(not(any(feature = "sqlite", pg)), allow(dead_code, unused_macros))]

mod backend;
mod call;
mod dialect;
mod error;
mod history;
mod migration;
mod ops;
mod options;
#[cfg(pg)]
mod pg;
mod plan;
mod report;
mod runner;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
mod verify;

pub use error::{
    DatabaseError, Error, ForeignKeyViolation, Result, StorageFault, VerifyFailure, VerifyFailures,
};
pub use history::{AppliedMigration, ForeignTable};
pub use migration::{Migration, Migrations};
pub use options::{
    DEFAULT_LOCK_TIMEOUT, DEFAULT_TABLE, DEFAULT_TABLE_LOCK_TIMEOUT, MAX_LOCK_TIMEOUT,
};
pub use report::{
    AppliedStep, Change, HistoryChanges, MigrationState, Report, RowChange, SequenceAdvanced,
    Status, StatusEntry, VerifyReport,
};
pub use runner::{AsyncDatabase, Database, Runner};
pub use strata_source::sql::Refusal;
pub use strata_source::{Checksum, Direction, Problem};

/// The build-time crate, under the name the runtime's modules use.
use strata_source as source;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use rusqlite;
#[cfg(feature = "tokio-postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
pub use tokio_postgres;

/// What the code that `embed_migrations!` generates calls. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::migration::{embedded as migration, embedded_set as migrations};
}
