//! The runtime of [strata](https://docs.rs/strata): folder rules, checksums,
//! planning, and the database backends.
//!
//! Applications depend on the `strata` crate, which re-exports what they
//! name here together with the `embed_migrations!` macro. The folder rules,
//! the SQL lexer and the checksums are the crate `strata-source`, which the
//! macro depends on alone, so building it compiles no database driver.

mod backend;
mod error;
mod migration;
mod ops;
#[cfg(feature = "postgres")]
mod pg;
mod plan;
mod report;
mod runner;
#[cfg(feature = "sqlite")]
mod sqlite;
mod verify;

pub use error::{DatabaseError, Error, ForeignKeyViolation, ForeignTable, Result, StorageFault};
pub use migration::{Migration, Migrations};
pub use plan::AppliedMigration;
pub use report::{
    AppliedStep, Change, HistoryChanges, MigrationState, Report, RowChange, SequenceAdvanced,
    Status, StatusEntry, VerifyFailure, VerifyFailures, VerifyReport,
};
pub use runner::{
    DEFAULT_LOCK_TIMEOUT, DEFAULT_TABLE, DEFAULT_TABLE_LOCK_TIMEOUT, Database, MAX_LOCK_TIMEOUT,
    Runner,
};
pub use strata_source::sql::Refusal;
pub use strata_source::{Checksum, Direction, Problem};

/// The build-time crate, under the name the runtime's modules use.
use strata_source as source;

#[cfg(feature = "postgres")]
pub use postgres;
#[cfg(feature = "sqlite")]
pub use rusqlite;
