//! What the operations return: reports that print as people read them.

use crate::source::sql::shown;
use core::fmt;
use std::time::Duration;

use crate::Checksum;
use crate::runner::Millis;

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

fn plural(n: usize, what: &str) -> String {
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

/// What [`verify`](crate::Migrations::verify) checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The versions whose down file was checked.
    pub checked: Vec<u64>,
    /// The versions whose down file is irreversible: applied, not reverted.
    pub irreversible: Vec<u64>,
    /// The versions verify could not check, after a problem it could not
    /// go on from (an up file that failed, or a history table dropped):
    /// that migration, whose round trip did not run, and every later one,
    /// which builds on it. Empty when every migration was checked.
    pub unchecked: Vec<u64>,
    /// On PostgreSQL, the scratch databases that interrupted verifies had
    /// left, which this one dropped.
    pub dropped: Vec<String>,
    /// Scratch databases that look left behind but that a session still
    /// uses (a verify started from another database, or the session of a
    /// killed one still finishing a statement): not dropped.
    pub in_use: Vec<String>,
    /// Scratch databases left behind that this role could not drop, each
    /// with the server's reason.
    pub not_dropped: Vec<String>,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "verified {}: each down file restores the schema before its up file, which applies again after it",
            plural(self.checked.len(), "migration")
        )?;
        if !self.irreversible.is_empty() {
            let versions: Vec<String> = self.irreversible.iter().map(u64::to_string).collect();
            write!(f, " (irreversible, not reverted: {})", versions.join(", "))?;
        }
        leftovers(f, self)
    }
}

/// The lines about scratch databases that interrupted verifies left.
fn leftovers(f: &mut fmt::Formatter<'_>, report: &VerifyReport) -> fmt::Result {
    for name in &report.dropped {
        write!(
            f,
            "\ndropped the scratch database {name}, left by a verify that was interrupted"
        )?;
    }
    for entry in &report.not_dropped {
        write!(
            f,
            "\ncould not drop the scratch database {entry}, left by a verify that was interrupted: drop it as its owner"
        )?;
    }
    for name in &report.in_use {
        write!(
            f,
            "\nthe scratch database {name} looks left behind but a session still uses it (a verify started from another database, or a killed one still finishing a statement); a later verify drops it once it is free"
        )?;
    }
    Ok(())
}

/// One problem that [`verify`](crate::Migrations::verify) found.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// An up file failed; the migrations after it were not checked.
    UpFailed {
        /// The version.
        version: u64,
        /// Why (names the file and line).
        cause: Box<crate::Error>,
    },
    /// A down file failed.
    DownFailed {
        /// The version.
        version: u64,
        /// Why (names the file and line).
        cause: Box<crate::Error>,
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
        cause: Option<Box<crate::Error>>,
    },
    /// The up file failed when applied again after its down file.
    UpAgainFailed {
        /// The version.
        version: u64,
        /// Why (names the file and line).
        cause: Box<crate::Error>,
    },
    /// After a problem with a file that runs outside a transaction, verify
    /// builds a new scratch database from the up files alone, to go on
    /// from there; this up file failed doing so (it applied the first
    /// time). The migrations after the problem were not checked.
    RebuildFailed {
        /// The version whose up file failed.
        version: u64,
        /// Why (names the file and line).
        cause: Box<crate::Error>,
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
