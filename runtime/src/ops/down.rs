//! `down`, `redo` and `goto`: revert in the order of application.

use crate::history::TableState;
use crate::options::Millis;
use crate::plan;
use crate::plan::Down;
use crate::report::{AppliedStep, Report};
use crate::{Checksum, Direction, Error, Result};

use super::{Ops, not_moving_up, step};

impl Ops<'_> {
    /// Reverts applied migrations, the one applied last first (see
    /// [`plan::application_order`]), each with the removal of its row in
    /// one transaction.
    pub async fn down(&mut self, how: Down) -> Result<Report> {
        // Versions a newer build applied cannot be reverted from here, nor
        // stepped over: `allow_newer` is for moving up.
        let was = std::mem::replace(&mut self.reverting, true);
        let result = self.down_reverting(how).await;
        self.reverting = was;
        result
    }

    async fn down_reverting(&mut self, how: Down) -> Result<Report> {
        let (applied, version) = match self.state().await {
            // Another process runs a migration outside a transaction: wait
            // for it under strata's lock (as `up` does), then look again.
            Err(Error::InProgress { .. }) if self.depth == 0 => {
                // Boxed: `down` within `down`, once, under the lock.
                return Box::pin(async move {
                    self.start_changing().await?;
                    let result = self.down(how).await;
                    self.end_changing(result).await
                })
                .await;
            }
            state => state?,
        };
        let rows = match how {
            Down::Only(_) => Vec::new(),
            _ => self.db.read_all().await?,
        };
        let targets = plan::down_targets(self.migrations(), &applied, &rows, how)?;
        if targets.is_empty() {
            return Ok(self.report(version));
        }
        if self.db.read_only().await? {
            return Err(Error::ReadOnly {
                path: self.db.location(),
                pending: targets.len(),
            });
        }
        self.writable = true;
        // The history as the down leaves it, step by step (with the
        // chains strata writes), so that each step's check under the lock
        // is one read of the newest row.
        let mut rows = rows;
        self.start_changing().await?;
        let result = async {
            let mut report = self.report(None);
            let mut expected = applied.indexes();
            for (n, &index) in targets.iter().enumerate() {
                if self.dry_run() && self.list()[index].no_transaction(Direction::Down) {
                    report.untried = targets[n..]
                        .iter()
                        .map(|&i| self.list()[i].version())
                        .collect();
                    break;
                }
                let head = rows.last().map(|r| (r.version, r.chain));
                match self.revert(index, &expected, head).await {
                    Ok(step) => report.reverted.push(step),
                    Err(e) => return Err(Error::after(e, &report)),
                }
                plan::without(&mut rows, self.list()[index].version());
                plan::take_out(&mut expected, index);
                report.version = expected.last().map(|&i| self.list()[i].version());
            }
            let (applied, _) = self.state().await?;
            report.version = self.version_of(&applied);
            Ok(report)
        }
        .await;
        self.end_changing(result).await
    }

    /// Reverts migration `index`, which must be applied, with exactly the
    /// migrations `expected` applied (ascending), as the plan saw them;
    /// `head`: the newest row's version and chain then, when known.
    async fn revert(
        &mut self,
        index: usize,
        expected: &[usize],
        head: Option<(u64, Checksum)>,
    ) -> Result<AppliedStep> {
        let m = &self.list()[index];
        let file = self.file(index, Direction::Down);
        let outside = m.no_transaction(Direction::Down);
        let newest = expected.last() == Some(&index);
        let mut previous = None;
        self.begin().await?;
        let result = async {
            // Under the lock, the history must still be what the plan saw:
            // the newest row's chain sums up every row, so when it is the
            // one expected, one read says so; otherwise every row is read.
            let same_head = match (head, self.db.read_head().await?) {
                (Some((version, chain)), TableState::Strata(Some(now))) => {
                    !now.dirty && now.version == version && now.chain == chain
                }
                _ => false,
            };
            if !same_head && !self.state().await?.0.is(expected) {
                return Err(Error::HistoryChanged);
            }
            if outside {
                previous = expected
                    .iter()
                    .rev()
                    .find(|&&i| i < index)
                    .map(|&i| self.list()[i].version());
                self.db.set_dirty(m.version(), true, None).await?;
                return Ok(None);
            }
            let duration = self.db.execute(m, Direction::Down, &file, true).await?;
            self.db.restore().await?;
            self.db
                .delete_row(m.version())
                .await
                .map_err(|e| self.history_error(index, Direction::Down, true, e))?;
            if !newest {
                // A row below others is gone: their chains change.
                self.rechain()
                    .await
                    .map_err(|e| self.history_error(index, Direction::Down, true, e))?;
            }
            if !self.db.in_transaction().await {
                return Err(Error::TransactionControl {
                    version: m.version(),
                    file: file.clone(),
                    line: None,
                });
            }
            Ok(Some(duration))
        }
        .await;
        let duration = self
            .end_transaction(Some((m.version(), &file)), result)
            .await?;
        match duration {
            Some(duration) => {
                log::info!("reverted migration {file} in {}", Millis(duration));
                Ok(step(m, duration))
            }
            None => {
                self.finish_outside_transaction(index, Direction::Down, previous)
                    .await
            }
        }
    }

    /// Reverts the migration applied last and applies it again.
    pub async fn redo(&mut self) -> Result<Report> {
        self.start_changing().await?;
        let result = async {
            // A migration pending below applied ones would be applied with
            // the one redone: refused before anything is reverted, as `up`
            // refuses it.
            self.state().await.map_err(not_moving_up)?;
            let mut report = self.down(Down::Steps(1)).await?;
            let Some(reverted) = report.reverted.first() else {
                return Ok(report);
            };
            let end = self.index_of(reverted.version)? + 1;
            // It may have been applied out of order (late): applying it
            // again puts the history back as it was.
            self.redoing = true;
            let up = self.up_to(end).await;
            self.redoing = false;
            let up = up.map_err(|e| Error::after(e, &report))?;
            report.applied = up.applied;
            report.untried.extend(up.untried);
            report.version = up.version;
            Ok(report)
        }
        .await;
        self.end_changing(result).await
    }

    /// Moves up or down to `version`.
    pub async fn goto(&mut self, version: u64) -> Result<Report> {
        let index = self.index_of(version)?;
        self.start_changing().await?;
        let result = async {
            // As for redo: a migration pending below applied ones would be
            // applied after the down; refused before anything changes.
            self.state().await.map_err(not_moving_up)?;
            let mut report = self.down(Down::To(version)).await?;
            if !report.untried.is_empty() {
                return Ok(report);
            }
            let up = self
                .up_to(index + 1)
                .await
                .map_err(|e| Error::after(e, &report))?;
            report.applied = up.applied;
            report.untried = up.untried;
            report.version = up.version.or(report.version);
            Ok(report)
        }
        .await;
        self.end_changing(result).await
    }
}
