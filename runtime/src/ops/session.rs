//! How an operation holds the database: between `enter` and `leave` (the
//! lock, the settings), in transactions, and in a dry run, inside one
//! transaction that the end rolls back.

use crate::report::SequenceAdvanced;
use crate::{Error, Result, StorageFault};

use super::Ops;

impl Ops<'_> {
    pub(super) fn dry_run(&self) -> bool {
        self.options.dry_run
    }

    /// Begins a transaction; in a dry run, joins the one that holds
    /// everything.
    pub(super) async fn begin(&mut self) -> Result<()> {
        if !self.dry_run() {
            return self.db.begin().await;
        }
        if !self.dry_open {
            self.sequences_before = Some(self.db.sequence_values().await?);
            self.db.begin().await?;
            self.dry_open = true;
        }
        Ok(())
    }

    /// Commits; in a dry run, nothing yet (the end rolls everything
    /// back), but what the commit would check (deferred constraints) is
    /// checked, and the next step starts with the constraints' own modes.
    pub(super) async fn commit(&mut self) -> Result<()> {
        if self.dry_run() {
            self.db.check_deferred().await
        } else {
            self.db.commit().await
        }
    }

    /// Rolls back; in a dry run, the end does (an error on the way ends
    /// the dry run, and the end rolls everything back).
    pub(super) async fn rollback(&mut self) {
        if !self.dry_run() {
            self.db.rollback().await;
        }
    }

    /// Begins work that changes the database: the outermost call checks
    /// the connection and enters (connection settings, the lock). The
    /// work runs next, and [`end_changing`](Self::end_changing) always
    /// follows with its result, which leaves; in a dry run, everything the
    /// work did is rolled back before that. (Two calls, not one that takes
    /// the work as a closure: an operation's future must be `Send` over an
    /// async connection, which the compiler cannot yet prove of a future
    /// that awaits a closure called with a borrowed `Ops`.)
    pub(super) async fn start_changing(&mut self) -> Result<()> {
        if self.depth == 0 {
            self.db.check_idle().await?;
            // Before anything is tried: a read-only database fails at its
            // first write, inside whatever strata was doing. (`up` has
            // looked already, to count what it cannot apply.)
            if !std::mem::take(&mut self.writable) && self.db.read_only().await? {
                return Err(Error::Storage {
                    path: self.db.location(),
                    fault: StorageFault::ReadOnly,
                    version: None,
                    file: None,
                    cause: None,
                });
            }
            self.db.enter().await?;
        }
        self.depth += 1;
        Ok(())
    }

    /// Ends what [`start_changing`](Self::start_changing) began, with the
    /// work's `result`.
    pub(super) async fn end_changing<T>(&mut self, result: Result<T>) -> Result<T> {
        self.depth -= 1;
        if self.depth > 0 {
            return result;
        }
        if self.dry_open {
            self.db.rollback().await;
            self.dry_open = false;
            if let Some(before) = self.sequences_before.take() {
                // Read after the rollback, which does not undo them.
                self.sequences_advanced = match self.db.sequence_values().await {
                    Ok(after) => advanced(&before, after),
                    Err(_) if result.is_err() => Vec::new(),
                    Err(e) => {
                        let _ = self.db.leave().await;
                        return Err(e);
                    }
                };
            }
        }
        let left = self.db.leave().await;
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

    /// Ends the transaction that [`begin`](Self::begin) began around work
    /// whose result is `result`: committed if it succeeded, rolled back if
    /// it failed. `of` (version, path): an error at the commit (a deferred
    /// constraint) names that file.
    pub(super) async fn end_transaction<T>(
        &mut self,
        of: Option<(u64, &str)>,
        result: Result<T>,
    ) -> Result<T> {
        let done = match result {
            Ok(value) => match self.commit().await {
                Ok(()) => Ok(value),
                Err(e) => Err(match of {
                    Some((version, file)) => e.at_commit(version, file.to_owned()),
                    None => e,
                }),
            },
            Err(e) => Err(e),
        };
        if done.is_err() {
            self.rollback().await;
        }
        done
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
