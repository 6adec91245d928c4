//! The operations that change the history alone: `baseline`, `force`,
//! `repair`, `adopt`. Each reads the rows under the lock, has planning
//! decide the edits (`plan::edits`), and carries them out in one
//! transaction.

use crate::history::TableState;
use crate::plan::{self, Edit, Edits};
use crate::report::HistoryChanges;
use crate::{Error, Result};

use super::Ops;

/// Which history edit an operation makes.
enum Record {
    /// An edit of strata's own rows.
    Rows(RowsEdit),
    /// `adopt`, with the index the user stated, if any (`Some(None)`: none).
    Adopt(Option<Option<usize>>),
}

/// An edit of strata's own rows, planned from all of them.
enum RowsEdit {
    /// `baseline`: up to the migration at this index.
    Baseline(usize),
    /// `force`: to this version, the migration at this index (`None`:
    /// nothing applied).
    Force(Option<u64>, Option<usize>),
    Repair,
}

impl Ops<'_> {
    /// Records the migrations up to `version` as applied, without running
    /// them, on a database that has no history yet.
    pub async fn baseline(&mut self, version: u64) -> Result<HistoryChanges> {
        let index = self.index_of(version)?;
        self.change_history(Record::Rows(RowsEdit::Baseline(index)))
            .await
    }

    /// Sets the recorded state to `version` (`None`: nothing applied) and
    /// clears dirty flags, after a person repaired the database.
    pub async fn force(&mut self, version: Option<u64>) -> Result<HistoryChanges> {
        let keep = version.map(|v| self.index_of(v)).transpose()?;
        self.change_history(Record::Rows(RowsEdit::Force(version, keep)))
            .await
    }

    /// Accepts the current checksum (and name) of applied migrations whose
    /// files were edited on purpose.
    pub async fn repair(&mut self) -> Result<HistoryChanges> {
        self.change_history(Record::Rows(RowsEdit::Repair)).await
    }

    /// Converts golang-migrate's history table, or a home-made one, into
    /// strata's, keeping every recorded version; with `forced`, recording
    /// the migrations up to that version instead (`Some(None)`: none),
    /// whatever the table says, dirty or not.
    pub async fn adopt(&mut self, forced: Option<Option<u64>>) -> Result<HistoryChanges> {
        let forced = forced
            .map(|v| v.map(|v| self.index_of(v)).transpose())
            .transpose()?;
        self.change_history(Record::Adopt(forced)).await
    }

    /// A history edit under the lock, in one transaction.
    async fn change_history(&mut self, how: Record) -> Result<HistoryChanges> {
        self.start_changing().await?;
        let result = async {
            self.begin().await?;
            let result = self.edit_history(how).await;
            self.end_transaction(None, result).await
        }
        .await;
        self.end_changing(result).await
    }

    /// Reads the rows, plans the edit and carries it out.
    async fn edit_history(&mut self, how: Record) -> Result<HistoryChanges> {
        let edit = match how {
            Record::Rows(edit) => edit,
            Record::Adopt(forced) => {
                let table = self.options.table.to_string();
                let Some((kind, rows)) = self.db.read_foreign().await? else {
                    return match self.db.read_head().await? {
                        TableState::Missing => Err(Error::NothingToAdopt { table }),
                        // Said for a version, nothing to convert would read
                        // as done: `force` records a version.
                        TableState::Strata(_) if forced.is_some() => {
                            Err(Error::AdoptedAlready { table })
                        }
                        TableState::Strata(_) => Ok(self.history_changes()),
                    };
                };
                let plan = plan::adopt(self.migrations(), &table, (kind, &rows), forced)?;
                return self.carry_out(plan).await;
            }
        };
        self.db.create_table().await?;
        let rows = self.db.read_all().await?;
        let plan = match edit {
            RowsEdit::Baseline(index) => {
                plan::baseline(self.list(), &rows, index, &self.options.table)?
            }
            RowsEdit::Force(version, keep) => plan::force(self.list(), &rows, version, keep),
            RowsEdit::Repair => plan::repair(self.migrations(), &rows),
        };
        self.carry_out(plan).await
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
