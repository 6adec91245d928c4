//! What the operations that change only the history return: baseline,
//! force, repair, adopt.

use core::fmt;

use super::plural;
use crate::Checksum;
use crate::source::sql::shown;

/// What happened to one history row in a [`HistoryChanges`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Recorded as applied without running it.
    Recorded,
    /// Its row was removed.
    Removed,
    /// Its dirty flag was cleared.
    Cleaned,
    /// Its checksum was replaced by the file's.
    ChecksumUpdated {
        /// The recorded checksum.
        from: Checksum,
        /// The file's checksum, now recorded.
        to: Checksum,
    },
    /// Its name was replaced by the file's.
    Renamed {
        /// The recorded name.
        from: String,
    },
    /// Carried over from another tool's history table.
    Adopted,
}

/// One changed row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RowChange {
    /// The row's version.
    pub version: u64,
    /// The migration's name.
    pub name: String,
    /// What happened.
    pub change: Change,
}

/// The rows that `baseline`, `force`, `repair` or `adopt` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryChanges {
    /// One entry per change, in ascending order of version.
    pub changes: Vec<RowChange>,
    /// Whether this was a dry run, rolled back: nothing was changed.
    pub dry_run: bool,
}

impl HistoryChanges {
    pub(crate) fn push(&mut self, version: u64, name: &str, change: Change) {
        self.changes.push(RowChange {
            version,
            name: name.to_owned(),
            change,
        });
    }

    pub(crate) fn sort(&mut self) {
        self.changes.sort_by_key(|c| c.version);
    }

    /// Whether no row changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for HistoryChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            write!(f, "dry run, rolled back, nothing changed: ")?;
        }
        let changed = if self.dry_run {
            "would change"
        } else {
            "changed"
        };
        if self.changes.is_empty() {
            return write!(f, "no history rows {changed}");
        }
        write!(
            f,
            "{} {changed}:",
            plural(self.changes.len(), "history row")
        )?;
        for c in &self.changes {
            write!(f, "\n  {} {}: ", c.version, shown(&c.name))?;
            match &c.change {
                Change::Recorded => write!(f, "recorded as applied (not run)")?,
                Change::Removed => write!(f, "row removed")?,
                Change::Cleaned => write!(f, "dirty flag cleared")?,
                Change::ChecksumUpdated { from, to } => write!(f, "checksum {from} -> {to}")?,
                Change::Renamed { from } => {
                    write!(f, "name {} -> {}", shown(from), shown(&c.name))?
                }
                Change::Adopted => write!(f, "adopted")?,
            }
        }
        Ok(())
    }
}
