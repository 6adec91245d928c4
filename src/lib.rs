//! SQL schema migrations for Rust, checked when your crate builds and applied
//! atomically when it starts, on SQLite and PostgreSQL.
//!
//! strata reads a folder of [golang-migrate]-style files
//! (`000001_create_users.up.sql`, `000001_create_users.down.sql`) at compile
//! time, checks every name and every file, checksums each migration with
//! SHA-256 and embeds them in your binary: a bad folder fails `cargo build`
//! with a message that names the file and the fix. At run time it applies
//! what is pending, each migration with its history row in one transaction,
//! safely when several processes start at once, and refuses to touch a
//! database whose applied migrations no longer match the files.
//!
//! [golang-migrate]: https://github.com/golang-migrate/migrate
//!
//! # Quick start
//!
//! ```toml
//! [dependencies]
//! strata = "0.1"   # SQLite (bundled) by default; features = ["postgres"] for PostgreSQL
//! ```
//!
//! ```no_run
//! static MIGRATIONS: strata::Migrations = strata::embed_migrations!("migrations");
//!
//! /// On startup, before serving: any supported connection.
//! fn migrate(conn: &mut impl strata::Database) -> Result<(), strata::Error> {
//!     let report = MIGRATIONS.run(conn)?;
//!     println!("{report}");
//!     Ok(())
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # #[cfg(feature = "sqlite")]
//! migrate(&mut strata::rusqlite::Connection::open("app.db")?)?;
//! # #[cfg(feature = "postgres")]
//! migrate(&mut strata::postgres::Client::connect("host=localhost user=postgres", strata::postgres::NoTls)?)?;
//! # Ok(()) }
//! ```
//!
//! The folder is relative to your crate's `Cargo.toml`; add a `build.rs`
//! with `println!("cargo:rerun-if-changed=migrations");` so that a file
//! added to it rebuilds the crate (see [`embed_migrations!`]).
//!
//! # What you can do
//!
//! - Apply, revert and move: [`Migrations::run`], and through
//!   [`Migrations::runner`] a [`Runner`] with options (history table, one
//!   transaction for all, target version, dry run, lock timeouts) and the
//!   other operations: `down`, `goto`, `redo`, `status`, `validate`,
//!   `baseline`, `force`, `repair`, `adopt`, `applied`.
//! - Prove that every down file reverts its up file:
//!   [`Migrations::verify`] on any connection (a new in-memory SQLite
//!   database, or a PostgreSQL client, inside one
//!   transaction that is rolled back), or `verify_postgres_scratch` in a
//!   PostgreSQL database it creates and drops; a one-line test in your
//!   crate.
//! - Build a set in code ([`Migration::new`], [`Migrations::new`]) or
//!   read a folder at run time ([`Migrations::from_dir`]).
//! - Handle failures by kind: every [`Error`] names the version, file or
//!   table and says what to do; [`Error::failure`] is the failure inside a
//!   run that had committed steps before it ([`Error::report`]).
//!
//! The `strata` command (crate `strata-cli`) does all of it on a folder on
//! disk, with the same rules and messages.
//!
//! # Features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `sqlite` | yes | the SQLite backend: [`rusqlite::Connection`](https://docs.rs/rusqlite) (re-exported as `strata::rusqlite`) |
//! | `bundled` | yes | compile SQLite into the binary (rusqlite's `bundled`); without it, link the system's libsqlite3 (3.38 or newer) |
//! | `postgres` | no | the PostgreSQL backend: the synchronous [`postgres::Client`](https://docs.rs/postgres) (re-exported as `strata::postgres`) |
//! | `tokio-postgres` | no | the PostgreSQL backend for async services: [`tokio_postgres::Client`](https://docs.rs/tokio-postgres) (re-exported as `strata::tokio_postgres`), through the `_async` operations |
//! | `sqlx-sqlite` | no | the SQLite backend for async services: sqlx's [`SqliteConnection`](https://docs.rs/sqlx-sqlite) (re-exported as `strata::sqlx_sqlite`), through the `_async` operations; with `default-features = false`, strata links the SQLite that sqlx links |
//!
//! # Async services
//!
//! Every operation has an async form named with `_async`
//! (`MIGRATIONS.run_async(&mut client).await`,
//! `MIGRATIONS.runner().down_async(&mut client, 1).await`) for an
//! [`AsyncDatabase`]: a `tokio_postgres::Client` (feature `tokio-postgres`,
//! which deadpool-postgres and bb8 pools hand out) or an sqlx
//! `SqliteConnection` (feature `sqlx-sqlite`, `&mut *conn` for a pooled
//! one). The futures are `Send`. A service on tokio-rusqlite or
//! deadpool-sqlite calls the synchronous API inside their `call` or
//! `interact`. The README's "Async services" has a whole example of each.
//!
//! # More
//!
//! The README covers the folder rules, how a file is split into
//! statements, the history table, rolling deploys, verify, existing
//! databases, porting from golang-migrate, recovery, and every error with
//! what to do about it.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The docs show whole `build.rs` files, whose `fn main` is the point, and
// the `#[test]` that users put in their own crates.
#![allow(clippy::needless_doctest_main, clippy::test_attr_in_doctest)]

pub use strata_runtime::{
    AppliedMigration, AppliedStep, AsyncDatabase, Change, Checksum, DEFAULT_LOCK_TIMEOUT,
    DEFAULT_TABLE, DEFAULT_TABLE_LOCK_TIMEOUT, Database, DatabaseError, Direction, Error,
    ForeignKeyViolation, ForeignTable, HistoryChanges, MAX_LOCK_TIMEOUT, Migration, MigrationState,
    Migrations, Problem, Refusal, Report, Result, RowChange, Runner, SequenceAdvanced, Status,
    StatusEntry, StorageFault, VerifyFailure, VerifyFailures, VerifyReport,
};

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use rusqlite;
#[cfg(feature = "sqlx-sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx-sqlite")))]
pub use sqlx_sqlite;
#[cfg(feature = "tokio-postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-postgres")))]
pub use tokio_postgres;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Embeds a folder of migrations into the binary, checking it at build time.
///
/// ```
/// static MIGRATIONS: strata::Migrations = strata::embed_migrations!("examples/chat/migrations");
///
/// // Checked and checksummed when this crate built: a constant.
/// assert_eq!(MIGRATIONS.as_slice()[0].stem(), "000001_chat");
/// # #[cfg(feature = "sqlite")]
/// # {
/// let mut conn = strata::rusqlite::Connection::open_in_memory()?;
/// MIGRATIONS.run(&mut conn)?;
/// # }
/// # Ok::<(), strata::Error>(())
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
