//! What `status` returns: every version with its state.

use core::fmt;
use std::time::Duration;

use crate::Checksum;
use crate::source::sql::shown;

/// The state of one version in [`Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationState {
    /// Applied, and the file still has the checksum it had.
    Applied,
    /// In the files, not applied.
    Pending,
    /// Applied, but the up file changed since.
    Modified {
        /// The checksum recorded when it was applied.
        applied: Checksum,
        /// The file's checksum now.
        current: Checksum,
    },
    /// Applied, but the files do not have it.
    Missing,
    /// A no-transaction migration that began and did not finish.
    Dirty,
    /// A no-transaction migration that another process is running now
    /// (it holds strata's lock): not dirty, only not finished yet.
    InProgress,
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Modified { .. } => "modified",
            MigrationState::Missing => "missing",
            MigrationState::Dirty => "dirty",
            MigrationState::InProgress => "in progress",
        })
    }
}

/// One version in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusEntry {
    /// The version.
    pub version: u64,
    /// Its name: the file's, or the recorded one for a missing migration.
    pub name: String,
    /// Its state.
    pub state: MigrationState,
    /// When it was applied, if it was.
    pub applied_at: Option<String>,
    /// How long its SQL ran, if it was applied.
    pub duration: Option<Duration>,
}

/// Every version that the files or the database know, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// One entry per version, ascending.
    pub entries: Vec<StatusEntry>,
}

impl Status {
    /// The newest applied version (modified and dirty ones count).
    pub fn version(&self) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.state != MigrationState::Pending)
            .map(|e| e.version)
    }

    /// Whether anything is pending, modified, missing or dirty.
    pub fn needs_attention(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.state != MigrationState::Applied)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return write!(f, "no migrations, none applied");
        }
        let width = |get: &dyn Fn(&StatusEntry) -> usize, title: &str| {
            self.entries
                .iter()
                .map(get)
                .max()
                .unwrap_or(0)
                .max(title.len())
        };
        let version_width = width(&|e| e.version.to_string().len(), "version");
        // A name recorded in the history may hold anything: shown escaped.
        let name_width = width(&|e| shown(&e.name).chars().count(), "name");
        let state_width = width(&|e| e.state.to_string().len(), "state");
        let at_width = width(
            &|e| e.applied_at.as_deref().map_or(1, str::len),
            "applied at",
        );
        write!(
            f,
            "{:>version_width$}  {:<name_width$}  {:<state_width$}  {:<at_width$}  duration",
            "version", "name", "state", "applied at"
        )?;
        for e in &self.entries {
            // Recorded in whole milliseconds.
            let duration = e
                .duration
                .map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()));
            write!(
                f,
                "\n{:>version_width$}  {:<name_width$}  {:<state_width$}  {:<at_width$}  {duration}",
                e.version,
                shown(&e.name),
                e.state,
                e.applied_at.as_deref().unwrap_or("-"),
            )?;
        }
        for e in &self.entries {
            if let MigrationState::Modified { applied, current } = e.state {
                write!(
                    f,
                    "\nversion {} was modified: applied with checksum {applied}, the file now has {current}",
                    e.version
                )?;
            }
        }
        Ok(())
    }
}
