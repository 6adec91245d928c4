//! The history table's SQL, written once for every backend.
//!
//! A [`Dialect`] says how one database spells what the statements need
//! (numbered parameters, column types, the current time, a time as text);
//! the statements themselves are built here, so that every backend of one
//! database (a blocking driver and an async one) writes and reads the same
//! table with the same SQL, and two databases differ only where their SQL
//! does. How a row's values are bound and read stays with each driver.

use crate::history::ForeignTable;

/// What differs between the databases in the history table's SQL.
#[derive(Debug)]
pub(crate) struct Dialect {
    /// The parts of the statements that hold numbered parameters, spelled
    /// with the database's prefix (see `params!`).
    params: Params,
    /// The types of the columns, in the order of [`crate::history::COLUMNS`]
    /// from `version` to `dirty`, with their constraints.
    column_types: [&'static str; 7],
    /// `applied_at` as strata shows it: UTC, ISO 8601, milliseconds.
    applied_at_read: &'static str,
    /// The names of a table's columns, in order; parameter 1 is the table's
    /// name, parameter 2 (PostgreSQL) its schema, NULL for the current one.
    pub columns: &'static str,
    /// The query of another tool's rows; see [`Dialect::foreign_rows`].
    foreign_rows: fn(&str, ForeignTable, &[(String, String)]) -> String,
}

/// The parts of the history statements that hold parameters.
#[derive(Debug)]
struct Params {
    insert: &'static str,
    delete_above: &'static str,
    delete_one: &'static str,
    set_dirty: &'static str,
    update_row: &'static str,
}

/// [`Params`] written once, spelled at compile time with a database's
/// parameter prefix (`"?"`: `?1`; `"$"`: `$1`) and what goes around
/// parameter 5 of the insert, `applied_at`: no formatting per statement.
macro_rules! params {
    ($p:literal, $before_applied_at:literal, $after_applied_at:literal) => {
        Params {
            insert: concat!(
                "VALUES (",
                $p,
                "1, ",
                $p,
                "2, ",
                $p,
                "3, ",
                $p,
                "4, ",
                $before_applied_at,
                $p,
                "5",
                $after_applied_at,
                ", ",
                $p,
                "6, ",
                $p,
                "7)"
            ),
            delete_above: concat!("WHERE version > ", $p, "1"),
            delete_one: concat!("WHERE version = ", $p, "1"),
            set_dirty: concat!(
                "SET dirty = ",
                $p,
                "1, execution_ms = coalesce(",
                $p,
                "2, execution_ms) ",
                "WHERE version = ",
                $p,
                "3"
            ),
            update_row: concat!(
                "SET name = ",
                $p,
                "1, checksum = ",
                $p,
                "2, chain = ",
                $p,
                "3 ",
                "WHERE version = ",
                $p,
                "4"
            ),
        }
    };
}

/// SQLite's history table: text times, integer flags.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: Dialect = Dialect {
    // `applied_at`: parameter 5, the recorded time as text, or NULL for now.
    params: params!("?", "coalesce(", ", strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"),
    column_types: [
        "INTEGER PRIMARY KEY NOT NULL",
        "TEXT NOT NULL",
        "TEXT NOT NULL",
        "TEXT NOT NULL",
        "TEXT NOT NULL",
        "INTEGER NOT NULL",
        "INTEGER NOT NULL DEFAULT 0",
    ],
    applied_at_read: "applied_at",
    columns: "SELECT name FROM pragma_table_info(?1, 'main')",
    foreign_rows: sqlite_foreign_rows,
};

/// PostgreSQL's history table: `timestamptz` times, boolean flags.
#[cfg(pg)]
pub(crate) const POSTGRES: Dialect = Dialect {
    params: params!("$", "coalesce(", "::text::timestamptz, now())"),
    column_types: [
        "bigint PRIMARY KEY",
        "text NOT NULL",
        "text NOT NULL",
        "text NOT NULL",
        "timestamptz NOT NULL DEFAULT now()",
        "bigint NOT NULL",
        "boolean NOT NULL DEFAULT false",
    ],
    applied_at_read: r#"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#,
    // What information_schema.columns gives, read in a tenth of its time (it
    // is read after every migration verify checks).
    columns: "SELECT a.attname::text FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = coalesce($2, current_schema()) AND c.relname = $1
           AND c.relkind IN ('r', 'v', 'f', 'p') AND a.attnum > 0 AND NOT a.attisdropped
           AND (pg_has_role(c.relowner, 'USAGE')
                OR has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
         ORDER BY a.attnum",
    foreign_rows: postgres_foreign_rows,
};

/// The names and types of a table's columns, in order, on PostgreSQL;
/// parameters as for [`Dialect::columns`].
#[cfg(pg)]
pub(crate) const POSTGRES_COLUMN_TYPES: &str = "SELECT column_name::text, data_type::text \
     FROM information_schema.columns \
     WHERE table_schema = coalesce($2, current_schema()) AND table_name = $1 \
     ORDER BY ordinal_position";

/// golang-migrate's table, sqlx's, or a home-made one (`adoptable` gives
/// no other kind), on SQLite. The recorded time is kept, in strata's format where
/// SQLite can read it (ISO 8601 text, or seconds since 1970), else as it is.
#[cfg(feature = "sqlite")]
fn sqlite_foreign_rows(table: &str, kind: ForeignTable, _: &[(String, String)]) -> String {
    match kind {
        ForeignTable::GolangMigrate => {
            format!("SELECT version, NULL, NULL, dirty FROM {table} ORDER BY version")
        }
        // sqlx writes `installed_on` as SQLite's CURRENT_TIMESTAMP text, in
        // UTC; a failed migration is `success = false`.
        ForeignTable::Sqlx => format!(
            "SELECT version, CAST(description AS TEXT),
                coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', installed_on), CAST(installed_on AS TEXT)),
                NOT success
             FROM {table} ORDER BY version"
        ),
        ForeignTable::HomeMade | ForeignTable::Other => format!(
            "SELECT version, CAST(name AS TEXT),
                CASE typeof(applied_at)
                    WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', applied_at, 'unixepoch')
                    WHEN 'real' THEN strftime('%Y-%m-%dT%H:%M:%fZ', applied_at, 'unixepoch')
                    ELSE coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', applied_at), CAST(applied_at AS TEXT))
                END,
                0
             FROM {table} ORDER BY version"
        ),
    }
}

/// Another tool's table on PostgreSQL, read by what its columns are: the
/// recorded time is kept, in strata's format where it can be read.
#[cfg(pg)]
fn postgres_foreign_rows(table: &str, _: ForeignTable, columns: &[(String, String)]) -> String {
    let has = |name: &str| {
        columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    };
    // sqlx's table names them `description` and `installed_on`, and
    // marks a failed migration `success = false`.
    let name = if has("name").is_some() {
        "name::text"
    } else if has("description").is_some() {
        "description::text"
    } else {
        "NULL::text"
    };
    let (at, at_type) = match (has("applied_at"), has("installed_on")) {
        (Some(t), _) => ("applied_at", Some(t)),
        (None, Some(t)) => ("installed_on", Some(t)),
        (None, None) => ("", None),
    };
    let applied_at = match at_type {
        Some(t) if t.starts_with("timestamp") => format!(
            r#"to_char({at}::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
        ),
        Some("integer" | "bigint" | "smallint" | "numeric" | "double precision" | "real") => {
            format!(
                r#"to_char(to_timestamp({at}::double precision) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
            )
        }
        Some(_) => format!("{at}::text"),
        None => "NULL::text".to_owned(),
    };
    let dirty = if has("dirty").is_some() {
        "dirty::boolean"
    } else if has("success").is_some() {
        "NOT success::boolean"
    } else {
        "false"
    };
    format!("SELECT version::bigint, {name}, {applied_at}, {dirty} FROM {table} ORDER BY version")
}

/// Every column, in the order rows are read and written.
const ALL: &str = "version, name, checksum, chain, applied_at, execution_ms, dirty";

impl Dialect {
    /// `CREATE TABLE IF NOT EXISTS` for the history table; `table` is quoted
    /// (and qualified) for SQL.
    pub fn create_table(&self, table: &str) -> String {
        let columns: Vec<String> = crate::history::COLUMNS
            .iter()
            .zip(self.column_types)
            .map(|(name, ty)| format!("{name} {ty}"))
            .collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {table} ({})",
            columns.join(", ")
        )
    }

    /// Inserts a row; parameters 1 to 7 are the columns in order, 5 the
    /// time as text or NULL for now.
    pub fn insert(&self, table: &str) -> String {
        format!("INSERT INTO {table} ({ALL}) {}", self.params.insert)
    }

    /// The insert of one row whose `values` are written out (in the
    /// columns' order of [`insert`](Dialect::insert)).
    #[cfg(pg)]
    pub fn insert_values(&self, table: &str, values: &str) -> String {
        format!("INSERT INTO {table} ({ALL}) VALUES ({values})")
    }

    /// Deletes the rows above version parameter 1 (-1: every row).
    pub fn delete_above(&self, table: &str) -> String {
        format!("DELETE FROM {table} {}", self.params.delete_above)
    }

    /// Deletes the row of version parameter 1.
    pub fn delete_one(&self, table: &str) -> String {
        format!("DELETE FROM {table} {}", self.params.delete_one)
    }

    /// Sets `dirty` to parameter 1 and, unless parameter 2 is NULL,
    /// `execution_ms` to it, on the row of version parameter 3.
    pub fn set_dirty(&self, table: &str) -> String {
        format!("UPDATE {table} {}", self.params.set_dirty)
    }

    /// Sets name, checksum and chain (parameters 1 to 3) on the row of
    /// version parameter 4.
    pub fn update_row(&self, table: &str) -> String {
        format!("UPDATE {table} {}", self.params.update_row)
    }

    /// The newest row's version, chain and dirty flag: one read of the
    /// primary key's index.
    pub fn head(&self, table: &str) -> String {
        format!("SELECT version, chain, dirty FROM {table} ORDER BY version DESC LIMIT 1")
    }

    /// Every row, every column in order, `applied_at` as text, oldest first.
    pub fn rows(&self, table: &str) -> String {
        format!(
            "SELECT version, name, checksum, chain, {}, execution_ms, dirty FROM {table} \
             ORDER BY version",
            self.applied_at_read
        )
    }

    /// Reads another tool's history table of this kind, whose columns have
    /// these names and types (types where the database gives them): its
    /// version, name (or NULL), time applied as strata's text (or NULL) and
    /// dirty flag, oldest first.
    pub fn foreign_rows(
        &self,
        table: &str,
        kind: ForeignTable,
        columns: &[(String, String)],
    ) -> String {
        (self.foreign_rows)(table, kind, columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each statement numbers its parameters 1 to n, each once, in order:
    /// SQLite and PostgreSQL bind them by number, and a statement that
    /// skipped or repeated one would bind a value to the wrong column.
    #[test]
    fn parameters_are_numbered_from_one_in_order() {
        let dialects = [
            #[cfg(feature = "sqlite")]
            &SQLITE,
            #[cfg(pg)]
            &POSTGRES,
        ];
        for dialect in dialects {
            let statements = [
                (dialect.insert("t"), 7),
                (dialect.delete_above("t"), 1),
                (dialect.delete_one("t"), 1),
                (dialect.set_dirty("t"), 3),
                (dialect.update_row("t"), 4),
                (dialect.head("t"), 0),
                (dialect.rows("t"), 0),
                (dialect.create_table("t"), 0),
            ];
            for (sql, count) in statements {
                let numbers: Vec<usize> = sql
                    .match_indices(['?', '$'])
                    .map(|(at, _)| {
                        let digits: String = sql[at + 1..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        digits.parse().unwrap()
                    })
                    .collect();
                assert_eq!(numbers, (1..=count).collect::<Vec<_>>(), "{sql}");
            }
        }
    }
}
