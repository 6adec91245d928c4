//! Every operation, written once over the [`Backend`] seam: what to check,
//! in which order, under which lock, and what to record.

mod down;
mod inspect;
mod record;
mod session;
mod up;

use std::time::Duration;

use crate::backend::Backend;
use crate::history::{AppliedMigration, NewRow, TableState};
use crate::options::Options;
use crate::plan::{self, Applied};
use crate::report::{AppliedStep, HistoryChanges, Report, SequenceAdvanced};
use crate::{Checksum, Direction, Error, Migration, Migrations, Result};

pub(crate) struct Ops<'a> {
    migrations: &'a Migrations,
    options: &'a Options,
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

impl<'a> Ops<'a> {
    pub fn new(
        migrations: &'a Migrations,
        options: &'a Options,
        db: Box<dyn Backend + 'a>,
    ) -> Self {
        Ops {
            migrations,
            options,
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

    fn migrations(&self) -> &'a Migrations {
        self.migrations
    }

    fn list(&self) -> &'a [Migration] {
        self.migrations.as_slice()
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
        match self.options.target {
            None => Ok(self.list().len()),
            Some(version) => Ok(self.index_of(version)? + 1),
        }
    }

    /// Which migrations are applied, checked against the files, and the
    /// newest recorded version: one read when the newest row's chain
    /// matches, every row otherwise.
    async fn state(&mut self) -> Result<(Applied, Option<u64>)> {
        let head = match self.db.read_head().await? {
            TableState::Missing => return Ok((Applied::Prefix(0), None)),
            TableState::Strata(head) => head,
        };
        let applied = match plan::applied_by_head(self.migrations(), head.as_ref()) {
            Some(applied) => Applied::Prefix(applied),
            None => {
                let (rows, running) = self.rows_and_running().await?;
                let allow_newer = self.options.allow_newer && !self.reverting;
                // A down applies nothing: a version pending below applied
                // ones (one it reverted alone) is not its concern.
                let out_of_order =
                    self.options.allow_out_of_order || self.reverting || self.redoing;
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
    async fn rows_and_running(&mut self) -> Result<(Vec<AppliedMigration>, bool)> {
        let dirty = |rows: &[AppliedMigration]| -> Vec<u64> {
            rows.iter().filter(|r| r.dirty).map(|r| r.version).collect()
        };
        let mut rows = self.db.read_all().await?;
        // Each round sees another run come and go; a few are plenty.
        for _ in 0..8 {
            if dirty(&rows).is_empty() {
                return Ok((rows, false));
            }
            if self.db.run_in_progress().await {
                return Ok((rows, true));
            }
            // No process holds the lock now: the rows read after this
            // moment are final for every migration that was running then.
            let again = self.db.read_all().await?;
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

    /// Rewrites the chain of every row whose chain is not the one its
    /// predecessors give: after a row was inserted below others, or a
    /// checksum changed.
    async fn rechain(&mut self) -> Result<()> {
        let rows = self.db.read_all().await?;
        let chains = plan::chains(rows.iter().map(|r| (r.version, r.checksum)));
        for (row, chain) in rows.iter().zip(chains) {
            if row.chain != chain {
                self.db
                    .update_row(row.version, &row.name, row.checksum, chain)
                    .await?;
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
    async fn record(
        &mut self,
        index: usize,
        applied: &mut Applied,
        duration: Duration,
        dirty: bool,
    ) -> Result<()> {
        let m = &self.list()[index];
        let prefix = applied.extends_prefix(index);
        self.db
            .insert_row(&NewRow {
                version: m.version(),
                name: m.name(),
                checksum: m.checksum(),
                chain: if prefix { m.chain() } else { Checksum::ZERO },
                applied_at: None,
                execution_ms: millis(duration),
                dirty,
            })
            .await?;
        if prefix {
            *applied = Applied::Prefix(index + 1);
        } else {
            let mut indexes = applied.indexes();
            let at = indexes.partition_point(|&i| i < index);
            indexes.insert(at, index);
            *applied = Applied::Indexes(indexes);
            self.rechain().await?;
        }
        Ok(())
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
