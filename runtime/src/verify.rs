//! `verify`: proof on a scratch database that every down file reverts its up.
//!
//! For each migration in order: describe the schema, apply up, then inside a
//! transaction apply down, describe the schema again and compare, apply up
//! again, and roll that transaction back, which returns the database to the
//! state after up, ready for the next migration. The backends provide the
//! scratch database and the description; the flow and the comparison are
//! here, once.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::backend::{Backend, NewRow, TableState};
use crate::report::{VerifyFailure, VerifyFailures, VerifyReport};
use crate::{Direction, Error, Migration, Migrations, Result};

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub declared_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// Its position in the primary key, 0 when it is not in it.
    pub primary_key: i64,
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = vec![if self.declared_type.is_empty() {
            "no type".to_owned()
        } else {
            self.declared_type.clone()
        }];
        if self.not_null {
            words.push("NOT NULL".into());
        }
        if let Some(default) = &self.default {
            words.push(format!("DEFAULT {default}"));
        }
        if self.primary_key > 0 {
            words.push("PRIMARY KEY".into());
        }
        write!(f, "column {} ({})", self.name, words.join(" "))
    }
}

/// A table: its columns in order, and its constraints (foreign keys,
/// checks...) each described in one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub constraints: BTreeSet<String>,
}

/// Anything else a migration creates: an index, trigger, view, function...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// What it is, normalized (white space folded).
    pub definition: String,
    /// Whether messages show the definition (short ones, like an index's).
    pub shown: bool,
    /// The definition exactly as the database gives it, where white space
    /// inside literals and bodies may matter (PostgreSQL's catalog, which
    /// writes definitions canonically); `None`: `definition` is compared.
    pub exact: Option<String>,
}

/// What verify compares. Table SQL as such is not compared: `ALTER TABLE
/// ... RENAME` rewrites it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    /// (kind, name) -> object.
    pub objects: BTreeMap<(String, String), Object>,
}

/// White space folded to single spaces.
pub fn fold(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn verify(migrations: &Migrations, db: &mut dyn Backend) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut failures = Vec::new();
    // The history table is there, as for `up`: a migration may read it
    // (a view of the version), and one that drops it is named.
    db.create_table()?;
    for m in migrations {
        let up = migrations.file_path(m, Direction::Up);
        let down = migrations.file_path(m, Direction::Down);
        let before = db.describe().map_err(|cause| Error::VerifyDescribe {
            version: m.version(),
            cause: Box::new(cause),
        })?;
        if let Err(cause) = apply(db, m, Direction::Up, &up, true) {
            failures.push(VerifyFailure::UpFailed {
                version: m.version(),
                cause: Box::new(cause),
            });
            // Later migrations build on this one: they cannot be checked.
            break;
        }
        if let Some(failure) = history_after(db, m, &up) {
            failures.push(failure);
            break;
        }
        if m.irreversible() {
            report.irreversible.push(m.version());
            continue;
        }
        // A file that runs outside a transaction cannot be rolled back, so
        // its round trip is the real thing.
        let roll_back = !m.no_transaction(Direction::Up) && !m.no_transaction(Direction::Down);
        if roll_back {
            db.begin()?;
        }
        let outcome = round_trip(db, m, &before, &up, &down, !roll_back);
        if roll_back {
            db.rollback();
        }
        report.checked.push(m.version());
        match outcome {
            Ok(None) => {}
            Ok(Some(failure)) => failures.push(failure),
            Err(failure) => {
                failures.push(failure);
                if !roll_back {
                    break;
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(Error::VerifyFailed(Box::new(VerifyFailures {
            failures,
            report,
        })))
    }
}

/// After an up file, what `up` needs right after it: the history table is
/// there, of strata's shape, and takes the migration's row (written in a
/// step that is rolled back).
fn history_after(db: &mut dyn Backend, m: &Migration, up: &str) -> Option<VerifyFailure> {
    let table = db.history_table();
    let failure = |cause: Option<Error>| VerifyFailure::HistoryTableGone {
        version: m.version(),
        file: up.to_owned(),
        table: table.clone(),
        cause: cause.map(Box::new),
    };
    match db.read_head() {
        Ok(TableState::Missing) => return Some(failure(None)),
        Err(e) => return Some(failure(Some(e))),
        Ok(TableState::Strata(_)) => {}
    }
    let row = NewRow::recorded(m);
    let written = db.create_table().and_then(|()| db.begin()).and_then(|()| {
        let written = db.insert_row(&row);
        db.rollback();
        written
    });
    written.err().map(|e| failure(Some(e)))
}

/// Down, compare, up again. `Err` when the database is left in an unknown
/// state (which matters only outside a transaction).
fn round_trip(
    db: &mut dyn Backend,
    m: &Migration,
    before: &Schema,
    up: &str,
    down: &str,
    own_transactions: bool,
) -> std::result::Result<Option<VerifyFailure>, VerifyFailure> {
    let version = m.version();
    apply(db, m, Direction::Down, down, own_transactions)
        .and_then(|()| deferred(db, m, down, own_transactions))
        .map_err(|cause| VerifyFailure::DownFailed {
            version,
            cause: Box::new(cause),
        })?;
    let restored = db.describe().map_err(|cause| VerifyFailure::DownFailed {
        version,
        cause: Box::new(cause),
    })?;
    let file_name = m.file_name(Direction::Down);
    let differences = compare(before, &restored, &file_name);
    if !differences.is_empty() {
        return Ok(Some(VerifyFailure::NotReverted {
            version,
            file: down.to_owned(),
            differences,
        }));
    }
    apply(db, m, Direction::Up, up, own_transactions)
        .and_then(|()| deferred(db, m, up, own_transactions))
        .map_err(|cause| VerifyFailure::UpAgainFailed {
            version,
            cause: Box::new(cause),
        })?;
    Ok(None)
}

/// Inside the transaction verify rolls back, what the commit of `file`
/// would have checked; a file that committed was checked then.
fn deferred(db: &mut dyn Backend, m: &Migration, file: &str, committed: bool) -> Result<()> {
    if committed {
        return Ok(());
    }
    db.check_deferred()
        .map_err(|e| e.at_commit(m.version(), file.to_owned()))
}

/// Runs one file, in its own transaction when `own_transaction` and the
/// file allows it, or inside the caller's.
fn apply(
    db: &mut dyn Backend,
    m: &Migration,
    direction: Direction,
    file: &str,
    own_transaction: bool,
) -> Result<()> {
    if m.no_transaction(direction) {
        let result = db.execute(m, direction, file, false);
        db.rollback();
        let restored = db.restore();
        return result.and(restored).map(drop);
    }
    if own_transaction {
        db.begin()?;
    }
    let result = db
        .execute(m, direction, file, true)
        .and_then(|duration| db.restore().map(|()| duration));
    if own_transaction {
        match result {
            Ok(_) => db
                .commit()
                .map_err(|e| e.at_commit(m.version(), file.to_owned()))?,
            Err(_) => db.rollback(),
        }
    }
    result.map(drop)
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
                Some(was) if was != column => out.push(format!(
                    "table {name}: {column} after {down}, but {was} before"
                )),
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
