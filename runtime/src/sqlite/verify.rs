//! `verify`: proof on a scratch database that every down file reverts its up.
//!
//! For each migration in order: describe the schema, apply up, then inside a
//! transaction apply down, describe the schema again and compare, apply up
//! again, and roll that transaction back, which returns the database to the
//! state after up, ready for the next migration.

use std::collections::BTreeMap;
use std::fmt;

use rusqlite::Connection;

use super::Sqlite;
use crate::backend::Backend;
use crate::report::{VerifyFailure, VerifyFailures, VerifyReport};
use crate::{Direction, Error, Migration, Migrations, Result};

impl Migrations {
    /// Checks on a scratch in-memory SQLite database that every down file
    /// restores the schema that its up file changed, and that the up file
    /// applies again after it.
    ///
    /// Meant as a one-line `#[test]` in the application's crate, whose
    /// failure message is the report:
    ///
    /// ```
    /// # static MIGRATIONS: strata_runtime::Migrations = strata_runtime::Migrations::__embedded("migrations", &[]);
    /// fn migrations_roundtrip() {
    ///     MIGRATIONS.verify().unwrap();
    /// }
    /// # migrations_roundtrip();
    /// ```
    ///
    /// Compared after each down: every table's columns in order (name,
    /// declared type, not null, default, primary key), its foreign keys, its
    /// indexes (uniqueness, columns, partial condition), and triggers and
    /// views by their SQL with white space folded. A migration whose down
    /// file is irreversible is applied and not reverted; the report says so.
    /// Every failing up, failing down and schema difference is reported, not
    /// only the first.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with(|_| Ok(()))
    }

    /// [`verify`](Migrations::verify), with `setup` run on the scratch
    /// connection first: register there the SQL functions, collations or
    /// extensions that your migrations use and your application registers.
    pub fn verify_with(
        &self,
        setup: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<VerifyReport> {
        let mut conn = Connection::open_in_memory()?;
        setup(&conn)?;
        let mut db = Sqlite::new(&mut conn, "strata_verify", crate::DEFAULT_LOCK_TIMEOUT);
        db.enter()?;
        let result = verify(self, &mut db);
        db.leave()?;
        result
    }
}

fn verify(migrations: &Migrations, db: &mut Sqlite<'_>) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut failures = Vec::new();
    for m in migrations {
        let up = migrations.file_path(m, Direction::Up);
        let down = migrations.file_path(m, Direction::Down);
        let before = describe(db.conn)?;
        if let Err(cause) = apply(db, m, Direction::Up, &up, true) {
            failures.push(VerifyFailure::UpFailed {
                version: m.version(),
                cause: Box::new(cause),
            });
            // Later migrations build on this one: they cannot be checked.
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
        Err(Error::VerifyFailed(VerifyFailures(failures)))
    }
}

/// Down, compare, up again. `Err` when the database is left in an unknown
/// state (which matters only outside a transaction).
fn round_trip(
    db: &mut Sqlite<'_>,
    m: &Migration,
    before: &Schema,
    up: &str,
    down: &str,
    own_transactions: bool,
) -> std::result::Result<Option<VerifyFailure>, VerifyFailure> {
    let version = m.version();
    apply(db, m, Direction::Down, down, own_transactions).map_err(|cause| {
        VerifyFailure::DownFailed {
            version,
            cause: Box::new(cause),
        }
    })?;
    let restored = describe(db.conn).map_err(|cause| VerifyFailure::DownFailed {
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
    apply(db, m, Direction::Up, up, own_transactions).map_err(|cause| {
        VerifyFailure::UpAgainFailed {
            version,
            cause: Box::new(cause),
        }
    })?;
    Ok(None)
}

/// Runs one file, in its own transaction when `own_transaction` and the
/// file allows it, or inside the caller's.
fn apply(
    db: &mut Sqlite<'_>,
    m: &Migration,
    direction: Direction,
    file: &str,
    own_transaction: bool,
) -> Result<()> {
    if m.no_transaction(direction) {
        return db.run_file(m, direction, file, false).map(drop);
    }
    if own_transaction {
        db.begin()?;
    }
    let result = db.run_file(m, direction, file, true);
    if own_transaction {
        match result {
            Ok(_) => db.commit()?,
            Err(_) => db.rollback(),
        }
    }
    result.map(drop)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    declared_type: String,
    not_null: bool,
    default: Option<String>,
    primary_key: i64,
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

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    parent: String,
    parent_columns: Vec<String>,
    on_update: String,
    on_delete: String,
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "foreign key ({}) -> {} ({}) ON UPDATE {} ON DELETE {}",
            self.columns.join(", "),
            self.parent,
            self.parent_columns.join(", "),
            self.on_update,
            self.on_delete
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    table: String,
    unique: bool,
    columns: Vec<String>,
    partial: Option<String>,
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}on {} ({})",
            if self.unique { "unique, " } else { "" },
            self.table,
            self.columns.join(", ")
        )?;
        if let Some(condition) = &self.partial {
            write!(f, " WHERE {condition}")?;
        }
        Ok(())
    }
}

/// What verify compares. Table SQL as such is not compared: `ALTER TABLE
/// ... RENAME` rewrites it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    /// Table name -> (columns in order, foreign keys sorted).
    tables: BTreeMap<String, (Vec<Column>, Vec<ForeignKey>)>,
    /// Index name (or, for the automatic indexes of UNIQUE and PRIMARY KEY
    /// constraints, a description) -> index.
    indexes: BTreeMap<String, Index>,
    /// (kind, name) -> SQL with white space folded, for triggers and views.
    others: BTreeMap<(String, String), String>,
}

fn fold(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn describe(conn: &Connection) -> Result<Schema> {
    let mut schema = Schema::default();
    let mut objects = conn.prepare(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows: Vec<(String, String, Option<String>)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, sql) in rows {
        match kind.as_str() {
            "table" => {
                let columns = conn
                    .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")?
                    .query_map([&name], |r| {
                        Ok(Column {
                            name: r.get(0)?,
                            declared_type: r.get(1)?,
                            not_null: r.get(2)?,
                            default: r.get(3)?,
                            primary_key: r.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut keys: BTreeMap<i64, ForeignKey> = BTreeMap::new();
                let mut statement = conn.prepare(
                    "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                )?;
                let mut rows = statement.query([&name])?;
                while let Some(r) = rows.next()? {
                    let key = keys.entry(r.get(0)?).or_insert_with(|| ForeignKey {
                        columns: Vec::new(),
                        parent: String::new(),
                        parent_columns: Vec::new(),
                        on_update: String::new(),
                        on_delete: String::new(),
                    });
                    key.parent = r.get(1)?;
                    key.columns.push(r.get(2)?);
                    key.parent_columns
                        .push(r.get::<_, Option<String>>(3)?.unwrap_or_default());
                    key.on_update = r.get(4)?;
                    key.on_delete = r.get(5)?;
                }
                let mut keys: Vec<ForeignKey> = keys.into_values().collect();
                keys.sort();
                describe_indexes(conn, &name, &mut schema)?;
                schema.tables.insert(name, (columns, keys));
            }
            "trigger" | "view" => {
                schema
                    .others
                    .insert((kind, name), fold(sql.as_deref().unwrap_or("")));
            }
            // Indexes are described with their tables.
            _ => {}
        }
    }
    Ok(schema)
}

fn describe_indexes(conn: &Connection, table: &str, schema: &mut Schema) -> Result<()> {
    let mut list =
        conn.prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)")?;
    let indexes: Vec<(String, bool, String, bool)> = list
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (name, unique, origin, partial) in indexes {
        let columns = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?
            .query_map([&name], |r| {
                Ok(r.get::<_, Option<String>>(0)?
                    .unwrap_or_else(|| "<expression>".to_owned()))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let partial = if partial {
            let sql: Option<String> = conn.query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [&name],
                |r| r.get(0),
            )?;
            sql.and_then(|sql| {
                let upper = sql.to_ascii_uppercase();
                upper.rfind("WHERE").map(|at| fold(&sql[at + 5..]))
            })
        } else {
            None
        };
        let index = Index {
            table: table.to_owned(),
            unique,
            columns,
            partial,
        };
        // The automatic index of a constraint is named after the table as it
        // was created, which a table recreation changes: key it by content.
        let key = if origin == "c" {
            name
        } else {
            format!(
                "{} constraint {index}",
                if origin == "pk" {
                    "primary key"
                } else {
                    "unique"
                }
            )
        };
        schema.indexes.insert(key, index);
    }
    Ok(())
}

/// Every difference between the schema before up and after down, each
/// naming the down file.
fn compare(before: &Schema, after: &Schema, down: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (name, (columns, keys)) in &after.tables {
        let Some((old_columns, old_keys)) = before.tables.get(name) else {
            out.push(format!("table {name} left behind by {down}"));
            continue;
        };
        for column in columns {
            match old_columns.iter().find(|c| c.name == column.name) {
                None => out.push(format!("table {name}: {column} left behind by {down}")),
                Some(old) if old != column => out.push(format!(
                    "table {name}: {column} after {down}, but {old} before"
                )),
                Some(_) => {}
            }
        }
        for old in old_columns {
            if !columns.iter().any(|c| c.name == old.name) {
                out.push(format!("table {name}: {old} missing after {down}"));
            }
        }
        let names = |cs: &[Column]| cs.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let (now, then) = (names(columns), names(old_columns));
        let mut sorted_now = now.clone();
        let mut sorted_then = then.clone();
        sorted_now.sort();
        sorted_then.sort();
        if sorted_now == sorted_then && now != then {
            out.push(format!(
                "table {name}: columns in another order after {down} ({}), was ({})",
                now.join(", "),
                then.join(", ")
            ));
        }
        for key in keys.iter().filter(|k| !old_keys.contains(k)) {
            out.push(format!("table {name}: {key} left behind by {down}"));
        }
        for key in old_keys.iter().filter(|k| !keys.contains(k)) {
            out.push(format!("table {name}: {key} missing after {down}"));
        }
    }
    for name in before
        .tables
        .keys()
        .filter(|n| !after.tables.contains_key(*n))
    {
        out.push(format!("table {name} missing after {down}"));
    }
    for (name, index) in &after.indexes {
        match before.indexes.get(name) {
            None => out.push(format!("index {name} ({index}) left behind by {down}")),
            Some(old) if old != index => out.push(format!(
                "index {name} is ({index}) after {down}, was ({old})"
            )),
            Some(_) => {}
        }
    }
    for (name, index) in &before.indexes {
        if !after.indexes.contains_key(name) {
            out.push(format!("index {name} ({index}) missing after {down}"));
        }
    }
    for ((kind, name), sql) in &after.others {
        match before.others.get(&(kind.clone(), name.clone())) {
            None => out.push(format!("{kind} {name} left behind by {down}")),
            Some(old) if old != sql => out.push(format!(
                "{kind} {name} is defined differently after {down}: {sql}"
            )),
            Some(_) => {}
        }
    }
    for (kind, name) in before.others.keys() {
        if !after.others.contains_key(&(kind.clone(), name.clone())) {
            out.push(format!("{kind} {name} missing after {down}"));
        }
    }
    out
}
