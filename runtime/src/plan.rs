//! Comparing what the files say with what the database recorded. No SQL
//! here: a backend reads the rows, this module decides.
#![cfg_attr(not(feature = "sqlite"), allow(dead_code))]

use crate::{Checksum, Error, Migrations, Result};

/// One row of the history table: a migration the database recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// The version.
    pub version: u64,
    /// The name recorded when it was applied.
    pub name: String,
    /// The checksum of the up file when it was applied.
    pub checksum: Checksum,
    /// The chain value up to and including this row.
    pub chain: Checksum,
    /// When it was applied (UTC, ISO 8601).
    pub applied_at: String,
    /// How long its SQL ran, in milliseconds.
    pub execution_ms: u64,
    /// Whether it runs outside a transaction and has begun but not finished.
    pub dirty: bool,
}

/// The newest row, which is all the startup check reads when all is well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub version: u64,
    pub chain: Checksum,
    pub dirty: bool,
}

/// How many migrations (always a prefix of the list) the newest row proves
/// applied, or `None` when it proves nothing and every row must be read.
///
/// The chain of the newest row sums up every applied version and checksum,
/// so when it equals the chain that the files give for that version, the
/// database applied exactly the files' migrations up to it, none edited.
pub(crate) fn applied_by_head(migrations: &Migrations, head: Option<&Head>) -> Option<usize> {
    let Some(head) = head else { return Some(0) };
    if head.dirty {
        return None;
    }
    let index = migrations.index_of(head.version)?;
    (migrations.as_slice()[index].chain() == head.chain).then_some(index + 1)
}

/// Checks every row (in ascending order of version) against the files and
/// returns how many migrations are applied, always a prefix of the list.
///
/// A dirty row comes first, as it needs a person before anything else can
/// run; after it, the problem with the lowest version: an edited migration,
/// one the files lack, or a pending one below the newest applied version.
pub(crate) fn check_history(migrations: &Migrations, rows: &[AppliedMigration]) -> Result<usize> {
    if let Some(row) = rows.iter().find(|r| r.dirty) {
        return Err(Error::Dirty {
            version: row.version,
            name: row.name.clone(),
        });
    }
    let newest = rows.last().map(|r| r.version);
    let files = migrations.as_slice();
    let (mut f, mut r) = (0, 0);
    while f < files.len() || r < rows.len() {
        let file = files.get(f);
        let row = rows.get(r);
        match (file, row) {
            (Some(file), Some(row)) if file.version() == row.version => {
                if file.checksum() != row.checksum {
                    return Err(Error::ChecksumMismatch {
                        version: row.version,
                        file: migrations.file_path(file, crate::Direction::Up),
                        applied: row.checksum,
                        current: file.checksum(),
                    });
                }
                f += 1;
                r += 1;
            }
            (Some(file), row) if row.is_none_or(|row| file.version() < row.version) => {
                if let Some(newest) = newest.filter(|&n| n > file.version()) {
                    return Err(Error::OutOfOrder {
                        version: file.version(),
                        file: migrations.file_path(file, crate::Direction::Up),
                        newest_applied: newest,
                    });
                }
                f += 1;
            }
            (_, Some(row)) => {
                return Err(Error::MissingMigration {
                    version: row.version,
                    name: row.name.clone(),
                    folder: migrations.folder().to_owned(),
                });
            }
            (Some(_), None) | (None, None) => break,
        }
    }
    if rows
        .iter()
        .zip(files)
        .any(|(row, file)| row.chain != file.chain())
    {
        log::warn!(
            "the chain column of the history table disagrees with the migrations although every version and checksum matches; \
             rows written by another tool? strata writes correct chains from the next migration on"
        );
    }
    Ok(rows.len())
}
