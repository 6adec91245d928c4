//! What `baseline`, `force`, `repair` and `adopt` change in the history
//! table, decided from the files and the rows read under the lock: a list
//! of edits, which the operations carry out in one transaction, and the
//! report of them. No SQL and no database here.
//!
//! Each plan computes the table as it must end, chains included, so that
//! carrying it out needs no second read.

use crate::history::{AppliedMigration, ForeignRow, ForeignTable, NewRow};
use crate::report::{Change, HistoryChanges};
use crate::{Checksum, Error, Migration, Migrations, Result};

use super::chains;

/// One change to the history table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit<'a> {
    /// A new row.
    Insert(NewRow<'a>),
    /// A row's name, checksum and chain.
    Update {
        version: u64,
        name: &'a str,
        checksum: Checksum,
        chain: Checksum,
    },
    /// A row's dirty flag cleared.
    Clean(u64),
    /// The rows above a version deleted (`None`: every row).
    DeleteAbove(Option<u64>),
    /// Another tool's table replaced by strata's, holding these rows.
    ReplaceForeign(Vec<NewRow<'a>>),
}

/// The edits of one operation, in the order they are carried out, and
/// what they change, as reported (in ascending order of version).
#[derive(Debug, Default)]
pub(crate) struct Edits<'a> {
    pub edits: Vec<Edit<'a>>,
    pub changes: HistoryChanges,
}

impl<'a> NewRow<'a> {
    /// The row of migration `m` recorded as applied in full, now, with its
    /// own chain and no duration: what `baseline` writes, and what verify
    /// checks the history table takes after an up file.
    pub fn recorded(m: &'a Migration) -> Self {
        NewRow {
            version: m.version(),
            name: m.name(),
            checksum: m.checksum(),
            chain: m.chain(),
            applied_at: None,
            execution_ms: 0,
            dirty: false,
        }
    }
}

/// `baseline`: the migrations up to `index` recorded as applied, on a
/// history table without rows.
///
/// # Errors
/// [`Error::HistoryExists`] when `rows` is not empty.
pub(crate) fn baseline<'a>(
    list: &'a [Migration],
    rows: &[AppliedMigration],
    index: usize,
    table: &str,
) -> Result<Edits<'a>> {
    if let Some(newest) = rows.last() {
        return Err(Error::HistoryExists {
            table: table.to_owned(),
            newest: newest.version,
        });
    }
    let mut plan = Edits::default();
    for m in &list[..=index] {
        plan.edits.push(Edit::Insert(NewRow::recorded(m)));
        plan.changes.push(m.version(), m.name(), Change::Recorded);
    }
    Ok(plan)
}

/// `force`: the rows above `version` (`None`: every row) removed, those at
/// or below it clean, and every migration of the files up to it (`keep`,
/// its index) recorded; then every chain as the rows that are left make it.
pub(crate) fn force<'a>(
    list: &'a [Migration],
    rows: &'a [AppliedMigration],
    version: Option<u64>,
    keep: Option<usize>,
) -> Edits<'a> {
    let mut plan = Edits::default();
    let kept = |v: u64| version.is_some_and(|version| v <= version);
    for row in rows.iter().filter(|r| !kept(r.version)) {
        plan.changes.push(row.version, &row.name, Change::Removed);
    }
    plan.edits.push(Edit::DeleteAbove(version));
    for row in rows.iter().filter(|r| r.dirty && kept(r.version)) {
        plan.edits.push(Edit::Clean(row.version));
        plan.changes.push(row.version, &row.name, Change::Cleaned);
    }
    // The table as it ends: the rows kept and the migrations recorded.
    let mut end: Vec<(u64, &str, Checksum, Option<Checksum>)> = rows
        .iter()
        .filter(|r| kept(r.version))
        .map(|r| (r.version, r.name.as_str(), r.checksum, Some(r.chain)))
        .collect();
    for m in &list[..keep.map_or(0, |k| k + 1)] {
        if rows
            .binary_search_by_key(&m.version(), |r| r.version)
            .is_err()
        {
            end.push((m.version(), m.name(), m.checksum(), None));
            plan.changes.push(m.version(), m.name(), Change::Recorded);
        }
    }
    end.sort_by_key(|&(version, ..)| version);
    let chains = chains(end.iter().map(|&(v, _, checksum, _)| (v, checksum)));
    for (&(version, name, checksum, old), chain) in end.iter().zip(chains) {
        match old {
            None => plan.edits.push(Edit::Insert(NewRow {
                version,
                name,
                checksum,
                chain,
                applied_at: None,
                execution_ms: 0,
                dirty: false,
            })),
            Some(old) if old != chain => plan.edits.push(Edit::Update {
                version,
                name,
                checksum,
                chain,
            }),
            Some(_) => {}
        }
    }
    plan.changes.sort();
    plan
}

/// `repair`: every row of a migration the files have takes the file's
/// checksum and name; then every chain as the rows make it.
pub(crate) fn repair<'a>(migrations: &'a Migrations, rows: &'a [AppliedMigration]) -> Edits<'a> {
    let mut plan = Edits::default();
    let end: Vec<(&AppliedMigration, &str, Checksum)> = rows
        .iter()
        .map(|row| match migrations.get(row.version) {
            Some(m) => (row, m.name(), m.checksum()),
            None => (row, row.name.as_str(), row.checksum),
        })
        .collect();
    let chains = chains(
        end.iter()
            .map(|&(row, _, checksum)| (row.version, checksum)),
    );
    for (&(row, name, checksum), chain) in end.iter().zip(chains) {
        if checksum != row.checksum {
            let to = checksum;
            let from = row.checksum;
            plan.changes
                .push(row.version, name, Change::ChecksumUpdated { from, to });
        }
        if name != row.name {
            let from = row.name.clone();
            plan.changes
                .push(row.version, name, Change::Renamed { from });
        }
        if checksum != row.checksum || name != row.name || chain != row.chain {
            plan.edits.push(Edit::Update {
                version: row.version,
                name,
                checksum,
                chain,
            });
        }
    }
    plan
}

/// `adopt`: another tool's table (of this kind, with these rows) replaced
/// by strata's, recording every version it records; with `forced`, the
/// migrations up to that index instead (`Some(None)`: none), whatever the
/// table says, dirty or not.
///
/// # Errors
/// [`Error::AdoptDirty`] for a dirty row unless forced, and
/// [`Error::MissingMigration`] for a recorded version the files lack.
pub(crate) fn adopt<'a>(
    migrations: &'a Migrations,
    table: &str,
    (kind, rows): (ForeignTable, &'a [ForeignRow]),
    forced: Option<Option<usize>>,
) -> Result<Edits<'a>> {
    if let Some(row) = rows.iter().find(|r| r.dirty)
        && forced.is_none()
    {
        return Err(Error::AdoptDirty {
            table: table.to_owned(),
            version: u64::try_from(row.version).ok(),
        });
    }
    // The versions (indexes) that the table says are applied, or that the
    // user said are.
    let mut applied = Vec::new();
    if let Some(forced) = forced {
        applied.extend(0..forced.map_or(0, |i| i + 1));
    }
    for row in rows.iter().filter(|_| forced.is_none()) {
        // golang-migrate's "no version" (-1) applies nothing.
        let Ok(version) = u64::try_from(row.version) else {
            continue;
        };
        let Some(index) = migrations.index_of(version) else {
            return Err(Error::MissingMigration {
                version,
                name: row.name.clone(),
                folder: migrations.folder().to_owned(),
                allow_newer_helps: false,
            });
        };
        match kind {
            // golang-migrate keeps one row: the current version, which
            // means every migration up to it.
            ForeignTable::GolangMigrate => applied.extend(0..=index),
            // A home-made table keeps one per migration (`read_foreign`
            // returns no other kind).
            ForeignTable::HomeMade | ForeignTable::Sqlx | ForeignTable::Other => {
                applied.push(index)
            }
        }
    }
    applied.sort_unstable();
    applied.dedup();
    let list = migrations.as_slice();
    let chains = chains(
        applied
            .iter()
            .map(|&i| (list[i].version(), list[i].checksum())),
    );
    let mut plan = Edits::default();
    let mut new_rows = Vec::with_capacity(applied.len());
    for (&i, chain) in applied.iter().zip(chains) {
        let m = &list[i];
        let applied_at = rows
            .iter()
            .find(|r| r.version == m.version() as i64)
            .and_then(|r| r.applied_at.as_deref());
        new_rows.push(NewRow {
            version: m.version(),
            name: m.name(),
            checksum: m.checksum(),
            chain,
            applied_at,
            execution_ms: 0,
            dirty: false,
        });
        plan.changes.push(m.version(), m.name(), Change::Adopted);
    }
    plan.edits.push(Edit::ReplaceForeign(new_rows));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    /// A row of the model table: name, checksum, chain, dirty.
    type Model = BTreeMap<u64, (String, Checksum, Checksum, bool)>;

    /// What a database holds after the edits, from a table of `rows`.
    fn carry_out(rows: &[AppliedMigration], edits: &[Edit<'_>]) -> Model {
        let mut table: Model = rows
            .iter()
            .map(|r| (r.version, (r.name.clone(), r.checksum, r.chain, r.dirty)))
            .collect();
        let insert = |table: &mut Model, row: &NewRow<'_>| {
            let old = table.insert(
                row.version,
                (row.name.to_owned(), row.checksum, row.chain, row.dirty),
            );
            assert!(
                old.is_none(),
                "an insert of version {} is a duplicate",
                row.version
            );
        };
        for edit in edits {
            match edit {
                Edit::Insert(row) => insert(&mut table, row),
                Edit::Update {
                    version,
                    name,
                    checksum,
                    chain,
                } => {
                    let row = table.get_mut(version).expect("an update of a row");
                    (row.0, row.1, row.2) = ((*name).to_owned(), *checksum, *chain);
                }
                Edit::Clean(version) => table.get_mut(version).expect("a row").3 = false,
                Edit::DeleteAbove(version) => {
                    table.retain(|v, _| version.is_some_and(|version| *v <= version));
                }
                Edit::ReplaceForeign(rows) => {
                    table.clear();
                    rows.iter().for_each(|row| insert(&mut table, row));
                }
            }
        }
        table
    }

    /// Every row's chain is the chain of the rows up to it.
    fn chained(table: &Model) -> bool {
        let expected = chains(table.iter().map(|(v, row)| (*v, row.1)));
        table
            .values()
            .zip(expected)
            .all(|(row, chain)| row.2 == chain)
    }

    fn files(versions: &[u64]) -> Migrations {
        let list = versions
            .iter()
            .map(|&v| Migration::new(v, &format!("m{v}"), format!("SELECT {v};"), "SELECT 0;"));
        Migrations::new("migrations", list).unwrap()
    }

    /// Rows of these versions, some with other checksums or names than
    /// the files' (`edited`), some dirty, with chains as a run made them.
    fn rows(versions: &[u64], edited: &[bool], dirty: &[bool]) -> Vec<AppliedMigration> {
        let mut rows: Vec<AppliedMigration> = versions
            .iter()
            .zip(edited.iter().chain(std::iter::repeat(&false)))
            .zip(dirty.iter().chain(std::iter::repeat(&false)))
            .map(|((&version, &edited), &dirty)| {
                let m = Migration::new(
                    version,
                    &format!("m{version}"),
                    format!("SELECT {version};"),
                    "",
                );
                AppliedMigration {
                    version,
                    name: if edited {
                        "old".to_owned()
                    } else {
                        m.name().to_owned()
                    },
                    checksum: if edited { Checksum::ZERO } else { m.checksum() },
                    chain: Checksum::ZERO,
                    applied_at: String::new(),
                    duration: Duration::ZERO,
                    dirty,
                }
            })
            .collect();
        let chains = chains(rows.iter().map(|r| (r.version, r.checksum)));
        rows.iter_mut().zip(chains).for_each(|(r, c)| r.chain = c);
        rows
    }

    fn versions() -> impl Strategy<Value = Vec<u64>> {
        proptest::collection::btree_set(1u64..30, 0..12).prop_map(|s| s.into_iter().collect())
    }

    proptest! {
        /// After `force`, the table holds exactly the rows kept and the
        /// files' migrations up to the version, none dirty, chained; the
        /// report names every row removed, cleaned or recorded.
        #[test]
        fn force_ends_with_the_versions_asked_chained_and_clean(
            file_versions in versions(),
            row_versions in versions(),
            edited in proptest::collection::vec(any::<bool>(), 12),
            dirty in proptest::collection::vec(any::<bool>(), 12),
            pick in any::<prop::sample::Index>(),
            none in any::<bool>(),
        ) {
            let migrations = files(&file_versions);
            let rows = rows(&row_versions, &edited, &dirty);
            let keep = (!none && !file_versions.is_empty())
                .then(|| pick.index(file_versions.len()));
            let version = keep.map(|k| file_versions[k]);
            let plan = force(migrations.as_slice(), &rows, version, keep);
            let table = carry_out(&rows, &plan.edits);
            let at_most = |v: &u64| version.is_some_and(|version| *v <= version);
            let mut expected: Vec<u64> = row_versions.iter().chain(&file_versions)
                .copied().filter(at_most).collect();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(table.keys().copied().collect::<Vec<_>>(), expected);
            prop_assert!(table.values().all(|row| !row.3));
            prop_assert!(chained(&table));
            for row in rows.iter().filter(|r| at_most(&r.version)) {
                prop_assert_eq!(table[&row.version].1, row.checksum, "a kept row keeps its checksum");
            }
            let reported = plan.changes.changes.len();
            let removed = rows.iter().filter(|r| !at_most(&r.version)).count();
            let cleaned = rows.iter().filter(|r| r.dirty && at_most(&r.version)).count();
            let recorded = table.len() - (rows.len() - removed);
            prop_assert_eq!(reported, removed + cleaned + recorded);
        }

        /// After `repair`, every row of a migration the files have carries
        /// the file's name and checksum, the other rows are as they were,
        /// and the table is chained; a second repair changes nothing.
        #[test]
        fn repair_takes_the_files_and_rechains(
            file_versions in versions(),
            row_versions in versions(),
            edited in proptest::collection::vec(any::<bool>(), 12),
        ) {
            let migrations = files(&file_versions);
            let rows = rows(&row_versions, &edited, &[]);
            let plan = repair(&migrations, &rows);
            let table = carry_out(&rows, &plan.edits);
            prop_assert_eq!(table.keys().copied().collect::<Vec<_>>(), row_versions.clone());
            for (version, row) in &table {
                match migrations.get(*version) {
                    Some(m) => prop_assert_eq!((row.0.as_str(), row.1), (m.name(), m.checksum())),
                    None => prop_assert_eq!(row.1, rows.iter().find(|r| r.version == *version).unwrap().checksum),
                }
            }
            prop_assert!(chained(&table));
            let again: Vec<AppliedMigration> = table.iter().map(|(v, row)| AppliedMigration {
                version: *v,
                name: row.0.clone(),
                checksum: row.1,
                chain: row.2,
                applied_at: String::new(),
                duration: Duration::ZERO,
                dirty: row.3,
            }).collect();
            let second = repair(&migrations, &again);
            prop_assert!(second.edits.is_empty() && second.changes.is_empty());
        }
    }

    #[test]
    fn baseline_refuses_a_table_with_rows_and_records_a_prefix() {
        let migrations = files(&[1, 2, 3]);
        let plan = baseline(migrations.as_slice(), &[], 1, "t").unwrap();
        let table = carry_out(&[], &plan.edits);
        assert_eq!(table.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert!(chained(&table));
        let rows = rows(&[1], &[], &[]);
        let err = baseline(migrations.as_slice(), &rows, 1, "t").unwrap_err();
        assert!(
            matches!(err, Error::HistoryExists { newest: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn adopt_reads_golang_migrate_as_every_version_up_to_its_own() {
        let migrations = files(&[1, 2, 5, 9]);
        let row = |version, dirty| ForeignRow {
            version,
            name: None,
            applied_at: None,
            dirty,
        };
        let one = [row(5, false)];
        let plan = adopt(&migrations, "t", (ForeignTable::GolangMigrate, &one), None).unwrap();
        let table = carry_out(&[], &plan.edits);
        assert_eq!(table.keys().copied().collect::<Vec<_>>(), [1, 2, 5]);
        assert!(chained(&table));
        // golang-migrate's "no version".
        let none = [row(-1, false)];
        let plan = adopt(&migrations, "t", (ForeignTable::GolangMigrate, &none), None).unwrap();
        assert!(carry_out(&[], &plan.edits).is_empty());
        // A home-made table records each version it names.
        let home = [row(2, false), row(9, false)];
        let plan = adopt(&migrations, "t", (ForeignTable::HomeMade, &home), None).unwrap();
        assert_eq!(
            carry_out(&[], &plan.edits)
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [2, 9]
        );
        // Dirty: refused unless forced; forced: what the user said.
        let dirty = [row(5, true)];
        let err = adopt(
            &migrations,
            "t",
            (ForeignTable::GolangMigrate, &dirty),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AdoptDirty {
                    version: Some(5),
                    ..
                }
            ),
            "{err:?}"
        );
        let plan = adopt(
            &migrations,
            "t",
            (ForeignTable::GolangMigrate, &dirty),
            Some(Some(1)),
        )
        .unwrap();
        assert_eq!(
            carry_out(&[], &plan.edits)
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [1, 2]
        );
        // A version the files lack.
        let unknown = [row(7, false)];
        let err = adopt(&migrations, "t", (ForeignTable::HomeMade, &unknown), None).unwrap_err();
        assert!(
            matches!(err, Error::MissingMigration { version: 7, .. }),
            "{err:?}"
        );
    }
}
