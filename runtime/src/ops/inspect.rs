//! `status` and `validate`: read the history, change nothing.

use crate::backend::refuse_in_transaction;
use crate::history::{AppliedMigration, TableState};
use crate::plan;
use crate::report::Status;
use crate::source::sql;
use crate::{Direction, Result};

use super::{Ops, check_history, refuse_outside_out_of_order};

impl Ops<'_> {
    /// Every row of the history, ascending; none without a history table.
    pub async fn applied(&mut self) -> Result<Vec<AppliedMigration>> {
        match self.db.read_head().await? {
            TableState::Missing => Ok(Vec::new()),
            TableState::Strata(_) => self.db.read_all().await,
        }
    }

    /// Every version the files or the database know, with its state.
    pub async fn status(&mut self) -> Result<Status> {
        let (rows, running) = match self.db.read_head().await? {
            TableState::Missing => (Vec::new(), false),
            TableState::Strata(_) => self.rows_and_running().await?,
        };
        let entries = plan::status(self.list(), &rows, running);
        Ok(Status { entries })
    }

    /// Everything `up` checks, changing nothing: the versions it would apply.
    ///
    /// Unlike the startup check, it reads every row, so it also catches a
    /// history row whose checksum was changed in the database itself.
    pub async fn validate(&mut self) -> Result<Vec<u64>> {
        let end = self.end()?;
        let (rows, running) = self.rows_and_running().await?;
        let applied = check_history(
            self.migrations(),
            &rows,
            running,
            self.options.allow_out_of_order,
            self.options.allow_newer,
            true,
        )?;
        if self.options.allow_newer {
            self.newer = plan::newer(self.migrations(), &rows);
        }
        let pending = applied.pending(end);
        // What the backend would refuse before running a pending file, by
        // its own dialect (the folder rules judged what both dialects see).
        for &index in &pending {
            let m = &self.list()[index];
            if m.no_transaction(Direction::Up) {
                refuse_outside_out_of_order(
                    self.migrations(),
                    index,
                    self.newest_applied(&applied),
                )?;
            } else {
                let lexed = sql::lex(m.up_sql(), self.db.dialect());
                refuse_in_transaction(m, &self.file(index, Direction::Up), &lexed.statements)?;
            }
        }
        Ok(pending
            .into_iter()
            .map(|i| self.list()[i].version())
            .collect())
    }
}
