//! The schema as `verify` compares it: tables with their columns and
//! constraints, and every other object, as each backend describes them.
//! Plain data, shared by the backends (which describe) and verify (which
//! compares).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One column of a table: its name and what else about it changes
/// behaviour, as (property, value) pairs. A property a column does not
/// have is left out (see [`absent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `("type", "TEXT")`, `("not null", "yes")`, `("default", "0")`,
    /// `("collation", "NOCASE")`...
    pub properties: Vec<(&'static str, String)>,
}

impl Column {
    /// The value of `property`, or what it is when the column does not
    /// have it.
    pub fn get(&self, property: &str) -> &str {
        self.properties
            .iter()
            .find(|(p, _)| *p == property)
            .map_or_else(|| absent(property), |(_, v)| v.as_str())
    }
}

/// A property's value when a column does not name it: `default` for a
/// collation (SQLite's columns always name theirs), `no` for a flag,
/// `none` otherwise.
pub fn absent(property: &str) -> &'static str {
    match property {
        "collation" => "default",
        "not null" | "primary key" | "autoincrement" | "hidden" => "no",
        _ => "none",
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self
            .properties
            .iter()
            // The default, which SQLite's columns name; the name as
            // declared, which the message names the column by already.
            .filter(|(property, value)| {
                (*property, value.as_str()) != ("collation", "BINARY") && *property != "written as"
            })
            .map(|(property, value)| match *property {
                "type" => value.clone(),
                "not null" if value == "yes" => "NOT NULL".to_owned(),
                "not null" => format!("NOT NULL {value}"),
                "default" => format!("DEFAULT {value}"),
                "collation" => format!("COLLATE {value}"),
                "primary key" => "PRIMARY KEY".to_owned(),
                "autoincrement" => "AUTOINCREMENT".to_owned(),
                "generated" if value.ends_with("IDENTITY") => format!("GENERATED {value}"),
                "generated" => format!("GENERATED ALWAYS AS {value}"),
                "storage" | "compression" | "statistics" => {
                    format!("{} {value}", property.to_ascii_uppercase())
                }
                "options" => format!("OPTIONS ({value})"),
                "foreign options" => format!("FOREIGN OPTIONS ({value})"),
                other => format!("{other} {value}"),
            })
            .collect();
        if words.is_empty() {
            write!(f, "column {} (no type)", self.name)
        } else {
            write!(f, "column {} ({})", self.name, words.join(" "))
        }
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    /// (kind, name) -> object.
    pub objects: BTreeMap<(String, String), Object>,
}

/// The schema at one moment, as a backend gives it: described, or as a
/// text (`Some`) that is the same exactly when the schema is the same, and
/// that the backend describes on demand (`Backend::expand`), so that a
/// migration whose down restores the schema costs no description.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub text: Option<String>,
    /// Empty when `text` is given.
    pub schema: Schema,
}
