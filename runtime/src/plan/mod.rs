//! Comparing what the files say with what the database recorded. No SQL
//! here: a backend reads the rows, this module decides.

mod edits;

pub(crate) use edits::{Edit, Edits, adopt, baseline, force, repair};

use crate::history::{AppliedMigration, Head};
use crate::report::{MigrationState, StatusEntry};
use crate::{Checksum, Direction, Error, Migration, Migrations, Result};

/// Which of the migrations (indexes into the list) are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// The first n: the normal case, which needs no allocation.
    Prefix(usize),
    /// Any other set, in ascending order (after out-of-order migrations).
    Indexes(Vec<usize>),
}

impl Applied {
    pub fn contains(&self, index: usize) -> bool {
        match self {
            Applied::Prefix(n) => index < *n,
            Applied::Indexes(indexes) => indexes.binary_search(&index).is_ok(),
        }
    }

    /// The applied indexes, ascending.
    pub fn indexes(&self) -> Vec<usize> {
        match self {
            Applied::Prefix(n) => (0..*n).collect(),
            Applied::Indexes(indexes) => indexes.clone(),
        }
    }

    /// The newest applied index below `index`.
    pub fn newest_below(&self, index: usize) -> Option<usize> {
        match self {
            Applied::Prefix(n) => (*n).min(index).checked_sub(1),
            Applied::Indexes(indexes) => indexes.iter().rev().find(|&&i| i < index).copied(),
        }
    }

    /// The newest applied index.
    pub fn newest(&self) -> Option<usize> {
        match self {
            Applied::Prefix(n) => n.checked_sub(1),
            Applied::Indexes(indexes) => indexes.last().copied(),
        }
    }

    /// The first index below `end` that is not applied.
    pub fn first_pending(&self, end: usize) -> Option<usize> {
        match self {
            Applied::Prefix(n) => (*n < end).then_some(*n),
            Applied::Indexes(_) => (0..end).find(|&i| !self.contains(i)),
        }
    }

    /// Every index below `end` that is not applied.
    pub fn pending(&self, end: usize) -> Vec<usize> {
        (0..end).filter(|&i| !self.contains(i)).collect()
    }

    /// Whether exactly the migrations `expected` (ascending) are applied.
    pub fn is(&self, expected: &[usize]) -> bool {
        match self {
            Applied::Prefix(n) => {
                expected.len() == *n && expected.last().is_none_or(|&last| last + 1 == *n)
            }
            Applied::Indexes(indexes) => indexes == expected,
        }
    }

    /// Whether applying `index` keeps the applied set a prefix, so that the
    /// chain precomputed from the files is the chain of its row.
    pub fn extends_prefix(&self, index: usize) -> bool {
        matches!(self, Applied::Prefix(n) if *n == index)
    }
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
/// says which migrations are applied.
///
/// A dirty row comes first, as it needs a person before anything else can
/// run; after it, the problem with the lowest version: an edited migration,
/// one the files lack, or (unless `allow_out_of_order`) a pending one below
/// the newest applied version. With `allow_newer`, rows above the newest
/// migration of the files (applied by a newer build) are accepted and left
/// out of the answer; rows the files lack below it are still errors.
pub(crate) fn check_history(
    migrations: &Migrations,
    rows: &[AppliedMigration],
    allow_out_of_order: bool,
    allow_newer: bool,
) -> Result<Applied> {
    if let Some(at) = rows.iter().position(|r| r.dirty) {
        return Err(Error::Dirty {
            version: rows[at].version,
            name: rows[at].name.clone(),
            previous: at.checked_sub(1).map(|i| rows[i].version),
        });
    }
    let newest = rows.last().map(|r| r.version);
    let files = migrations.as_slice();
    let rows = match files.last() {
        Some(last) if allow_newer => &rows[..rows.partition_point(|r| r.version <= last.version())],
        _ => rows,
    };
    let mut applied = Vec::with_capacity(rows.len());
    for pair in merge(files, rows) {
        match pair {
            Pair::Both(f, row) => {
                let file = &files[f];
                if file.checksum() != row.checksum {
                    return Err(Error::ChecksumMismatch {
                        version: row.version,
                        file: migrations.file_path(file, Direction::Up),
                        applied: row.checksum,
                        current: file.checksum(),
                    });
                }
                applied.push(f);
            }
            Pair::File(f) => {
                let file = &files[f];
                if let Some(newest) = newest.filter(|&n| n > file.version() && !allow_out_of_order)
                {
                    return Err(Error::OutOfOrder {
                        version: file.version(),
                        file: migrations.file_path(file, Direction::Up),
                        newest_applied: newest,
                    });
                }
            }
            Pair::Row(row) => {
                return Err(Error::MissingMigration {
                    version: row.version,
                    name: Some(row.name.clone()),
                    folder: migrations.folder().to_owned(),
                    allow_newer_helps: !allow_newer
                        && files
                            .last()
                            .is_some_and(|last| row.version > last.version()),
                });
            }
        }
    }
    if applied.iter().enumerate().all(|(i, &index)| i == index) {
        if rows
            .iter()
            .take(applied.len())
            .zip(files)
            .any(|(row, file)| row.chain != file.chain())
        {
            log::warn!(
                "the chain column of the history table disagrees with the migrations although every version and checksum matches \
                 (rows written by another tool?); `repair` rewrites it"
            );
        }
        Ok(Applied::Prefix(applied.len()))
    } else {
        Ok(Applied::Indexes(applied))
    }
}

/// One version of the files and the history, side by side.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pair<'a> {
    /// In the files (this index) and recorded.
    Both(usize, &'a AppliedMigration),
    /// In the files, not recorded.
    File(usize),
    /// Recorded, not in the files.
    Row(&'a AppliedMigration),
}

/// The files and the history rows, both ascending, merged by version: the
/// one walk that [`check_history`] and [`status`] share.
pub(crate) fn merge<'a>(
    files: &'a [Migration],
    rows: &'a [AppliedMigration],
) -> impl Iterator<Item = Pair<'a>> + 'a {
    let (mut f, mut r) = (0, 0);
    std::iter::from_fn(move || match (files.get(f), rows.get(r)) {
        (Some(file), Some(row)) if file.version() == row.version => {
            f += 1;
            r += 1;
            Some(Pair::Both(f - 1, row))
        }
        (Some(file), row) if row.is_none_or(|row| file.version() < row.version) => {
            f += 1;
            Some(Pair::File(f - 1))
        }
        (_, Some(row)) => {
            r += 1;
            Some(Pair::Row(row))
        }
        (_, None) => None,
    })
}

/// Every version the files or the history know, with its state: the rows
/// as read, `running` when another process holds strata's lock (a dirty
/// row is then in progress, not dead). Never an error: `status` shows
/// problems rather than failing on them.
pub(crate) fn status(
    files: &[Migration],
    rows: &[AppliedMigration],
    running: bool,
) -> Vec<StatusEntry> {
    let entry = |version: u64, name: &str, state, row: Option<&AppliedMigration>| StatusEntry {
        version,
        name: name.to_owned(),
        state,
        applied_at: row.map(|r| r.applied_at.clone()),
        duration: row.map(|r| r.duration),
    };
    merge(files, rows)
        .map(|pair| match pair {
            Pair::Both(f, row) => {
                let file = &files[f];
                let state = if row.dirty && running {
                    MigrationState::InProgress
                } else if row.dirty {
                    MigrationState::Dirty
                } else if row.checksum != file.checksum() {
                    MigrationState::Modified {
                        applied: row.checksum,
                        current: file.checksum(),
                    }
                } else {
                    MigrationState::Applied
                };
                entry(file.version(), file.name(), state, Some(row))
            }
            Pair::File(f) => {
                let file = &files[f];
                entry(file.version(), file.name(), MigrationState::Pending, None)
            }
            // Unfinished says more than missing: it needs a person (or a
            // wait) before anything else.
            Pair::Row(row) => {
                let state = match (row.dirty, running) {
                    (true, true) => MigrationState::InProgress,
                    (true, false) => MigrationState::Dirty,
                    (false, _) => MigrationState::Missing,
                };
                entry(row.version, &row.name, state, Some(row))
            }
        })
        .collect()
}

/// The versions of `rows` above the newest migration of the files: what a
/// newer build applied, which [`check_history`] accepts with `allow_newer`.
pub(crate) fn newer(migrations: &Migrations, rows: &[AppliedMigration]) -> Vec<u64> {
    let last = migrations.as_slice().last().map(Migration::version);
    rows.iter()
        .map(|r| r.version)
        .filter(|&v| last.is_none_or(|last| v > last))
        .collect()
}

/// The applied migrations (indexes), the one applied last first: the
/// order `down` reverts them in. The order of application is the order of
/// `applied_at` (milliseconds); rows applied in the same millisecond (one
/// run, or one transaction) were applied in ascending order of version.
/// Without migrations applied out of order, this is descending version.
pub(crate) fn application_order(
    migrations: &Migrations,
    applied: &Applied,
    rows: &[AppliedMigration],
) -> Vec<usize> {
    let list = migrations.as_slice();
    let mut order = applied.indexes();
    let stamp = |index: usize| {
        rows.binary_search_by_key(&list[index].version(), |r| r.version)
            .ok()
            .map(|at| rows[at].applied_at.as_str())
    };
    order.sort_by(|&a, &b| stamp(b).cmp(&stamp(a)).then(b.cmp(&a)));
    order
}

/// Which migrations a down reverts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Down {
    /// The n applied last.
    Steps(usize),
    /// Every applied one above this version.
    To(u64),
    /// Every applied one.
    All,
    /// This version alone.
    Only(u64),
}

/// The migrations (indexes) a down reverts, in the order it reverts them:
/// the one applied last first ([`application_order`] of `rows`, every
/// history row; `Only` needs none). Refused before anything changes: a
/// version the files lack, one that is not applied (`Only`), an
/// irreversible migration on the way, and a no-transaction down file that
/// would run while a higher version stays applied.
pub(crate) fn down_targets(
    migrations: &Migrations,
    applied: &Applied,
    rows: &[AppliedMigration],
    how: Down,
) -> Result<Vec<usize>> {
    let list = migrations.as_slice();
    let index_of = |version: u64| {
        migrations
            .index_of(version)
            .ok_or_else(|| Error::UnknownVersion {
                version,
                folder: migrations.folder().to_owned(),
            })
    };
    let down_file = |index: usize| migrations.file_path(&list[index], Direction::Down);
    let targets: Vec<usize> = match how {
        Down::Only(version) => {
            let index = index_of(version)?;
            if !applied.contains(index) {
                return Err(Error::NotApplied {
                    version,
                    file: down_file(index),
                });
            }
            vec![index]
        }
        Down::Steps(n) => application_order(migrations, applied, rows)
            .into_iter()
            .take(n)
            .collect(),
        Down::To(version) => {
            let keep = index_of(version)?;
            application_order(migrations, applied, rows)
                .into_iter()
                .filter(|&i| i > keep)
                .collect()
        }
        Down::All => application_order(migrations, applied, rows),
    };
    if let Some(&i) = targets.iter().find(|&&i| list[i].irreversible()) {
        return Err(Error::Irreversible {
            version: list[i].version(),
            file: down_file(i),
        });
    }
    // What stays applied as the down goes: ascending, so its last is the
    // newest; usually the target is that last one.
    let mut remaining = applied.indexes();
    for &index in &targets {
        let newest = remaining.last().copied();
        if list[index].no_transaction(Direction::Down)
            && let Some(newest) = newest.filter(|&n| n != index)
        {
            return Err(Error::NoTransactionRevertBelow {
                version: list[index].version(),
                file: down_file(index),
                newest_applied: list[newest].version(),
            });
        }
        take_out(&mut remaining, index);
    }
    Ok(targets)
}

/// Takes `index` out of `applied` (ascending), as a down reverts it: the
/// last one, usually, in constant time.
pub(crate) fn take_out(applied: &mut Vec<usize>, index: usize) {
    if applied.last() == Some(&index) {
        applied.pop();
    } else {
        applied.retain(|&i| i != index);
    }
}

/// Takes the row of `version` out of `rows` (ascending), as a down deletes
/// it; a row below others changes their chains, as `rechain` writes them.
pub(crate) fn without(rows: &mut Vec<AppliedMigration>, version: u64) {
    if rows.last().is_some_and(|r| r.version == version) {
        rows.pop();
    } else if let Ok(at) = rows.binary_search_by_key(&version, |r| r.version) {
        rows.remove(at);
        let chains = chains(rows.iter().map(|r| (r.version, r.checksum)));
        for (row, chain) in rows.iter_mut().zip(chains) {
            row.chain = chain;
        }
    }
}

/// The chain of each row when the rows are, in ascending order, `rows`.
pub(crate) fn chains(rows: impl IntoIterator<Item = (u64, Checksum)>) -> Vec<Checksum> {
    let mut chain = Checksum::ZERO;
    rows.into_iter()
        .map(|(version, checksum)| {
            chain = chain.chain(version, &checksum);
            chain
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::{Applied, Pair, merge};
    use crate::history::AppliedMigration;
    use crate::{Checksum, Migration};

    proptest! {
        /// The one walk of files and rows: every version of either, once,
        /// ascending, paired exactly when both have it.
        #[test]
        fn merge_pairs_every_version_once_in_order(
            files in proptest::collection::btree_set(0u64..40, 0..20),
            rows in proptest::collection::btree_set(0u64..40, 0..20),
        ) {
            let list: Vec<Migration> = files
                .iter()
                .map(|&v| Migration::new(v, "m", "SELECT 1;", "SELECT 1;"))
                .collect();
            let applied: Vec<AppliedMigration> = rows
                .iter()
                .map(|&version| AppliedMigration {
                    version,
                    name: "m".to_owned(),
                    checksum: Checksum::ZERO,
                    chain: Checksum::ZERO,
                    applied_at: String::new(),
                    duration: Duration::ZERO,
                    dirty: false,
                })
                .collect();
            let seen: Vec<(u64, bool, bool)> = merge(&list, &applied)
                .map(|pair| match pair {
                    Pair::Both(f, row) => {
                        assert_eq!(list[f].version(), row.version);
                        (row.version, true, true)
                    }
                    Pair::File(f) => (list[f].version(), true, false),
                    Pair::Row(row) => (row.version, false, true),
                })
                .collect();
            let expected: Vec<(u64, bool, bool)> = files
                .union(&rows)
                .map(|v| (*v, files.contains(v), rows.contains(v)))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            prop_assert_eq!(seen, expected);
        }
    }

    #[test]
    fn the_newest_applied_below_an_index() {
        let prefix = Applied::Prefix(3);
        assert_eq!(
            [0, 1, 3, 5].map(|i| prefix.newest_below(i)),
            [None, Some(0), Some(2), Some(2)]
        );
        let indexes = Applied::Indexes(vec![0, 2, 5]);
        assert_eq!(
            [0, 1, 2, 3, 6].map(|i| indexes.newest_below(i)),
            [None, Some(0), Some(0), Some(2), Some(5)]
        );
        assert_eq!(Applied::Prefix(0).newest_below(4), None);
    }
}
