//! `verify`: proof on a scratch database that every down file reverts its up.
//!
//! For each migration in order: take a snapshot of the schema, apply up,
//! then inside a transaction apply down, take a snapshot again and compare,
//! apply up again, and roll that transaction back, which returns the
//! database to the state after up, ready for the next migration. A file
//! outside a transaction cannot be rolled back: after a problem there, the
//! scratch database is built anew from the up files and verify goes on.
//! The backends provide the scratch database and the snapshots; the flow
//! and the comparison are here, once.

use crate::backend::Backend;
use crate::error::{VerifyFailure, VerifyFailures};
use crate::history::{NewRow, TableState};
use crate::report::VerifyReport;
use crate::schema::{Column, Object, Schema, Snapshot};
use crate::{Direction, Error, Migration, Migrations, Result};

/// Where verify runs: a scratch database, which it may start afresh.
pub(crate) trait Scratch {
    /// Runs `pass` on the scratch database.
    fn run(&mut self, pass: Pass<'_>) -> impl Future<Output = Result<Next>>;
    /// Replaces the scratch database with a new, empty one. `false`: this
    /// kind cannot (it is never asked to: see `Next::Rebuild`).
    fn renew(&mut self) -> impl Future<Output = Result<bool>>;
}

/// What verify does after checking some migrations.
pub(crate) enum Next {
    /// Every migration was checked, or none more can be.
    Done,
    /// The scratch database is in a state no migration left (a file
    /// outside a transaction failed, or did not restore the schema):
    /// rebuild it from the ups alone up to, and including, migration
    /// `.0 - 1`, and go on from migration `.0`.
    Rebuild(usize),
}

/// What verify found so far.
#[derive(Default)]
pub(crate) struct Found {
    report: VerifyReport,
    failures: Vec<VerifyFailure>,
}

/// What verify does on the scratch database in one [`Scratch::run`]. (Data,
/// not a closure: an operation's future must be `Send` over an async
/// connection, which the compiler cannot yet prove of a future that awaits
/// a closure called with a borrowed backend.)
pub(crate) enum Pass<'p> {
    /// Checks every migration from `from` on.
    Check {
        migrations: &'p Migrations,
        from: usize,
        found: &'p mut Found,
    },
    /// Applies the ups of the first `upto` migrations; the first that
    /// fails goes to `failed`.
    Rebuild {
        migrations: &'p Migrations,
        upto: usize,
        failed: &'p mut Option<(u64, Error)>,
    },
}

impl Pass<'_> {
    /// Does it on `db`.
    pub(crate) async fn perform(self, db: &mut dyn Backend) -> Result<Next> {
        match self {
            Pass::Check {
                migrations,
                from,
                found,
            } => check_from(migrations, db, from, found).await,
            Pass::Rebuild {
                migrations,
                upto,
                failed,
            } => {
                db.create_table().await?;
                for m in migrations.iter().take(upto) {
                    let up = migrations.file_path(m, Direction::Up);
                    if let Err(cause) = apply(db, m, Direction::Up, &up, true).await {
                        *failed = Some((m.version(), cause));
                        break;
                    }
                }
                Ok(Next::Done)
            }
        }
    }
}

/// verify's flow over a scratch database: every migration checked, the
/// database rebuilt from the up files where a problem left it in a state
/// no migration left, every problem collected.
pub(crate) async fn verify(
    migrations: &Migrations,
    scratch: &mut impl Scratch,
) -> Result<VerifyReport> {
    let mut found = Found::default();
    let mut from = 0;
    loop {
        let next = scratch
            .run(Pass::Check {
                migrations,
                from,
                found: &mut found,
            })
            .await?;
        let Next::Rebuild(next) = next else { break };
        if next >= migrations.len() {
            break;
        }
        if !scratch.renew().await? {
            found.report.unchecked = versions_from(migrations, next);
            break;
        }
        let mut failed = None;
        scratch
            .run(Pass::Rebuild {
                migrations,
                upto: next,
                failed: &mut failed,
            })
            .await?;
        if let Some((version, cause)) = failed {
            found.failures.push(VerifyFailure::RebuildFailed {
                version,
                cause: Box::new(cause),
            });
            found.report.unchecked = versions_from(migrations, next);
            break;
        }
        from = next;
    }
    let Found { report, failures } = found;
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(Error::VerifyFailed(Box::new(VerifyFailures {
            failures,
            report,
        })))
    }
}

/// The versions of the migrations from index `i` on: those verify could
/// not check after a problem it cannot go on from (the migration at `i`,
/// whose round trip did not run, and every later one).
fn versions_from(migrations: &Migrations, i: usize) -> Vec<u64> {
    migrations.iter().skip(i).map(Migration::version).collect()
}

/// Checks the migrations from index `from` on, on a database where those
/// before it are applied.
async fn check_from(
    migrations: &Migrations,
    db: &mut dyn Backend,
    from: usize,
    found: &mut Found,
) -> Result<Next> {
    // The history table is there, as for `up`: a migration may read it
    // (a view of the version), and one that drops it is named.
    db.create_table().await?;
    for (i, m) in migrations.iter().enumerate().skip(from) {
        let up = migrations.file_path(m, Direction::Up);
        let down = migrations.file_path(m, Direction::Down);
        let before = db.snapshot().await.map_err(|cause| Error::VerifyDescribe {
            version: m.version(),
            cause: Box::new(cause),
        })?;
        if let Err(cause) = apply(db, m, Direction::Up, &up, true).await {
            found.failures.push(VerifyFailure::UpFailed {
                version: m.version(),
                cause: Box::new(cause),
            });
            // Later migrations build on this one: they cannot be checked.
            found.report.unchecked = versions_from(migrations, i);
            return Ok(Next::Done);
        }
        if let Some(failure) = history_after(db, m, &up).await {
            found.failures.push(failure);
            found.report.unchecked = versions_from(migrations, i);
            return Ok(Next::Done);
        }
        if m.irreversible() {
            found.report.irreversible.push(m.version());
            continue;
        }
        // A file that runs outside a transaction cannot be rolled back, so
        // its round trip is the real thing.
        let roll_back = !m.no_transaction(Direction::Up) && !m.no_transaction(Direction::Down);
        if roll_back {
            db.begin().await?;
        }
        let outcome = round_trip(db, m, &before, &up, &down, !roll_back).await;
        if roll_back {
            db.rollback().await;
        }
        found.report.checked.push(m.version());
        if let Some(failure) = outcome {
            found.failures.push(failure);
            // Rolled back, the database is as the up left it; otherwise
            // it is in a state no migration left, which later checks must
            // not start from.
            if !roll_back {
                return Ok(Next::Rebuild(i + 1));
            }
        }
    }
    Ok(Next::Done)
}

/// After an up file, what `up` needs right after it: the history table is
/// there, of strata's shape, and takes the migration's row (written in a
/// step that is rolled back).
async fn history_after(db: &mut dyn Backend, m: &Migration, up: &str) -> Option<VerifyFailure> {
    let table = db.history_table();
    let failure = |cause: Option<Error>| VerifyFailure::HistoryTableGone {
        version: m.version(),
        file: up.to_owned(),
        table: table.clone(),
        cause: cause.map(Box::new),
    };
    match db.read_head().await {
        Ok(TableState::Missing) => return Some(failure(None)),
        Err(e) => return Some(failure(Some(e))),
        Ok(TableState::Strata(_)) => {}
    }
    let row = NewRow::recorded(m);
    let written = async {
        db.create_table().await?;
        db.begin().await?;
        let written = db.insert_row(&row).await;
        db.rollback().await;
        written
    };
    written.await.err().map(|e| failure(Some(e)))
}

/// Down, compare, up again: the first problem, if any.
async fn round_trip(
    db: &mut dyn Backend,
    m: &Migration,
    before: &Snapshot,
    up: &str,
    down: &str,
    own_transactions: bool,
) -> Option<VerifyFailure> {
    let version = m.version();
    let down_failed = |cause| VerifyFailure::DownFailed {
        version,
        cause: Box::new(cause),
    };
    let down_ran = async {
        apply(db, m, Direction::Down, down, own_transactions).await?;
        deferred(db, m, down, own_transactions).await
    };
    if let Err(cause) = down_ran.await {
        return Some(down_failed(cause));
    }
    let file_name = m.file_name(Direction::Down);
    let compared = async {
        let restored = db.snapshot().await?;
        if restored.text.is_some() && restored.text == before.text {
            return Ok(Vec::new());
        }
        let (before, restored) = (db.expand(before)?, db.expand(&restored)?);
        Ok(compare(&before, &restored, &file_name))
    };
    let differences = match compared.await {
        Ok(differences) => differences,
        Err(cause) => return Some(down_failed(cause)),
    };
    if !differences.is_empty() {
        return Some(VerifyFailure::NotReverted {
            version,
            file: down.to_owned(),
            differences,
        });
    }
    let up_ran = async {
        apply(db, m, Direction::Up, up, own_transactions).await?;
        deferred(db, m, up, own_transactions).await
    };
    up_ran
        .await
        .err()
        .map(|cause| VerifyFailure::UpAgainFailed {
            version,
            cause: Box::new(cause),
        })
}

/// Inside the transaction verify rolls back, what the commit of `file`
/// would have checked; a file that committed was checked then.
async fn deferred(db: &mut dyn Backend, m: &Migration, file: &str, committed: bool) -> Result<()> {
    if committed {
        return Ok(());
    }
    db.check_deferred()
        .await
        .map_err(|e| e.at_commit(m.version(), file.to_owned()))
}

/// Runs one file, in its own transaction when `own_transaction` and the
/// file allows it, or inside the caller's.
async fn apply(
    db: &mut dyn Backend,
    m: &Migration,
    direction: Direction,
    file: &str,
    own_transaction: bool,
) -> Result<()> {
    if m.no_transaction(direction) {
        let result = db.execute(m, direction, file, false).await;
        // As in `up`: a file that began a transaction and left it open
        // has its work since that BEGIN rolled back, and fails.
        let left_open =
            result.is_ok() && matches!(db.check_idle().await, Err(Error::InTransaction));
        db.rollback().await;
        let restored = db.restore().await;
        if left_open {
            return Err(Error::TransactionLeftOpen {
                version: m.version(),
                file: file.to_owned(),
            });
        }
        return result.and(restored).map(drop);
    }
    if own_transaction {
        db.begin().await?;
    }
    let result = match db.execute(m, direction, file, true).await {
        Ok(_) => db.restore().await,
        Err(e) => Err(e),
    };
    if own_transaction {
        match result {
            Ok(_) => db
                .commit()
                .await
                .map_err(|e| e.at_commit(m.version(), file.to_owned()))?,
            Err(_) => db.rollback().await,
        }
    }
    result
}

/// Every difference between the schema before up and after down, each
/// naming the down file.
fn compare(before: &Schema, after: &Schema, down: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (name, table) in &after.tables {
        let Some(old) = before.tables.get(name) else {
            out.push(format!("table {name} left behind by {down}"));
            continue;
        };
        for column in &table.columns {
            match old.columns.iter().find(|c| c.name == column.name) {
                None => out.push(format!("table {name}: {column} left behind by {down}")),
                Some(was) if was != column => {
                    let mut properties: Vec<&str> = was
                        .properties
                        .iter()
                        .chain(&column.properties)
                        .map(|(p, _)| *p)
                        .collect();
                    properties.sort_unstable();
                    properties.dedup();
                    for property in properties {
                        let (then, now) = (was.get(property), column.get(property));
                        if then != now {
                            out.push(format!(
                                "{name}.{}: {property} {then} -> {now} after {down}",
                                column.name
                            ));
                        }
                    }
                }
                Some(_) => {}
            }
        }
        for was in &old.columns {
            if !table.columns.iter().any(|c| c.name == was.name) {
                out.push(format!("table {name}: {was} missing after {down}"));
            }
        }
        let names = |cs: &[Column]| cs.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let (now, then) = (names(&table.columns), names(&old.columns));
        let (mut sorted_now, mut sorted_then) = (now.clone(), then.clone());
        sorted_now.sort();
        sorted_then.sort();
        if sorted_now == sorted_then && now != then {
            out.push(format!(
                "table {name}: columns in another order after {down} ({}), was ({})",
                now.join(", "),
                then.join(", ")
            ));
        }
        for constraint in table.constraints.difference(&old.constraints) {
            out.push(format!("table {name}: {constraint} left behind by {down}"));
        }
        for constraint in old.constraints.difference(&table.constraints) {
            out.push(format!("table {name}: {constraint} missing after {down}"));
        }
    }
    for name in before
        .tables
        .keys()
        .filter(|n| !after.tables.contains_key(*n))
    {
        out.push(format!("table {name} missing after {down}"));
    }
    let label = |(kind, name): &(String, String), object: &Object| {
        if object.shown {
            format!("{kind} {name} ({})", object.definition)
        } else {
            format!("{kind} {name}")
        }
    };
    for (key, object) in &after.objects {
        match before.objects.get(key) {
            None => out.push(format!("{} left behind by {down}", label(key, object))),
            Some(was) if was != object && was.definition == object.definition => {
                out.push(format!(
                    "{} {} is defined differently after {down}, in white space inside a literal or a body: {:?}, was {:?}",
                    key.0,
                    key.1,
                    object.exact.as_deref().unwrap_or_default(),
                    was.exact.as_deref().unwrap_or_default()
                ));
            }
            Some(was) if was != object => out.push(format!(
                "{} {} is defined differently after {down}: {}, was {}",
                key.0, key.1, object.definition, was.definition
            )),
            Some(_) => {}
        }
    }
    for (key, object) in &before.objects {
        if !after.objects.contains_key(key) {
            out.push(format!("{} missing after {down}", label(key, object)));
        }
    }
    out
}
