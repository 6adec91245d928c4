//! What a failed run had done before its failure ([`Error::Partial`]),
//! the failure inside the wrappers, and how an error prints with `Debug`.

use core::fmt;

use super::Error;
use crate::Direction;

/// The message, as `Display` gives it; `{:#?}` adds every cause below it
/// (see [`Error`]).
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        if f.alternate() {
            let mut cause = std::error::Error::source(self);
            while let Some(e) = cause {
                write!(f, "\n\ncaused by: {e}")?;
                cause = e.source();
            }
        }
        Ok(())
    }
}

impl Error {
    /// The error that stopped the run: `self`, or the cause inside
    /// [`Error::Partial`] and [`Error::DryRunFailed`], which add what the
    /// run did before it. Match on this to handle a kind of failure
    /// whatever came before it.
    pub fn failure(&self) -> &Error {
        match self {
            Error::Partial { cause, .. } | Error::DryRunFailed { cause, .. } => cause.failure(),
            other => other,
        }
    }

    /// What a run that failed had committed before its failure: the
    /// migrations it applied or reverted, and the version the database is
    /// now at. `None` when it had changed nothing.
    pub fn report(&self) -> Option<&crate::Report> {
        match self {
            Error::Partial { report, .. } => Some(report),
            _ => None,
        }
    }

    /// `cause`, wrapped with what `report` says the run did before it,
    /// when it did something that stays (not in a dry run). A `Partial`
    /// cause gains the steps `report` did before the ones it lists.
    pub(crate) fn after(cause: Error, report: &crate::Report) -> Error {
        if report.dry_run || report.is_empty() {
            return cause;
        }
        match cause {
            Error::Partial {
                report: mut later,
                cause,
            } => {
                let mut reverted = report.reverted.clone();
                reverted.append(&mut later.reverted);
                later.reverted = reverted;
                let mut applied = report.applied.clone();
                applied.append(&mut later.applied);
                later.applied = applied;
                Error::Partial {
                    report: later,
                    cause,
                }
            }
            cause => {
                let mut report = report.clone();
                // A no-transaction up file that failed left its row, dirty,
                // after what `report` counted.
                if let Error::LeftDirty {
                    version,
                    direction: Direction::Up,
                    ..
                } = cause.failure()
                {
                    report.version = report.version.max(Some(*version));
                }
                Error::Partial {
                    report: Box::new(report),
                    cause: Box::new(cause),
                }
            }
        }
    }
}

impl Error {
    /// A database error at the commit of migration `version` (deferred
    /// constraints are checked there), as the error of that migration's
    /// file. Other errors stay as they are.
    pub(crate) fn at_commit(self, version: u64, file: String) -> Error {
        match self {
            Error::Database(cause) => Error::Statement {
                version,
                file,
                line: None,
                statement: Some("COMMIT".to_owned()),
                in_transaction: true,
                cause,
            },
            Error::Storage {
                path,
                fault,
                version: None,
                cause,
                ..
            } => Error::Storage {
                path,
                fault,
                version: Some(version),
                file: Some(file),
                cause,
            },
            other => other,
        }
    }
}

/// What a run did before it failed, for [`Error::Partial`]'s message.
pub(super) fn partly_done(report: &crate::Report, cause: &Error) -> String {
    let mut done = Vec::new();
    if !report.reverted.is_empty() {
        done.push(format!(
            "reverted {}",
            super::words::count(report.reverted.len(), "migration")
        ));
    }
    if !report.applied.is_empty() {
        done.push(format!(
            "applied {}",
            super::words::count(report.applied.len(), "migration")
        ));
    }
    let steps = report.reverted.len() + report.applied.len();
    format!(
        " (before this failure the run {}; {} committed, and the database {})",
        done.join(" and "),
        if steps == 1 { "it stays" } else { "they stay" },
        now_at(report.version, cause)
    )
}

/// Where a run that failed left the database, after "the database": `is
/// now at version 4`, `is now at version 4, marked dirty`, `now has no
/// migration applied`.
fn now_at(version: Option<u64>, cause: &Error) -> String {
    let dirty =
        matches!(cause.failure(), Error::LeftDirty { version: v, .. } if Some(*v) == version);
    match version {
        Some(v) if dirty => format!("is now at version {v}, marked dirty"),
        Some(v) => format!("is now at version {v}"),
        None => "now has no migration applied".to_owned(),
    }
}
