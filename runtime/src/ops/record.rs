//! The operations that change the history alone: `baseline`, `force`,
//! `repair`, `adopt`.

use crate::history::{ForeignTable, NewRow, TableState};
use crate::plan;
use crate::report::{Change, HistoryChanges};
use crate::{Checksum, Error, Result};

use super::Ops;

impl Ops<'_> {
    /// Records the migrations up to `version` as applied, without running
    /// them, on a database that has no history yet.
    pub async fn baseline(&mut self, version: u64) -> Result<HistoryChanges> {
        let index = self.index_of(version)?;
        self.changing(async |ops| {
            ops.transaction(async |ops| {
                ops.db.create_table().await?;
                if let Some(newest) = ops.db.read_all().await?.last() {
                    return Err(Error::HistoryExists {
                        table: ops.options.table.to_string(),
                        newest: newest.version,
                    });
                }
                let mut changes = ops.history_changes();
                for m in &ops.list()[..=index] {
                    ops.db.insert_row(&NewRow::recorded(m)).await?;
                    changes.push(m.version(), m.name(), Change::Recorded);
                }
                Ok(changes)
            })
            .await
        })
        .await
    }

    /// Sets the recorded state to `version` (`None`: nothing applied) and
    /// clears dirty flags, after a person repaired the database.
    pub async fn force(&mut self, version: Option<u64>) -> Result<HistoryChanges> {
        let keep = version.map(|v| self.index_of(v)).transpose()?;
        self.changing(async |ops| {
            ops.transaction(async |ops| {
                ops.db.create_table().await?;
                let rows = ops.db.read_all().await?;
                let mut changes = ops.history_changes();
                for row in rows
                    .iter()
                    .filter(|r| version.is_none_or(|v| r.version > v))
                {
                    changes.push(row.version, &row.name, Change::Removed);
                }
                ops.db.delete_rows_above(version).await?;
                for row in rows
                    .iter()
                    .filter(|r| r.dirty && version.is_some_and(|v| r.version <= v))
                {
                    ops.db.set_dirty(row.version, false, None).await?;
                    changes.push(row.version, &row.name, Change::Cleaned);
                }
                let upto = keep.map_or(0, |k| k + 1);
                for m in &ops.list()[..upto] {
                    if rows
                        .binary_search_by_key(&m.version(), |r| r.version)
                        .is_err()
                    {
                        ops.db
                            .insert_row(&NewRow {
                                version: m.version(),
                                name: m.name(),
                                checksum: m.checksum(),
                                chain: Checksum::ZERO,
                                applied_at: None,
                                execution_ms: 0,
                                dirty: false,
                            })
                            .await?;
                        changes.push(m.version(), m.name(), Change::Recorded);
                    }
                }
                ops.rechain().await?;
                changes.sort();
                Ok(changes)
            })
            .await
        })
        .await
    }

    /// Accepts the current checksum (and name) of applied migrations whose
    /// files were edited on purpose.
    pub async fn repair(&mut self) -> Result<HistoryChanges> {
        self.changing(async |ops| {
            ops.transaction(async |ops| {
                ops.db.create_table().await?;
                let mut changes = ops.history_changes();
                for row in ops.db.read_all().await? {
                    let Some(m) = ops.migrations().get(row.version) else {
                        continue;
                    };
                    if m.checksum() != row.checksum {
                        changes.push(
                            row.version,
                            m.name(),
                            Change::ChecksumUpdated {
                                from: row.checksum,
                                to: m.checksum(),
                            },
                        );
                    }
                    if m.name() != row.name {
                        changes.push(
                            row.version,
                            m.name(),
                            Change::Renamed {
                                from: row.name.clone(),
                            },
                        );
                    }
                    if m.checksum() != row.checksum || m.name() != row.name {
                        ops.db
                            .update_row(row.version, m.name(), m.checksum(), row.chain)
                            .await?;
                    }
                }
                ops.rechain().await?;
                Ok(changes)
            })
            .await
        })
        .await
    }

    /// Converts golang-migrate's history table, or a home-made one, into
    /// strata's, keeping every recorded version; with `forced`, recording
    /// the migrations up to that version instead (`Some(None)`: none),
    /// whatever the table says, dirty or not.
    pub async fn adopt(&mut self, forced: Option<Option<u64>>) -> Result<HistoryChanges> {
        let forced = forced
            .map(|v| v.map(|v| self.index_of(v)).transpose())
            .transpose()?;
        self.changing(async |ops| {
            ops.transaction(async |ops| {
                let table = ops.options.table.to_string();
                let Some((kind, rows)) = ops.db.read_foreign().await? else {
                    return match ops.db.read_head().await? {
                        TableState::Missing => Err(Error::NothingToAdopt { table }),
                        // Said for a version, nothing to convert would
                        // read as done: `force` records a version.
                        TableState::Strata(_) if forced.is_some() => {
                            Err(Error::AdoptedAlready { table })
                        }
                        TableState::Strata(_) => Ok(ops.history_changes()),
                    };
                };
                if let Some(row) = rows.iter().find(|r| r.dirty)
                    && forced.is_none()
                {
                    return Err(Error::AdoptDirty {
                        table,
                        version: u64::try_from(row.version).ok(),
                    });
                }
                // The versions that the table says are applied, or that
                // the user said are.
                let mut versions = Vec::new();
                if let Some(forced) = forced {
                    versions.extend(0..forced.map_or(0, |i| i + 1));
                }
                for row in rows.iter().filter(|_| forced.is_none()) {
                    // golang-migrate's "no version" (-1) applies nothing.
                    let Ok(version) = u64::try_from(row.version) else {
                        continue;
                    };
                    let Some(index) = ops.migrations().index_of(version) else {
                        return Err(Error::MissingMigration {
                            version,
                            name: row.name.clone(),
                            folder: ops.migrations().folder().to_owned(),
                            allow_newer_helps: false,
                        });
                    };
                    match kind {
                        // golang-migrate keeps one row: the current version,
                        // which means every migration up to it.
                        ForeignTable::GolangMigrate => versions.extend(0..=index),
                        // A home-made table keeps one per migration
                        // (`read_foreign` returns no other kind).
                        ForeignTable::HomeMade | ForeignTable::Other => versions.push(index),
                    }
                }
                versions.sort_unstable();
                versions.dedup();
                let list = ops.list();
                let applied_at = |version: u64| {
                    rows.iter()
                        .find(|r| r.version == version as i64)
                        .and_then(|r| r.applied_at.clone())
                };
                let stamps: Vec<Option<String>> = versions
                    .iter()
                    .map(|&i| applied_at(list[i].version()))
                    .collect();
                let chains = plan::chains(
                    versions
                        .iter()
                        .map(|&i| (list[i].version(), list[i].checksum())),
                );
                let new_rows: Vec<NewRow<'_>> = versions
                    .iter()
                    .zip(&chains)
                    .zip(&stamps)
                    .map(|((&i, &chain), stamp)| NewRow {
                        version: list[i].version(),
                        name: list[i].name(),
                        checksum: list[i].checksum(),
                        chain,
                        applied_at: stamp.as_deref(),
                        execution_ms: 0,
                        dirty: false,
                    })
                    .collect();
                ops.db.replace_foreign(&new_rows).await?;
                let mut changes = ops.history_changes();
                for &i in &versions {
                    changes.push(list[i].version(), list[i].name(), Change::Adopted);
                }
                Ok(changes)
            })
            .await
        })
        .await
    }
}
