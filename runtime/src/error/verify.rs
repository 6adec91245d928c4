//! What `verify` found wrong: the failures, each with its cause.

use core::fmt;

use crate::report::{VerifyReport, leftovers, plural};

/// One problem that [`verify`](crate::Migrations::verify) found.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// An up file failed; the migrations after it were not checked.
    UpFailed {
        /// The version.
        version: u64,
        /// Why (names the file and line).
        cause: Box<super::Error>,
    },
    /// A down file failed.
    DownFailed {
        /// The version.
        version: u64,
        /// Why (names the file and line).
        cause: Box<super::Error>,
    },
    /// A down file ran but left the schema other than it was before up.
    NotReverted {
        /// The version.
        version: u64,
        /// The down file.
        file: String,
        /// Each difference, as a sentence naming the object and the file.
        differences: Vec<String>,
    },
    /// The up file dropped or renamed the history table, which `up`
    /// writes right after it.
    HistoryTableGone {
        /// The version.
        version: u64,
        /// The up file.
        file: String,
        /// The history table.
        table: String,
        /// Why strata could not use it (`None`: it is gone).
        cause: Option<Box<super::Error>>,
    },
    /// The up file failed when applied again after its down file.
    UpAgainFailed {
        /// The version.
        version: u64,
        /// Why (names the file and line).
        cause: Box<super::Error>,
    },
    /// After a problem with a file that runs outside a transaction, verify
    /// builds a new scratch database from the up files alone, to go on
    /// from there; this up file failed doing so (it applied the first
    /// time). The migrations after the problem were not checked.
    RebuildFailed {
        /// The version whose up file failed.
        version: u64,
        /// Why (names the file and line).
        cause: Box<super::Error>,
    },
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyFailure::UpFailed { cause, .. } => {
                write!(
                    f,
                    "up failed (so this migration and any after it were not checked): {cause}"
                )
            }
            VerifyFailure::DownFailed { cause, .. } => write!(f, "down failed: {cause}"),
            VerifyFailure::NotReverted {
                file, differences, ..
            } => {
                write!(f, "{file} does not restore the schema:")?;
                for difference in differences {
                    write!(f, "\n    {difference}")?;
                }
                Ok(())
            }
            VerifyFailure::HistoryTableGone {
                file, table, cause, ..
            } => match cause {
                None => write!(
                    f,
                    "{file} drops or renames the history table {table}, so `up` would fail after it (this migration and any after it were not checked; a migration must leave the history table alone)"
                ),
                Some(cause) => write!(
                    f,
                    "{file} changes the history table {table}, so `up` would fail after it: {cause} (this migration and any after it were not checked; a migration must leave the history table alone)"
                ),
            },
            VerifyFailure::UpAgainFailed { cause, .. } => {
                write!(f, "up failed when applied again after its down: {cause}")
            }
            VerifyFailure::RebuildFailed { cause, .. } => write!(
                f,
                "up failed on a new scratch database, built from the up files alone to go on after the problem above (the migrations after that problem were not checked): {cause}"
            ),
        }
    }
}

/// Everything [`verify`](crate::Migrations::verify) found wrong. Its
/// `Debug` is its `Display`, so that `verify().unwrap()` in a test prints
/// the report.
#[derive(Default)]
#[non_exhaustive]
pub struct VerifyFailures {
    /// Each problem, in the order of the migrations.
    pub failures: Vec<VerifyFailure>,
    /// What was checked all the same.
    pub report: VerifyReport,
}

impl fmt::Display for VerifyFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "verify found {}:",
            plural(self.failures.len(), "problem")
        )?;
        for failure in &self.failures {
            write!(f, "\n  {failure}")?;
        }
        let checked = self.report.checked.len();
        match self.report.unchecked.as_slice() {
            [] => write!(f, "\n  every migration was checked")?,
            [only] => write!(
                f,
                "\n  {} checked; 1 not checked (version {only}), because of the problem above",
                plural(checked, "migration")
            )?,
            [first, .., last] => write!(
                f,
                "\n  {} checked; {} not checked (versions {first} to {last}), because of the problem above",
                plural(checked, "migration"),
                self.report.unchecked.len()
            )?,
        }
        leftovers(f, &self.report)
    }
}

impl fmt::Debug for VerifyFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}\n")
    }
}
