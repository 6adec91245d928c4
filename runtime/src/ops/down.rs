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
                return Box::pin(self.changing(async |ops| ops.down(how).await)).await;
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
        self.changing(async |ops| {
            let mut report = ops.report(None);
            let mut expected = applied.indexes();
            for (n, &index) in targets.iter().enumerate() {
                if ops.dry_run() && ops.list()[index].no_transaction(Direction::Down) {
                    report.untried = targets[n..]
                        .iter()
                        .map(|&i| ops.list()[i].version())
                        .collect();
                    break;
                }
                let head = rows.last().map(|r| (r.version, r.chain));
                match ops.revert(index, &expected, head).await {
                    Ok(step) => report.reverted.push(step),
                    Err(e) => return Err(Error::after(e, &report)),
                }
                plan::without(&mut rows, ops.list()[index].version());
                plan::take_out(&mut expected, index);
                report.version = expected.last().map(|&i| ops.list()[i].version());
            }
            let (applied, _) = ops.state().await?;
            report.version = ops.version_of(&applied);
            Ok(report)
        })
        .await
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
        let duration = self
            .transaction_of(Some((m.version(), &file)), async |ops| {
                // Under the lock, the history must still be what the plan saw:
                // the newest row's chain sums up every row, so when it is the
                // one expected, one read says so; otherwise every row is read.
                let same_head = match (head, ops.db.read_head().await?) {
                    (Some((version, chain)), TableState::Strata(Some(now))) => {
                        !now.dirty && now.version == version && now.chain == chain
                    }
                    _ => false,
                };
                if !same_head && !ops.state().await?.0.is(expected) {
                    return Err(Error::HistoryChanged);
                }
                if outside {
                    previous = expected
                        .iter()
                        .rev()
                        .find(|&&i| i < index)
                        .map(|&i| ops.list()[i].version());
                    ops.db.set_dirty(m.version(), true, None).await?;
                    return Ok(None);
                }
                let duration = ops.db.execute(m, Direction::Down, &file, true).await?;
                ops.db.restore().await?;
                ops.db
                    .delete_row(m.version())
                    .await
                    .map_err(|e| ops.history_error(index, Direction::Down, true, e))?;
                if !newest {
                    // A row below others is gone: their chains change.
                    ops.rechain()
                        .await
                        .map_err(|e| ops.history_error(index, Direction::Down, true, e))?;
                }
                if !ops.db.in_transaction().await {
                    return Err(Error::TransactionControl {
                        version: m.version(),
                        file: file.clone(),
                        line: None,
                    });
                }
                Ok(Some(duration))
            })
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
        self.changing(async |ops| {
            // A migration pending below applied ones would be applied with
            // the one redone: refused before anything is reverted, as `up`
            // refuses it.
            ops.state().await.map_err(not_moving_up)?;
            let mut report = ops.down(Down::Steps(1)).await?;
            let Some(reverted) = report.reverted.first() else {
                return Ok(report);
            };
            let end = ops.index_of(reverted.version)? + 1;
            // It may have been applied out of order (late): applying it
            // again puts the history back as it was.
            ops.redoing = true;
            let up = ops.up_to(end).await;
            ops.redoing = false;
            let up = up.map_err(|e| Error::after(e, &report))?;
            report.applied = up.applied;
            report.untried.extend(up.untried);
            report.version = up.version;
            Ok(report)
        })
        .await
    }

    /// Moves up or down to `version`.
    pub async fn goto(&mut self, version: u64) -> Result<Report> {
        let index = self.index_of(version)?;
        self.changing(async |ops| {
            // As for redo: a migration pending below applied ones would be
            // applied after the down; refused before anything changes.
            ops.state().await.map_err(not_moving_up)?;
            let mut report = ops.down(Down::To(version)).await?;
            if !report.untried.is_empty() {
                return Ok(report);
            }
            let up = ops
                .up_to(index + 1)
                .await
                .map_err(|e| Error::after(e, &report))?;
            report.applied = up.applied;
            report.untried = up.untried;
            report.version = up.version.or(report.version);
            Ok(report)
        })
        .await
    }
}
