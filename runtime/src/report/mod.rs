//! What the operations return: reports that print as people read them.

use core::fmt;
use std::time::Duration;

use crate::options::Millis;

mod changes;
mod status;
mod verify;

pub use changes::{Change, HistoryChanges, RowChange};
pub use status::{MigrationState, Status, StatusEntry};
pub use verify::VerifyReport;
pub(crate) use verify::leftovers;

/// One migration that a run applied or reverted.
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

/// What a move between versions did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The migrations reverted, in the order they were reverted.
    pub reverted: Vec<AppliedStep>,
    /// The migrations applied, in order.
    pub applied: Vec<AppliedStep>,
    /// The newest applied version afterwards, if any.
    pub version: Option<u64>,
    /// With [`allow_newer`](crate::Runner::allow_newer), the applied
    /// versions above this build's newest migration, which a newer build
    /// applied and this one left as they are.
    pub newer: Vec<u64>,
    /// Whether this was a dry run, rolled back: nothing was changed.
    pub dry_run: bool,
    /// In a dry run, the versions not tried because they (or one before
    /// them) run outside a transaction, which cannot be rolled back.
    pub untried: Vec<u64>,
    /// In a dry run on PostgreSQL, the sequences whose value moved while it
    /// ran: a rollback does not undo `nextval`, so the dry run (or another
    /// session meanwhile) used up these values for good.
    pub sequences_advanced: Vec<SequenceAdvanced>,
}

/// Sequences as `name before -> after`, joined, for messages.
pub(crate) fn moved(sequences: &[SequenceAdvanced]) -> String {
    let moved: Vec<String> = sequences
        .iter()
        .map(|s| match s.before {
            Some(before) => format!("{} {before} -> {}", s.name, s.after),
            None => format!("{} unused -> {}", s.name, s.after),
        })
        .collect();
    moved.join(", ")
}

/// A sequence whose value moved during a dry run (see
/// [`Report::sequences_advanced`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SequenceAdvanced {
    /// The sequence, as `schema.name`.
    pub name: String,
    /// Its last value before the dry run (`None`: never used).
    pub before: Option<i64>,
    /// Its last value after it.
    pub after: i64,
}

impl Report {
    /// Whether nothing was applied or reverted.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.reverted.is_empty()
    }
}

pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.version {
            Some(version) => format!("version {version}"),
            None => "no version".to_owned(),
        };
        if self.dry_run {
            write!(f, "dry run, rolled back, nothing changed: ")?;
        }
        let newer = newer_note(&self.newer);
        if self.is_empty() && self.untried.is_empty() {
            return write!(f, "nothing to do: the database is at {at}{newer}");
        }
        let mut done = Vec::new();
        if !self.reverted.is_empty() {
            done.push(format!(
                "{} {}",
                if self.dry_run {
                    "would revert"
                } else {
                    "reverted"
                },
                plural(self.reverted.len(), "migration")
            ));
        }
        if !self.applied.is_empty() {
            done.push(format!(
                "{} {}",
                if self.dry_run {
                    "would apply"
                } else {
                    "applied"
                },
                plural(self.applied.len(), "migration")
            ));
        }
        if done.is_empty() {
            done.push("nothing tried".to_owned());
        }
        let now = if self.dry_run { "would be" } else { "is now" };
        write!(
            f,
            "{}, the database {now} at {at}{newer}",
            done.join(" and ")
        )?;
        let width = self
            .reverted
            .iter()
            .chain(&self.applied)
            .map(|s| s.stem.chars().count())
            .max()
            .unwrap_or(0);
        for (what, steps) in [("down", &self.reverted), ("up", &self.applied)] {
            for step in steps {
                write!(
                    f,
                    "\n  {what:<4} {:<width$}  {}",
                    step.stem,
                    Millis(step.duration)
                )?;
            }
        }
        if !self.untried.is_empty() {
            let versions: Vec<String> = self.untried.iter().map(u64::to_string).collect();
            write!(
                f,
                "\nnot tried, as a dry run cannot roll back what runs outside a transaction: {}",
                versions.join(", ")
            )?;
        }
        if !self.sequences_advanced.is_empty() {
            write!(
                f,
                "\nsequences moved while the dry run ran, which its rollback does not undo (values used up, not reused): {}",
                moved(&self.sequences_advanced)
            )?;
        }
        Ok(())
    }
}

/// What [`Report::newer`] says, after the version.
fn newer_note(newer: &[u64]) -> String {
    if newer.is_empty() {
        return String::new();
    }
    let versions: Vec<String> = newer.iter().map(u64::to_string).collect();
    format!(
        " ({} {} applied by a newer build, without files here: left as {})",
        if newer.len() == 1 {
            "version"
        } else {
            "versions"
        },
        versions.join(", "),
        if newer.len() == 1 {
            "it is"
        } else {
            "they are"
        }
    )
}
