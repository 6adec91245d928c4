//! The runtime of [strata](https://docs.rs/strata): folder rules, checksums,
//! planning, and the database backends.
//!
//! Applications depend on the `strata` crate, which re-exports everything
//! here together with the `embed_migrations!` macro; this crate is its own
//! package so that the macro can use the folder rules (the [`source`]
//! module) without compiling a database driver.

mod backend;
mod checksum;
mod error;
mod migration;
mod ops;
#[cfg(feature = "postgres")]
mod pg;
mod plan;
mod report;
mod runner;
pub mod source;
#[cfg(feature = "sqlite")]
mod sqlite;
mod verify;

pub use checksum::Checksum;
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
pub use source::Direction;
pub use source::sql::Refusal;

#[cfg(feature = "postgres")]
pub use postgres;
#[cfg(feature = "sqlite")]
pub use rusqlite;
