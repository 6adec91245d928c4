//! The operations that change the history alone: `baseline`, `force`,
//! `repair`, `adopt`. Each reads the rows under the lock, has planning
//! decide the edits (`plan::edits`), and carries them out in one
//! transaction.

use crate::history::TableState;
use crate::plan::{self, Edit, Edits};
use crate::report::HistoryChanges;
use crate::{Error, Result};

use super::Ops;

impl Ops<'_> {
    /// Records the migrations up to `version` as applied, without running
    /// them, on a database that has no history yet.
    pub async fn baseline(&mut self, version: u64) -> Result<HistoryChanges> {
        let index = self.index_of(version)?;
        self.changing(async |ops| {
            ops.transaction(async |ops| {
                ops.db.create_table().await?;
                let rows = ops.db.read_all().await?;
                let plan = plan::baseline(ops.list(), &rows, index, &ops.options.table)?;
                ops.carry_out(plan).await
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
                let plan = plan::force(ops.list(), &rows, version, keep);
                ops.carry_out(plan).await
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
                let rows = ops.db.read_all().await?;
                let plan = plan::repair(ops.migrations(), &rows);
                ops.carry_out(plan).await
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
                let plan = plan::adopt(ops.migrations(), &table, (kind, &rows), forced)?;
                ops.carry_out(plan).await
            })
            .await
        })
        .await
    }

    /// Carries out planned edits, in order, and reports them.
    async fn carry_out(&mut self, plan: Edits<'_>) -> Result<HistoryChanges> {
        for edit in &plan.edits {
            match edit {
                Edit::Insert(row) => self.db.insert_row(row).await?,
                Edit::Update {
                    version,
                    name,
                    checksum,
                    chain,
                } => {
                    self.db
                        .update_row(*version, name, *checksum, *chain)
                        .await?
                }
                Edit::Clean(version) => self.db.set_dirty(*version, false, None).await?,
                Edit::DeleteAbove(version) => self.db.delete_rows_above(*version).await?,
                Edit::ReplaceForeign(rows) => self.db.replace_foreign(rows).await?,
            }
        }
        Ok(HistoryChanges {
            dry_run: self.dry_run(),
            ..plan.changes
        })
    }
}
