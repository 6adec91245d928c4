//! What `verify` returns when every down file reverts its up.

use core::fmt;

use super::plural;

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
pub(crate) fn leftovers(f: &mut fmt::Formatter<'_>, report: &VerifyReport) -> fmt::Result {
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
