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
        self.start_changing().await?;
        let result = async {
            self.begin().await?;
            let result = async {
                self.db.create_table().await?;
                let rows = self.db.read_all().await?;
                let plan = plan::baseline(self.list(), &rows, index, &self.options.table)?;
                self.carry_out(plan).await
            }
            .await;
            self.end_transaction(None, result).await
        }
        .await;
        self.end_changing(result).await
    }

    /// Sets the recorded state to `version` (`None`: nothing applied) and
    /// clears dirty flags, after a person repaired the database.
    pub async fn force(&mut self, version: Option<u64>) -> Result<HistoryChanges> {
        let keep = version.map(|v| self.index_of(v)).transpose()?;
        self.start_changing().await?;
        let result = async {
            self.begin().await?;
            let result = async {
                self.db.create_table().await?;
                let rows = self.db.read_all().await?;
                let plan = plan::force(self.list(), &rows, version, keep);
                self.carry_out(plan).await
            }
            .await;
            self.end_transaction(None, result).await
        }
        .await;
        self.end_changing(result).await
    }

    /// Accepts the current checksum (and name) of applied migrations whose
    /// files were edited on purpose.
    pub async fn repair(&mut self) -> Result<HistoryChanges> {
        self.start_changing().await?;
        let result = async {
            self.begin().await?;
            let result = async {
                self.db.create_table().await?;
                let rows = self.db.read_all().await?;
                let plan = plan::repair(self.migrations(), &rows);
                self.carry_out(plan).await
            }
            .await;
            self.end_transaction(None, result).await
        }
        .await;
        self.end_changing(result).await
    }

    /// Converts golang-migrate's history table, or a home-made one, into
    /// strata's, keeping every recorded version; with `forced`, recording
    /// the migrations up to that version instead (`Some(None)`: none),
    /// whatever the table says, dirty or not.
    pub async fn adopt(&mut self, forced: Option<Option<u64>>) -> Result<HistoryChanges> {
        let forced = forced
            .map(|v| v.map(|v| self.index_of(v)).transpose())
            .transpose()?;
        self.start_changing().await?;
        let result = async {
            self.begin().await?;
            let result = async {
                let table = self.options.table.to_string();
                let Some((kind, rows)) = self.db.read_foreign().await? else {
                    return match self.db.read_head().await? {
                        TableState::Missing => Err(Error::NothingToAdopt { table }),
                        // Said for a version, nothing to convert would
                        // read as done: `force` records a version.
                        TableState::Strata(_) if forced.is_some() => {
                            Err(Error::AdoptedAlready { table })
                        }
                        TableState::Strata(_) => Ok(self.history_changes()),
                    };
                };
                let plan = plan::adopt(self.migrations(), &table, (kind, &rows), forced)?;
                self.carry_out(plan).await
            }
            .await;
            self.end_transaction(None, result).await
        }
        .await;
        self.end_changing(result).await
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
