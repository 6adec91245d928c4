//! The runner's options and what a run reports.
#![cfg_attr(not(feature = "sqlite"), allow(dead_code))]

use core::fmt;
use std::borrow::Cow;
use std::time::Duration;

use crate::Migrations;

/// The history table's name unless [`Runner::table`] says otherwise.
pub const DEFAULT_TABLE: &str = "schema_migrations";

/// How long a run waits for another connection's write lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Options for applying migrations; made by [`Migrations::runner`].
///
/// ```
/// # fn main() -> Result<(), strata_runtime::Error> {
/// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::Migrations::__embedded("migrations", &[]);
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// let report = MIGRATIONS
///     .runner()
///     .table("app_migrations")
///     .single_transaction(true)
///     .lock_timeout(std::time::Duration::from_secs(10))
///     .run(&mut conn)?;
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a runner does nothing until `run` is called"]
pub struct Runner<'m> {
    pub(crate) migrations: &'m Migrations,
    pub(crate) table: Cow<'static, str>,
    pub(crate) single_transaction: bool,
    pub(crate) lock_timeout: Duration,
    pub(crate) target: Option<u64>,
}

impl Migrations {
    /// A runner with the default options: history table
    /// [`schema_migrations`](DEFAULT_TABLE), one transaction per migration,
    /// and a [lock wait](DEFAULT_LOCK_TIMEOUT) of 60 seconds.
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            migrations: self,
            table: Cow::Borrowed(DEFAULT_TABLE),
            single_transaction: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            target: None,
        }
    }
}

impl Runner<'_> {
    /// The name of the history table.
    pub fn table(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.table = name.into();
        self
    }

    /// Apply every pending migration in one transaction: all of them or
    /// none. By default each migration commits on its own, so a failure
    /// keeps the migrations before it.
    pub fn single_transaction(mut self, yes: bool) -> Self {
        self.single_transaction = yes;
        self
    }

    /// Apply pending migrations up to and including this version only.
    /// It must be one of the migrations' versions. A run never reverts: a
    /// database already past the target is left as it is.
    pub fn target(mut self, version: u64) -> Self {
        self.target = Some(version);
        self
    }

    /// How long to wait for another connection's write lock (another process
    /// migrating the same database, say) before giving up with
    /// [`Error::Locked`](crate::Error::Locked). A longer busy timeout already
    /// set on the connection is kept.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }
}

/// One migration that a run applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedStep {
    /// Its version.
    pub version: u64,
    /// `VERSION_NAME`, as in its file names.
    pub stem: String,
    /// How long its SQL took.
    pub duration: Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The migrations applied, in order.
    pub applied: Vec<AppliedStep>,
    /// The newest applied version after the run, if any.
    pub version: Option<u64>,
}

impl Report {
    /// Whether the run found nothing to do.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.version {
            Some(version) => format!("version {version}"),
            None => "no version".to_owned(),
        };
        if self.applied.is_empty() {
            return write!(f, "nothing to apply: the database is at {at}");
        }
        let n = self.applied.len();
        write!(
            f,
            "applied {n} migration{}, the database is now at {at}",
            if n == 1 { "" } else { "s" }
        )?;
        for step in &self.applied {
            write!(f, "\n  {}  {}", step.stem, Millis(step.duration))?;
        }
        Ok(())
    }
}

/// A duration as people read it in a migration log.
pub(crate) struct Millis(pub Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_secs_f64() * 1000.0;
        if ms < 10.0 {
            write!(f, "{ms:.1} ms")
        } else if ms < 10_000.0 {
            write!(f, "{ms:.0} ms")
        } else {
            write!(f, "{:.1} s", ms / 1000.0)
        }
    }
}
