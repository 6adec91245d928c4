//! `up`: apply what is pending, each migration with its history row in
//! one transaction, or outside one with dirty tracking.

use crate::backend::Finish;
use crate::history::{NewRow, TableState};
use crate::options::Millis;
use crate::plan::{self, Applied};
use crate::report::{AppliedStep, Report};
use crate::{Direction, Error, Result};
use std::time::Duration;

use super::{Ops, millis, refuse_outside_out_of_order, step};

/// What one step of `up` did inside its transaction.
enum Step {
    /// Nothing is pending; the database is at this version.
    Done(Option<u64>),
    /// Applied migrations; commit them. `more`: something is still pending.
    /// `unrecorded`: the one migration (its index, and how long its file
    /// took) whose history row goes with the commit, not before it.
    Applied {
        more: bool,
        version: u64,
        unrecorded: Option<(usize, Duration)>,
    },
    /// Recorded a dirty row for a no-transaction migration; commit it, then
    /// run the migration's SQL outside a transaction.
    Started {
        index: usize,
        more: bool,
        version: u64,
        /// The newest version applied below it.
        previous: Option<u64>,
    },
    /// A dry run reached a no-transaction migration: it and what follows
    /// are not tried.
    Untried(Vec<u64>),
}

impl Ops<'_> {
    /// Applies what is pending up to `end` (the target, or everything).
    pub async fn up(&mut self) -> Result<Report> {
        let end = self.end()?;
        self.up_to(end).await
    }

    pub(super) async fn up_to(&mut self, end: usize) -> Result<Report> {
        let table = self.db.read_head().await?;
        let missing = matches!(table, TableState::Missing);
        if let TableState::Strata(head) = &table
            && plan::applied_by_head(self.migrations(), head.as_ref()).is_some_and(|a| a >= end)
        {
            return Ok(self.report(head.map(|h| h.version)));
        }
        if self.db.read_only().await? {
            // Boxed, as below: a rare path.
            let (applied, version) = Box::pin(self.state()).await?;
            let pending = applied.pending(end).len();
            if pending > 0 {
                return Err(Error::ReadOnly {
                    path: self.db.location(),
                    pending,
                });
            }
            return Ok(self.report(version));
        }
        self.writable = true;
        // Boxed: what a run that applies something holds is large, and the
        // startup check (above) would move it around for nothing.
        Box::pin(async move {
            self.start_changing().await?;
            let result = self.up_loop(end, missing).await;
            self.end_changing(result).await
        })
        .await
    }

    /// One transaction per step until nothing is pending. `missing`: the
    /// first read found no history table, so the first step creates it and
    /// must commit even when it applies nothing.
    async fn up_loop(&mut self, end: usize, missing: bool) -> Result<Report> {
        let mut report = self.report(None);
        match self.up_steps(end, missing, &mut report).await {
            Ok(()) => {
                report.newer = self.newer.clone();
                Ok(report)
            }
            // A database without history where the first migration's
            // objects are there already was built without strata. (After
            // a migration of this run, the object may be strata's own.)
            Err(e) if missing && report.applied.is_empty() => Err(self.schema_exists(e)),
            Err(e) => Err(Error::after(e, &report)),
        }
    }

    /// A first migration that failed because what it creates exists, on a
    /// database that had no history table: the database was built without
    /// strata, which the error says, pointing to `baseline`.
    fn schema_exists(&self, e: Error) -> Error {
        match e {
            Error::Statement {
                version,
                ref file,
                ref cause,
                ..
            } if cause.is_already_there() => Error::SchemaExists {
                table: self.db.history_table(),
                version,
                file: file.clone(),
                cause: Box::new(e),
            },
            e => e,
        }
    }

    /// The steps of [`up_loop`](Self::up_loop), each committed step added
    /// to `report` with the version the database is then at.
    async fn up_steps(&mut self, end: usize, missing: bool, report: &mut Report) -> Result<()> {
        let mut created = false;
        loop {
            self.begin().await?;
            let done = report.applied.len();
            let (more, version) = match self.up_step(&mut created, end, report).await {
                Ok(Step::Done(version)) => {
                    // An empty commit would cost an fsync for nothing.
                    if missing {
                        self.commit().await?;
                    } else {
                        self.rollback().await;
                    }
                    report.version = version;
                    return Ok(());
                }
                Ok(Step::Applied {
                    more,
                    version,
                    unrecorded,
                }) => {
                    if !self.db.in_transaction().await {
                        // The backends refuse transaction control as they
                        // prepare it: a defence in depth, not a path.
                        let step = report.applied[done].version;
                        report.applied.truncate(done);
                        return Err(Error::TransactionControl {
                            version: step,
                            file: self.file(self.index_of(step)?, Direction::Up),
                            line: None,
                        });
                    }
                    let finished = match unrecorded {
                        Some((index, duration)) => self.record_then_commit(index, duration).await,
                        None => self.commit().await.map_err(Finish::Commit),
                    };
                    if let Err(e) = finished {
                        self.rollback().await;
                        let last = report.applied[report.applied.len() - 1].version;
                        let index = self.index_of(last)?;
                        report.applied.truncate(done);
                        return Err(match e {
                            // As when the insert goes before the commit.
                            Finish::Insert(e) => self.history_error(index, Direction::Up, true, e),
                            Finish::Commit(e) => e.at_commit(last, self.file(index, Direction::Up)),
                        });
                    }
                    for step in report.applied[done..].iter().filter(|_| !self.dry_run()) {
                        log::info!(
                            "applied migration {}/{}.up.sql in {}",
                            self.migrations().folder(),
                            step.stem,
                            Millis(step.duration)
                        );
                    }
                    (more, version)
                }
                Ok(Step::Untried(versions)) => {
                    let (applied, _) = self.state().await?;
                    report.version = self.newest_applied(&applied);
                    report.untried = versions;
                    return Ok(());
                }
                Ok(Step::Started {
                    index,
                    more,
                    version,
                    previous,
                }) => {
                    self.commit().await?;
                    // Recorded, dirty until the file has run.
                    report.version = Some(version).max(self.newer.last().copied());
                    let step = self
                        .finish_outside_transaction(index, Direction::Up, previous)
                        .await?;
                    report.applied.push(step);
                    (more, version)
                }
                Err(e) => {
                    self.rollback().await;
                    // What the step ran was rolled back with it.
                    report.applied.truncate(done);
                    return Err(e);
                }
            };
            // Versions a newer build applied stay the newest (allow_newer).
            report.version = Some(version).max(self.newer.last().copied());
            // The lock was held from the check to the commit, so when the
            // step says nothing more is pending, skip the transaction that
            // would only find that out.
            if !more {
                return Ok(());
            }
        }
    }

    /// Inside a transaction: check the history under the lock and apply
    /// the next pending migration (or all of them, in single-transaction
    /// mode).
    async fn up_step(
        &mut self,
        created: &mut bool,
        end: usize,
        report: &mut Report,
    ) -> Result<Step> {
        if !*created {
            self.db.create_table().await?;
            *created = true;
        }
        let (mut applied, version) = self.state().await?;
        let Some(first) = applied.first_pending(end) else {
            return Ok(Step::Done(version));
        };
        let list = self.list();
        let batch = if self.options.single_transaction {
            let pending = applied.pending(end);
            if let Some(&i) = pending
                .iter()
                .find(|&&i| list[i].no_transaction(Direction::Up))
            {
                return Err(Error::NoTransactionInSingleTransaction {
                    version: list[i].version(),
                    file: self.file(i, Direction::Up),
                });
            }
            pending
        } else if list[first].no_transaction(Direction::Up) {
            refuse_outside_out_of_order(self.migrations(), first, self.newest_applied(&applied))?;
            if self.dry_run() {
                let rest = applied.pending(end).into_iter().map(|i| list[i].version());
                return Ok(Step::Untried(rest.collect()));
            }
            let below = applied.newest_below(first);
            self.record(first, &mut applied, Duration::ZERO, true)
                .await?;
            return Ok(Step::Started {
                index: first,
                more: applied.first_pending(end).is_some(),
                version: self.version_of(&applied).unwrap_or(0),
                previous: below.map(|i| list[i].version()),
            });
        } else {
            vec![first]
        };
        let mut durations = Vec::with_capacity(batch.len());
        for &index in &batch {
            let file = self.file(index, Direction::Up);
            let duration = self
                .db
                .execute(&list[index], Direction::Up, &file, true)
                .await?;
            self.db.restore().await?;
            durations.push(duration);
            report.applied.push(step(&list[index], duration));
        }
        // The history rows follow the files, in the same transaction, so
        // they are recorded or rolled back with them just the same; after
        // the last DDL of a single-transaction run, one prepared insert
        // serves them all. One migration's row that extends the applied
        // prefix (no rechaining after it) goes with the commit instead,
        // which a backend may send in the same round trip.
        let mut unrecorded = None;
        match batch[..] {
            [index] if !self.dry_run() && applied.extends_prefix(index) => {
                unrecorded = Some((index, durations[0]));
                applied = Applied::Prefix(index + 1);
            }
            _ => {
                for (&index, duration) in batch.iter().zip(durations) {
                    self.record(index, &mut applied, duration, false)
                        .await
                        .map_err(|e| self.history_error(index, Direction::Up, true, e))?;
                }
            }
        }
        Ok(Step::Applied {
            more: applied.first_pending(end).is_some(),
            version: self.version_of(&applied).unwrap_or(0),
            unrecorded,
        })
    }

    /// The history row of migration `index` (which extends the applied
    /// prefix) and the commit: in one round trip where the backend can
    /// send them so.
    async fn record_then_commit(
        &mut self,
        index: usize,
        duration: Duration,
    ) -> std::result::Result<(), Finish> {
        let m = &self.list()[index];
        let row = NewRow {
            version: m.version(),
            name: m.name(),
            checksum: m.checksum(),
            chain: m.chain(),
            applied_at: None,
            execution_ms: millis(duration),
            dirty: false,
        };
        if let Some(both) = self.db.insert_row_then_commit(&row) {
            return both.await;
        }
        self.db.insert_row(&row).await.map_err(Finish::Insert)?;
        self.commit().await.map_err(Finish::Commit)
    }

    /// A `-- strata:no-transaction` file whose row was committed dirty: run
    /// it in autocommit mode, then clean the row (up) or delete it (down).
    /// A failure leaves the dirty row for the next run to refuse, and says
    /// so ([`Error::LeftDirty`]); so does a crash. `previous`: the newest
    /// version applied below this one.
    pub(super) async fn finish_outside_transaction(
        &mut self,
        index: usize,
        direction: Direction,
        previous: Option<u64>,
    ) -> Result<AppliedStep> {
        let m = &self.list()[index];
        let file = self.file(index, direction);
        let result = self.db.execute(m, direction, &file, false).await;
        // A file that manages its own transaction may leave one open: its
        // work since its BEGIN is rolled back, so it is not applied, and
        // the row stays dirty.
        let left_open =
            result.is_ok() && matches!(self.db.check_idle().await, Err(Error::InTransaction));
        self.db.rollback().await;
        // On every path, so that the next migration, strata's own
        // statements and the application start from the same state.
        let restored = self.db.restore().await;
        let dirty = |cause: Error, file_completed: bool| Error::LeftDirty {
            version: m.version(),
            file: file.clone(),
            previous,
            direction,
            file_completed,
            cause: Box::new(cause),
        };
        let duration = result.map_err(|e| dirty(e, false))?;
        if left_open {
            return Err(dirty(
                Error::TransactionLeftOpen {
                    version: m.version(),
                    file: file.clone(),
                },
                false,
            ));
        }
        restored.map_err(|e| dirty(e, true))?;
        let recorded = async {
            self.begin().await?;
            let result = match direction {
                Direction::Up => self.db.set_dirty(m.version(), false, Some(duration)).await,
                Direction::Down => self.db.delete_row(m.version()).await,
            };
            self.end_transaction(None, result).await
        };
        recorded
            .await
            .map_err(|e| dirty(self.history_error(index, direction, false, e), true))?;
        log::info!(
            "{} migration {file} (outside a transaction) in {}",
            match direction {
                Direction::Up => "applied",
                Direction::Down => "reverted",
            },
            Millis(duration)
        );
        Ok(step(m, duration))
    }
}
