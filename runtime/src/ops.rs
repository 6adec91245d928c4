//! Every operation, written once over the [`Backend`] seam: what to check,
//! in which order, under which lock, and what to record.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::time::Duration;

use crate::backend::{Backend, ForeignKind, NewRow, TableState, refuse_in_transaction};
pub(crate) use crate::plan::Down;
use crate::plan::{self, Applied, AppliedMigration};
use crate::report::{
    AppliedStep, Change, HistoryChanges, MigrationState, Report, SequenceAdvanced, Status,
    StatusEntry,
};
use crate::runner::Millis;
use crate::source::sql;
use crate::{Checksum, Direction, Error, Migration, Migrations, Result, Runner, StorageFault};

pub(crate) struct Ops<'a> {
    runner: &'a Runner<'a>,
    db: Box<dyn Backend + 'a>,
    /// How many `changing` calls are open: only the outermost enters,
    /// leaves and, in a dry run, rolls back.
    depth: usize,
    /// In a dry run, whether the one transaction that holds everything is
    /// open.
    dry_open: bool,
    /// `up` or `down` found the connection writable just before it
    /// changes things (`changing` need not ask again).
    writable: bool,
    /// In a dry run, every sequence's value before it began.
    sequences_before: Option<Vec<(String, Option<i64>)>>,
    /// After a dry run, the sequences that moved while it ran.
    pub(crate) sequences_advanced: Vec<SequenceAdvanced>,
    /// A down is running: versions a newer build applied are refused even
    /// with `allow_newer`.
    reverting: bool,
    /// With `allow_newer`, the applied versions above the newest file, as
    /// the last full read of the history found them.
    newer: Vec<u64>,
    /// `redo` applies again the migration it reverted, which may have been
    /// applied out of order.
    redoing: bool,
}

/// What one step of `up` did inside its transaction.
enum Step {
    /// Nothing is pending; the database is at this version.
    Done(Option<u64>),
    /// Applied migrations; commit them. `more`: something is still pending.
    Applied { more: bool, version: u64 },
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

impl<'a> Ops<'a> {
    pub fn new(runner: &'a Runner<'a>, db: Box<dyn Backend + 'a>) -> Self {
        Ops {
            runner,
            db,
            depth: 0,
            dry_open: false,
            writable: false,
            sequences_before: None,
            sequences_advanced: Vec::new(),
            reverting: false,
            newer: Vec::new(),
            redoing: false,
        }
    }

    fn dry_run(&self) -> bool {
        self.runner.dry_run
    }

    /// Begins a transaction; in a dry run, joins the one that holds
    /// everything.
    fn begin(&mut self) -> Result<()> {
        if !self.dry_run() {
            return self.db.begin();
        }
        if !self.dry_open {
            self.sequences_before = Some(self.db.sequence_values()?);
            self.db.begin()?;
            self.dry_open = true;
        }
        Ok(())
    }

    /// Commits; in a dry run, nothing yet (the end rolls everything
    /// back), but what the commit would check (deferred constraints) is
    /// checked, and the next step starts with the constraints' own modes.
    fn commit(&mut self) -> Result<()> {
        if self.dry_run() {
            self.db.check_deferred()
        } else {
            self.db.commit()
        }
    }

    /// Rolls back; in a dry run, the end does (an error on the way ends
    /// the dry run, and the end rolls everything back).
    fn rollback(&mut self) {
        if !self.dry_run() {
            self.db.rollback();
        }
    }

    fn migrations(&self) -> &'a Migrations {
        self.runner.migrations
    }

    fn list(&self) -> &'a [Migration] {
        self.runner.migrations.as_slice()
    }

    fn file(&self, index: usize, direction: Direction) -> String {
        self.migrations().file_path(&self.list()[index], direction)
    }

    /// The index of a version the files have.
    fn index_of(&self, version: u64) -> Result<usize> {
        self.migrations()
            .index_of(version)
            .ok_or_else(|| Error::UnknownVersion {
                version,
                folder: self.migrations().folder().to_owned(),
            })
    }

    /// How many migrations `up` may apply: all, or up to the target.
    fn end(&self) -> Result<usize> {
        match self.runner.target {
            None => Ok(self.list().len()),
            Some(version) => Ok(self.index_of(version)? + 1),
        }
    }

    /// Which migrations are applied, checked against the files, and the
    /// newest recorded version: one read when the newest row's chain
    /// matches, every row otherwise.
    fn state(&mut self) -> Result<(Applied, Option<u64>)> {
        let head = match self.db.read_head()? {
            TableState::Missing => return Ok((Applied::Prefix(0), None)),
            TableState::Strata(head) => head,
        };
        let applied = match plan::applied_by_head(self.migrations(), head.as_ref()) {
            Some(applied) => Applied::Prefix(applied),
            None => {
                let (rows, running) = self.rows_and_running()?;
                let allow_newer = self.runner.allow_newer && !self.reverting;
                // A down applies nothing: a version pending below applied
                // ones (one it reverted alone) is not its concern.
                let out_of_order = self.runner.allow_out_of_order || self.reverting || self.redoing;
                let applied = check_history(
                    self.migrations(),
                    &rows,
                    running,
                    out_of_order,
                    allow_newer,
                    !self.reverting,
                )?;
                if allow_newer {
                    self.newer = plan::newer(self.migrations(), &rows);
                }
                applied
            }
        };
        Ok((applied, head.map(|h| h.version)))
    }

    /// Every history row and, when one is dirty, whether another process
    /// is running its migration now (it holds strata's lock). A dirty row
    /// read just before such a process cleaned it and let its lock go is
    /// read again, so that a migration that finished is never taken for
    /// one that died.
    fn rows_and_running(&mut self) -> Result<(Vec<AppliedMigration>, bool)> {
        let dirty = |rows: &[AppliedMigration]| -> Vec<u64> {
            rows.iter().filter(|r| r.dirty).map(|r| r.version).collect()
        };
        let mut rows = self.db.read_all()?;
        // Each round sees another run come and go; a few are plenty.
        for _ in 0..8 {
            if dirty(&rows).is_empty() {
                return Ok((rows, false));
            }
            if self.db.run_in_progress() {
                return Ok((rows, true));
            }
            // No process holds the lock now: the rows read after this
            // moment are final for every migration that was running then.
            let again = self.db.read_all()?;
            if dirty(&again) == dirty(&rows) {
                return Ok((again, false));
            }
            rows = again;
        }
        Ok((rows, false))
    }

    fn version_of(&self, applied: &Applied) -> Option<u64> {
        applied.newest().map(|i| self.list()[i].version())
    }

    /// The newest applied version, a newer build's included
    /// (`allow_newer`): where the database is.
    fn newest_applied(&self, applied: &Applied) -> Option<u64> {
        self.version_of(applied).max(self.newer.last().copied())
    }

    /// Runs `f` between `enter` and `leave`, which always runs. In a dry
    /// run, everything `f` did is rolled back before `leave`.
    fn changing<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth == 0 {
            self.db.check_idle()?;
            // Before anything is tried: a read-only database fails at its
            // first write, inside whatever strata was doing. (`up` has
            // looked already, to count what it cannot apply.)
            if !std::mem::take(&mut self.writable) && self.db.read_only()? {
                return Err(Error::Storage {
                    path: self.db.location(),
                    fault: StorageFault::ReadOnly,
                    version: None,
                    file: None,
                    cause: None,
                });
            }
            self.db.enter()?;
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        if self.depth > 0 {
            return result;
        }
        if self.dry_open {
            self.db.rollback();
            self.dry_open = false;
            if let Some(before) = self.sequences_before.take() {
                // Read after the rollback, which does not undo them.
                self.sequences_advanced = match self.db.sequence_values() {
                    Ok(after) => advanced(&before, after),
                    Err(_) if result.is_err() => Vec::new(),
                    Err(e) => {
                        let _ = self.db.leave();
                        return Err(e);
                    }
                };
            }
        }
        let left = self.db.leave();
        let value = match result {
            // A dry run that failed has no report to name the sequences
            // it moved in: its error does.
            Err(cause) if !self.sequences_advanced.is_empty() => {
                return Err(Error::DryRunFailed {
                    cause: Box::new(cause),
                    sequences_advanced: std::mem::take(&mut self.sequences_advanced),
                });
            }
            result => result?,
        };
        left?;
        Ok(value)
    }

    /// Runs `f` in one transaction: committed if it succeeds, rolled back
    /// if it fails.
    fn transaction<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.transaction_of(None, f)
    }

    /// [`transaction`](Self::transaction) for the file `of` (version,
    /// path): an error at its commit (a deferred constraint) names it.
    fn transaction_of<T>(
        &mut self,
        of: Option<(u64, &str)>,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.begin()?;
        let committed = |ops: &mut Self, value| match ops.commit() {
            Ok(()) => Ok(value),
            Err(e) => Err(match of {
                Some((version, file)) => e.at_commit(version, file.to_owned()),
                None => e,
            }),
        };
        match f(self).and_then(|value| committed(self, value)) {
            Ok(value) => Ok(value),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Rewrites the chain of every row whose chain is not the one its
    /// predecessors give: after a row was inserted below others, or a
    /// checksum changed.
    fn rechain(&mut self) -> Result<()> {
        let rows = self.db.read_all()?;
        let chains = plan::chains(rows.iter().map(|r| (r.version, r.checksum)));
        for (row, chain) in rows.iter().zip(chains) {
            if row.chain != chain {
                self.db
                    .update_row(row.version, &row.name, row.checksum, chain)?;
            }
        }
        Ok(())
    }

    /// An error of the history table after migration `index`'s file ran,
    /// naming the table and the file. Errors that are not the database's
    /// (the history changed, a refusal) stay as they are.
    fn history_error(
        &self,
        index: usize,
        direction: Direction,
        in_transaction: bool,
        e: Error,
    ) -> Error {
        if !matches!(e, Error::Database(_)) {
            return e;
        }
        Error::HistoryTable {
            table: self.db.history_table(),
            version: self.list()[index].version(),
            file: self.file(index, direction),
            in_transaction,
            cause: Box::new(e),
        }
    }

    /// Inserts the history row of migration `index` and updates `applied`.
    fn record(
        &mut self,
        index: usize,
        applied: &mut Applied,
        duration: Duration,
        dirty: bool,
    ) -> Result<()> {
        let m = &self.list()[index];
        let prefix = applied.extends_prefix(index);
        self.db.insert_row(&NewRow {
            version: m.version(),
            name: m.name(),
            checksum: m.checksum(),
            chain: if prefix { m.chain() } else { Checksum::ZERO },
            applied_at: None,
            execution_ms: millis(duration),
            dirty,
        })?;
        if prefix {
            *applied = Applied::Prefix(index + 1);
        } else {
            let mut indexes = applied.indexes();
            let at = indexes.partition_point(|&i| i < index);
            indexes.insert(at, index);
            *applied = Applied::Indexes(indexes);
            self.rechain()?;
        }
        Ok(())
    }

    /// Applies what is pending up to `end` (the target, or everything).
    pub fn up(&mut self) -> Result<Report> {
        let end = self.end()?;
        self.up_to(end)
    }

    fn up_to(&mut self, end: usize) -> Result<Report> {
        let table = self.db.read_head()?;
        let missing = matches!(table, TableState::Missing);
        if let TableState::Strata(head) = &table
            && plan::applied_by_head(self.migrations(), head.as_ref()).is_some_and(|a| a >= end)
        {
            return Ok(self.report(head.map(|h| h.version)));
        }
        if self.db.read_only()? {
            let (applied, version) = self.state()?;
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
        self.changing(|ops| ops.up_loop(end, missing))
    }

    /// One transaction per step until nothing is pending. `missing`: the
    /// first read found no history table, so the first step creates it and
    /// must commit even when it applies nothing.
    fn up_loop(&mut self, end: usize, missing: bool) -> Result<Report> {
        let mut report = self.report(None);
        match self.up_steps(end, missing, &mut report) {
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
    fn up_steps(&mut self, end: usize, missing: bool, report: &mut Report) -> Result<()> {
        let mut created = false;
        loop {
            self.begin()?;
            let done = report.applied.len();
            let (more, version) = match self.up_step(&mut created, end, report) {
                Ok(Step::Done(version)) => {
                    // An empty commit would cost an fsync for nothing.
                    if missing {
                        self.commit()?;
                    } else {
                        self.rollback();
                    }
                    report.version = version;
                    return Ok(());
                }
                Ok(Step::Applied { more, version }) => {
                    if !self.db.in_transaction() {
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
                    if let Err(e) = self.commit() {
                        self.rollback();
                        let last = &report.applied[report.applied.len() - 1];
                        let file = self.file(self.index_of(last.version)?, Direction::Up);
                        let e = e.at_commit(last.version, file);
                        report.applied.truncate(done);
                        return Err(e);
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
                    let (applied, _) = self.state()?;
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
                    self.commit()?;
                    // Recorded, dirty until the file has run.
                    report.version = Some(version).max(self.newer.last().copied());
                    let step = self.finish_outside_transaction(index, Direction::Up, previous)?;
                    report.applied.push(step);
                    (more, version)
                }
                Err(e) => {
                    self.rollback();
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
    fn up_step(&mut self, created: &mut bool, end: usize, report: &mut Report) -> Result<Step> {
        if !*created {
            self.db.create_table()?;
            *created = true;
        }
        let (mut applied, version) = self.state()?;
        let Some(first) = applied.first_pending(end) else {
            return Ok(Step::Done(version));
        };
        let list = self.list();
        let batch = if self.runner.single_transaction {
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
            self.record(first, &mut applied, Duration::ZERO, true)?;
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
            let duration = self.db.execute(&list[index], Direction::Up, &file, true)?;
            self.db.restore()?;
            durations.push(duration);
            report.applied.push(step(&list[index], duration));
        }
        // The history rows follow the files, in the same transaction, so
        // they are recorded or rolled back with them just the same; after
        // the last DDL of a single-transaction run, one prepared insert
        // serves them all.
        for (&index, duration) in batch.iter().zip(durations) {
            self.record(index, &mut applied, duration, false)
                .map_err(|e| self.history_error(index, Direction::Up, true, e))?;
        }
        Ok(Step::Applied {
            more: applied.first_pending(end).is_some(),
            version: self.version_of(&applied).unwrap_or(0),
        })
    }

    /// A `-- strata:no-transaction` file whose row was committed dirty: run
    /// it in autocommit mode, then clean the row (up) or delete it (down).
    /// A failure leaves the dirty row for the next run to refuse, and says
    /// so ([`Error::LeftDirty`]); so does a crash. `previous`: the newest
    /// version applied below this one.
    fn finish_outside_transaction(
        &mut self,
        index: usize,
        direction: Direction,
        previous: Option<u64>,
    ) -> Result<AppliedStep> {
        let m = &self.list()[index];
        let file = self.file(index, direction);
        let result = self.db.execute(m, direction, &file, false);
        // A file that manages its own transaction may leave one open: its
        // work since its BEGIN is rolled back, so it is not applied, and
        // the row stays dirty.
        let left_open = result.is_ok() && matches!(self.db.check_idle(), Err(Error::InTransaction));
        self.db.rollback();
        // On every path, so that the next migration, strata's own
        // statements and the application start from the same state.
        let restored = self.db.restore();
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
        self.transaction(|ops| match direction {
            Direction::Up => ops.db.set_dirty(m.version(), false, Some(duration)),
            Direction::Down => ops.db.delete_row(m.version()),
        })
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

    /// Reverts applied migrations, the one applied last first (see
    /// [`plan::application_order`]), each with the removal of its row in
    /// one transaction.
    pub fn down(&mut self, how: Down) -> Result<Report> {
        // Versions a newer build applied cannot be reverted from here, nor
        // stepped over: `allow_newer` is for moving up.
        let was = std::mem::replace(&mut self.reverting, true);
        let result = self.down_reverting(how);
        self.reverting = was;
        result
    }

    fn down_reverting(&mut self, how: Down) -> Result<Report> {
        let (applied, version) = match self.state() {
            // Another process runs a migration outside a transaction: wait
            // for it under strata's lock (as `up` does), then look again.
            Err(Error::InProgress { .. }) if self.depth == 0 => {
                return self.changing(|ops| ops.down(how));
            }
            state => state?,
        };
        let rows = match how {
            Down::Only(_) => Vec::new(),
            _ => self.db.read_all()?,
        };
        let targets = plan::down_targets(self.migrations(), &applied, &rows, how)?;
        if targets.is_empty() {
            return Ok(self.report(version));
        }
        if self.db.read_only()? {
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
        self.changing(|ops| {
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
                match ops.revert(index, &expected, head) {
                    Ok(step) => report.reverted.push(step),
                    Err(e) => return Err(Error::after(e, &report)),
                }
                plan::without(&mut rows, ops.list()[index].version());
                plan::take_out(&mut expected, index);
                report.version = expected.last().map(|&i| ops.list()[i].version());
            }
            let (applied, _) = ops.state()?;
            report.version = ops.version_of(&applied);
            Ok(report)
        })
    }

    /// Reverts migration `index`, which must be applied, with exactly the
    /// migrations `expected` applied (ascending), as the plan saw them;
    /// `head`: the newest row's version and chain then, when known.
    fn revert(
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
        let duration = self.transaction_of(Some((m.version(), &file)), |ops| {
            // Under the lock, the history must still be what the plan saw:
            // the newest row's chain sums up every row, so when it is the
            // one expected, one read says so; otherwise every row is read.
            let same_head = match (head, ops.db.read_head()?) {
                (Some((version, chain)), TableState::Strata(Some(now))) => {
                    !now.dirty && now.version == version && now.chain == chain
                }
                _ => false,
            };
            if !same_head && !ops.state()?.0.is(expected) {
                return Err(Error::HistoryChanged);
            }
            if outside {
                previous = expected
                    .iter()
                    .rev()
                    .find(|&&i| i < index)
                    .map(|&i| ops.list()[i].version());
                ops.db.set_dirty(m.version(), true, None)?;
                return Ok(None);
            }
            let duration = ops.db.execute(m, Direction::Down, &file, true)?;
            ops.db.restore()?;
            ops.db
                .delete_row(m.version())
                .map_err(|e| ops.history_error(index, Direction::Down, true, e))?;
            if !newest {
                // A row below others is gone: their chains change.
                ops.rechain()
                    .map_err(|e| ops.history_error(index, Direction::Down, true, e))?;
            }
            if !ops.db.in_transaction() {
                return Err(Error::TransactionControl {
                    version: m.version(),
                    file: file.clone(),
                    line: None,
                });
            }
            Ok(Some(duration))
        })?;
        match duration {
            Some(duration) => {
                log::info!("reverted migration {file} in {}", Millis(duration));
                Ok(step(m, duration))
            }
            None => self.finish_outside_transaction(index, Direction::Down, previous),
        }
    }

    /// An empty report of a database at `version`.
    fn report(&self, version: Option<u64>) -> Report {
        Report {
            version,
            newer: self.newer.clone(),
            dry_run: self.dry_run(),
            ..Report::default()
        }
    }

    fn history_changes(&self) -> HistoryChanges {
        HistoryChanges {
            dry_run: self.dry_run(),
            ..HistoryChanges::default()
        }
    }

    /// Reverts the migration applied last and applies it again.
    pub fn redo(&mut self) -> Result<Report> {
        self.changing(|ops| {
            // A migration pending below applied ones would be applied with
            // the one redone: refused before anything is reverted, as `up`
            // refuses it.
            ops.state().map_err(not_moving_up)?;
            let mut report = ops.down(Down::Steps(1))?;
            let Some(reverted) = report.reverted.first() else {
                return Ok(report);
            };
            let end = ops.index_of(reverted.version)? + 1;
            // It may have been applied out of order (late): applying it
            // again puts the history back as it was.
            ops.redoing = true;
            let up = ops.up_to(end);
            ops.redoing = false;
            let up = up.map_err(|e| Error::after(e, &report))?;
            report.applied = up.applied;
            report.untried.extend(up.untried);
            report.version = up.version;
            Ok(report)
        })
    }

    /// Moves up or down to `version`.
    pub fn goto(&mut self, version: u64) -> Result<Report> {
        let index = self.index_of(version)?;
        self.changing(|ops| {
            // As for redo: a migration pending below applied ones would be
            // applied after the down; refused before anything changes.
            ops.state().map_err(not_moving_up)?;
            let mut report = ops.down(Down::To(version))?;
            if !report.untried.is_empty() {
                return Ok(report);
            }
            let up = ops.up_to(index + 1).map_err(|e| Error::after(e, &report))?;
            report.applied = up.applied;
            report.untried = up.untried;
            report.version = up.version.or(report.version);
            Ok(report)
        })
    }

    /// Every version the files or the database know, with its state.
    pub fn status(&mut self) -> Result<Status> {
        let (rows, running) = match self.db.read_head()? {
            TableState::Missing => (Vec::new(), false),
            TableState::Strata(_) => self.rows_and_running()?,
        };
        let list = self.list();
        let mut entries = Vec::with_capacity(list.len().max(rows.len()));
        let (mut f, mut r) = (0, 0);
        loop {
            let entry = match (list.get(f), rows.get(r)) {
                (Some(file), Some(row)) if file.version() == row.version => {
                    f += 1;
                    r += 1;
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
                (Some(file), row) if row.is_none_or(|row| file.version() < row.version) => {
                    f += 1;
                    entry(file.version(), file.name(), MigrationState::Pending, None)
                }
                (_, Some(row)) => {
                    r += 1;
                    // Unfinished says more than missing: it needs a person
                    // (or a wait) before anything else.
                    let state = match (row.dirty, running) {
                        (true, true) => MigrationState::InProgress,
                        (true, false) => MigrationState::Dirty,
                        (false, _) => MigrationState::Missing,
                    };
                    entry(row.version, &row.name, state, Some(row))
                }
                (Some(_), None) | (None, None) => break,
            };
            entries.push(entry);
        }
        Ok(Status { entries })
    }

    /// Everything `up` checks, changing nothing: the versions it would apply.
    ///
    /// Unlike the startup check, it reads every row, so it also catches a
    /// history row whose checksum was changed in the database itself.
    pub fn validate(&mut self) -> Result<Vec<u64>> {
        let end = self.end()?;
        let (rows, running) = self.rows_and_running()?;
        let applied = check_history(
            self.migrations(),
            &rows,
            running,
            self.runner.allow_out_of_order,
            self.runner.allow_newer,
            true,
        )?;
        if self.runner.allow_newer {
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

    /// Records the migrations up to `version` as applied, without running
    /// them, on a database that has no history yet.
    pub fn baseline(&mut self, version: u64) -> Result<HistoryChanges> {
        let index = self.index_of(version)?;
        self.changing(|ops| {
            ops.transaction(|ops| {
                ops.db.create_table()?;
                if let Some(newest) = ops.db.read_all()?.last() {
                    return Err(Error::HistoryExists {
                        table: ops.runner.table.to_string(),
                        newest: newest.version,
                    });
                }
                let mut changes = ops.history_changes();
                for m in &ops.list()[..=index] {
                    ops.db.insert_row(&NewRow::recorded(m))?;
                    changes.push(m.version(), m.name(), Change::Recorded);
                }
                Ok(changes)
            })
        })
    }

    /// Sets the recorded state to `version` (`None`: nothing applied) and
    /// clears dirty flags, after a person repaired the database.
    pub fn force(&mut self, version: Option<u64>) -> Result<HistoryChanges> {
        let keep = version.map(|v| self.index_of(v)).transpose()?;
        self.changing(|ops| {
            ops.transaction(|ops| {
                ops.db.create_table()?;
                let rows = ops.db.read_all()?;
                let mut changes = ops.history_changes();
                for row in rows
                    .iter()
                    .filter(|r| version.is_none_or(|v| r.version > v))
                {
                    changes.push(row.version, &row.name, Change::Removed);
                }
                ops.db.delete_rows_above(version)?;
                for row in rows
                    .iter()
                    .filter(|r| r.dirty && version.is_some_and(|v| r.version <= v))
                {
                    ops.db.set_dirty(row.version, false, None)?;
                    changes.push(row.version, &row.name, Change::Cleaned);
                }
                let upto = keep.map_or(0, |k| k + 1);
                for m in &ops.list()[..upto] {
                    if rows
                        .binary_search_by_key(&m.version(), |r| r.version)
                        .is_err()
                    {
                        ops.db.insert_row(&NewRow {
                            version: m.version(),
                            name: m.name(),
                            checksum: m.checksum(),
                            chain: Checksum::ZERO,
                            applied_at: None,
                            execution_ms: 0,
                            dirty: false,
                        })?;
                        changes.push(m.version(), m.name(), Change::Recorded);
                    }
                }
                ops.rechain()?;
                changes.sort();
                Ok(changes)
            })
        })
    }

    /// Accepts the current checksum (and name) of applied migrations whose
    /// files were edited on purpose.
    pub fn repair(&mut self) -> Result<HistoryChanges> {
        self.changing(|ops| {
            ops.transaction(|ops| {
                ops.db.create_table()?;
                let mut changes = ops.history_changes();
                for row in ops.db.read_all()? {
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
                            .update_row(row.version, m.name(), m.checksum(), row.chain)?;
                    }
                }
                ops.rechain()?;
                Ok(changes)
            })
        })
    }

    /// Converts golang-migrate's history table, or a home-made one, into
    /// strata's, keeping every recorded version; with `forced`, recording
    /// the migrations up to that version instead (`Some(None)`: none),
    /// whatever the table says, dirty or not.
    pub fn adopt(&mut self, forced: Option<Option<u64>>) -> Result<HistoryChanges> {
        let forced = forced
            .map(|v| v.map(|v| self.index_of(v)).transpose())
            .transpose()?;
        self.changing(|ops| {
            ops.transaction(|ops| {
                let table = ops.runner.table.to_string();
                let Some((kind, rows)) = ops.db.read_foreign()? else {
                    return match ops.db.read_head()? {
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
                        ForeignKind::GolangMigrate => versions.extend(0..=index),
                        ForeignKind::HomeMade => versions.push(index),
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
                ops.db.replace_foreign(&new_rows)?;
                let mut changes = ops.history_changes();
                for &i in &versions {
                    changes.push(list[i].version(), list[i].name(), Change::Adopted);
                }
                Ok(changes)
            })
        })
    }
}

/// A no-transaction migration must not run below an applied one: see
/// [`Error::NoTransactionOutOfOrder`].
/// `newest_applied`: the newest applied version, a newer build's included.
fn refuse_outside_out_of_order(
    migrations: &Migrations,
    index: usize,
    newest_applied: Option<u64>,
) -> Result<()> {
    let m = &migrations.as_slice()[index];
    match newest_applied {
        Some(newest) if newest > m.version() => Err(Error::NoTransactionOutOfOrder {
            version: m.version(),
            file: migrations.file_path(m, Direction::Up),
            newest_applied: newest,
        }),
        _ => Ok(()),
    }
}

fn step(m: &Migration, duration: Duration) -> AppliedStep {
    AppliedStep {
        version: m.version(),
        stem: m.stem().to_owned(),
        duration,
    }
}

fn entry(
    version: u64,
    name: &str,
    state: MigrationState,
    row: Option<&AppliedMigration>,
) -> StatusEntry {
    StatusEntry {
        version,
        name: name.to_owned(),
        state,
        applied_at: row.map(|r| r.applied_at.clone()),
        duration: row.map(|r| Duration::from_millis(r.execution_ms)),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// [`plan::check_history`], where a dirty row whose migration another
/// process is running now (`running`) is [`Error::InProgress`], not
/// [`Error::Dirty`].
fn check_history(
    migrations: &Migrations,
    rows: &[AppliedMigration],
    running: bool,
    allow_out_of_order: bool,
    allow_newer: bool,
    moving_up: bool,
) -> Result<Applied> {
    plan::check_history(migrations, rows, allow_out_of_order, allow_newer).map_err(|e| match e {
        Error::Dirty { version, name, .. } if running => Error::InProgress { version, name },
        e if !moving_up => not_moving_up(e),
        e => e,
    })
}

/// An error of a history check for an operation that does not only move
/// up: `allow_newer`, which is for moving up, is not offered.
fn not_moving_up(e: Error) -> Error {
    match e {
        Error::MissingMigration {
            version,
            name,
            folder,
            ..
        } => Error::MissingMigration {
            version,
            name,
            folder,
            allow_newer_helps: false,
        },
        e => e,
    }
}

/// The sequences that existed before a dry run and whose value differs
/// after it (those it made were rolled back with it).
fn advanced(
    before: &[(String, Option<i64>)],
    after: Vec<(String, Option<i64>)>,
) -> Vec<SequenceAdvanced> {
    after
        .into_iter()
        .filter_map(|(name, value)| {
            let after = value?;
            let before = before.iter().find(|(n, _)| *n == name)?.1;
            (before != Some(after)).then_some(SequenceAdvanced {
                name,
                before,
                after,
            })
        })
        .collect()
}
