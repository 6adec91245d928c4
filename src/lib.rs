#![doc = include_str!("../README.md")]
// The docs show whole `build.rs` files, whose `fn main` is the point, and
// the `#[test]` that users put in their own crates.
#![allow(clippy::needless_doctest_main, clippy::test_attr_in_doctest)]

pub use strata_runtime::{
    AppliedMigration, AppliedStep, Change, Checksum, DEFAULT_LOCK_TIMEOUT, DEFAULT_TABLE,
    DEFAULT_TABLE_LOCK_TIMEOUT, Database, DatabaseError, Direction, Error, ForeignKeyViolation,
    ForeignTable, HistoryChanges, MAX_LOCK_TIMEOUT, Migration, MigrationState, Migrations, Problem,
    Refusal, Report, Result, RowChange, Runner, SequenceAdvanced, Status, StatusEntry,
    StorageFault, VerifyFailure, VerifyFailures, VerifyReport,
};

#[cfg(feature = "postgres")]
pub use postgres;
#[cfg(feature = "sqlite")]
pub use rusqlite;

/// Embeds a folder of migrations into the binary, checking it at build time.
///
/// ```
/// static MIGRATIONS: strata::Migrations = strata::embed_migrations!("examples/chat/migrations");
///
/// # fn main() -> Result<(), strata::Error> {
/// let mut conn = strata::rusqlite::Connection::open_in_memory()?;
/// MIGRATIONS.run(&mut conn)?;
/// # Ok(()) }
/// ```
///
/// The argument is the folder, relative to the crate's `Cargo.toml`. It is
/// read while the crate compiles: every file must follow the folder rules
/// (see the crate documentation), and every problem in the folder is a
/// compile error that names the file and says how to fix it. Each migration
/// is checksummed at build time, so nothing is hashed when the program
/// starts, and the expansion is a constant that initialises a `static`.
///
/// Each file enters the build through `include_str!`, so editing one
/// rebuilds the crate. Cargo cannot see a file that is *added* to the
/// folder; add a `build.rs` beside `Cargo.toml` so that it does:
///
/// ```no_run
/// fn main() {
///     println!("cargo:rerun-if-changed=migrations");
/// }
/// ```
///
/// Files that do not end in `.sql` (`README.md`, an editor's
/// `000001_init.up.sql~` or `000001_init.up.sql.bak`), hidden files and
/// subfolders are skipped on purpose. Any other `.sql` file must be a
/// migration.
///
/// The expansion reaches strata however your `Cargo.toml` names it
/// (`db = { package = "strata", ... }`, then `db::embed_migrations!`).
#[macro_export]
macro_rules! embed_migrations {
    ($($folder:tt)*) => {
        $crate::__private::embed_migrations! { $crate; $($folder)* }
    };
}

/// What the code that `embed_migrations!` generates names. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use strata_macros::embed_migrations;
    pub use strata_runtime::__private::{migration, migrations};
}
