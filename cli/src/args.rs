//! The command line: what `strata --help` shows, parsed by clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "SQL schema migrations for SQLite and PostgreSQL, from a folder of VERSION_NAME.up.sql / VERSION_NAME.down.sql files";

const AFTER_HELP: &str = "\
Examples:
  strata create add_users                       write migrations/000001_add_users.{up,down}.sql
  strata --database sqlite:app.db up            apply everything pending
  strata --database sqlite:app.db status        see every version and its state
  strata --database sqlite:app.db down          revert the newest migration
  DATABASE_URL=app.db strata up --dry-run       show what up would do, change nothing

Exit status: 0 success, 1 failure (the error says what to do), 2 wrong usage.";

#[derive(Parser)]
#[command(name = "strata", version, about = ABOUT, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// The migrations folder
    #[arg(
        long,
        short = 'd',
        global = true,
        default_value = "migrations",
        value_name = "DIR"
    )]
    pub(crate) dir: PathBuf,

    /// The database: postgres://user@host/database, sqlite:path/to/app.db,
    /// sqlite://path, or a path ending in .db, .sqlite or .sqlite3
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) database: Option<String>,

    /// The history table
    #[arg(long, global = true, default_value = strata::DEFAULT_TABLE, value_name = "NAME")]
    pub(crate) table: String,

    /// Seconds to wait for another process's write lock
    #[arg(long, global = true, default_value_t = 60, value_name = "SECONDS")]
    pub(crate) lock_timeout: u64,

    /// PostgreSQL: seconds each statement of a migration may wait for a
    /// table's lock before the migration fails and rolls back (0: as long
    /// as it takes)
    #[arg(long, global = true, default_value_t = 10, value_name = "SECONDS")]
    pub(crate) table_lock_timeout: u64,

    /// Accept a migrations folder that holds no migrations (by default an
    /// error: --dir likely names the wrong folder)
    #[arg(long, global = true)]
    pub(crate) allow_empty: bool,

    /// Print only errors
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Also print each step as it happens
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Clone, Copy)]
pub(crate) struct Change {
    /// Show what would happen: do it in one transaction and roll it back; change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Create the next pair of migration files
    Create {
        /// What the migration does, such as add_users
        name: String,
        /// Use the time (UTC, YYYYMMDDHHMMSS) as the version instead of the next number
        #[arg(long)]
        timestamp: bool,
    },
    /// Apply pending migrations: all of them, or the next N
    Up {
        /// How many to apply
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        n: Option<u64>,
        /// Apply them all in one transaction: all or none
        #[arg(long)]
        single_transaction: bool,
        /// Apply pending migrations below the newest applied version
        #[arg(long)]
        allow_out_of_order: bool,
        /// Accept versions above this folder's newest that a newer build
        /// applied (rolling deploys), and leave them as they are
        #[arg(long)]
        allow_newer: bool,
        #[command(flatten)]
        change: Change,
    },
    /// Revert applied migrations, the one applied last first: one, N, all, or one named version
    Down {
        /// How many to revert (default 1)
        #[arg(conflicts_with_all = ["all", "only"], value_parser = clap::value_parser!(u64).range(1..))]
        n: Option<u64>,
        /// Revert every applied migration
        #[arg(long, conflicts_with = "only")]
        all: bool,
        /// Revert version V alone, whatever was applied after it
        #[arg(long, value_name = "V")]
        only: Option<u64>,
        #[command(flatten)]
        change: Change,
    },
    /// Move up or down to version V
    Goto {
        /// The version to be at
        version: u64,
        /// Apply pending migrations below the newest applied version
        #[arg(long)]
        allow_out_of_order: bool,
        #[command(flatten)]
        change: Change,
    },
    /// Revert the migration applied last and apply it again
    Redo {
        /// Redo even while a migration is pending below applied ones (it is applied too)
        #[arg(long)]
        allow_out_of_order: bool,
        #[command(flatten)]
        change: Change,
    },
    /// Show every version and its state: applied, pending, modified, missing, dirty, in progress
    Status {
        /// Print JSON for scripts
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when anything is pending, modified, missing, dirty or in progress
        #[arg(long)]
        check: bool,
    },
    /// Print the current version, or "none"
    Version,
    /// Check the folder as the build does and, with --database, the history as `up` would, changing nothing
    Validate {
        /// Accept versions above this folder's newest that a newer build applied, as `up --allow-newer` does
        #[arg(long)]
        allow_newer: bool,
    },
    /// Check on a scratch database that every down file reverts its up file
    /// (on PostgreSQL, one created on the server of --database, or without
    /// CREATEDB a transaction in that database, rolled back)
    Verify,
    /// Record versions up to V as applied without running them, for a database that already has their schema
    Baseline {
        /// The newest version the database already has
        version: u64,
        #[command(flatten)]
        change: Change,
    },
    /// Record that the database is at version V (or "none") and clear the dirty flag, after repairing it by hand
    Force {
        /// The version the database is at, or "none"
        #[arg(value_parser = parse_force_version)]
        version: ForceVersion,
        #[command(flatten)]
        change: Change,
    },
    /// Record the current checksums of applied migrations that were edited on purpose
    Repair {
        #[command(flatten)]
        change: Change,
    },
    /// Convert a golang-migrate or home-made history table into strata's
    Adopt {
        /// Record versions up to V (or "none") as applied, whatever the table says: for a dirty golang-migrate table, once the database is repaired
        #[arg(long, value_name = "V", value_parser = parse_force_version)]
        force_version: Option<ForceVersion>,
        #[command(flatten)]
        change: Change,
    },
}

impl Command {
    /// Whether the command was asked for a dry run.
    pub(crate) fn dry_run(&self) -> bool {
        match self {
            Command::Up { change, .. }
            | Command::Down { change, .. }
            | Command::Goto { change, .. }
            | Command::Redo { change, .. }
            | Command::Baseline { change, .. }
            | Command::Force { change, .. }
            | Command::Repair { change }
            | Command::Adopt { change, .. } => change.dry_run,
            Command::Create { .. }
            | Command::Status { .. }
            | Command::Version
            | Command::Validate { .. }
            | Command::Verify => false,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct ForceVersion(pub(crate) Option<u64>);

fn parse_force_version(text: &str) -> Result<ForceVersion, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(ForceVersion(None));
    }
    text.parse()
        .map(|v| ForceVersion(Some(v)))
        .map_err(|_| format!("{text:?} is not a version: give a number, or none"))
}
