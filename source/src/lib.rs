//! The build-time half of [strata](https://docs.rs/strata): the rules of a
//! migrations folder (file names, pairing, directives, the SQL lexer of each
//! dialect) and the SHA-256 checksums. No database code lives here: the
//! `embed_migrations!` macro runs exactly this at build time, depending on
//! this crate alone, and the runtime runs it for a folder read at run time,
//! so a folder that builds is a folder the CLI accepts.
//!
//! Applications depend on `strata`, which re-exports what they name
//! ([`Checksum`], [`Direction`], [`Problem`], [`sql::Refusal`]). The rest is
//! public for strata's own crates and is not a stable API.

mod checksum;
mod content;
pub mod flags;
mod folder;
mod name;
mod problem;
mod read;
pub mod sql;

pub use name::{Direction, FileName, MAX_VERSION, parse as parse_file_name};
pub use problem::Problem;
pub use problem::refusal_hint;
pub use read::DEFAULT_MAX_FILE_SIZE;

pub use checksum::Checksum;
pub use content::{Directives, REFUSED_SHOWN, check_sql};
pub use folder::{Folder, FolderMigration, SqlFile, scan, shown_folder};
